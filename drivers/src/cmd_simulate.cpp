// `perfex simulate`: project spectra (built-in or from a file) through a PSF (a file or the synthetic one)
// into a DESI preproc image with noise and optional defects, plus a truth file.
#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>

#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "camera_validator.hpp"
#include "perfex/core/builtin_spectra.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/core/simulate.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/core/types.hpp"
#include "perfex/core/version.hpp"
#include "perfex/drivers/cli.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/file_checks.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/preproc_io.hpp"
#include "perfex/io/psf_checks.hpp"
#include "perfex/io/psf_io.hpp"

namespace perfex::drivers {

namespace {

struct SimulateArgs {
  std::string output;
  std::string truth;
  std::string psf;
  std::string camera = "r0";
  std::uint64_t psf_seed = 0;
  std::string wavelength;
  std::string spectra;
  std::uint64_t seed = 0;
  int specmin = 0;
  std::optional<int> nspec;
  int cosmics = 0;
  bool defects = false;
  bool no_noise = false;
  bool tails = false;
  long long expid = 1;
  long long night = 20201215;
  double exptime = 900.0;
  long long tileid = 1000;
  double ra = 150.0;  // TARGTRA (and SKYRA, TELRA)
  double dec = 2.0;   // TARGTDEC (and SKYDEC, TELDEC)
  bool overwrite = false;
};

struct Grid {
  double wmin = 0, wmax = 0, dw = 0;
  std::vector<double> values() const {
    // arange(wmin, wmax + dw/2, dw), as desispec builds its grids
    std::vector<double> w;
    const long n = static_cast<long>(std::floor((wmax + 0.5 * dw - wmin) / dw - 1e-9)) + 1;
    for (long i = 0; i < n; ++i) w.push_back(wmin + i * dw);
    return w;
  }
};

// "-w wmin,wmax,dw": three numbers, wmin < wmax, dw > 0, at most 100000 bins (usage errors).
Grid parse_grid(const std::string& text) {
  std::vector<double> v;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      std::size_t used = 0;
      v.push_back(std::stod(item, &used));
      if (used != item.size()) v.push_back(std::nan(""));
    } catch (const std::exception&) {
      v.push_back(std::nan(""));
    }
  }
  if (v.size() != 3 || !std::isfinite(v[0]) || !std::isfinite(v[1]) || !std::isfinite(v[2]))
    throw_usage_error("-w/--wavelength: expected wmin,wmax,dw (three numbers), found '" + text + "'");
  Grid g{v[0], v[1], v[2]};
  if (!(g.wmin > 0 && g.wmax > g.wmin && g.dw > 0))
    throw_usage_error("-w/--wavelength: need 0 < wmin < wmax and dw > 0, found '" + text + "'");
  if ((g.wmax - g.wmin) / g.dw > 100000) throw_usage_error("-w/--wavelength: more than 100000 bins in '" + text + "'");
  return g;
}

// Days from 1970-01-01 of a proleptic Gregorian date.
long days_from_civil(long y, long m, long d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// MJD of the exposure: the night's date (YYYYMMDD, the local evening) + 1 day + 7.2 h (the middle of a
// Kitt Peak night in UTC).
double mjd_of_night(long long night) {
  const long y = static_cast<long>(night / 10000), m = static_cast<long>(night / 100 % 100),
             d = static_cast<long>(night % 100);
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31)
    throw_usage_error(fmt::format("--night: expected a date YYYYMMDD, found {}", night));
  return static_cast<double>(days_from_civil(y, m, d) - days_from_civil(1858, 11, 17)) + 1.3;
}

// ISO 8601 UTC date and time of a modified Julian date ("2020-12-16T07:12:00.000"), as DATE-OBS.
std::string iso_of_mjd(double mjd) {
  const double whole = std::floor(mjd);
  long z = static_cast<long>(whole) + 678881;  // days since 0000-03-01 (proleptic Gregorian)
  const long era = (z >= 0 ? z : z - 146096) / 146097;
  const long doe = z - era * 146097;
  const long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long mp = (5 * doy + 2) / 153;
  const long d = doy - (153 * mp + 2) / 5 + 1;
  const long m = mp < 10 ? mp + 3 : mp - 9;
  const long y = yoe + era * 400 + (m <= 2);
  const long ms = std::lround((mjd - whole) * 86400000.0);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}", y, m, d, ms / 3600000, ms / 60000 % 60,
                     ms / 1000 % 60, ms % 1000);
}

