// One frame on a group of ranks: broadcast of the inputs, units of bundles handed out on request by a
// thread of the root, gather on the root, and the agreement on errors that keeps every rank in step. Every
// rank runs core's FrameExtractor: a unit is one of its chunks.
#include "perfex/drivers/distributed_extract.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/extract_frame.hpp"
#include "perfex/core/profiling.hpp"
#include "perfex/drivers/errors.hpp"
#include "perfex/io/psf_io.hpp"

namespace perfex::drivers {

namespace {

constexpr int tag_request = 7101;  // rank -> root: int status (0 ready for a unit, else an error code)
constexpr int tag_assign = 7102;   // root -> rank: int unit (-1: no more)
constexpr int tag_result = 7103;   // rank -> root: a unit's values (FrameExtractor::read_chunk)
constexpr int tag_message = 7104;  // failing rank -> root: its error message

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// What every rank needs besides the image, the grid and the PSF file.
struct FrameSetup {
  ExtractionOptions extraction;
  int specmin = 0;
  int nspec = 0;
  int unit_bundles = 1;  // bundles per unit: the chunk of a one-process run
  int npix_y = 0;
  int npix_x = 0;
  bool tails = false;
  bool model = false;
};
static_assert(std::is_trivially_copyable<FrameSetup>::value, "FrameSetup is broadcast as bytes");

// The pipeline of a group's frame: the chunks of a one-process run (the backend's bundles per chunk unless
// --bundles-per-chunk) are the units, so the data do not depend on the ranks.
FrameOptions unit_options(const FrameSetup& s) {
  FrameOptions o;
  o.extraction = s.extraction;
  o.spots.tails = s.tails;
  o.bundles_per_chunk = s.unit_bundles;
  o.model_image = s.model;
  return o;
}

// Every rank passes its outcome; all get the largest code, and the root the message of the lowest failing
// rank (prefixed with its rank).
Failure agree(const Comm& c, Failure f) {
  const int worst = c.allreduce_max(f.code);
  if (worst == 0) return {};
  const int first = c.allreduce_min(f.code != 0 ? c.rank() : c.size());
  if (first != 0) {
    if (c.rank() == first) c.send(f.message, 0, tag_message);
    if (c.is_root()) {
      c.recv(f.message, first, tag_message);
      f.message = fmt::format("rank {}: {}", first, f.message);
    }
  }
  return {worst, c.is_root() ? f.message : std::string()};
}

// The root's thread that answers the other ranks' requests for units, and the counter it shares with the
// root's own extraction loop. Only this thread calls MPI while it runs (MPI_THREAD_SERIALIZED).
class UnitDispatcher {
 public:
  UnitDispatcher(const Comm& group, int nunits) : m_group(group), m_nunits(nunits), m_owner(nunits, -1) {}

  // The next unit for the root itself, or -1.
  int next_for_root() {
    if (m_failed.load()) return -1;
    const int u = m_next.fetch_add(1);
    if (u >= m_nunits) return -1;
    m_owner[u] = 0;
    return u;
  }
  void fail() { m_failed.store(true); }

  void serve() {
    int active = m_group.size() - 1;
    while (active > 0) {
      int source = -1;
      if (!m_group.probe(tag_request, source)) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        continue;
      }
      int status = 0;
      m_group.recv_bytes(&status, sizeof(status), source, tag_request);
      if (status != 0) m_failed.store(true);
      int unit = -1;
      if (!m_failed.load()) {
        const int u = m_next.fetch_add(1);
        if (u < m_nunits) {
          unit = u;
          m_owner[u] = source;
        }
      }
      m_group.send_bytes(&unit, sizeof(unit), source, tag_assign);
      if (unit < 0) --active;
    }
  }

  const std::vector<int>& owners() const { return m_owner; }  // after serve() returned

