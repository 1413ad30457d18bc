// `perfex extract-exposure`: its arguments and their checks, the frames of a manifest or a directory of
// DESI files; the run over the frames is exposure_run.cpp.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "exposure_run.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/frame_request.hpp"
#include "perfex/drivers/cli.hpp"
#include "perfex/drivers/comm.hpp"
#include "perfex/drivers/errors.hpp"
#include "perfex/drivers/exposure.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/file_checks.hpp"
#include "perfex/io/frame_format.hpp"
#include "perfex/io/frame_hdf5.hpp"

namespace perfex::drivers {

namespace {
namespace fs = std::filesystem;

void check_distinct_outputs(const std::vector<FrameTask>& tasks, const std::string& source) {
  std::set<std::string> seen;
  for (const FrameTask& t : tasks)
    if (!seen.insert(fs::path(t.output).lexically_normal().string()).second)
      throw_data_error(fmt::format("{}: the output {} is named twice", source, t.output));
}

}  // namespace

std::vector<FrameTask> read_manifest(const std::string& path, const std::string& output_dir) {
  try {
    io::check_input_file(path, "a manifest file or a directory");  // a FIFO would block the read
  } catch (const Error& e) {
    std::string reason = e.what();
    if (reason.rfind(path + ": ", 0) == 0) reason.erase(0, path.size() + 2);
    throw_data_error(path + ": cannot read the manifest (" + reason + ")");
  }
  std::ifstream in(path);
  if (!in) throw_data_error(path + ": cannot read the manifest (no such file, or not readable)");
  std::vector<FrameTask> tasks;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.empty()) continue;
    if (f.size() != 3)
      throw_data_error(fmt::format("{}:{}: expected three fields 'input psf output', found {}", path, number,
                                   f.size()));
    FrameTask t{f[0], f[1], f[2]};
    if (!output_dir.empty() && fs::path(t.output).is_relative()) t.output = (fs::path(output_dir) / t.output).string();
    tasks.push_back(std::move(t));
  }
  if (in.bad()) throw_data_error(path + ": read error");
  if (tasks.empty()) throw_data_error(path + ": the manifest lists no frame");
  check_distinct_outputs(tasks, path);
  return tasks;
}

std::vector<FrameTask> list_exposure_directory(const std::string& input_dir, const std::string& psf_dir,
                                               const std::string& output_dir) {
  static const std::regex name(R"(preproc-([brz][0-9])-([0-9]+)\.fits(\.gz)?)");
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(input_dir, ec), end; !ec && it != end; it.increment(ec))
    if (std::regex_match(it->path().filename().string(), name)) names.push_back(it->path().filename().string());
  if (ec) throw_data_error(fmt::format("{}: cannot list the directory ({})", input_dir, ec.message()));
  if (names.empty()) throw_data_error(input_dir + ": no preproc-CAMERA-EXPID.fits files");
  std::sort(names.begin(), names.end());
  const fs::path psfs = psf_dir.empty() ? fs::path(input_dir) : fs::path(psf_dir);
  std::vector<FrameTask> tasks;
  for (const std::string& n : names) {
    std::smatch m;
    std::regex_match(n, m, name);
    const std::string id = m[1].str() + "-" + m[2].str();
    tasks.push_back({(fs::path(input_dir) / n).string(), (psfs / ("psf-" + id + ".fits")).string(),
                     (fs::path(output_dir) / ("frame-" + id + ".fits")).string()});
  }
  check_distinct_outputs(tasks, input_dir);  // preproc-X.fits and preproc-X.fits.gz
  return tasks;
}

int default_group_size(int nranks, int nframes) { return std::max(1, nframes > 0 ? nranks / nframes : nranks); }

void check_exposure_args(const ExposureArgs& a) {
  const ExtractArgs& e = a.extract;
  if (a.source.empty()) throw_usage_error("a manifest or a directory of preproc files is required");
  if (a.group_size < 0) throw_usage_error("--group-size must be >= 0 (0: automatic)");
  std::error_code ec;
  const bool directory = fs::is_directory(a.source, ec);
  if (!a.hdf5_exposure.empty()) {
    io::output_frame_format(a.hdf5_exposure, "hdf5", "--hdf5-exposure");  // HDF5 in this build, no .gz name
    io::check_output_path(a.hdf5_exposure, e.overwrite, "--hdf5-exposure");
  }
  if (directory && a.output_dir.empty() && a.hdf5_exposure.empty())
    throw_usage_error(a.source + " is a directory: give --output-dir for the frames");
  if (!directory && !a.psf_dir.empty()) throw_usage_error("--psf-dir applies to a directory of preproc files only");
  if (!a.output_dir.empty() && !fs::is_directory(a.output_dir, ec))
    throw_usage_error("--output-dir " + a.output_dir + ": no such directory");
  if (e.decorrelate_fibers) throw_usage_error("--decorrelate-fibers is not supported (see perfex extract --help)");
  if (!e.wavelength.empty()) parse_wavelength_option(e.wavelength);
  ExtractionOptions o = e.options;
  if (e.psferr) o.psferr = *e.psferr;
  o.validate();
  check_fiber_options(e.specmin, e.nspec, o.bundlesize);  // perfex extract's rule: any fibers
  if (e.barycentric && e.heliocor) throw_usage_error("--barycentric-correction and --heliocor are exclusive: give one");
  if (e.bundles_per_chunk < 0) throw_usage_error("--bundles-per-chunk must be >= 0");
}

