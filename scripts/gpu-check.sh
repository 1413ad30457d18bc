#!/usr/bin/env bash
# The turnkey GPU check, in two commands:
#
#   scripts/gpu-check.sh prepare     on a build machine with nvcc and no GPU (CI's CUDA lane runs it)
#   scripts/gpu-check.sh run OUT     on the GPU machine, from the checkout's root, with .gpu-check/ carried
#
# prepare builds for HOPPER90 (sm_90), in the CUDA lane's build-cuda/ (configured as the lane does when it
# is not there yet), the frame benchmark (perf/bench_frame: a DESI r frame, 500 fibers x 2326 bins, as
# `perfex extract` runs it), the parity tool (perf/frame_parity.cpp) and the core tests, writes the CPU
# reference of the parity tool with the CPU build build/ (fibers 250..299 on 1000 bins of a simulated frame:
# the float32 input cutout and every output), and puts into .gpu-check/ (git-ignored):
#   bin/        the three programs, stripped, each holding sm_90 code (checked with cuobjdump --list-elf; a
#               toolkit without cuobjdump gets NVIDIA's wheel of it, cached); perfex, Kokkos, Catch2 and the
#               CUDA runtime are linked in statically (PERFEX_CUDA_STATIC_RUNTIME)
#   lib/        the shared libraries they still need apart from glibc and the NVIDIA driver (libstdc++,
#               libgcc_s, and Debian's libfmt and libbenchmark, which exist only as shared libraries)
#   parity-reference.bin, MANIFEST (versions, sizes, checksums, the CUDA version and glibc they need)
# and fails when .gpu-check/ exceeds 60 MiB (du -sm).
#
# run needs only the NVIDIA driver (nvidia-smi, libcuda), glibc and a shell with coreutils, sed and awk. It
# checks that the driver supports the CUDA version the programs were built with and that glibc is recent
# enough, samples GPU utilisation and memory in the background (nvidia-smi, every 0.5 s), then runs, each
# under its own timeout: the frame benchmark (2 repetitions of the frame without and with the model
# image), the parity tool (GPU vs the CPU reference, within 1e-8 relative), the core tests. Into OUT:
#   summary.txt (one page, also printed), summary.json, bench_frame.json (Google Benchmark), parity.json,
#   core-tests.xml (JUnit), a log per step, gpu-samples.csv (epoch seconds, utilisation %, memory MiB),
#   environment.txt (nvidia-smi, MANIFEST).
# Exit codes: 0 every step passed, 1 a step failed or timed out (or .gpu-check/ is missing or unusable), 2
# usage. Takes about 3 minutes on an H100 (each step's limit: PERFEX_GPU_CHECK_BENCH_TIMEOUT 150 s,
# PERFEX_GPU_CHECK_PARITY_TIMEOUT 60 s, PERFEX_GPU_CHECK_TESTS_TIMEOUT 120 s; under 6 minutes in all).
#
# Environment: PERFEX_GPU_CHECK_DIR (.gpu-check), PERFEX_CUDA_ARCH (HOPPER90; prepare),
#   PERFEX_GPU_CHECK_CUDA_BUILD (build-cuda), PERFEX_GPU_CHECK_CPU_BUILD (build), the timeouts above,
#   PERFEX_GPU_CHECK_BENCH_REPETITIONS (2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check_dir=${PERFEX_GPU_CHECK_DIR:-"$root/.gpu-check"}
max_mib=60
programs=(bench_frame perfex_frame_parity perfex_core_tests)
declare -A program_path=([bench_frame]=perf/bench_frame [perfex_frame_parity]=perf/perfex_frame_parity
  [perfex_core_tests]=tests/perfex_core_tests)
log() { printf '[gpu-check] %s\n' "$*" >&2; }
usage() {
  echo "gpu-check: $*" >&2
  echo "usage: scripts/gpu-check.sh prepare | scripts/gpu-check.sh run OUT   (see the header of scripts/gpu-check.sh)" >&2
  exit 2
}

# ---- prepare ---------------------------------------------------------------------------------------------

find_nvcc() {
  if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
  command -v nvcc >/dev/null 2>&1 || { log "prepare: nvcc not found (PATH, /usr/local/cuda/bin)"; exit 1; }
}

