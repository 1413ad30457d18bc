# Reliability tests (issue 19), included by CMakeLists.txt (which defines RB_*): every member of each class of
# failure found by a hostile trial, through the perfex program. Each test names its class:
#  1 --overwrite replaces only regular files      2 an output that names an input     3 outputs as a set
#  4 full disks and I/O errors                    5 thread counts                     7 values float32 cannot hold
#  8 inputs that are not regular files            9 a PSF's bad PSFERR                10 messages
#  11 long names                                  also: PSF header values, counts, compressed output names.
set(RB_SPECIAL ${RB_DIR}/special)
set(RB_KEPT ${CMAKE_CURRENT_SOURCE_DIR}/expect_kept.cmake)
set(RB_PERFEX $<TARGET_FILE:perfex>)
add_test(NAME robust_inputs_special COMMAND ${RB_TOOL} make-special ${RB_SPECIAL} ${RB_DIR}/psf-r.fits ${RB_PRE})
set_tests_properties(robust_inputs_special PROPERTIES FIXTURES_REQUIRED "robust_psf;robust_preproc"
  FIXTURES_SETUP robust_special)

# rb_test(<name> <code> <message regex> [KEEP path|path...] [ENV var=value] COMMAND args...): the command exits
# with the code and one stderr line matching the regex, within 60 s (a hang fails), and leaves the KEEP paths
# as they were (stat: type, inode, size, time). Use long option names: cmake -P would take -i, -o... itself.
# OTHER_LINES: stderr may hold lines of others (libgomp's report of an OMP_NUM_THREADS it cannot parse, printed
# before perfex starts) besides perfex's one "perfex: error:" line.
function(rb_test name code message)
  cmake_parse_arguments(ARG "OTHER_LINES" "KEEP;ENV" "COMMAND" ${ARGN})
  set(env "${PERFEX_TEST_ENV}")
  if(ARG_ENV)
    list(FILTER env EXCLUDE REGEX "^OMP_NUM_THREADS=")
    list(APPEND env "${ARG_ENV}")
  endif()
  add_test(NAME robust_${name}
    COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=${code} "-DEXPECT_MESSAGE=${message}" "-DKEEP=${ARG_KEEP}"
            -DEXPECT_MPI=${ARG_OTHER_LINES} -P ${RB_KEPT} ${ARG_COMMAND})
  set_tests_properties(robust_${name} PROPERTIES ENVIRONMENT "${env}" TIMEOUT 60 LABELS robustness
    FIXTURES_REQUIRED "robust_inputs;robust_special")
endfunction()

set(RB_FAST --wavelength ${RB_GRID} --nspec 25)
set(RB_EX ${RB_PERFEX} extract --input ${RB_PRE} --psf ${RB_PSF} ${RB_FAST})
set(RB_S ${RB_SPECIAL})

# 8. Inputs that are not regular files: refused at once (a FIFO used to block forever), naming what they are.
foreach(case
    "psf_info_fifo|fifo: is a FIFO \\(named pipe\\), not a regular file|psf;info;${RB_S}/fifo"
    "psf_info_socket|socket: is a socket, not a regular file|psf;info;${RB_S}/socket"
    "psf_info_char_device|/dev/zero: is a character device|psf;info;/dev/zero"
    "psf_spot_fifo|fifo: is a FIFO|psf;spot;${RB_S}/fifo;--fiber;0;--wave;6000"
    "extract_input_fifo|fifo: is a FIFO|extract;--input;${RB_S}/fifo;--psf;${RB_PSF};--output;${RB_OUT}/fifo-in.fits;${RB_FAST}"
    "extract_psf_fifo|fifo: is a FIFO|extract;--input;${RB_PRE};--psf;${RB_S}/fifo;--output;${RB_OUT}/fifo-psf.fits;${RB_FAST}"
    "extract_fibermap_fifo|fifo: is a FIFO|extract;--input;${RB_PRE};--psf;${RB_PSF};--fibermap;${RB_S}/fifo;--output;${RB_OUT}/fifo-fm.fits;${RB_FAST}"
    "extract_input_socket|socket: is a socket|extract;--input;${RB_S}/socket;--psf;${RB_PSF};--output;${RB_OUT}/sock-in.fits;${RB_FAST}"
    "simulate_spectra_fifo|fifo: is a FIFO|simulate;--spectra;${RB_S}/fifo;--output;${RB_OUT}/fifo-sim.fits"
    "simulate_psf_fifo|fifo: is a FIFO|simulate;--psf;${RB_S}/fifo;--output;${RB_OUT}/fifo-sim2.fits"
    "compare_fifo|fifo: is a FIFO|compare;${RB_S}/fifo;${RB_S}/fifo"
    "pulls_fifo|fifo: is a FIFO|pulls;${RB_S}/fifo;${RB_S}/fifo"
    "exposure_manifest_fifo|fifo: cannot read the manifest \\(is a FIFO|extract-exposure;${RB_S}/fifo;--output-dir;${RB_OUT}")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 message)
  list(SUBLIST parts 2 -1 args)
  rb_test(${name} 1 "${message}" COMMAND ${RB_PERFEX} ${args})
