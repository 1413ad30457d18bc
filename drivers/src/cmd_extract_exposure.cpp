// `perfex extract-exposure`: an exposure's frames as one (MPI) batch job: frames dealt round-robin to
// groups of ranks, bundles to the ranks of a group; the group's root writes a frame while the other ranks
// start on the next one, and reads the next frame's inputs meanwhile. Bad frames are reported and skipped.
// With --hdf5-exposure every frame goes to one HDF5 file, in frame order: written by world rank 0 (a serial
// HDF5), or by every rank collectively (PERFEX_HDF5_PARALLEL, under MPI).
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
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

#include "perfex/core/error.hpp"
#include "perfex/drivers/cli.hpp"
#include "perfex/drivers/command_files.hpp"
#include "perfex/drivers/comm.hpp"
#include "perfex/drivers/distributed_extract.hpp"
#include "perfex/drivers/exposure.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/file_checks.hpp"
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

// A frame written by the root of a group while the next frame is extracted.
struct PendingWrite {
  int index = 0;
  ExtractionJob job;
  ExtractedFrame extracted;
  std::chrono::steady_clock::time_point t0;
};

constexpr int tag_hdf5_frame = 7201;  // group root -> world rank 0: a finished frame (or why it failed)

// A group root's frame for the exposure file: its status (0, or the code of an error its root reported),
// then, when 0, the frame as an HDF5 file image.
std::string frame_message(int code, const std::string& payload) {
  std::string m(sizeof(int), '\0');
  std::memcpy(m.data(), &code, sizeof(int));
  return m + payload;
}

