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
# Any fibers (bundles partial at either end) and any subbundle split, as specter extracts them.
add_test(NAME cli_extract_partial_bundles
  COMMAND perfex extract -i ${EX_PRE} -p ${PSF_SYNTH} -o ${EX_DIR}/frame-partial.fits -w ${EX_GRID} -s 5 -n 10
          --nsubbundles 3 --overwrite)
set_tests_properties(cli_extract_partial_bundles PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED "psf_synth;extract_inputs"
  PASS_REGULAR_EXPRESSION "wrote .*frame-partial.fits: 10 fibers \\(5\\.\\.14\\) x 501 bins")
# A grid ending on the PSF's range: numpy.arange's last bin, 7851.000000000523, lies a rounding beyond it, which is
# accepted (the issue's "the grid 5550.00..7850.00 lies outside 5550.00..7850.00").
add_test(NAME cli_extract_grid_on_the_psf_range
  COMMAND perfex extract -i ${EX_PRE} -p ${PSF_SYNTH} -o ${EX_DIR}/frame-whole-range.fits -w 5551,7851,0.8 -n 2
          --overwrite)
set_tests_properties(cli_extract_grid_on_the_psf_range PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED "psf_synth;extract_inputs"
  PASS_REGULAR_EXPRESSION "wrote .*frame-whole-range.fits: 2 fibers \\(0\\.\\.1\\) x 2876 bins \\(5551\\.0\\.\\.7851\\.0 A\\)")
# The default grid, desi_extract_spectra's: the PSF HDU's WAVEMIN..WAVEMAX (5549..7851 for the synthetic r
# PSF) step 0.8; with --use-specter specter's, step 0.7 (prefixes as argparse takes them).
add_test(NAME cli_extract_default_grid
  COMMAND perfex extract -i ${EX_PRE} -p ${PSF_SYNTH} -o ${EX_DIR}/frame-default.fits -n 25 --overwrite)
set_tests_properties(cli_extract_default_grid PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED "psf_synth;extract_inputs"
  PASS_REGULAR_EXPRESSION "25 fibers \\(0\\.\\.24\\) x 2878 bins \\(5549\\.0\\.\\.7850\\.6 A\\)")
add_test(NAME cli_extract_default_grid_use_specter
  COMMAND perfex extract -i ${EX_PRE} -p ${PSF_SYNTH} -o ${EX_DIR}/frame-default-specter.fits -n 25 --overwrite
          --use-spec --no-g -v)
set_tests_properties(cli_extract_default_grid_use_specter PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED "psf_synth;extract_inputs"
  PASS_REGULAR_EXPRESSION "--no-gpu: accepted.*--use-specter: specter's default grid.*25 fibers \\(0\\.\\.24\\) x [0-9]+ bins \\(5[5-9][0-9][0-9]\\.0\\.\\.7[0-9][0-9][0-9]\\.[0-9] A\\)")
# An image of camera r0 with a PSF of camera r1: a data error naming both, unless --allow-camera-mismatch.
set(PSF_R1 ${EX_DIR}/psf-synth-r1.fits)
add_test(NAME cli_extract_psf_r1 COMMAND ${CMAKE_COMMAND} -E chdir ${EX_DIR} sh -c
  "$<TARGET_FILE:perfex> psf synth -o psf-synth-r1.fits --camera r1 --seed 7 --overwrite && $<TARGET_FILE:perfex> psf synth -o psf-synth-b1.fits --camera b1 --seed 7 --overwrite")
set_tests_properties(cli_extract_psf_r1 PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}" FIXTURES_SETUP psf_r1)
add_test(NAME cli_extract_camera_mismatch_allowed
  COMMAND perfex extract -i ${EX_PRE} -p ${PSF_R1} -o ${EX_DIR}/frame-r1.fits -n 25 -w ${EX_GRID} --overwrite
          --allow-camera-mismatch)
set_tests_properties(cli_extract_camera_mismatch_allowed PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED "extract_inputs;psf_r1" PASS_REGULAR_EXPRESSION "wrote .*frame-r1.fits: 25 fibers")
add_test(NAME cli_compare_same_frame COMMAND perfex compare ${EX_FRAME} ${EX_FRAME} --fibers 0:10)
set_tests_properties(cli_compare_same_frame PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}" FIXTURES_REQUIRED extract_frame
  PASS_REGULAR_EXPRESSION "fibers 0\\.\\.9 x 501 bins.*0\\.000e\\+00 +0\\.000e\\+00 +0\\.000e\\+00.*mask disagreements: 0 bins")
# Frames extracted with another psferr and barycentric correction: compare says so first.
add_test(NAME cli_compare_reports_extraction_keywords_first
  COMMAND ${CMAKE_COMMAND} -E chdir ${EX_DIR} sh -c "$<TARGET_FILE:perfex> extract -i ${EX_PRE} -p ${PSF_SYNTH} -o frame-keywords.fits -w ${EX_GRID} -n 25 --psferr 0.04 --heliocor 1.00002 --overwrite >/dev/null && $<TARGET_FILE:perfex> compare ${EX_FRAME} frame-keywords.fits")
