// The reliability commands of perfex_robustness_tool (reliability_tool.cpp); each takes the command's arguments
// and returns the exit code (77: skipped).
#pragma once

#include <string>
#include <vector>

namespace reliability {

int make_special(const std::vector<std::string>& args);
int full_disk(std::vector<std::string> args);
int limit(const std::vector<std::string>& args);
int as_user(const std::vector<std::string>& args);
int interrupt_sweep(const std::vector<std::string>& args);
int check_preproc(const std::vector<std::string>& args);

}  // namespace reliability