// The IMAGE header keywords of a DESI preproc that desispec's readers and extraction use (read_image: CAMERA,
// the READNOISE HDU or RDNOISE; the extraction and later steps: SPECGRPH, FIBERMIN, EXPID, NIGHT, MJD-OBS,
// DATE-OBS, EXPTIME, TILEID, TARGTRA/TARGTDEC for the barycentric correction, FLAVOR/OBSTYPE, the amplifiers'
// CCDSEC, GAIN (1: the image is in electrons), RDNOISE and OBSRDN).
std::vector<io::HeaderKeyword> desi_image_keywords(const SimulateArgs& args, const std::string& camera, double mjd_obs,
                                                   int npix_y, int npix_x, const std::array<double, 4>& readnoise) {
  std::vector<io::HeaderKeyword> k;
  if (camera.size() == 2 && std::isdigit(static_cast<unsigned char>(camera[1])))
    k.push_back({"SPECGRPH", static_cast<long long>(camera[1] - '0'), "spectrograph (0-9)"});
  k.push_back({"OBSTYPE", std::string("SCIENCE"), "exposure type"});
  k.push_back({"PROGRAM", std::string("perfex simulate"), "program"});
  k.push_back({"TILEID", args.tileid, "tile ID"});
  k.push_back({"DATE-OBS", iso_of_mjd(mjd_obs), "start of the exposure (UTC)"});
  for (const char* prefix : {"TARGT", "SKY", "TEL"}) {
    k.push_back({std::string(prefix) + "RA", args.ra, "[deg] right ascension of the pointing"});
    k.push_back({std::string(prefix) + "DEC", args.dec, "[deg] declination of the pointing"});
  }
  double mean = 0;
  for (double r : readnoise) mean += r / 4;
  k.push_back({"RDNOISE", mean, "mean read noise of the amplifiers [electron]"});
  const int hy = npix_y / 2, hx = npix_x / 2;
  const char names[] = {'A', 'B', 'C', 'D'};
  for (int a = 0; a < 4; ++a) {
    const std::string amp(1, names[a]);
    const int x0 = a % 2 ? hx + 1 : 1, x1 = a % 2 ? npix_x : hx, y0 = a / 2 ? hy + 1 : 1, y1 = a / 2 ? npix_y : hy;
    k.push_back({"CCDSEC" + amp, fmt::format("[{}:{},{}:{}]", x0, x1, y0, y1), "amplifier's pixels [x, y] (1-based)"});
    k.push_back({"GAIN" + amp, 1.0, "electron/ADU (the image is in electrons)"});
    k.push_back({"RDNOISE" + amp, readnoise[static_cast<std::size_t>(a)], "expected read noise [electron]"});
    k.push_back({"OBSRDN" + amp, readnoise[static_cast<std::size_t>(a)], "read noise of the amplifier [electron]"});
  }
  return k;
}

// Usage checks first: nothing is read or computed for a command that cannot succeed.
void check_simulate_outputs(const SimulateArgs& args) {
  io::check_output_path(args.output, args.overwrite, "-o/--output");
  if (!args.truth.empty()) io::check_output_path(args.truth, args.overwrite, "--truth");
  io::check_distinct_files({{"-p/--psf", args.psf}, {"--spectra", args.spectra}},
                           {{"-o/--output", args.output}, {"--truth", args.truth}});
}

// The PSF (-p, or the synthetic one) and its camera.
GaussHermitePsf simulation_psf(const SimulateArgs& args, std::string& camera) {
  if (!args.psf.empty()) {
    GaussHermitePsf psf = io::read_psf(args.psf);
    camera = psf.camera;
    return psf;
  }
  SyntheticPsfOptions options;
  options.camera = args.camera;
  options.seed = args.psf_seed;
  camera = args.camera.size() == 1 ? args.camera + "0" : args.camera;
  return make_synthetic_psf(options);
}

