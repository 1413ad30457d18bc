"""perfex.desi, the interface of DESI's pipeline: gpu_specter's extract_frame contract (bitwise perfex
extract's arrays), desi_extract_spectra's main and parser, gpu_specter's readers and coordinators, the
barycentric correction from a header, perfex.read_frame of HDF5 frames."""
import argparse
import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest

import perfex
import perfex.desi
from conftest import cli_files, run_cli  # noqa: F401  (fixture)

GRID = (6000.0, 6200.0, 0.8)


def bits_equal(a, b):
    return a.shape == b.shape and np.array_equal(np.ascontiguousarray(a).view(np.uint8),
                                                 np.ascontiguousarray(b).view(np.uint8))


@pytest.fixture(scope="module")
def inputs(cli_files):  # noqa: F811
    psf = perfex.desi.read_psf(cli_files["psf"])
    pre = perfex.read_preproc(str(cli_files["preproc"]))
    img = {"image": pre["image"], "ivar": pre["ivar"], "meta": {"CAMERA": "r0"}}
    return cli_files, psf, img


def test_read_psf_is_gpu_specters_dictionary(inputs):
    files, psf, _ = inputs
    assert set(psf) == {"PSF", "XTRACE", "YTRACE"}
    meta = psf["PSF"].meta
    # The synthetic r PSF: PSF table domain 5549..7851 (WAVEMIN/WAVEMAX of the PSF HDU), traces 5550..7850.
    assert (meta["WAVEMIN"], meta["WAVEMAX"]) == (5549.0, 7851.0)
    assert (psf["XTRACE"].meta["WAVEMIN"], psf["YTRACE"].meta["WAVEMAX"]) == (5550.0, 7850.0)
    assert (meta["HSIZEY"], meta["NPIX_Y"], meta["NPIX_X"], meta["CAMERA"]) == (5, 4128, 4114, "r0")
    assert psf.perfex_psf.source == str(files["psf"])


def test_extract_frame_has_gpu_specters_contract_and_perfex_extracts_bits(inputs):
    files, psf, img = inputs
    timing = {}
    frame = perfex.desi.extract_frame(img, psf, 25, 0, 25, GRID, 50, 5, timing=timing)
    assert set(frame) == {"specflux", "specivar", "specmask", "wave", "Rdiags", "pixmask_fraction", "chi2pix",
                          "modelimage"}
    ref = perfex.read_frame(str(files["frame"]))  # perfex extract --float64, same grid and fibers
    assert np.array_equal(frame["wave"], ref["wavelengths"])
    for mine, theirs in (("specflux", "flux"), ("specivar", "ivar"), ("Rdiags", "resolution"), ("chi2pix", "chi2pix"),
                         ("pixmask_fraction", "pixmask_fraction")):
        assert bits_equal(frame[mine], ref[theirs]), mine
    assert frame["Rdiags"].shape == (25, 2 * 5 + 1, frame["wave"].size)
    assert np.array_equal(frame["specmask"], (frame["specivar"] == 0).astype(int))  # gpu_specter's specmask
    assert frame["modelimage"] is None
    assert {"init-mpi-bcast", "extracted-bundles", "assembled-frame"} <= set(timing)


def test_extract_frame_wavelength_forms(inputs):
    _, psf, img = inputs
    small = (6000.0, 6040.0, 0.8)
    a = perfex.desi.extract_frame(img, psf, 25, 0, 25, small, nsubbundles=5)
    b = perfex.desi.extract_frame(img, psf, 25, 0, 25, "6000,6040,0.8", nsubbundles=5)
    c = perfex.desi.extract_frame(img, psf, 25, 0, 25, perfex.linear_wavelengths(*small), nsubbundles=5)
    d = perfex.desi.extract_frame(img, psf.perfex_psf, 25, 0, 25, list(small), nsubbundles=5)
    for other in (b, c, d):
        assert bits_equal(other["specflux"], a["specflux"])
    # None: the PSF HDU's WAVEMIN..WAVEMAX step 0.8, as gpu_specter (and desi_extract_spectra) default.
    assert np.array_equal(perfex.desi.core._wavelengths(None, psf.perfex_psf),
                          np.arange(5549.0, 7851.0 + 0.4, 0.8))
    # gpu_specter's default nsubbundles is 1: another patch layout, other (close) values.
    one = perfex.desi.extract_frame(img, psf, 25, 0, 25, small)
    assert not bits_equal(one["specflux"], a["specflux"])


