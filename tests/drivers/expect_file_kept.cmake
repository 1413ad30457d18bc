# Writes KEEP_FILE with known content, runs the command (the arguments after -P script), and checks that it
# exits with EXPECT_CODE, prints one line on stderr mentioning EXPECT_MESSAGE, and leaves the file untouched.
include(${CMAKE_CURRENT_LIST_DIR}/expect_common.cmake)
set(content "an existing file that must survive\n")
file(WRITE "${KEEP_FILE}" "${content}")
expect_run()
file(READ "${KEEP_FILE}" after)
if(NOT after STREQUAL content)
  message(FATAL_ERROR "${KEEP_FILE} was modified: ${after}")
endif()
message(STATUS "exit ${rc}: ${expect_summary}; ${KEEP_FILE} untouched")
