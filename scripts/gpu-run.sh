#!/usr/bin/env bash
# The GPU recipe, run from the checkout's root on a GPU machine that has nvcc, a C++ compiler and CMake
# (nothing else, no network), with .gpu-carry/ from scripts/gpu-prepare.sh beside the sources:
#   1. builds Kokkos 3.4.1 (patched; Cuda + Serial, PERFEX_CUDA_ARCH: HOPPER90 default, or AMPERE80) and
#      Kokkos-Kernels (headers, no ETI), Catch2 3.7.1 and Google Benchmark 1.7.1 into build-gpu/deps;
#   2. builds perfex's core, its tests and perf/bench_extract for CUDA (PERFEX_ENABLE_IO=OFF: no CFITSIO,
#      HDF5 or MPI) with Kokkos' nvcc_wrapper into build-gpu/perfex;
#   3. runs ctest (core tests, the benchmark's smoke run, the install consumer);
#   4. runs perf/bench_extract on a simulated DESI r frame made in memory (500 fibers x 2326 bins):
#      spot cache, one bundle by solver phase, the full frame.
# Results go to $OUT (default build-gpu/out): environment.txt (nvidia-smi, versions), build logs, ctest.log
# and ctest.xml (JUnit), bench_extract.json and bench_extract.txt, summary.txt.
#
# Usage: scripts/gpu-run.sh [all|build|test|bench]...   (default: all). Each step is resumable: builds are
# stamped in build-gpu/, so a warm machine can run `build` then `test bench` in separate commands.
# Environment: OUT, PERFEX_CUDA_ARCH, PERFEX_GPU_CARRY (.gpu-carry), PERFEX_GPU_BUILD (build-gpu),
#   PERFEX_GPU_JOBS (nproc), PERFEX_BENCH_ARGS (extra bench_extract arguments, e.g.
#   --benchmark_filter=BM_Frame), PERFEX_BENCH_TIMEOUT (seconds, default 420).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
carry=${PERFEX_GPU_CARRY:-"$root/.gpu-carry"}
work=${PERFEX_GPU_BUILD:-"$root/build-gpu"}
out=${OUT:-"$work/out"}
arch=${PERFEX_CUDA_ARCH:-HOPPER90}
jobs=${PERFEX_GPU_JOBS:-$(nproc 2>/dev/null || echo 4)}
deps="$work/deps"
log() { printf '[gpu-run %s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$out/summary.txt" >&2; }
mkdir -p "$out" "$deps"

case "$arch" in HOPPER90|AMPERE80) ;; *) echo "PERFEX_CUDA_ARCH must be HOPPER90 or AMPERE80, not '$arch'" >&2; exit 2 ;; esac
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
command -v nvcc >/dev/null 2>&1 || { echo "nvcc not found (PATH, /usr/local/cuda/bin)" >&2; exit 1; }
command -v cmake >/dev/null 2>&1 || { echo "cmake not found" >&2; exit 1; }
for t in kokkos-3.4.1-patched catch2-3.7.1 benchmark-1.7.1; do
  [ -f "$carry/$t.tar.gz" ] || { echo "$carry/$t.tar.gz missing: run scripts/gpu-prepare.sh and carry .gpu-carry/" >&2; exit 1; }
done
generator=("-G" "Unix Makefiles")
if command -v ninja >/dev/null 2>&1; then generator=("-G" "Ninja"); fi

# Runs a logged build step: the log goes to $out/<name>.log, its tail to stderr on failure.
# (set -e inside a subshell that is not part of a condition, so the step stops at its first failure.)
step() {
  local name=$1; shift
  local t0 rc; t0=$(date +%s)
  set +e
  (set -e; "$@") >"$out/$name.log" 2>&1
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then
    tail -40 "$out/$name.log" >&2
    log "$name FAILED after $(( $(date +%s) - t0 )) s (log: $name.log)"
    exit 1
  fi
  log "$name: $(( $(date +%s) - t0 )) s"
}

unpack() {  # unpack <name>: the carried tarball into $work/src/<name>, once
  [ -d "$work/src/$1" ] || { mkdir -p "$work/src"; tar -xzf "$carry/$1.tar.gz" -C "$work/src"; }
}

build_kokkos() {
  local prefix="$deps/kokkos-$arch"
  [ -f "$prefix/.perfex-stamp" ] && return 0
  unpack kokkos-3.4.1-patched
  local src="$work/src/kokkos-3.4.1-patched/packages"
  chmod +x "$src/kokkos/bin/nvcc_wrapper"
  rm -rf "$prefix" "$work/b-kokkos" "$work/b-kk"
  cmake -S "$src/kokkos" -B "$work/b-kokkos" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="$src/kokkos/bin/nvcc_wrapper" -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_CXX_STANDARD=17 -DKokkos_CXX_STANDARD=17 -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DKokkos_ENABLE_SERIAL=ON -DKokkos_ENABLE_CUDA=ON -DKokkos_ENABLE_CUDA_LAMBDA=ON "-DKokkos_ARCH_$arch=ON"
  cmake --build "$work/b-kokkos" -j "$jobs"
  cmake --install "$work/b-kokkos"
  cmake -S "$src/kokkos-kernels" -B "$work/b-kk" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="$prefix/bin/nvcc_wrapper" -DCMAKE_INSTALL_PREFIX="$prefix" -DKokkos_ROOT="$prefix" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DKokkosKernels_INST_DOUBLE=OFF -DKokkosKernels_INST_FLOAT=OFF \
    -DKokkosKernels_INST_COMPLEX_DOUBLE=OFF -DKokkosKernels_INST_COMPLEX_FLOAT=OFF \
    -DKokkosKernels_INST_OFFSET_INT=OFF -DKokkosKernels_INST_OFFSET_SIZE_T=OFF \
    -DKokkosKernels_INST_ORDINAL_INT=OFF -DKokkosKernels_INST_ORDINAL_INT64_T=OFF \
    -DKokkosKernels_INST_LAYOUTLEFT=OFF -DKokkosKernels_INST_LAYOUTRIGHT=OFF \
    -DKokkosKernels_ENABLE_TPL_CUBLAS=OFF -DKokkosKernels_ENABLE_TPL_CUSPARSE=OFF \
    -DKokkosKernels_ENABLE_TESTS=OFF -DKokkosKernels_ENABLE_EXAMPLES=OFF
  cmake --build "$work/b-kk" -j "$jobs"
  cmake --install "$work/b-kk"
  rm -rf "$work/b-kokkos" "$work/b-kk"
  touch "$prefix/.perfex-stamp"
}