endforeach()
if(PERFEX_ENABLE_HDF5)  # convert writes the other format: HDF5 for a FITS input (without HDF5, a usage error first)
  rb_test(convert_input_fifo 1 "fifo: is a FIFO" COMMAND ${RB_PERFEX} convert ${RB_S}/fifo ${RB_OUT}/fifo-convert.h5)
endif()

# 1. --overwrite replaces regular files only: a FIFO, a socket, a device, a dangling link or a link to a FIFO
# is refused (exit 2) with or without it, and stays what it was; an existing link needs --overwrite.
foreach(case
    "output_fifo|${RB_S}/fifo|is a FIFO \\(named pipe\\), not a regular file. perfex replaces regular files only|extract;--input;${RB_PRE};--psf;${RB_PSF};${RB_FAST};--overwrite;--output"
    "output_socket|${RB_S}/socket|is a socket, not a regular file|extract;--input;${RB_PRE};--psf;${RB_PSF};${RB_FAST};--overwrite;--output"
    "output_dev_null|/dev/null|/dev/null: is a character device|extract;--input;${RB_PRE};--psf;${RB_PSF};${RB_FAST};--overwrite;--output"
    "output_dangling_link|${RB_S}/dangling.fits|dangling link|extract;--input;${RB_PRE};--psf;${RB_PSF};${RB_FAST};--output"
    "output_dangling_link_overwrite|${RB_S}/dangling.fits|dangling link|extract;--input;${RB_PRE};--psf;${RB_PSF};${RB_FAST};--overwrite;--output"
    "output_link_without_overwrite|${RB_S}/link-to-regular.fits|the file exists \\(a symbolic link. use --overwrite|extract;--input;${RB_PRE};--psf;${RB_PSF};${RB_FAST};--output"
    "model_fifo|${RB_S}/fifo|-m/--model .*fifo: is a FIFO|extract;--input;${RB_PRE};--psf;${RB_PSF};${RB_FAST};--overwrite;--output;${RB_OUT}/model-fifo-frame.fits;--model"
    "simulate_output_fifo|${RB_S}/fifo|-o/--output .*fifo: is a FIFO|simulate;--nspec;25;--wavelength;${RB_GRID};--overwrite;--output"
    "simulate_truth_dev_null|/dev/null|--truth /dev/null: is a character device|simulate;--nspec;25;--wavelength;${RB_GRID};--overwrite;--output;${RB_OUT}/sim-truth-null.fits;--truth"
    "psf_synth_fifo|${RB_S}/fifo|fifo: is a FIFO|psf;synth;--overwrite;--output"
    "convert_output_socket|${RB_S}/socket|OUT .*socket: is a socket|convert;${RB_PRE};--overwrite")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 target)
  list(GET parts 2 message)
  list(SUBLIST parts 3 -1 args)
  set(keep "${target}")
  if(target MATCHES "^/dev/")  # a device's times are the system's business
    set(keep "")
  endif()
  rb_test(${name} 2 "${message}" KEEP "${keep}" COMMAND ${RB_PERFEX} ${args} ${target})
endforeach()

