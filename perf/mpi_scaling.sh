#!/usr/bin/env bash
# Frames per hour of `perfex extract-exposure` on this machine with 1 and 2 MPI ranks: simulates a few
# frames with the perfex CLI, then times the exposure with one rank using every core, two ranks sharing the
# cores with frames in parallel (groups of 1) and with bundles in parallel (one group of 2), and prints the
# per-unit (bundle) costs that perf/MPI_SCALING.md's model starts from.
#
# Usage: perf/mpi_scaling.sh            (after building with -DPERFEX_ENABLE_MPI=ON)
# Environment: PERFEX (the perfex program; default build/drivers/perfex, else build-mpi/drivers/perfex),
#   PERFEX_SCALING_FRAMES (4), PERFEX_SCALING_NSPEC (500), PERFEX_SCALING_GRID (5760,7620,0.8: DESI's r grid),
#   PERFEX_SCALING_CORES (nproc), PERFEX_SCALING_DIR (build/mpi-scaling; the simulated frames are reused),
#   PERFEX_SCALING_REPEATS (1: on a shared machine, repeat the configurations in turn and keep the best),
#   PERFEX_SCALING_BIND (core: mpirun --map-by slot:PE=threads --bind-to core; none: let the OS place them).
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
repeats=${PERFEX_SCALING_REPEATS:-1}
bind=${PERFEX_SCALING_BIND:-core}
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

# run RANKS THREADS GROUP REPEAT: one exposure; prints its wall time and keeps the -v log.
run() {
  local ranks=$1 threads=$2 group=$3 out="$work/out-$1x$2-g$3-$4"
  rm -rf "$out"; mkdir -p "$out"
  local placement=(--bind-to none)
  [ "$bind" = core ] && placement=(--map-by "slot:PE=$threads" --bind-to core)
  local t0 t1
  t0=$(date +%s.%N)
  OMP_NUM_THREADS=$threads mpiexec -n "$ranks" "${placement[@]}" \
    "$perfex" extract-exposure "$work/in" --output-dir "$out" --group-size "$group" -w "$grid" -n "$nspec" -v \
    > "$out.log" 2> "$out.err"
  t1=$(date +%s.%N)
  grep -q "$frames written, 0 failed" "$out.log" || { echo "mpi_scaling: run failed, see $out.err" >&2; exit 1; }
  echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }'
}

half=$((cores / 2))
configs=("1 $cores 1")
[ "$cores" -ge 2 ] && configs+=("2 $half 1" "2 $half 2")
declare -A best
echo "perfex $("$perfex" --version | awk '{print $2}'), $(mpiexec --version | head -1), $cores cores, $frames frames of" \
  "$nspec fibers on $grid, ranks bound: $bind, $repeats repeat(s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq 1 "$repeats"); do
  for c in "${configs[@]}"; do
    read -r ranks threads group <<< "$c"
    t=$(run "$ranks" "$threads" "$group" "$rep")
    echo "  repeat $rep: $ranks rank(s) x $threads thread(s), groups of $group: $t s (load $(cut -d' ' -f1 /proc/loadavg))"
    if [ -z "${best[$c]:-}" ] || awk -v a="$t" -v b="${best[$c]}" 'BEGIN { exit !(a < b) }'; then best[$c]=$t; fi
  done
done
printf '%-52s %10s %14s\n' "configuration (best of $repeats)" "seconds" "frames/hour"
for c in "${configs[@]}"; do
  read -r ranks threads group <<< "$c"
  what="$ranks rank(s) x $threads thread(s), groups of $group"
  [ "$ranks" -gt 1 ] && { [ "$group" -eq 1 ] && what="$what (frames)" || what="$what (bundles)"; }
  printf '%-52s %10s %14s\n' "$what" "${best[$c]}" "$(awk -v t="${best[$c]}" -v f="$frames" 'BEGIN { printf "%.0f", f * 3600 / t }')"
done

# Per-unit costs (one bundle each on CPUs): wall seconds of one unit on one rank, per thread count.
for c in "${configs[@]}"; do
  read -r ranks threads group <<< "$c"
  cat "$work"/out-"$ranks"x"$threads"-g"$group"-*.err | grep -o 'unit [0-9]*/[0-9]* (fibers [0-9.]*) in [0-9.]* s' |
    awk '{ print $(NF-1) }' | sort -g | awk -v what="$ranks rank(s) x $threads thread(s), groups of $group" '
      { t[++n] = $1; s += $1 }
      END { if (n) printf "per-unit seconds, %s: %d units, median %.2f, mean %.2f, min %.2f, max %.2f\n",
            what, n, t[int((n + 1) / 2)], s / n, t[1], t[n] }'
done
