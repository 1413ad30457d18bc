// `perfex compare A B` (two frames: flux pulls, ivar, resolution and mask differences) and
// `perfex pulls FRAME TRUTH` (the frame against the simulation truth through each fiber's resolution).
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "perfex/core/error.hpp"
#include "perfex/drivers/cli.hpp"
#include "perfex/drivers/frame_compare.hpp"
#include "perfex/drivers/frame_keywords.hpp"
#include "perfex/io/frame_format.hpp"
#include "perfex/io/frame_io.hpp"

namespace perfex::drivers {

namespace {

// "LO:HI" (fibers LO .. HI-1, as a Python slice) or "F" (one fiber); empty: all.
std::optional<FiberRange> parse_fibers(const std::string& text) {
  if (text.empty()) return std::nullopt;
  FiberRange r;
  try {
    const auto colon = text.find(':');
    std::size_t used = 0;
    if (colon == std::string::npos) {
      r.lo = std::stoi(text, &used);
      if (used != text.size()) throw std::invalid_argument(text);
      r.hi = r.lo + 1;
    } else {
      const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
      r.lo = std::stoi(a, &used);
      if (used != a.size()) throw std::invalid_argument(text);
      r.hi = std::stoi(b, &used);
      if (used != b.size()) throw std::invalid_argument(text);
    }
  } catch (const std::exception&) {
    throw_usage_error("--fibers '" + text + "': expected LO:HI (fibers LO .. HI-1) or one fiber number");
  }
  if (r.lo < 0 || r.hi < 0)
    throw_usage_error("--fibers '" + text + "': fiber numbers must be >= 0 (LO:HI selects fibers LO .. HI-1)");
  if (r.hi <= r.lo)
    throw_usage_error("--fibers '" + text +
                      "': the range is empty (HI must be above LO: LO:HI selects fibers LO .. HI-1)");
  return r;
}

std::string describe(const std::string& path, const io::Frame& f) {
  return fmt::format("{}: fibers {}..{}, {} bins {:.2f}..{:.2f} A, {}", path, f.data.specmin,
                     f.data.specmin + f.data.nspec - 1, f.data.nwave, f.data.wavelengths.front(),
                     f.data.wavelengths.back(), f.exact ? "float64 HDUs" : "float32 HDUs");
}

// First the extraction keywords that differ: they explain most differences in what follows.
void print_keyword_differences(const KeywordComparison& k) {
  if (k.differ.empty()) {
    fmt::print("extraction keywords: the same in A and B ({} compared)\n", k.compared);
  } else {
    std::string names;
    for (const auto& d : k.differ) names += (names.empty() ? "" : ", ") + d.name;
    fmt::print("extraction keywords: {} differ\n", names);
    for (const auto& d : k.differ)
      fmt::print("  {:<9} A {}   B {}{}\n", d.name, d.a, d.b, d.note.empty() ? "" : "   " + d.note);
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& n : v) s += " " + n;
    return s;
  };
  if (!k.only_a.empty()) fmt::print("  only in A:{}\n", list(k.only_a));
  if (!k.only_b.empty()) fmt::print("  only in B:{}\n", list(k.only_b));
}

struct CompareArgs {
  std::string a, b, fibers;
  bool float32 = false;
};

int run_compare(const CompareArgs& args) {
  const auto range = parse_fibers(args.fibers);
  const io::Frame A = io::read_frame_file(args.a, !args.float32);
  const io::Frame B = io::read_frame_file(args.b, !args.float32);
  FrameComparison c;
  try {
    c = compare_frames(A, B, range ? &*range : nullptr);
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{} and {}: {}", args.a, args.b, e.what()));
  }
  const double max_pull = c.pulls.empty() ? 0.0 : *std::max_element(c.pulls.begin(), c.pulls.end());
  print_keyword_differences(compare_keywords(extraction_keywords(args.a, A), extraction_keywords(args.b, B)));
  fmt::print("A: {}\n", describe(args.a, A));
  fmt::print("B: {}\n", describe(args.b, B));
  fmt::print(
      "compared: fibers {}..{} x {} bins = {} bins; good in both (ivar > 0, chi2pix < 100, pixmask <= 0.5): {}\n",
      c.fibers.lo, c.fibers.hi - 1, A.data.nwave, c.bins, c.pulls.size());
  fmt::print("  {:<44} {:>12} {:>12} {:>12}\n", "quantity", "median", "99%", "max");
  fmt::print("  {:<44} {:>12.3e} {:>12.3e} {:>12.3e}\n", "|dflux| / sqrt(var_a + var_b), good bins",
             percentile(c.pulls, 50), percentile(c.pulls, 99), max_pull);
  fmt::print("  {:<44} {:>12} {:>12} {:>12.3e}\n", "|divar| / max(ivar_a, ivar_b), good bins", "", "",
             c.max_relative_divar);
  fmt::print("  {:<44} {:>12} {:>12} {:>12.3e}\n", "|dRESOLUTION|, all bins", "", "", c.max_dresolution);
  fmt::print("  {:<44} {:>12} {:>12} {:>12.3e}\n", "|dCHI2PIX|, all bins", "", "", c.max_dchi2pix);
  if (A.has_pixmask_fraction && B.has_pixmask_fraction)
    fmt::print("  {:<44} {:>12} {:>12} {:>12.3e}\n", "|dPIXMASK_FRACTION|, all bins", "", "", c.max_dpixmask);
  fmt::print("ivar = 0: {} bins in both, {} bins in one frame only\n", c.ivar_zero_both, c.ivar_zero_one);
  fmt::print("mask disagreements: {} bins (SOMEBADPIX {}, ALLBADPIX {}, BAD2DFIT {})\n", c.mask_differ, c.bit_differ[0],
             c.bit_differ[1], c.bit_differ[2]);
  return 0;
}

struct PullsArgs {
  std::string frame, truth, fibers;
};

int run_pulls(const PullsArgs& args) {
  const auto range = parse_fibers(args.fibers);
  const io::Frame f = io::read_frame_file(args.frame);
  const io::TruthSpectra truth = io::read_truth_spectra(args.truth);
  TruthPulls p;
  try {
    p = truth_pulls(f, truth, range ? &*range : nullptr);
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("{} against {}: {}", args.frame, args.truth, e.what()));
  }
  fmt::print("frame: {}\n", describe(args.frame, f));
  fmt::print("truth: {} ({} fibers, {} bins {:.2f}..{:.2f} A){}\n", args.truth, truth.fiber.size(),
             truth.wavelengths.size(), truth.wavelengths.front(), truth.wavelengths.back(),
             p.grids_matched ? "" : "; grids differ: truth flux density interpolated");
  fmt::print(
      "pulls (flux - R truth) sqrt(ivar): {} fibers, {} bins (ivar > 0, pixmask <= 0.5, >= {} bins from the "
      "ends): mean {:+.4f}, std {:.4f}\n",
      p.fibers, p.pulls.size(), f.data.ndiag, p.mean, p.sd);
  return 0;
}

}  // namespace

