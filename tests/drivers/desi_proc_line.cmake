# ctest cli_extract_desi_proc_cpu_line: desi_proc's CPU-node extraction line on a full simulated r frame
# with pointing keywords: `perfex extract -i P -p PSF -o F -w 5760.0,7620.0,0.8 --psferr 0.01 --no-gpu
# --barycentric-correction` must exit 0 and write HELIOCOR != 1.
# -DPERFEX=... -DTOOL=... -DPSF=... -DWORK_DIR=...
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(pre "${WORK_DIR}/preproc-r0-00000001.fits")
set(frame "${WORK_DIR}/frame-r0-00000001-no-badcolumn-mask.fits")
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${ARGN}\nfailed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
run("${PERFEX}" simulate -p "${PSF}" -o "${pre}" --seed 11 --exptime 900)
run("${TOOL}" set-keys "${pre}" TARGTRA=150.1 TARGTDEC=2.2)
run("${PERFEX}" extract -i "${pre}" -p "${PSF}" -o "${frame}" -w 5760.0,7620.0,0.8 --psferr 0.01 --no-gpu
    --barycentric-correction)
run("${TOOL}" heliocor "${frame}")
