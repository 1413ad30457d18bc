// One frame on a group of ranks: broadcast of the inputs, units of bundles handed out on request by a
// thread of the root, gather on the root, and the agreement on errors that keeps every rank in step.
#include "perfex/drivers/distributed_extract.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/frame_mask.hpp"
#include "perfex/core/profiling.hpp"
#include "perfex/core/simulate.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/io/psf_io.hpp"

namespace perfex::drivers {

namespace {

constexpr int tag_request = 7101;  // rank -> root: int status (0 ready for a unit, else an error code)
constexpr int tag_assign = 7102;   // root -> rank: int unit (-1: no more)
constexpr int tag_result = 7103;   // rank -> root: a unit's values (pack_unit)
constexpr int tag_message = 7104;  // failing rank -> root: its error message

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

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

  int nbundle() const { return nspec / extraction.bundlesize; }
  int nunits() const { return (nbundle() + unit_bundles - 1) / unit_bundles; }
  int fiber0(int unit) const { return specmin + unit * unit_bundles * extraction.bundlesize; }
  int nfiber(int unit) const {
    return std::min(unit_bundles, nbundle() - unit * unit_bundles) * extraction.bundlesize;
  }
};
static_assert(std::is_trivially_copyable<FrameSetup>::value, "FrameSetup is broadcast as bytes");

// The chunk frame_pipeline uses when --bundles-per-chunk is 0 (the data do not depend on it; memory and
// speed do): 1 bundle on host backends, 4 on GPUs.
int unit_bundles(int bundles_per_chunk) {
  if (bundles_per_chunk > 0) return bundles_per_chunk;
  return Kokkos::SpaceAccessibility<HostSpace, MemSpace>::accessible ? 1 : 4;
}

FramePipelineOptions unit_options(const FrameSetup& s) {
  FramePipelineOptions o;
  o.extraction = s.extraction;
  o.spots.tails = s.tails;
  o.bundles_per_chunk = s.unit_bundles;
  return o;
}

// A unit: the same extract_bundles call, on the same fibers, that a one-process run makes for this chunk.
FrameResult extract_unit(const ImageInput& input, const GaussHermitePsf& psf, const std::vector<double>& grid,
                         const FrameSetup& s, int unit) {
  return extract_bundles(ExecSpace(), input, psf, grid, s.fiber0(unit), s.nfiber(unit), unit_options(s));
}

// Values per fiber of a unit: flux, ivar, chi2pix, pixmask_fraction, unsolved (0 or 1), then the resolution
// diagonals.
std::size_t values_per_fiber(int nwave, int ndiags) { return static_cast<std::size_t>(nwave) * (5 + ndiags); }

std::vector<double> pack_unit(const FrameResult& part) {
  const std::size_t plane = static_cast<std::size_t>(part.nspec) * part.nwave;
  std::vector<double> buf(plane * 5 + part.resolution.size());
  double* p = buf.data();
  for (const auto* v : {&part.flux, &part.ivar, &part.chi2pix, &part.pixmask_fraction}) {
    std::memcpy(p, v->data(), plane * sizeof(double));
    p += plane;
  }
  for (std::size_t k = 0; k < plane; ++k) p[k] = part.unsolved.data()[k];
  p += plane;
  std::memcpy(p, part.resolution.data(), part.resolution.size() * sizeof(double));
  return buf;
}

// Copies a unit's values (pack_unit's layout) into rows [row0, row0 + nfiber) of the frame.
void place_unit(FrameResult& frame, int row0, int nfiber, const double* p) {
  const std::size_t plane = static_cast<std::size_t>(nfiber) * frame.nwave;
  const std::size_t offset = static_cast<std::size_t>(row0) * frame.nwave;
  for (auto* v : {&frame.flux, &frame.ivar, &frame.chi2pix, &frame.pixmask_fraction}) {
    std::memcpy(v->data() + offset, p, plane * sizeof(double));
    p += plane;
  }
  for (std::size_t k = 0; k < plane; ++k) {
    frame.unsolved.data()[offset + k] = p[k] != 0.0;
    frame.unsolved_bins += p[k] != 0.0;
  }
  p += plane;
  const std::size_t rplane = plane * frame.resolution.extent(1);
  std::memcpy(frame.resolution.data() + offset * frame.resolution.extent(1), p, rplane * sizeof(double));
}

FrameResult empty_frame(const FrameSetup& s, const std::vector<double>& grid) {
  FrameResult frame;
  frame.specmin = s.specmin;
  frame.nspec = s.nspec;
  frame.nwave = static_cast<int>(grid.size());
  frame.ndiag = s.extraction.ndiag;
  frame.wavelengths = grid;
  const int ndiags = 2 * s.extraction.ndiag + 1;
  frame.flux = HostView<double**>("perfex::frame::flux", s.nspec, frame.nwave);
  frame.ivar = HostView<double**>("perfex::frame::ivar", s.nspec, frame.nwave);
  frame.resolution = HostView<double***>("perfex::frame::resolution", s.nspec, ndiags, frame.nwave);
  frame.chi2pix = HostView<double**>("perfex::frame::chi2pix", s.nspec, frame.nwave);
  frame.pixmask_fraction = HostView<double**>("perfex::frame::pixmask_fraction", s.nspec, frame.nwave);
  frame.unsolved = HostView<std::uint8_t**>("perfex::frame::unsolved", s.nspec, frame.nwave);
  return frame;
}

// The model image of the gathered frame, unit by unit in fiber order: the spots and the per-pixel order of
// the sums are those of frame_pipeline, so the image is the one a one-process run writes.
HostView<double**> model_image(const ImageInput& input, const GaussHermitePsf& psf, const std::vector<double>& grid,
                               const FrameSetup& s, const FrameResult& frame) {
  ScopedRegion region("perfex::drivers::model_image");
  const ExecSpace exec;
  DeviceView<double**> model("perfex::frame::model", input.ccd_ny, input.ccd_nx);
  const std::vector<double> padded = padded_wavelengths(grid, s.extraction);
  const std::vector<double> dwave = wavelength_gradient(grid);
  const int pad = s.extraction.wavepad();
  for (int u = 0; u < s.nunits(); ++u) {
    const int fiber0 = s.fiber0(u), nfiber = s.nfiber(u), row0 = fiber0 - s.specmin;
    SpotOptions spot_options;
    spot_options.tails = s.tails;
    const SpotCache spots = evaluate_spots(exec, psf, fiber0, nfiber, padded, spot_options);
    HostView<double**> photons("perfex::frame::model_photons", nfiber, padded.size());
    for (int i = 0; i < nfiber; ++i)
      for (int j = 0; j < frame.nwave; ++j) photons(i, pad + j) = frame.flux(row0 + i, j) * dwave[j];
    const auto device_photons = Kokkos::create_mirror_view_and_copy(MemSpace(), photons);
    project_spots(exec, spots, device_photons, model);
    exec.fence();
  }
  return Kokkos::create_mirror_view_and_copy(HostSpace(), model);
}

// Every rank passes its status (0 or an error code) and message; all get the largest code, and the root
// the message of the lowest failing rank.
int agree(const Comm& c, int code, std::string& message) {
  const int worst = c.allreduce_max(code);
  if (worst == 0) return 0;
  const int first = c.allreduce_min(code != 0 ? c.rank() : c.size());
  if (first != 0) {
    if (c.rank() == first) c.send(message, 0, tag_message);
    if (c.is_root()) {
      c.recv(message, first, tag_message);
      message = fmt::format("rank {}: {}", first, message);
    }
  }
  return worst;
}

// Runs `work`, turning a perfex::Error or another exception into a code and a message.
template <class F>
int catch_error(F&& work, std::string& message) {
  try {
    work();
    return 0;
  } catch (const Error& e) {
    message = e.what();
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    message = "out of memory";
  } catch (const std::exception& e) {
    message = e.what();
  }
  return 1;
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

FrameResult extract_unit_checked(const ImageInput& input, const GaussHermitePsf& psf, const std::vector<double>& grid,
                                 const FrameSetup& s, int unit) {
  if (fault_injection().error_unit == unit)
    throw_data_error(fmt::format("unit {}: injected error (PERFEX_FAULT_INJECTION)", unit + 1));
  return extract_unit(input, psf, grid, s, unit);
}

void print_unit(bool verbose, int rank, const FrameSetup& s, int unit, double seconds) {
  if (!verbose) return;
  fmt::print(stderr, "perfex extract: rank {}: unit {}/{} (fibers {}..{}) in {:.2f} s\n", rank, unit + 1, s.nunits(),
             s.fiber0(unit), s.fiber0(unit) + s.nfiber(unit) - 1, seconds);
  std::fflush(stderr);
}

}  // namespace

PreparedFrame prepare_frame(const ExtractArgs& args) {
  PreparedFrame frame;
  frame.code = catch_error([&] { frame.job = prepare_extraction(args); }, frame.message);
  if (frame.code != 0) frame.job.reset();
  return frame;
}

FrameOutcome extract_on_group(const Comm& group, const PreparedFrame* root_frame, const std::function<void()>& side_work,
                              bool verbose) {
  ScopedRegion region("perfex::drivers::extract_on_group");
  const auto t0 = std::chrono::steady_clock::now();
  const bool root = group.is_root();
  // The root's side work runs exactly once, whatever happens to the frame; its own errors are rethrown
  // after the frame's collective calls are done.
  bool side_done = !root || !side_work;
  std::exception_ptr side_error;
  auto run_side_work = [&] {
    if (side_done) return;
    side_done = true;
    try {
      side_work();
    } catch (...) {
      side_error = std::current_exception();
    }
  };
  auto finish = [&](FrameOutcome outcome) {
    run_side_work();
    if (side_error) std::rethrow_exception(side_error);
    if (!root) outcome.message.clear();
    return outcome;
  };

  // 1. Did the root read the frame?
  FrameOutcome out;
  if (root) {
    out.code = root_frame->code;
    out.message = root_frame->message;
  }
  group.broadcast(out.code, 0);
  if (out.code != 0) return finish(std::move(out));

  // 2. The setup, the grid and the image from the root; the PSF from its file on every other rank.
  const ExtractionJob* job = root ? &*root_frame->job : nullptr;
  FrameSetup setup;
  std::vector<double> grid;
  std::string psf_path;
  if (root) {
    setup.extraction = job->pipeline.extraction;
    setup.specmin = job->specmin;
    setup.nspec = job->nspec;
    setup.unit_bundles = unit_bundles(job->pipeline.bundles_per_chunk);
    setup.npix_y = job->image.npix_y;
    setup.npix_x = job->image.npix_x;
    setup.tails = job->pipeline.spots.tails;
    setup.model = job->pipeline.model_image;
    grid = job->extraction_grid;
    psf_path = job->args.psf;
  }
  group.broadcast(setup, 0);
  group.broadcast(grid, 0);
  group.broadcast(psf_path, 0);
  io::PreprocImage received;
  if (!root) {
    received.npix_y = setup.npix_y;
    received.npix_x = setup.npix_x;
    received.image = HostView<double**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::preproc::image"),
                                        setup.npix_y, setup.npix_x);
    received.ivar = HostView<double**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::preproc::ivar"),
                                       setup.npix_y, setup.npix_x);
  }
  const io::PreprocImage& image = root ? job->image : received;
  group.broadcast_bytes(image.image.data(), image.image.size() * sizeof(double), 0);
  group.broadcast_bytes(image.ivar.data(), image.ivar.size() * sizeof(double), 0);
  GaussHermitePsf read_psf;
  std::string message;
  int code = root ? 0 : catch_error([&] { read_psf = io::read_psf(psf_path); }, message);
  out.code = agree(group, code, message);
  if (out.code != 0) {
    out.message = message;
    return finish(std::move(out));
  }
  const GaussHermitePsf& psf = root ? job->psf : read_psf;
  const ImageInput input = upload_image(ExecSpace(), image, setup.npix_y, setup.npix_x);
  const double inputs_s = seconds_since(t0);

  // 3. The units, on request.
  const int nunits = setup.nunits();
  std::vector<std::pair<int, FrameResult>> parts;
  std::vector<int> owners;
  code = 0;
  message.clear();
  if (root) {
    UnitDispatcher dispatcher(group, nunits);
    std::thread server;
    if (group.size() > 1) server = std::thread([&dispatcher] { dispatcher.serve(); });
    run_side_work();
    code = catch_error(
        [&] {
          for (int u = dispatcher.next_for_root(); u >= 0; u = dispatcher.next_for_root()) {
            const auto tu = std::chrono::steady_clock::now();
            parts.emplace_back(u, extract_unit_checked(input, psf, grid, setup, u));
            print_unit(verbose, 0, setup, u, seconds_since(tu));
          }
        },
        message);
    if (code != 0) dispatcher.fail();
    if (server.joinable()) server.join();
    owners = dispatcher.owners();
  } else {
    int status = 0;
    for (;;) {
      group.send_bytes(&status, sizeof(status), 0, tag_request);
      int unit = -1;
      group.recv_bytes(&unit, sizeof(unit), 0, tag_assign);
      if (unit < 0) break;
      const auto tu = std::chrono::steady_clock::now();
      status = catch_error([&] { parts.emplace_back(unit, extract_unit_checked(input, psf, grid, setup, unit)); }, message);
      if (status == 0) print_unit(verbose, group.rank(), setup, unit, seconds_since(tu));
    }
    code = status;
  }
  if (fault_injection().crash_rank == group.rank())
    throw std::runtime_error("injected crash (PERFEX_FAULT_INJECTION)");
  out.code = agree(group, code, message);
  if (out.code != 0) {
    out.message = message;
    return finish(std::move(out));
  }
  const double units_s = seconds_since(t0);

  // 4. The gather: every rank sends its units in increasing order, the root receives them in frame order.
  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (!root) {
    for (const auto& [unit, part] : parts) {
      const std::vector<double> buf = pack_unit(part);
      group.send_bytes(buf.data(), buf.size() * sizeof(double), 0, tag_result);
    }
    return finish(std::move(out));
  }
  FrameResult frame = empty_frame(setup, grid);
  const int ndiags = 2 * setup.extraction.ndiag + 1;
  std::vector<double> buf;
  auto own = parts.begin();
  for (int u = 0; u < nunits; ++u) {
    const int row0 = setup.fiber0(u) - setup.specmin, nfiber = setup.nfiber(u);
    if (owners[u] == 0) {
      if (own == parts.end() || own->first != u) throw std::logic_error("perfex: unit missing on the root");
      const std::vector<double> mine = pack_unit(own->second);
      place_unit(frame, row0, nfiber, mine.data());
      ++own;
    } else {
      if (owners[u] < 0) throw std::logic_error("perfex: a unit was never handed out");
      buf.resize(values_per_fiber(frame.nwave, ndiags) * nfiber);
      group.recv_bytes(buf.data(), buf.size() * sizeof(double), owners[u], tag_result);
      place_unit(frame, row0, nfiber, buf.data());
    }
  }

  const double gather_s = seconds_since(t0);

  // 5. What needs the whole frame.
  ExtractedFrame extracted;
  extracted.mask = frame_mask(frame.pixmask_fraction, frame.chi2pix);
  flag_unsolved(frame.unsolved, extracted.mask);
  if (setup.model) extracted.model = model_image(input, psf, grid, setup, frame);
  extracted.result = std::move(frame);
  extracted.extract_s = seconds_since(t0);
  if (verbose) {
    const long own_units = std::count(owners.begin(), owners.end(), 0);
    fmt::print(stderr,
               "perfex extract: {} units on {} rank{} ({} on rank 0): inputs to every rank {:.2f} s, units {:.2f} s, "
               "gather {:.2f} s, specmask{} {:.2f} s\n",
               nunits, group.size(), group.size() == 1 ? "" : "s", own_units, inputs_s, units_s - inputs_s,
               gather_s - units_s, setup.model ? " and model" : "", extracted.extract_s - gather_s);
  }
  out.extracted = std::move(extracted);
  return finish(std::move(out));
}