// The spectra to project and what the truth file says about each.
struct InputSpectra {
  int nspec = 0;
  std::vector<double> wavelengths;
  HostView<double**> photons;
  std::vector<std::string> objtype, spectype;
  std::vector<double> redshift;
  std::vector<long long> targetid;
};

// --spectra's file.
InputSpectra read_spectra(const SimulateArgs& args, const GaussHermitePsf& psf) {
  const int specmin = args.specmin;
  InputSpectra in;
  io::PhotonSpectra input = io::read_photon_spectra(args.spectra);
  in.wavelengths = input.wavelengths;
  in.photons = input.photons;
  in.nspec = static_cast<int>(in.photons.extent(0));
  if (specmin + in.nspec > psf.nfiber)
    throw_data_error(fmt::format("{}: {} spectra from fiber {} do not fit the PSF's {} fibers", args.spectra, in.nspec,
                                 specmin, psf.nfiber));
  for (int i = 0; i < in.nspec; ++i) {
    in.objtype.emplace_back("TGT");
    in.spectype.emplace_back("INPUT");
    in.redshift.push_back(0.0);
    in.targetid.push_back(specmin + i);
  }
  return in;
}

// The built-in spectra on -w's grid, or the camera's DESI grid.
InputSpectra builtin_spectra(const SimulateArgs& args, const GaussHermitePsf& psf, const std::string& camera,
                             std::optional<Grid> grid) {
  const int specmin = args.specmin;
  if (!grid) {
    if (camera.empty())
      throw_data_error(args.psf + ": the PSF has no CAMERA keyword to choose the default grid; pass -w");
    CameraGrid g;
    try {
      g = desi_camera_grid(camera);
    } catch (const perfex::Error&) {
      throw_data_error(fmt::format("{}: the PSF's CAMERA '{}' is not b, r or z (0-9); pass -w", args.psf, camera));
    }
    grid = Grid{g.wavemin, g.wavemax, g.dwave};
  }
  InputSpectra in;
  in.wavelengths = grid->values();
  in.nspec = args.nspec ? *args.nspec : psf.nfiber - specmin;
  if (specmin >= psf.nfiber || specmin + in.nspec > psf.nfiber)
    throw_data_error(fmt::format("-s/--specmin {} -n/--nspec {}: the PSF has fibers 0..{}", specmin, in.nspec,
                                 psf.nfiber - 1));
  BuiltinSpectraOptions options;
  options.seed = args.seed;
  BuiltinSpectra builtin = make_builtin_spectra(in.wavelengths, specmin, in.nspec, options);
  in.photons = builtin.photons;
  in.objtype = builtin.objtype;
  in.spectype = builtin.spectype;
  in.redshift = builtin.redshift;
  in.targetid = builtin.targetid;
  return in;
}

// Every PSF fiber is in the fibermap; fibers without light are UNASSIGNED (FIBERSTATUS bit 0).
io::Fibermap simulation_fibermap(const GaussHermitePsf& psf, int specmin, const InputSpectra& in) {
  io::Fibermap fibermap;
  for (int f = 0; f < psf.nfiber; ++f) {
    const bool lit = f >= specmin && f < specmin + in.nspec;
    fibermap.fiber.push_back(psf.fibermin + f);  // DESI's fiber numbers: FIBERMIN + index
    fibermap.targetid.push_back(lit ? in.targetid[f - specmin] : -1);
    fibermap.objtype.push_back(lit ? in.objtype[f - specmin] : "TGT");
    fibermap.fiberstatus.push_back(lit ? 0 : 1);
  }
  return fibermap;
}

