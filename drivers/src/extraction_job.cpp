// One frame of perfex extract from its files to its files: the inputs read and checked, the image
// uploaded, the frame and model image written with the summary line.
#include "perfex/drivers/extraction_job.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "perfex/core/ccd_coverage.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/frame_request.hpp"
#include "perfex/drivers/barycentric.hpp"
#include "perfex/drivers/camera_check.hpp"
#include "perfex/drivers/desi_options.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/desi_provenance.hpp"
#include "perfex/io/frame_format.hpp"
#include "perfex/io/frame_scores_table.hpp"
#include "perfex/io/pointing_header.hpp"
#include "perfex/io/psf_io.hpp"

namespace perfex::drivers {

namespace {

// -w's grid, or by default desi_extract_spectra's (desi_options.hpp).
WavelengthOption requested_grid(const ExtractArgs& a, const GaussHermitePsf& psf) {
  if (!a.wavelength.empty()) return parse_wavelength_option(a.wavelength);
  return desi_default_wavelengths(psf, a.psf, a.desi.use_specter);
}

// An explicit grid must lie inside the PSF's range; the default grid is the PSF table's own domain, as
// desispec's, and is not checked against the trace HDUs' (slightly narrower in DESI's files). When the grid
// misses the PSF because the PSF is another camera's, that is what to say.
void check_requested_grid(const ExtractArgs& a, const ExtractionJob& job) {
  if (a.wavelength.empty()) return;
  try {
    check_grid_inside_psf(job.extraction_grid, job.psf, a.psf,
                          job.heliocor != 1.0 ? " (observed frame, after HELIOCOR)" : "");
  } catch (const Error&) {
    if (!a.allow_camera_mismatch)
      check_same_camera(image_camera(a.input), a.input, job.psf.camera, a.psf, "--allow-camera-mismatch");
    throw;
  }
}

// --heliocor, or the barycentric correction from the input's header keywords (io reads them), or 1.
double heliocor_of(const ExtractArgs& a) {
  if (a.barycentric) return barycentric_correction_factor(io::read_pointing_header(a.input));
  return a.heliocor.value_or(1.0);
}

void check_fibermap_file(const ExtractArgs& a, int specmin, int nspec) {
  if (a.fibermap.empty()) return;
  const long rows = io::read_fibermap_rows(a.fibermap);
  if (specmin + nspec > rows)
    throw_data_error(fmt::format("-f/--fibermap {}: its FIBERMAP has {} rows, the frame needs rows {}..{}", a.fibermap,
                                 rows, specmin, specmin + nspec - 1));
}

// -v: what will be extracted, with what.
void print_settings(const ExtractionJob& job) {
  const ExtractArgs& a = job.args;
  const io::PreprocImage& image = job.image;
  const std::vector<double>& grid = job.requested.grid;
  const ExtractionOptions& options = job.pipeline.extraction;
  fmt::print(stderr, "perfex extract: {} with {} ({}; {} x {} pixels)\n", a.input, a.psf,
             image.header.camera.empty() ? "no CAMERA" : image.header.camera, image.npix_y, image.npix_x);
  fmt::print(stderr,
             "perfex extract: fibers {}..{}, {} bins {:.3f}..{:.3f} A step {:.4g}{}, bundlesize {}, nsubbundles {}, "
             "nwavestep {}, wavepad {} bins, pixpad-frac {}, regularize {}, psferr {}, tails {}\n",
             job.specmin, job.specmin + job.nspec - 1, grid.size(), grid.front(), grid.back(), grid[1] - grid[0],
             job.heliocor != 1.0 ? fmt::format(", HELIOCOR {:.9f}", job.heliocor) : std::string(), options.bundlesize,
             options.nsubbundles, options.nwavestep, options.wavepad(), options.pixpad_frac, options.regularize,
             options.psferr, a.psf_tails ? "on" : "off");
  // Kokkos answers the concurrency on its master thread only; extract-exposure prepares later frames in an
  // I/O thread, and the first frame on the master thread.
  static const int concurrency = ExecSpace().concurrency();
  fmt::print(stderr, "perfex extract: execution space {} (concurrency {})\n", ExecSpace::name(), concurrency);
  for (const std::string& note : desi_option_notes(a.desi, a.no_scores))
    fmt::print(stderr, "perfex extract: {}\n", note);
}

}  // namespace

ExtractionJob prepare_extraction(const ExtractArgs& a) {
  check_extract_args(a);
  ExtractionJob job;
  job.args = a;
  // Files, cheapest first: the PSF, the header keywords, a separate fibermap, then the image.
  job.psf = io::read_psf(a.psf);
  const GaussHermitePsf& psf = job.psf;
  job.specmin = a.specmin;
  job.nspec = fibers_to_extract(psf, a.psf, a.specmin, a.nspec, a.options.bundlesize);
  job.requested = requested_grid(a, psf);
  job.heliocor = heliocor_of(a);
  job.extraction_grid = job.requested.grid;
  if (job.heliocor != 1.0)
    for (double& w : job.extraction_grid) w /= job.heliocor;
  check_requested_grid(a, job);
  check_fibermap_file(a, job.specmin, job.nspec);

  job.image = io::read_preproc(a.input);
  const io::PreprocImage& image = job.image;
  if (image.npix_y != psf.npix_y || image.npix_x != psf.npix_x)
    throw_data_error(
        fmt::format("{}: the image is {} x {} pixels (rows x columns), the PSF's CCD is {} x {} "
                    "(NPIX_Y x NPIX_X)",
                    image.source, image.npix_y, image.npix_x, psf.npix_y, psf.npix_x));
  if (!a.allow_camera_mismatch)
    check_same_camera(image.header.camera, image.source, psf.camera, a.psf, "--allow-camera-mismatch");

  FrameOptions& pipeline = job.pipeline;
  pipeline.extraction = a.options;
  pipeline.extraction.psferr = a.psferr.value_or(psf.default_psferr());
  pipeline.extraction.ndiag = psf.hsizey;
  // The reference's wavelength padding, or more where the spots are taller (the frame header says which).
  pipeline.extraction.wavepad_bins = wavelength_padding(psf, job.extraction_grid, pipeline.extraction);
  pipeline.spots.tails = a.psf_tails;
  pipeline.bundles_per_chunk = a.bundles_per_chunk;
  pipeline.model_image = !a.model.empty();
  if (a.verbose) print_settings(job);
  return job;
}

ImageInput upload_job_image(const ExecSpace& exec, const io::PreprocImage& image) {
  HostImage host;
  host.image = image.image;
  host.ivar = image.ivar;  // the mask is applied already
  host.ccd_ny = image.npix_y;
  host.ccd_nx = image.npix_x;
  host.pixels_validated = true;  // io::read_preproc zeroed every unusable pixel's weight
  return upload_image(exec, host);
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
  h.cards = image.header.cards;  // the whole IMAGE header, as desispec propagates it; perfex's keywords win
  h.in_psf = io::shorten_desi_filename(a.psf);
  h.in_img = io::shorten_desi_filename(a.input);
  h.orig_psf = io::original_psf(a.psf).value_or("");
  h.dependencies = io::perfex_dependencies();
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
      fmt::print(stderr,
                 "perfex extract: warning: the FIBERMAP of {} has {} rows, fewer than the {} the frame needs; "
                 "the frame gets no FIBERMAP\n",
                 a.input, image.fibermap->size(), specmin + nspec);
  }
  // desispec's FIBERMIN: the first fiber of the frame's fibermap rows, else the image's FIBERMIN + specmin.
  h.fibermin = io::fibermap_first_fiber(fibermap, nspec);
  if (!h.fibermin) h.fibermin = image.header.fibermin.value_or(0) + specmin;
  if (a.no_scores) return frame;  // --no-scores, as desi_extract_spectra
  frame.scores = io::frame_scores_table(frame);
  if (!frame.scores)
    fmt::print(stderr,
               "perfex extract: warning: no bin of {:.1f}..{:.1f} A lies in desispec's SCORES band for this grid "
               "(b 4000..5800, r 5800..7600, z 7600..9800 A); the frame gets no SCORES\n",
               grid.front(), grid.back());
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
  io::OutputSet outputs;  // the frame and the model appear together, or neither
  io::write_frame_file(a.output, frame, fibermap, write_options, a.format, "-o/--output");
  if (!a.model.empty()) io::write_model_image(a.model, extracted.model, frame.header, a.overwrite);
  outputs.commit();

  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  long flagged = 0;
  for (std::size_t k = 0; k < frame.mask.size(); ++k) flagged += frame.mask.data()[k] != 0;
  const long unsolved = extracted.result.unsolved_bins;
  if (a.verbose && unsolved > 0)
    fmt::print(stderr,
               "perfex extract: {} bins lie in patches whose normal matrix could not be solved: ivar 0, "
               "BAD2DFIT\n",
               unsolved);
  fmt::print(
      "wrote {}: {} fibers ({}..{}) x {} bins ({:.1f}..{:.1f} A), extraction {:.2f} s, total {:.2f} s, {} "
      "bins masked{}{}\n",
      a.output, nspec, specmin, specmin + nspec - 1, grid.size(), grid.front(), grid.back(), extracted.extract_s, total,
      flagged, unsolved > 0 ? fmt::format(", {} bins unsolved", unsolved) : std::string(),
      heliocor != 1.0 ? fmt::format(", HELIOCOR {:.9f}", heliocor) : std::string());
  if (!a.model.empty()) fmt::print("wrote {}: model image\n", a.model);
}

}  // namespace perfex::drivers
