// `perfex extract`: spectroperfectionism extraction of a preprocessed CCD image into a DESI frame file,
// with desi_extract_spectra's options; usage errors are found before any file is read.
#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "perfex/core/ccd_coverage.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/types.hpp"
#include "perfex/drivers/barycentric.hpp"
#include "perfex/drivers/cli.hpp"
#include "perfex/drivers/comm.hpp"
#include "perfex/drivers/distributed_extract.hpp"
#include "perfex/drivers/extract_command.hpp"
#include "perfex/drivers/frame_pipeline.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/frame_format.hpp"
#include "perfex/io/frame_hdf5.hpp"
#include "perfex/io/frame_io.hpp"
#include "perfex/io/preproc_io.hpp"
#include "perfex/io/psf_io.hpp"

namespace perfex::drivers {

namespace {

// "bundle 3/20, 12.3 s, 0.24 bundles/s, ~70 s left, 410 MB in HostSpace" (the last: the pipeline's working
// memory) on stderr: rewritten in place on a terminal, one line per update with -v otherwise, nothing else.
class ProgressLine {
 public:
  explicit ProgressLine(bool verbose) : m_tty(isatty(STDERR_FILENO) != 0), m_enabled(m_tty || verbose) {}
  ~ProgressLine() { finish(); }
  void update(const FrameProgress& p) {
    if (!m_enabled) return;
    const double rate = p.elapsed_s > 0 ? p.bundles_done / p.elapsed_s : 0.0;
    const double left = rate > 0 ? (p.bundles_total - p.bundles_done) / rate : 0.0;
    const std::string text =
        fmt::format("perfex extract: bundle {}/{}, {:.1f} s, {:.2f} bundles/s, ~{:.0f} s left, {:.0f} MB in {}",
                    p.bundles_done, p.bundles_total, p.elapsed_s, rate, left, p.working_bytes / 1048576.0,
                    MemSpace::name());
    if (m_tty) {
      fmt::print(stderr, "\r{}\x1b[K", text);
      m_open = true;
    } else {
      fmt::print(stderr, "{}\n", text);
    }
    std::fflush(stderr);
  }
  // Ends a line rewritten in place, so that later messages start on their own line.
  void finish() {
    if (m_open) fmt::print(stderr, "\n");
    m_open = false;
  }

