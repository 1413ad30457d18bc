#!/usr/bin/env bash
# Sets up the dependencies, builds perfex and runs the main job on built-in synthetic data: a DESI-like
# PSF, a simulated full r-camera frame (500 fibers, cosmic rays, bad columns), its extraction into a DESI
# frame file, and the pulls of the extracted spectra against the simulation truth.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$perfex_root"
PERFEX_BUILD_TARGET=perfex perfex_build build >/dev/null
perfex=build/drivers/perfex
out=${PERFEX_DEMO_DIR:-build/demo}
mkdir -p "$out"

"$perfex" info | grep "default execution space"
"$perfex" psf synth -o "$out/psf-r0-demo.fits" --camera r0 --seed 1 --overwrite
"$perfex" simulate -p "$out/psf-r0-demo.fits" -o "$out/preproc-r0-00000001.fits" --truth "$out/truth-r0-00000001.fits" \
  --seed 1 --cosmics 3000 --defects --overwrite
# DESI's r grid; the simulation used the same one, so the truth is known on every extracted bin.
"$perfex" extract -i "$out/preproc-r0-00000001.fits" -p "$out/psf-r0-demo.fits" -o "$out/frame-r0-00000001.fits" \
  -w 5760,7620,0.8 --overwrite
"$perfex" pulls "$out/frame-r0-00000001.fits" "$out/truth-r0-00000001.fits"
