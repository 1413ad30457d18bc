# Lane: the full build (FITS I/O, the perfex program, MPI driver, benchmarks, the Python module built against
# Debian's /usr/bin/python3 or $PERFEX_PYTHON) and every test (pytest included), in build/
# (the MPI tests run perfex under mpiexec on 1, 2 and 4 ranks; HDF5 frames on, required).
perfex_build build -DPERFEX_ENABLE_MPI=ON -DPERFEX_ENABLE_HDF5=ON -DPERFEX_TEST_SPACES=default -DPERFEX_ENABLE_PYTHON=ON -DPython3_EXECUTABLE="${PERFEX_PYTHON:-/usr/bin/python3}"
# The C++ sources as .clang-format says (clang-format 14, installed by setup-deps through perfex_build): a
# difference fails the lane before its tests run.
scripts/check-format.sh
(cd build && ctest --output-on-failure)
