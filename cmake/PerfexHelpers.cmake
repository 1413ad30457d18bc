# Helpers shared by every perfex layer: warnings and the opt-in architecture flags, per target only.
function(perfex_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_17)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF POSITION_INDEPENDENT_CODE ON)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
  endif()
  if(PERFEX_ARCH_FLAGS)
    separate_arguments(_arch UNIX_COMMAND "${PERFEX_ARCH_FLAGS}")
    target_compile_options(${target} PRIVATE ${_arch})
  endif()
  if(COMMAND perfex_cuda_target_options)  # cmake/PerfexCuda.cmake: stricter device-code checks with nvcc
    perfex_cuda_target_options(${target})
  endif()
  # PERFEX_SANITIZE (e.g. "address,undefined"): instrument this target and link the runtimes into whatever
  # links it; every report is fatal. Debug builds get -O1 so instrumented Kokkos kernels stay fast enough.
  if(PERFEX_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${PERFEX_SANITIZE} -fno-omit-frame-pointer
      -fno-sanitize-recover=all $<$<CONFIG:Debug>:-O1>)
    target_link_options(${target} PUBLIC -fsanitize=${PERFEX_SANITIZE})
  endif()
endfunction()

# perfex_add_library(<layer> SOURCES ...): target perfex_<layer>, alias perfex::<layer>, exported name <layer>.
function(perfex_add_library layer)
  cmake_parse_arguments(ARG "INTERFACE" "" "SOURCES" ${ARGN})
  set(target perfex_${layer})
  if(ARG_INTERFACE)
    add_library(${target} INTERFACE)
    target_compile_features(${target} INTERFACE cxx_std_17)
    target_include_directories(${target} INTERFACE
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  else()
    add_library(${target} ${ARG_SOURCES})
    perfex_target_defaults(${target})
    target_include_directories(${target} PUBLIC
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  endif()
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${layer})
  add_library(perfex::${layer} ALIAS ${target})
  install(TARGETS ${target} EXPORT perfexTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  # The public headers; templates of generated headers (version.hpp.in) are not headers. Headers private to
  # a layer live in its src/ and are never installed.
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
endfunction()