// The preproc image of the simulation, with its header and fibermap.
io::PreprocImage preproc_of(const SimulateArgs& args, const SimulatedFrame& frame, const std::string& camera,
                            io::Fibermap fibermap) {
  io::PreprocImage out;
  out.npix_y = frame.npix_y;
  out.npix_x = frame.npix_x;
  out.image = Kokkos::create_mirror_view_and_copy(HostSpace(), frame.image);
  out.ivar = Kokkos::create_mirror_view_and_copy(HostSpace(), frame.ivar);
  out.mask = Kokkos::create_mirror_view_and_copy(HostSpace(), frame.mask);
  out.has_mask = true;
  out.header.camera = camera;
  out.header.expid = args.expid;
  out.header.night = args.night;
  out.header.mjd_obs = mjd_of_night(args.night);
  out.header.exptime = args.exptime;
  out.header.flavor = "science";
  // FIBERMIN: the PSF's, the FIBER of the fibermap's first row.
  if (!fibermap.fiber.empty()) out.header.fibermin = fibermap.fiber.front();
  // READNOISE: each pixel's amplifier read noise, as DESI's preproc writes it (desispec.io.read_image).
  out.readnoise = HostView<double**>("perfex::simulate::readnoise", frame.npix_y, frame.npix_x);
  for (int y = 0; y < frame.npix_y; ++y)
    for (int x = 0; x < frame.npix_x; ++x)
      out.readnoise(y, x) = frame.readnoise[static_cast<std::size_t>(amplifier_of(y, x, frame.npix_y, frame.npix_x))];
  out.fibermap = std::move(fibermap);
  return out;
}

std::vector<io::HeaderKeyword> simulation_keywords(const SimulateArgs& args, const std::string& camera,
                                                   const InputSpectra& in, const SimulationOptions& sim,
                                                   const SimulatedFrame& frame) {
  const std::vector<double>& wavelengths = in.wavelengths;
  std::vector<io::HeaderKeyword> keys = {
      {"SIMSEED", static_cast<long long>(args.seed), "perfex simulate: random seed"},
      {"SIMPSF", args.psf.empty() ? std::string("synthetic") : args.psf, "PSF file, or the synthetic PSF"},
      {"SIMSPEC", args.spectra.empty() ? std::string("builtin") : args.spectra, "input spectra"},
      {"SIMWMIN", wavelengths.front(), "first wavelength of the grid [Angstrom]"},
      {"SIMWMAX", wavelengths.back(), "last wavelength of the grid [Angstrom]"},
      {"SIMNWAVE", static_cast<long long>(wavelengths.size()), "wavelength bins"},
      {"SPECMIN", static_cast<long long>(args.specmin), "first lit fiber"},
      {"NSPEC", static_cast<long long>(in.nspec), "lit fibers"},
      {"SIMNOISE", sim.noise, "Poisson and read noise added"},
      {"SIMTAILS", args.tails, "PSF tails in the spots"},
      {"NCOSMIC", static_cast<long long>(args.cosmics), "cosmic-ray hits injected"},
      {"SIMDEFCT", args.defects, "hot column, dead column and bad cluster injected"},
      {"PHOTIN", frame.photons_in, "input photons [electron]"},
      {"PHOTOFF", frame.photons_off_ccd, "photons falling off the CCD [electron]"},
      {"PERFEXV", std::string(PERFEX_VERSION_STRING), "perfex version"},
  };
  for (io::HeaderKeyword& k :
       desi_image_keywords(args, camera, mjd_of_night(args.night), frame.npix_y, frame.npix_x, frame.readnoise))
    keys.push_back(std::move(k));
  if (args.psf.empty()) keys.push_back({"SIMPSFSD", static_cast<long long>(args.psf_seed), "synthetic PSF seed"});
  return keys;
}

// The truth file's content: every PSF fiber's photons (0 for unlit ones), types, defects.
io::SimulationTruth simulation_truth(const GaussHermitePsf& psf, int specmin, const InputSpectra& in,
                                     const io::Fibermap& fibermap, const SimulatedFrame& frame,
                                     const std::vector<io::HeaderKeyword>& keys) {
  const int nwave = static_cast<int>(in.wavelengths.size());
  io::SimulationTruth truth;
  truth.wavelengths = in.wavelengths;
  HostView<double**> all("perfex::simulate::truth_photons", psf.nfiber, nwave);
  for (int i = 0; i < in.nspec; ++i)
    for (int j = 0; j < nwave; ++j) all(specmin + i, j) = in.photons(i, j);
  truth.photons = all;
  for (int f = 0; f < psf.nfiber; ++f) {
    const bool lit = f >= specmin && f < specmin + in.nspec;
    truth.fiber.push_back(f);
    truth.objtype.push_back(fibermap.objtype[f]);
    truth.spectype.push_back(lit ? in.spectype[f - specmin] : "NONE");
    truth.redshift.push_back(lit ? in.redshift[f - specmin] : 0.0);
    truth.targetid.push_back(fibermap.targetid[f]);
  }
  truth.defects = frame.defects;
  truth.keywords = keys;
  return truth;
}