def test_extract_frame_model_and_cupy_like_arrays(inputs):
    _, psf, img = inputs

    class Device:  # cupy's interface: .get() copies to the host
        def __init__(self, a):
            self.a = a

        def get(self):
            return self.a

    frame = perfex.desi.extract_frame({"image": Device(img["image"]), "ivar": Device(img["ivar"])}, psf, 25, 0, 25,
                                      (6000.0, 6040.0, 0.8), 50, 5, model=True)
    ref = perfex.extract(img["image"], img["ivar"], psf.perfex_psf, perfex.linear_wavelengths(6000, 6040, 0.8),
                         nspec=25, model=True)
    assert frame["modelimage"].shape == (4128, 4114)
    assert bits_equal(frame["modelimage"], ref["model"])
    rows = np.nonzero(frame["modelimage"].any(axis=1))[0]
    cols = np.nonzero(frame["modelimage"].any(axis=0))[0]
    y = psf.perfex_psf.y(0, [6000.0, 6040.0])
    x = [psf.perfex_psf.x(f, [6020.0])[0] for f in (0, 24)]
    assert rows.min() > y[0] - 20 and rows.max() < y[1] + 20  # near the traces of the extracted fibers
    assert cols.min() > x[0] - 20 and cols.max() < x[1] + 20
    assert frame["modelimage"].sum() > 0


def test_extract_frame_partial_bundle(inputs):
    # nspec 30 with bundlesize 25: one whole bundle and a partial one, as specter and desispec extract them.
    _, psf, img = inputs
    frame = perfex.desi.extract_frame(img, psf, 25, 0, 30, GRID)
    assert frame["specflux"].shape[0] == 30
    assert np.isfinite(frame["specflux"]).all() and (frame["specivar"][:25] > 0).any()


def test_extract_frame_refusals(inputs):
    _, psf, img = inputs
    with pytest.raises(perfex.DataError, match="camera r0 .*, the PSF .* is camera b1"):
        perfex.desi.extract_frame(dict(img, meta={"CAMERA": "r0"}), perfex.synthetic_psf("b1"), 25, 0, 25,
                                  (4500.0, 4540.0, 0.8))
    with pytest.raises(perfex.UsageError, match="wavepad 12"):
        perfex.desi.extract_frame(img, psf, 25, 0, 25, GRID, wavepad=12)
    with pytest.raises(perfex.UsageError, match="^nsubbundles must be in 1..25, got 26"):
        perfex.desi.extract_frame(img, psf, 25, 0, 25, GRID, nsubbundles=26)
    with pytest.raises(perfex.UsageError, match="gpu_specter.io.read_psf's tables"):
        perfex.desi.extract_frame(img, {"PSF": None}, 25, 0, 25, GRID)


class _PipeComm:
    """A communicator over multiprocessing pipes with the mpi4py calls extract_frame makes (bcast, Bcast,
    gather), for a 2-rank test without MPI."""

    def __init__(self, rank, conn):
        self.rank, self.size, self.conn = rank, 2, conn

    def bcast(self, obj, root=0):
        if self.rank == root:
            self.conn.send(obj)
            return obj
        return self.conn.recv()

    def Bcast(self, array, root=0):
        if self.rank == root:
            self.conn.send(array)
        else:
            array[...] = self.conn.recv()

    def gather(self, obj, root=0):
        if self.rank == root:
            return [obj, self.conn.recv()]
        self.conn.send(obj)
        return None


