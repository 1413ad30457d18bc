// argparse's unique-prefix long options for perfex's CLI11 command line: desi_extract_spectra (argparse,
// allow_abbrev) accepts `--barycentric` for `--barycentric-correction`; CLI11 (2.1 in Debian 12) has no such
// matching, so the arguments are expanded before CLI11 parses them.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace perfex::drivers {

// Rewrites every `--PREFIX` and `--PREFIX=VALUE` in `args` (in command-line order, without the program name)
// that is not itself a long option of the (sub)command it belongs to, but the beginning of exactly one of
// them, into that option, as argparse does. Subcommands are followed as CLI11 selects them; option values,
// arguments after `--`, and positional arguments are left alone; an exact name always wins. A prefix of
// several long options is a usage error with argparse's message ("ambiguous option: --no could match
// --no-scores, --no-gpu", in the order the options were defined); a prefix of none is left for CLI11 to
// reject.
std::vector<std::string> expand_option_prefixes(CLI::App& app, const std::vector<std::string>& args);

}  // namespace perfex::drivers
