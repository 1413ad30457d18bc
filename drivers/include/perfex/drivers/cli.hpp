// The perfex command line: subcommands register themselves on a CLI11 app and leave the action to run.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace perfex::drivers {

// The action a parsed subcommand runs; returns the exit code (0 success, 1 data error, 2 usage error).
using Action = std::function<int()>;

// Each subcommand adds itself to `app` and, when selected by the parser, sets `action`.
void add_info_command(CLI::App& app, Action& action);
void add_psf_command(CLI::App& app, Action& action);
void add_simulate_command(CLI::App& app, Action& action);
// `parsed`, when given, receives the arguments the parser fills (perfex.desi and the tests read them).
struct ExtractArgs;
void add_extract_command(CLI::App& app, Action& action, std::shared_ptr<ExtractArgs>* parsed = nullptr);
void add_compare_command(CLI::App& app, Action& action);  // compare and pulls

// `perfex info` when the build's device is missing (a CUDA build without a GPU): versions and the reason,
// without initialising Kokkos. Returns 0.
int run_info_without_device(const std::string& missing);
void add_extract_exposure_command(CLI::App& app, Action& action);  // MPI batch job of an exposure
void add_convert_command(CLI::App& app, Action& action);           // frames between FITS and HDF5

// Parses the command line, runs the selected subcommand, maps perfex::Error to its exit code with a
// one-line message on stderr. Kokkos is initialised around the action.
int run_cli(int argc, char* argv[]);

}  // namespace perfex::drivers
