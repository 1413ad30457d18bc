# Runs `perfex extract` (PERFEX, the arguments in EXTRACT_ARGS, plus a model image) with OMP_NUM_THREADS=1 and
# 2, and checks with TOOL same-data that the frames and the model images hold the same data bytes in every
# HDU (headers may differ). Files go to WORK_DIR and are removed on success.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
separate_arguments(args UNIX_COMMAND "${EXTRACT_ARGS}")
foreach(threads 1 2)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env OMP_NUM_THREADS=${threads} OMP_PROC_BIND=spread OMP_PLACES=threads
            "${PERFEX}" extract ${args} --output "${WORK_DIR}/frame-${threads}.fits"
            --model "${WORK_DIR}/model-${threads}.fits"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "perfex extract (${threads} threads) failed with ${rc}:\n${out}${err}")
  endif()
  message(STATUS "${threads} thread(s): ${out}")
endforeach()
foreach(file frame model)
  execute_process(COMMAND "${TOOL}" same-data "${WORK_DIR}/${file}-1.fits" "${WORK_DIR}/${file}-2.fits"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the ${file} depends on the thread count: ${err}${out}")
  endif()
  message(STATUS "${file}: ${out}")
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "identical data for 1 and 2 threads")
