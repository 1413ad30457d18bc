# ctest python_install_venv: `cmake --install` of the build into a fresh virtual environment of the module's
# interpreter (with the system site-packages, for numpy), then `import perfex` there and extract a small
# simulated frame, from another directory and without PYTHONPATH.
# -DPYTHON=... -DBUILD_DIR=... -DWORK_DIR=...
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(COMMAND "${PYTHON}" -m venv --without-pip --system-site-packages "${WORK_DIR}/venv"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "python -m venv failed (${rc})")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${WORK_DIR}/venv"
  OUTPUT_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install into the virtual environment failed (${rc})")
endif()
set(code [=[
import numpy as np, perfex, sys
assert perfex.__file__.startswith(sys.prefix), perfex.__file__
psf = perfex.synthetic_psf("r0")
w = perfex.linear_wavelengths(6000, 6040, 0.8)
sim = perfex.simulate(psf, w, nspec=25, seed=1)
f = perfex.extract(sim["image"], sim["ivar"], psf, w, mask=sim["mask"], nspec=25)
assert f["flux"].shape == (25, w.size) and np.isfinite(f["flux"]).all()
print("installed perfex", perfex.__version__, "at", perfex.__file__)
]=])
execute_process(COMMAND "${CMAKE_COMMAND}" -E env --unset=PYTHONPATH "${WORK_DIR}/venv/bin/python" -c "${code}"
  WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "import perfex from the virtual environment failed (${rc})")
endif()
