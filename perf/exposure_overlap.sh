#!/usr/bin/env bash
# extract-exposure with and without the I/O thread (issue 18 item 3), side by side in one run: two perfex
# binaries (BEFORE: a build without the I/O thread, e.g. the previous main; AFTER: this tree's build), the same
# simulated inputs, interleaved repeats, 1 rank x T threads and R ranks x 1 thread (groups of 1).
#   perf/exposure_overlap.sh BEFORE_PERFEX AFTER_PERFEX [WORKDIR]
# Environment: NFRAMES (30), NSPEC (fibers per frame, 50), GRID (6000,6400,0.8), REPEATS (2), THREADS (2),
# RANKS (2). Prints one line per run (extract-exposure's summary) and the best of the repeats per binary and
# configuration; also one `perfex extract -v` of a frame with each binary, for the split between the
# extraction and the reading/writing that the model starts from.
set -euo pipefail
before=${1:?usage: exposure_overlap.sh BEFORE_PERFEX AFTER_PERFEX [WORKDIR]}
after=${2:?usage: exposure_overlap.sh BEFORE_PERFEX AFTER_PERFEX [WORKDIR]}
work=${3:-$(mktemp -d /tmp/perfex-overlap.XXXXXX)}
nframes=${NFRAMES:-30}
nspec=${NSPEC:-50}
grid=${GRID:-6000,6400,0.8}
repeats=${REPEATS:-2}
threads=${THREADS:-2}
ranks=${RANKS:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_PROC_BIND=false OMP_PLACES=threads

mkdir -p "$work/in"
echo "inputs: $nframes frames of $nspec fibers on $grid (full CCD preprocs) in $work"
"$after" psf synth -o "$work/in/psf.fits" --camera r --seed 11 --overwrite > /dev/null
: > "$work/manifest.txt"
OMP_NUM_THREADS=$threads "$after" simulate -p "$work/in/psf.fits" -o "$work/in/pre-0.fits" -n "$nspec" -w "$grid" \
  --seed 5 --overwrite > /dev/null
for ((k = 0; k < nframes; ++k)); do
  # A file per frame (copies of one simulated preproc: simulating 30 takes longer than the runs).
  ((k == 0)) || cp "$work/in/pre-0.fits" "$work/in/pre-$k.fits"
  echo "$work/in/pre-$k.fits $work/in/psf.fits frame-$k.fits" >> "$work/manifest.txt"
done
du -sh "$work/in" | sed 's/^/inputs on disk: /'

for name in before after; do
  bin=${!name}
  echo "one frame, perfex extract -v ($name, $threads threads):"
  OMP_NUM_THREADS=$threads "$bin" extract -i "$work/in/pre-0.fits" -p "$work/in/psf.fits" -o "$work/one-$name.fits" \
    -w "$grid" -n "$nspec" --overwrite 2>&1 | grep -E "extraction .* total" || true
done

declare -A best
run() {  # run NAME CONFIG COMMAND...
  local name=$1 config=$2
  shift 2
  rm -rf "$work/out" && mkdir -p "$work/out"
  local line
  line=$("$@" 2>/dev/null | grep -E "^extract-exposure: " || true)
  echo "$config $name: $line"
  local s
  s=$(sed -nE 's/.*; ([0-9.]+) s, .*/\1/p' <<< "$line")
  local key="$config $name"
  if [[ -n $s ]] && { [[ -z ${best[$key]:-} ]] || awk -v a="$s" -v b="${best[$key]}" 'BEGIN{exit !(a<b)}'; }; then
    best[$key]=$s
  fi
}
for ((r = 0; r < repeats; ++r)); do
  for name in before after; do
    bin=${!name}
    run "$name" "1x${threads}" env OMP_NUM_THREADS=$threads "$bin" extract-exposure "$work/manifest.txt" \
      --output-dir "$work/out" -w "$grid" -n "$nspec" --overwrite
    run "$name" "${ranks}x1" env OMP_NUM_THREADS=1 mpiexec -n "$ranks" "$bin" extract-exposure "$work/manifest.txt" \
      --output-dir "$work/out" -w "$grid" -n "$nspec" --group-size 1 --overwrite
  done
done
echo "best of $repeats (s for $nframes frames):"
for config in "1x${threads}" "${ranks}x1"; do
  b=${best["$config before"]:-nan}
  a=${best["$config after"]:-nan}
  echo "  $config: before $b, after $a, ratio $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3f", b/a}')"
done