def _rank1(conn, psf_path, grid):
    os.environ["OMP_NUM_THREADS"] = "1"
    out = perfex.desi.extract_frame(None, None, 25, 0, 50, grid, 50, 5, comm=_PipeComm(1, conn))
    conn.send(("rank 1 returned", out))


def test_extract_frame_shares_bundles_among_ranks(inputs):
    """Two ranks (processes): rank 0 holds the inputs, each extracts one bundle, rank 0 gets the whole frame,
    the same bits as one process."""
    files, psf, img = inputs
    grid = (6000.0, 6040.0, 0.8)
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe()
    child = ctx.Process(target=_rank1, args=(theirs, str(files["psf"]), grid))
    child.start()
    try:
        frame = perfex.desi.extract_frame(img, psf, 25, 0, 50, grid, 50, 5, comm=_PipeComm(0, mine))
        assert mine.recv() == ("rank 1 returned", None)
    finally:
        child.join(120)
    assert child.exitcode == 0
    single = perfex.desi.extract_frame(img, psf, 25, 0, 50, grid, 50, 5)
    for name in ("specflux", "specivar", "Rdiags", "chi2pix", "pixmask_fraction"):
        assert bits_equal(frame[name], single[name]), name


def test_coordinators_without_mpi():
    c = perfex.desi.mpi.NoMPIIOCoordinator()
    assert (c.rank, c.size, c.work_comm) == (0, 1, None)
    assert c.read(lambda: 3, None) == 3 and c.process(lambda: 4, None) == 4 and c.write(lambda x: x + 1, 5) == 6
    assert c.is_worker_root(0) and c.is_reader(0) and c.is_writer(0)


def test_install_as_gpu_specter():
    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if k.split(".")[0] == "gpu_specter"}
    try:
        perfex.desi.install_as_gpu_specter()
        import gpu_specter
        import gpu_specter.core
        import gpu_specter.io
        import gpu_specter.mpi
        assert gpu_specter.core.extract_frame is perfex.desi.extract_frame
        assert gpu_specter.io.read_psf is perfex.desi.read_psf
        assert gpu_specter.mpi.SerialIOCoordinator is perfex.desi.mpi.SerialIOCoordinator
        assert gpu_specter.__version__ == "perfex-" + perfex.__version__
    finally:
        for k in [k for k in sys.modules if k.split(".")[0] == "gpu_specter"]:
            del sys.modules[k]
        sys.modules.update(saved)


def test_main_is_desi_extract_spectra(inputs, tmp_path):
    files = inputs[0]
    out = tmp_path / "frame-r0-00000001.fits"
    # desispec's options with argparse's prefixes (--no-g, --no-sc); --float64 is not one of them.
    assert perfex.desi.main(["-i", str(files["preproc"]), "-p", str(files["psf"]), "-o", str(out),
                             "-w", "6000,6200,0.8", "-n", "25", "--no-g", "--no-sc"]) == 0
    ref = perfex.read_frame(str(files["frame"]), float64=False)
    got = perfex.read_frame(str(out))
    assert got["float64"] is False
    for name in ("flux", "ivar", "resolution", "chi2pix", "mask", "wavelengths"):
        assert bits_equal(got[name], ref[name]), name
    # An argparse.Namespace (desispec's main takes one too); an existing output is replaced, as desispec does.
    args = perfex.desi.parse(["-i", str(files["preproc"]), "-p", str(files["psf"]), "-o", str(out),
                              "-w", "6000,6100,0.8", "-n", "25"])
    assert isinstance(args, argparse.Namespace) and args.nsubbundles == 5 and args.pixpad_frac == 0.8
    assert perfex.desi.main(args) == 0
    assert perfex.read_frame(str(out))["wavelengths"].size == 126
    # A Namespace without perfex's own option (desispec's parse) works too.
    del args.allow_camera_mismatch
    assert perfex.desi.main(args) == 0