# 2. An output that is an input (the same file, also through a hard or symbolic link or another spelling) or
# another output: exit 2 before any work, the input untouched.
set(RB_CP --input ${RB_S}/pre.fits --psf ${RB_S}/psf.fits ${RB_FAST} --overwrite)
set(RB_KEEP_INPUTS "${RB_S}/pre.fits|${RB_S}/psf.fits|${RB_S}/pre-hard.fits|${RB_S}/pre-soft.fits|${RB_S}/psf-soft.fits")
foreach(case
    "output_is_input|-o/--output .*pre.fits is the same file as -i/--input|extract;${RB_CP};--output;${RB_S}/pre.fits"
    "output_is_input_hard_link|-o/--output .*pre-hard.fits is the same file as -i/--input|extract;${RB_CP};--output;${RB_S}/pre-hard.fits"
    "output_is_input_symlink|-o/--output .*pre-soft.fits is the same file as -i/--input|extract;${RB_CP};--output;${RB_S}/pre-soft.fits"
    "output_is_input_other_spelling|is the same file as -i/--input|extract;${RB_CP};--output;${RB_S}/open/../pre.fits"
    "output_is_psf_symlink|-o/--output .*psf-soft.fits is the same file as -p/--psf|extract;${RB_CP};--output;${RB_S}/psf-soft.fits"
    "model_is_psf|-m/--model .*psf.fits is the same file as -p/--psf|extract;${RB_CP};--output;${RB_OUT}/model-psf-frame.fits;--model;${RB_S}/psf.fits"
    "model_is_input|-m/--model .*pre-hard.fits is the same file as -i/--input|extract;${RB_CP};--output;${RB_OUT}/model-in-frame.fits;--model;${RB_S}/pre-hard.fits"
    "fibermap_is_output|-o/--output .*pre.fits is the same file as -i/--input|extract;${RB_CP};--fibermap;${RB_S}/pre.fits;--output;${RB_S}/pre.fits"
    "model_is_output_other_spelling|-m/--model and -o/--output name the same file|extract;${RB_CP};--output;${RB_OUT}/same.fits;--model;${RB_OUT}/../out/same.fits"
    "simulate_output_is_psf|-o/--output .*psf-soft.fits is the same file as -p/--psf|simulate;--psf;${RB_S}/psf.fits;--nspec;25;--wavelength;${RB_GRID};--overwrite;--output;${RB_S}/psf-soft.fits"
    "simulate_truth_is_psf|--truth .*psf.fits is the same file as -p/--psf|simulate;--psf;${RB_S}/psf.fits;--nspec;25;--wavelength;${RB_GRID};--overwrite;--output;${RB_OUT}/sim-psf.fits;--truth;${RB_S}/psf.fits"
    "simulate_output_is_spectra|-o/--output .*pre-hard.fits is the same file as --spectra|simulate;--spectra;${RB_S}/pre.fits;--overwrite;--output;${RB_S}/pre-hard.fits"
    "convert_output_is_input_hard_link|OUT .*pre-hard.fits is the same file as IN|convert;${RB_S}/pre.fits;${RB_S}/pre-hard.fits;--overwrite")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 message)
  list(SUBLIST parts 2 -1 args)
  rb_test(${name} 2 "${message}" KEEP "${RB_KEEP_INPUTS}" COMMAND ${RB_PERFEX} ${args})
endforeach()
# Exposure manifests: a line whose output is its input, one whose output is the PSF through a link, one whose
# output is another line's input.
set(RB_MANIFESTS ${RB_DIR}/manifests)
file(MAKE_DIRECTORY ${RB_MANIFESTS})
file(WRITE ${RB_MANIFESTS}/own-input.txt "${RB_S}/pre.fits ${RB_S}/psf.fits ${RB_S}/pre.fits\n")
file(WRITE ${RB_MANIFESTS}/psf-link.txt "${RB_S}/pre.fits ${RB_S}/psf.fits ${RB_S}/psf-soft.fits\n")
file(WRITE ${RB_MANIFESTS}/other-input.txt
  "${RB_S}/pre.fits ${RB_S}/psf.fits ${RB_OUT}/exposure-a.fits\n${RB_PRE} ${RB_PSF} ${RB_S}/pre-hard.fits\n")
foreach(case
    "own-input|frame 1 output .*pre.fits is the same file as .*frame 1 input"
    "psf-link|frame 1 output .*psf-soft.fits is the same file as .*frame 1 PSF"
    "other-input|frame 2 output .*pre-hard.fits is the same file as .*frame 1 input")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 message)
  rb_test(exposure_output_is_input_${name} 2 "${message}" KEEP "${RB_KEEP_INPUTS}"
    COMMAND ${RB_PERFEX} extract-exposure ${RB_MANIFESTS}/${name}.txt ${RB_FAST} --overwrite)
endforeach()

# 3. Outputs as a set. After the commit point a signal neither removes them nor claims to; at any moment the
# outputs are all there (complete) or none, with no temporary left.
add_test(NAME robust_interrupt_extract_after_commit
  COMMAND ${RB_TOOL} interrupt TERM outputs ${RB_DIR}/after-commit-extract frame.fits,model.fits --
          ${RB_EX} --output ${RB_DIR}/after-commit-extract/frame.fits --model ${RB_DIR}/after-commit-extract/model.fits)
