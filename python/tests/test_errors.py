"""Bad input raises Python exceptions carrying the perfex program's messages, with the keyword arguments where
the program names its options: perfex.UsageError (also a ValueError; the program's exit code 2),
perfex.DataError (exit code 1), TypeError for non-numeric arrays."""
import numpy as np
import pytest

import perfex
from conftest import cli_error, cli_files  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def inputs(cli_files):  # noqa: F811
    psf = perfex.read_psf(str(cli_files["psf"]))
    pre = perfex.read_preproc(str(cli_files["preproc"]))
    return cli_files, psf, pre, perfex.linear_wavelengths(6000, 6200, 0.8)


def extract_error(inputs, exc, **kwargs):
    files, psf, pre, w = inputs
    args = dict(image=pre["image"], ivar=pre["ivar"], psf=psf, wavelengths=w, nspec=25)
    args.update(kwargs)
    with pytest.raises(exc) as info:
        perfex.extract(args.pop("image"), args.pop("ivar"), args.pop("psf"), args.pop("wavelengths"), **args)
    return str(info.value)


def cli_extract_error(files, *options):
    return cli_error("extract", "-i", files["preproc"], "-p", files["psf"], "-o", files["dir"] / "never.fits",
                     *options)


def test_exception_classes():
    assert issubclass(perfex.UsageError, perfex.Error) and issubclass(perfex.UsageError, ValueError)
    assert issubclass(perfex.DataError, perfex.Error) and not issubclass(perfex.DataError, ValueError)
    assert (perfex.UsageError.exit_code, perfex.DataError.exit_code) == (2, 1)


def test_missing_files_same_message_as_the_program(inputs, tmp_path):
    files = inputs[0]
    missing = str(tmp_path / "no-such-psf.fits")
    with pytest.raises(perfex.DataError) as e:
        perfex.read_psf(missing)
    assert (str(e.value), 1) == cli_error("psf", "info", missing)
    assert missing in str(e.value)
    missing_img = str(tmp_path / "no-such-preproc.fits")
    with pytest.raises(perfex.DataError) as e:
        perfex.read_preproc(missing_img)
    assert (str(e.value), 1) == cli_error("extract", "-i", missing_img, "-p", files["psf"], "-o", tmp_path / "o.fits")


def test_not_a_fits_file(tmp_path):
    junk = tmp_path / "junk.fits"
    junk.write_text("not FITS at all\n" * 200)
    with pytest.raises(perfex.DataError, match="junk.fits"):
        perfex.read_psf(str(junk))
    with pytest.raises(perfex.DataError, match="junk.fits"):
        perfex.read_preproc(str(junk))
    with pytest.raises(perfex.DataError, match="junk.fits"):
        perfex.read_frame(str(junk))


@pytest.mark.parametrize("kwargs, options, python_message", [
    (dict(nsubbundles=26), ["--nsubbundles", "26"], "nsubbundles must be in 1..25, got 26"),
    (dict(specmin=-1), ["--specmin", "-1"], "specmin must be >= 0, got -1"),
    (dict(nspec=0), ["--nspec", "0"], "nspec must be >= 1, got 0"),
    (dict(psferr=-1.0), ["--psferr", "-1"], "psferr must be a finite number > 0, got -1.000000"),
    (dict(regularize=float("nan")), ["--regularize", "nan"], "regularize must be a finite number >= 0 and <= 1e8 (alpha^2 is added to the normal matrix; beyond 1e8 it swamps the data in double precision), got nan"),
    (dict(nwavestep=0), ["--nwavestep", "0"], "nwavestep must be in 1..1000, got 0"),
    (dict(pixpad_frac=2.0), ["--pixpad-frac", "2"], "pixpad_frac must be in [0, 1], got 2.000000"),
    (dict(bundles_per_chunk=-1), ["--bundles-per-chunk", "-1"], "bundles_per_chunk must be >= 0"),
])
def test_bad_options_name_the_keyword_arguments(inputs, kwargs, options, python_message):
    """The program's checks and messages, with the keyword arguments where the program names its options."""
    message = extract_error(inputs, perfex.UsageError, **kwargs)
    assert message == python_message
    cli_message, code = cli_extract_error(inputs[0], *(["-n", "25"] if "nspec" not in kwargs else []), *options)
    assert code == 2 and cli_message.startswith("--")
    assert "--" not in message


