# Removes OUTPUT, runs a command (the arguments after -P script), and checks that it exits with EXPECT_CODE,
# prints one line on stderr mentioning EXPECT_MESSAGE, and leaves neither OUTPUT nor a temporary file beside it.
include(${CMAKE_CURRENT_LIST_DIR}/expect_common.cmake)
file(REMOVE "${OUTPUT}")
expect_run()
expect_no_output_left()
message(STATUS "exit ${rc}: ${expect_summary}; no ${OUTPUT}")
