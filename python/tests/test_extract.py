"""perfex.extract: bitwise the same as `perfex extract --float64` (the same frame pipeline), inputs used in
place or converted once, and sane pulls on a simulated frame."""
import numpy as np
import pytest

import perfex
from conftest import cli_files  # noqa: F401  (fixture)

NAMES = ("flux", "ivar", "resolution", "chi2pix", "pixmask_fraction", "mask")


def bits_equal(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(
        np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8))


@pytest.fixture(scope="module")
def extracted(cli_files):  # noqa: F811
    psf = perfex.read_psf(str(cli_files["psf"]))
    pre = perfex.read_preproc(str(cli_files["preproc"]))
    w = perfex.linear_wavelengths(6000, 6200, 0.8)
    frame = perfex.extract(pre["image"], pre["ivar"], psf, w, nspec=25)
    return psf, pre, w, frame


def test_same_bits_as_the_program(cli_files, extracted):  # noqa: F811
    _, _, w, frame = extracted
    ref = perfex.read_frame(str(cli_files["frame"]))
    assert ref["float64"] is True
    assert np.array_equal(ref["wavelengths"], w)
    for name in NAMES:
        assert bits_equal(frame[name], ref[name]), name
    assert (frame["specmin"], frame["nspec"], frame["ndiag"]) == (0, 25, ref["ndiag"])


def test_float32_hdus_are_the_rounded_values(cli_files, extracted):  # noqa: F811
    frame = extracted[3]
    ref32 = perfex.read_frame(str(cli_files["frame"]), float64=False)
    assert ref32["float64"] is False
    assert np.array_equal(ref32["flux"], frame["flux"].astype(np.float32).astype(np.float64))


def test_mask_argument_and_converted_inputs_give_the_same_bits(extracted):
    psf, pre, w, frame = extracted
    # The mask applied again (ivar already has 0 there): the same weights.
    again = perfex.extract(pre["image"], pre["ivar"], psf, w, mask=pre["mask"], nspec=25)
    # Fortran-ordered copies and a list for the grid: converted once, same values.
    f_image, f_ivar = np.asfortranarray(pre["image"]), np.asfortranarray(pre["ivar"])
    converted = perfex.extract(f_image, f_ivar, psf, list(w), nspec=25)
    for name in NAMES:
        assert bits_equal(again[name], frame[name]), name
        assert bits_equal(converted[name], frame[name]), name


def test_inputs_are_not_modified_and_outputs_are_writable(extracted):
    psf, pre, w, _ = extracted
    image, ivar = pre["image"].copy(), pre["ivar"].copy()
    image.flags.writeable = False  # read-only buffers are fine: perfex only reads them
    ivar.flags.writeable = False
    out = perfex.extract(image, ivar, psf, w, nspec=25)
    assert np.array_equal(image, pre["image"]) and np.array_equal(ivar, pre["ivar"])
    assert out["flux"].flags.c_contiguous and out["flux"].flags.writeable
    out["flux"][0, 0] = 1.0


def test_cutout_equals_full_frame_when_nothing_outside_matters(extracted):
    """A cutout holding every pixel the patches use (origin, ccd_shape) extracts the same bits."""
    psf, pre, w, frame = extracted
    s = psf.spots(0, 25, perfex.linear_wavelengths(5950, 6300, 0.8))
    y0 = int(s["ycorner"].min()) - 40
    y1 = int(s["ycorner"].max()) + 2 * psf.hsizey + 41
    x0 = max(int(s["xcorner"].min()) - 40, 0)
    x1 = int(s["xcorner"].max()) + 2 * psf.hsizex + 41
    cut = perfex.extract(pre["image"][y0:y1, x0:x1], pre["ivar"][y0:y1, x0:x1], psf, w, origin=(y0, x0), nspec=25)
    for name in NAMES:
        assert bits_equal(cut[name], frame[name]), name


def test_simulated_frame_pulls_are_unit_normal():
    psf = perfex.synthetic_psf("r0", seed=3)
    w = perfex.linear_wavelengths(6300, 6500, 0.8)
    sim = perfex.simulate(psf, w, nspec=50, seed=11)
    frame = perfex.extract(sim["image"], sim["ivar"], psf, w, mask=sim["mask"], nspec=50)
    truth = sim["photons"] / np.gradient(w)  # electrons per Angstrom
    rtruth = perfex.apply_resolution(frame["resolution"], truth)
    nd = frame["ndiag"]
    good = (frame["ivar"] > 0) & ((frame["mask"] & 1) == 0)
    good[:, :nd] = good[:, -nd:] = False
    pulls = ((frame["flux"] - rtruth) * np.sqrt(frame["ivar"]))[good]
    assert pulls.size > 0.95 * 50 * (w.size - 2 * nd)
    assert abs(pulls.mean()) < 0.05
    assert abs(pulls.std() - 1) < 0.05
    assert np.median(frame["chi2pix"]) < 2


def test_zero_copy_inputs(extracted):
    """A C-contiguous float64 image and ivar are read in place (unmanaged Kokkos views of the numpy buffers);
    other layouts are converted once. numpy reports its buffers to tracemalloc, so a conversion shows as a
    traced allocation of the image's size."""
    import tracemalloc
    psf, pre, w, _ = extracted
    nbytes = pre["image"].nbytes
    f_image = np.asfortranarray(pre["image"])
    tracemalloc.start()
    try:
        perfex.extract(pre["image"], pre["ivar"], psf, w, nspec=25)
        in_place = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        perfex.extract(f_image, pre["ivar"], psf, w, nspec=25)
        converted = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert in_place < nbytes / 20, in_place
    assert converted >= nbytes, converted


def test_mask_may_be_passed_by_position(extracted):
    psf, pre, w, frame = extracted
    out = perfex.extract(pre["image"], pre["ivar"], psf, w, pre["mask"], (0, 0), None, 0, 25)
    for name in NAMES:
        assert bits_equal(out[name], frame[name]), name


def test_big_endian_float32_inputs_as_fits_readers_return_them(extracted):
    """astropy.io.fits and fitsio give big-endian arrays ('>f4' IMAGE/IVAR, '>i2' MASK): converted once, the
    same values as the program's reader, so the same bits."""
    psf, pre, w, frame = extracted
    out = perfex.extract(pre["image"].astype(">f4"), pre["ivar"].astype(">f4"), psf, w,
                         mask=pre["mask"].astype(">i2"), nspec=25)
    for name in NAMES:
        assert bits_equal(out[name], frame[name]), name
