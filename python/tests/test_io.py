"""perfex.read_preproc and perfex.read_frame on files the perfex program writes."""
import numpy as np
import pytest

import perfex
from conftest import cli_files  # noqa: F401  (fixture)


def test_read_preproc(cli_files):  # noqa: F811
    pre = perfex.read_preproc(str(cli_files["preproc"]))
    assert pre["image"].shape == (4128, 4114) and pre["image"].dtype == np.float64
    assert pre["ivar"].shape == pre["mask"].shape == pre["image"].shape
    assert pre["mask"].dtype == np.int32 and pre["has_mask"]
    assert pre["header"]["CAMERA"] == "r0" and pre["header"]["EXPID"] == 1
    assert pre["header"]["FLAVOR"] == "science"
    # Pixels with an extraction bit have ivar 0 (cosmic rays and defects were simulated).
    bad = (pre["mask"] & 0x2FF) != 0
    assert bad.sum() > 0 and (pre["ivar"][bad] == 0).all()
    # The image and ivar were written as float32.
    assert np.array_equal(pre["image"], pre["image"].astype(np.float32))
    fm = pre["fibermap"]
    assert fm["FIBER"].tolist() == list(range(500))
    assert fm["FIBERSTATUS"][:25].tolist() == [0] * 25 and fm["FIBERSTATUS"][25:].max() == 1
    assert set(fm["OBJTYPE"][:25]) == {"TGT", "SKY"}


def test_read_frame(cli_files):  # noqa: F811
    f = perfex.read_frame(str(cli_files["frame"]))
    assert f["flux"].shape == (25, 251) and f["resolution"].shape == (25, 11, 251)
    assert f["mask"].dtype == np.uint32 and f["pixmask_fraction"] is not None
    assert (f["specmin"], f["nspec"], f["camera"], f["heliocor"]) == (0, 25, "r0", 1.0)


def test_arrays_outlive_their_dict(cli_files):  # noqa: F811
    """The arrays share Kokkos memory; each keeps it alive on its own."""
    flux = perfex.read_frame(str(cli_files["frame"]))["flux"]
    before = perfex._perfex._live_kokkos_arrays()
    flux2 = flux.copy()
    del flux
    assert perfex._perfex._live_kokkos_arrays() == before - 1
    assert flux2.shape == (25, 251)
