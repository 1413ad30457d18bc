"""Fixtures of the perfex Python tests: the perfex program, the shared reference material, files the
program writes for the comparisons. ctest sets PYTHONPATH to the built package and PERFEX_CLI /
PERFEX_PY_GOLDEN_REF to the built programs (python/CMakeLists.txt)."""
import os
import pathlib
import subprocess

import pytest

HERE = pathlib.Path(__file__).resolve().parent


def shared_dir():
    """$PERFEX_SHARED_DIR when set (None if it is not a directory), else ../shared beside the project root, as
    the C++ tests find it; None when absent."""
    env = os.environ.get("PERFEX_SHARED_DIR")
    if env:
        return pathlib.Path(env) if pathlib.Path(env).is_dir() else None
    for candidate in (os.environ.get("PERFEX_DEFAULT_SHARED_DIR"), str(HERE.parents[2] / "shared")):
        if candidate and pathlib.Path(candidate).is_dir():
            return pathlib.Path(candidate)
    return None


def require_shared(relative):
    d = shared_dir()
    if d is None or not (d / relative).exists():
        pytest.skip(f"shared material absent: {relative} (set PERFEX_SHARED_DIR or place ../shared)")
    return d / relative


def program(env_name):
    path = os.environ.get(env_name)
    if not path or not os.access(path, os.X_OK):
        pytest.skip(f"{env_name} does not name a built program (run the tests through ctest)")
    return path


def run_cli(*args, check=True):
    """Runs the perfex program; returns the CompletedProcess (stdout, stderr as text)."""
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    p = subprocess.run([program("PERFEX_CLI"), *map(str, args)], capture_output=True, text=True, env=env)
    if check and p.returncode != 0:
        raise AssertionError(f"perfex {' '.join(map(str, args))} failed ({p.returncode}): {p.stderr}")
    return p


def cli_error(*args):
    """The message of a failing perfex command (stderr without 'perfex: error: ') and its exit code."""
    p = run_cli(*args, check=False)
    assert p.returncode in (1, 2), p.stderr
    line = p.stderr.strip().splitlines()[-1]
    prefix = "perfex: error: "
    assert line.startswith(prefix), line
    return line[len(prefix):], p.returncode


@pytest.fixture(scope="session")
def cli_files(tmp_path_factory):
    """A synthetic r0 PSF file, a preproc file of fibers 0..24 simulated by `perfex simulate` (seed 7,
    20 cosmic rays, defects), and `perfex extract --float64` of it on 6000..6200 A."""
    d = tmp_path_factory.mktemp("cli")
    files = {"psf": d / "psf.fits", "preproc": d / "preproc.fits", "frame": d / "frame.fits", "dir": d}
    run_cli("psf", "synth", "-o", files["psf"], "--camera", "r0", "--seed", "0")
    run_cli("simulate", "-o", files["preproc"], "--camera", "r0", "--psf-seed", "0", "-n", "25", "--seed", "7",
            "--cosmics", "20", "--defects")
    run_cli("extract", "-i", files["preproc"], "-p", files["psf"], "-o", files["frame"], "--float64",
            "-w", "6000,6200,0.8", "-n", "25")
    return files
