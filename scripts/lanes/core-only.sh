# Lane: perfex::core and its tests with Kokkos alone (I/O, MPI, HDF5 off), as on a bare GPU machine.
perfex_build build-core -DPERFEX_ENABLE_IO=OFF -DPERFEX_ENABLE_MPI=OFF -DPERFEX_ENABLE_HDF5=OFF \
  -DPERFEX_ENABLE_BENCHMARKS=OFF
(cd build-core && ctest --output-on-failure)
