#!/usr/bin/env bash
# Sets up the dependencies, builds perfex and runs the whole test suite (the README's test command, and
# exactly what CI runs). Lanes: the full build, then a core-only build (I/O, MPI, HDF5 off).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$perfex_root"
start=$(date +%s)

echo "== lane: full build (build/)"
perfex_build build
(cd build && ctest --output-on-failure)

echo "== lane: core only, Kokkos alone (build-core/)"
perfex_build build-core -DPERFEX_ENABLE_IO=OFF -DPERFEX_ENABLE_MPI=OFF -DPERFEX_ENABLE_HDF5=OFF -DPERFEX_ENABLE_BENCHMARKS=OFF
(cd build-core && ctest --output-on-failure)

echo "== all lanes passed in $(( $(date +%s) - start )) s"
