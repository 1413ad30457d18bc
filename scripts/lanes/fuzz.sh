# Lane: libFuzzer targets for perfex's PSF and preproc readers (fuzz/), built with clang in build-fuzz/:
# perfex's own code with -fsanitize=fuzzer-no-link,address,undefined (PERFEX_SANITIZE), the targets with
# -fsanitize=fuzzer; Kokkos (g++) and CFITSIO are linked uninstrumented. The seed corpus is written by perfex
# itself (perfex_fuzz_corpus: 5-fiber PSFs, 64x64 and smaller preprocs); each target then runs for
# PERFEX_FUZZ_SECONDS (default 60). Any crash, sanitizer report, leak, uncaught exception or timeout fails the
# lane; the input that triggered it is kept in build-fuzz/artifacts/. Known crashes inside CFITSIO and how
# perfex avoids them: fuzz/SUPPRESSIONS.md.
fuzz_seconds=${PERFEX_FUZZ_SECONDS:-60}
PERFEX_BUILD_TYPE=Debug PERFEX_BUILD_TARGET=perfex_fuzzers perfex_build build-fuzz -DCMAKE_CXX_COMPILER=clang++ \
  -DPERFEX_ENABLE_FUZZ=ON -DPERFEX_SANITIZE=fuzzer-no-link,address,undefined -DPERFEX_ENABLE_TESTS=OFF \
  -DPERFEX_ENABLE_BENCHMARKS=OFF -DPERFEX_ENABLE_MPI=OFF -DPERFEX_ENABLE_HDF5=OFF
rm -rf build-fuzz/seeds
build-fuzz/fuzz/perfex_fuzz_corpus build-fuzz/seeds
for reader in psf preproc; do
  mkdir -p "build-fuzz/corpus/$reader" "build-fuzz/artifacts/$reader"
  echo "== fuzz_${reader}_reader: ${fuzz_seconds} s"
  log="build-fuzz/artifacts/$reader/fuzz.log"
  if ! ASAN_OPTIONS=${PERFEX_FUZZ_ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:allocator_may_return_null=1} \
      UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
      "build-fuzz/fuzz/fuzz_${reader}_reader" -max_total_time="$fuzz_seconds" -timeout=20 -rss_limit_mb=3072 \
      -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$reader/" \
      "build-fuzz/corpus/$reader" "build-fuzz/seeds/$reader" >"$log" 2>&1; then
    tail -n 80 "$log"
    echo "fuzz_${reader}_reader found a problem; the input is in build-fuzz/artifacts/$reader/"
    exit 1
  fi
  grep -E "^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || tail -n 5 "$log"
done