add_test(NAME robust_interrupt_simulate_after_commit
  COMMAND ${RB_TOOL} interrupt INT outputs ${RB_DIR}/after-commit-simulate preproc.fits,truth.fits --
          ${RB_PERFEX} simulate --psf ${RB_PSF} --nspec 25 --wavelength ${RB_GRID} --seed 3
          --output ${RB_DIR}/after-commit-simulate/preproc.fits --truth ${RB_DIR}/after-commit-simulate/truth.fits)
add_test(NAME robust_interrupt_extract_sighup
  COMMAND ${RB_TOOL} interrupt HUP progress ${RB_DIR}/sighup-extract frame.fits,model.fits --
          ${RB_PERFEX} extract --input ${RB_PRE} --psf ${RB_PSF} --wavelength ${RB_GRID} --nspec 500 --verbose
          --output ${RB_DIR}/sighup-extract/frame.fits --model ${RB_DIR}/sighup-extract/model.fits)
add_test(NAME robust_interrupt_extract_at_any_moment
  COMMAND ${RB_TOOL} interrupt-sweep TERM 6 ${RB_DIR}/sweep-extract frame.fits,model.fits --
          ${RB_EX} --output ${RB_DIR}/sweep-extract/frame.fits --model ${RB_DIR}/sweep-extract/model.fits)
add_test(NAME robust_interrupt_simulate_at_any_moment
  COMMAND ${RB_TOOL} interrupt-sweep INT 6 ${RB_DIR}/sweep-simulate preproc.fits,truth.fits --
          ${RB_PERFEX} simulate --psf ${RB_PSF} --nspec 25 --wavelength ${RB_GRID} --seed 3
          --output ${RB_DIR}/sweep-simulate/preproc.fits --truth ${RB_DIR}/sweep-simulate/truth.fits)
set_tests_properties(robust_interrupt_extract_after_commit robust_interrupt_simulate_after_commit
  robust_interrupt_extract_sighup
  robust_interrupt_extract_at_any_moment robust_interrupt_simulate_at_any_moment
  PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}" FIXTURES_REQUIRED robust_inputs LABELS robustness TIMEOUT 600)
# A model name the file system cannot take: refused before any work, the frame not written either.
string(REPEAT "m" 300 RB_NAME_300)
add_test(NAME robust_extract_model_name_too_long
  COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 "-DEXPECT_MESSAGE=-m/--model .*the file name has 305 characters, more than the [0-9]+ the file system allows"
          -DOUTPUT=${RB_OUT}/long-model-frame.fits -P ${RB_EXPECT}/expect_no_output.cmake
          ${RB_EX} --output ${RB_OUT}/long-model-frame.fits --model ${RB_OUT}/${RB_NAME_300}.fits)
set_tests_properties(robust_extract_model_name_too_long PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}" TIMEOUT 30
  FIXTURES_REQUIRED robust_inputs LABELS robustness)

# 4. A full disk (a tmpfs in a private mount namespace; skipped where none can be mounted) or another I/O error:
# exit 1 naming the final output and the cause, nothing left behind, for FITS and HDF5, one output or a set.
set(RB_FULL ${RB_DIR}/full)
file(WRITE ${RB_MANIFESTS}/one-frame.txt "${RB_PRE} ${RB_PSF} frame-r0.fits\n")
function(rb_full_disk name kb message)
  file(MAKE_DIRECTORY ${RB_FULL}/${name})
  add_test(NAME robust_full_disk_${name}
    COMMAND ${RB_TOOL} full-disk ${kb} ${RB_FULL}/${name} "${message}" -- ${ARGN})
  set_tests_properties(robust_full_disk_${name} PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}" SKIP_RETURN_CODE 77
    FIXTURES_REQUIRED "robust_inputs;robust_special;robust_frame_poisoned" LABELS robustness TIMEOUT 120)
endfunction()
rb_full_disk(extract_fits 64 "frame\\.fits: cannot be written \\(no space left on device\\)"
  ${RB_EX} --output ${RB_FULL}/extract_fits/frame.fits)
rb_full_disk(extract_frame_fits_model_not 4096 "model\\.fits: cannot be written \\(no space left on device\\)"
  ${RB_EX} --output ${RB_FULL}/extract_frame_fits_model_not/frame.fits
  --model ${RB_FULL}/extract_frame_fits_model_not/model.fits)
