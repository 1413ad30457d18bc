# Runs `perfex simulate` (PERFEX, then the arguments in SIM_ARGS) with OMP_NUM_THREADS=1 and 2 and the same
# seed, and checks that the preproc and truth files are identical byte for byte; then with another seed,
# and checks that the preproc differs. Files go to WORK_DIR and are removed on success.
file(MAKE_DIRECTORY "${WORK_DIR}")
separate_arguments(args UNIX_COMMAND "${SIM_ARGS}")
function(simulate threads seed name)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env OMP_NUM_THREADS=${threads} OMP_PROC_BIND=spread OMP_PLACES=threads
            "${PERFEX}" simulate ${args} --seed ${seed} -o "${WORK_DIR}/${name}.fits" --truth "${WORK_DIR}/${name}-truth.fits"
            --overwrite
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "perfex simulate (${threads} threads) failed with ${rc}:\n${out}${err}")
  endif()
  message(STATUS "${threads} thread(s), seed ${seed}: ${out}")
endfunction()
function(compare a b expect_same)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${WORK_DIR}/${a}" "${WORK_DIR}/${b}" RESULT_VARIABLE differ)
  if(expect_same AND differ)
    message(FATAL_ERROR "${a} and ${b} differ: the simulation depends on the thread count")
  elseif(NOT expect_same AND NOT differ)
    message(FATAL_ERROR "${a} and ${b} are identical: the seed is ignored")
  endif()
endfunction()
simulate(1 17 one)
simulate(2 17 two)
compare(one.fits two.fits TRUE)
compare(one-truth.fits two-truth.fits TRUE)
simulate(2 18 other)
compare(one.fits other.fits FALSE)
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "identical for 1 and 2 threads; another seed differs")