int run_exposure_collectively(const Comm& world, const ExposureArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool hdf5 = !a.hdf5_exposure.empty();
  // A parallel HDF5 build under MPI: every rank takes part in writing the exposure file.
  const bool collective = hdf5 && io::hdf5_parallel_available() && world.uses_mpi();
  // The frames, listed by the first rank and broadcast.
  std::vector<FrameTask> tasks;
  std::string message;
  int code = 0;
  std::unique_ptr<io::Hdf5ExposureWriter> writer;  // world rank 0 with --hdf5-exposure
  if (world.is_root()) {
    try {
      tasks = fs::is_directory(a.source) ? list_exposure_directory(a.source, a.psf_dir, a.output_dir)
                                         : read_manifest(a.source, a.output_dir);
      check_exposure_files(tasks, a);  // no frame may overwrite an input (exit 2 before any frame)
      if (hdf5 && !collective) writer = std::make_unique<io::Hdf5ExposureWriter>(a.hdf5_exposure, a.extract.overwrite);
    } catch (const Error& e) {
      code = e.exit_code();
      message = e.what();
    }
  }
  world.broadcast(code, 0);
  std::unique_ptr<io::Hdf5CollectiveExposureWriter> shared_writer;  // every rank, collective writes
  if (code == 0 && collective) {
    try {
      shared_writer = std::make_unique<io::Hdf5CollectiveExposureWriter>(a.hdf5_exposure, a.extract.overwrite);
    } catch (const Error& e) {  // the same on every rank
      if (io::collective_hdf5_file_broken()) throw;  // no MPI_Finalize with it open: run_or_abort ends the job
      code = e.exit_code();
      message = e.what();
    }
  }
  if (code != 0) {
    if (world.is_root()) fmt::print(stderr, "perfex: error: {}\n", message);
    return code;
  }
  std::vector<std::string> flat;
  for (const FrameTask& t : tasks) flat.insert(flat.end(), {t.input, t.psf, t.output});
  world.broadcast(flat, 0);
  tasks.resize(flat.size() / 3);
  for (std::size_t i = 0; i < tasks.size(); ++i) tasks[i] = {flat[3 * i], flat[3 * i + 1], flat[3 * i + 2]};
  const int nframes = static_cast<int>(tasks.size());

  // Groups of consecutive ranks; frame i goes to group i % ngroups.
  const int group_size = a.group_size > 0 ? std::min(a.group_size, world.size())
                                          : default_group_size(world.size(), nframes);
  const int ngroups = (world.size() + group_size - 1) / group_size;
  const int color = world.rank() / group_size;
  const Comm group = world.split(color, world.rank());
  const bool verbose = a.extract.verbose;
  if (world.is_root() && verbose)
    fmt::print(stderr, "perfex extract-exposure: {} frames, {} ranks in {} groups of {}{}\n", nframes, world.size(),
               ngroups, group_size, world.size() % group_size != 0 ? " (the last one smaller)" : "");
  std::vector<int> mine;
  for (int i = color; i < nframes; i += ngroups) mine.push_back(i);

  long long written = 0, failed = 0;
  auto frame_args = [&](int i) {
    ExtractArgs e = a.extract;
    e.input = tasks[i].input;
    e.psf = tasks[i].psf;
    e.output = tasks[i].output;
    e.model.clear();
    e.no_output = hdf5;  // the frame goes to the exposure file
    return e;
  };
  auto report = [&](int i, const std::string& reason) {
    fmt::print(stderr, "perfex extract-exposure: {} not written: {}\n", tasks[i].output, reason);
    std::fflush(stderr);
    ++failed;
  };
  std::optional<PendingWrite> pending;
  auto write_pending = [&] {
    if (!pending) return;
    std::string reason;
    int status = 0;
    try {
      write_extraction(pending->job, pending->extracted, pending->t0);
    } catch (const Error& e) {
      status = e.exit_code();
      reason = e.what();
    }
    if (status != 0)
      report(pending->index, reason);
    else
      ++written;
    std::fflush(stdout);
    pending.reset();
  };

  // --hdf5-exposure: after each round of frames (frame k * ngroups + g on group g), world rank 0 writes the
  // round's frames in frame order: its own, then each other group root's, received as an HDF5 file image.
  auto hdf5_add = [&](int i, const io::Frame& frame, const std::optional<io::RawTable>& fibermap) {
    try {
      const std::string name = writer->add(frame, fibermap, a.extract.float64, frame.header.camera,
                                           fs::path(tasks[i].output).stem().string());
      fmt::print("wrote {}[{}]: {} fibers ({}..{}) x {} bins, frame {} of the exposure\n", a.hdf5_exposure, name,
                 frame.data.nspec, frame.data.specmin, frame.data.specmin + frame.data.nspec - 1, frame.data.nwave,
                 i + 1);
      std::fflush(stdout);
      ++written;
    } catch (const Error& e) {
      report(i, e.what());
    }
  };
  auto hdf5_round = [&](std::size_t k, int own_frame, FrameOutcome& out, const ExtractionJob* job) {
    if (!group.is_root()) return;
    if (world.is_root()) {
      if (own_frame >= 0 && out.code == 0) {
        io::FibermapSource source;
        const io::Frame frame = frame_of(*job, *out.extracted, source);
        std::optional<io::RawTable> fibermap;
        try {
          fibermap = io::fibermap_rows(source, frame.data.nspec);
        } catch (const Error& e) {
          report(own_frame, e.what());
          own_frame = -1;
        }
        if (own_frame >= 0) hdf5_add(own_frame, frame, fibermap);
      }
      for (int g = 1; g < ngroups; ++g) {
        const int i = static_cast<int>(k) * ngroups + g;
        if (i >= nframes) break;
        std::string m;
        world.recv(m, g * group_size, tag_hdf5_frame);
        int status = 1;
        std::memcpy(&status, m.data(), sizeof(int));
        if (status != 0) continue;  // reported by its group's root
        const std::vector<unsigned char> image(m.begin() + sizeof(int), m.end());
        m.clear();
        std::optional<io::RawTable> fibermap;
        io::Frame frame;
        try {
          frame = io::frame_from_hdf5_image(image, tasks[i].output, &fibermap);
        } catch (const Error& e) {
          report(i, e.what());
          continue;
        }
        hdf5_add(i, frame, fibermap);
      }
      return;
    }
    // Another group's root: hand the frame (or its failure) to world rank 0.
    int status = out.code;
    std::string payload;
    if (status == 0) {
      status = 1;
      try {
        io::FibermapSource source;
        const io::Frame frame = frame_of(*job, *out.extracted, source);
        const std::vector<unsigned char> image =
            io::frame_hdf5_image(frame, io::fibermap_rows(source, frame.data.nspec), a.extract.float64);
        payload.assign(image.begin(), image.end());
        status = 0;
      } catch (const Error& e) {
        report(own_frame, e.what());
      }
    }
    world.send(frame_message(status, payload), 0, tag_hdf5_frame);
  };

  // Collective writes (a parallel HDF5 under MPI): after each round every world rank takes part in writing
  // the round's frames, in frame order; a frame's data come from its group's root (`out`, `job`: this rank's
  // frame of the round, if any), the other ranks create the same objects and write nothing.
  auto collective_round = [&](std::size_t k, const FrameOutcome* out, const ExtractionJob* job) {
    for (int g = 0; g < ngroups; ++g) {
      const int i = static_cast<int>(k) * ngroups + g;
      if (i >= nframes) break;
      const int owner = g * group_size;
      io::Frame frame;
      std::optional<io::RawTable> fibermap;
      bool have = false;
      if (world.rank() == owner && out && out->code == 0 && job) {
        try {
          io::FibermapSource source;
          frame = frame_of(*job, *out->extracted, source);
          fibermap = io::fibermap_rows(source, frame.data.nspec);
          have = true;
        } catch (const Error& e) {
          report(i, e.what());
        }
      }
      const io::Hdf5CollectiveExposureWriter::Added added = shared_writer->add(
          owner, have ? &frame : nullptr, fibermap, a.extract.float64, fs::path(tasks[i].output).stem().string());
      if (!added.refused.empty()) report(i, added.refused);
      if (added.group.empty()) continue;
      if (world.rank() == owner) ++written;
      if (world.is_root()) {
        fmt::print("wrote {}[{}]: {} fibers ({}..{}) x {} bins, frame {} of the exposure\n", a.hdf5_exposure,
                   added.group, added.nspec, added.specmin, added.specmin + added.nspec - 1, added.nwave, i + 1);
        std::fflush(stdout);
      }
    }
  };

  PreparedFrame current;
  if (group.is_root() && !mine.empty()) current = prepare_frame(frame_args(mine[0]));
  // Collective writes need every rank in every round, also the groups with fewer frames.
  const std::size_t rounds = collective ? static_cast<std::size_t>((nframes + ngroups - 1) / ngroups) : mine.size();
  for (std::size_t k = 0; k < rounds; ++k) {
    if (k >= mine.size()) {
      collective_round(k, nullptr, nullptr);
      continue;
    }
    const auto frame_t0 = std::chrono::steady_clock::now();
    PreparedFrame next;
    // On the root, while the other ranks extract: write the previous frame, read the next one.
    auto side_work = [&] {
      write_pending();
      if (k + 1 < mine.size()) next = prepare_frame(frame_args(mine[k + 1]));
    };
    FrameOutcome out = extract_on_group(group, group.is_root() ? &current : nullptr, side_work, verbose);
    if (hdf5) {
      if (group.is_root() && out.code != 0) report(mine[k], out.message);
      const ExtractionJob* job = group.is_root() && out.code == 0 ? &*current.job : nullptr;
      if (collective)
        collective_round(k, &out, job);
      else
        hdf5_round(k, mine[k], out, job);
      if (group.is_root()) current = std::move(next);
      continue;
    }
    if (group.is_root()) {
      if (out.code != 0) {
        report(mine[k], out.message);
      } else {
        pending.emplace();
        pending->index = mine[k];
        pending->job = std::move(*current.job);
        pending->extracted = std::move(*out.extracted);
        pending->t0 = frame_t0;
      }
      current = std::move(next);
    }
  }
  if (group.is_root()) write_pending();
  if (writer) {
    if (writer->frames() > 0) {
      try {
        writer->commit();
        fmt::print("wrote {}: {} frame{}\n", a.hdf5_exposure, writer->frames(), writer->frames() == 1 ? "" : "s");
      } catch (const Error& e) {
        fmt::print(stderr, "perfex extract-exposure: {} not written: {}\n", a.hdf5_exposure, e.what());
        failed += written;
        written = 0;
      }
    } else {
      fmt::print(stderr, "perfex extract-exposure: {} not written: no frame succeeded\n", a.hdf5_exposure);
    }
    writer.reset();
  }
  if (shared_writer) {  // every rank: the same frame count, the same outcome of commit()
    if (shared_writer->frames() > 0) {
      try {
        shared_writer->commit();
        if (world.is_root())
          fmt::print("wrote {}: {} frame{} (collective writes, {} rank{})\n", a.hdf5_exposure, shared_writer->frames(),
                     shared_writer->frames() == 1 ? "" : "s", world.size(), world.size() == 1 ? "" : "s");
      } catch (const Error& e) {
        if (world.is_root()) fmt::print(stderr, "perfex extract-exposure: {} not written: {}\n", a.hdf5_exposure, e.what());
        failed += written;
        written = 0;
      }
    } else if (world.is_root()) {
      fmt::print(stderr, "perfex extract-exposure: {} not written: no frame succeeded\n", a.hdf5_exposure);
    }
    shared_writer.reset();
  }

  written = world.allreduce_sum(written);
  failed = world.allreduce_sum(failed);
  if (world.is_root()) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("extract-exposure: {} frames, {} written, {} failed; {} rank{} in {} group{} of {}; {:.1f} s, {:.0f} "
               "frames/hour\n",
               nframes, written, failed, world.size(), world.size() == 1 ? "" : "s", ngroups, ngroups == 1 ? "" : "s",
               group_size, elapsed, elapsed > 0 ? written * 3600.0 / elapsed : 0.0);
  }
  return failed > 0 ? 1 : 0;
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
      throw_data_error(fmt::format("{}:{}: expected three fields 'input psf output', found {}", path, number, f.size()));
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
    io::require_hdf5("--hdf5-exposure " + a.hdf5_exposure);
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
  if (e.specmin < 0 || e.specmin % o.bundlesize != 0)
    throw_usage_error(fmt::format("--specmin {} must be >= 0 and a multiple of --bundlesize {}", e.specmin, o.bundlesize));
  if (e.nspec && (*e.nspec < 1 || *e.nspec % o.bundlesize != 0))
    throw_usage_error(fmt::format("--nspec {} must be a positive multiple of --bundlesize {}", *e.nspec, o.bundlesize));
  if (e.barycentric && e.heliocor) throw_usage_error("--barycentric-correction and --heliocor are exclusive: give one");
  if (e.bundles_per_chunk < 0) throw_usage_error("--bundles-per-chunk must be >= 0");
}