rb_full_disk(simulate 1024 "preproc\\.fits: cannot be written \\(no space left on device\\)"
  ${RB_PERFEX} simulate --psf ${RB_PSF} --nspec 25 --wavelength ${RB_GRID}
  --output ${RB_FULL}/simulate/preproc.fits --truth ${RB_FULL}/simulate/truth.fits)
rb_full_disk(psf_synth 16 "psf\\.fits: cannot be written \\(no space left on device\\)"
  ${RB_PERFEX} psf synth --output ${RB_FULL}/psf_synth/psf.fits)
if(PERFEX_ENABLE_HDF5)
  rb_full_disk(extract_hdf5 64 "frame\\.h5: cannot be written \\(no space left on device\\)"
    ${RB_EX} --output ${RB_FULL}/extract_hdf5/frame.h5)
  rb_full_disk(convert_to_hdf5 64 "frame\\.h5: cannot be written \\(no space left on device\\)"
    ${RB_PERFEX} convert ${RB_OUT}/frame-poisoned.fits ${RB_FULL}/convert_to_hdf5/frame.h5)
  rb_full_disk(exposure_hdf5 64 "exposure\\.h5 not written: .*exposure\\.h5: cannot be written \\(no space left on device\\)"
    ${RB_PERFEX} extract-exposure ${RB_MANIFESTS}/one-frame.txt ${RB_FAST}
    --hdf5-exposure ${RB_FULL}/exposure_hdf5/exposure.h5)
endif()
# Collective writes (a parallel HDF5 under mpiexec): the disk space of each frame is allocated before HDF5
# writes it, so a full disk is a data error on every rank rather than a crash in HDF5's clean-up; the job ends
# (MPI_Abort, exit 1) and the temporary is removed. Run by the hdf5-parallel lane.
if(PERFEX_HDF5_PARALLEL)
  find_package(MPI REQUIRED COMPONENTS CXX)
  foreach(kb 64 4096)  # the file's first allocation fails; the first frame's does
    foreach(np 1 2)
      set(name mpi_exposure_hdf5_collective_full_disk_${kb}k_${np}_ranks)
      file(MAKE_DIRECTORY ${RB_FULL}/${name})
      add_test(NAME ${name}
        COMMAND ${RB_TOOL} full-disk --mpi ${kb} ${RB_FULL}/${name}
                "exposure\\.h5: cannot be written \\(no space left on device\\)" --
                ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np} ${MPIEXEC_PREFLAGS} ${RB_PERFEX} extract-exposure
                ${RB_MANIFESTS}/one-frame.txt ${RB_FAST} --hdf5-exposure ${RB_FULL}/${name}/exposure.h5)
      set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 FIXTURES_REQUIRED robust_inputs
        ENVIRONMENT "OMP_NUM_THREADS=1;OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1"
        LABELS robustness TIMEOUT 180 PROCESSORS 2)
    endforeach()
  endforeach()
endif()
rb_full_disk(exposure_frames 64 "frame-r0\\.fits not written: .*frame-r0\\.fits: cannot be written \\(no space left on device\\)"
  ${RB_PERFEX} extract-exposure ${RB_MANIFESTS}/one-frame.txt ${RB_FAST} --output-dir ${RB_FULL}/exposure_frames)
rb_full_disk(convert_to_fits 16 "converted\\.fits: cannot be written \\(no space left on device\\)"
  ${RB_PERFEX} convert ${RB_OUT}/frame-poisoned.fits ${RB_FULL}/convert_to_fits/converted.fits)
# A file-size limit (ulimit -f; needs no privilege): the same kind of data error, "file too large".
add_test(NAME robust_extract_file_size_limit
  COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1 "-DEXPECT_MESSAGE=fsize\\.fits: cannot be written \\(file too large\\)"
          -DOUTPUT=${RB_OUT}/fsize.fits -P ${RB_EXPECT}/expect_no_output.cmake
          ${RB_TOOL} limit fsize 64 -- ${RB_EX} --output ${RB_OUT}/fsize.fits)
set_tests_properties(robust_extract_file_size_limit PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED robust_inputs LABELS robustness)

