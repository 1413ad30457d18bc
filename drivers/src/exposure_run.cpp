// perfex extract-exposure's run: frames dealt round-robin to groups of ranks, bundles to the ranks of a
// group (extract_on_group); each group's root reads its frames' inputs and writes their outputs. Bad frames
// are reported and skipped. With --hdf5-exposure every frame goes to one HDF5 file, in frame order: written
// by world rank 0 (a serial HDF5), or by every rank collectively (PERFEX_HDF5_PARALLEL, under MPI).
#include "exposure_run.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/drivers/command_files.hpp"
#include "perfex/drivers/distributed_extract.hpp"
#include "perfex/drivers/errors.hpp"
#include "perfex/drivers/extraction_job.hpp"
#include "perfex/io/frame_hdf5.hpp"
#include "perfex/io/helper_threads.hpp"

namespace perfex::drivers {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int tag_hdf5_frame = 7201;  // group root -> world rank 0: a finished frame (or why it failed)

// A group root's frame for the exposure file: its status (0, or the code of an error its root reported),
// then, when 0, the frame as an HDF5 file image.
std::string frame_message(int code, const std::string& payload) {
  std::string m(sizeof(int), '\0');
  std::memcpy(m.data(), &code, sizeof(int));
  return m + payload;
}

// A perfex::Error thrown by `work` is a frame's failure (reported, the frame skipped); anything else
// propagates and ends the job.
Failure frame_failure(const std::function<void()>& work) {
  try {
    work();
    return {};
  } catch (const Error&) {
    if (io::collective_hdf5_file_broken()) throw;  // HDF5 cannot close it: the job ends (run_or_abort)
    return failure_of(std::current_exception());
  }
}

// A frame written by the root of a group after it was extracted.
struct PendingWrite {
  int index = 0;
  ExtractionJob job;
  ExtractedFrame extracted;
  Clock::time_point t0;
};

class ExposureRun {
 public:
  ExposureRun(const Comm& world, const ExposureArgs& args)
      : m_world(world),
        m_args(args),
        m_hdf5(!args.hdf5_exposure.empty()),
        m_collective(m_hdf5 && io::hdf5_parallel_available() && world.uses_mpi()) {}

  int run() {
    if (const Failure f = open_exposure(); f) {
      if (m_world.is_root()) print_error(f.message);
      return f.code;
    }
    make_groups();
    run_frames();
    commit_exposure_files();
    return print_summary();
  }

 private:
  const Comm& m_world;
  const ExposureArgs& m_args;
  const Clock::time_point m_t0 = Clock::now();
  const bool m_hdf5;        // --hdf5-exposure
  const bool m_collective;  // a parallel HDF5 build under MPI: every rank takes part in writing the file
  std::vector<FrameTask> m_tasks;
  std::unique_ptr<io::Hdf5ExposureWriter> m_writer;                   // world rank 0 with --hdf5-exposure
  std::unique_ptr<io::Hdf5CollectiveExposureWriter> m_shared_writer;  // every rank, collective writes
  Comm m_group;
  int m_group_size = 1, m_ngroups = 1;
  std::vector<int> m_mine;  // this group's frames
  long long m_written = 0, m_failed = 0;
  std::optional<PendingWrite> m_pending;

  int nframes() const { return static_cast<int>(m_tasks.size()); }

  // The frames, listed by the first rank and broadcast, and the exposure file opened.
  Failure open_exposure() {
    Failure f;
    if (m_world.is_root())
      f = frame_failure([&] {
        std::error_code ec;  // an unreachable source is the manifest reader's one-line error, not a raw exception
        m_tasks = fs::is_directory(m_args.source, ec)
                      ? list_exposure_directory(m_args.source, m_args.psf_dir, m_args.output_dir)
                      : read_manifest(m_args.source, m_args.output_dir);
        check_exposure_files(m_tasks, m_args);  // no frame may overwrite an input (exit 2 before any frame)
        if (m_hdf5 && !m_collective)
          m_writer = std::make_unique<io::Hdf5ExposureWriter>(m_args.hdf5_exposure, m_args.extract.overwrite);
      });
    m_world.broadcast(f.code, 0);
    if (!f && m_collective)  // the same outcome on every rank
      f = frame_failure([&] {
        m_shared_writer =
            std::make_unique<io::Hdf5CollectiveExposureWriter>(m_args.hdf5_exposure, m_args.extract.overwrite, m_world);
      });
    if (f) return f;
    std::vector<std::string> flat;
    for (const FrameTask& t : m_tasks) flat.insert(flat.end(), {t.input, t.psf, t.output});
    m_world.broadcast(flat, 0);
    m_tasks.resize(flat.size() / 3);
    for (std::size_t i = 0; i < m_tasks.size(); ++i) m_tasks[i] = {flat[3 * i], flat[3 * i + 1], flat[3 * i + 2]};
    return {};
  }

