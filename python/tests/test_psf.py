"""perfex.read_psf, perfex.synthetic_psf and Psf.spots."""
import numpy as np
import pytest

import perfex
from conftest import require_shared, run_cli


def test_read_real_psf():
    path = require_shared("data/psf-r0-00051060.fits")
    psf = perfex.read_psf(str(path))
    assert psf.nfiber == 500
    assert psf.ccd_shape == (4128, 4114)
    assert psf.camera.startswith("r")
    assert psf.wavemin < 5760 and psf.wavemax > 7620
    assert psf.source == str(path)
    assert "GHSIGX" in psf.params


def test_synthetic_psf_matches_the_program(tmp_path):
    run_cli("psf", "synth", "-o", tmp_path / "psf.fits", "--camera", "z1", "--seed", "4")
    a = perfex.read_psf(str(tmp_path / "psf.fits"))
    b = perfex.synthetic_psf("z1", seed=4)
    assert (a.nfiber, a.ccd_shape, a.camera, a.hsizex, a.hsizey) == (b.nfiber, b.ccd_shape, b.camera, b.hsizex, b.hsizey)
    w = np.linspace(8000, 9000, 7)
    sa, sb = a.spots(20, 10, w), b.spots(20, 10, w)
    for k in ("spots", "xcorner", "ycorner", "xcenter", "ycenter"):
        assert np.array_equal(sa[k], sb[k]), k


def test_spots_are_unit_sum_stamps_on_the_trace():
    psf = perfex.synthetic_psf("r0", seed=1)
    w = perfex.linear_wavelengths(6000, 6010, 0.8)
    s = psf.spots(25, 3, w)
    ny, nx = 2 * psf.hsizey + 1, 2 * psf.hsizex + 1
    assert s["spots"].shape == (3, w.size, ny, nx)
    assert s["spots"].dtype == np.float64 and s["xcorner"].dtype == np.int32
    assert (s["specmin"], s["nspec"]) == (25, 3)
    np.testing.assert_allclose(s["spots"].sum(axis=(2, 3)), 1.0, rtol=0, atol=1e-12)
    assert (s["spots"] >= 0).all()
    np.testing.assert_array_equal(s["wavelengths"], w)
    for i, fiber in enumerate(range(25, 28)):
        np.testing.assert_allclose(s["xcenter"][i], psf.x(fiber, w), rtol=0, atol=1e-9)
        np.testing.assert_allclose(s["ycenter"][i], psf.y(fiber, w), rtol=0, atol=1e-9)
    # The stamp surrounds the trace position.
    assert (np.abs(s["xcorner"] + psf.hsizex - s["xcenter"]) <= 1).all()
    assert (np.abs(s["ycorner"] + psf.hsizey - s["ycenter"]) <= 1).all()


def test_write_and_read_back(tmp_path):
    psf = perfex.synthetic_psf("b0", seed=2, tails=True)
    path = tmp_path / "psf.fits"
    psf.write(str(path))
    back = perfex.read_psf(str(path))
    w = np.array([4000.0, 5000.0])
    a, b = psf.spots(0, 5, w, tails=True), back.spots(0, 5, w, tails=True)
    assert np.array_equal(a["spots"], b["spots"])
    with pytest.raises(perfex.UsageError, match="exists"):
        psf.write(str(path))
    psf.write(str(path), overwrite=True)


def test_default_wavelengths():
    psf = perfex.synthetic_psf("r0")
    w = psf.default_wavelengths()
    assert w[0] >= psf.wavemin and w[-1] <= psf.wavemax
    np.testing.assert_allclose(np.diff(w), 0.8, atol=1e-9)


def test_trace_at_one_wavelength_and_bad_fiber():
    psf = perfex.synthetic_psf("r0")
    assert psf.x(10, 6500.0) == psf.x(10, [6500.0])[0]
    assert isinstance(psf.y(10, 6500), float)
    with pytest.raises(perfex.UsageError, match="fiber 500 is outside the PSF's 0..499"):
        psf.x(500, 6500.0)
    with pytest.raises(TypeError, match="wavelengths"):
        psf.x(0, "6500")


@pytest.mark.parametrize("name, layout, stamp", [("gausshermite", "psfver2", (17, 29)),
                                                 ("gausshermite2", "gauss-hermite2", (20, 20))])
def test_specter_older_layouts(name, layout, stamp):
    """specter's PSFVER 2 and GAUSS-HERMITE2 files: the same Psf interface, even stamps for GAUSS-HERMITE2."""
    path = require_shared(f"golden/specter-psf-formats/psf-{name}.fits")
    psf = perfex.read_psf(str(path))
    assert psf.layout == layout
    assert psf.nfiber == 25
    w = np.array([6500.0, 7000.0])
    s = psf.spots(0, 5, w, tails=True)
    assert s["spots"].shape == (5, 2) + stamp
    np.testing.assert_allclose(s["spots"].sum(axis=(2, 3)), 1.0, rtol=0, atol=1e-12)
    for i in range(5):
        np.testing.assert_allclose(s["xcenter"][i], psf.x(i, w), rtol=0, atol=1e-9)
        np.testing.assert_allclose(s["ycenter"][i], psf.y(i, w), rtol=0, atol=1e-9)
    # The stamp's first pixel: centred on the nearest pixel (odd stamps), floor(x) - HSIZEX (even ones).
    shift = 0.0 if layout == "gauss-hermite2" else 0.5
    np.testing.assert_array_equal(s["xcorner"], np.floor(s["xcenter"] - psf.hsizex + shift).astype(np.int32))
    # The wavelength at a row inverts the trace.
    rows = psf.y(3, w)
    np.testing.assert_allclose(psf.wavelength(3, rows), w, rtol=0, atol=1e-8)


def test_synthetic_layouts_match_the_program(tmp_path):
    for layout in ("psfver2", "gauss-hermite2"):
        run_cli("psf", "synth", "-o", tmp_path / f"{layout}.fits", "--layout", layout, "--seed", "3", "--tails")
        a = perfex.read_psf(str(tmp_path / f"{layout}.fits"))
        b = perfex.synthetic_psf("r0", seed=3, tails=True, layout=layout)
        assert a.layout == b.layout == layout
        w = np.linspace(6000, 7000, 5)
        sa, sb = a.spots(100, 4, w, tails=True), b.spots(100, 4, w, tails=True)
        for k in ("spots", "xcorner", "ycorner"):
            assert np.array_equal(sa[k], sb[k]), k
    with pytest.raises(perfex.UsageError, match="layout 'v9'"):
        perfex.synthetic_psf(layout="v9")