# cuobjdump (lists the machine code in the programs): from the toolkit (PATH, nvcc's directory), else, for
# a toolkit installed from PyPI wheels without it (CUDA 13: NVIDIA publishes cuobjdump from 13.2 on, which
# reads older programs), the wheel nvidia-cuda-cuobjdump installed once into the dependency cache.
cuobjdump_wheel=${PERFEX_CUOBJDUMP_WHEEL:-nvidia-cuda-cuobjdump==13.2.86}
find_cuobjdump() {
  local nvcc_dir; nvcc_dir=$(dirname "$(command -v nvcc)")
  if command -v cuobjdump >/dev/null 2>&1; then command -v cuobjdump; return; fi
  if [ -x "$nvcc_dir/cuobjdump" ]; then echo "$nvcc_dir/cuobjdump"; return; fi
  local deps_dir=${PERFEX_DEPS_DIR:-"$HOME/.cache/perfex-deps"}
  local dir="$deps_dir/${cuobjdump_wheel//=/-}"
  if [ ! -f "$dir/.perfex-stamp" ]; then
    log "prepare: no cuobjdump with the toolkit: installing the wheel $cuobjdump_wheel into $dir"
    rm -rf "$dir"
    python3 -m pip install -q --no-deps --only-binary=:all: --target "$dir" "$cuobjdump_wheel" >&2 ||
      { log "prepare: cuobjdump not found and $cuobjdump_wheel could not be installed (pip)"; exit 1; }
    touch "$dir/.perfex-stamp"
  fi
  local found; found=$(find "$dir" -name cuobjdump -type f | head -1)
  [ -n "$found" ] || { log "prepare: $cuobjdump_wheel holds no cuobjdump"; exit 1; }
  chmod +x "$found"
  echo "$found"
}

# Builds TARGETS in the CUDA build directory, configuring it as scripts/lanes/cuda.sh does when needed.
build_cuda() {
  local build=$1; shift
  if [ ! -f "$build/CMakeCache.txt" ]; then
    log "prepare: configuring $build as the CUDA lane does"
    local prefix
    prefix=$(PERFEX_KOKKOS_BACKEND=cuda "$root/scripts/setup-deps.sh" --print-prefix)
    (source "$root/scripts/common.sh"; PERFEX_KOKKOS_BACKEND=cuda PERFEX_BUILD_TARGET="$*" \
      perfex_build "$build" -DCMAKE_CXX_COMPILER="${prefix%%;*}/bin/nvcc_wrapper" -DPERFEX_TEST_SPACES=default) >&2
  else
    cmake --build "$build" -j "$(nproc)" --target "$@" >&2
  fi
}

# Builds TARGETS in the CPU build directory (configured with the defaults when it is not there yet).
build_cpu() {
  local build=$1; shift
  if [ ! -f "$build/CMakeCache.txt" ]; then
    log "prepare: configuring $build (CPU, default options)"
    (source "$root/scripts/common.sh"; PERFEX_BUILD_TARGET="$*" perfex_build "$build") >&2
  else
    cmake --build "$build" -j "$(nproc)" --target "$@" >&2
  fi
}

# The shared libraries a program needs that a GPU machine with only the driver and glibc lacks.
bundled_libraries() {
  ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' |
    grep -Ev '/(libc|libm|libdl|libpthread|librt|libresolv|ld-linux[^/]*|libcuda|libnvidia[^/]*)\.so' || true
}