 private:
  const Comm& m_group;
  int m_nunits;
  std::vector<int> m_owner;  // rank that extracts each unit; elements written by one thread each
  std::atomic<int> m_next{0};
  std::atomic<bool> m_failed{false};
};

// Testing aid, for the fault tests: PERFEX_FAULT_INJECTION="unit-error:K" fails unit K with a data error on
// whichever rank extracts it; "rank-crash:R" makes rank R of the group throw an unexpected exception once
// its units are done (the MPI_Abort path).
struct FaultInjection {
  int error_unit = -1;
  int crash_rank = -1;
};

FaultInjection fault_injection() {
  FaultInjection f;
  const char* text = std::getenv("PERFEX_FAULT_INJECTION");
  if (text == nullptr) return f;
  const std::string t = text;
  if (t.rfind("unit-error:", 0) == 0) f.error_unit = std::atoi(t.c_str() + 11);
  if (t.rfind("rank-crash:", 0) == 0) f.crash_rank = std::atoi(t.c_str() + 11);
  return f;
}

// A unit into the extractor: the root's frame, or this rank's one-chunk arrays.
void extract_unit_checked(FrameExtractor& extractor, int unit) {
  if (fault_injection().error_unit == unit)
    throw_data_error(fmt::format("unit {}: injected error (PERFEX_FAULT_INJECTION)", unit + 1));
  extractor.extract_chunk(unit);
}

void print_unit(bool verbose, int rank, const FrameExtractor& fx, int unit, double seconds) {
  if (!verbose) return;
  fmt::print(stderr, "perfex extract: rank {}: unit {}/{} (fibers {}..{}) in {:.2f} s\n", rank, unit + 1, fx.chunks(),
             fx.chunk_fiber_begin(unit), fx.chunk_fiber_begin(unit) + fx.chunk_fibers(unit) - 1, seconds);
  std::fflush(stderr);
}

// What a rank holds of the frame: the setup, the grid and the image from the root.
struct GroupInputs {
  FrameSetup setup;
  std::vector<double> grid;
  std::string psf_path;
  io::PreprocImage received;  // ranks other than the root
};

void share_inputs(const Comm& group, const ExtractionJob* job, GroupInputs& in) {
  if (job) {
    FrameSetup& s = in.setup;
    s.extraction = job->pipeline.extraction;
    s.specmin = job->specmin;
    s.nspec = job->nspec;
    s.unit_bundles = job->pipeline.bundles_per_chunk > 0 ? job->pipeline.bundles_per_chunk
                                                         : backends::FramePolicy<ExecSpace>::bundles_per_chunk;
    s.npix_y = job->image.npix_y;
    s.npix_x = job->image.npix_x;
    s.tails = job->pipeline.spots.tails;
    s.model = job->pipeline.model_image;
    in.grid = job->extraction_grid;
    in.psf_path = job->args.psf;
  }
  group.broadcast(in.setup, 0);
  group.broadcast(in.grid, 0);
  group.broadcast(in.psf_path, 0);
  if (!job) {
    const auto no_init = [](const char* label) {
      return Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label));
    };
    in.received.npix_y = in.setup.npix_y;
    in.received.npix_x = in.setup.npix_x;
    in.received.image = HostView<double**>(no_init("perfex::preproc::image"), in.setup.npix_y, in.setup.npix_x);
    in.received.ivar = HostView<double**>(no_init("perfex::preproc::ivar"), in.setup.npix_y, in.setup.npix_x);
  }
  const io::PreprocImage& image = job ? job->image : in.received;
  group.broadcast_bytes(image.image.data(), image.image.size() * sizeof(double), 0);
  group.broadcast_bytes(image.ivar.data(), image.ivar.size() * sizeof(double), 0);
}

// Every rank sets up the frame's pipeline (the PSF read from its file on the ranks other than the root) and
// uploads the image: the root assembles the frame, the other ranks hold one unit at a time.
Failure set_up_pipeline(const Comm& group, const ExtractionJob* job, const GroupInputs& in,
                        std::optional<FrameExtractor>& extractor) {
  return run_caught([&] {
    GaussHermitePsf read_psf;
    if (!job) read_psf = io::read_psf(in.psf_path);
    const GaussHermitePsf& psf = job ? job->psf : read_psf;
    const FrameSetup& s = in.setup;
    extractor.emplace(ExecSpace(), psf, in.grid, s.specmin, s.nspec, unit_options(s));
    const ImageInput image = upload_job_image(ExecSpace(), job ? job->image : in.received);
    extractor->begin(image, job ? FrameStorage::WholeFrame : FrameStorage::OneChunk);
  });
}

// The root extracts units into its frame while a thread of it hands the others out; returns the owner of
// every unit in `owners`.
Failure extract_units_on_root(const Comm& group, FrameExtractor& fx, bool verbose, std::vector<int>& owners) {
  UnitDispatcher dispatcher(group, fx.chunks());
  std::thread server;
  if (group.size() > 1) server = std::thread([&dispatcher] { dispatcher.serve(); });
  const Failure f = run_caught([&] {
    for (int u = dispatcher.next_for_root(); u >= 0; u = dispatcher.next_for_root()) {
      const auto tu = Clock::now();
      extract_unit_checked(fx, u);
      print_unit(verbose, 0, fx, u, seconds_since(tu));
    }
  });
  if (f) dispatcher.fail();
  if (server.joinable()) server.join();
  owners = dispatcher.owners();
  return f;
}

using UnitValues = std::vector<std::pair<int, std::vector<double>>>;

