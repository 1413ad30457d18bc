# CUDA builds: Kokkos with its Cuda backend, perfex compiled by nvcc through Kokkos' nvcc_wrapper
# (-DCMAKE_CXX_COMPILER=<kokkos prefix>/bin/nvcc_wrapper, see scripts/lanes/cuda.sh and README "GPU").
# Included after find_package(Kokkos); sets PERFEX_CUDA and the helpers below (no-ops in other builds).
set(PERFEX_CUDA OFF)
if(Kokkos_ENABLE_CUDA OR "CUDA" IN_LIST Kokkos_DEVICES)
  set(PERFEX_CUDA ON)
endif()

# nvcc only warns when a host-device function (KOKKOS_INLINE_FUNCTION, KOKKOS_LAMBDA) calls a host-only
# function, and such a call is undefined on the device. PERFEX_CUDA_STRICT turns these warnings into
# errors for perfex's own targets: nvcc's `-Werror cross-execution-space-call` (cudafe++'s
# h_hd_illegal_call*, which nvcc_wrapper forwards as -Xcudafe), plus calls of constexpr host functions
# (20013/20015: std::min and friends; Kokkos is not built with --expt-relaxed-constexpr).
option(PERFEX_CUDA_STRICT "CUDA builds with nvcc: host-only calls in kernels are compile errors" ON)
set(PERFEX_CUDA_COMPILE_OPTIONS "")
if(PERFEX_CUDA AND PERFEX_CUDA_STRICT AND Kokkos_CXX_COMPILER_ID STREQUAL "NVIDIA")
  set(PERFEX_CUDA_COMPILE_OPTIONS
    "SHELL:-Xcudafe --diag_error=h_hd_illegal_call" "SHELL:-Xcudafe --diag_error=h_hd_illegal_call_generic"
    "SHELL:-Xcudafe --diag_error=20013" "SHELL:-Xcudafe --diag_error=20015")
endif()
if(PERFEX_CUDA)
  message(STATUS "perfex: CUDA build (Kokkos devices ${Kokkos_DEVICES}, architecture ${Kokkos_ARCH}, "
                 "compiler ${Kokkos_CXX_COMPILER_ID}); host-only calls in kernels are errors: ${PERFEX_CUDA_STRICT}")
endif()

# Per-target part of perfex_target_defaults.
function(perfex_cuda_target_options target)
  if(PERFEX_CUDA_COMPILE_OPTIONS)
    target_compile_options(${target} PRIVATE ${PERFEX_CUDA_COMPILE_OPTIONS})
  endif()
endfunction()

# Kokkos' CUDA target links the driver library (libcuda.so.1), which only a machine with an NVIDIA driver
# has; without it every program fails to load before main. Kokkos never calls the driver API, so
# --as-needed drops it: programs then start, find no device and say so (perfex::backends::missing_device).
# On perfex::core's interface, so that installed consumers get it too.
function(perfex_cuda_link_options target)
  if(PERFEX_CUDA AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_link_options(${target} INTERFACE "LINKER:--as-needed")
  endif()
endfunction()

# Every test of a CUDA build needs the device: in CUDA builds, the tests of the calling directory are
# marked skipped when their output says there is none (perfex, the benchmarks and the consumer print
# "no CUDA device: ..."; the Catch2 executables exit with Catch's skip code 4, which catch_discover_tests
# already maps). Deferred to the end of the directory, so tests added after the call are marked too.
# Tests with the property PERFEX_RUNS_WITHOUT_DEVICE set (e.g. `perfex info`, compile tests) are left alone.
function(perfex_cuda_skip_tests_without_device)
  if(PERFEX_CUDA)
    cmake_language(DEFER CALL _perfex_cuda_mark_tests)
  endif()
endfunction()

function(_perfex_cuda_mark_tests)
  get_property(tests DIRECTORY PROPERTY TESTS)
  foreach(t IN LISTS tests)
    get_test_property(${t} PERFEX_RUNS_WITHOUT_DEVICE without_device)
    if(NOT without_device)
      set_tests_properties(${t} PROPERTIES SKIP_REGULAR_EXPRESSION "no CUDA device")
    endif()
  endforeach()
endfunction()
