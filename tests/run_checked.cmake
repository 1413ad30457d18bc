# Shared by the test scripts run with `cmake -P`: run(COMMAND...) runs a command in ${run_dir} (set by the
# including script), stops the script with the command's output when it fails, prints its stdout and leaves
# it in run_output.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err WORKING_DIRECTORY "${run_dir}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${ARGN}: exit ${rc}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
  set(run_output "${out}" PARENT_SCOPE)
endfunction()