def test_main_errors(inputs, tmp_path):
    files = inputs[0]
    base = ["-i", str(files["preproc"]), "-p", str(files["psf"]), "-o", str(tmp_path / "f.fits")]
    with pytest.raises(perfex.UsageError, match="^--nsubbundles must be in 1..25, got 26"):
        perfex.desi.main(base + ["--nsubbundles", "26"])
    with pytest.raises(perfex.UsageError, match="--decorrelate-fibers"):
        perfex.desi.main(base + ["--decorrelate-fibers"])
    with pytest.raises(perfex.DataError, match="absent.fits"):
        perfex.desi.main(["-i", str(tmp_path / "absent.fits"), "-p", str(files["psf"]), "-o", str(tmp_path / "g.fits")])
    with pytest.raises(SystemExit) as e:  # argparse: ambiguous prefix, as desi_extract_spectra
        perfex.desi.main(base + ["--no"])
    assert e.value.code == 2
    assert not (tmp_path / "f.fits").exists()
    # python -m perfex.desi: perfex's exit codes and one-line message.
    p = subprocess.run([sys.executable, "-m", "perfex.desi", *base, "--nsubbundles", "26"], capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip() == "perfex.desi: error: --nsubbundles must be in 1..25, got 26"


def test_command_line_of_desi_proc_arguments():
    args = perfex.desi.parse("-w 5760.0,7620.0,0.8 -i P -p PSF -o F --psferr 0.01 --no-gpu --barycentric".split())
    assert perfex.desi.command_line(args) == [
        "-i", "P", "-p", "PSF", "-o", "F", "--overwrite", "-w", "5760.0,7620.0,0.8", "--psferr", "0.01", "-s", "0",
        "-r", "0.0", "--bundlesize", "25", "--nsubbundles", "5", "--nwavestep", "50", "--pixpad-frac", "0.8",
        "--wavepad-frac", "0.2", "--barycentric-correction", "--no-gpu"]


def test_barycentric_correction_from_a_header():
    f = perfex.desi.barycentric_velocity_multiplicative_corr
    v = perfex.desi.barycentric_velocity_corr_kms(150.0, 2.0, 59000.3)
    assert f(150.0, 2.0, 59000.3) == pytest.approx(1 + v / 299792.458, abs=1e-15)
    header = {"TARGTRA": 150.0, "SKYRA": 10.0, "TARGTDEC": 2.0, "MJD-OBS": 59000.3, "EXPTIME": 1200.0}
    assert perfex.desi.barycentric_correction_multiplicative_factor(header) == f(150.0, 2.0,
                                                                               59000.3 + 600.0 / 86400.0)
    assert perfex.desi.barycentric_correction_multiplicative_factor({"RA": 150.0, "DEC": 2.0, "MJD": 59000.3}) == \
        f(150.0, 2.0, 59000.3)
    with pytest.raises(KeyError, match="MJD-OBS nor MJD"):
        perfex.desi.barycentric_correction_multiplicative_factor({"RA": 1.0, "DEC": 2.0})


def test_read_frame_reads_hdf5_frames(cli_files, tmp_path):  # noqa: F811
    if "HDF5: enabled" not in run_cli("info").stdout:
        pytest.skip("this perfex was built without HDF5")
    h5 = tmp_path / "frame.h5"
    run_cli("convert", cli_files["frame"], h5)
    fits, hdf5 = perfex.read_frame(str(cli_files["frame"])), perfex.read_frame(str(h5))
    assert hdf5["float64"] is True
    for name in ("flux", "ivar", "resolution", "chi2pix", "pixmask_fraction", "mask", "wavelengths"):
        assert bits_equal(hdf5[name], fits[name]), name
    assert (hdf5["camera"], hdf5["heliocor"]) == (fits["camera"], fits["heliocor"])
    with pytest.raises(perfex.DataError, match="frame.h5"):
        perfex.read_frame(str(h5), group="r9")