prepare() {
  [ $# -eq 0 ] || usage "prepare takes no argument"
  find_nvcc
  local cuda_version arch
  cuda_version=$(nvcc --version | sed -n 's/.*release \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
  arch=${PERFEX_CUDA_ARCH:-HOPPER90}
  [ "$arch" = HOPPER90 ] || { log "prepare: the GPU check is built for HOPPER90 (sm_90), not '$arch'"; exit 2; }
  local cuda_build=${PERFEX_GPU_CHECK_CUDA_BUILD:-"$root/build-cuda"} cpu_build=${PERFEX_GPU_CHECK_CPU_BUILD:-"$root/build"}
  local t0; t0=$(date +%s)
  local cuobjdump; cuobjdump=$(find_cuobjdump)
  log "prepare: CUDA $cuda_version, $arch; programs from $cuda_build, the CPU reference from $cpu_build; $cuobjdump"
  build_cuda "$cuda_build" "${programs[@]}"
  build_cpu "$cpu_build" perfex_frame_parity

  local tmp="$check_dir.tmp"
  rm -rf "$tmp"; mkdir -p "$tmp/bin" "$tmp/lib"
  log "prepare: the CPU reference (simulated r frame, fibers 250..299, 1000 bins)"
  OMP_PROC_BIND=${OMP_PROC_BIND:-spread} OMP_PLACES=${OMP_PLACES:-threads} \
    "$cpu_build/perf/perfex_frame_parity" reference "$tmp/parity-reference.bin" >"$tmp/reference.log" 2>&1 ||
    { cat "$tmp/reference.log" >&2; log "prepare: the CPU reference failed"; exit 1; }
  local p f elf
  for p in "${programs[@]}"; do
    f="$cuda_build/${program_path[$p]}"
    [ -x "$f" ] || { log "prepare: $f was not built"; exit 1; }
    cp "$f" "$tmp/bin/$p"
    strip --strip-unneeded "$tmp/bin/$p"
    elf=$("$cuobjdump" --list-elf "$tmp/bin/$p" 2>/dev/null || true)
    grep -q '\.sm_90\.cubin' <<<"$elf" ||
      { log "prepare: $f holds no sm_90 code (cuobjdump --list-elf): is $cuda_build a HOPPER90 CUDA build?"; exit 1; }
    if ldd "$tmp/bin/$p" | grep 'not found' | grep -v 'libcuda\.so'; then
      log "prepare: $p needs libraries this machine lacks (ldd above)"; exit 1
    fi
    for f in $(bundled_libraries "$tmp/bin/$p"); do
      [ -f "$tmp/lib/$(basename "$f")" ] || cp -L "$f" "$tmp/lib/"
    done
  done
  chmod 755 "$tmp"/bin/*
  local glibc
  glibc=$(for f in "$tmp"/bin/* "$tmp"/lib/*; do objdump -T "$f"; done 2>/dev/null |
    grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
  {
    echo "perfex GPU check, prepared $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
    echo "cuda: $cuda_version"
    echo "arch: $arch (sm_90)"
    echo "glibc: $glibc"
    echo "reference: $(head -1 "$tmp/reference.log" | sed "s|$tmp/||")"
    echo "programs:"
    for f in "$tmp"/bin/*; do
      echo "  $(basename "$f") $(du -k "$f" | cut -f1) KiB $(sha256sum "$f" | cut -c1-16) elf: $("$cuobjdump" --list-elf "$f" 2>/dev/null | grep -o 'sm_[0-9]*' | sort -u | tr '\n' ' ')"
    done
    echo "libraries:"
    for f in "$tmp"/lib/*; do [ -e "$f" ] && echo "  $(basename "$f") $(du -k "$f" | cut -f1) KiB"; done
  } >"$tmp/MANIFEST"
  rm -f "$tmp/reference.log"
  local size; size=$(du -sm "$tmp" | cut -f1)
  echo "size: $size MiB" >>"$tmp/MANIFEST"
  rm -rf "$check_dir"; mv "$tmp" "$check_dir"
  cat "$check_dir/MANIFEST"
  if [ "$size" -gt $max_mib ]; then
    log "prepare: $check_dir is $size MiB, over the $max_mib MiB limit"
    exit 1
  fi
  log "prepare: $check_dir ready ($size MiB, $(( $(date +%s) - t0 )) s); on the GPU machine: scripts/gpu-check.sh run OUT"
}

# ---- run -------------------------------------------------------------------------------------------------

manifest() { sed -n "s/^$1: //p" "$check_dir/MANIFEST" | head -1; }

# version_ge A B: A >= B for dotted versions.
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$2" ]; }

# The oldest Linux driver of each CUDA major version (NVIDIA's compatibility table): with minor version
# compatibility, a driver of the same major runs newer minor versions' programs that carry machine code.
min_driver_for_cuda_major() {
  case "$1" in 11) echo 450.80.02 ;; 12) echo 525.60.13 ;; 13) echo 580.65.06 ;; *) echo "" ;; esac
}

# Checks the driver against the programs' CUDA version; prints one line; returns 1 when they cannot run.
check_driver() {
  local built=$1
  if ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "nvidia-smi not found: this machine has no NVIDIA driver (or it is not on PATH)"
    return 1
  fi
  local smi driver supported
  smi=$(nvidia-smi 2>&1) || { echo "nvidia-smi failed: $(echo "$smi" | head -1)"; return 1; }
  driver=$(echo "$smi" | sed -n 's/.*Driver Version: *\([0-9][0-9.]*\).*/\1/p' | head -1)
  supported=$(echo "$smi" | sed -n 's/.*CUDA Version: *\([0-9][0-9.]*\).*/\1/p' | head -1)
  if [ -z "$driver" ] || [ -z "$supported" ]; then
    echo "nvidia-smi does not show the driver and CUDA versions (no 'Driver Version:' / 'CUDA Version:' in its header)"
    return 1
  fi
  local need; need=$(min_driver_for_cuda_major "${built%%.*}")
  if version_ge "$supported" "$built"; then
    echo "driver $driver supports CUDA $supported >= $built, the programs' CUDA"
  elif [ "${supported%%.*}" = "${built%%.*}" ]; then
    echo "driver $driver supports CUDA $supported, older than the programs' $built but of the same major version:" \
      "minor version compatibility (the programs carry sm_90 machine code, no JIT)"
  else
    echo "driver $driver supports CUDA $supported only; the programs were built with CUDA $built: install a driver" \
      ">= ${need:-one for CUDA ${built%%.*}} or prepare with a CUDA ${supported%%.*} toolkit"
    return 1
  fi
}

check_glibc() {
  local need=$1 have
  have=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
  if [ -z "$have" ]; then
    have=$(ldd --version 2>/dev/null | head -1 | grep -o '[0-9][0-9]*\.[0-9][0-9]*$' || true)
  fi
  if [ -z "$have" ]; then
    echo "glibc version unknown (no getconf GNU_LIBC_VERSION, no ldd): the programs need glibc >= $need"
  elif version_ge "$have" "$need"; then
    echo "glibc $have >= $need"
  else
    echo "glibc $have is older than the $need the programs need (built on Debian 12)"
    return 1
  fi
}

sampler_pid=""
start_sampler() {
  local out=$1
  ( while :; do
      s=$(nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits 2>/dev/null | head -1 | tr -d ' ')
      [ -n "$s" ] && echo "$(date +%s.%N | cut -c1-14),$s"
      sleep 0.5
    done ) >"$out/gpu-samples.csv" 2>/dev/null &
  sampler_pid=$!
}
stop_sampler() {
  if [ -n "$sampler_pid" ]; then
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=""
  fi
}

# GPU utilisation (mean, max %) and memory (max MiB) over [t0, t1] from the samples: "mean max mem".
gpu_during() {
  [ -s "$1/gpu-samples.csv" ] || { echo "- - -"; return; }
  awk -F, -v t0="$2" -v t1="$3" '$1 >= t0 && $1 <= t1 { n++; s += $2; if ($2 > m) m = $2; if ($3 > mem) mem = $3 }
    END { if (n) printf "%.0f %.0f %.0f\n", s / n, m, mem; else print "- - -" }' "$1/gpu-samples.csv"
}

step_names=()
declare -A step_rc step_s step_t0 step_t1
# run_step NAME TIMEOUT LOG COMMAND...: runs COMMAND under timeout with its output in OUT/LOG.
run_step() {
  local name=$1 limit=$2 logfile=$3; shift 3
  local t0 t1 rc=0
  t0=$(date +%s.%N | cut -c1-14)
  log "$name: $* (limit ${limit} s)"
  timeout -k 10 "$limit" "$@" >"$out/$logfile" 2>&1 || rc=$?
  t1=$(date +%s.%N | cut -c1-14)
  # A program that finds no usable device skips its work (the benchmark even exits 0): a failure here.
  if grep -q 'no CUDA device' "$out/$logfile"; then
    log "$name: $(grep -m1 'no CUDA device' "$out/$logfile")"
    rc=3
  fi
  step_names+=("$name")
  step_rc[$name]=$rc
  step_t0[$name]=$t0
  step_t1[$name]=$t1
  step_s[$name]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    log "$name: TIMED OUT after ${limit} s (log: $logfile)"
  elif [ $rc -ne 0 ]; then
    log "$name: FAILED (exit $rc; log: $logfile)"
    tail -5 "$out/$logfile" >&2
  else
    log "$name: ok in ${step_s[$name]} s"
  fi
}

step_result() {
  local rc=${step_rc[$1]:-}
  if [ -z "$rc" ]; then echo "not run"; elif [ "$rc" -eq 0 ]; then echo ok; elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "TIMEOUT"; elif [ "$rc" -eq 3 ]; then echo "NO DEVICE"; else echo "FAILED ($rc)"; fi
}

# Per benchmark (repetitions, not aggregates) of bench_frame.json: "name real_time_s d2h_copies".
bench_rows() {
  awk '/"name":/ { gsub(/[",]/, "", $2); name = $2 } /"run_type":/ { it = ($2 ~ /iteration/) }
    /"real_time":/ { gsub(/,/, "", $2); t = $2 } /"d2h_copies":/ { gsub(/,/, "", $2); if (it) printf "%s %.2f %d\n", name, t, $2 }' \
    "$1" 2>/dev/null || true
}

json_value() { sed -n "s/.*\"$2\": *\\([^,}]*\\).*/\\1/p" "$1" 2>/dev/null | head -1; }

run() {
  [ $# -eq 1 ] || usage "run takes one argument, the output directory OUT"
  out=$1
  [ -e "$out" ] && [ ! -d "$out" ] && usage "OUT ($out) exists and is not a directory"
  if [ ! -f "$check_dir/MANIFEST" ]; then
    log "run: $check_dir/MANIFEST missing: run scripts/gpu-check.sh prepare on a build machine and carry $check_dir here"
    exit 1
  fi
  local p
  for p in "${programs[@]}"; do
    [ -x "$check_dir/bin/$p" ] || { log "run: $check_dir/bin/$p missing or not executable: prepare again"; exit 1; }
  done
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  local start; start=$(date +%s)
  local built glibc_need
  built=$(manifest cuda); glibc_need=$(manifest glibc)
  export LD_LIBRARY_PATH="$check_dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  {
    echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n) ($(uname -r))"
    echo "== nvidia-smi"; nvidia-smi 2>&1 || echo "(nvidia-smi unavailable)"
    echo "== MANIFEST"; cat "$check_dir/MANIFEST"
    echo "== CPU"; (grep -m1 'model name' /proc/cpuinfo 2>/dev/null || true); nproc
  } >"$out/environment.txt" 2>&1

  local driver_line glibc_line ok=1
  driver_line=$(check_driver "$built") || ok=0
  log "driver: $driver_line"
  glibc_line=$(check_glibc "$glibc_need") || ok=0
  log "glibc: $glibc_line"
  local gpu="unknown GPU"
  if command -v nvidia-smi >/dev/null 2>&1; then
    gpu=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | head -1 || echo "unknown GPU")
  fi

  if [ $ok = 1 ]; then
    trap stop_sampler EXIT
    start_sampler "$out"
    run_step bench "${PERFEX_GPU_CHECK_BENCH_TIMEOUT:-150}" bench_frame.log "$check_dir/bin/bench_frame" \
      --benchmark_out="$out/bench_frame.json" --benchmark_out_format=json \
      --benchmark_repetitions="${PERFEX_GPU_CHECK_BENCH_REPETITIONS:-2}"
    run_step parity "${PERFEX_GPU_CHECK_PARITY_TIMEOUT:-60}" parity.log "$check_dir/bin/perfex_frame_parity" \
      check "$check_dir/parity-reference.bin" --json "$out/parity.json"
    run_step tests "${PERFEX_GPU_CHECK_TESTS_TIMEOUT:-120}" core-tests.log "$check_dir/bin/perfex_core_tests" \
      --reporter console::out=- --reporter "JUnit::out=$out/core-tests.xml"
    stop_sampler
    trap - EXIT
  fi
  summarise "$ok" "$driver_line" "$glibc_line" "$gpu" "$start"
}

