// Command-line dispatch: parse with CLI11, then run the chosen subcommand inside a Kokkos session,
// turning every error into a one-line message and the documented exit code.
#include "perfex/drivers/cli.hpp"

#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "perfex/backends/device.hpp"
#include "perfex/backends/thread_limits.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/version.hpp"
#include "perfex/drivers/argparse_prefix.hpp"
#include "perfex/drivers/comm.hpp"
#include "perfex/drivers/error_lines.hpp"
#include "perfex/drivers/errors.hpp"
#include "perfex/io/atomic_output.hpp"

namespace perfex::drivers {

namespace {

// Removes Kokkos' own --kokkos-* options so CLI11 does not reject them; Kokkos reads them itself.
std::vector<std::string> cli_arguments(int argc, char* argv[]) {
  std::vector<std::string> args;
  for (int i = argc - 1; i >= 1; --i) {  // CLI11 wants them reversed
    std::string a = argv[i];
    if (a.rfind("--kokkos-", 0) == 0) continue;
    args.push_back(a);
  }
  return args;
}

// Kokkos' integer options: Kokkos 3.4 aborts on a value that is not a number (std::stoi throws before its own
// check) and reads past the end of a bare "--kokkos-threads", so perfex checks them first and names the option.
void check_kokkos_arguments(int argc, char* argv[]) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    for (const std::string name : {"--kokkos-threads", "--kokkos-numa", "--kokkos-device-id", "--kokkos-device"}) {
      if (a.rfind(name, 0) != 0 || (a.size() > name.size() && a[name.size()] != '=')) continue;
      const std::string value = a.size() > name.size() ? a.substr(name.size() + 1) : "";
      if (value.empty() || value.size() > 6 || value.find_first_not_of("0123456789") != std::string::npos)
        throw_usage_error(name + ": expected " + name + "=N with N a non-negative integer, got '" + a + "'");
      if (name == "--kokkos-threads")
        if (const std::string problem = backends::thread_count_problem(name, value); !problem.empty())
          throw_usage_error(problem);
    }
  }
  // Kokkos reads these itself and crashes on counts its OpenMP backend cannot hold.
  if (const std::string problem = backends::environment_thread_problem(); !problem.empty()) throw_usage_error(problem);
}

// Parses the command line into `action`; returns -1 to go on, else the exit code (help, version, errors).
int parse_command_line(CLI::App& app, Action& action, int argc, char* argv[]) {
  app.set_version_flag("--version", std::string("perfex ") + PERFEX_VERSION_STRING);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 success, 1 data error (unreadable or invalid input), 2 usage error.\n"
      "Long options may be shortened to any unique prefix (--barycentric), as argparse allows.\n"
      "Kokkos options (--kokkos-threads=N, --kokkos-device-id=N) and OMP_NUM_THREADS set the parallelism.");
  add_info_command(app, action);
  add_psf_command(app, action);
  add_simulate_command(app, action);
  add_extract_command(app, action);
  add_compare_command(app, action);
  add_extract_exposure_command(app, action);
  add_convert_command(app, action);
  try {
    auto args = cli_arguments(argc, argv);
    std::reverse(args.begin(), args.end());  // argparse's unique prefixes (--barycentric), in order
    args = expand_option_prefixes(app, args);
    std::reverse(args.begin(), args.end());
    app.parse(args);
    check_kokkos_arguments(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(e.what());
    return 2;
  } catch (...) {  // validation inside option callbacks
    const Failure f = failure_of(std::current_exception());
    print_error(f.message);
    return f.code;
  }
  if (!action) {
    print_error("no command given (see perfex --help)");
    return 2;
  }
  return -1;
}

// Runs the parsed command inside Kokkos (and MPI when it asked for it).
int run_action(CLI::App& app, const Action& action, int argc, char* argv[]) {
  MpiSession mpi_session(argc, argv);  // MPI (when a command asked for it) starts before Kokkos, ends after it
  // A CUDA build without a usable GPU: Kokkos would abort, so say it in one line (perfex info reports it).
  if (const std::string missing = backends::missing_device(); !missing.empty()) {
    if (app.got_subcommand("info")) return run_info_without_device(missing);
    print_error(fmt::format("{} (this perfex runs its kernels on Kokkos' {} execution space)", missing,
                            Kokkos::DefaultExecutionSpace::name()));
    return 1;
  }
  backends::record_openmp_binding();
  try {
    Kokkos::initialize(argc, argv);
  } catch (const std::exception& e) {  // Kokkos' own options and environment (KOKKOS_NUM_THREADS...)
    print_error(fmt::format("Kokkos: {}", e.what()));
    return 2;
  }
  // SIGINT/SIGTERM from here on remove every temporary output (io::AtomicOutput) before exiting 130/143.
  io::install_signal_cleanup();
  int code = 0;
  try {
    const AllocationFailureCapture capture;  // Kokkos' own report of memory exhausted: into error_line's one line
    code = action();
  } catch (...) {
    const Failure f = failure_of(std::current_exception());
    print_error(f.message);
    code = f.code;
  }
  Kokkos::finalize();
  return code;
}

}  // namespace

int run_cli(int argc, char* argv[]) {
  CLI::App app{"perfex: spectroperfectionism extraction of fiber spectrograph CCD frames", "perfex"};
  Action action;
  const int code = parse_command_line(app, action, argc, argv);
  if (code >= 0) return code;
  return run_action(app, action, argc, argv);
}

}  // namespace perfex::drivers