int run_extract_exposure(const ExposureArgs& args) {
  const Comm world = Comm::world();
  return run_or_abort(world, [&] { return run_exposure_collectively(world, args); });
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
  cmd->add_option("-s,--specmin", e.specmin, "first fiber (a multiple of --bundlesize)")->capture_default_str();
  cmd->add_option("-n,--nspec", e.nspec, "number of fibers (default 500, or the PSF's fibers from --specmin)");
  cmd->add_option("-r,--regularize", e.options.regularize, "regularization (alpha) of well-constrained bins")
      ->capture_default_str();
  cmd->add_option("--bundlesize", e.options.bundlesize, "fibers per bundle")->capture_default_str();
  cmd->add_option("--nsubbundles", e.options.nsubbundles, "subbundles per bundle")->capture_default_str();
  cmd->add_option("--nwavestep", e.options.nwavestep, "core wavelength bins per patch")->capture_default_str();
  cmd->add_option("--wavepad-frac", e.options.wavepad_frac, "wavelength padding fraction")->capture_default_str();
  cmd->add_option("--pixpad-frac", e.options.pixpad_frac, "pixel padding fraction")->capture_default_str();
  cmd->add_option("--psferr", e.psferr, "fractional PSF model error in chi2pix (default: each PSF's PSFERR, else 0.01)");
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
  cmd->callback([&action, args] {
    check_exposure_args(*args);
    request_mpi(args->extract.mpi);
    action = [args] { return run_extract_exposure(*args); };
  });
}

}  // namespace perfex::drivers
