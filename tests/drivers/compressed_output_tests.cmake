# Output names with a compression suffix (included from tests/drivers/CMakeLists.txt after extract_tests.cmake):
# .gz outputs of every command are gzip-compressed and read back; other suffixes are usage errors (exit 2,
# before any file is read) that leave nothing behind.
set(GZ_DIR ${CMAKE_CURRENT_BINARY_DIR}/compressed)
file(MAKE_DIRECTORY ${GZ_DIR})
set(GZ_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/expect_gzip.cmake)

add_test(NAME cli_simulate_gzip_output
  COMMAND ${CMAKE_COMMAND} "-DGZIP_FILES=${GZ_DIR}/preproc.fits.gz;${GZ_DIR}/truth.fits.gz" -P ${GZ_EXPECT}
          $<TARGET_FILE:perfex> simulate --psf ${PSF_SYNTH} --output ${GZ_DIR}/preproc.fits.gz
          --truth ${GZ_DIR}/truth.fits.gz --nspec 25 --wavelength ${EX_GRID} --seed 4)
set_tests_properties(cli_simulate_gzip_output PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED psf_synth FIXTURES_SETUP gzip_preproc)
add_test(NAME cli_extract_gzip_outputs
  COMMAND ${CMAKE_COMMAND} "-DGZIP_FILES=${GZ_DIR}/frame.fits.gz;${GZ_DIR}/model.fits.gz" -P ${GZ_EXPECT}
          $<TARGET_FILE:perfex> extract --input ${GZ_DIR}/preproc.fits.gz --psf ${PSF_SYNTH}
          --output ${GZ_DIR}/frame.fits.gz --model ${GZ_DIR}/model.fits.gz --wavelength ${EX_GRID} --nspec 25)
set_tests_properties(cli_extract_gzip_outputs PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED "psf_synth;gzip_preproc" FIXTURES_SETUP gzip_frame)
# The compressed frame reads back (perfex convert reads it, and writes a compressed copy).
add_test(NAME cli_convert_gzip_output
  COMMAND ${CMAKE_COMMAND} "-DGZIP_FILES=${GZ_DIR}/frame-converted.fits.gz" -P ${GZ_EXPECT}
          $<TARGET_FILE:perfex> convert ${GZ_DIR}/frame.fits.gz ${GZ_DIR}/frame-converted.fits.gz)
set_tests_properties(cli_convert_gzip_output PROPERTIES FIXTURES_REQUIRED gzip_frame)

# Other compression suffixes, for every output option.
set(GZ_ABSENT --input ${GZ_DIR}/absent-preproc.fits --psf ${GZ_DIR}/absent-psf.fits)
foreach(case
    "extract_fz|${GZ_DIR}/frame.fits.fz|does not write \\.fz files|extract;${GZ_ABSENT};--output;${GZ_DIR}/frame.fits.fz"
    "extract_bz2|${GZ_DIR}/frame.fits.bz2|does not write \\.bz2 files|extract;${GZ_ABSENT};--output;${GZ_DIR}/frame.fits.bz2"
    "extract_model_xz|${GZ_DIR}/model.fits.xz|-m/--model .*model\\.fits\\.xz: perfex does not write \\.xz files|extract;${GZ_ABSENT};--output;${GZ_DIR}/frame-plain.fits;--model;${GZ_DIR}/model.fits.xz"
    "simulate_zst|${GZ_DIR}/preproc.fits.zst|does not write \\.zst files|simulate;--output;${GZ_DIR}/preproc.fits.zst"
    "simulate_truth_Z|${GZ_DIR}/truth.fits.Z|--truth .*does not write \\.Z files|simulate;--output;${GZ_DIR}/preproc-plain.fits;--truth;${GZ_DIR}/truth.fits.Z"
    "convert_zip|${GZ_DIR}/frame.fits.zip|OUT .*does not write \\.zip files|convert;${GZ_DIR}/absent-frame.fits;${GZ_DIR}/frame.fits.zip")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 output)
  list(GET parts 2 message)
  list(SUBLIST parts 3 -1 command)
  add_test(NAME cli_${name}_output_is_usage_error
    COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 "-DEXPECT_MESSAGE=${message}" -DOUTPUT=${output}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_no_output.cmake $<TARGET_FILE:perfex> ${command})
endforeach()
if(PERFEX_ENABLE_HDF5)
  add_test(NAME cli_extract_hdf5_gzip_output_is_usage_error
    COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 "-DEXPECT_MESSAGE=HDF5 frames are not gzip-compressed as a whole"
            -DOUTPUT=${GZ_DIR}/frame.h5.gz -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_no_output.cmake
            $<TARGET_FILE:perfex> extract ${GZ_ABSENT} --format hdf5 --output ${GZ_DIR}/frame.h5.gz)
  add_test(NAME cli_extract_exposure_hdf5_gzip_output_is_usage_error
    COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 "-DEXPECT_MESSAGE=--hdf5-exposure .*HDF5 frames are not gzip-compressed"
            -DOUTPUT=${GZ_DIR}/exposure.h5.gz -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_no_output.cmake
            $<TARGET_FILE:perfex> extract-exposure ${GZ_DIR} --hdf5-exposure ${GZ_DIR}/exposure.h5.gz)
endif()
