"""gpu_specter.core.extract_frame's contract on perfex: the arguments desispec's main_gpu_specter passes, the
dictionary of arrays it reads back."""

import logging
import time

import numpy as np

import perfex
from perfex import _perfex

from .io import PsfData

__all__ = ["extract_frame"]

_log = logging.getLogger("perfex.desi")


def _host(array, name):
    """A numpy array from a numpy or cupy one (cupy's .get() copies to the host)."""
    if array is None:
        raise perfex.UsageError(f"img['{name}'] is missing")
    if not isinstance(array, np.ndarray) and hasattr(array, "get"):
        array = array.get()
    return np.asarray(array)


def _perfex_psf(psf):
    """The perfex.Psf of gpu_specter's PSF dictionary (perfex.desi.read_psf), a perfex.Psf, or a file name."""
    if isinstance(psf, PsfData):
        return psf.perfex_psf
    if isinstance(psf, perfex.Psf):
        return psf
    if isinstance(psf, (str, bytes)) or hasattr(psf, "__fspath__"):
        return perfex.read_psf(str(psf))
    raise perfex.UsageError(
        "psf: expected perfex.desi.read_psf(path)'s dictionary, a perfex.Psf or a file name, got "
        f"{type(psf).__name__} (gpu_specter.io.read_psf's tables do not carry the model perfex evaluates: read the "
        "file with perfex.desi.read_psf, e.g. after perfex.desi.install_as_gpu_specter())")


def _wavelengths(wavelength, psf):
    """gpu_specter's rules: an array as it is; 'wmin,wmax,dw' or (wmin, wmax, dw) as numpy.arange(wmin,
    wmax + dw/2, dw); None: the PSF HDU's WAVEMIN..WAVEMAX step 0.8."""
    if isinstance(wavelength, np.ndarray):
        return np.asarray(wavelength, dtype=np.float64)
    if isinstance(wavelength, str):
        try:
            wmin, wmax, dw = map(float, wavelength.split(","))
        except ValueError:
            raise perfex.UsageError(f"wavelength '{wavelength}': expected three numbers wmin,wmax,dw") from None
    elif isinstance(wavelength, (tuple, list)) and len(wavelength) == 3:
        wmin, wmax, dw = (float(v) for v in wavelength)
    elif wavelength is None:
        wmin, wmax, dw = _perfex._desi_default_wavelengths(psf, False)
    else:
        raise perfex.UsageError("wavelength: expected an array, 'wmin,wmax,dw', (wmin, wmax, dw) or None, got "
                                f"{wavelength!r}")
    return perfex.linear_wavelengths(wmin, wmax, dw)


def _check_camera(img, psf, allow):
    meta = img.get("meta") if hasattr(img, "get") else None
    image_camera = ""
    if meta is not None and hasattr(meta, "get"):
        image_camera = str(meta.get("CAMERA", "") or "")
    if not allow:
        _perfex._check_same_camera(image_camera, "img", psf.camera, psf.source or "psf", "allow_camera_mismatch=True")


def _extract(image, ivar, psf, wave, specmin, nspec, model, options):
    return perfex.extract(image, ivar, psf, wave, specmin=specmin, nspec=nspec, model=bool(model), **options)


