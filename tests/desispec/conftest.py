"""Inputs and outputs of perfex for the desispec lane (scripts/lanes/desispec.sh).

perfex simulates preprocs of an r0 and a b1 camera through its synthetic PSFs, adds to the r0 preproc's IMAGE
header the kind of keywords a DESI preproc carries (a long string with CONTINUE cards, logicals, HISTORY and
COMMENT cards, the preproc's own dependency cards, keywords the extraction sets itself), gives the PSF an
IN_PSF (a trace-shifted PSF's origin) and extracts frames as desi_proc does (FITS and .fits.gz), under
$DESI_SPECTRO_CALIB and $DESI_SPECTRO_REDUX/$SPECPROD so that desispec shortens the file names.

No module of desispec that imports specter or gpu_specter at module level (desispec.scripts.extract) is used
here, so no stand-in for them is needed; the main_gpu_specter comparison waits for perfex's Python entry point.
"""
import os
import subprocess

import numpy as np
import pytest
from astropy.io import fits

PERFEX = os.environ.get("PERFEX_CLI", "perfex")
GRID_R = "5760,7620,0.8"
GRID_B = "3600,5800,0.8"


def run(*args, env=None):
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    result = subprocess.run([PERFEX, *map(str, args)], capture_output=True, text=True, env=full_env)
    assert result.returncode == 0, f"perfex {' '.join(map(str, args))} failed: {result.stderr}"
    return result