// Another rank asks for units until there are none (or it failed: it says so with its next request) and
// keeps each unit's values.
Failure extract_units_on_member(const Comm& group, FrameExtractor& fx, bool verbose, UnitValues& parts) {
  Failure f;
  for (;;) {
    group.send_bytes(&f.code, sizeof(f.code), 0, tag_request);
    int unit = -1;
    group.recv_bytes(&unit, sizeof(unit), 0, tag_assign);
    if (unit < 0) break;
    const auto tu = Clock::now();
    f = run_caught([&] {
      extract_unit_checked(fx, unit);
      std::vector<double> values(fx.chunk_values(unit));
      fx.read_chunk(unit, values.data());
      parts.emplace_back(unit, std::move(values));
    });
    if (!f) print_unit(verbose, group.rank(), fx, unit, seconds_since(tu));
  }
  return f;
}

// The gather: every rank sends its units in increasing order, the root receives them in frame order.
void gather_units(const Comm& group, FrameExtractor& fx, UnitValues& parts, const std::vector<int>& owners) {
  if (!group.is_root()) {
    std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [unit, values] : parts)
      group.send_bytes(values.data(), values.size() * sizeof(double), 0, tag_result);
    return;
  }
  std::vector<double> values;
  for (int u = 0; u < fx.chunks(); ++u) {
    if (owners[u] == 0) continue;
    if (owners[u] < 0) throw std::logic_error("perfex: a unit was never handed out");
    values.resize(fx.chunk_values(u));
    group.recv_bytes(values.data(), values.size() * sizeof(double), owners[u], tag_result);
    fx.write_chunk(u, values.data());
  }
}

struct Timing {
  double inputs_s = 0, units_s = 0, gather_s = 0, total_s = 0;
};

void print_timing(const Comm& group, const FrameExtractor& fx, const std::vector<int>& owners, bool model,
                  const Timing& t) {
  const long own_units = std::count(owners.begin(), owners.end(), 0);
  fmt::print(stderr,
             "perfex extract: {} units on {} rank{} ({} on rank 0): inputs to every rank {:.2f} s, units {:.2f} s, "
             "gather {:.2f} s, specmask{} {:.2f} s\n",
             fx.chunks(), group.size(), group.size() == 1 ? "" : "s", own_units, t.inputs_s, t.units_s - t.inputs_s,
             t.gather_s - t.units_s, model ? " and model" : "", t.total_s - t.gather_s);
}

}  // namespace

PreparedFrame prepare_frame(const ExtractArgs& args) {
  PreparedFrame frame;
  const Failure f = run_caught([&] { frame.job = prepare_extraction(args); });
  frame.code = f.code;
  frame.message = f.message;
  if (f) frame.job.reset();
  return frame;
}

FrameOutcome extract_on_group(const Comm& group, const PreparedFrame* root_frame, bool verbose) {
  ScopedRegion region("perfex::drivers::extract_on_group");
  const auto t0 = Clock::now();
  const bool root = group.is_root();
  auto finish = [&](const Failure& f, std::optional<ExtractedFrame> extracted = std::nullopt) {
    FrameOutcome out;
    out.code = f.code;
    if (root) out.message = f.message;
    out.extracted = std::move(extracted);
    return out;
  };

  // 1. Did the root read the frame? 2. Its inputs to every rank, and every rank's pipeline.
  Failure f;
  if (root) f = {root_frame->code, root_frame->message};
  group.broadcast(f.code, 0);
  if (f) return finish(f);
  const ExtractionJob* job = root ? &*root_frame->job : nullptr;
  GroupInputs inputs;
  share_inputs(group, job, inputs);
  std::optional<FrameExtractor> fx;
  f = agree(group, set_up_pipeline(group, job, inputs, fx));
  if (f) return finish(f);
  Timing t;
  t.inputs_s = seconds_since(t0);

  // 3. The units, on request: the root's go straight into its frame, the others' are copied out.
  std::vector<int> owners;
  UnitValues parts;
  f = root ? extract_units_on_root(group, *fx, verbose, owners) : extract_units_on_member(group, *fx, verbose, parts);
  if (fault_injection().crash_rank == group.rank()) throw std::runtime_error("injected crash (PERFEX_FAULT_INJECTION)");
  f = agree(group, f);
  if (f) return finish(f);
  t.units_s = seconds_since(t0);

  // 4. The gather; 5. what needs the whole frame: the specmask, the model image, the copy to the host.
  gather_units(group, *fx, parts, owners);
  if (!root) return finish(f);
  t.gather_s = seconds_since(t0);
  ExtractedFrame extracted = fx->finish();
  extracted.extract_s = t.total_s = seconds_since(t0);
  if (verbose) print_timing(group, *fx, owners, inputs.setup.model, t);
  return finish(f, std::move(extracted));
}

}  // namespace perfex::drivers
