# HDF5 frames through the perfex program (PERFEX_ENABLE_HDF5): round trips FITS <-> HDF5, deterministic
# files, refusals of damaged, foreign and non-HDF5 files (exit 1) and of existing outputs (exit 2, kept).
# Builds without HDF5: asking for an HDF5 output is a usage error saying so.
set(H5_DIR ${CMAKE_CURRENT_BINARY_DIR}/hdf5)
file(MAKE_DIRECTORY ${H5_DIR})
set(H5_EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/expect_failure.cmake)
if(NOT PERFEX_ENABLE_HDF5)
  add_test(NAME cli_extract_hdf5_without_hdf5_is_usage_error
    COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 "-DEXPECT_MESSAGE=built without HDF5"
            -P ${H5_EXPECT} $<TARGET_FILE:perfex> extract --input ${H5_DIR}/preproc.fits
            --psf ${H5_DIR}/psf.fits --output ${H5_DIR}/frame.h5)
  add_test(NAME cli_convert_without_hdf5_is_usage_error
    COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 "-DEXPECT_MESSAGE=built without HDF5"
            -P ${H5_EXPECT} $<TARGET_FILE:perfex> convert ${H5_DIR}/frame.fits ${H5_DIR}/frame.h5)
  add_test(NAME cli_info_without_hdf5 COMMAND perfex info)
  set_tests_properties(cli_info_without_hdf5 PROPERTIES PASS_REGULAR_EXPRESSION "HDF5: not built")
  set_tests_properties(cli_extract_hdf5_without_hdf5_is_usage_error cli_convert_without_hdf5_is_usage_error
    cli_info_without_hdf5 PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}")
  return()
endif()

add_test(NAME hdf5_cli_info COMMAND perfex info)
set_tests_properties(hdf5_cli_info PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  PASS_REGULAR_EXPRESSION "HDF5: enabled \\([0-9]+\\.[0-9]+\\.[0-9]+; frame files")
find_program(PERFEX_H5DUMP h5dump)  # Debian hdf5-tools; the round trip checks what h5dump shows when present
add_test(NAME hdf5_cli_round_trip_fits_hdf5_fits
  COMMAND ${CMAKE_COMMAND} -DPERFEX=$<TARGET_FILE:perfex> -DWORK_DIR=${H5_DIR}/round-trip
          "-DH5DUMP=${PERFEX_H5DUMP}" -P ${CMAKE_CURRENT_SOURCE_DIR}/hdf5_round_trip.cmake)
set_tests_properties(hdf5_cli_round_trip_fits_hdf5_fits PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}" TIMEOUT 300)

# Inputs for the refusals: a frame file, then files perfex must refuse.
set(H5_FRAME ${H5_DIR}/frame.fits)
add_test(NAME hdf5_setup_files
  COMMAND ${CMAKE_COMMAND} -DPERFEX=$<TARGET_FILE:perfex> -DTOOL=$<TARGET_FILE:perfex_hdf5_tool> -DDIR=${H5_DIR}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/hdf5_setup_files.cmake)
set_tests_properties(hdf5_setup_files PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}" FIXTURES_SETUP h5_files TIMEOUT 300)
# The same extraction as FITS and HDF5: every extraction keyword read alike from both formats.
add_test(NAME hdf5_cli_compare_keywords_fits_hdf5 COMMAND perfex compare ${H5_DIR}/frame.fits ${H5_DIR}/frame.h5)
set_tests_properties(hdf5_cli_compare_keywords_fits_hdf5 PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}"
  FIXTURES_REQUIRED h5_files PASS_REGULAR_EXPRESSION "^extraction keywords: the same in A and B \\(17 compared\\)\nA: ")

# h5_convert_fails(<name> <message> <input>): `perfex convert DIR/<input>.h5 DIR/from-<input>.fits` must exit 1
# with one line matching <message> and leave no output.
function(h5_convert_fails name message input)
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1 "-DEXPECT_MESSAGE=${message}" -DOUTPUT=${H5_DIR}/from-${input}.fits
            -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_no_output.cmake $<TARGET_FILE:perfex> convert ${H5_DIR}/${input}.h5
            ${H5_DIR}/from-${input}.fits)
endfunction()
h5_convert_fails(hdf5_cli_convert_truncated_file_is_data_error "truncated\\.h5: .*truncated file" truncated)
h5_convert_fails(hdf5_cli_convert_foreign_file_is_data_error "foreign\\.h5: not a perfex HDF5 frame" foreign)
h5_convert_fails(hdf5_cli_convert_non_hdf5_file_is_data_error "text\\.h5: not an HDF5 file" text)
h5_convert_fails(hdf5_cli_convert_inconsistent_float32_is_data_error
  "altered\\.h5\\[FLUX\\]: value 0 is not FLUX64's value" altered)
h5_convert_fails(hdf5_cli_convert_exposure_file_needs_group "an exposure file of frames .*--group" exposure)
add_test(NAME hdf5_cli_compare_truncated_file_is_data_error
  COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=1 "-DEXPECT_MESSAGE=truncated\\.h5: .*truncated file"
          -P ${H5_EXPECT} $<TARGET_FILE:perfex> compare ${H5_FRAME} ${H5_DIR}/truncated.h5)
