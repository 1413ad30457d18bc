# CLI tests of perfex extract, compare and pulls (included from tests/drivers/CMakeLists.txt): a simulated
# bundle through the synthetic PSF of the psf_synth fixture, exit codes, one-line messages, no partial output.
set(EX_DIR ${CMAKE_CURRENT_BINARY_DIR}/extract)
file(MAKE_DIRECTORY ${EX_DIR})
set(EX_PRE ${EX_DIR}/preproc-sim.fits)
set(EX_TRUTH ${EX_DIR}/truth-sim.fits)
set(EX_FRAME ${EX_DIR}/frame-sim.fits)
set(EX_MODEL ${EX_DIR}/model-sim.fits)
set(EX_OUT ${EX_DIR}/frame-error.fits)
set(EX_GRID 6000,6400,0.8)
set(EX_EXPECT_FAIL -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_no_output.cmake $<TARGET_FILE:perfex> extract)

# Inputs: one bundle of built-in spectra, with cosmic rays and defects, on a short grid.
add_test(NAME cli_extract_simulate_inputs
  COMMAND perfex simulate -p ${PSF_SYNTH} -o ${EX_PRE} --truth ${EX_TRUTH} -n 25 -w ${EX_GRID} --seed 4
          --cosmics 100 --defects --overwrite)
set_tests_properties(cli_extract_simulate_inputs PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED psf_synth FIXTURES_SETUP extract_inputs)

add_test(NAME cli_extract_bundle
  COMMAND perfex extract -i ${EX_PRE} -p ${PSF_SYNTH} -o ${EX_FRAME} -m ${EX_MODEL} -w ${EX_GRID} -n 25 --float64
          --overwrite)
set_tests_properties(cli_extract_bundle PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED "psf_synth;extract_inputs" FIXTURES_SETUP extract_frame
  PASS_REGULAR_EXPRESSION "wrote .*frame-sim.fits: 25 fibers \\(0\\.\\.24\\) x 501 bins \\(6000\\.0\\.\\.6400\\.0 A\\).*wrote .*model-sim.fits: model image")
# The default grid: what every fiber covers on the CCD, on multiples of 0.8 A.
add_test(NAME cli_extract_default_grid
  COMMAND perfex extract -i ${EX_PRE} -p ${PSF_SYNTH} -o ${EX_DIR}/frame-default.fits -n 25 --overwrite)
set_tests_properties(cli_extract_default_grid PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED "psf_synth;extract_inputs"
  PASS_REGULAR_EXPRESSION "25 fibers \\(0\\.\\.24\\) x [0-9]+ bins \\(5[0-9][0-9][0-9]\\.[0-9]\\.\\.7[0-9][0-9][0-9]\\.[0-9] A\\)")
add_test(NAME cli_compare_same_frame COMMAND perfex compare ${EX_FRAME} ${EX_FRAME} --fibers 0:10)
set_tests_properties(cli_compare_same_frame PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}" FIXTURES_REQUIRED extract_frame
  PASS_REGULAR_EXPRESSION "fibers 0\\.\\.9 x 501 bins.*0\\.000e\\+00 +0\\.000e\\+00 +0\\.000e\\+00.*mask disagreements: 0 bins")
add_test(NAME cli_compare_float32_vs_float64 COMMAND perfex compare ${EX_FRAME} ${EX_FRAME} --float32)
set_tests_properties(cli_compare_float32_vs_float64 PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}" FIXTURES_REQUIRED extract_frame
  PASS_REGULAR_EXPRESSION "A: .*float32 HDUs")
add_test(NAME cli_pulls_against_truth COMMAND perfex pulls ${EX_FRAME} ${EX_TRUTH})
set_tests_properties(cli_pulls_against_truth PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}" FIXTURES_REQUIRED extract_frame
  PASS_REGULAR_EXPRESSION "pulls \\(flux - R truth\\) sqrt\\(ivar\\): 25 fibers, [0-9]+ bins .*mean [+-]0\\.0[0-9]+, std (0\\.9[0-9]+|1\\.0[0-9]+)")

