# Lane: perfex's own targets built with AddressSanitizer + UndefinedBehaviorSanitizer (PERFEX_SANITIZE, per
# target; Kokkos, CFITSIO and Catch2 are not instrumented) in build-asan/, and the tests run under them. Every
# report is fatal (-fno-sanitize-recover=all, halt_on_error), leaks included. Debug with -O1: asserts on,
# usable stacks, kernels fast enough. Left to the full lane, which runs them optimised: the full-frame
# statistics test and the full-frame simulate thread-count check (minutes under ASan, no code they alone reach),
# and the install-consumer test (packaging, not code).
# Sourced by scripts/test.sh; runs in a subshell so its settings (sanitizer options) stay here.
(
  asan_slow='^(Noise pulls \(image - model\) sqrt\(ivar\) have mean 0 and std 1 over a full frame|cli_simulate_same_bytes_for_1_and_2_threads|install_consumer_.*)$'
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$perfex_root/scripts/lanes/lsan.supp:print_suppressions=0}
  # Without the FMA clones (PERFEX_HOST_CLONES, backends/include/perfex/backends/host_isa.hpp): on CI's CPUs the
  # other lanes run the FMA variant, this one runs every test on the baseline code a CPU without FMA takes.
  PERFEX_BUILD_TYPE=Debug perfex_build build-asan -DPERFEX_SANITIZE=address,undefined -DPERFEX_ENABLE_BENCHMARKS=OFF \
    -DPERFEX_TEST_SPACES=default -DPERFEX_HOST_CLONES=OFF
  (cd build-asan && ctest --output-on-failure -j "$(nproc)" -E "$asan_slow")
)