 private:
  bool m_tty;
  bool m_enabled;
  bool m_open = false;
};

double parse_number(const std::string& text, const std::string& option, const std::string& whole) {
  std::string t = text;
  t.erase(0, t.find_first_not_of(" \t"));
  t.erase(t.find_last_not_of(" \t") + 1);
  try {
    std::size_t used = 0;
    const double v = std::stod(t, &used);
    if (used == t.size() && !t.empty()) return v;
  } catch (const std::exception&) {
  }
  throw_usage_error(option + " '" + whole + "': expected three numbers wmin,wmax,dw (e.g. 5760,7620,0.8)");
}

// The header values the barycentric correction needs: the image header when it has RA or TARGTRA, else the
// FIBERMAP header (early commissioning files), as desispec does.
PointingHeader read_pointing_header(const std::string& path) {
  io::FitsFile f(path, io::FitsFile::Mode::Read);
  if (f.has_hdu("IMAGE"))
    f.move_to("IMAGE");
  else
    f.move_to_index(0);
  auto has_target = [&] { return f.read_key_double("TARGTRA") || f.read_key_double("RA"); };
  if (!has_target() && f.has_hdu("FIBERMAP")) {
    const std::string image_hdu = f.current_hdu_name();
    f.move_to("FIBERMAP");
    if (!has_target()) {
      if (image_hdu.rfind("HDU ", 0) == 0)
        f.move_to_index(0);
      else
        f.move_to(image_hdu);
    }
  }
  PointingHeader h;
  h.where = f.where();
  auto pick = [&](std::initializer_list<const char*> keys, std::string& used) -> std::optional<double> {
    for (const char* k : keys)
      if (auto v = f.read_key_double(k)) {
        used = k;
        return v;
      }
    return std::nullopt;
  };
  h.ra = pick({"TARGTRA", "SKYRA", "TELRA", "RA"}, h.ra_key);
  h.dec = pick({"TARGTDEC", "SKYDEC", "TELDEC", "DEC"}, h.dec_key);
  h.mjd = pick({"MJD-OBS", "MJD"}, h.mjd_key);
  h.exptime = f.read_key_double("EXPTIME");
  return h;
}

// Rows of the FIBERMAP HDU of a file (data error when the file or HDU is missing).
long fibermap_rows(const std::string& path) {
  io::FitsFile f(path, io::FitsFile::Mode::Read);
  f.move_to("FIBERMAP");
  return f.table_rows();
}

}  // namespace

WavelengthOption parse_wavelength_option(const std::string& value) {
  const std::string option = "-w/--wavelength";
  std::vector<std::string> parts;
  std::stringstream ss(value);
  for (std::string item; std::getline(ss, item, ',');) parts.push_back(item);
  if (parts.size() != 3 || value.back() == ',')
    throw_usage_error(option + " '" + value + "': expected three numbers wmin,wmax,dw (e.g. 5760,7620,0.8)");
  const double wmin = parse_number(parts[0], option, value);
  const double wmax = parse_number(parts[1], option, value);
  const double dw = parse_number(parts[2], option, value);
  if (!(std::isfinite(wmin) && std::isfinite(wmax) && std::isfinite(dw)) || !(wmin > 0))
    throw_usage_error(option + " '" + value + "': wmin, wmax and dw must be finite and wmin positive");
  if (!(dw > 0)) throw_usage_error(option + " '" + value + "': the step dw must be positive");
  if (wmax < wmin) throw_usage_error(option + " '" + value + "': wmax is below wmin (the grid would be empty)");
  WavelengthOption w{wmin, wmax, dw, linear_wavelengths(wmin, wmax, dw)};
  if (w.grid.size() < 2)
    throw_usage_error(option + " '" + value + "': the grid has " + std::to_string(w.grid.size()) +
                      " bin; extraction needs at least 2");
  // A step below the resolution of doubles at wmin would give a grid that is not linear (or not increasing).
  if (!(std::fabs((w.grid[1] - w.grid[0]) - dw) <= 1e-6 * dw))
    throw_usage_error(option + " '" + value + "': the step dw is too small for wmin (the grid would not be linear)");
  return w;
}

void check_fiber_options(int specmin, std::optional<int> nspec, int bundlesize) {
  if (specmin < 0) throw_usage_error("--specmin must be >= 0, got " + std::to_string(specmin));
  if (specmin % bundlesize != 0)
    throw_usage_error(fmt::format("--specmin {} must be a multiple of --bundlesize {} (extraction starts at a bundle "
                                  "boundary)",
                                  specmin, bundlesize));
  if (nspec) {
    if (*nspec < 1) throw_usage_error("--nspec must be >= 1, got " + std::to_string(*nspec));
    if (*nspec % bundlesize != 0)
      throw_usage_error(fmt::format("--nspec {} must be a multiple of --bundlesize {}", *nspec, bundlesize));
  }
}

int fibers_to_extract(const GaussHermitePsf& psf, const std::string& psf_name, int specmin, std::optional<int> nspec,
                      int bundlesize) {
  if (specmin >= psf.nfiber)
    throw_data_error(fmt::format("--specmin {}: {} has fibers 0..{}", specmin, psf_name, psf.nfiber - 1));
  const int n = nspec.value_or(std::min(500, psf.nfiber - specmin));
  if (!nspec && n % bundlesize != 0)
    throw_data_error(fmt::format("{} has {} fibers from --specmin {}, not a multiple of --bundlesize {}: give --nspec",
                                 psf_name, psf.nfiber - specmin, specmin, bundlesize));
  if (specmin + n > psf.nfiber)
    throw_data_error(fmt::format("--specmin {} --nspec {} asks for fibers {}..{}, {} has fibers 0..{}", specmin, n,
                                 specmin, specmin + n - 1, psf_name, psf.nfiber - 1));
  return n;
}

void check_grid_inside_psf(const std::vector<double>& grid, const GaussHermitePsf& psf, const std::string& psf_name,
                           const std::string& note) {
  const double wlo = psf.wavemin(), whi = psf.wavemax();
  if (grid.front() < wlo || grid.back() > whi)
    throw_data_error(fmt::format("the grid {:.2f}..{:.2f} A{} lies outside the wavelength range {:.2f}..{:.2f} A of {}",
                                 grid.front(), grid.back(), note, wlo, whi, psf_name));
}

void check_extract_args(const ExtractArgs& a) {
  if (a.decorrelate_fibers)
    throw_usage_error(
        "--decorrelate-fibers is not supported: decorrelating neighbouring fibers biases the fluxes and DESI advises "
        "against it; perfex decorrelates each fiber's wavelengths only, as gpu_specter does");
  if (a.input.empty()) throw_usage_error("-i/--input is required");
  if (a.psf.empty()) throw_usage_error("-p/--psf is required");
  if (!a.wavelength.empty()) parse_wavelength_option(a.wavelength);
  ExtractionOptions o = a.options;
  if (a.psferr) o.psferr = *a.psferr;
  o.validate();
  check_fiber_options(a.specmin, a.nspec, o.bundlesize);
  if (a.barycentric && a.heliocor)
    throw_usage_error("--barycentric-correction and --heliocor are exclusive: give one");
  if (a.heliocor && !(std::isfinite(*a.heliocor) && *a.heliocor > 0.9 && *a.heliocor < 1.1))
    throw_usage_error(fmt::format("--heliocor {} must be a factor close to 1 (1 + v/c)", *a.heliocor));
  if (a.bundles_per_chunk < 0) throw_usage_error("--bundles-per-chunk must be >= 0");
  if (!a.no_output) {
    io::output_frame_format(a.output, a.format, "-o/--output");  // --format, and HDF5 in this build
    io::check_output_path(a.output, a.overwrite, "-o/--output");
  }
  if (!a.model.empty()) {
    if (a.model == a.output) throw_usage_error("-m/--model and -o/--output name the same file");
    io::check_output_path(a.model, a.overwrite, "-m/--model");
  }
}

ExtractionJob prepare_extraction(const ExtractArgs& a) {
  check_extract_args(a);
  WavelengthOption requested;
  if (!a.wavelength.empty()) requested = parse_wavelength_option(a.wavelength);

  // Files, cheapest first: the PSF, the header keywords, a separate fibermap, then the image.
  const GaussHermitePsf psf = io::read_psf(a.psf);
  const int specmin = a.specmin;
  const int nspec = fibers_to_extract(psf, a.psf, specmin, a.nspec, a.options.bundlesize);

  if (a.wavelength.empty()) {
    requested.grid = default_wavelength_grid(psf, 0.8);
    requested.dw = 0.8;
    requested.wmin = requested.grid.front();
    requested.wmax = std::round(requested.grid.back() / 0.8) * 0.8;  // a multiple of 0.8, as printed
  }
  const std::vector<double>& grid = requested.grid;
  double heliocor = 1.0;
  if (a.heliocor) heliocor = *a.heliocor;
  if (a.barycentric) heliocor = barycentric_correction_factor(read_pointing_header(a.input));
  std::vector<double> extraction_grid = grid;
  if (heliocor != 1.0)
    for (double& w : extraction_grid) w /= heliocor;
  check_grid_inside_psf(extraction_grid, psf, a.psf, heliocor != 1.0 ? " (observed frame, after HELIOCOR)" : "");
  if (!a.fibermap.empty()) {
    const long rows = fibermap_rows(a.fibermap);
    if (specmin + nspec > rows)
      throw_data_error(fmt::format("-f/--fibermap {}: its FIBERMAP has {} rows, the frame needs rows {}..{}",
                                   a.fibermap, rows, specmin, specmin + nspec - 1));
  }

  ExtractionJob job;
  job.image = io::read_preproc(a.input);
  const io::PreprocImage& image = job.image;
  if (image.npix_y != psf.npix_y || image.npix_x != psf.npix_x)
    throw_data_error(fmt::format("{}: the image is {} x {} pixels (rows x columns), the PSF's CCD is {} x {} "
                                 "(NPIX_Y x NPIX_X)",
                                 image.source, image.npix_y, image.npix_x, psf.npix_y, psf.npix_x));

  ExtractionOptions options = a.options;
  options.psferr = a.psferr.value_or(psf.default_psferr());
  options.ndiag = psf.hsizey;
  if (a.verbose) {
    fmt::print(stderr, "perfex extract: {} with {} ({}; {} x {} pixels)\n", a.input, a.psf,
               image.header.camera.empty() ? "no CAMERA" : image.header.camera, image.npix_y, image.npix_x);
    fmt::print(stderr,
               "perfex extract: fibers {}..{}, {} bins {:.3f}..{:.3f} A step {:.4g}{}, bundlesize {}, nsubbundles {}, "
               "nwavestep {}, wavepad {} bins, pixpad-frac {}, regularize {}, psferr {}, tails {}\n",
               specmin, specmin + nspec - 1, grid.size(), grid.front(), grid.back(), grid[1] - grid[0],
               heliocor != 1.0 ? fmt::format(", HELIOCOR {:.9f}", heliocor) : std::string(), options.bundlesize,
               options.nsubbundles, options.nwavestep, options.wavepad(), options.pixpad_frac, options.regularize,
               options.psferr, a.psf_tails ? "on" : "off");
    fmt::print(stderr, "perfex extract: execution space {} (concurrency {})\n", ExecSpace::name(),
               ExecSpace().concurrency());
  }

  job.args = a;
  job.psf = psf;
  job.requested = requested;
  job.extraction_grid = extraction_grid;
  job.specmin = specmin;
  job.nspec = nspec;
  job.heliocor = heliocor;
  job.pipeline.extraction = options;
  job.pipeline.spots.tails = a.psf_tails;
  job.pipeline.bundles_per_chunk = a.bundles_per_chunk;
  job.pipeline.model_image = !a.model.empty();
  return job;
}

int run_extract(const ExtractArgs& a) {
  if (Comm::world().size() > 1) return run_extract_distributed(Comm::world(), a);
  const auto t0 = std::chrono::steady_clock::now();
  const ExtractionJob job = prepare_extraction(a);
  FramePipelineOptions pipeline = job.pipeline;
  ProgressLine progress(a.verbose);
  pipeline.progress = [&progress](const FrameProgress& p) { progress.update(p); };
  ExtractedFrame extracted;
  try {
    extracted = extract_frame(ExecSpace(), job.image, job.psf, job.extraction_grid, job.specmin, job.nspec, pipeline);
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();
  write_extraction(job, extracted, t0);
  return 0;
}

io::Frame frame_of(const ExtractionJob& job, const ExtractedFrame& extracted, io::FibermapSource& fibermap) {
  const ExtractArgs& a = job.args;
  const io::PreprocImage& image = job.image;
  const std::vector<double>& grid = job.requested.grid;
  const WavelengthOption& requested = job.requested;
  const ExtractionOptions& options = job.pipeline.extraction;
  const int specmin = job.specmin, nspec = job.nspec;
  const double heliocor = job.heliocor;
  io::Frame frame;
  frame.data = extracted.result;
  frame.data.wavelengths = grid;  // the nominal grid; the spectra were extracted on grid / HELIOCOR
  frame.mask = extracted.mask;
  io::FrameHeader& h = frame.header;
  h.camera = image.header.camera;
  h.expid = image.header.expid;
  h.night = image.header.night;
  h.mjd_obs = image.header.mjd_obs;
  h.exptime = image.header.exptime;
  h.flavor = image.header.flavor;
  h.in_psf = a.psf;
  h.in_img = a.input;
  h.options = options;
  h.psf_tails = a.psf_tails;
  h.heliocor = heliocor;
  h.wavemin = requested.wmin;
  h.wavemax = requested.wmax;
  h.wavestep = requested.dw;

  fibermap = io::FibermapSource();
  fibermap.first = specmin;
  if (!a.fibermap.empty()) {
    fibermap.path = a.fibermap;
  } else if (image.fibermap) {
    if (image.fibermap->size() >= specmin + nspec)
      fibermap.table = &*image.fibermap;
    else
      fmt::print(stderr, "perfex extract: warning: the FIBERMAP of {} has {} rows, fewer than the {} the frame needs; "
                 "the frame gets no FIBERMAP\n", a.input, image.fibermap->size(), specmin + nspec);
  }
  return frame;
}

void write_extraction(const ExtractionJob& job, const ExtractedFrame& extracted,
                      std::chrono::steady_clock::time_point t0) {
  const ExtractArgs& a = job.args;
  const std::vector<double>& grid = job.requested.grid;
  const int specmin = job.specmin, nspec = job.nspec;
  const double heliocor = job.heliocor;
  io::FibermapSource fibermap;
  const io::Frame frame = frame_of(job, extracted, fibermap);
  io::FrameWriteOptions write_options;
  write_options.overwrite = a.overwrite;
  write_options.float64 = a.float64;
  if (io::output_frame_format(a.output, a.format, "-o/--output") == io::FrameFormat::Hdf5)
    io::write_frame_hdf5(a.output, frame, fibermap, write_options);
  else
    io::write_frame(a.output, frame, fibermap, write_options);
  if (!a.model.empty()) io::write_model_image(a.model, extracted.model, frame.header, a.overwrite);

  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  long flagged = 0;
  for (std::size_t k = 0; k < frame.mask.size(); ++k) flagged += frame.mask.data()[k] != 0;
  const long unsolved = extracted.result.unsolved_bins;
  if (a.verbose && unsolved > 0)
    fmt::print(stderr, "perfex extract: {} bins lie in patches whose normal matrix could not be solved: ivar 0, "
               "BAD2DFIT\n", unsolved);
  fmt::print("wrote {}: {} fibers ({}..{}) x {} bins ({:.1f}..{:.1f} A), extraction {:.2f} s, total {:.2f} s, {} "
             "bins masked{}{}\n",
             a.output, nspec, specmin, specmin + nspec - 1, grid.size(), grid.front(), grid.back(), extracted.extract_s,
             total, flagged, unsolved > 0 ? fmt::format(", {} bins unsolved", unsolved) : std::string(),
             heliocor != 1.0 ? fmt::format(", HELIOCOR {:.9f}", heliocor) : std::string());
  if (!a.model.empty()) fmt::print("wrote {}: model image\n", a.model);
}

void add_extract_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<ExtractArgs>();
  auto* cmd = app.add_subcommand(
      "extract", "Extract spectra from a preprocessed CCD image into a DESI frame file (desi_extract_spectra's options)");
  cmd->add_option("-i,--input", args->input, "input preprocessed image (preproc-CAMERA-EXPID.fits)")->required();
  cmd->add_option("-p,--psf", args->psf, "input PSF (GAUSS-HERMITE, psf-CAMERA-EXPID.fits)")->required();
  cmd->add_option("-o,--output", args->output, "output frame file (FITS; HDF5 for a .h5 or .hdf5 name)")->required();
  cmd->add_option("--format", args->format, "output format: fits or hdf5 (default: by -o's extension)");
  cmd->add_option("-f,--fibermap", args->fibermap, "take the FIBERMAP from this file (default: the input's, if any)");
  cmd->add_option("-m,--model", args->model,
                  "also write the model image: spots x extracted (convolved) flux, gpu_specter's definition");
  cmd->add_option("-w,--wavelength", args->wavelength,
                  "wmin,wmax,dw in Angstrom (default: the range every fiber covers on the CCD, step 0.8)");
  cmd->add_option("-s,--specmin", args->specmin, "first fiber (a multiple of --bundlesize)")->capture_default_str();
  cmd->add_option("-n,--nspec", args->nspec, "number of fibers (default 500, or the PSF's fibers from --specmin)");
  cmd->add_option("-r,--regularize", args->options.regularize, "regularization (alpha) of well-constrained bins")
      ->capture_default_str();
  cmd->add_option("--bundlesize", args->options.bundlesize, "fibers per bundle")->capture_default_str();
  cmd->add_option("--nsubbundles", args->options.nsubbundles, "subbundles per bundle")->capture_default_str();
  cmd->add_option("--nwavestep", args->options.nwavestep, "core wavelength bins per patch")->capture_default_str();
  cmd->add_option("--wavepad-frac", args->options.wavepad_frac, "wavelength padding fraction")->capture_default_str();
  cmd->add_option("--pixpad-frac", args->options.pixpad_frac, "pixel padding fraction")->capture_default_str();
  cmd->add_option("--psferr", args->psferr, "fractional PSF model error in chi2pix (default: the PSF's PSFERR, else 0.01)");
  cmd->add_flag("--barycentric-correction", args->barycentric,
                "extract on grid / HELIOCOR, HELIOCOR from the header's TARGTRA/TARGTDEC and MJD-OBS (+ EXPTIME/2)");
  cmd->add_option("--heliocor", args->heliocor, "apply this HELIOCOR factor instead of computing it");
  cmd->add_flag("--decorrelate-fibers", args->decorrelate_fibers, "not supported (biased; DESI advises against it)");
  cmd->add_flag("--psf-tails", args->psf_tails, "evaluate the PSF's tails (specter does, gpu_specter does not)");
  cmd->add_flag("--overwrite", args->overwrite, "replace existing output files");
  cmd->add_flag("--float64", args->float64,
                "also write FLUX64, IVAR64, RESOLUTION64, CHI2PIX64 and PIXMASK_FRACTION in float64");
  cmd->add_option("--bundles-per-chunk", args->bundles_per_chunk,
                  "bundles whose spots are evaluated together (0: 1 on CPUs, 4 on GPUs; ~90 MB each)")
      ->capture_default_str();
  cmd->add_flag("-v,--verbose", args->verbose, "print the settings and a progress line on stderr");
  cmd->add_flag("--mpi", args->mpi,
                "share the bundles among MPI ranks (automatic when started by mpiexec, mpirun or srun)");
  // An empty -w, -f or -m (an unset shell variable...) is a mistake, not a request for the default.
  for (const char* name : {"--wavelength", "--fibermap", "--model"})
    cmd->get_option(name)->check(
        [](const std::string& v) { return v.empty() ? std::string("expected a value, got an empty string") : std::string(); });
  cmd->callback([&action, args] {
    check_extract_args(*args);  // usage errors before Kokkos starts or any file is read
    request_mpi(args->mpi);
    action = [args] { return run_extract(*args); };
  });
}

}  // namespace perfex::drivers