int run_extract_exposure(const ExposureArgs& args) {
  const Comm world = Comm::world();
  return run_or_abort(world, [&] { return run_exposure(world, args); });
}

void add_extract_exposure_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<ExposureArgs>();
  ExtractArgs& e = args->extract;
  auto* cmd = app.add_subcommand(
      "extract-exposure",
      "Extract the frames of an exposure as one batch job: frames dealt to groups of MPI ranks, bundles to the ranks "
      "of a group");
  cmd->add_option("source", args->source,
                  "a manifest (one frame per line: input psf output; '#' comments) or a directory of "
                  "preproc-CAMERA-EXPID.fits files")
      ->required();
  cmd->add_option("--output-dir", args->output_dir,
                  "where frame-CAMERA-EXPID.fits go (directory mode; manifest mode: prefix of relative outputs)");
  cmd->add_option("--hdf5-exposure", args->hdf5_exposure,
                  "write every frame into this HDF5 file, one group per camera (the output names name repeated "
                  "cameras); no per-frame files. MPI rank 0 writes it, or every rank collectively when perfex "
                  "was built with a parallel HDF5 (PERFEX_HDF5_PARALLEL)");
  cmd->add_option("--psf-dir", args->psf_dir, "directory mode: where psf-CAMERA-EXPID.fits are (default: the source)");
  cmd->add_option("--group-size", args->group_size,
                  "ranks per frame (0: max(1, ranks / frames)); frames are dealt round-robin to the groups")
      ->capture_default_str();
  cmd->add_option("-f,--fibermap", e.fibermap, "take every frame's FIBERMAP from this file (default: each input's)");
  cmd->add_option("-w,--wavelength", e.wavelength,
                  "wmin,wmax,dw in Angstrom (default: the range every fiber covers on the CCD, step 0.8)");
  cmd->add_option("-s,--specmin", e.specmin, "first fiber (bundles at either end may be partial)")
      ->capture_default_str();
  cmd->add_option("-n,--nspec", e.nspec, "number of fibers (default 500, or the PSF's fibers from --specmin)");
  cmd->add_option("-r,--regularize", e.options.regularize, "regularization (alpha) of well-constrained bins")
      ->capture_default_str();
  cmd->add_option("--bundlesize", e.options.bundlesize, "fibers per bundle")->capture_default_str();
  cmd->add_option("--nsubbundles", e.options.nsubbundles,
                  "subbundles per bundle, 1..bundlesize (split as specter splits them)")
      ->capture_default_str();
  cmd->add_option("--nwavestep", e.options.nwavestep, "core wavelength bins per patch")->capture_default_str();
  cmd->add_option("--wavepad-frac", e.options.wavepad_frac, "wavelength padding fraction")->capture_default_str();
  cmd->add_option("--pixpad-frac", e.options.pixpad_frac, "pixel padding fraction")->capture_default_str();
  cmd->add_option("--psferr", e.psferr,
                  "fractional PSF model error in chi2pix (default: each PSF's PSFERR, else 0.01)");
  cmd->add_flag("--barycentric-correction", e.barycentric, "extract on grid / HELIOCOR, from each input's header");
  cmd->add_option("--heliocor", e.heliocor, "apply this HELIOCOR factor to every frame instead of computing it");
  cmd->add_flag("--decorrelate-fibers", e.decorrelate_fibers, "not supported (biased; DESI advises against it)");
  cmd->add_flag("--psf-tails", e.psf_tails, "evaluate the PSF's tails (specter does, gpu_specter does not)");
  cmd->add_flag("--overwrite", e.overwrite, "replace existing frames (otherwise such a frame fails)");
  cmd->add_flag("--float64", e.float64, "also write the float64 HDUs");
  cmd->add_option("--bundles-per-chunk", e.bundles_per_chunk,
                  "bundles per unit of work (0: 1 on CPUs, 4 on GPUs); units are handed out to the ranks of a group")
      ->capture_default_str();
  cmd->add_flag("-v,--verbose", e.verbose, "print the settings of every frame and a line per unit of work");
  cmd->add_flag("--mpi", e.mpi, "start MPI even when no launcher (mpiexec, mpirun, srun) is detected");
  cmd->add_flag("--allow-camera-mismatch", e.allow_camera_mismatch,
                "extract a frame even when its image's and PSF's CAMERA differ");
  add_desi_options(*cmd, e.desi, e.no_scores);
  cmd->callback([&action, args] {
    check_exposure_args(*args);
    request_mpi(args->extract.mpi);
    action = [args] { return run_extract_exposure(*args); };
  });
}

}  // namespace perfex::drivers
