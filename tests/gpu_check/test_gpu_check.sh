#!/usr/bin/env bash
# Tests scripts/gpu-check.sh's `run` without a GPU: a fake .gpu-check/ (programs that print what the real
# ones print) and a fake nvidia-smi on PATH. Checks the usage errors, the driver and glibc checks, the
# background sampling, the per-step timeouts, the summary and the exit codes.
# Usage: test_gpu_check.sh PATH/TO/gpu-check.sh
set -uo pipefail
script=$1
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
failures=0
fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }

# ---- fakes -----------------------------------------------------------------------------------------------
mkdir -p "$work/smi" "$work/gc/bin" "$work/gc/lib"
cat >"$work/smi/nvidia-smi" <<'EOF'
#!/bin/sh
case "$*" in
  *utilization.gpu,memory.used*) echo "37, 2048" ;;
  *name,memory.total*) echo "NVIDIA H100 80GB HBM3, 81559 MiB" ;;
  *) echo "| NVIDIA-SMI ${FAKE_DRIVER:-580.159.04}   Driver Version: ${FAKE_DRIVER:-580.159.04}   CUDA Version: ${FAKE_CUDA:-13.0}     |" ;;
esac
EOF
cat >"$work/gc/bin/bench_frame" <<'EOF'
#!/bin/sh
sleep "${FAKE_BENCH_SLEEP:-0}"
if [ -n "${FAKE_NO_DEVICE:-}" ]; then echo "no CUDA device: CUDA driver version is insufficient: skipping the benchmarks"; exit 0; fi
for a in "$@"; do case "$a" in --benchmark_out=*) json=${a#--benchmark_out=} ;; esac; done
cat >"$json" <<'JSON'
{
  "benchmarks": [
    {
      "name": "BM_FrameCli/model:0/iterations:1/real_time",
      "run_type": "iteration",
      "real_time": 1.2500000000000000e+01,
      "time_unit": "s",
      "d2h_copies": 5.0000000000000000e+00
    },
    {
      "name": "BM_FrameCli/model:0/iterations:1/real_time_mean",
      "run_type": "aggregate",
      "real_time": 1.2500000000000000e+01,
      "d2h_copies": 5.0000000000000000e+00
    },
    {
      "name": "BM_FrameCli/model:1/iterations:1/real_time",
      "run_type": "iteration",
      "real_time": 1.3250000000000000e+01,
      "time_unit": "s",
      "d2h_copies": 6.0000000000000000e+00
    }
  ]
}
JSON
echo "BM_FrameCli/model:0/iterations:1/real_time 12.5 s"
EOF
cat >"$work/gc/bin/perfex_frame_parity" <<'EOF'
#!/bin/sh
[ "$1" = check ] || exit 2
[ -f "$2" ] || { echo "perfex_frame_parity: $2: cannot be read" >&2; exit 1; }
echo "frame parity: Cuda vs the reference of OpenMP ($2): fibers 250..299, 1000 bins, tolerance 1.0e-08 relative"
echo "  array                  max rel      max abs  where (max rel)"
echo "  flux                 3.000e-12    1.000e-10  fiber 251, bin 3"
if [ "${FAKE_PARITY:-agree}" = agree ]; then verdict=AGREE; rc=0; else verdict=DIFFER; rc=1; fi
echo "frame parity: $verdict (extraction 1.00 s here, 10.0 s on the reference's OpenMP)"
echo "{\"agree\": $([ $rc = 0 ] && echo true || echo false)}" >"$4"
exit $rc
EOF
cat >"$work/gc/bin/perfex_core_tests" <<'EOF'
#!/bin/sh
for a in "$@"; do case "$a" in JUnit::out=*) echo '<testsuites/>' >"${a#JUnit::out=}" ;; esac; done
echo "All tests passed (1234 assertions in 36 test cases)"
EOF
chmod +x "$work/smi/nvidia-smi" "$work/gc/bin/"*
: >"$work/gc/parity-reference.bin"
write_manifest() {
  printf 'perfex GPU check, prepared 2026-12-06T12:00Z\ncommit: abc1234\ncuda: %s\narch: HOPPER90 (sm_90)\nglibc: %s\n' \
    "$1" "$2" >"$work/gc/MANIFEST"
}

# run_check NAME EXPECTED_EXIT [ENV=VALUE...] -- ARGS...: runs the script, output in $work/NAME.txt.
run_check() {
  local name=$1 expected=$2; shift 2
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  env PATH="$work/smi:/usr/bin:/bin" PERFEX_GPU_CHECK_DIR="$work/gc" "${envs[@]}" bash "$script" "$@" \
    >"$work/$name.txt" 2>&1
  local rc=$?
  [ $rc -eq "$expected" ] || fail "$name: exit $rc, expected $expected: $(tail -5 "$work/$name.txt")"
}
expect() {  # expect NAME FILE REGEX
  grep -Eq "$3" "$2" || fail "$1: '$3' not in $2: $(head -20 "$2")"
}

