"""perfex.simulate against `perfex simulate`, and the Kokkos session's lifetime."""
import os
import subprocess
import sys
import textwrap

import numpy as np

import perfex
from conftest import run_cli


def test_same_frame_as_the_program(tmp_path):
    path = tmp_path / "pre.fits"
    run_cli("simulate", "-o", path, "--camera", "r0", "--psf-seed", "2", "-s", "25", "-n", "25", "--seed", "5",
            "--cosmics", "10", "--defects")
    pre = perfex.read_preproc(str(path))
    sim = perfex.simulate(perfex.synthetic_psf("r0", seed=2), specmin=25, nspec=25, seed=5, cosmics=10, defects=True)
    # The program writes IMAGE and IVAR as float32 and zeroes ivar where MASK is set (as the simulation does).
    assert np.array_equal(pre["image"], sim["image"].astype(np.float32).astype(np.float64))
    assert np.array_equal(pre["ivar"], sim["ivar"].astype(np.float32).astype(np.float64))
    assert np.array_equal(pre["mask"], sim["mask"])
    assert sim["wavelengths"].size == 2326 and sim["photons"].shape == (25, 2326)
    assert [d["kind"] for d in sim["defects"]].count("COSMIC") == 10
    assert {"HOTCOL", "DEADCOL", "BADPIX"} <= {d["kind"] for d in sim["defects"]}
    assert sim["objtype"].count("SKY") == 2


def test_given_photons_and_no_noise():
    psf = perfex.synthetic_psf("b0")
    w = perfex.linear_wavelengths(4500, 4520, 1.0)
    photons = np.full((3, w.size), 100.0)
    sim = perfex.simulate(psf, w, photons, specmin=7, noise=False)
    assert np.array_equal(sim["image"], sim["model"])
    assert sim["photons"] is photons
    np.testing.assert_allclose(sim["model"].sum() + sim["photons_off_ccd"], photons.sum(), rtol=1e-12)
    assert sim["nspec"] == 3 and "objtype" not in sim


def test_deterministic_for_any_thread_count():
    code = textwrap.dedent("""
        import sys, hashlib, perfex
        perfex.initialize(num_threads=int(sys.argv[1]))
        sim = perfex.simulate(perfex.synthetic_psf("z0"), perfex.linear_wavelengths(8000, 8100, 0.8), nspec=25, seed=9)
        print(hashlib.sha256(sim["image"].tobytes()).hexdigest(), perfex.kokkos_info()["concurrency"])
    """)
    out = [subprocess.run([sys.executable, "-c", code, str(n)], capture_output=True, text=True, check=True).stdout.split()
           for n in (1, 2)]
    assert out[0][1] == "1" and out[1][1] == "2"
    assert out[0][0] == out[1][0]


def run_python(code):
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                       env=dict(os.environ))
    return p.returncode, p.stdout, p.stderr


def test_kokkos_initialised_on_first_use_and_finalised_after_the_last_array():
    rc, out, err = run_python("""
        import perfex
        print(perfex.is_initialized())
        psf = perfex.synthetic_psf("r0")
        print(perfex.is_initialized())           # reading or making a PSF needs no Kokkos
        s = psf.spots(0, 2, [6000.0, 6001.0])
        print(perfex.is_initialized())
        perfex._perfex._finalize_at_exit()       # what atexit does: an array still shares Kokkos memory
        print(perfex.is_initialized())
        del s
        print(perfex.is_initialized())           # the last array is gone: finalised
        try:
            psf.spots(0, 1, [6000.0])
        except perfex.UsageError as e:
            print("after exit:", e)
    """)
    assert rc == 0, err
    assert out.splitlines() == ["False", "False", "True", "True", "False",
                                "after exit: perfex: the interpreter is exiting; Kokkos has been finalised"]
    assert err == ""


def test_clean_exit_with_arrays_alive():
    """Arrays alive at interpreter exit: Kokkos is finalised when they are freed, without any message."""
    rc, out, err = run_python("""
        import perfex
        psf = perfex.synthetic_psf("r0")
        keep = perfex.simulate(psf, [6000.0, 6000.8, 6001.6], nspec=1)
        cycle = [keep]
        cycle.append(cycle)
        print("ok")
    """)
    assert (rc, out.strip(), err) == (0, "ok", "")


def test_initialize_twice_is_an_error():
    rc, out, err = run_python("""
        import perfex
        perfex.initialize(num_threads=1)
        try:
            perfex.initialize(num_threads=1)
        except perfex.UsageError as e:
            print(e)
    """)
    assert rc == 0, err
    assert "already initialised" in out


def test_thread_counts_kokkos_cannot_run_are_refused():
    # Kokkos 3.4's OpenMP backend holds at most 512 threads (more crashed the interpreter); 0 aborted it.
    for value in (0, 513, 600):
        rc, out, err = run_python(f"""
            import perfex
            try:
                perfex.initialize(num_threads={value})
            except perfex.UsageError as e:
                print(e)
        """)
        assert rc == 0, err
        assert f"num_threads={value}: must be a number of threads in 1..512" in out
