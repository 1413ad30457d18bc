# Lane: the GPU launch shapes on the CPU (PERFEX_LAUNCH_SHAPE=gpu, backends/include/perfex/backends/launch_config.hpp)
# in build-gpu-shape/: the host backends take the CUDA build's team shapes (teams of 32 threads for the patch
# solver, the decorrelation and the spots, 128 clamped to the thread pool for the other team kernels), so every team barrier, team split and
# scratch allocation of the GPU path runs on the CPU. The core linear-algebra tests (the tile kernels and the
# fiber-tile solve at team sizes up to 32, with explicitly split lanes; the decorrelation's block algebra on
# lanes and teams) and the golden tests (the whole
# extraction, spots included, against gpu_specter's float64 bounds) run with 64 OpenMP threads, whatever the
# number of cores (~1 min on 2 cores). The two golden sweeps (every --nsubbundles 2-7, and nwavestep 5-100 on
# two grids: 19 extractions) run in the same build with 8 threads, teams of 8: with 32-thread teams on 2 cores
# every team barrier waits out Kokkos' spin before the threads yield, and they took ~6 of the lane's ~8
# minutes (50 s at 8 threads). The spot and simulation unit tests are left out: with 64-thread teams on
# 2 cores their thousands of launches take over 10 minutes. The test executables are run directly: ctest would
# set OMP_NUM_THREADS=2 (PERFEX_TEST_ENV). Then the degenerate-patch robustness tests (the solver's retry pass)
# through ctest, in teams of 2 threads.
PERFEX_BUILD_TARGET="perfex perfex_robustness_tool perfex_core_tests perfex_golden_tests" \
  perfex_build build-gpu-shape -DPERFEX_LAUNCH_SHAPE=gpu -DPERFEX_ENABLE_BENCHMARKS=OFF -DPERFEX_ENABLE_PYTHON=OFF \
  -DPERFEX_ENABLE_MPI=OFF
(
  cd build-gpu-shape
  export OMP_NUM_THREADS=64 OMP_PROC_BIND=false
  unset OMP_PLACES
  tests/perfex_core_tests "[linalg]"
  tests/perfex_golden_tests "~[subbundles]" "~[padding]"
  OMP_NUM_THREADS=8 tests/perfex_golden_tests "[subbundles],[padding]"
)
(cd build-gpu-shape && ctest --output-on-failure -R '^robust_(inputs|degenerate)_')
