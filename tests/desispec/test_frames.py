"""perfex's frames read, checked and rewritten by desispec 0.70.0's own code (issue #20, items 1 and 7)."""
import gzip
import os
import re
import warnings

import fitsio
import numpy as np
import pytest
from astropy.io import fits
import astropy.units as u

import desispec.io
from desispec.io import read_frame, write_frame
from desispec.specscore import compute_and_append_frame_scores

from conftest import EXTRA_KEYWORDS, LONG_STRING, assert_same_value, frames

# Keywords describing an HDU's layout: never propagated (astropy rewrites them for the new HDU).
STRUCTURAL = re.compile(r"^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|EXTNAME|BZERO|BSCALE|"
                        r"CHECKSUM|DATASUM|COMMENT|HISTORY|)$")
# Keywords the extraction sets itself (desispec: NSPEC, WAVEMIN/MAX/STEP, SPECTER, IN_PSF, IN_IMG, ORIG_PSF,
# HELIOCOR, BUNIT, FIBERMIN and the dependency cards; perfex: SPECMIN/SPECMAX and its extraction parameters).
SET_BY_EXTRACTION = re.compile(r"^(NSPEC|SPECMIN|SPECMAX|WAVEMIN|WAVEMAX|WAVESTEP|BUNIT|IN_PSF|IN_IMG|ORIG_PSF|"
                               r"HELIOCOR|FIBERMIN|DEPNAM\d\d|DEPVER\d\d|BUNDLESZ|NSUBBUN|NWAVSTEP|WAVEPADF|"
                               r"WAVEPADT|PIXPADF|REGULARI|PSFERR|NDIAG|PSFTAILS|PERFEXV|LONGSTRN)$")


def frame_id(path):
    return os.path.basename(str(path))


@pytest.fixture(params=range(4), ids=["fits", "fits.gz", "b1", "via-hdf5"])
def frame_path(request, work):
    return frames(work)[request.param]


def test_read_frame_and_vet(frame_path):
    frame = read_frame(str(frame_path))
    assert frame.vet() == 0
    assert frame.nspec == 25
    assert frame.resolution_data.shape == (25, 11, frame.nwave)
    assert np.all(np.isfinite(frame.flux)) and np.all(frame.ivar >= 0)
    assert frame.fibermap is not None and len(frame.fibermap) == 25
    assert fits.getheader(frame_path, "FLUX")["FIBERMIN"] == frame.fibermap["FIBER"][0]


