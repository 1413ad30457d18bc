# Lane: libFuzzer targets for perfex's PSF and preproc readers (fuzz/), built with clang in build-fuzz/:
# perfex's own code with -fsanitize=fuzzer-no-link,address,undefined (PERFEX_SANITIZE), the targets with
# -fsanitize=fuzzer; Kokkos (g++) and CFITSIO are linked uninstrumented. The seed corpus is written by perfex
# itself (perfex_fuzz_corpus: 5-fiber PSFs, 64x64 and smaller preprocs).
#
# Two modes:
# - regression (the default, what CI runs): each target makes PERFEX_FUZZ_RUNS (300000) executions from the
#   seeds alone with the fixed seed PERFEX_FUZZ_SEED (1) and without libFuzzer's comparison tracing (-use_cmp=0:
#   the operands it records include addresses, which differ from run to run), so that runs are nearly the same
#   on every machine and a red lane can usually be reproduced (the preproc target still varies a little) (PERFEX_FUZZ_CAP_SECONDS, 600, stops a
#   target that is far too slow);
# - exploration (PERFEX_FUZZ_SECONDS=N): each target runs N seconds with a random seed and keeps its corpus in
#   build-fuzz/corpus/ from one run to the next, to look for new findings.
# Any crash, sanitizer report, leak, uncaught exception or timeout fails the lane, with the input kept in
# build-fuzz/artifacts/; the one exception is a crash whose top frame is a CFITSIO function listed in
# fuzz/suppressions.txt (documented in fuzz/SUPPRESSIONS.md): its input goes to build-fuzz/suppressed/ and
# fuzzing goes on with what is left.
# Sourced by scripts/test.sh; runs in a subshell so its settings (sanitizer options) stay here.
(
  if [ -n "${PERFEX_FUZZ_SECONDS:-}" ]; then
    mode=exploration
    budget=(-max_total_time="$PERFEX_FUZZ_SECONDS")
    fuzz_seconds=$PERFEX_FUZZ_SECONDS
  else
    mode=regression
    runs=${PERFEX_FUZZ_RUNS:-300000}
    budget=(-seed="${PERFEX_FUZZ_SEED:-1}" -runs="$runs" -use_cmp=0)
    fuzz_seconds=${PERFEX_FUZZ_CAP_SECONDS:-600}
  fi
  PERFEX_BUILD_TYPE=Debug PERFEX_BUILD_TARGET=perfex_fuzzers perfex_build build-fuzz -DCMAKE_CXX_COMPILER=clang++ \
    -DPERFEX_ENABLE_FUZZ=ON -DPERFEX_SANITIZE=fuzzer-no-link,address,undefined -DPERFEX_ENABLE_TESTS=OFF \
    -DPERFEX_ENABLE_BENCHMARKS=OFF -DPERFEX_ENABLE_MPI=OFF -DPERFEX_ENABLE_HDF5=OFF
  rm -rf build-fuzz/seeds build-fuzz/artifacts
  build-fuzz/fuzz/perfex_fuzz_corpus build-fuzz/seeds
  # allocator_may_return_null: an impossible allocation that CFITSIO asks for from a corrupt header gets NULL, as
  # it would outside ASan, and CFITSIO reports an error instead of ASan aborting.
  fuzz_asan=${PERFEX_FUZZ_ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:allocator_may_return_null=1}
  suppressed_functions=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' fuzz/suppressions.txt | awk '{print $1}')
  for reader in psf preproc; do
    corpus="build-fuzz/corpus/$reader"
    [ "$mode" = regression ] && corpus="build-fuzz/corpus-regression/$reader" && rm -rf "$corpus"
    mkdir -p "$corpus" "build-fuzz/artifacts/$reader" "build-fuzz/suppressed/$reader"
    log="build-fuzz/artifacts/$reader/fuzz.log"
    end=$(( $(date +%s) + fuzz_seconds ))
    if [ "$mode" = regression ]; then
      echo "== fuzz_${reader}_reader: $runs runs, seed ${PERFEX_FUZZ_SEED:-1} (regression mode; PERFEX_FUZZ_SECONDS=N explores)"
    else
      echo "== fuzz_${reader}_reader: ${fuzz_seconds} s, random seed, corpus kept in $corpus (exploration mode)"
    fi
    while left=$(( end - $(date +%s) )); [ "$left" -gt 0 ]; do
      if ASAN_OPTIONS=$fuzz_asan UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
          "build-fuzz/fuzz/fuzz_${reader}_reader" "${budget[@]}" -max_total_time="$left" -timeout=20 \
          -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$reader/" \
          "$corpus" "build-fuzz/seeds/$reader" >"$log" 2>&1; then
        grep -E "^(Done [0-9]+ runs|stat::(number_of_executed_units|peak_rss_mb))" "$log" || tail -n 5 "$log"
        if [ "$mode" = regression ] && ! grep -q "^Done $runs runs" "$log"; then
          echo "note: stopped by the time cap (PERFEX_FUZZ_CAP_SECONDS=$fuzz_seconds) before $runs runs"
        fi
        break
      fi
      # A crash inside CFITSIO on the suppression list: set the input aside (and out of the corpus), go on.
      summary=$(grep -m1 "^SUMMARY: " "$log" || true)
      function=$(sed -n 's/^SUMMARY: [A-Za-z]*Sanitizer: [^ ]* (.*libcfitsio[^)]*) in \([A-Za-z0-9_]*\).*/\1/p' <<<"$summary")
      artifact=$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "$log" | tail -n 1)
      if [ -n "$function" ] && [ -n "$artifact" ] && grep -qx "$function" <<<"$suppressed_functions"; then
        echo "suppressed: crash in CFITSIO's $function (fuzz/SUPPRESSIONS.md), input kept in build-fuzz/suppressed/$reader/"
        hash=$(sha1sum "$artifact" | cut -d' ' -f1)
        rm -f "$corpus/$hash"
        mv "$artifact" "build-fuzz/suppressed/$reader/"
        continue
      fi
      tail -n 60 "$log"
      echo "fuzz_${reader}_reader found a problem; the input is in build-fuzz/artifacts/$reader/ (log: $log)"
      exit 1
    done
  done
)
