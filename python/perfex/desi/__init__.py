"""perfex for DESI's pipeline (desispec): gpu_specter's interface on perfex's extraction.

``extract_frame(...)`` has the contract of ``gpu_specter.core.extract_frame`` (its arguments and the dictionary
of arrays it returns), ``read_psf``/``read_img`` those of ``gpu_specter.io``, the IO coordinators those of
``gpu_specter.mpi``; ``main(argv)`` is ``desi_extract_spectra`` (desispec 0.70.0's options and defaults) and
``parse`` its parser; ``barycentric_velocity_multiplicative_corr(ra, dec, mjd)`` and
``barycentric_correction_multiplicative_factor(header)`` are desispec's barycentric correction (within 0.01 m/s
of astropy's, without astropy).

desispec's ``main_gpu_specter`` imports ``gpu_specter`` and its modules ``io``, ``core`` and ``mpi`` inside
the function; ``install_as_gpu_specter()`` makes that import give this package::

    import perfex.desi
    perfex.desi.install_as_gpu_specter()
    desispec.scripts.extract.main_gpu_specter(args)   # extracts with perfex

(desispec.scripts.extract itself also imports desihub's specter at module level.)
"""

import sys as _sys

import perfex as _perfex_package
from perfex import _perfex

from . import core, io, mpi  # noqa: F401  (gpu_specter's module names)
from .core import extract_frame
from .io import PsfData, read_img, read_psf
from .script import command_line, main, parse

__version__ = f"perfex-{_perfex_package.__version__}"  # desispec records it as SPECTER

__all__ = ["PsfData", "barycentric_correction_multiplicative_factor", "barycentric_velocity_corr_kms",
           "barycentric_velocity_multiplicative_corr", "command_line", "core", "extract_frame",
           "install_as_gpu_specter", "io", "main", "mpi", "parse", "read_img", "read_psf"]


def barycentric_velocity_corr_kms(ra, dec, mjd):
    """desispec.heliocentric.barycentric_velocity_corr_kms: the velocity (km/s) to add to an observed radial
    velocity to make it barycentric, for a target at (ra, dec) (ICRS degrees) at MJD ``mjd`` (UTC) at the
    Mayall, as astropy's radial_velocity_correction computes it (within 0.01 m/s; perfex uses ERFA)."""
    return _perfex._barycentric_velocity_kms(float(ra), float(dec), float(mjd))


def barycentric_velocity_multiplicative_corr(ra, dec, mjd):
    """desispec.heliocentric.barycentric_velocity_multiplicative_corr: 1 + v/c, the HELIOCOR factor."""
    return _perfex._barycentric_correction_factor(float(ra), float(dec), float(mjd))


def barycentric_correction_multiplicative_factor(header):
    """desispec.scripts.extract's factor from a header (a mapping): RA from TARGTRA, SKYRA, TELRA or RA, Dec
    likewise, the exposure's middle MJD-OBS (or MJD) + EXPTIME/2; KeyError naming what is missing, as
    desispec raises."""
    def first(names, what):
        for name in names:
            if name in header:
                return float(header[name])
        raise KeyError(f"no {what} in header")
    ra = first(("TARGTRA", "SKYRA", "TELRA", "RA"), "TARGTRA nor RA")
    dec = first(("TARGTDEC", "SKYDEC", "TELDEC", "DEC"), "TARGTDEC nor DEC")
    mjd = first(("MJD-OBS", "MJD"), "MJD-OBS nor MJD")
    exptime = float(header["EXPTIME"]) if "EXPTIME" in header else 0.0
    return barycentric_velocity_multiplicative_corr(ra, dec, mjd + exptime / 2.0 / 3600.0 / 24.0)


def install_as_gpu_specter():
    """Makes ``import gpu_specter`` (and gpu_specter.io, .core, .mpi) give this package, so that desispec's
    main_gpu_specter extracts with perfex; returns the package. Replaces a gpu_specter already imported."""
    package = _sys.modules[__name__]
    _sys.modules["gpu_specter"] = package
    for name in ("core", "io", "mpi"):
        _sys.modules[f"gpu_specter.{name}"] = getattr(package, name)
    return package
