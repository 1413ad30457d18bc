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

# The CUDA runtime linked statically (nvcc's own default), so that perfex's programs need nothing of the
# CUDA toolkit where they run, only the driver (scripts/gpu-check.sh carries them to a GPU machine). Kokkos'
# CMake package links CUDA::cudart, the shared library: its Kokkos::CUDA target is pointed at the static
# library beside it instead, for this build only (an installed perfex's consumers get their Kokkos' choice).
option(PERFEX_CUDA_STATIC_RUNTIME "CUDA builds: link the CUDA runtime statically (libcudart_static.a)" ON)
if(PERFEX_CUDA AND PERFEX_CUDA_STATIC_RUNTIME AND TARGET Kokkos::CUDA AND TARGET CUDA::cudart)
  get_target_property(_perfex_cudart CUDA::cudart IMPORTED_LOCATION)
  get_filename_component(_perfex_cudart_dir "${_perfex_cudart}" DIRECTORY)
  get_target_property(_perfex_kokkos_cuda_libs Kokkos::CUDA INTERFACE_LINK_LIBRARIES)
  if(EXISTS "${_perfex_cudart_dir}/libcudart_static.a" AND _perfex_kokkos_cuda_libs MATCHES "(^|;)CUDA::cudart(;|$)")
    add_library(perfex_cudart_static STATIC IMPORTED GLOBAL)
    set_target_properties(perfex_cudart_static PROPERTIES IMPORTED_LOCATION "${_perfex_cudart_dir}/libcudart_static.a"
      INTERFACE_LINK_LIBRARIES "${CMAKE_DL_LIBS};rt;pthread")
    list(TRANSFORM _perfex_kokkos_cuda_libs REPLACE "^CUDA::cudart$" "perfex_cudart_static")
    set_target_properties(Kokkos::CUDA PROPERTIES INTERFACE_LINK_LIBRARIES "${_perfex_kokkos_cuda_libs}")
    message(STATUS "perfex: the CUDA runtime is linked statically (${_perfex_cudart_dir}/libcudart_static.a)")
  else()
    message(STATUS "perfex: the CUDA runtime is linked as Kokkos says (no libcudart_static.a beside ${_perfex_cudart})")
  endif()
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

# Every test of a CUDA build needs the device. perfex, the benchmarks and the install consumer print "no
# CUDA device: ..." when there is none (perfex::backends::missing_device), and the Catch2 executables exit
# with Catch's skip code 4 (catch_discover_tests maps it). perfex_cuda_mark_device_tests(), called once in
# the top-level CMakeLists.txt, marks every test of every directory skipped when its output says so, except
# those registered with perfex_cuda_runs_without_device (e.g. `perfex info`, compile tests). ctest applies
# the marks from a last, test-only directory, after every other directory has defined its tests (CMake
# before 3.28 cannot set another directory's test properties at configure time).
function(perfex_cuda_runs_without_device)
  set_property(GLOBAL APPEND PROPERTY PERFEX_TESTS_WITHOUT_DEVICE ${ARGN})
endfunction()

# Call last in the top-level CMakeLists.txt: its test-only directory must come after every other one.
function(perfex_cuda_mark_device_tests)
  if(NOT PERFEX_CUDA)
    return()
  endif()
  set(src "${PROJECT_BINARY_DIR}/perfex_cuda_skip_src")
  file(WRITE "${src}/CMakeLists.txt"
    "set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES \"\${CMAKE_CURRENT_BINARY_DIR}/skip.cmake\")\n")
  add_subdirectory("${src}" "${PROJECT_BINARY_DIR}/perfex_cuda_skip")
  # The list is written once every directory has defined its tests.
  cmake_language(DEFER DIRECTORY "${PROJECT_SOURCE_DIR}" CALL _perfex_cuda_write_skip_marks)
endfunction()

function(_perfex_cuda_write_skip_marks)
  get_property(exempt GLOBAL PROPERTY PERFEX_TESTS_WITHOUT_DEVICE)
  set(marked "")
  set(dirs "${PROJECT_SOURCE_DIR}")
  while(dirs)
    list(POP_FRONT dirs dir)
    get_property(tests DIRECTORY "${dir}" PROPERTY TESTS)
    foreach(t IN LISTS tests)
      if(NOT t IN_LIST exempt)
        string(APPEND marked "  \"${t}\"\n")
      endif()
    endforeach()
    get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
    list(APPEND dirs ${subdirs})
  endwhile()
  set(content "# Generated by cmake/PerfexCuda.cmake: a CUDA build; these tests skip when there is no device.\n")
  if(marked)
    # (cmake -P scripts wrap their messages: the words may be split across lines. A program that does not
    # check first fails in Kokkos' initialisation with one of the CUDA errors for the same situation.)
    string(APPEND content "set_tests_properties(\n${marked}  PROPERTIES SKIP_REGULAR_EXPRESSION "
      "\"no[ \\n]+CUDA[ \\n]+device;cudaErrorInsufficientDriver;cudaErrorNoDevice\")\n")
  endif()
  file(WRITE "${PROJECT_BINARY_DIR}/perfex_cuda_skip/skip.cmake" "${content}")
endfunction()
