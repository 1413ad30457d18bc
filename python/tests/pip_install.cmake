# ctest python_pip_install: `pip install .` from the checkout (pyproject.toml, scikit-build-core) into a fresh
# virtual environment, against the Kokkos of this build's CMAKE_PREFIX_PATH, then `import perfex` and
# perfex.desi there, from another directory and without PYTHONPATH. The CMake build directory of the wheel
# (PIP_BUILD_DIR) is kept between runs, so a second run only rebuilds what changed. Skipped (SKIP_REGULAR_EXPRESSION
# "pip-install-skip") when scikit-build-core cannot be installed from the package index.
# -DPYTHON=... -DSOURCE_DIR=... -DWORK_DIR=... -DPIP_BUILD_DIR=... -DPREFIX_PATH=... [-DLAUNCHER=ccache]
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err WORKING_DIRECTORY "${WORK_DIR}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

run("python -m venv" "${PYTHON}" -m venv --system-site-packages "${WORK_DIR}/venv")
set(py "${WORK_DIR}/venv/bin/python")
execute_process(COMMAND "${py}" -m pip install --no-cache-dir -q --disable-pip-version-check
                        "scikit-build-core>=0.10" "pybind11>=2.6"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pip-install-skip: scikit-build-core could not be installed from the package index:\n${err}")
endif()

string(REPLACE ";" ":" prefix "${PREFIX_PATH}")  # the environment variable's separator
set(env CMAKE_PREFIX_PATH=${prefix} CMAKE_BUILD_PARALLEL_LEVEL=2)
if(LAUNCHER)
  list(APPEND env CMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
run("pip install ." ${CMAKE_COMMAND} -E env --unset=PYTHONPATH ${env}
    "${py}" -m pip install --no-cache-dir --disable-pip-version-check --no-build-isolation --no-deps
    "--config-settings=build-dir=${PIP_BUILD_DIR}" "${SOURCE_DIR}")

set(code [=[
import subprocess, sys
import numpy as np, perfex, perfex.desi
assert perfex.__file__.startswith(sys.prefix), perfex.__file__
psf = perfex.synthetic_psf("r0")
w = perfex.linear_wavelengths(6000, 6040, 0.8)
sim = perfex.simulate(psf, w, nspec=25, seed=1)
frame = perfex.desi.extract_frame({"image": sim["image"], "ivar": sim["ivar"]}, psf, 25, 0, 25, w, 50, 5)
assert frame["specflux"].shape == (25, w.size) and np.isfinite(frame["specflux"]).all()
p = subprocess.run([sys.prefix + "/bin/perfex-desi-extract-spectra", "-i", "in.fits", "-p", "psf.fits", "-o",
                    "out.fits", "--nsubbundles", "26"], capture_output=True, text=True)
assert p.returncode == 2 and "--nsubbundles must be in 1..25, got 26" in p.stderr, (p.returncode, p.stderr)
print("pip-installed perfex", perfex.__version__, "at", perfex.__file__)
]=])
run("import perfex from the virtual environment" ${CMAKE_COMMAND} -E env --unset=PYTHONPATH "${py}" -c "${code}")
message(STATUS "${out}")