int run_extract_distributed(const Comm& comm, const ExtractArgs& args) {
  return run_or_abort(comm, [&] {
    const auto t0 = std::chrono::steady_clock::now();
    PreparedFrame frame;
    if (comm.is_root()) frame = prepare_frame(args);
    FrameOutcome out = extract_on_group(comm, comm.is_root() ? &frame : nullptr, {}, args.verbose);
    int code = out.code;
    std::string message = out.message;
    if (comm.is_root() && code == 0)
      code = catch_error([&] { write_extraction(*frame.job, *out.extracted, t0); }, message);
    comm.broadcast(code, 0);
    if (comm.is_root() && code != 0) fmt::print(stderr, "perfex: error: {}\n", message);
    return code;
  });
}

int run_or_abort(const Comm& world, const std::function<int()>& body) {
  int code = 1;
  std::string message;
  try {
    return body();
  } catch (const Error& e) {
    code = e.exit_code();
    message = e.what();
  } catch (const std::bad_alloc&) {
    message = "out of memory";
  } catch (const std::exception& e) {
    message = e.what();
  } catch (...) {
    message = "unknown exception";
  }
  // The stack has unwound: this rank's pending outputs are removed.
  if (world.size() == 1) {
    fmt::print(stderr, "perfex: error: {}\n", message);
    return code;
  }
  fmt::print(stderr, "perfex: error on rank {} of {}: {}; ending the job\n", world.rank(), world.size(), message);
  std::fflush(stderr);
  world.abort(code);
}

}  // namespace perfex::drivers
