"""perfex: spectroperfectionism extraction (C++17 + Kokkos) for DESI-like fiber spectrographs.

The compiled engine of the ``perfex`` program, on numpy arrays::

    import perfex
    psf = perfex.read_psf("psf-r0-00051060.fits")
    pre = perfex.read_preproc("preproc-r0-00051060.fits")
    frame = perfex.extract(pre["image"], pre["ivar"], psf, perfex.linear_wavelengths(5760, 7620, 0.8))
    frame["flux"], frame["ivar"], frame["resolution"], frame["chi2pix"], frame["mask"]

Kokkos is initialised on first use (``perfex.initialize(num_threads=N)`` chooses the thread count first;
``OMP_NUM_THREADS`` works too) and finalised at interpreter exit, after the last array that shares Kokkos
memory. Errors are ``perfex.Error`` with the perfex program's messages: ``perfex.UsageError`` (also a
``ValueError``) for bad arguments, ``perfex.DataError`` for unreadable or invalid data; a non-numeric array
is a ``TypeError``.
"""

import numpy as _np

from ._perfex import (  # noqa: F401
    DataError,
    Error,
    Psf,
    UsageError,
    __version__,
    extract,
    initialize,
    is_initialized,
    kokkos_info,
    linear_wavelengths,
    read_frame,
    read_preproc,
    read_psf,
    simulate,
    synthetic_psf,
)

__all__ = [
    "DataError", "Error", "Psf", "UsageError", "__version__", "apply_resolution", "extract", "initialize",
    "is_initialized", "kokkos_info", "linear_wavelengths", "read_frame", "read_preproc", "read_psf", "simulate",
    "synthetic_psf",
]


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
