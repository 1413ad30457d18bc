// argparse's unique-prefix matching of long options, applied to the arguments before CLI11 parses them.
#include "perfex/drivers/argparse_prefix.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "perfex/core/error.hpp"

namespace perfex::drivers {

namespace {

// The long names ("--name") of `app`'s options, in definition order.
std::vector<std::string> long_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app.get_options())
    for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
  return names;
}

const CLI::Option* find_long(const CLI::App& app, const std::string& name) {
  for (const CLI::Option* o : app.get_options())
    for (const std::string& n : o->get_lnames())
      if ("--" + n == name) return o;
  return nullptr;
}

const CLI::Option* find_short(const CLI::App& app, char c) {
  for (const CLI::Option* o : app.get_options())
    for (const std::string& n : o->get_snames())
      if (n.size() == 1 && n[0] == c) return o;
  return nullptr;
}

CLI::App* find_subcommand(CLI::App& app, const std::string& word) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == word) return sub;
    for (const std::string& alias : sub->get_aliases())
      if (alias == word) return sub;
  }
  return nullptr;
}

// How many of the following arguments an option given without an attached value consumes.
int values_taken(const CLI::Option* o) { return o ? std::max(0, o->get_items_expected_min()) : 0; }

bool looks_like_number(const std::string& a) {
  if (a.size() < 2 || a[0] != '-') return false;
  const char c = a[1];
  return (c >= '0' && c <= '9') || c == '.';
}

}  // namespace

std::vector<std::string> expand_option_prefixes(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> out;
  out.reserve(args.size());
  CLI::App* current = &app;
  int pending_values = 0;  // arguments still owed to the previous option
  bool positional_only = false;
  for (const std::string& arg : args) {
    if (positional_only) {
      out.push_back(arg);
      continue;
    }
    if (pending_values > 0) {  // a value, whatever it looks like (e.g. -w -1,2,3 is refused later, not here)
      --pending_values;
      out.push_back(arg);
      continue;
    }
    if (arg == "--") {
      positional_only = true;
      out.push_back(arg);
      continue;
    }
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      const auto eq = arg.find('=');
      const std::string name = arg.substr(0, eq);
      const std::string rest = eq == std::string::npos ? std::string() : arg.substr(eq);
      const CLI::Option* option = find_long(*current, name);
      std::string expanded = name;
      if (!option) {
        std::vector<std::string> matches;
        for (const std::string& candidate : long_names(*current))
          if (candidate.compare(0, name.size(), name) == 0) matches.push_back(candidate);
        if (matches.size() > 1) {
          std::string list;
          for (const std::string& m : matches) list += (list.empty() ? "" : ", ") + m;
          throw_usage_error("ambiguous option: " + name + " could match " + list);
        }
        if (matches.size() == 1) {
          expanded = matches.front();
          option = find_long(*current, expanded);
        }
      }
      out.push_back(expanded + rest);
      if (eq == std::string::npos) pending_values = values_taken(option);
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-' && arg[1] != '-' && !looks_like_number(arg)) {
      // Short options, possibly grouped (-vf): the first one taking a value ends the group; its value is
      // the rest of the argument, else the next argument.
      for (std::size_t k = 1; k < arg.size(); ++k) {
        const CLI::Option* option = find_short(*current, arg[k]);
        if (values_taken(option) > 0) {
          if (k + 1 == arg.size()) pending_values = values_taken(option);
          break;
        }
      }
      out.push_back(arg);
      continue;
    }
    if (CLI::App* sub = find_subcommand(*current, arg)) current = sub;
    out.push_back(arg);
  }
  return out;
}

}  // namespace perfex::drivers
