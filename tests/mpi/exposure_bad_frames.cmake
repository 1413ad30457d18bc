# perfex extract-exposure of a manifest listing three good frames (PRE with PSF) and two bad ones (a preproc
# that is not FITS, a missing PSF), on one process or under mpiexec on NP ranks in groups of GROUP_SIZE:
# exit 1, each bad frame reported with its file, every good frame written with REF's data, nothing else.
cmake_minimum_required(VERSION 3.20)
separate_arguments(ARGS UNIX_COMMAND "${ARGS}")
separate_arguments(PREFLAGS UNIX_COMMAND "${PREFLAGS}")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/out")
file(WRITE "${WORK_DIR}/garbage.fits" "not a FITS file\n")
file(WRITE "${WORK_DIR}/manifest.txt"
  "# input psf output\n"
  "${PRE} ${PSF} frame-good-1.fits\n"
  "${WORK_DIR}/garbage.fits ${PSF} frame-bad-preproc.fits   # unreadable image\n"
  "\n"
  "${PRE} ${PSF} frame-good-2.fits\n"
  "${PRE} ${WORK_DIR}/no-such-psf.fits frame-bad-psf.fits\n"
  "${PRE} ${PSF} frame-good-3.fits\n")
set(launch)
if(DEFINED NP)
  set(launch "${MPIEXEC}" ${NP_FLAG} ${NP} ${PREFLAGS})
endif()
execute_process(
  COMMAND ${launch} "${PERFEX}" extract-exposure "${WORK_DIR}/manifest.txt" --output-dir "${WORK_DIR}/out"
          --group-size ${GROUP_SIZE} ${ARGS}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "exit ${rc}\nstdout: ${out}\nstderr: ${err}")
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "expected exit code 1, got ${rc}")
endif()
foreach(expected "frame-bad-preproc.fits not written: [^\n]*garbage.fits" "frame-bad-psf.fits not written: [^\n]*no-such-psf.fits")
  if(NOT err MATCHES "${expected}")
    message(FATAL_ERROR "stderr does not report '${expected}'")
  endif()
endforeach()
if(NOT out MATCHES "5 frames, 3 written, 2 failed")
  message(FATAL_ERROR "the summary does not say '5 frames, 3 written, 2 failed'")
endif()
foreach(k 1 2 3)
  execute_process(COMMAND "${EQUAL}" "${REF}" "${WORK_DIR}/out/frame-good-${k}.fits" RESULT_VARIABLE differ
                  OUTPUT_VARIABLE cmp)
  if(differ)
    message(FATAL_ERROR "frame-good-${k}.fits: ${cmp}")
  endif()
endforeach()
file(GLOB written RELATIVE "${WORK_DIR}/out" "${WORK_DIR}/out/*" "${WORK_DIR}/out/.*")
list(SORT written)
if(NOT written STREQUAL "frame-good-1.fits;frame-good-2.fits;frame-good-3.fits")
  message(FATAL_ERROR "expected the three good frames only, found: ${written}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
