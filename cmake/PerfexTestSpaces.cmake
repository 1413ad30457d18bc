# The execution spaces the core tests run on, as ArborX and Cabana do it: the same test sources once per
# enabled Kokkos backend, one executable each. perfex::core is compiled for one space, perfex::ExecSpace
# (Kokkos' default space unless PERFEX_EXECUTION_SPACE is defined: core/include/perfex/core/types.hpp); for
# every other space to test, the tests get their own copy of core compiled for that space.
set(PERFEX_TEST_SPACES "all" CACHE STRING
  "Execution spaces the core tests run on: all (every enabled Kokkos space among Serial, Threads, OpenMP, Cuda), default (Kokkos' default space only), or a list such as Serial;OpenMP")

# Sets, in the caller's scope, PERFEX_TEST_DEFAULT_SPACE (Kokkos' default execution space, by name:
# Serial, Threads, OpenMP or Cuda; empty when Kokkos does not say) and PERFEX_TEST_OTHER_SPACES (the other
# spaces to test).
function(perfex_resolve_test_spaces)
  # Kokkos_DEVICES (KokkosConfigCommon.cmake) lists the enabled backends: OPENMP;SERIAL, CUDA;SERIAL, ...
  set(enabled "")
  foreach(space Cuda OpenMP Threads Serial)  # Kokkos' order of preference for its default space
    string(TOUPPER ${space} upper)
    if(upper IN_LIST Kokkos_DEVICES)
      list(APPEND enabled ${space})
    endif()
  endforeach()
  if(NOT enabled)
    # A Kokkos whose CMake package does not list its backends: the default space alone, whatever it is.
    message(WARNING "perfex tests: Kokkos_DEVICES ('${Kokkos_DEVICES}') names none of Cuda, OpenMP, Threads, "
      "Serial: the core tests run on Kokkos' default execution space only")
    set(PERFEX_TEST_DEFAULT_SPACE "" PARENT_SCOPE)
    set(PERFEX_TEST_OTHER_SPACES "" PARENT_SCOPE)
    return()
  endif()
  list(GET enabled 0 default_space)
  if(PERFEX_TEST_SPACES STREQUAL "all")
    set(spaces ${enabled})
  elseif(PERFEX_TEST_SPACES STREQUAL "default")
    set(spaces ${default_space})
  else()
    set(spaces "")
    foreach(space IN LISTS PERFEX_TEST_SPACES)
      if(NOT space IN_LIST enabled)
        message(FATAL_ERROR "PERFEX_TEST_SPACES: '${space}' is not an enabled Kokkos execution space (enabled: ${enabled})")
      endif()
      list(APPEND spaces ${space})
    endforeach()
  endif()
  list(REMOVE_ITEM spaces ${default_space})
  set(PERFEX_TEST_DEFAULT_SPACE ${default_space} PARENT_SCOPE)
  set(PERFEX_TEST_OTHER_SPACES ${spaces} PARENT_SCOPE)
  message(STATUS "perfex: core tests on ${default_space} (Kokkos' default space) ${spaces}")
endfunction()

# perfex_core_for_space(<space> <target>): a static library <target> made of perfex_core's sources, include
# directories, definitions and dependencies, compiled with PERFEX_EXECUTION_SPACE=Kokkos::<space> (public,
# so the tests linking it see the same perfex::ExecSpace). Built only for the tests.
function(perfex_core_for_space space target)
  get_target_property(dir perfex_core SOURCE_DIR)
  get_target_property(sources perfex_core SOURCES)
  set(absolute "")
  foreach(s IN LISTS sources)
    if(IS_ABSOLUTE "${s}")
      list(APPEND absolute "${s}")
    else()
      list(APPEND absolute "${dir}/${s}")
    endif()
  endforeach()
  add_library(${target} STATIC ${absolute})
  perfex_target_defaults(${target})  # warnings, flags, sanitizers: as perfex_core got them
  perfex_cuda_link_options(${target})
  foreach(property INCLUDE_DIRECTORIES COMPILE_DEFINITIONS LINK_LIBRARIES
                   INTERFACE_INCLUDE_DIRECTORIES INTERFACE_COMPILE_DEFINITIONS INTERFACE_LINK_LIBRARIES)
    get_target_property(value perfex_core ${property})
    if(value)
      set_property(TARGET ${target} APPEND PROPERTY ${property} ${value})
    endif()
  endforeach()
  target_compile_definitions(${target} PUBLIC PERFEX_EXECUTION_SPACE=Kokkos::${space})
endfunction()