  // Groups of consecutive ranks; frame i goes to group i % ngroups.
  void make_groups() {
    const int nranks = m_world.size();
    m_group_size = m_args.group_size > 0 ? std::min(m_args.group_size, nranks) : default_group_size(nranks, nframes());
    m_ngroups = (nranks + m_group_size - 1) / m_group_size;
    const int color = m_world.rank() / m_group_size;
    m_group = m_world.split(color, m_world.rank());
    if (m_world.is_root() && m_args.extract.verbose)
      fmt::print(stderr, "perfex extract-exposure: {} frames, {} ranks in {} groups of {}{}\n", nframes(), nranks,
                 m_ngroups, m_group_size, nranks % m_group_size != 0 ? " (the last one smaller)" : "");
    for (int i = color; i < nframes(); i += m_ngroups) m_mine.push_back(i);
  }

  ExtractArgs frame_args(int i) const {
    ExtractArgs e = m_args.extract;
    e.input = m_tasks[i].input;
    e.psf = m_tasks[i].psf;
    e.output = m_tasks[i].output;
    e.model.clear();
    e.no_output = m_hdf5;  // the frame goes to the exposure file
    return e;
  }

  void report(int i, const std::string& reason) {
    fmt::print(stderr, "perfex extract-exposure: {} not written: {}\n", m_tasks[i].output, reason);
    std::fflush(stderr);
    ++m_failed;
  }

  void write_pending() {
    if (!m_pending) return;
    const Failure f = frame_failure([&] { write_extraction(m_pending->job, m_pending->extracted, m_pending->t0); });
    if (f)
      report(m_pending->index, f.message);
    else
      ++m_written;
    std::fflush(stdout);
    m_pending.reset();
  }

  // The frames of this group, one round at a time. On the group's root an I/O thread writes the previous
  // frame and reads the next one while this one is extracted (by every rank of the group, the root too).
  // File I/O never runs on two threads at once: meanwhile the calling thread only extracts (no CFITSIO or
  // HDF5 call), and the exposure file's round runs after the I/O thread is joined. The I/O thread makes no
  // MPI call (MPI_THREAD_SERIALIZED) and no Kokkos launch: host allocations only, which Kokkos serves off
  // its master thread.
  void run_frames() {
    const bool root = m_group.is_root();
    PreparedFrame current;
    if (root && !m_mine.empty()) current = prepare_frame(frame_args(m_mine[0]));
    // Collective writes need every rank in every round, also the groups with fewer frames.
    const std::size_t rounds = m_collective ? static_cast<std::size_t>((nframes() + m_ngroups - 1) / m_ngroups)
                                            : m_mine.size();
    for (std::size_t k = 0; k < rounds; ++k) {
      if (k >= m_mine.size()) {
        collective_round(k, nullptr, nullptr);
        continue;
      }
      const auto frame_t0 = Clock::now();
      PreparedFrame next;
      // On the process's CPUs, not on the core OpenMP binds this thread to (helper_threads.hpp). After `next`:
      // destroyed (joined) first, also when the extraction throws.
      io::HelperThreads io_thread;
      if (root)
        io_thread.run([this, &next, k] {
          write_pending();
          if (k + 1 < m_mine.size()) next = prepare_frame(frame_args(m_mine[k + 1]));
        });
      FrameOutcome out = extract_on_group(m_group, root ? &current : nullptr, m_args.extract.verbose);
      io_thread.join();  // a bug in the I/O thread ends the job, as in the calling thread
      finish_frame(k, out, current, frame_t0);
      if (root) current = std::move(next);
    }
    if (root) write_pending();
  }