@pytest.mark.parametrize("kwargs, options, python_message", [
    (dict(wavelengths=perfex.linear_wavelengths(5000, 5100, 0.8)), ["-w", "5000,5100,0.8", "-n", "25"], None),
    (dict(specmin=475, nspec=50), ["-w", "6000,6200,0.8", "-s", "475", "-n", "50"],
     "specmin 475 nspec 50 asks for fibers 475..524, {psf} has fibers 0..499"),
    (dict(specmin=500), ["-w", "6000,6200,0.8", "-s", "500", "-n", "25"], "specmin 500: {psf} has fibers 0..499"),
])
def test_requests_the_data_cannot_satisfy(inputs, kwargs, options, python_message):
    message = extract_error(inputs, perfex.DataError, **kwargs)
    cli_message, code = cli_extract_error(inputs[0], *options)
    assert code == 1
    if python_message is None:  # no option named: the program's message as it is
        assert message == cli_message
    else:
        assert message == python_message.format(psf=inputs[0]["psf"])


def test_simulate_errors_name_the_keyword_arguments():
    psf = perfex.synthetic_psf("r0")
    w = perfex.linear_wavelengths(6000, 6010, 1.0)
    with pytest.raises(perfex.UsageError) as e:
        perfex.simulate(psf, w, specmin=-1)
    assert str(e.value) == "specmin must be >= 0, got -1"
    with pytest.raises(perfex.UsageError) as e:
        perfex.simulate(psf, w, cosmics=-2)
    assert str(e.value) == "cosmics must be >= 0, got -2"


def test_wrong_shapes(inputs):
    _, psf, pre, w = inputs
    small = np.zeros((100, 120))
    msg = extract_error(inputs, perfex.DataError, image=small, ivar=small)
    assert msg.startswith("image: the image is 100 x 120 pixels (rows x columns), the PSF's CCD is 4128 x 4114")
    msg = extract_error(inputs, perfex.UsageError, ivar=pre["ivar"][:-1])
    assert msg == "ivar: shape (4127, 4114) differs from the image's (4128, 4114)"
    msg = extract_error(inputs, perfex.UsageError, mask=np.zeros((3, 3), np.int32))
    assert msg == "mask: shape (3, 3) differs from the image's (4128, 4114)"
    msg = extract_error(inputs, perfex.UsageError, image=pre["image"][None])
    assert msg.startswith("image: expected a 2-D array, got 3-D")
    msg = extract_error(inputs, perfex.UsageError, image=small, ivar=small, origin=(4100, 0))
    assert "does not fit the CCD of 4128 x 4114" in msg
    msg = extract_error(inputs, perfex.UsageError, wavelengths=[6000.0])
    assert msg == "wavelengths: the grid has 1 bin; extraction needs at least 2"
    msg = extract_error(inputs, perfex.UsageError, wavelengths=[6000.0, 6001.0, 6003.0])
    assert msg.startswith("the wavelength grid must be linear")
    msg = extract_error(inputs, perfex.UsageError, wavelengths=w[::-1].copy())
    assert msg == "the wavelength grid must increase"


def test_wrong_types(inputs):
    _, _, pre, _ = inputs
    msg = extract_error(inputs, TypeError, image=np.zeros((4128, 4114), complex))
    assert msg == "image: expected a real (float or integer) array, got dtype complex128"
    msg = extract_error(inputs, TypeError, mask=np.zeros((4128, 4114), np.float32))
    assert msg == "mask: expected an integer array, got dtype float32"
    msg = extract_error(inputs, TypeError, ivar=None)
    assert msg == "ivar: expected an array, got None"
    with pytest.raises(TypeError):
        perfex.extract(pre["image"], pre["ivar"], "not a psf", [6000.0, 6000.8])


def test_psf_and_simulate_errors():
    psf = perfex.synthetic_psf("r0")
    with pytest.raises(perfex.UsageError, match=r"fibers \[495, 505\) are outside the PSF's 0..499"):
        psf.spots(495, 10, [6000.0])
    with pytest.raises(perfex.UsageError, match="wavelengths must be finite"):
        psf.spots(0, 1, [np.nan])
    with pytest.raises(perfex.UsageError, match="camera"):
        perfex.synthetic_psf("q0")
    w = perfex.linear_wavelengths(6000, 6010, 1.0)
    with pytest.raises(perfex.UsageError, match="photons must be finite and >= 0"):
        perfex.simulate(psf, w, -np.ones((2, w.size)))
    with pytest.raises(perfex.UsageError, match="the spectra have 3 wavelength bins, the grid 11"):
        perfex.simulate(psf, w, np.ones((2, 3)))
    with pytest.raises(perfex.DataError, match=r"^specmin 490 nspec 20: the PSF has fibers 0..499"):
        perfex.simulate(psf, w, specmin=490, nspec=20)
    with pytest.raises(perfex.UsageError, match="already"):
        perfex.kokkos_info()
        perfex.initialize(2)
