# Runs a command (the arguments after -P script) and checks its exit code (EXPECT_CODE) and that stderr is one
# line mentioning EXPECT_MESSAGE (when given).
include(${CMAKE_CURRENT_LIST_DIR}/expect_common.cmake)
expect_run()
message(STATUS "exit ${rc}: ${expect_summary}")
