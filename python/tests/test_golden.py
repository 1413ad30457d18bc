"""The golden bundle (r0-51060-bundle0, a cutout of a simulated frame with the real DESI PSF) through
perfex.extract: bitwise the C++ API's float64 result (perfex_py_golden_ref runs the same steps as
tests/golden/test_extract_golden.cpp), and the reference bounds against gpu_specter."""
import os
import subprocess

import numpy as np
import pytest

import perfex
from conftest import program, require_shared


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    require_shared("golden/r0-51060-bundle0/input.fits")
    psf_path = require_shared("data/psf-r0-00051060.fits")
    out = tmp_path_factory.mktemp("golden")
    subprocess.run([program("PERFEX_PY_GOLDEN_REF"), str(psf_path.parents[1]), str(out)], check=True)
    ref = {p.stem: np.load(p) for p in out.glob("*.npy")}
    psf = perfex.read_psf(str(psf_path))
    origin = tuple(int(v) for v in ref["origin"])
    result = perfex.extract(ref["image"], ref["weights"], psf, ref["wavelengths"], origin=origin, specmin=0, nspec=25)
    return ref, result, psf, origin


def test_golden_bitwise_equal_to_the_cpp_api(golden):
    ref, result, _, _ = golden
    for name in ("flux", "ivar", "resolution", "chi2pix", "pixmask_fraction"):
        assert result[name].shape == ref[name].shape, name
        assert result[name].dtype == np.float64
        # Bit for bit: the same float64 path (NaN-free, so array_equal on the bits).
        assert np.array_equal(result[name].view(np.uint64), ref[name].view(np.uint64)), name
    assert result["ndiag"] == 5 and result["flux"].shape == (25, 201)


def test_golden_from_the_preproc_reader(golden):
    """The cutout read with perfex.read_preproc (the program's reader: IVAR zeroed where MASK has an
    extraction bit), with the mask passed again, gives the same bits."""
    ref, result, psf, origin = golden
    path = require_shared("golden/r0-51060-bundle0/input.fits")
    pre = perfex.read_preproc(str(path))
    assert np.array_equal(pre["image"], ref["image"])
    assert np.array_equal(pre["ivar"], ref["weights"])
    again = perfex.extract(pre["image"], pre["ivar"], psf, ref["wavelengths"], mask=pre["mask"], origin=origin,
                           ccd_shape=psf.ccd_shape, nspec=25)
    for name in ("flux", "ivar", "resolution", "chi2pix", "pixmask_fraction", "mask"):
        assert np.array_equal(again[name], result[name]), name


def test_golden_facts(golden):
    """What shared/golden/README.md states about this case (the bounds against gpu_specter are checked by the
    C++ golden tests on the C++ result, which the first test shows is the same to the bit)."""
    _, result, _, _ = golden
    assert (result["pixmask_fraction"] > 0.5).sum() == 4  # fiber 20 near 6611.6 A, fiber 3 near 6576.4 A
    assert set(np.nonzero(result["pixmask_fraction"] > 0.5)[0]) == {3, 20}
    assert (result["ivar"] > 0).all()
    assert (result["mask"] & 1).sum() == 4  # SOMEBADPIX on exactly those bins
