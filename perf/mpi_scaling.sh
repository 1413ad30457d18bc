#!/usr/bin/env bash
# Frames per hour of `perfex extract-exposure` on this machine with 1 and 2 MPI ranks: simulates a few
# frames with the perfex CLI, then times the exposure with one rank using every core, two ranks sharing the
# cores with frames in parallel (groups of 1) and with bundles in parallel (one group of 2), and prints the
# per-unit (bundle) costs that perf/MPI_SCALING.md's model starts from.
#
# Usage: perf/mpi_scaling.sh            (after building with -DPERFEX_ENABLE_MPI=ON)
# Environment: PERFEX (the perfex program; default build/drivers/perfex, else build-mpi/drivers/perfex),
#   PERFEX_SCALING_FRAMES (4), PERFEX_SCALING_NSPEC (500), PERFEX_SCALING_GRID (5760,7620,0.8: DESI's r grid),
#   PERFEX_SCALING_CORES (nproc), PERFEX_SCALING_DIR (build/mpi-scaling; the simulated frames are reused).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
perfex=${PERFEX:-}
if [ -z "$perfex" ]; then
  for candidate in "$root/build/drivers/perfex" "$root/build-mpi/drivers/perfex"; do
    if [ -x "$candidate" ] && "$candidate" info | grep -q "MPI: enabled"; then perfex=$candidate; break; fi
  done
fi
[ -n "$perfex" ] || { echo "mpi_scaling: no perfex built with MPI (configure with -DPERFEX_ENABLE_MPI=ON)" >&2; exit 2; }
frames=${PERFEX_SCALING_FRAMES:-4}
nspec=${PERFEX_SCALING_NSPEC:-500}
grid=${PERFEX_SCALING_GRID:-5760,7620,0.8}
cores=${PERFEX_SCALING_CORES:-$(nproc)}
work=${PERFEX_SCALING_DIR:-$root/build/mpi-scaling}
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMP_PROC_BIND=${OMP_PROC_BIND:-spread} OMP_PLACES=${OMP_PLACES:-threads}

mkdir -p "$work/in"
key="nspec $nspec grid $grid frames $frames"
if [ "$(cat "$work/in/.key" 2>/dev/null)" != "$key" ]; then
  rm -f "$work"/in/*.fits "$work/in/.key"
  "$perfex" psf synth -o "$work/in/psf-r0.fits" --camera r --overwrite >/dev/null
  for k in $(seq 1 "$frames"); do
    id=$(printf 'r0-%08d' "$k")
    OMP_NUM_THREADS=$cores "$perfex" simulate -p "$work/in/psf-r0.fits" -o "$work/in/preproc-$id.fits" -n "$nspec" \
      -w "$grid" --seed "$k" --expid "$k" --cosmics 1000 --defects --overwrite >/dev/null
    ln -sf psf-r0.fits "$work/in/psf-$id.fits"
  done
  echo "$key" > "$work/in/.key"
fi

# run RANKS THREADS GROUP: one exposure; prints the summary line and keeps the -v log.
run() {
  local ranks=$1 threads=$2 group=$3 out="$work/out-$1x$2-g$3"
  rm -rf "$out"; mkdir -p "$out"
  OMP_NUM_THREADS=$threads mpiexec -n "$ranks" --map-by "slot:PE=$threads" --bind-to core \
    "$perfex" extract-exposure "$work/in" --output-dir "$out" --group-size "$group" -w "$grid" -n "$nspec" -v \
    > "$out.log" 2> "$out.err"
  grep '^extract-exposure:' "$out.log"
}

echo "perfex $("$perfex" --version | awk '{print $2}'), $(mpiexec --version | head -1), $cores cores, $frames frames of $nspec fibers on $grid"
printf '%-50s %s\n' "configuration" "result"
printf '%-50s %s\n' "1 rank x $cores threads" "$(run 1 "$cores" 1)"
if [ "$cores" -ge 2 ]; then
  half=$((cores / 2))
  printf '%-50s %s\n' "2 ranks x $half threads, groups of 1 (frames)" "$(run 2 "$half" 1)"
  printf '%-50s %s\n' "2 ranks x $half threads, one group of 2 (bundles)" "$(run 2 "$half" 2)"
fi

# Per-unit costs (one bundle each on CPUs) from the one-rank run: what the model in MPI_SCALING.md uses.
grep -o 'unit [0-9]*/[0-9]* (fibers [0-9.]*) in [0-9.]* s' "$work/out-1x$cores-g1.err" | awk '
  { t = $(NF-1); n++; s += t; ss += t * t; if (n == 1 || t < lo) lo = t; if (t > hi) hi = t }
  END { if (n) printf "per-unit cost (1 rank x %s threads): %d units, mean %.2f s, std %.2f s, min %.2f s, max %.2f s\n",
        "'"$cores"'", n, s / n, sqrt(ss / n - (s / n) ^ 2), lo, hi }'