summarise() {
  local preflight=$1 driver_line=$2 glibc_line=$3 gpu=$4 start=$5
  local pass=$preflight name
  for name in "${step_names[@]}"; do [ "${step_rc[$name]}" -eq 0 ] || pass=0; done
  [ ${#step_names[@]} -eq 3 ] || pass=0
  local verdict; if [ $pass = 1 ]; then verdict=PASS; else verdict=FAIL; fi
  local total=$(( $(date +%s) - start ))
  local tests_line parity_line
  tests_line=$(grep -E '^(All tests passed|test cases:)' "$out/core-tests.log" 2>/dev/null | tail -1 || true)
  parity_line=$(grep -E '^frame parity: (AGREE|DIFFER)' "$out/parity.log" 2>/dev/null | tail -1 || true)
  {
    echo "perfex GPU check: $verdict ($(date -u +%Y-%m-%dT%H:%MZ), ${total} s)"
    echo "GPU: $gpu; $driver_line; $glibc_line"
    echo "programs: $(manifest commit), CUDA $(manifest cuda), $(manifest arch), prepared $(head -1 "$check_dir/MANIFEST" | sed 's/.*prepared //')"
    echo
    printf '%-8s %-10s %8s %14s %14s\n' step result seconds "GPU util mean/max %" "GPU mem max MiB"
    for name in bench parity tests; do
      local g="- - -"
      [ -n "${step_t0[$name]:-}" ] && g=$(gpu_during "$out" "${step_t0[$name]}" "${step_t1[$name]}")
      set -- $g
      printf '%-8s %-10s %8s %14s %14s\n' "$name" "$(step_result $name)" "${step_s[$name]:--}" "$1/$2" "$3"
    done
    set -- $(gpu_during "$out" 0 9999999999)
    printf '%-8s %-10s %8s %14s %14s\n' "all" "" "$total" "$1/$2" "$3"
    echo
    echo "frame benchmark (bench_frame.json; DESI r, 500 fibers x 2326 bins, perfex extract's chunking):"
    local rows; rows=$(bench_rows "$out/bench_frame.json")
    if [ -n "$rows" ]; then
      echo "$rows" | awk '{ printf "  %-44s %8.2f s   device->host copies %d\n", $1, $2, $3 }'
    else
      echo "  no result (see bench_frame.log)"
    fi
    echo "parity with the CPU reference (parity.json; tolerance 1e-8 relative):"
    local table=""
    [ -f "$out/parity.log" ] && table=$(sed -n '/^  array/,/^frame parity:/p' "$out/parity.log")
    if [ -n "$table" ]; then
      echo "$table" | sed 's/^/  /'
    else
      echo "  no result (see parity.log)"
    fi
    echo "core tests (core-tests.xml): ${tests_line:-no result (see core-tests.log)}"
    echo
    echo "files: $(cd "$out" && ls | tr '\n' ' ')"
  } >"$out/summary.txt"
  {
    echo "{"
    echo "  \"verdict\": \"$verdict\","
    echo "  \"seconds\": $total,"
    echo "  \"gpu\": \"$gpu\","
    echo "  \"driver\": \"$driver_line\","
    echo "  \"glibc\": \"$glibc_line\","
    echo "  \"cuda_built\": \"$(manifest cuda)\","
    echo "  \"commit\": \"$(manifest commit)\","
    echo "  \"steps\": {"
    local sep=""
    for name in bench parity tests; do
      local g="- - -"
      [ -n "${step_t0[$name]:-}" ] && g=$(gpu_during "$out" "${step_t0[$name]}" "${step_t1[$name]}")
      set -- $g
      printf '%s    "%s": {"result": "%s", "exit": %s, "seconds": %s, "gpu_util_mean": %s, "gpu_util_max": %s, "gpu_memory_max_mib": %s}' \
        "$sep" "$name" "$(step_result $name)" "${step_rc[$name]:-null}" "${step_s[$name]:-null}" \
        "$(echo "$1" | sed 's/^-$/null/')" "$(echo "$2" | sed 's/^-$/null/')" "$(echo "$3" | sed 's/^-$/null/')"
      sep=$',\n'
    done
    echo
    echo "  },"
    echo "  \"frames\": ["
    sep=""
    bench_rows "$out/bench_frame.json" | while read -r n t c; do
      printf '%s    {"benchmark": "%s", "seconds": %s, "device_to_host_copies": %s}' "$sep" "$n" "$t" "$c"
      sep=$',\n'
    done
    echo
    echo "  ],"
    echo "  \"parity_agree\": $(json_value "$out/parity.json" agree | grep -E '^(true|false)$' || echo null),"
    echo "  \"core_tests\": \"$tests_line\""
    echo "}"
  } >"$out/summary.json"
  cat "$out/summary.txt"
  [ $pass = 1 ]
}

[ $# -ge 1 ] || usage "a command is needed"
command=$1; shift
case "$command" in
  prepare) prepare "$@" ;;
  run) run "$@" ;;
  -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) usage "unknown command '$command'" ;;
esac
