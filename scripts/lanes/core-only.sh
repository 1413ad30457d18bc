# Lane: perfex::core and its tests with Kokkos alone (I/O, MPI, HDF5 off), as on a bare GPU machine; the
# core tests run on every execution space this Kokkos enables (Serial and OpenMP: PERFEX_TEST_SPACES=all,
# tests named "... [Serial]" run against a copy of core built for Serial), plus the install consumer of
# perfex::core. The other lanes test Kokkos' default space only.
perfex_build build-core -DPERFEX_ENABLE_IO=OFF -DPERFEX_ENABLE_MPI=OFF -DPERFEX_ENABLE_HDF5=OFF \
  -DPERFEX_ENABLE_BENCHMARKS=OFF -DPERFEX_TEST_SPACES=all
(cd build-core && ctest --output-on-failure -j "$(nproc)")
