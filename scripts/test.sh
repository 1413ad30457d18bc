#!/usr/bin/env bash
# Sets up the dependencies, builds perfex and runs the whole test suite (the README's test command, and
# exactly what CI runs). Each lane is a script in scripts/lanes/, run in the order listed below;
# PERFEX_LANES="full core-only" runs a subset (cuda: the CUDA build, see scripts/lanes/cuda.sh; desispec
# checks perfex's files with desispec's own code, using the full lane's build/; gpu-shape: the CUDA team
# shapes on the CPU, scripts/lanes/gpu-shape.sh).
# Each lane runs in its own bash under a time guard of PERFEX_LANE_TIMEOUT_MIN minutes (30; every lane takes
# under 10 from an empty dependency cache), so that a hung compiler or test fails its lane with a message
# instead of running into CI's hard limit.
# A lane that passes leaves its binaries but not its test data: the tests write full-CCD frames (about 200 MB
# each, ~4.5 GB for the full lane), and CI's disk does not hold every lane's at once. Set
# PERFEX_KEEP_TEST_OUTPUTS=1 to keep them; a failing lane always keeps its own for inspection.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$perfex_root"
lanes=${PERFEX_LANES:-"full desispec core-only gpu-shape hdf5-parallel cuda sanitize fuzz"}
lane_minutes=${PERFEX_LANE_TIMEOUT_MIN:-30}
start=$(date +%s)

# Free space (GiB) on the file system of the build trees, for the log.
free_gib() { df -Pk "$perfex_root" | awk 'NR == 2 { printf "%.1f", $4 / 1048576 }'; }

# Deletes what the tests wrote (FITS and HDF5 files above 1 MiB in build*/tests; no build product), printing the size.
free_test_outputs() {
  [ "${PERFEX_KEEP_TEST_OUTPUTS:-0}" = 1 ] && return 0
  local kib
  kib=$(find build*/tests -type f -size +1024k \( -name '*.fits' -o -name '*.fits.gz' -o -name '*.h5' \) -printf '%k\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
  find build*/tests -type f -size +1024k \( -name '*.fits' -o -name '*.fits.gz' -o -name '*.h5' \) -delete 2>/dev/null || true
  echo "== test outputs removed: $(( kib / 1024 )) MiB ($(free_gib) GiB free)"
}

for lane in $lanes; do
  [ -f "scripts/lanes/$lane.sh" ] || { echo "PERFEX_LANES: no lane '$lane' (scripts/lanes/$lane.sh)" >&2; exit 2; }
  lane_start=$(date +%s)
  echo "== lane $lane (scripts/lanes/$lane.sh; $(free_gib) GiB free)"
  # timeout signals the lane's whole process group (builds, ctest, mpiexec), then kills what is left 60 s later.
  status=0
  timeout -k 60 "${lane_minutes}m" bash -c 'source "$1/scripts/common.sh"; cd "$perfex_root"; source "scripts/lanes/$2.sh"' \
    lane "$perfex_root" "$lane" || status=$?
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "== lane $lane stopped after ${lane_minutes} min (PERFEX_LANE_TIMEOUT_MIN): a build or test hung" >&2
    exit 1
  elif [ "$status" -ne 0 ]; then
    echo "== lane $lane failed (exit $status)" >&2
    exit "$status"
  fi
  echo "== lane $lane passed in $(( $(date +%s) - lane_start )) s"
  free_test_outputs
done
echo "== all lanes ($lanes) passed in $(( $(date +%s) - start )) s"