def extract_frame(img, psf, bundlesize, specmin, nspec, wavelength=None, nwavestep=50, nsubbundles=1, model=None,
                  regularize=0, psferr=None, comm=None, gpu=None, loglevel=None, timing=None, wavepad=10,
                  pixpad_frac=0.8, wavepad_frac=0.2, batch_subbundle=True, ranks_per_bundle=None,
                  allow_camera_mismatch=False):
    """Extracts fibers specmin..specmin+nspec-1 of ``img['image']`` / ``img['ivar']`` (numpy or cupy, ivar
    already masked) with perfex, as gpu_specter.core.extract_frame does, and returns its dictionary on rank 0
    (None on the other ranks of ``comm``): ``specflux``, ``specivar`` [nspec, nwave] (electrons per Angstrom),
    ``specmask`` (1 where specivar is 0, gpu_specter's; desispec recomputes the DESI mask), ``wave``,
    ``Rdiags`` [nspec, 2 ndiag + 1, nwave], ``pixmask_fraction``, ``chi2pix`` and ``modelimage`` (the CCD's
    model when ``model`` is true, else None).

    psf: perfex.desi.read_psf(path)'s dictionary (what gpu_specter.io.read_psf returns, with perfex's model),
    a perfex.Psf or a file name. wavelength: an array, 'wmin,wmax,dw', (wmin, wmax, dw) or None (the PSF's
    WAVEMIN..WAVEMAX step 0.8). psferr None: the PSF's PSFERR, else 0.01. nsubbundles defaults to 1 as in
    gpu_specter (desispec passes its own 5). comm: an mpi4py communicator (or one with its bcast, Bcast and
    gather): the bundles are shared among its ranks, rank 0 holding the inputs. gpu, loglevel,
    batch_subbundle, ranks_per_bundle: accepted; perfex runs on its build's execution space. wavepad: 10 only
    (perfex pads 10 + int(10 wavepad_frac) bins, gpu_specter's default). timing: a dict that receives
    time.time() stamps of the steps. When both img['meta'] and the PSF carry a CAMERA they must agree
    (perfex.DataError otherwise) unless allow_camera_mismatch."""
    start = time.time()
    if wavepad != 10:
        raise perfex.UsageError(f"wavepad {wavepad}: perfex pads 10 + int(10 wavepad_frac) wavelength bins "
                                "(gpu_specter's default wavepad 10); vary wavepad_frac instead")
    if gpu:
        _log.debug("gpu=True: perfex runs on %s, its build's execution space", perfex.kokkos_info()["execution_space"])
    rank, size = (0, 1) if comm is None else (comm.rank, comm.size)
    options = dict(bundlesize=bundlesize, nsubbundles=nsubbundles, nwavestep=nwavestep, regularize=regularize,
                   psferr=psferr, wavepad_frac=wavepad_frac, pixpad_frac=pixpad_frac)

    if size > 1:  # rank 0 holds the inputs (desispec's coordinators read there): share them, or its error
        ready = None
        if rank == 0:
            try:
                ppsf = _perfex_psf(psf)
                _check_camera(img, ppsf, allow_camera_mismatch)
                image = np.ascontiguousarray(_host(img["image"], "image"), dtype=np.float64)
                ivar = np.ascontiguousarray(_host(img["ivar"], "ivar"), dtype=np.float64)
                ready = (ppsf.source, image.shape, None)
            except Exception as e:  # noqa: BLE001  (every rank raises it, rather than waiting for rank 0)
                ready = (None, None, e)
        source, shape, error = comm.bcast(ready, root=0)
        if error is not None:
            raise error
        if rank != 0:
            ppsf = perfex.read_psf(source)
            image = np.empty(shape, dtype=np.float64)
            ivar = np.empty(shape, dtype=np.float64)
        comm.Bcast(image, root=0)
        comm.Bcast(ivar, root=0)
    else:
        ppsf = _perfex_psf(psf)
        _check_camera(img, ppsf, allow_camera_mismatch)
        image, ivar = _host(img["image"], "image"), _host(img["ivar"], "ivar")
    wave = _wavelengths(wavelength, ppsf)
    if isinstance(timing, dict):
        timing["init-mpi-bcast"] = time.time()

    if size == 1:
        out = _extract(image, ivar, ppsf, wave, specmin, nspec, model, options)
        parts = [(specmin, out)]
    else:  # bundles round-robin over the ranks, gathered on rank 0
        firsts = list(range(specmin, specmin + nspec, bundlesize))
        try:
            mine = [(b, _extract(image, ivar, ppsf, wave, b, min(bundlesize, specmin + nspec - b), model, options))
                    for b in firsts[rank::size]]
            error = None
        except Exception as e:  # noqa: BLE001  (gathered, so that no rank waits for a failed one)
            mine, error = [], e
        gathered = comm.gather((mine, error), root=0)
        if rank != 0:
            if error is not None:
                raise error
            if isinstance(timing, dict):
                timing["extracted-bundles"] = time.time()
            return None
        for _, e in gathered:
            if e is not None:
                raise e
        parts = sorted((p for rank_parts, _ in gathered for p in rank_parts), key=lambda p: p[0])
    if isinstance(timing, dict):
        timing["extracted-bundles"] = time.time()

    specflux = np.vstack([p["flux"] for _, p in parts])
    specivar = np.vstack([p["ivar"] for _, p in parts])
    modelimage = None
    if model:
        modelimage = parts[0][1]["model"].copy() if len(parts) == 1 else sum(p["model"] for _, p in parts)
    frame = dict(
        specflux=specflux,
        specivar=specivar,
        specmask=(specivar == 0).astype(int),
        wave=wave,
        Rdiags=np.vstack([p["resolution"] for _, p in parts]),
        pixmask_fraction=np.vstack([p["pixmask_fraction"] for _, p in parts]),
        chi2pix=np.vstack([p["chi2pix"] for _, p in parts]),
        modelimage=modelimage,
    )
    if isinstance(timing, dict):
        timing["assembled-frame"] = time.time()
    _log.info("extracted fibers %d..%d x %d bins in %.1f s", specmin, specmin + nspec - 1, wave.size,
              time.time() - start)
    return frame
