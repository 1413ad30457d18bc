"""gpu_specter.io's readers, as perfex reads the files: ``read_psf(path)`` gives the dictionary gpu_specter's
``read_psf`` returns (keys ``'PSF'``, ``'XTRACE'``, ``'YTRACE'``, each with the ``.meta`` desispec and
gpu_specter read) and carries the perfex PSF that ``perfex.desi.extract_frame`` extracts with; ``read_img(path)``
the dictionary of gpu_specter's ``read_img``."""

import perfex
from perfex import _perfex

__all__ = ["PsfData", "read_img", "read_psf"]


class _Hdu:
    """An HDU of the PSF file as far as gpu_specter's callers use it: its header keywords in ``.meta``."""

    def __init__(self, meta):
        self.meta = dict(meta)

    def __repr__(self):
        return f"<PSF HDU meta {self.meta}>"


class PsfData(dict):
    """gpu_specter's PSF dictionary for a file perfex read: ``psf['PSF'].meta`` holds the PSF HDU's
    WAVEMIN/WAVEMAX (the Legendre domain of the PSF table, desi_extract_spectra's default grid), HSIZEX/Y,
    GHDEGX/Y, NPIX_X/Y, FIBERMIN, and PSFERR, PSFERROR, CAMERA when the file has them; ``psf['XTRACE']`` and
    ``psf['YTRACE']`` their WAVEMIN/WAVEMAX. ``psf.perfex_psf`` is the perfex.Psf."""

    def __init__(self, psf):
        super().__init__()
        self.perfex_psf = psf
        keywords = _perfex._psf_keywords(psf)
        self["PSF"] = _Hdu(keywords["PSF"])
        for name, (wmin, wmax) in keywords["traces"].items():
            self[name] = _Hdu({"WAVEMIN": wmin, "WAVEMAX": wmax})

    @property
    def source(self):
        return self.perfex_psf.source

    def __reduce__(self):  # MPI broadcasts: the other ranks read the same file
        return (read_psf, (self.perfex_psf.source,))


def read_psf(filename):
    """Reads a GAUSS-HERMITE PSF file (perfex.read_psf) into gpu_specter's PSF dictionary (PsfData)."""
    return PsfData(perfex.read_psf(str(filename)))


def read_img(filename):
    """Reads a preproc file (perfex.read_preproc) into gpu_specter's image dictionary: ``image``, ``ivar``
    (0 where MASK has an extraction bit, as gpu_specter zeroes it), ``imagehdr`` (the header keywords perfex
    reads: CAMERA, EXPID, NIGHT, MJD-OBS, EXPTIME, FLAVOR, RA, DEC), ``fibermap`` (dict of columns or None),
    ``fibermaphdr`` ({})."""
    pre = perfex.read_preproc(str(filename))
    header = {k: v for k, v in pre["header"].items() if v not in (None, "")}
    return {"image": pre["image"], "ivar": pre["ivar"], "imagehdr": header, "fibermap": pre["fibermap"],
            "fibermaphdr": {}}
