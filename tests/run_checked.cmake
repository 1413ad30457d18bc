# Shared by the test scripts run with `cmake -P`: run(COMMAND...) runs a command in ${run_dir} (set by the
# including script), stops the script with the command's output when it fails, prints its stdout and leaves
# it in run_output; expect_same_bytes() below compares two files.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err WORKING_DIRECTORY "${run_dir}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${ARGN}: exit ${rc}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

# expect_same_bytes(A B [WHAT]): stops the script unless files A and B (relative paths: in ${run_dir}) hold
# the same bytes; WHAT, when given, says what was compared.
function(expect_same_bytes a b)
  foreach(f a b)
    if(NOT IS_ABSOLUTE "${${f}}")
      set(${f} "${run_dir}/${${f}}")
    endif()
  endforeach()
  set(what "${ARGN}")
  if(what)
    set(what "${what}: ")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${a}" "${b}" RESULT_VARIABLE differ)
  if(differ)
    message(FATAL_ERROR "${what}${a} and ${b} differ")
  endif()
  message(STATUS "${what}${a} and ${b}: identical bytes")
endfunction()
