# Lane: the whole project (I/O, the perfex program, tests, benchmarks) compiled and linked for NVIDIA GPUs
# in build-cuda/: Kokkos 3.4.1 with Cuda (PERFEX_CUDA_ARCH, default HOPPER90) from scripts/setup-deps.sh
# (cached), perfex with nvcc through Kokkos' nvcc_wrapper, host-only calls in kernels as errors. Then
# ctest: on a machine without a GPU every test that needs the device reports itself skipped ("no CUDA
# device"); `perfex info` and the compile tests (a host-only call in a kernel must not compile) run. Then
# scripts/gpu-check.sh prepare writes .gpu-check/ (the GPU check's programs, sm_90, and the CPU reference
# of its parity tool, made with the full lane's build/) and the lane checks it holds at most 60 MiB.
# Without nvcc the lane is skipped with a message, or fails when PERFEX_REQUIRE_CUDA=1 (CI sets it).
# Sourced by scripts/test.sh; runs in a subshell so its settings stay here.
(
  if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
  if ! command -v nvcc >/dev/null 2>&1; then
    if [ "${PERFEX_REQUIRE_CUDA:-0}" = 1 ]; then
      echo "lane cuda: nvcc not found (PATH, /usr/local/cuda/bin) and PERFEX_REQUIRE_CUDA=1" >&2
      exit 1
    fi
    echo "lane cuda: nvcc not found (PATH, /usr/local/cuda/bin): skipping the CUDA build"
    exit 0
  fi
  export PERFEX_KOKKOS_BACKEND=cuda
  deps_start=$(date +%s)
  prefix=$("$perfex_root/scripts/setup-deps.sh" --print-prefix)
  echo "lane cuda: dependencies ready in $(( $(date +%s) - deps_start )) s ($(nvcc --version | grep -o 'release [0-9.]*'))"
  kokkos_prefix=${prefix%%;*}
  build_start=$(date +%s)
  perfex_build build-cuda -DCMAKE_CXX_COMPILER="$kokkos_prefix/bin/nvcc_wrapper" -DPERFEX_TEST_SPACES=default
  echo "lane cuda: perfex built in $(( $(date +%s) - build_start )) s"
  (cd build-cuda && ctest --output-on-failure -j "$(nproc)")
  # The GPU check's programs and CPU reference (scripts/gpu-check.sh prepare: build-cuda/ and build/),
  # within 60 MiB.
  prepare_start=$(date +%s)
  scripts/gpu-check.sh prepare
  size=$(du -sm .gpu-check | cut -f1)
  [ "$size" -le 60 ] || { echo "lane cuda: .gpu-check/ is $size MiB, over 60 MiB" >&2; exit 1; }
  echo "lane cuda: .gpu-check/ prepared in $(( $(date +%s) - prepare_start )) s ($size MiB)"
)