# 5. Thread counts Kokkos 3.4's OpenMP backend cannot run: refused before Kokkos starts, naming the source; any
# count in 1..512 runs on any number of cores (512 threads on this machine's few: the same bytes as 2).
foreach(case
    "kokkos_threads_zero|--kokkos-threads=0: must be a number of threads in 1..512||--kokkos-threads=0"
    "kokkos_threads_513|--kokkos-threads=513: must be a number of threads in 1..512||--kokkos-threads=513"
    "kokkos_threads_600|--kokkos-threads=600: must be a number||--kokkos-threads=600"
    "omp_num_threads_1000|OMP_NUM_THREADS=1000: must be a number of threads in 1..512|OMP_NUM_THREADS=1000|"
    "omp_num_threads_zero|OMP_NUM_THREADS=0: must be|OMP_NUM_THREADS=0|"
    "omp_num_threads_text|OMP_NUM_THREADS=many: must be|OMP_NUM_THREADS=many|"
    "omp_num_threads_nested|OMP_NUM_THREADS=600,2: must be|OMP_NUM_THREADS=600,2|"
    "kokkos_num_threads_env|KOKKOS_NUM_THREADS=700: must be|KOKKOS_NUM_THREADS=700|")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 message)
  list(GET parts 2 env)
  list(GET parts 3 option)
  set(other)
  if(name MATCHES "zero|text")
    set(other OTHER_LINES)  # libgomp complains too
  endif()
  rb_test(${name} 2 "${message}" ${other} ENV "${env}" COMMAND ${RB_EX} --output ${RB_OUT}/threads-${name}.fits ${option})
endforeach()
add_test(NAME robust_extract_512_threads
  COMMAND ${RB_EX} --output ${RB_OUT}/threads-512.fits --overwrite --kokkos-threads=512)
add_test(NAME robust_extract_2_threads
  COMMAND ${RB_EX} --output ${RB_OUT}/threads-2.fits --overwrite)
set_tests_properties(robust_extract_512_threads robust_extract_2_threads PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED robust_inputs FIXTURES_SETUP robust_threads LABELS robustness)
add_test(NAME robust_extract_512_threads_same_bytes
  COMMAND ${RB_TOOL} same-data ${RB_OUT}/threads-512.fits ${RB_OUT}/threads-2.fits)
set_tests_properties(robust_extract_512_threads_same_bytes PROPERTIES FIXTURES_REQUIRED robust_threads
  LABELS robustness)

# 7. Values: --regularize beyond what the solver can use is refused; pixels whose value or weight would overflow
# are masked (+-1e30, near float32's largest, IVAR 1e20, an int16 image with BZERO 1e38), and the frames hold
# finite, sane values only; simulated photons are bounded, and the largest allowed give finite pixels.
foreach(case
    "regularize_1e20|--regularize must be a finite number >= 0 and <= 1e8.*got 1e\\+20|--regularize;1e20"
    "regularize_1e160|--regularize must be a finite number >= 0 and <= 1e8|--regularize;1e160"
    "cosmics_too_many|--cosmics: Value 100001 not in range|simulate")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 message)
  list(SUBLIST parts 2 -1 args)
  if(name STREQUAL "cosmics_too_many")
    rb_test(${name} 2 "${message}" COMMAND ${RB_PERFEX} simulate --cosmics 100001 --output ${RB_OUT}/cosmics.fits)
  else()
    rb_test(${name} 2 "${message}" COMMAND ${RB_EX} --output ${RB_OUT}/${name}.fits ${args})
  endif()
endforeach()
foreach(case
    "regularize_1e8|${RB_PRE}|--regularize,1e8|--max-abs-flux,1e7"
    "huge_pixels|${RB_IN}/huge-pixels.fits||--max-abs-flux,1e7"
    "float32_max_pixels|${RB_IN}/float32-max-pixels.fits||--max-abs-flux,1e7"
    "ivar_huge|${RB_IN}/ivar-huge.fits||--max-abs-flux,1e7"
    "int16_bzero|${RB_IN}/int16-bzero.fits||--allow-unconstrained")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 input)
  list(GET parts 2 options)
  list(GET parts 3 check)
  string(REPLACE "," ";" options "${options}")
  string(REPLACE "," ";" check "${check}")
  add_test(NAME robust_values_${name}
    COMMAND ${RB_PERFEX} extract --input ${input} --psf ${RB_PSF} ${RB_FAST} --float64 --overwrite
            --output ${RB_OUT}/values-${name}.fits ${options})
  set_tests_properties(robust_values_${name} PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
    FIXTURES_REQUIRED robust_inputs FIXTURES_SETUP robust_values_${name} LABELS robustness
    PASS_REGULAR_EXPRESSION "wrote .*values-${name}\\.fits: 25 fibers")
  add_test(NAME robust_values_${name}_is_finite
    COMMAND ${RB_TOOL} check-frame ${check} ${RB_OUT}/values-${name}.fits)
  set_tests_properties(robust_values_${name}_is_finite PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
    FIXTURES_REQUIRED robust_values_${name} LABELS robustness)