// Both outputs are written to temporaries first and renamed only when both are complete.
void write_simulation(const SimulateArgs& args, const io::PreprocImage& out, const std::vector<io::HeaderKeyword>& keys,
                      const std::optional<io::SimulationTruth>& truth) {
  io::PreprocWriteOptions write_options;
  write_options.overwrite = args.overwrite;
  write_options.keywords = keys;
  io::OutputSet outputs;
  io::AtomicOutput preproc_out(args.output, args.overwrite);
  {
    io::FitsFile f(preproc_out);
    io::write_preproc(f, out, write_options);
    f.close();
  }
  std::unique_ptr<io::AtomicOutput> truth_out;
  if (truth) {
    truth_out = std::make_unique<io::AtomicOutput>(args.truth, args.overwrite);
    io::FitsFile f(*truth_out);
    io::write_simulation_truth(f, *truth);
    f.close();
  }
  preproc_out.commit();
  if (truth_out) truth_out->commit();
  outputs.commit();
}

int run_simulate(const SimulateArgs& args) {
  check_simulate_outputs(args);
  std::optional<Grid> grid;
  if (!args.wavelength.empty()) grid = parse_grid(args.wavelength);
  mjd_of_night(args.night);  // usage error for a night that is not a date
  std::string camera;
  const GaussHermitePsf psf = simulation_psf(args, camera);
  const InputSpectra in = args.spectra.empty() ? builtin_spectra(args, psf, camera, grid) : read_spectra(args, psf);
  const int specmin = args.specmin, nspec = in.nspec, nwave = static_cast<int>(in.wavelengths.size());

  // The simulation.
  const ExecSpace exec;
  SimulationOptions sim;
  sim.seed = args.seed;
  sim.fiber_begin = specmin;
  sim.noise = !args.no_noise;
  sim.ncosmics = args.cosmics;
  sim.defects = args.defects;
  sim.spots.tails = args.tails;
  Kokkos::Timer timer;
  const SimulatedFrame frame = io::naming_psf_errors(psf, args.psf.empty() ? "the synthetic PSF" : args.psf, [&] {
    return simulate_frame(exec, psf, in.wavelengths, in.photons, sim);
  });
  exec.fence();
  const double seconds = timer.seconds();

  io::Fibermap fibermap = simulation_fibermap(psf, specmin, in);
  const std::vector<io::HeaderKeyword> keys = simulation_keywords(args, camera, in, sim, frame);
  std::optional<io::SimulationTruth> truth;
  if (!args.truth.empty()) truth = simulation_truth(psf, specmin, in, fibermap, frame, keys);
  write_simulation(args, preproc_of(args, frame, camera, std::move(fibermap)), keys, truth);

  const double off_fraction = frame.photons_in > 0 ? frame.photons_off_ccd / frame.photons_in : 0.0;
  fmt::print("wrote {}: camera {}, {} x {} pixels, fibers {}..{} x {} wavelengths ({:.1f}..{:.1f} A), seed {}\n",
             args.output, camera, frame.npix_y, frame.npix_x, specmin, specmin + nspec - 1, nwave,
             in.wavelengths.front(), in.wavelengths.back(), args.seed);
  fmt::print("photons: {:.6g} in, {:.6g} off the CCD ({:.3g}%); noise {}; {} cosmic rays{}\n", frame.photons_in,
             frame.photons_off_ccd, 100.0 * off_fraction, sim.noise ? "on" : "off", args.cosmics,
             args.defects ? ", hot and dead columns, a bad cluster" : "");
  if (!args.truth.empty()) fmt::print("wrote {}: input photons, fiber types, defects\n", args.truth);
  fmt::print("simulated in {:.2f} s on {} (concurrency {})\n", seconds, ExecSpace::name(), exec.concurrency());
  return 0;
}

}  // namespace

