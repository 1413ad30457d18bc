# Shared by the expect_*.cmake scripts, run as `cmake -DEXPECT_CODE=N [-DEXPECT_MESSAGE=regex] ... -P SCRIPT
# COMMAND...`: `expect_command` is COMMAND (every argument after the script's path); expect_run() runs it and
# checks its exit code and its message; expect_no_output_left() checks that OUTPUT and its temporaries are gone.
set(expect_command)
set(_expect_state before)
math(EXPR _expect_last "${CMAKE_ARGC} - 1")
foreach(_expect_i RANGE 0 ${_expect_last})
  if(_expect_state STREQUAL "command")
    list(APPEND expect_command "${CMAKE_ARGV${_expect_i}}")
  elseif(_expect_state STREQUAL "script")
    set(_expect_state command)
  elseif("${CMAKE_ARGV${_expect_i}}" STREQUAL "-P")
    set(_expect_state script)
  endif()
endforeach()

# Fails the test with `text`. In a CUDA build on a machine without a GPU the steps that made this test's inputs
# with the perfex program skipped (cmake/PerfexCuda.cmake), so a command that finds them missing fails in
# another way: when the command's perfex says it has no device, the failure says so first, which ctest's skip
# expression for CUDA builds takes as a skip.
function(expect_fail text)
  foreach(arg IN LISTS expect_command)
    get_filename_component(name "${arg}" NAME)
    if(name STREQUAL "perfex" AND EXISTS "${arg}")
      execute_process(COMMAND "${arg}" info OUTPUT_VARIABLE probe ERROR_QUIET RESULT_VARIABLE probe_rc)
      if(probe MATCHES "unavailable: (no CUDA device[^)\n]*)")
        message(FATAL_ERROR "${CMAKE_MATCH_1}: skipping (its inputs come from steps that need the device)\n${text}")
      endif()
      break()
    endif()
  endforeach()
  message(FATAL_ERROR "${text}")
endfunction()

# Runs the command; it must exit with EXPECT_CODE and say EXPECT_MESSAGE (when given) in one line: stderr is
# that line, or with EXPECT_MPI (mpiexec adds its own report) stderr has exactly one "perfex: error:" line.
# Leaves rc, out, err and expect_summary (the line checked) in the caller's scope.
macro(expect_run)
  execute_process(COMMAND ${expect_command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL EXPECT_CODE)
    expect_fail("expected exit code ${EXPECT_CODE}, got ${rc}\nstdout: ${out}\nstderr: ${err}")
  endif()
  if(EXPECT_MPI)
    string(REGEX MATCHALL "perfex: error: [^\n]*" expect_summary "${err}")
    list(LENGTH expect_summary _expect_lines)
    if(NOT _expect_lines EQUAL 1 OR (DEFINED EXPECT_MESSAGE AND NOT expect_summary MATCHES "${EXPECT_MESSAGE}"))
      expect_fail("expected one 'perfex: error:' line mentioning '${EXPECT_MESSAGE}', got:\n${err}")
    endif()
  else()
    if(DEFINED EXPECT_MESSAGE AND NOT err MATCHES "${EXPECT_MESSAGE}")
      expect_fail("stderr does not mention '${EXPECT_MESSAGE}': ${err}")
    endif()
    string(STRIP "${err}" expect_summary)
    string(FIND "${expect_summary}" "\n" _expect_newline)
    if(NOT _expect_newline EQUAL -1)
      expect_fail("expected a one-line message on stderr, got:\n${err}")
    endif()
  endif()
endmacro()

# OUTPUT must not exist, nor a temporary file of perfex's atomic writer beside it.
function(expect_no_output_left)
  if(EXISTS "${OUTPUT}")
    message(FATAL_ERROR "${OUTPUT} was written")
  endif()
  get_filename_component(dir "${OUTPUT}" DIRECTORY)
  get_filename_component(name "${OUTPUT}" NAME)
  file(GLOB leftovers "${dir}/.${name}.tmp-*")
  if(leftovers)
    message(FATAL_ERROR "temporary files left behind: ${leftovers}")
  endif()
endfunction()
