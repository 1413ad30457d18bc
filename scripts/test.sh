#!/usr/bin/env bash
# Sets up the dependencies, builds perfex and runs the whole test suite (the README's test command, and
# exactly what CI runs). Each lane is a script in scripts/lanes/, run in the order listed below;
# PERFEX_LANES="full core-only" runs a subset (cuda: the CUDA build, see scripts/lanes/cuda.sh; desispec
# checks perfex's files with desispec's own code, using the full lane's build/; gpu-shape: the CUDA team
# shapes on the CPU, scripts/lanes/gpu-shape.sh).
# Each lane runs in its own bash under a time guard of PERFEX_LANE_TIMEOUT_MIN minutes (30; every lane takes
# under 10 from an empty dependency cache), so that a hung compiler or test fails its lane with a message
# instead of running into CI's hard limit.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$perfex_root"
lanes=${PERFEX_LANES:-"full desispec core-only gpu-shape hdf5-parallel cuda sanitize fuzz"}
lane_minutes=${PERFEX_LANE_TIMEOUT_MIN:-30}
start=$(date +%s)
for lane in $lanes; do
  [ -f "scripts/lanes/$lane.sh" ] || { echo "PERFEX_LANES: no lane '$lane' (scripts/lanes/$lane.sh)" >&2; exit 2; }
  lane_start=$(date +%s)
  echo "== lane $lane (scripts/lanes/$lane.sh)"
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
done
echo "== all lanes ($lanes) passed in $(( $(date +%s) - start )) s"