endforeach()
# Header values of perfex simulate FITS cannot hold or DESI's data model does not allow: refused before any work.
rb_test(simulate_exptime_nan 2 "--exptime: must be a number of seconds in \\(0, 1e6\\], got 'nan'"
  COMMAND ${RB_PERFEX} simulate --exptime nan --output ${RB_OUT}/exptime-nan.fits)
rb_test(simulate_exptime_inf 2 "--exptime: must be a number of seconds in \\(0, 1e6\\], got 'inf'"
  COMMAND ${RB_PERFEX} simulate --exptime inf --output ${RB_OUT}/exptime-inf.fits)
rb_test(simulate_expid_huge 2 "--expid: Value 99999999999999999999 not in range"
  COMMAND ${RB_PERFEX} simulate --expid 99999999999999999999 --output ${RB_OUT}/expid-huge.fits)
rb_test(simulate_spectra_huge 1 "spectra-huge\\.fits\\[PHOTONS\\]: photons must be finite and >= 0 and <= 1e15"
  COMMAND ${RB_PERFEX} simulate --psf ${RB_PSF} --spectra ${RB_IN}/spectra-huge.fits --output ${RB_OUT}/sim-huge.fits)
add_test(NAME robust_values_simulate_1e15
  COMMAND ${RB_PERFEX} simulate --psf ${RB_PSF} --spectra ${RB_IN}/spectra-1e15.fits --overwrite
          --output ${RB_OUT}/sim-1e15.fits)
set_tests_properties(robust_values_simulate_1e15 PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED robust_inputs FIXTURES_SETUP robust_sim_1e15 LABELS robustness)
add_test(NAME robust_values_simulate_1e15_is_finite COMMAND ${RB_TOOL} check-preproc ${RB_OUT}/sim-1e15.fits)
set_tests_properties(robust_values_simulate_1e15_is_finite PROPERTIES FIXTURES_REQUIRED robust_sim_1e15
  LABELS robustness)

# 9 and PSF header values: a PSF's own PSFERR, FIBERMIN and FIBERMAX are the file's data errors.
foreach(case
    "psferr_negative|psf-psferr-negative\\.fits\\[PSF\\]: keyword PSFERR must be a finite number > 0.*found -0\\.5"
    "psferr_zero|psf-psferr-zero\\.fits\\[PSF\\]: keyword PSFERR must be a finite number > 0.*found 0"
    "fibermax_below|psf-fibermax-below\\.fits\\[XTRACE\\]: keyword FIBERMAX is 3, below FIBERMIN 10"
    "fibermin_negative|psf-fibermin-negative\\.fits\\[PSF\\]: keyword FIBERMIN must be a fiber index >= 0, found -5"
    "fibermax_count|psf-fibermax-count\\.fits\\[YTRACE\\]: keywords FIBERMIN 0 and FIBERMAX 99 give 100 fibers, the HDU has 500"
    "negative_sigma|psf-negative-sigma\\.fits: HDU PSF row GHSIGX is -0\\.5 at fiber 7")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 message)
  string(REPLACE "_" "-" file "${name}")
  rb_test(psf_${name} 1 "${message}" COMMAND ${RB_PERFEX} extract --input ${RB_PRE} --psf ${RB_IN}/psf-${file}.fits
    ${RB_FAST} --output ${RB_OUT}/psf-${name}.fits)
  rb_test(psf_info_${name} 1 "${message}" COMMAND ${RB_PERFEX} psf info ${RB_IN}/psf-${file}.fits)
endforeach()
# A sigma that turns negative just past the domain, where the padding bins of an extraction reach: the spot
# kernels fail; the message names the file, the fiber, the wavelength and the one cause.
rb_test(psf_evaluation_names_file_and_cause 1
  "psf-sigma-edge\\.fits: the PSF cannot be evaluated at fiber [0-9]+, wavelength [0-9.]+ A: PARAM GHSIGX is -[0-9.e-]+ there \\(Gauss-Hermite sigmas must be positive\\)"
  COMMAND ${RB_PERFEX} extract --input ${RB_PRE} --psf ${RB_IN}/psf-sigma-edge.fits --wavelength 7700,7840,0.8
  --nspec 25 --output ${RB_OUT}/psf-sigma-edge.fits)

# 10. Messages. As an unprivileged user (nobody, when the tests run as root): a file without read permission,
# one in a directory without search permission, an output directory that cannot be reached.
rb_test(unreadable_file 1 "unreadable\\.fits: cannot be opened for reading \\(permission denied\\)"
  COMMAND ${RB_TOOL} as-user -- ${RB_PERFEX} psf info ${RB_S}/unreadable.fits)
