# Lane: the GPU launch shapes on the CPU (PERFEX_LAUNCH_SHAPE=gpu, backends/include/perfex/backends/launch_config.hpp)
# in build-gpu-shape/: the host backends take the CUDA build's team shapes (teams of 32 threads for the patch
# solver, 128 clamped to the thread pool for the other team kernels), so every team barrier, team split and
# scratch allocation of the GPU path runs on the CPU. The core tests (the tile linear algebra at team sizes up
# to 32, with explicitly split lanes) and the golden tests (the whole extraction against gpu_specter's float64
# bounds) run with 64 OpenMP threads, whatever the number of cores. The test executables are run directly:
# ctest would set OMP_NUM_THREADS=2 (PERFEX_TEST_ENV).
PERFEX_BUILD_TARGET="perfex_core_tests perfex_golden_tests" \
  perfex_build build-gpu-shape -DPERFEX_LAUNCH_SHAPE=gpu -DPERFEX_ENABLE_BENCHMARKS=OFF -DPERFEX_ENABLE_PYTHON=OFF \
  -DPERFEX_ENABLE_MPI=OFF
(
  cd build-gpu-shape
  export OMP_NUM_THREADS=64 OMP_PROC_BIND=false
  unset OMP_PLACES
  tests/perfex_core_tests
  tests/perfex_golden_tests
)