void add_compare_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<CompareArgs>();
  auto* cmd = app.add_subcommand("compare", "Compare two frame files: flux pulls, ivar, resolution, masks");
  cmd->add_option("A", args->a, "first frame file")->required();
  cmd->add_option("B", args->b, "second frame file")->required();
  cmd->add_option("--fibers", args->fibers, "restrict to fibers LO:HI (LO .. HI-1) or one fiber");
  cmd->add_flag("--float32", args->float32, "compare the float32 HDUs even when both files have float64 ones");
  cmd->callback([&action, args] {
    parse_fibers(args->fibers);
    action = [args] { return run_compare(*args); };
  });

  auto pargs = std::make_shared<PullsArgs>();
  auto* pulls =
      app.add_subcommand("pulls",
                         "Pulls of a frame against the simulation truth: (flux - R truth) sqrt(ivar), mean and std");
  pulls->add_option("FRAME", pargs->frame, "frame file")->required();
  pulls->add_option("TRUTH", pargs->truth, "truth file (perfex simulate --truth)")->required();
  pulls->add_option("--fibers", pargs->fibers, "restrict to fibers LO:HI (LO .. HI-1) or one fiber");
  pulls->callback([&action, pargs] {
    parse_fibers(pargs->fibers);
    action = [pargs] { return run_pulls(*pargs); };
  });
}

}  // namespace perfex::drivers