build_host_dep() {  # build_host_dep <name> <cmake args...>: a host-only dependency with the host compiler
  local name=$1; shift
  local prefix="$deps/$name"
  [ -f "$prefix/.perfex-stamp" ] && return 0
  unpack "$name"
  rm -rf "$prefix" "$work/b-$name"
  cmake -S "$work/src/$name" -B "$work/b-$name" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_POSITION_INDEPENDENT_CODE=ON "$@"
  cmake --build "$work/b-$name" -j "$jobs"
  cmake --install "$work/b-$name"
  rm -rf "$work/b-$name"
  touch "$prefix/.perfex-stamp"
}

build_perfex() {
  local kokkos="$deps/kokkos-$arch"
  cmake -S "$root" -B "$work/perfex" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="$kokkos/bin/nvcc_wrapper" \
    -DCMAKE_PREFIX_PATH="$kokkos;$deps/catch2-3.7.1;$deps/benchmark-1.7.1" \
    -DPERFEX_ENABLE_IO=OFF -DPERFEX_ENABLE_MPI=OFF -DPERFEX_ENABLE_HDF5=OFF \
    -DPERFEX_ENABLE_TESTS=ON -DPERFEX_ENABLE_BENCHMARKS=ON
  cmake --build "$work/perfex" -j "$jobs"
}

environment() {
  {
    echo "== date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "== perfex: $(git -C "$root" rev-parse HEAD 2>/dev/null || echo 'not a git checkout')"
    git -C "$root" status --short 2>/dev/null | head -20 || true
    echo "== nvidia-smi"; nvidia-smi 2>&1 || echo "(nvidia-smi unavailable)"
    echo "== nvcc"; nvcc --version
    echo "== host compiler"; "${CXX:-g++}" --version 2>&1 | head -1 || true
    echo "== cmake"; cmake --version | head -1
    echo "== CPU"; (lscpu 2>/dev/null | grep -E 'Model name|^CPU\(s\)') || nproc
    echo "== carry"; cat "$carry/MANIFEST" 2>/dev/null || true
    echo "== Kokkos architecture: $arch"
  } >"$out/environment.txt" 2>&1
}

run_tests() {
  local t0; t0=$(date +%s)
  local rc=0
  (cd "$work/perfex" && ctest --output-on-failure --timeout 900 --output-junit "$out/ctest.xml") \
    >"$out/ctest.log" 2>&1 || rc=$?
  grep -E "tests passed|tests failed|Skipped|\*\*\*Failed|Not Run" "$out/ctest.log" | tail -15 >&2 || true
  log "ctest: exit $rc in $(( $(date +%s) - t0 )) s (log: ctest.log)"
  return $rc
}

run_bench() {
  local t0; t0=$(date +%s)
  local rc=0
  # shellcheck disable=SC2086  # PERFEX_BENCH_ARGS is a list of arguments
  timeout "${PERFEX_BENCH_TIMEOUT:-420}" "$work/perfex/perf/bench_extract" \
    --benchmark_out="$out/bench_extract.json" --benchmark_out_format=json ${PERFEX_BENCH_ARGS:-} \
    >"$out/bench_extract.txt" 2>&1 || rc=$?
  cat "$out/bench_extract.txt" >&2
  log "bench_extract: exit $rc in $(( $(date +%s) - t0 )) s (bench_extract.json, bench_extract.txt)"
  return $rc
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(all)
environment
status=0
for s in "${steps[@]}"; do
  case "$s" in
    all|build)
      log "building on $jobs jobs for $arch (${generator[1]})"
      step deps-kokkos build_kokkos
      step deps-catch2 build_host_dep catch2-3.7.1 -DBUILD_TESTING=OFF -DCATCH_INSTALL_DOCS=OFF \
        -DCATCH_INSTALL_EXTRAS=ON
      step deps-benchmark build_host_dep benchmark-1.7.1 -DBENCHMARK_ENABLE_TESTING=OFF \
        -DBENCHMARK_ENABLE_GTEST_TESTS=OFF -DBENCHMARK_ENABLE_WERROR=OFF -DBENCHMARK_ENABLE_INSTALL=ON
      step perfex build_perfex
      ;;&
    all|test) run_tests || status=1 ;;&
    all|bench) run_bench || status=1 ;;&
    all|build|test|bench) ;;
    *) echo "unknown step '$s' (all, build, test, bench)" >&2; exit 2 ;;
  esac
done
log "done (status $status); results in $out"
exit $status