void add_simulate_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<SimulateArgs>();
  auto* cmd = app.add_subcommand(
      "simulate", "Simulate a DESI preproc image: spectra projected through a PSF, Poisson + read noise, defects");
  cmd->add_option("-o,--output", args->output,
                  "output preproc file (IMAGE, IVAR, READNOISE, MASK, FIBERMAP; gzip-compressed for a .gz name)")
      ->required();
  cmd->add_option("--truth", args->truth, "also write the truth: input photons, fiber types, defects");
  auto* psf = cmd->add_option("-p,--psf", args->psf, "GAUSS-HERMITE PSF file (default: the synthetic PSF)");
  auto* camera =
      cmd->add_option("--camera", args->camera, "camera of the synthetic PSF: b, r or z, optionally with a digit")
          ->check(camera_name)
          ->capture_default_str();
  auto* psf_seed = cmd->add_option("--psf-seed", args->psf_seed, "seed of the synthetic PSF")->capture_default_str();
  psf->excludes(camera)->excludes(psf_seed);
  auto* wave = cmd->add_option("-w,--wavelength", args->wavelength,
                               "wavelength grid wmin,wmax,dw in Angstrom (default: the camera's DESI grid, "
                               "b 3600,5800,0.8 r 5760,7620,0.8 z 7520,9824,0.8)");
  auto* spectra = cmd->add_option("--spectra", args->spectra,
                                  "input spectra: HDUs PHOTONS [nfiber, nwave] (electrons per bin) and WAVELENGTH "
                                  "(default: built-in sky, emission- and absorption-line objects)");
  spectra->excludes(wave);
  cmd->add_option("--seed", args->seed, "random seed of the spectra, noise and defects")->capture_default_str();
  cmd->add_option("-s,--specmin", args->specmin, "first fiber with light")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  auto* nspec = cmd->add_option("-n,--nspec", args->nspec, "fibers with light (default: all from specmin)")
                    ->check(CLI::PositiveNumber);
  nspec->excludes(spectra);
  cmd->add_option("--cosmics", args->cosmics, "cosmic-ray hits to inject (MASK COSMIC, IVAR 0), at most 100000")
      ->check(CLI::Range(0, max_cosmics))
      ->capture_default_str();
  cmd->add_flag("--defects", args->defects, "inject a hot column, a dead column and a 3x3 bad cluster");
  cmd->add_flag("--no-noise", args->no_noise, "write the noiseless model as IMAGE");
  cmd->add_flag("--tails", args->tails, "include the PSF's tail model in the spots");
  // EXPID is a 32-bit integer in DESI's files; EXPTIME a finite number of seconds (FITS holds no inf or NaN).
  cmd->add_option("--expid", args->expid, "EXPID of the header (0..2147483647)")
      ->check(CLI::Range(0LL, 2147483647LL))
      ->capture_default_str();
  cmd->add_option("--night", args->night, "NIGHT of the header (YYYYMMDD; MJD-OBS follows)")->capture_default_str();
  cmd->add_option("--exptime", args->exptime, "EXPTIME of the header [s], in (0, 1e6]")
      ->check([](const std::string& text) {
        double v = 0;
        try {
          v = std::stod(text);
        } catch (const std::exception&) {
        }
        return v > 0 && v <= 1e6 ? std::string() : "must be a number of seconds in (0, 1e6], got '" + text + "'";
      })
      ->capture_default_str();
  cmd->add_option("--tileid", args->tileid, "TILEID of the header")->capture_default_str();
  cmd->add_option("--ra", args->ra, "TARGTRA (and SKYRA, TELRA) of the header [deg]")
      ->check(CLI::Range(0.0, 360.0))
      ->capture_default_str();
  cmd->add_option("--dec", args->dec, "TARGTDEC (and SKYDEC, TELDEC) of the header [deg]")
      ->check(CLI::Range(-90.0, 90.0))
      ->capture_default_str();
  cmd->add_flag("--overwrite", args->overwrite, "replace existing output files");
  cmd->callback([&action, args] { action = [args] { return run_simulate(*args); }; });
}

}  // namespace perfex::drivers
