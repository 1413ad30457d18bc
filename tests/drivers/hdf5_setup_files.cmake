# Files for the HDF5 refusal tests in DIR: psf.fits, preproc.fits and frame.fits (a small extraction), an
# exposure file of two frames, and files perfex must refuse: altered.h5 (FLUX not FLUX64 in float32),
# truncated.h5 (half of an HDF5 frame), foreign.h5 (valid HDF5 without a frame, from TOOL), text.h5 (not HDF5).
cmake_minimum_required(VERSION 3.20)
set(run_dir "${DIR}")
include(${CMAKE_CURRENT_LIST_DIR}/../run_checked.cmake)
foreach(name psf.fits preproc.fits frame.fits frame.h5 altered.h5 exposure.h5 frames.txt truncated.h5 foreign.h5 text.h5)
  file(REMOVE "${DIR}/${name}")
endforeach()
set(grid -w 4500,4550,0.8 -n 25)
run("${PERFEX}" psf synth -o psf.fits --camera b --seed 8 --overwrite)
run("${PERFEX}" simulate -p psf.fits -o preproc.fits ${grid} --seed 9 --overwrite)
run("${PERFEX}" extract -i preproc.fits -p psf.fits -o frame.fits ${grid} --overwrite)
run("${PERFEX}" extract -i preproc.fits -p psf.fits -o frame.h5 ${grid} --overwrite)
run("${PERFEX}" extract -i preproc.fits -p psf.fits -o altered.h5 ${grid} --float64 --overwrite)
run("${TOOL}" alter altered.h5 FLUX)  # FLUX is no longer FLUX64 in float32
file(WRITE "${DIR}/frames.txt" "preproc.fits psf.fits frame-1.fits\npreproc.fits psf.fits frame-2.fits\n")
run("${PERFEX}" extract-exposure frames.txt --hdf5-exposure exposure.h5 ${grid} --overwrite)
file(SIZE "${DIR}/frame.h5" size)
math(EXPR half "${size} / 2")
run("${TOOL}" truncate frame.h5 truncated.h5 ${half})
run("${TOOL}" foreign foreign.h5)
file(WRITE "${DIR}/text.h5" "this is not an HDF5 file\n")
message(STATUS "frame.h5: ${size} bytes, truncated.h5: ${half}")