  // A frame extracted by the group: reported, kept for writing, or added to the exposure file.
  void finish_frame(std::size_t k, FrameOutcome& out, PreparedFrame& current, Clock::time_point frame_t0) {
    const bool root = m_group.is_root();
    if (root && out.code != 0) report(m_mine[k], out.message);
    if (m_hdf5) {
      const ExtractionJob* job = root && out.code == 0 ? &*current.job : nullptr;
      if (m_collective)
        collective_round(k, &out, job);
      else if (root)
        hdf5_round(k, out, job);
      return;
    }
    if (!root || out.code != 0) return;
    m_pending.emplace();
    m_pending->index = m_mine[k];
    m_pending->job = std::move(*current.job);
    m_pending->extracted = std::move(*out.extracted);
    m_pending->t0 = frame_t0;
  }

  void hdf5_add(int i, const io::Frame& frame, const std::optional<io::RawTable>& fibermap) {
    const Failure f = frame_failure([&] {
      const std::string name = m_writer->add(frame, fibermap, m_args.extract.float64, frame.header.camera,
                                             fs::path(m_tasks[i].output).stem().string());
      fmt::print("wrote {}[{}]: {} fibers ({}..{}) x {} bins, frame {} of the exposure\n", m_args.hdf5_exposure, name,
                 frame.data.nspec, frame.data.specmin, frame.data.specmin + frame.data.nspec - 1, frame.data.nwave,
                 i + 1);
      std::fflush(stdout);
    });
    if (f)
      report(i, f.message);
    else
      ++m_written;
  }

  // --hdf5-exposure, serial HDF5: after each round of frames (frame k * ngroups + g on group g), world rank
  // 0 writes the round's frames in frame order: its own, then each other group root's, received as an
  // HDF5 file image. Called on the group roots.
  void hdf5_round(std::size_t k, const FrameOutcome& out, const ExtractionJob* job) {
    if (!m_world.is_root()) return send_hdf5_frame(k, out, job);
    if (job) {
      io::FibermapSource source;
      const io::Frame frame = frame_of(*job, *out.extracted, source);
      std::optional<io::RawTable> fibermap;
      const Failure f = frame_failure([&] { fibermap = io::fibermap_rows(source, frame.data.nspec); });
      if (f)
        report(m_mine[k], f.message);
      else
        hdf5_add(m_mine[k], frame, fibermap);
    }
    for (int g = 1; g < m_ngroups; ++g) {
      const int i = static_cast<int>(k) * m_ngroups + g;
      if (i >= nframes()) break;
      std::string m;
      m_world.recv(m, g * m_group_size, tag_hdf5_frame);
      int status = 1;
      std::memcpy(&status, m.data(), sizeof(int));
      if (status != 0) continue;  // reported by its group's root
      const std::vector<unsigned char> image(m.begin() + sizeof(int), m.end());
      m.clear();
      std::optional<io::RawTable> fibermap;
      io::Frame frame;
      const Failure f = frame_failure([&] { frame = io::frame_from_hdf5_image(image, m_tasks[i].output, &fibermap); });
      if (f)
        report(i, f.message);
      else
        hdf5_add(i, frame, fibermap);
    }
  }

  // Another group's root: hand the frame (or its failure) to world rank 0.
  void send_hdf5_frame(std::size_t k, const FrameOutcome& out, const ExtractionJob* job) {
    int status = out.code;
    std::string payload;
    if (status == 0) {
      const Failure f = frame_failure([&] {
        io::FibermapSource source;
        const io::Frame frame = frame_of(*job, *out.extracted, source);
        const std::vector<unsigned char> image =
            io::frame_hdf5_image(frame, io::fibermap_rows(source, frame.data.nspec), m_args.extract.float64);
        payload.assign(image.begin(), image.end());
      });
      if (f) report(m_mine[k], f.message);
      status = f ? 1 : 0;
    }
    m_world.send(frame_message(status, payload), 0, tag_hdf5_frame);
  }

