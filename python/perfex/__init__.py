"""perfex: spectroperfectionism extraction (C++17 + Kokkos) for DESI-like fiber spectrographs.

The compiled engine of the ``perfex`` program, on numpy arrays::

    import perfex
    psf = perfex.read_psf("psf-r0-00051060.fits")
    pre = perfex.read_preproc("preproc-r0-00051060.fits")
    frame = perfex.extract(pre["image"], pre["ivar"], psf, perfex.linear_wavelengths(5760, 7620, 0.8))
    frame["flux"], frame["ivar"], frame["resolution"], frame["chi2pix"], frame["mask"]

Kokkos is initialised on first use (``perfex.initialize(num_threads=N)`` chooses the thread count first;
``OMP_NUM_THREADS`` works too) and finalised at interpreter exit, after the last array that shares Kokkos
memory. Errors are ``perfex.Error`` with the perfex program's messages, naming the keyword arguments where the
program names its options (``nspec 30 must be a multiple of bundlesize 25``): ``perfex.UsageError`` (also a
``ValueError``) for bad arguments, ``perfex.DataError`` for unreadable or invalid data; a non-numeric array
is a ``TypeError``.

``perfex.desi`` is the interface of DESI's pipeline: gpu_specter's ``extract_frame`` and desi_extract_spectra's
``main``.
"""

import functools as _functools
import re as _re

import numpy as _np

from ._perfex import (  # noqa: F401
    DataError,
    Error,
    Psf,
    UsageError,
    __version__,
    initialize,
    is_initialized,
    kokkos_info,
    linear_wavelengths,
    read_frame,
    read_preproc,
    read_psf,
    synthetic_psf,
)
from ._perfex import extract as _extract
from ._perfex import simulate as _simulate

__all__ = [
    "DataError", "Error", "Psf", "UsageError", "__version__", "apply_resolution", "extract", "initialize",
    "is_initialized", "kokkos_info", "linear_wavelengths", "read_frame", "read_preproc", "read_psf", "simulate",
    "synthetic_psf",
]


# An option of the perfex program in a message ("--nspec", "-s/--specmin"), not inside a path or a word.
_OPTION = _re.compile(r"(?<![\w./-])(?:-[A-Za-z]/)?--([a-z][a-z0-9-]*)")


def _keyword_errors(function, keywords, renamed=None):
    """`function` with the perfex program's option names in its error messages replaced by the keyword
    arguments they stand for (`keywords`: the names as in Python; `renamed`: option -> keyword where the
    names differ, e.g. wavelength -> wavelengths)."""
    renamed = dict(renamed or {})

    def python_name(match):
        option = match.group(1)
        name = renamed.get(option, option.replace("-", "_"))
        return name if name in keywords else match.group(0)

    @_functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Error as e:
            message = _OPTION.sub(python_name, str(e))
            if message == str(e):
                raise
            raise type(e)(message) from None

    return wrapper


extract = _keyword_errors(
    _extract, {"specmin", "nspec", "bundlesize", "nsubbundles", "nwavestep", "psferr", "regularize", "wavepad_frac",
               "pixpad_frac", "psf_tails", "bundles_per_chunk", "wavelengths"}, {"wavelength": "wavelengths"})
simulate = _keyword_errors(_simulate, {"specmin", "nspec", "seed", "cosmics", "readnoise", "wavelengths"},
                           {"wavelength": "wavelengths"})


def apply_resolution(resolution, spectra):
    """Applies each fiber's resolution matrix (DESI layout [nspec, 2 ndiag + 1, nwave]) to `spectra`
    [nspec, nwave]: ``(R f)[k] = sum_j resolution[i, k - j + ndiag, j] f[j]``, as desispec's Resolution does.
    Used to compare an extracted flux with a true (unconvolved) spectrum."""
    resolution = _np.asarray(resolution, dtype=_np.float64)
    spectra = _np.asarray(spectra, dtype=_np.float64)
    if resolution.ndim != 3 or spectra.ndim != 2 or resolution.shape[0] != spectra.shape[0] \
            or resolution.shape[2] != spectra.shape[1] or resolution.shape[1] % 2 != 1:
        raise UsageError("apply_resolution: expected resolution [nspec, 2 ndiag + 1, nwave] and spectra "
                         f"[nspec, nwave], got {resolution.shape} and {spectra.shape}")
    ndiag = resolution.shape[1] // 2
    nwave = spectra.shape[1]
    out = _np.zeros_like(spectra)
    for d in range(2 * ndiag + 1):
        off = d - ndiag  # output bin k = j + off
        jlo, jhi = max(0, -off), min(nwave, nwave - off)
        out[:, jlo + off:jhi + off] += resolution[:, d, jlo:jhi] * spectra[:, jlo:jhi]
    return out