# ---- usage and missing preparation -----------------------------------------------------------------------
run_check no-command 2 --
run_check unknown 2 -- frobnicate
run_check run-no-out 2 -- run
run_check run-two-outs 2 -- run "$work/a" "$work/b"
touch "$work/a-file"
run_check out-is-file 2 -- run "$work/a-file"
run_check not-prepared 1 PERFEX_GPU_CHECK_DIR="$work/nowhere" -- run "$work/out-np"
expect not-prepared "$work/not-prepared.txt" "MANIFEST missing: run scripts/gpu-check.sh prepare"

# ---- a passing run ---------------------------------------------------------------------------------------
write_manifest 13.0 2.30
# The fake benchmark runs 2 s, so the sampler (every 0.5 s) has samples inside its step even on a loaded machine
# (with no sleep the step took ~0 s and, depending on timing, no sample fell inside it).
run_check pass 0 FAKE_BENCH_SLEEP=2 -- run "$work/out-pass"
o="$work/out-pass"
for f in summary.txt summary.json bench_frame.json parity.json core-tests.xml bench_frame.log parity.log core-tests.log \
  gpu-samples.csv environment.txt; do
  [ -s "$o/$f" ] || fail "pass: $f missing or empty"
done
expect pass "$o/summary.txt" "^perfex GPU check: PASS"
expect pass "$o/summary.txt" "driver 580.159.04 supports CUDA 13.0 >= 13.0"
expect pass "$o/summary.txt" "BM_FrameCli/model:0/iterations:1/real_time +12.50 s +device->host copies 5"
expect pass "$o/summary.txt" "BM_FrameCli/model:1/iterations:1/real_time +13.25 s"
expect pass "$o/summary.txt" "frame parity: AGREE"
expect pass "$o/summary.txt" "All tests passed \(1234 assertions in 36 test cases\)"
expect pass "$o/summary.txt" "^bench +ok .* 37/37 +2048"
expect pass "$o/gpu-samples.csv" "^[0-9]+\.[0-9]+,37,2048$"
if grep -q real_time_mean "$o/summary.txt"; then fail "pass: aggregates listed among the frames"; fi
if command -v python3 >/dev/null 2>&1; then
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["verdict"] == "PASS" and d["parity_agree"] is True and len(d["frames"]) == 2 and d["steps"]["bench"]["gpu_memory_max_mib"] == 2048, d' \
    "$o/summary.json" || fail "pass: summary.json"
fi

# ---- the driver and glibc checks -------------------------------------------------------------------------
run_check old-driver 1 FAKE_CUDA=12.4 FAKE_DRIVER=550.54.14 -- run "$work/out-old"
expect old-driver "$work/out-old/summary.txt" "^perfex GPU check: FAIL"
expect old-driver "$work/out-old/summary.txt" "supports CUDA 12.4 only; the programs were built with CUDA 13.0: install a driver >= 580.65.06"
expect old-driver "$work/out-old/summary.txt" "^bench +not run"
write_manifest 13.1 2.30
run_check minor-compat 0 FAKE_CUDA=13.0 -- run "$work/out-minor"
expect minor-compat "$work/out-minor/summary.txt" "minor version compatibility"
write_manifest 13.0 2.30
run_check newer-driver 0 FAKE_CUDA=13.2 -- run "$work/out-newer"
run_check no-smi 1 PATH=/usr/bin:/bin -- run "$work/out-nosmi"
expect no-smi "$work/out-nosmi/summary.txt" "nvidia-smi not found"
expect no-smi "$work/out-nosmi/summary.json" '"verdict": "FAIL"' 
write_manifest 13.0 99.1
run_check old-glibc 1 -- run "$work/out-glibc"
expect old-glibc "$work/out-glibc/summary.txt" "older than the 99.1 the programs need"
write_manifest 13.0 2.30

# ---- a step that fails, a step that times out ------------------------------------------------------------
run_check parity-differs 1 FAKE_PARITY=differ -- run "$work/out-differ"
expect parity-differs "$work/out-differ/summary.txt" "^parity +FAILED \(1\)"
expect parity-differs "$work/out-differ/summary.txt" "^tests +ok"
run_check bench-timeout 1 FAKE_BENCH_SLEEP=5 PERFEX_GPU_CHECK_BENCH_TIMEOUT=1 -- run "$work/out-timeout"
expect bench-timeout "$work/out-timeout/summary.txt" "^bench +TIMEOUT"
expect bench-timeout "$work/out-timeout/summary.txt" "^parity +ok"

run_check no-device 1 FAKE_NO_DEVICE=1 -- run "$work/out-nodev"
expect no-device "$work/out-nodev/summary.txt" "^bench +NO DEVICE"

if [ $failures -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "gpu-check.sh run: all checks passed"
