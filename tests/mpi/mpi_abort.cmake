# perfex extract-exposure under mpiexec (MPIEXEC, NP ranks, groups of GROUP_SIZE) with a rank that throws an
# unexpected exception (PERFEX_FAULT_INJECTION=rank-crash:R in the environment): the job must end (within
# the test's timeout: MPI_Abort, no hang) with a non-zero exit, the rank's message, and no file at all in
# the output directory (no frame, no temporary). HDF5_EXPOSURE: the frames go to one --hdf5-exposure file
# there (created when the job starts; written collectively in PERFEX_HDF5_PARALLEL builds), which must not
# be left either.
cmake_minimum_required(VERSION 3.20)
separate_arguments(ARGS UNIX_COMMAND "${ARGS}")
separate_arguments(PREFLAGS UNIX_COMMAND "${PREFLAGS}")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/out")
file(WRITE "${WORK_DIR}/manifest.txt" "${PRE} ${PSF} frame-1.fits\n${PRE} ${PSF} frame-2.fits\n")
set(output --output-dir "${WORK_DIR}/out")
if(HDF5_EXPOSURE)
  set(output --hdf5-exposure "${WORK_DIR}/out/exposure.h5")
endif()
execute_process(
  COMMAND "${MPIEXEC}" ${NP_FLAG} ${NP} ${PREFLAGS} "${PERFEX}" extract-exposure "${WORK_DIR}/manifest.txt"
          ${output} --group-size ${GROUP_SIZE} ${ARGS}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "exit ${rc}\nstderr: ${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "the job succeeded despite the crash")
endif()
if(NOT err MATCHES "perfex: error on rank [0-9]+ of ${NP}: injected crash[^\n]*ending the job")
  message(FATAL_ERROR "stderr does not report the crashed rank")
endif()
file(GLOB left "${WORK_DIR}/out/*" "${WORK_DIR}/out/.*")
if(left)
  message(FATAL_ERROR "files left in the output directory: ${left}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
