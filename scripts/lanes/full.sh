# Lane: the full build (FITS I/O, the perfex program, MPI driver, benchmarks, the Python module built against
# Debian's /usr/bin/python3 or $PERFEX_PYTHON) and every test (pytest included), in build/
# (the MPI tests run perfex under mpiexec on 1, 2 and 4 ranks; HDF5 frames on, required).
# FORMAT CHECK HOOK (issue #18): uncomment the next line once the tree has been formatted with scripts/check-format.sh --fix.
# scripts/check-format.sh
perfex_build build -DPERFEX_ENABLE_MPI=ON -DPERFEX_ENABLE_HDF5=ON -DPERFEX_TEST_SPACES=default -DPERFEX_ENABLE_PYTHON=ON -DPython3_EXECUTABLE="${PERFEX_PYTHON:-/usr/bin/python3}"
(cd build && ctest --output-on-failure)