def test_gzip_output_is_gzip_with_the_same_arrays(work):
    with open(work["frame_r0_gz"], "rb") as f:
        assert f.read(2) == b"\x1f\x8b"
    with gzip.open(work["frame_r0_gz"]) as f:
        assert f.read(6) == b"SIMPLE"
    a, b = read_frame(str(work["frame_r0"])), read_frame(str(work["frame_r0_gz"]))
    for name in ("wave", "flux", "ivar", "mask", "resolution_data", "chi2pix"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    with fits.open(work["model_r0_gz"], checksum=True) as h:
        assert h[0].header["EXTNAME"] == "MODEL"
        assert h[0].data.shape == (4128, 4114)


def test_input_header_propagated_into_flux(work):
    image = fits.getheader(work["pre_r0"], "IMAGE")
    flux = fits.getheader(work["frame_r0"], "FLUX")
    checked = 0
    for key in image:
        if STRUCTURAL.match(key) or SET_BY_EXTRACTION.match(key):
            continue
        assert key in flux, f"{key} of the IMAGE header is not in FLUX"
        assert_same_value(flux[key], image[key], key)
        checked += 1
    assert checked >= 60
    assert flux["FIBASSGN"] == LONG_STRING
    assert flux["OBSERVER"] == "O'Brien and Smith"
    for kind in ("HISTORY", "COMMENT"):
        for line in image[kind]:
            assert line in list(flux[kind]), f"{kind} {line!r} lost"
    assert flux["LONGSTRN"] == "OGIP 1.0"
    # The extraction's own values win.
    assert flux["NSPEC"] == 25 and flux["WAVEMIN"] == 5760.0 and flux["WAVEMAX"] == 7620.0
    assert flux["WAVESTEP"] == 0.8 and flux["BUNIT"] == "electron/Angstrom"
    assert flux["FIBERMIN"] == image["FIBERMIN"] + 25
    assert flux["PSFERR"] == 0.01


def test_fibermin_of_a_b1_frame(work):
    image = fits.getheader(work["pre_b1"], "IMAGE")
    assert image["FIBERMIN"] == 500
    flux = fits.getheader(work["frame_b1"], "FLUX")
    assert flux["FIBERMIN"] == 525 and flux["SPECGRPH"] == 1 and flux["CAMERA"] == "b1"
    frame = read_frame(str(work["frame_b1"]))
    assert list(frame.fibers) == list(range(525, 550))


def test_provenance_keywords_as_desispec_records_them(work, monkeypatch):
    for key, value in work["env"].items():
        monkeypatch.setenv(key, value)
    flux = fits.getheader(work["frame_r0"], "FLUX")
    assert flux["IN_PSF"] == desispec.io.shorten_filename(str(work["psf_r0"]))
    assert flux["IN_IMG"] == desispec.io.shorten_filename(str(work["pre_r0"]))
    assert flux["IN_PSF"].startswith("SPCALIB/") and flux["IN_IMG"].startswith("SPECPROD/")
    assert flux["ORIG_PSF"] == work["orig_psf"]
    deps = {}
    for i in range(100):
        if f"DEPNAM{i:02d}" in flux:
            deps[flux[f"DEPNAM{i:02d}"]] = (i, flux[f"DEPVER{i:02d}"])
    # desiutil's setdep: the preproc's entries kept in place, perfex's updated in place, new ones appended.
    assert deps["python"] == (0, "3.9.7") and deps["desispec"] == (1, "0.51.0")
    assert deps["perfex"] == (2, flux["PERFEXV"])
    assert "kokkos" in deps and "cfitsio" in deps
    assert deps["DESI_SPECTRO_CALIB"][1] == str(work["calib"]) and deps["SPECPROD"][1] == "lane"
    assert deps["DESI_ROOT"][1] == os.environ.get("DESI_ROOT", "NOT_SET")


def test_scores_equal_desispec(frame_path):
    scores = fitsio.read(str(frame_path), ext="SCORES")
    frame = read_frame(str(frame_path))
    frame.scores = None
    frame.scores_comments = None
    expected, comments = compute_and_append_frame_scores(frame, suffix="RAW")
    assert list(scores.dtype.names) == list(expected.keys())
    for name in expected:
        assert scores[name].dtype.newbyteorder("=") == expected[name].dtype, name  # float64 (big-endian in FITS)
        np.testing.assert_allclose(scores[name], expected[name], rtol=1e-5, atol=0, err_msg=name)
    header = fitsio.read_header(str(frame_path), ext="SCORES")
    for i, name in enumerate(expected, start=1):
        assert header.get_comment(f"TTYPE{i}") == comments[name]


def test_checksums_astropy_and_cfitsio(frame_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checksum warning fails
        with fits.open(frame_path, checksum=True) as hdus:
            for hdu in hdus:
                assert "CHECKSUM" in hdu.header and "DATASUM" in hdu.header, hdu.name
                hdu.data  # DATASUM is checked when the data are read
    with fitsio.FITS(str(frame_path)) as f:  # CFITSIO's verification: raises unless both are present and right
        for hdu in f:
            hdu.verify_checksum()


def test_write_frame_round_trip(frame_path, tmp_path):
    frame = read_frame(str(frame_path))
    out = str(tmp_path / "frame-rewritten.fits")
    write_frame(out, frame)
    again = read_frame(out)
    for name in ("wave", "flux", "ivar", "mask", "resolution_data"):
        a, b = getattr(frame, name), getattr(again, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


def test_datamodel(frame_path):
    """desidatamodel-style checks of frame-CAMERA-EXPID.fits: HDUs in order, their types and keywords."""
    expected = [("FLUX", -32, 2), ("IVAR", -32, 2), ("MASK", 32, 2), ("WAVELENGTH", -64, 1), ("RESOLUTION", -32, 3),
                ("FIBERMAP", 8, 2), ("CHI2PIX", -32, 2), ("SCORES", 8, 2)]
    with fits.open(frame_path) as hdus:
        assert [h.name for h in hdus] == [e[0] for e in expected]
        nspec, nwave = hdus["FLUX"].data.shape
        for hdu, (name, bitpix, naxis) in zip(hdus, expected):
            assert hdu.header["BITPIX"] == bitpix and hdu.header["NAXIS"] == naxis, name
            if name in ("FIBERMAP", "SCORES"):
                assert isinstance(hdu, fits.BinTableHDU) and len(hdu.data) == nspec, name
            elif name != "WAVELENGTH":
                assert hdu.data.shape[0] == nspec and hdu.data.shape[-1] == nwave, name
            if "BUNIT" in hdu.header:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    u.Unit(hdu.header["BUNIT"])  # a unit astropy parses without warning
        assert hdus["MASK"].header["BZERO"] == 2 ** 31 and hdus["MASK"].data.dtype == np.uint32
        assert hdus["WAVELENGTH"].data.shape == (nwave,)
        assert hdus["RESOLUTION"].data.shape[1] % 2 == 1
        flux = hdus["FLUX"].header
        for key in ("EXTNAME", "CAMERA", "EXPID", "NIGHT", "MJD-OBS", "EXPTIME", "FLAVOR", "TILEID", "SPECGRPH",
                    "FIBERMIN", "NSPEC", "WAVEMIN", "WAVEMAX", "WAVESTEP", "BUNIT", "IN_PSF", "IN_IMG", "DEPNAM00",
                    "DEPVER00", "CHECKSUM", "DATASUM"):
            assert key in flux, key
        for table, columns in (("FIBERMAP", ("FIBER", "TARGETID", "FIBERSTATUS", "OBJTYPE")),
                               ("SCORES", ())):
            for c in columns:
                assert c in hdus[table].columns.names, (table, c)
        assert all(c.format == "D" for c in hdus["SCORES"].columns)


def test_convert_keeps_the_header_and_scores(work):
    a = fits.getheader(work["frame_r0"], "FLUX")
    b = fits.getheader(work["frame_back"], "FLUX")
    keys_a = [k for k in a if k not in ("CHECKSUM", "DATASUM")]
    keys_b = [k for k in b if k not in ("CHECKSUM", "DATASUM")]
    assert keys_a == keys_b
    for k in keys_a:
        if k in ("COMMENT", "HISTORY"):
            assert list(a[k]) == list(b[k])
        else:
            assert_same_value(b[k], a[k], k)
    sa = fitsio.read(str(work["frame_r0"]), ext="SCORES")
    sb = fitsio.read(str(work["frame_back"]), ext="SCORES")
    assert sa.dtype == sb.dtype and np.array_equal(sa, sb)