rb_test(unreadable_input 1 "unreadable\\.fits: cannot be opened for reading \\(permission denied\\)"
  COMMAND ${RB_TOOL} as-user -- ${RB_PERFEX} extract --input ${RB_S}/unreadable.fits --psf ${RB_PSF} ${RB_FAST}
  --output ${RB_S}/open/unreadable-frame.fits)
rb_test(unsearchable_directory 1 "locked/psf\\.fits: permission denied \\(a directory on its path cannot be searched\\)"
  COMMAND ${RB_TOOL} as-user -- ${RB_PERFEX} psf info ${RB_S}/locked/psf.fits)
rb_test(unsearchable_manifest 1 "locked/psf\\.fits: cannot read the manifest \\(permission denied \\(a directory on its path cannot be searched\\)\\)"
  COMMAND ${RB_TOOL} as-user -- ${RB_PERFEX} extract-exposure ${RB_S}/locked/psf.fits)
rb_test(unsearchable_output_directory 1 "directory .*locked cannot be entered \\(permission denied"
  COMMAND ${RB_TOOL} as-user -- ${RB_PERFEX} extract --input ${RB_PRE} --psf ${RB_PSF} ${RB_FAST}
  --output ${RB_S}/locked/frame.fits)
rb_test(compare_negative_fibers 2 "--fibers '-5:3': fiber numbers must be >= 0"
  COMMAND ${RB_PERFEX} compare ${RB_OUT}/a.fits ${RB_OUT}/b.fits --fibers -5:3)
rb_test(exptime_not_mjd 1 "exptime-bad\\.fits.*: keyword EXPTIME is 1e\\+30, not an exposure time"
  COMMAND ${RB_PERFEX} extract --input ${RB_IN}/exptime-bad.fits --psf ${RB_PSF} ${RB_FAST} --barycentric-correction
  --output ${RB_OUT}/exptime-bad-frame.fits)
if(NOT PERFEX_SANITIZE)  # ASan reserves terabytes of address space: no address-space limit under it
  # Every fiber on the PSF's whole grid with all 20 bundles' spots at once (~1.8 GB) under a 1.2 GB address
  # space: the inputs and the frame's arrays (~0.5 GB) fit whatever the libraries' footprint (Kokkos 3.4 or 5),
  # the spot cache does not.
  rb_test(out_of_memory 1 "perfex: error: out of memory: allocating [0-9.]+ GB for perfex::spots::spots failed \\(.*--bundles-per-chunk"
    COMMAND ${RB_TOOL} limit as 1200000 -- ${RB_PERFEX} extract --input ${RB_PRE} --psf ${RB_PSF}
    --bundles-per-chunk 20 --output ${RB_OUT}/oom.fits)
endif()

# 11. Long names: a legal 255-character name works (its temporary is shortened to fit); a name or a path the
# file system cannot take is refused at once.
string(REPEAT "n" 250 RB_NAME_250)
add_test(NAME robust_extract_longest_name COMMAND ${RB_EX} --overwrite --output ${RB_OUT}/${RB_NAME_250}.fits)
set_tests_properties(robust_extract_longest_name PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED robust_inputs LABELS robustness PASS_REGULAR_EXPRESSION "wrote .*${RB_NAME_250}\\.fits: 25 fibers")
rb_test(output_name_too_long 2 "the file name has 305 characters, more than the [0-9]+ the file system allows \\(NAME_MAX\\)"
  COMMAND ${RB_EX} --output ${RB_OUT}/${RB_NAME_300}.fits)
string(REPEAT "d/" 2100 RB_DEEP)
rb_test(output_path_too_long 2 "the path has [0-9]+ characters, more than the [0-9]+ a path may have"
  COMMAND ${RB_EX} --output ${RB_OUT}/${RB_DEEP}frame.fits)

# Compressed output names perfex does not write (a .gz name is written gzip-compressed: compressed_output_tests).
rb_test(output_fpack_name 2 "-o/--output .*frame\\.fits\\.fz: perfex does not write \\.fz files \\(fpack-compressed\\)"
  COMMAND ${RB_EX} --output ${RB_OUT}/frame.fits.fz)
rb_test(simulate_output_bzip2_name 2 "perfex does not write \\.bz2 files \\(bzip2-compressed\\)"
  COMMAND ${RB_PERFEX} simulate --output ${RB_OUT}/preproc.fits.bz2)