  // Collective writes (a parallel HDF5 under MPI): after each round every world rank takes part in writing
  // the round's frames, in frame order; a frame's data come from its group's root (`out`, `job`: this
  // rank's frame of the round, if any), the other ranks create the same objects and write nothing.
  void collective_round(std::size_t k, const FrameOutcome* out, const ExtractionJob* job) {
    for (int g = 0; g < m_ngroups; ++g) {
      const int i = static_cast<int>(k) * m_ngroups + g;
      if (i >= nframes()) break;
      const int owner = g * m_group_size;
      io::Frame frame;
      std::optional<io::RawTable> fibermap;
      bool have = false;
      if (m_world.rank() == owner && out && out->code == 0 && job) {
        const Failure f = frame_failure([&] {
          io::FibermapSource source;
          frame = frame_of(*job, *out->extracted, source);
          fibermap = io::fibermap_rows(source, frame.data.nspec);
        });
        if (f) report(i, f.message);
        have = !f;
      }
      const io::Hdf5CollectiveExposureWriter::Added added =
          m_shared_writer->add(owner, have ? &frame : nullptr, fibermap, m_args.extract.float64,
                               fs::path(m_tasks[i].output).stem().string());
      if (!added.refused.empty()) report(i, added.refused);
      if (added.group.empty()) continue;
      if (m_world.rank() == owner) ++m_written;
      if (m_world.is_root()) {
        fmt::print("wrote {}[{}]: {} fibers ({}..{}) x {} bins, frame {} of the exposure\n", m_args.hdf5_exposure,
                   added.group, added.nspec, added.specmin, added.specmin + added.nspec - 1, added.nwave, i + 1);
        std::fflush(stdout);
      }
    }
  }

  // The exposure file appears (atomically) when at least one frame is in it; a failed commit fails them all.
  void commit_exposure_files() {
    const std::string& path = m_args.hdf5_exposure;
    if (m_writer) {
      const int n = m_writer->frames();
      const Failure f = n > 0 ? frame_failure([&] { m_writer->commit(); }) : Failure{1, "no frame succeeded"};
      if (!f) fmt::print("wrote {}: {} frame{}\n", path, n, n == 1 ? "" : "s");
      if (f) fmt::print(stderr, "perfex extract-exposure: {} not written: {}\n", path, f.message);
      if (f && n > 0) {
        m_failed += m_written;
        m_written = 0;
      }
      m_writer.reset();
    }
    if (m_shared_writer) {  // every rank: the same frame count, the same outcome of commit()
      const int n = m_shared_writer->frames();
      const Failure f = n > 0 ? frame_failure([&] { m_shared_writer->commit(); }) : Failure{1, "no frame succeeded"};
      if (m_world.is_root() && !f)
        fmt::print("wrote {}: {} frame{} (collective writes, {} rank{})\n", path, n, n == 1 ? "" : "s", m_world.size(),
                   m_world.size() == 1 ? "" : "s");
      if (m_world.is_root() && f) fmt::print(stderr, "perfex extract-exposure: {} not written: {}\n", path, f.message);
      if (f && n > 0) {
        m_failed += m_written;
        m_written = 0;
      }
      m_shared_writer.reset();
    }
  }

  int print_summary() {
    const long long written = m_world.allreduce_sum(m_written);
    const long long failed = m_world.allreduce_sum(m_failed);
    if (m_world.is_root()) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - m_t0).count();
      fmt::print(
          "extract-exposure: {} frames, {} written, {} failed; {} rank{} in {} group{} of {}; {:.1f} s, {:.0f} "
          "frames/hour\n",
          nframes(), written, failed, m_world.size(), m_world.size() == 1 ? "" : "s", m_ngroups,
          m_ngroups == 1 ? "" : "s", m_group_size, elapsed, elapsed > 0 ? written * 3600.0 / elapsed : 0.0);
    }
    return failed > 0 ? 1 : 0;
  }
};

}  // namespace

int run_exposure(const Comm& world, const ExposureArgs& args) { return ExposureRun(world, args).run(); }

}  // namespace perfex::drivers
