# Lane: the full build (FITS I/O, the perfex program, MPI driver, benchmarks) and every test, in build/
# (the MPI tests run perfex under mpiexec on 1, 2 and 4 ranks).
perfex_build build -DPERFEX_ENABLE_MPI=ON
(cd build && ctest --output-on-failure)
