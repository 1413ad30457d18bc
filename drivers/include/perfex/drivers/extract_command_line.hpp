// `perfex extract`'s command line inside another program (perfex.desi.main in Python, tests): the same CLI11
// definitions, argparse prefixes and checks as the perfex program, without its process setup (Kokkos, MPI,
// signals), which the caller owns.
#pragma once

#include <string>
#include <vector>

#include "perfex/drivers/extract_command.hpp"

namespace perfex::drivers {

struct ExtractCommandLine {
  ExtractArgs args;
  bool help = false;      // --help was given: nothing to run
  std::string help_text;  // perfex extract --help
};

// Parses `args` (the options after `perfex extract`); throws perfex::Error (usage) with the program's message
// for anything the program refuses before reading a file.
ExtractCommandLine parse_extract_command_line(const std::vector<std::string>& args);

// Parses and runs the extraction in the caller's Kokkos session (one process: --mpi is refused); prints the
// help and returns 0 for --help; otherwise returns run_extract's code or throws perfex::Error.
int run_extract_command_line(const std::vector<std::string>& args);

}  // namespace perfex::drivers
