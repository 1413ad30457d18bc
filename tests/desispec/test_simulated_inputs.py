"""perfex simulate's preprocs read by desispec 0.70.0's readers (issue #20, item 4)."""
import numpy as np
import pytest

from desispec.io import read_fibermap, read_image

CASES = {"r0": ("pre_r0_sim", 0), "b1": ("pre_b1", 500)}


@pytest.mark.parametrize("camera", sorted(CASES))
def test_read_image_and_fibermap(work, camera):
    key, fibermin = CASES[camera]
    path = str(work[key])
    image = read_image(path)  # no skip: the READNOISE HDU is read
    assert image.camera == camera
    assert image.pix.shape == (4128, 4114) and image.ivar.shape == image.pix.shape
    assert image.readnoise.shape == image.pix.shape
    header = image.meta
    amps = {"A": (0, 0), "B": (0, 4113), "C": (4127, 0), "D": (4127, 4113)}
    for amp, (y, x) in amps.items():
        assert image.readnoise[y, x] == pytest.approx(header["OBSRDN" + amp], rel=1e-6), amp
        assert header["GAIN" + amp] == 1.0 and "CCDSEC" + amp in header
    assert header["RDNOISE"] == pytest.approx(np.mean([header["OBSRDN" + a] for a in "ABCD"]))
    assert header["SPECGRPH"] == int(camera[1]) and header["FIBERMIN"] == fibermin
    for key in ("EXPID", "NIGHT", "MJD-OBS", "DATE-OBS", "EXPTIME", "TILEID", "TARGTRA", "TARGTDEC", "FLAVOR",
                "OBSTYPE", "CHECKSUM", "DATASUM"):
        assert key in header, key
    date = header["DATE-OBS"]  # DATE-OBS and MJD-OBS describe the same moment
    from astropy.time import Time
    assert Time(date, scale="utc").mjd == pytest.approx(header["MJD-OBS"], abs=1e-6)
    fibermap = read_fibermap(path)
    assert len(fibermap) == 500
    assert list(fibermap["FIBER"]) == list(range(fibermin, fibermin + 500))
    assert {"TARGETID", "OBJTYPE", "FIBERSTATUS"} <= set(fibermap.colnames)


@pytest.mark.parametrize("camera", sorted(CASES))
def test_simulated_checksums(work, camera):
    import warnings

    import fitsio
    from astropy.io import fits

    path = str(work[CASES[camera][0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fits.open(path, checksum=True) as hdus:
            assert [h.name for h in hdus] == ["IMAGE", "IVAR", "READNOISE", "MASK", "FIBERMAP"]
            for hdu in hdus:
                hdu.data
    with fitsio.FITS(path) as f:
        for hdu in f:
            hdu.verify_checksum()