set_tests_properties(cli_compare_reports_extraction_keywords_first PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED "psf_synth;extract_inputs;extract_frame"
  PASS_REGULAR_EXPRESSION "^extraction keywords: HELIOCOR, PSFERR differ\n  HELIOCOR +A 1 +B 1\\.00002 +\\(A - B\\) c = -5995\\.849 m/s\n  PSFERR +A 0\\.01 +B 0\\.04\nA: ")
# A truth that shares no bin with the frame (another grid): an error, not a statistic of nothing.
add_test(NAME cli_pulls_truth_elsewhere
  COMMAND perfex simulate -p ${PSF_SYNTH} -o ${EX_DIR}/preproc-elsewhere.fits --truth ${EX_DIR}/truth-elsewhere.fits
          -n 25 -w 7000,7040,0.8 --overwrite)
set_tests_properties(cli_pulls_truth_elsewhere PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED psf_synth FIXTURES_SETUP truth_elsewhere)
add_test(NAME cli_pulls_no_common_bin_is_data_error
  COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1
          "-DEXPECT_MESSAGE=against .*truth-elsewhere.fits: no bin to compare: .* 0 a complete R truth"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_failure.cmake $<TARGET_FILE:perfex> pulls ${EX_FRAME}
          ${EX_DIR}/truth-elsewhere.fits)
set_tests_properties(cli_pulls_no_common_bin_is_data_error PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED "extract_frame;truth_elsewhere")
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
    "nsubbundles_above_bundlesize|--nsubbundles must be in 1..25, got 26|--nsubbundles;26"
    "nsubbundles_zero|--nsubbundles must be in 1..25, got 0|--nsubbundles;0"
    "specmin_negative|--specmin must be >= 0, got -1|--specmin;-1"
    "nspec_zero|--nspec must be >= 1, got 0|--nspec;0"
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
    "grid_outside_psf|the grid 3000\\.00\\.\\.3200\\.00 A lies outside the wavelength range 5549\\.00\\.\\.7851\\.00 A|--input;${EX_PRE};--psf;${PSF_SYNTH};--wavelength;3000,3200,0.8"
    "grid_beyond_psf|the grid 7000\\.00\\.\\.7900\\.00 A extends beyond the wavelength range 5549\\.00\\.\\.7851\\.00 A of .*psf-synth-r0\\.fits: it ends 49\\.00 A above it|--input;${EX_PRE};--psf;${PSF_SYNTH};--wavelength;7000,7900,0.8"
    "fibers_beyond_psf|asks for fibers 475\\.\\.524, .* has fibers 0\\.\\.499|--input;${EX_PRE};--psf;${PSF_SYNTH};--wavelength;${EX_GRID};--specmin;475;--nspec;50"
    "specmin_beyond_psf|--specmin 500: .* has fibers 0\\.\\.499|--input;${EX_PRE};--psf;${PSF_SYNTH};--wavelength;${EX_GRID};--specmin;500"
    "fibermap_without_table|HDU FIBERMAP is missing|--input;${EX_PRE};--psf;${PSF_SYNTH};--wavelength;${EX_GRID};--fibermap;${PSF_SYNTH}"
    "psf_is_not_a_psf|preproc-sim.fits|--input;${EX_PRE};--psf;${EX_PRE};--wavelength;${EX_GRID}"
    "camera_mismatch|the image .*preproc-sim.fits is camera r0 \\(CAMERA\\), the PSF .*psf-synth-r1.fits is camera r1.*--allow-camera-mismatch|--input;${EX_PRE};--psf;${PSF_R1};--wavelength;${EX_GRID}"
    "camera_mismatch_outside_grid|is camera r0 \\(CAMERA\\), the PSF .*psf-synth-b1.fits is camera b1|--input;${EX_PRE};--psf;${EX_DIR}/psf-synth-b1.fits;--wavelength;${EX_GRID}")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 message)
  list(SUBLIST parts 2 -1 extra)
  add_test(NAME cli_extract_${name}_is_data_error
    COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1 "-DEXPECT_MESSAGE=${message}" -DOUTPUT=${EX_OUT} ${EX_EXPECT_FAIL}
            --output ${EX_OUT} ${extra})
  set_tests_properties(cli_extract_${name}_is_data_error PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
    FIXTURES_REQUIRED "psf_synth;extract_inputs;psf_r1")
endforeach()
add_test(NAME cli_compare_missing_file_is_data_error
  COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1 "-DEXPECT_MESSAGE=absent-frame.fits: no such file"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_failure.cmake $<TARGET_FILE:perfex> compare ${EX_FRAME}
          ${EX_DIR}/absent-frame.fits)
set_tests_properties(cli_compare_missing_file_is_data_error PROPERTIES FIXTURES_REQUIRED extract_frame)