# Existing outputs: exit 2, the file untouched (perfex convert and perfex extract -o frame.h5).
add_test(NAME hdf5_cli_convert_existing_output_is_usage_error
  COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 "-DEXPECT_MESSAGE=OUT .*existing\\.h5: the file exists.*--overwrite"
          -DKEEP_FILE=${H5_DIR}/existing.h5
          -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_file_kept.cmake $<TARGET_FILE:perfex> convert ${H5_FRAME}
          ${H5_DIR}/existing.h5)
add_test(NAME hdf5_cli_extract_existing_output_is_usage_error
  COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 "-DEXPECT_MESSAGE=-o/--output .*existing-extract\\.h5: the file exists"
          -DKEEP_FILE=${H5_DIR}/existing-extract.h5
          -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_file_kept.cmake $<TARGET_FILE:perfex> extract
          --input ${H5_DIR}/preproc.fits --psf ${H5_DIR}/psf.fits --output ${H5_DIR}/existing-extract.h5)
add_test(NAME hdf5_cli_exposure_existing_output_is_usage_error
  COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 "-DEXPECT_MESSAGE=--hdf5-exposure .*existing-exposure\\.h5: the file exists"
          -DKEEP_FILE=${H5_DIR}/existing-exposure.h5
          -P ${CMAKE_CURRENT_SOURCE_DIR}/expect_file_kept.cmake $<TARGET_FILE:perfex> extract-exposure
          ${H5_DIR}/frames.txt --hdf5-exposure ${H5_DIR}/existing-exposure.h5)
add_test(NAME hdf5_cli_bad_format_is_usage_error
  COMMAND ${CMAKE_COMMAND} -DEXPECT_CODE=2 "-DEXPECT_MESSAGE=--format 'netcdf': expected fits or hdf5"
          -P ${H5_EXPECT} $<TARGET_FILE:perfex> convert ${H5_FRAME} ${H5_DIR}/bad-format.out --format netcdf)
set_tests_properties(hdf5_cli_convert_truncated_file_is_data_error hdf5_cli_convert_foreign_file_is_data_error
  hdf5_cli_convert_non_hdf5_file_is_data_error hdf5_cli_convert_inconsistent_float32_is_data_error
  hdf5_cli_compare_truncated_file_is_data_error
  hdf5_cli_convert_exposure_file_needs_group hdf5_cli_convert_existing_output_is_usage_error
  hdf5_cli_extract_existing_output_is_usage_error hdf5_cli_exposure_existing_output_is_usage_error
  hdf5_cli_bad_format_is_usage_error
  PROPERTIES ENVIRONMENT "${PERFEX_TEST_ENV}" FIXTURES_REQUIRED h5_files)

# h5py (Debian python3-h5py, with /usr/bin/python3) reads the frame and the exposure file as numpy arrays.
if(EXISTS /usr/bin/python3)
  execute_process(COMMAND /usr/bin/python3 -c "import h5py" RESULT_VARIABLE PERFEX_NO_H5PY OUTPUT_QUIET ERROR_QUIET)
  if(NOT PERFEX_NO_H5PY)
    add_test(NAME hdf5_h5py_reads_frames
      COMMAND /usr/bin/python3 -c "
import os, sys, h5py, numpy
if os.environ.get('PERFEX_CUDA_BUILD') == '1' and not os.path.exists(sys.argv[1]):
    print('no CUDA device: perfex could not write the frames this test reads')  # marked skipped
    sys.exit(0)
f = h5py.File(sys.argv[1], 'r')
assert f['FLUX'].shape == (25, 63) and f['FLUX'].dtype == numpy.float32, f['FLUX']
assert f['MASK'].dtype == numpy.uint32 and f['WAVELENGTH'].dtype == numpy.float64
assert f['RESOLUTION'].shape == (25, 11, 63) and f['RESOLUTION'].attrs['NDIAG'] == 5
assert f.attrs['CAMERA'] == 'b0' and f.attrs['NSPEC'] == 25 and f.attrs['PSFTAILS'] == False
fm = f['FIBERMAP'][:]
assert list(fm['FIBER']) == list(range(25)) and fm['OBJTYPE'][0] in (b'TGT', b'SKY'), fm[:3]
assert f['FLUX'].compression == 'gzip' and f['FLUX'].shuffle
e = h5py.File(sys.argv[2], 'r')
assert sorted(e) == ['frame-2', 'b0'] or sorted(e) == ['b0', 'frame-2'], list(e)
assert (e['b0/FLUX'][:] == f['FLUX'][:]).all() and (e['frame-2/IVAR'][:] == f['IVAR'][:]).all()
print('h5py reads', sys.argv[1], 'and', sys.argv[2])
" ${H5_DIR}/frame.h5 ${H5_DIR}/exposure.h5)
    set_tests_properties(hdf5_h5py_reads_frames PROPERTIES FIXTURES_REQUIRED h5_files)
    if(PERFEX_CUDA)  # without a GPU the fixture's perfex runs skip, and so does this test
      set_tests_properties(hdf5_h5py_reads_frames PROPERTIES ENVIRONMENT PERFEX_CUDA_BUILD=1)
    endif()
  endif()
endif()
