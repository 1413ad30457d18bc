# Removes OUTPUT, runs a command under mpiexec (the arguments after -P script), and checks that it ends
# (within the test's timeout: no rank hangs) with EXPECT_CODE, that stderr mentions EXPECT_MESSAGE once
# (perfex's own lines: mpiexec adds its report), and that neither OUTPUT nor a temporary file was left.
set(EXPECT_MPI ON)
include(${CMAKE_CURRENT_LIST_DIR}/../drivers/expect_common.cmake)
file(REMOVE "${OUTPUT}")
expect_run()
expect_no_output_left()
message(STATUS "exit ${rc}: ${expect_summary}; no ${OUTPUT}")
