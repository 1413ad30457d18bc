// `perfex psf info|spot|synth`: summarise a PSF file, print one evaluated spot, write a synthetic PSF.
#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "camera_validator.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/core/types.hpp"
#include "perfex/drivers/cli.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/psf_checks.hpp"
#include "perfex/io/psf_io.hpp"

namespace perfex::drivers {

namespace {

struct PsfInfoArgs {
  std::string path;
};

struct PsfSpotArgs {
  std::string path;
  int fiber = 0;
  double wave = 0.0;
  bool tails = false;
};

struct PsfSynthArgs {
  std::string output;
  std::string camera = "r0";
  std::uint64_t seed = 0;
  bool tails = false;
  bool overwrite = false;
  std::string layout = "psfver3";
};

// `psf synth --layout` names, and what the summary line calls each.
const std::map<std::string, std::pair<PsfLayout, const char*>> k_layouts = {
    {"psfver3", {PsfLayout::XtraceYtracePsf, "GAUSS-HERMITE"}},
    {"psfver2", {PsfLayout::OneTable, "GAUSS-HERMITE PSFVER 2"}},
    {"gauss-hermite2", {PsfLayout::TwoCores, "GAUSS-HERMITE2"}}};

// The wavelength interval over which fiber `fiber`'s trace lies on CCD rows [0, npix_y - 1], within
// [wmin, wmax]; nullopt when it never does. Assumes y(lambda) is monotonic (true of every real PSF): the
// first and last on-CCD samples of a fine grid are refined by bisection.
std::optional<std::pair<double, double>> rows_covered(const LegendreSeries& ytrace, int fiber, double npix_y,
                                                      double wmin, double wmax) {
  constexpr int nsample = 2048;
  auto on_ccd = [&](double w) {
    const double y = ytrace.evaluate(fiber, w);
    return y >= 0.0 && y <= npix_y - 1.0;
  };
  auto at = [&](int i) { return wmin + (wmax - wmin) * i / (nsample - 1); };
  int first = -1, last = -1;
  for (int i = 0; i < nsample; ++i)
    if (on_ccd(at(i))) {
      if (first < 0) first = i;
      last = i;
    }
  if (first < 0) return std::nullopt;
  auto refine = [&](double inside, double outside) {
    for (int it = 0; it < 60; ++it) {
      const double mid = 0.5 * (inside + outside);
      (on_ccd(mid) ? inside : outside) = mid;
    }
    return inside;
  };
  const double lo = first > 0 ? refine(at(first), at(first - 1)) : wmin;
  const double hi = last < nsample - 1 ? refine(at(last), at(last + 1)) : wmax;
  return std::make_pair(lo, hi);
}

std::string degree_list(const std::set<int>& degrees) {
  std::string s;
  for (int d : degrees) s += (s.empty() ? "" : ", ") + std::to_string(d);
  return s;
}

int run_psf_info(const PsfInfoArgs& args) {
  const GaussHermitePsf psf = io::read_psf(args.path);
  fmt::print("PSF file: {}\n", args.path);
  fmt::print("type: {}, camera {}\n", layout_description(psf.layout),
             psf.camera.empty() ? "(no CAMERA keyword)" : psf.camera);
  fmt::print("fibers: {} (FIBERMIN {}, fibers {}..{})\n", psf.nfiber, psf.fibermin, psf.fibermin,
             psf.fibermin + psf.nfiber - 1);
  fmt::print("CCD: {} x {} pixels (NPIX_X columns x NPIX_Y rows)\n", psf.npix_x, psf.npix_y);

  const double wmin = psf.wavemin(), wmax = psf.wavemax();
  if (psf.layout == PsfLayout::XtraceYtracePsf) {
    const LegendreSeries& table = psf.params.front().series;
    fmt::print("wavelength domains: XTRACE {:.1f}..{:.1f} A, YTRACE {:.1f}..{:.1f} A, PSF {:.1f}..{:.1f} A\n",
               psf.xtrace.wavemin, psf.xtrace.wavemax, psf.ytrace.wavemin, psf.ytrace.wavemax, table.wavemin,
               table.wavemax);
  } else {
    std::set<std::pair<double, double>> domains = {{psf.xtrace.wavemin, psf.xtrace.wavemax},
                                                   {psf.ytrace.wavemin, psf.ytrace.wavemax}};
    for (const auto& p : psf.params) domains.insert({p.series.wavemin, p.series.wavemax});
    std::string list;
    for (const auto& [lo, hi] : domains) list += fmt::format("{}{:.1f}..{:.1f} A", list.empty() ? "" : ", ", lo, hi);
    fmt::print("wavelength domains of the table rows: {}\n", list);
  }
  // The range extraction grids are checked against (the PSF table's domain).
  fmt::print("wavelength range: {:.1f}..{:.1f} A\n", wmin, wmax);

  double lo = wmin, hi = wmax;
  int off_ccd = 0;
  for (int f = 0; f < psf.nfiber; ++f) {
    const auto r = rows_covered(psf.ytrace, f, psf.npix_y, wmin, wmax);
    if (!r) {
      ++off_ccd;
      continue;
    }
    lo = std::max(lo, r->first);
    hi = std::min(hi, r->second);
  }
  if (off_ccd > 0 || lo > hi)
    fmt::print("on the CCD for every fiber (rows 0..{}): none ({} fibers never on the CCD)\n", psf.npix_y - 1, off_ccd);
  else
    fmt::print("on the CCD for every fiber (rows 0..{}): {:.1f}..{:.1f} A\n", psf.npix_y - 1, lo, hi);

  fmt::print("stamp: {} x {} pixels (HSIZEY {}, HSIZEX {})\n", psf.stamp_ny(), psf.stamp_nx(), psf.hsizey, psf.hsizex);
  if (psf.two_cores())
    fmt::print("Gauss-Hermite degrees: GHDEGX {}, GHDEGY {}; second core GHDEGX2 {}, GHDEGY2 {}\n", psf.ghdegx,
               psf.ghdegy, psf.ghdegx2, psf.ghdegy2);
  else
    fmt::print("Gauss-Hermite degrees: GHDEGX {}, GHDEGY {}\n", psf.ghdegx, psf.ghdegy);
  std::set<int> table_degrees;
  for (const auto& p : psf.params) table_degrees.insert(p.series.ncoef - 1);
  if (psf.layout == PsfLayout::XtraceYtracePsf)
    fmt::print("Legendre degrees: XTRACE {}, YTRACE {}, PSF table {}\n", psf.xtrace.ncoef - 1, psf.ytrace.ncoef - 1,
               degree_list(table_degrees));
  else
    fmt::print("Legendre degrees: X {}, Y {}, other rows {}\n", psf.xtrace.ncoef - 1, psf.ytrace.ncoef - 1,
               degree_list(table_degrees));
  std::string rows;
  for (const auto& p : psf.params)
    if (p.name.rfind("GH-", 0) != 0) rows += " " + p.name;
  fmt::print("PSF table rows: {} ({}{} GH-a-b and{})\n",
             psf.params.size() + (psf.layout == PsfLayout::XtraceYtracePsf ? 0 : 2),
             psf.layout == PsfLayout::XtraceYtracePsf ? "" : "X, Y, ",
             std::count_if(psf.params.begin(), psf.params.end(),
                           [](const NamedSeries& p) { return p.name.rfind("GH-", 0) == 0; }),
             rows);
  if (psf.psferr_keyword)
    fmt::print("psferr: {} (keyword PSFERR)\n", *psf.psferr_keyword);
  else
    fmt::print("psferr: {} (default: no PSFERR keyword)\n", psf.default_psferr());
  if (psf.psferror_specex)
    fmt::print("PSFERROR (specex, reported, not used): {}\n", *psf.psferror_specex);
  else
    fmt::print("PSFERROR (specex, reported, not used): absent\n");
  return 0;
}

int run_psf_spot(const PsfSpotArgs& args) {
  const GaussHermitePsf psf = io::read_psf(args.path);
  if (args.fiber >= psf.nfiber)
    throw_data_error(fmt::format("--fiber {}: {} has fibers 0..{}", args.fiber, args.path, psf.nfiber - 1));
  if (args.wave < psf.wavemin() || args.wave > psf.wavemax())
    throw_data_error(fmt::format("--wave {}: outside the PSF's wavelength domain {}..{} A of {}", args.wave,
                                 psf.wavemin(), psf.wavemax(), args.path));

  const ExecSpace exec;
  SpotOptions options;
  options.tails = args.tails;
  const std::vector<double> wave = {args.wave};
  const SpotCache cache =
      io::naming_psf_errors(psf, args.path, [&] { return evaluate_spots(exec, psf, args.fiber, 1, wave, options); });
  const PsfParamGrid params = evaluate_psf_params(exec, psf, args.fiber, 1, wave);
  auto spots = Kokkos::create_mirror_view_and_copy(HostSpace(), cache.spots);
  auto xcorner = Kokkos::create_mirror_view_and_copy(HostSpace(), cache.xcorner);
  auto ycorner = Kokkos::create_mirror_view_and_copy(HostSpace(), cache.ycorner);
  auto xcenter = Kokkos::create_mirror_view_and_copy(HostSpace(), cache.xcenter);
  auto ycenter = Kokkos::create_mirror_view_and_copy(HostSpace(), cache.ycenter);

  fmt::print("PSF file: {}\n", args.path);
  fmt::print("fiber {} at {} A, tails {}\n", args.fiber, args.wave, args.tails ? "on" : "off");
  fmt::print("trace: x = {:.6f}, y = {:.6f}\n", xcenter(0, 0), ycenter(0, 0));
  fmt::print("GHSIGX = {:.6f}, GHSIGY = {:.6f}\n", params.values(0, 0, params.index("GHSIGX")),
             params.values(0, 0, params.index("GHSIGY")));
  const int x0 = xcorner(0, 0), y0 = ycorner(0, 0);
  fmt::print("stamp: {} x {} pixels, corner x = {}, y = {} (spot[iy][ix] on pixel y = {} + iy, x = {} + ix)\n",
             cache.stamp_ny, cache.stamp_nx, x0, y0, y0, x0);
  // Rows from the top down, as the CCD is displayed with y upward.
  fmt::print("{:>6} |", "y \\ x");
  for (int ix = 0; ix < cache.stamp_nx; ++ix) fmt::print(" {:>8}", x0 + ix);
  fmt::print("\n");
  double sum = 0.0;
  for (int iy = cache.stamp_ny - 1; iy >= 0; --iy) {
    fmt::print("{:>6} |", y0 + iy);
    for (int ix = 0; ix < cache.stamp_nx; ++ix) {
      fmt::print(" {:8.6f}", spots(0, 0, iy, ix));
      sum += spots(0, 0, iy, ix);
    }
    fmt::print("\n");
  }
  fmt::print("sum: {:.15f}\n", sum);
  return 0;
}

int run_psf_synth(const PsfSynthArgs& args) {
  io::check_output_path(args.output, args.overwrite, "-o/--output");
  SyntheticPsfOptions options;
  options.camera = args.camera;
  options.seed = args.seed;
  options.tails = args.tails;
  const auto& [layout, type] = k_layouts.at(args.layout);
  options.layout = layout;
  const GaussHermitePsf psf = make_synthetic_psf(options);
  io::write_psf(psf, args.output, args.overwrite);
  fmt::print("wrote {}: synthetic {} PSF, camera {}, seed {}, {} fibers, {:.1f}..{:.1f} A{}\n", args.output, type,
             psf.camera, args.seed, psf.nfiber, psf.wavemin(), psf.wavemax(), args.tails ? ", with tails" : "");
  return 0;
}

// Numeric checks with short messages (CLI11's ranges print the full double range).
const CLI::Validator non_negative(
    [](std::string& value) -> std::string {
      try {
        if (std::stod(value) >= 0.0) return {};
      } catch (const std::exception&) {
      }
      return "must be >= 0, found '" + value + "'";
    },
    ">= 0", "NONNEGATIVE");
const CLI::Validator positive(
    [](std::string& value) -> std::string {
      try {
        if (std::stod(value) > 0.0) return {};
      } catch (const std::exception&) {
      }
      return "must be > 0, found '" + value + "'";
    },
    "> 0", "POSITIVE");

}  // namespace

void add_psf_command(CLI::App& app, Action& action) {
  auto* psf = app.add_subcommand(
      "psf", "Inspect GAUSS-HERMITE and GAUSS-HERMITE2 PSF files (info, spot) and write synthetic ones (synth)");
  psf->require_subcommand(1);

  auto info_args = std::make_shared<PsfInfoArgs>();
  auto* info = psf->add_subcommand("info", "Summarise a PSF file: fibers, CCD, wavelength coverage, stamp, degrees");
  info->add_option("FILE", info_args->path, "PSF file (psf-CAMERA-EXPID.fits)")->required();
  info->callback([&action, info_args] { action = [info_args] { return run_psf_info(*info_args); }; });

  auto spot_args = std::make_shared<PsfSpotArgs>();
  auto* spot = psf->add_subcommand("spot", "Print the trace position, corner and stamp of one spot");
  spot->add_option("FILE", spot_args->path, "PSF file")->required();
  spot->add_option("--fiber", spot_args->fiber, "fiber index in the file (0 .. nfiber - 1)")
      ->required()
      ->check(non_negative);
  spot->add_option("--wave", spot_args->wave, "wavelength (Angstrom)")->required()->check(positive);
  spot->add_flag("--tails", spot_args->tails, "add specter's tail model (gpu_specter drops it)");
  spot->callback([&action, spot_args] { action = [spot_args] { return run_psf_spot(*spot_args); }; });

  auto synth_args = std::make_shared<PsfSynthArgs>();
  auto* synth = psf->add_subcommand("synth", "Write a synthetic DESI-like PSF (500 fibers) to a file");
  synth->add_option("-o,--output", synth_args->output, "output PSF file")->required();
  synth->add_option("--camera", synth_args->camera, "camera: arm b, r or z, optionally with a digit")
      ->check(camera_name)
      ->capture_default_str();
  synth->add_option("--seed", synth_args->seed, "random seed")->capture_default_str();
  synth->add_flag("--tails", synth_args->tails, "give the PSF tails (TAILAMP > 0)");
  synth
      ->add_option("--layout", synth_args->layout,
                   "file layout: psfver3 (DESI: HDUs XTRACE, YTRACE, PSF), psfver2 (one table, traces as rows X, Y) "
                   "or gauss-hermite2 (one table, two Gaussian cores, 20 x 20 stamps)")
      ->check(CLI::IsMember({"psfver3", "psfver2", "gauss-hermite2"}))
      ->capture_default_str();
  synth->add_flag("--overwrite", synth_args->overwrite, "replace an existing output file");
  synth->callback([&action, synth_args] { action = [synth_args] { return run_psf_synth(*synth_args); }; });
}

}  // namespace perfex::drivers
