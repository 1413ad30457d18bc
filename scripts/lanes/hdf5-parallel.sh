# Lane: collective HDF5 exposure writes (PERFEX_HDF5_PARALLEL: Debian's libhdf5-openmpi-dev, installed beside
# libhdf5-dev) in build-hdf5-parallel/. Builds only the perfex program and the helpers of the HDF5 and MPI
# tests (no Python module, no benchmarks), then runs those tests: HDF5 frames and their refusals (truncated,
# foreign, non-HDF5 files), the exposure tests, and every MPI test, the collective exposure files on 1, 2
# and 3 ranks among them, and the full-disk tests of HDF5 outputs (perfex_robustness_tool).
PERFEX_BUILD_TARGET="perfex perfex_fits_data_equal perfex_hdf5_tool perfex_hdf5_tests perfex_robustness_tool perfex_io_thread_check" \
  perfex_build build-hdf5-parallel -DPERFEX_ENABLE_MPI=ON -DPERFEX_ENABLE_HDF5=ON -DPERFEX_HDF5_PARALLEL=ON \
  -DPERFEX_ENABLE_PYTHON=OFF -DPERFEX_ENABLE_BENCHMARKS=OFF
(cd build-hdf5-parallel && ctest --output-on-failure -R 'hdf5|HDF5|^exposure_|^mpi_' -E '_NOT_BUILT$')
