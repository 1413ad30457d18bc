#!/usr/bin/env bash
# Sets up the dependencies, builds perfex and runs the whole test suite (the README's test command, and
# exactly what CI runs). Each lane is a script in scripts/lanes/, run in the order listed below;
# PERFEX_LANES="full core-only" runs a subset (cuda: the CUDA build, see scripts/lanes/cuda.sh).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$perfex_root"
lanes=${PERFEX_LANES:-"full core-only hdf5-parallel cuda sanitize fuzz"}
start=$(date +%s)
for lane in $lanes; do
  lane_start=$(date +%s)
  echo "== lane $lane (scripts/lanes/$lane.sh)"
  source "scripts/lanes/$lane.sh"
  echo "== lane $lane passed in $(( $(date +%s) - lane_start )) s"
done
echo "== all lanes ($lanes) passed in $(( $(date +%s) - start )) s"
