#!/usr/bin/env bash
# Sets up the dependencies, builds perfex and runs the main job on built-in synthetic data.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$perfex_root"
PERFEX_BUILD_TARGET=perfex perfex_build build >/dev/null
build/drivers/perfex info
