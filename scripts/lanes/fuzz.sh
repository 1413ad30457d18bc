# Lane: libFuzzer targets for perfex's PSF and preproc readers (fuzz/), built with clang in build-fuzz/:
# perfex's own code with -fsanitize=fuzzer-no-link,address,undefined (PERFEX_SANITIZE), the targets with
# -fsanitize=fuzzer; Kokkos (g++) and CFITSIO are linked uninstrumented. The seed corpus is written by perfex
# itself (perfex_fuzz_corpus: 5-fiber PSFs, 64x64 and smaller preprocs); each target then runs for
# PERFEX_FUZZ_SECONDS (default 60). Any crash, sanitizer report, leak, uncaught exception or timeout fails the
# lane, with the input kept in build-fuzz/artifacts/; the one exception is a crash whose top frame is a CFITSIO
# function listed in fuzz/suppressions.txt (documented in fuzz/SUPPRESSIONS.md): its input goes to
# build-fuzz/suppressed/ and fuzzing goes on for the time left.
# Sourced by scripts/test.sh; runs in a subshell so its settings (sanitizer options) stay here.
(
  fuzz_seconds=${PERFEX_FUZZ_SECONDS:-60}
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
    mkdir -p "build-fuzz/corpus/$reader" "build-fuzz/artifacts/$reader" "build-fuzz/suppressed/$reader"
    log="build-fuzz/artifacts/$reader/fuzz.log"
    end=$(( $(date +%s) + fuzz_seconds ))
    echo "== fuzz_${reader}_reader: ${fuzz_seconds} s"
    while left=$(( end - $(date +%s) )); [ "$left" -gt 0 ]; do
      if ASAN_OPTIONS=$fuzz_asan UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
          "build-fuzz/fuzz/fuzz_${reader}_reader" -max_total_time="$left" -timeout=20 -rss_limit_mb=3072 \
          -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$reader/" \
          "build-fuzz/corpus/$reader" "build-fuzz/seeds/$reader" >"$log" 2>&1; then
        grep -E "^(Done [0-9]+ runs|stat::(number_of_executed_units|peak_rss_mb))" "$log" || tail -n 5 "$log"
        break
      fi
      # A crash inside CFITSIO on the suppression list: set the input aside (and out of the corpus), go on.
      summary=$(grep -m1 "^SUMMARY: " "$log" || true)
      function=$(sed -n 's/^SUMMARY: [A-Za-z]*Sanitizer: [^ ]* (.*libcfitsio[^)]*) in \([A-Za-z0-9_]*\).*/\1/p' <<<"$summary")
      artifact=$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "$log" | tail -n 1)
      if [ -n "$function" ] && [ -n "$artifact" ] && grep -qx "$function" <<<"$suppressed_functions"; then
        echo "suppressed: crash in CFITSIO's $function (fuzz/SUPPRESSIONS.md), input kept in build-fuzz/suppressed/$reader/"
        hash=$(sha1sum "$artifact" | cut -d' ' -f1)
        rm -f "build-fuzz/corpus/$reader/$hash"
        mv "$artifact" "build-fuzz/suppressed/$reader/"
        continue
      fi
      tail -n 60 "$log"
      echo "fuzz_${reader}_reader found a problem; the input is in build-fuzz/artifacts/$reader/ (log: $log)"
      exit 1
    done
  done
)
