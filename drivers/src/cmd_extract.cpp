// `perfex extract`: spectroperfectionism extraction of a preprocessed CCD image into a DESI frame file,
// with desi_extract_spectra's options; usage errors are found before any file is read. One downward path:
// the arguments (extract_args.cpp), the inputs read (extraction_job.cpp, io), core's extract_frame (or
// the ranks' units, distributed_extract.cpp), the frame written (extraction_job.cpp, io).
#include <fmt/core.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "perfex/core/extract_frame.hpp"
#include "perfex/core/types.hpp"
#include "perfex/drivers/cli.hpp"
#include "perfex/drivers/comm.hpp"
#include "perfex/drivers/distributed_extract.hpp"
#include "perfex/drivers/errors.hpp"
#include "perfex/drivers/extract_command.hpp"
#include "perfex/drivers/extraction_job.hpp"
#include "perfex/io/helper_threads.hpp"
#include "perfex/io/psf_checks.hpp"

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

// One process: core's pipeline with a progress line.
int run_extract_here(const ExtractArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  ExtractionJob job = prepare_extraction(a);
  FrameOptions pipeline = job.pipeline;
  ProgressLine progress(a.verbose);
  pipeline.progress = [&progress](const FrameProgress& p) { progress.update(p); };
  ExtractedFrame extracted;
  try {
    const auto t_extract = std::chrono::steady_clock::now();
    const ExecSpace exec;
    const ImageInput input = upload_job_image(exec, job.image);
    extracted = io::naming_psf_errors(job.psf, a.psf, [&] {
      return extract_frame(exec, input, job.psf, job.extraction_grid, job.specmin, job.nspec, pipeline);
    });
    extracted.extract_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_extract).count();
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();
  // Writing reads the image's header and fibermap, never its pixels (~340 MB for a DESI frame): a helper
  // thread releases them meanwhile (freeing them took ~20 ms of the process's tail on this thread). It resets
  // the job's own views (Kokkos 3.4 copies a view it is asked to move, so the job would keep a reference).
  io::HelperThreads release;
  release.run([&image = job.image] {
    image.image = {};
    image.ivar = {};
    image.mask = {};
  });
  write_extraction(job, extracted, t0);
  release.join();
  return 0;
}

// The ranks of `comm`: the root reads, all extract, the root writes; every rank returns the same exit code,
// the root prints the error.
int run_extract_on_ranks(const Comm& comm, const ExtractArgs& args) {
  return run_or_abort(comm, [&] {
    const auto t0 = std::chrono::steady_clock::now();
    PreparedFrame frame;
    if (comm.is_root()) frame = prepare_frame(args);
    FrameOutcome out = extract_on_group(comm, comm.is_root() ? &frame : nullptr, args.verbose);
    Failure failure{out.code, out.message};
    if (comm.is_root() && !failure) failure = run_caught([&] { write_extraction(*frame.job, *out.extracted, t0); });
    comm.broadcast(failure.code, 0);
    if (comm.is_root() && failure) print_error(failure.message);
    return failure.code;
  });
}

}  // namespace

int run_extract(const ExtractArgs& a) {
  const Comm world = Comm::world();
  return world.size() > 1 ? run_extract_on_ranks(world, a) : run_extract_here(a);
}

void add_extract_command(CLI::App& app, Action& action, std::shared_ptr<ExtractArgs>* parsed) {
  auto args = std::make_shared<ExtractArgs>();
  if (parsed) *parsed = args;
  auto* cmd = app.add_subcommand(
      "extract",
      "Extract spectra from a preprocessed CCD image into a DESI frame file (desi_extract_spectra's options)");
  cmd->add_option("-i,--input", args->input, "input preprocessed image (preproc-CAMERA-EXPID.fits)")->required();
  cmd->add_option("-p,--psf", args->psf, "input PSF (GAUSS-HERMITE, psf-CAMERA-EXPID.fits)")->required();
  cmd->add_option("-o,--output", args->output,
                  "output frame file (FITS, gzip-compressed for a .gz name; HDF5 for a .h5 or .hdf5 name)")
      ->required();
  cmd->add_option("--format", args->format, "output format: fits or hdf5 (default: by -o's extension)");
  cmd->add_option("-f,--fibermap", args->fibermap, "take the FIBERMAP from this file (default: the input's, if any)");
  cmd->add_option("-m,--model", args->model,
                  "also write the model image: spots x extracted (convolved) flux, gpu_specter's definition");
  cmd->add_option("-w,--wavelength", args->wavelength,
                  "wmin,wmax,dw in Angstrom (default, as desi_extract_spectra: the PSF's WAVEMIN,WAVEMAX,0.8)");
  cmd->add_option("-s,--specmin", args->specmin, "first fiber (bundles at either end may be partial)")
      ->capture_default_str();
  cmd->add_option("-n,--nspec", args->nspec, "number of fibers (default 500, or the PSF's fibers from --specmin)");
  cmd->add_option("-r,--regularize", args->options.regularize, "regularization (alpha) of well-constrained bins")
      ->capture_default_str();
  cmd->add_option("--bundlesize", args->options.bundlesize, "fibers per bundle")->capture_default_str();
  cmd->add_option("--nsubbundles", args->options.nsubbundles,
                  "subbundles per bundle, 1..bundlesize (split as specter splits them)")
      ->capture_default_str();
  cmd->add_option("--nwavestep", args->options.nwavestep, "core wavelength bins per patch")->capture_default_str();
  cmd->add_option("--wavepad-frac", args->options.wavepad_frac, "wavelength padding fraction")->capture_default_str();
  cmd->add_option("--pixpad-frac", args->options.pixpad_frac, "pixel padding fraction")->capture_default_str();
  cmd->add_option("--psferr", args->psferr,
                  "fractional PSF model error in chi2pix (default: the PSF's PSFERR, else 0.01)");
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
  cmd->add_flag("--allow-camera-mismatch", args->allow_camera_mismatch,
                "extract even when the image's and the PSF's CAMERA differ");
  add_desi_options(*cmd, args->desi, args->no_scores);
  // An empty -w, -f or -m (an unset shell variable...) is a mistake, not a request for the default.
  for (const char* name : {"--wavelength", "--fibermap", "--model"})
    cmd->get_option(name)->check([](const std::string& v) {
      return v.empty() ? std::string("expected a value, got an empty string") : std::string();
    });
  cmd->callback([&action, args] {
    check_extract_args(*args);  // usage errors before Kokkos starts or any file is read
    request_mpi(args->mpi);
    action = [args] { return run_extract(*args); };
  });
}

}  // namespace perfex::drivers
