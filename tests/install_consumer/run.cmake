# The installed package, as a new user meets it (cmake -P script, two modes):
#   MODE=install  installs BUILD_DIR into PREFIX (the fixture of the consumer tests) and checks what was
#                 installed: no template of a generated header (*.in), no header private to a layer, and no
#                 installed header including a header of a private dependency (HDF5, CFITSIO, MPI, CLI11,
#                 fmt, zlib, ERFA), which a consumer's compiler would not find;
#   MODE=consume  configures, builds and runs tests/install_consumer/project against PREFIX for TARGET
#                 (core, io or drivers) in WORK_DIR, with CMAKE_PREFIX_PATH="PREFIX;PREFIX_PATH" (the
#                 dependencies' prefixes, as scripts/setup-deps.sh --print-prefix prints them) and the
#                 build's C++ compiler (nvcc_wrapper in CUDA builds); the program's output must match EXPECT.
if(MODE STREQUAL "install")
  file(REMOVE_RECURSE "${PREFIX}")
  execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed (${rc}):\n${out}")
  endif()
  file(STRINGS "${BUILD_DIR}/install_manifest.txt" installed)
  set(problems "")
  foreach(f IN LISTS installed)
    if(f MATCHES "\\.in$")
      string(APPEND problems "  ${f}: a template of a generated header, not a header\n")
    elseif(f MATCHES "/include/perfex/.*\\.(hpp|h)$")
      if(f MATCHES "/hdf5_file\\.hpp$")
        string(APPEND problems "  ${f}: private to perfex::io (io/src)\n")
      endif()
      file(STRINGS "${f}" private_includes
        REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](hdf5[^>\"]*|H5[^>\"]*|fitsio[^>\"]*|mpi\\.h|CLI/[^>\"]*|fmt/[^>\"]*|zlib\\.h|erfa[^>\"]*)[>\"]")
      foreach(line IN LISTS private_includes)
        string(STRIP "${line}" line)
        string(APPEND problems "  ${f}: ${line} (a private dependency: consumers do not get its include path)\n")
      endforeach()
    endif()
  endforeach()
  if(problems)
    message(FATAL_ERROR "installed files that do not belong in the package:\n${problems}")
  endif()
  list(LENGTH installed n)
  message(STATUS "installed ${n} files into ${PREFIX}")
elseif(MODE STREQUAL "consume")
  set(build "${WORK_DIR}/build-${TARGET}")
  file(REMOVE_RECURSE "${build}")
  file(MAKE_DIRECTORY "${build}")
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
    "-DCMAKE_PREFIX_PATH=${PREFIX};${PREFIX_PATH}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    -DCMAKE_BUILD_TYPE=Release "-DPERFEX_CONSUMER_TARGET=${TARGET}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring a project with find_package(perfex) for perfex::${TARGET} failed (${rc}):\n${out}")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" --build "${build}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building the consumer of perfex::${TARGET} failed (${rc}):\n${out}")
  endif()
  execute_process(COMMAND "${build}/consumer" "${build}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message(STATUS "consumer of perfex::${TARGET} said:\n${out}")
  if(NOT rc EQUAL 0 OR NOT out MATCHES "${EXPECT}")
    message(FATAL_ERROR "the consumer of perfex::${TARGET} failed (exit ${rc}; expected output matching '${EXPECT}')")
  endif()
else()
  message(FATAL_ERROR "run.cmake: MODE must be install or consume, not '${MODE}'")
endif()