# Keywords a DESI preproc carries in IMAGE beyond what perfex simulate writes (values of each FITS type).
EXTRA_KEYWORDS = [
    ("DOSVER", "trunk", "DOS version"),
    ("DETECTOR", "M1-49", "detector"),
    ("CCDNAME", "CCDS1R", "CCD name"),
    ("OBSERVER", "O'Brien and Smith", "a string with a quote"),
    ("SURVEY", "main", "survey"),
    ("FAPRGRM", "dark", "fiberassign program"),
    ("GOALTIME", 1000.0, "goal effective time [s]"),
    ("EBVFAC", 1.1, ""),
    ("AIRMASS", 1.2345678901234567, "an exact double"),
    ("MOUNTHA", -1.5, ""),
    ("SPECID", 4, "spectrograph serial number"),
    ("SKYCAMOK", True, "a logical"),
    ("DITHMODE", False, "a logical"),
    ("GAINA", 1.52, "the preproc's gain (electron/ADU)"),
    ("NSPEC", 500, "set by the extraction"),
    ("WAVEMIN", 1.0, "set by the extraction"),
    ("IN_PSF", "old-psf.fits", "set by the extraction"),
    ("DEPNAM00", "python", ""),
    ("DEPVER00", "3.9.7", ""),
    ("DEPNAM01", "desispec", ""),
    ("DEPVER01", "0.51.0", ""),
    ("DEPNAM02", "perfex", ""),
    ("DEPVER02", "0.0.1", "updated by setdep"),
]
LONG_STRING = "SPECPROD/preproc/20201215/00000001/" + "fiberassign-001000-" * 6 + ".fits.gz"


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    """Every input and output, made once: a dict of paths."""
    top = tmp_path_factory.mktemp("desispec-lane")
    calib = top / "calib"
    prod = top / "redux" / "lane"
    (calib / "spec").mkdir(parents=True)
    (prod / "preproc").mkdir(parents=True)
    (prod / "exposures").mkdir(parents=True)
    p = {"top": top, "calib": calib, "prod": prod}
    env = {"DESI_SPECTRO_CALIB": str(calib), "DESI_SPECTRO_REDUX": str(top / "redux"), "SPECPROD": "lane"}
    p["env"] = env

    # PSFs; the r0 one records the PSF it was derived from (desispec's ORIG_PSF).
    p["psf_r0"] = calib / "spec" / "psf-r0.fits"
    p["psf_b1"] = calib / "spec" / "psf-b1.fits"
    run("psf", "synth", "-o", p["psf_r0"], "--camera", "r0", "--seed", 3)
    run("psf", "synth", "-o", p["psf_b1"], "--camera", "b1", "--seed", 4)
    p["orig_psf"] = "/global/cfs/cdirs/desi/spectro/redux/lane/exposures/20201215/00000001/psf-r0-00000001.fits"
    with fits.open(p["psf_r0"], mode="update") as h:
        h["PSF"].header["IN_PSF"] = p["orig_psf"]

    # Simulated preprocs of r0 and b1, 50 lit fibers (gzip-compressed inputs and outputs of simulate are
    # checked by the full lane's ctest; astropy reads a 200 MB .gz preproc slowly).
    p["pre_r0_sim"] = top / "preproc-r0-sim.fits"
    p["pre_b1"] = prod / "preproc" / "preproc-b1-00000002.fits"
    run("simulate", "-p", p["psf_r0"], "-o", p["pre_r0_sim"], "-n", 50, "-w", GRID_R, "--seed", 1)
    run("simulate", "-p", p["psf_b1"], "-o", p["pre_b1"], "-n", 50, "-w", GRID_B, "--seed", 2, "--expid", 2)

    # The r0 preproc with a DESI-like header (written by astropy, as desispec's preproc is).
    p["pre_r0"] = prod / "preproc" / "preproc-r0-00000001.fits"
    with fits.open(p["pre_r0_sim"]) as h:
        hdr = h["IMAGE"].header
        for key, value, comment in EXTRA_KEYWORDS:
            hdr[key] = (value, comment)
        hdr["FIBASSGN"] = (LONG_STRING, "a string longer than a card")
        hdr.add_history("preproc: bias subtracted, gain applied")
        hdr.add_history("preproc: cosmic rays masked")
        hdr.add_comment("a comment of the raw data")
        h.writeto(p["pre_r0"], checksum=True)

    # Frames, as desi_proc names them (and .fits.gz), fibers 25..49: FIBERMIN = input FIBERMIN + 25.
    p["frame_r0"] = prod / "exposures" / "frame-r0-00000001.fits"
    p["frame_r0_gz"] = prod / "exposures" / "frame-r0-00000001.fits.gz"
    p["model_r0_gz"] = prod / "exposures" / "model-r0-00000001.fits.gz"
    p["frame_b1"] = prod / "exposures" / "frame-b1-00000002.fits"
    common = ["-w", GRID_R, "-s", 25, "-n", 25, "--psferr", 0.01]
    run("extract", "-i", p["pre_r0"], "-p", p["psf_r0"], "-o", p["frame_r0"], *common, env=env)
    run("extract", "-i", p["pre_r0"], "-p", p["psf_r0"], "-o", p["frame_r0_gz"], "-m", p["model_r0_gz"], *common,
        env=env)
    run("extract", "-i", p["pre_b1"], "-p", p["psf_b1"], "-o", p["frame_b1"], "-w", GRID_B, "-s", 25, "-n", 25, env=env)

    # perfex convert, FITS -> HDF5 -> FITS.
    p["frame_h5"] = top / "frame-r0.h5"
    p["frame_back"] = top / "frame-r0-back.fits"
    run("convert", p["frame_r0"], p["frame_h5"])
    run("convert", p["frame_h5"], p["frame_back"])
    return p


def frames(work):
    """The FITS frames desispec must read: plain, gzip-compressed, b1, and the HDF5 round trip's."""
    return [work["frame_r0"], work["frame_r0_gz"], work["frame_b1"], work["frame_back"]]


def assert_same_value(a, b, what):
    assert type(a) is type(b), f"{what}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"
    if isinstance(a, float):
        assert a == b or (np.isnan(a) and np.isnan(b)), f"{what}: {a!r} != {b!r}"
    else:
        assert a == b, f"{what}: {a!r} != {b!r}"
