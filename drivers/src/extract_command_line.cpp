// perfex extract's command line parsed and run in-process.
#include "perfex/drivers/extract_command_line.hpp"

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>

#include "perfex/core/error.hpp"
#include "perfex/drivers/argparse_prefix.hpp"
#include "perfex/drivers/cli.hpp"

namespace perfex::drivers {

ExtractCommandLine parse_extract_command_line(const std::vector<std::string>& args) {
  CLI::App app{"perfex", "perfex"};
  Action action;
  std::shared_ptr<ExtractArgs> parsed;
  add_extract_command(app, action, &parsed);
  app.require_subcommand(1);
  std::vector<std::string> words{"extract"};
  words.insert(words.end(), args.begin(), args.end());
  words = expand_option_prefixes(app, words);
  std::reverse(words.begin(), words.end());  // CLI11 takes them reversed
  ExtractCommandLine out;
  try {
    app.parse(words);
  } catch (const CLI::CallForHelp&) {
    out.help = true;
    out.help_text = app.get_subcommand("extract")->help();
    return out;
  } catch (const CLI::ParseError& e) {
    throw_usage_error(e.what());
  }
  out.args = *parsed;
  return out;
}

int run_extract_command_line(const std::vector<std::string>& args) {
  const ExtractCommandLine line = parse_extract_command_line(args);
  if (line.help) {
    fmt::print("{}", line.help_text);
    return 0;
  }
  if (line.args.mpi) throw_usage_error("--mpi: the extraction runs in this process (start MPI in the caller)");
  return run_extract(line.args);
}

}  // namespace perfex::drivers