# (Long option names: cmake -P would take -i, -w... for its own options.)
# Usage errors (exit 2) come before any file is read: the input and PSF named here do not exist.
set(EX_ABSENT --input ${EX_DIR}/absent-preproc.fits --psf ${EX_DIR}/absent-psf.fits --output ${EX_OUT})
foreach(case
    "w_unparsable|expected three numbers|--wavelength;6500,abc,0.8"
    "w_two_values|expected three numbers|--wavelength;6500,6600"
    "w_reversed|wmax is below wmin|--wavelength;6600,6500,0.8"
    "w_zero_step|dw must be positive|--wavelength;6500,6600,0"
    "w_one_bin|at least 2|--wavelength;6500,6500,0.8"
    "bundlesize_not_divisible|divisible by --nsubbundles 4|--nsubbundles;4"
    "specmin_misaligned|--specmin 10 must be a multiple of --bundlesize 25|--specmin;10"
    "nspec_misaligned|--nspec 30 must be a multiple|--nspec;30"
    "nspec_not_a_number|--nspec|--nspec;abc"
    "pixpad_out_of_range|--pixpad-frac|--pixpad-frac;2"
    "nwavestep_zero|--nwavestep|--nwavestep;0"
    "decorrelate_fibers|advises against|--decorrelate-fibers"
    "heliocor_and_barycentric|exclusive|--heliocor;1.0001;--barycentric-correction")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 message)
  list(SUBLIST parts 2 -1 extra)
  add_test(NAME cli_extract_${name}_is_usage_error
    COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 "-DEXPECT_MESSAGE=${message}" -DOUTPUT=${EX_OUT} ${EX_EXPECT_FAIL}
            ${EX_ABSENT} ${extra})
endforeach()
add_test(NAME cli_extract_existing_output_is_usage_error
  COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 -DEXPECT_MESSAGE=--overwrite -DKEEP_FILE=${EX_DIR}/frame-existing.fits
          -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_file_kept.cmake $<TARGET_FILE:perfex> extract
          --input ${EX_DIR}/absent-preproc.fits --psf ${EX_DIR}/absent-psf.fits --output ${EX_DIR}/frame-existing.fits)

# Data errors (exit 1): nothing written.
foreach(case
    "missing_input|absent-preproc.fits: no such file|--input;${EX_DIR}/absent-preproc.fits;--psf;${PSF_SYNTH};--wavelength;${EX_GRID}"
    "grid_outside_psf|outside the wavelength range|--input;${EX_PRE};--psf;${PSF_SYNTH};--wavelength;3000,3200,0.8"
    "fibers_beyond_psf|asks for fibers 475\\.\\.524, .* has fibers 0\\.\\.499|--input;${EX_PRE};--psf;${PSF_SYNTH};--wavelength;${EX_GRID};--specmin;475;--nspec;50"
    "specmin_beyond_psf|--specmin 500: .* has fibers 0\\.\\.499|--input;${EX_PRE};--psf;${PSF_SYNTH};--wavelength;${EX_GRID};--specmin;500"
    "fibermap_without_table|HDU FIBERMAP is missing|--input;${EX_PRE};--psf;${PSF_SYNTH};--wavelength;${EX_GRID};--fibermap;${PSF_SYNTH}"
    "psf_is_not_a_psf|preproc-sim.fits|--input;${EX_PRE};--psf;${EX_PRE};--wavelength;${EX_GRID}")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 message)
  list(SUBLIST parts 2 -1 extra)
  add_test(NAME cli_extract_${name}_is_data_error
    COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1 "-DEXPECT_MESSAGE=${message}" -DOUTPUT=${EX_OUT} ${EX_EXPECT_FAIL}
            --output ${EX_OUT} ${extra})
  set_tests_properties(cli_extract_${name}_is_data_error PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
    FIXTURES_REQUIRED "psf_synth;extract_inputs")
endforeach()
add_test(NAME cli_compare_missing_file_is_data_error
  COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1 "-DEXPECT_MESSAGE=absent-frame.fits: no such file"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_failure.cmake $<TARGET_FILE:perfex> compare ${EX_FRAME}
          ${EX_DIR}/absent-frame.fits)
set_tests_properties(cli_compare_missing_file_is_data_error PROPERTIES FIXTURES_REQUIRED extract_frame)
