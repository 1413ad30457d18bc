// The frame pipeline: chunks of bundles (spots, plan, solve, per-Angstrom units, model image) into the
// frame's arrays on the device, then the specmask and one copy of each finished array to the host.
#include "perfex/core/extract_frame.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "extract_internal.hpp"
#include "perfex/core/ccd_mask.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/frame_mask.hpp"
#include "perfex/core/patch_plan.hpp"
#include "perfex/core/pixel_limits.hpp"
#include "perfex/core/profiling.hpp"
#include "perfex/core/simulate.hpp"

namespace perfex {

namespace {

using Clock = std::chrono::steady_clock;

template <class View>
std::size_t bytes_of(const View& v) {
  return v.span() * sizeof(typename View::value_type);
}

std::string text(int v) { return std::to_string(v); }

// The checks that need no image: options, fibers, grid (in perfex extract's order and words).
void check_request(const GaussHermitePsf& psf, const std::vector<double>& wavelengths, int specmin, int nspec,
                   const FrameOptions& options) {
  const ExtractionOptions& o = options.extraction;
  o.validate();
  if (options.bundles_per_chunk < 0) throw_usage_error("--bundles-per-chunk must be >= 0");
  if (specmin < 0 || nspec < 1)
    throw_usage_error("--specmin must be >= 0 and --nspec >= 1, got " + text(specmin) + " and " + text(nspec));
  if (specmin + nspec > psf.nfiber)
    throw_data_error("fibers " + text(specmin) + ".." + text(specmin + nspec - 1) +
                     " requested, the PSF has fibers 0.." + text(psf.nfiber - 1));
}

// A chunk's patch plan and its table on the device, made the first time the chunk is extracted.
struct ChunkPlan {
  PatchPlan plan;
  DeviceView<Patch*> patches;
};

// photons(i, j) = flux(row0 + i, j - pad) * dwave(j - pad) on the padded grid (0 in the padding): the
// electrons per bin of fibers row0.. that the model image spreads with the spots. A free function, since
// nvcc refuses extended lambdas inside a private nested class (FrameExtractor::Impl).
template <class Photons>
void flux_to_photons(const ExecSpace& exec, const DeviceView<double**>& flux, const DeviceView<const double*>& dwave,
                     int row0, int pad, int nwave, const Photons& photons) {
  const int nfiber = static_cast<int>(photons.extent(0)), npadded = static_cast<int>(photons.extent(1));
  Kokkos::parallel_for(
      "perfex::frame::model_photons",
      Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>>(exec, {0, 0}, {nfiber, npadded}),
      KOKKOS_LAMBDA(const int i, const int j) {
        const int k = j - pad;
        photons(i, j) = k >= 0 && k < nwave ? flux(row0 + i, k) * dwave(k) : 0.0;
      });
}

// Pixels with ivar > 0 that extraction cannot use. A flat, branch-free count where both arrays are contiguous
// (vectorised on CPUs: a memory-bound pass, ~3x faster than the two-dimensional range), else by rows and columns.
template <class Image, class Ivar>
long count_unusable_pixels(const ExecSpace& exec, const Image& image, const Ivar& ivar) {
  long unusable = 0;
  if (image.span_is_contiguous() && ivar.span_is_contiguous()) {
    const double* value = image.data();
    const double* weight = ivar.data();
    Kokkos::parallel_reduce(
        "perfex::frame::count_unusable_pixels",
        Kokkos::RangePolicy<ExecSpace, Kokkos::IndexType<long>>(exec, 0, static_cast<long>(image.size())),
        KOKKOS_LAMBDA(const long p, long& n) {
          n += static_cast<long>((weight[p] > 0.0) & !usable_pixel(value[p], weight[p]));
        },
        unusable);
    return unusable;
  }
  const Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>> pixels(exec, {0, 0},
                                                                 {static_cast<long>(image.extent(0)),
                                                                  static_cast<long>(image.extent(1))});
  Kokkos::parallel_reduce(
      "perfex::frame::count_unusable_pixels", pixels,
      KOKKOS_LAMBDA(const long y, const long x, long& n) {
        if (ivar(y, x) > 0.0 && !usable_pixel(image(y, x), ivar(y, x))) ++n;
      },
      unusable);
  return unusable;
}

}  // namespace

ImageInput upload_image(const ExecSpace& exec, const HostImage& host) {
  ScopedRegion region("perfex::upload_image");
  const std::size_t ny = host.image.extent(0), nx = host.image.extent(1);
  auto shape = [](const auto& v) {
    return text(static_cast<int>(v.extent(0))) + " x " + text(static_cast<int>(v.extent(1)));
  };
  if (host.ivar.extent(0) != ny || host.ivar.extent(1) != nx)
    throw_usage_error("ivar: shape " + shape(host.ivar) + " differs from the image's " + shape(host.image));
  const bool masked = host.mask.data() != nullptr;
  if (masked && (host.mask.extent(0) != ny || host.mask.extent(1) != nx))
    throw_usage_error("mask: shape " + shape(host.mask) + " differs from the image's " + shape(host.image));
  if (host.ccd_ny < 1 || host.ccd_nx < 1)
    throw_usage_error("the CCD shape (" + text(host.ccd_ny) + ", " + text(host.ccd_nx) + ") must be positive");
  if (host.origin_y < 0 || host.origin_x < 0 || host.origin_y + static_cast<long long>(ny) > host.ccd_ny ||
      host.origin_x + static_cast<long long>(nx) > host.ccd_nx)
    throw_usage_error("a cutout of " + shape(host.image) + " pixels at origin (" + text(host.origin_y) + ", " +
                      text(host.origin_x) + ") does not fit the CCD of " + text(host.ccd_ny) + " x " +
                      text(host.ccd_nx) + " pixels (rows x columns)");
  ImageInput input;
  input.origin_y = host.origin_y;
  input.origin_x = host.origin_x;
  input.ccd_ny = host.ccd_ny;
  input.ccd_nx = host.ccd_nx;
  input.image = Kokkos::create_mirror_view_and_copy(MemSpace(), host.image);  // no copy on host backends
  const auto ivar = Kokkos::create_mirror_view_and_copy(MemSpace(), host.ivar);
  const auto image = input.image;
  const Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>> pixels(exec, {0, 0},
                                                                 {static_cast<long>(ny), static_cast<long>(nx)});
  // Pixels beyond what the arithmetic holds (core/pixel_limits.hpp) get weight 0 as masked ones do; a new weight
  // array only when there are any, or a mask (ivar <= 0 and NaN: the solver leaves them out itself).
  const long unusable = host.pixels_validated ? 0 : count_unusable_pixels(exec, image, ivar);
  if (!masked && unusable == 0) {
    input.weights = ivar;
  } else {
    DeviceView<const std::int32_t**> mask;
    if (masked) mask = Kokkos::create_mirror_view_and_copy(MemSpace(), host.mask);
    DeviceView<double**> weights(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::frame::weights"), ny, nx);
    Kokkos::parallel_for(
        "perfex::frame::apply_mask", pixels, KOKKOS_LAMBDA(const long y, const long x) {
          const double w = masked ? ccd_mask::extraction_weight(ivar(y, x), mask(y, x)) : ivar(y, x);
          weights(y, x) = usable_pixel(image(y, x), ivar(y, x)) ? w : 0.0;
        });
    input.weights = weights;
  }
  exec.fence();
  return input;
}

struct FrameExtractor::Impl {
  ExecSpace exec;
  GaussHermitePsf psf;
  std::vector<double> wavelengths;
  std::vector<double> padded;
  DeviceView<double*> dwave;  // numpy.gradient of the grid, for the per-Angstrom conversion
  int specmin = 0;
  int nspec = 0;
  int nwave = 0;
  int bundles_per_chunk = 1;
  FrameOptions options;  // options.extraction.wavepad_bins: the padding chosen for the PSF and grid
  // The bundles, clipped to the requested fibers (the first and last may be partial); a chunk is whole ones.
  std::vector<std::pair<int, int>> bundles;

  // Kept between chunks and frames.
  SpotCache spots;
  int spots_chunk = -1;  // the chunk the spot cache holds
  ExtractWorkspace workspace;
  std::vector<std::optional<ChunkPlan>> plans;

  // The frame being extracted.
  ImageInput image;
  FrameStorage storage = FrameStorage::WholeFrame;
  detail::PatchOutputs out;
  DeviceView<double**> model;
  DeviceView<double**> model_photons;  // [chunk fibers][padded bins]
  int model_next = 0;                  // chunks before it are in the model image
  std::vector<char> done;              // per chunk: extracted or written
  bool begun = false;
  Clock::time_point t0;

  int nbundle() const { return static_cast<int>(bundles.size()); }
  int chunks() const { return (nbundle() + bundles_per_chunk - 1) / bundles_per_chunk; }
  int fiber_begin(int c) const { return bundles[static_cast<std::size_t>(c * bundles_per_chunk)].first; }
  int fibers(int c) const {
    const auto& last = bundles[static_cast<std::size_t>(std::min(nbundle(), (c + 1) * bundles_per_chunk) - 1)];
    return last.first + last.second - fiber_begin(c);
  }
  int max_chunk_fibers() const {
    int n = 0;
    for (int c = 0; c < chunks(); ++c) n = std::max(n, fibers(c));
    return n;
  }
  // Row of the frame's arrays that holds the chunk's first fiber.
  int row_of(int c) const { return storage == FrameStorage::WholeFrame ? fiber_begin(c) - specmin : 0; }

  void check_chunk(int c, const char* what) const {
    if (!begun) throw_usage_error(std::string("FrameExtractor::") + what + " before begin()");
    if (c < 0 || c >= chunks())
      throw_usage_error(std::string("FrameExtractor::") + what + ": chunk " + text(c) + " of " + text(chunks()));
  }

  void evaluate_chunk_spots(int c) {
    if (spots_chunk == c) return;
    spots_chunk = -1;  // until the evaluation succeeded
    evaluate_spots(exec, psf, fiber_begin(c), fibers(c), padded, spots, options.spots);
    spots_chunk = c;
  }

  const ChunkPlan& plan_of(int c) {
    std::optional<ChunkPlan>& p = plans[static_cast<std::size_t>(c)];
    if (!p) {
      // The only copy to the host a chunk makes, and only the first time: its spot corners.
      const auto xc = Kokkos::create_mirror_view_and_copy(HostSpace(), spots.xcorner);
      const auto yc = Kokkos::create_mirror_view_and_copy(HostSpace(), spots.ycorner);
      ChunkPlan made;
      made.plan = plan_patches(xc, yc, spots.fiber_begin, spots.stamp_ny, spots.stamp_nx, fiber_begin(c), fibers(c),
                               nwave, options.extraction);
      made.patches = detail::upload_patch_table(exec, made.plan, "perfex::frame::patches");
      p = std::move(made);
    }
    return *p;
  }

  // Adds chunk c's extracted flux (electrons per bin on the padded grid, 0 on the padding) times its spots
  // to the model image. Chunks go in order, so every pixel sums its spots in (fiber, wavelength) order.
  void project_model(int c) {
    ScopedRegion region("perfex::frame::model_image");
    evaluate_chunk_spots(c);
    const int nfiber = fibers(c), row0 = row_of(c), pad = options.extraction.wavepad();
    const int npadded = static_cast<int>(padded.size()), nw = nwave;
    if (model_photons.extent(0) < static_cast<std::size_t>(nfiber))
      model_photons =
          DeviceView<double**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::frame::model_photons"), nfiber,
                               npadded);
    const auto photons = Kokkos::subview(model_photons, std::make_pair(0, nfiber), Kokkos::ALL());
    flux_to_photons(exec, out.flux, dwave, row0, pad, nw, photons);
    add_spots(exec, spots, photons, model);
  }

  // Zeroes rows [0, nfiber) of the arrays, as a fresh allocation would be.
  void clear_rows(int nfiber) {
    const auto rows = std::make_pair(0, nfiber);
    for (const DeviceView<double**>* v : {&out.flux, &out.ivar, &out.chi2pix, &out.pixmask})
      Kokkos::deep_copy(exec, Kokkos::subview(*v, rows, Kokkos::ALL()), 0.0);
    Kokkos::deep_copy(exec, Kokkos::subview(out.resolution, rows, Kokkos::ALL(), Kokkos::ALL()), 0.0);
    Kokkos::deep_copy(exec, Kokkos::subview(out.unsolved, rows, Kokkos::ALL()), std::uint8_t(0));
  }

  std::size_t working_bytes() const {
    return bytes_of(image.image) + bytes_of(image.weights) + bytes_of(spots.spots) + bytes_of(spots.xcorner) +
           bytes_of(spots.ycorner) + bytes_of(spots.xcenter) + bytes_of(spots.ycenter) + bytes_of(spots.wavelengths) +
           workspace.bytes() + bytes_of(out.flux) + bytes_of(out.ivar) + bytes_of(out.resolution) +
           bytes_of(out.chi2pix) + bytes_of(out.pixmask) + bytes_of(out.unsolved) + bytes_of(model) +
           bytes_of(model_photons);
  }
};

FrameExtractor::FrameExtractor(const ExecSpace& exec, const GaussHermitePsf& psf,
                               const std::vector<double>& wavelengths, int specmin, int nspec,
                               const FrameOptions& options)
    : m_impl(std::make_unique<Impl>()) {
  ScopedRegion region("perfex::FrameExtractor");
  check_request(psf, wavelengths, specmin, nspec, options);
  Impl& m = *m_impl;
  m.options = options;
  padded_wavelengths(wavelengths, options.extraction);  // usage error unless linear, before the padding rule
  // The padding that covers the spots (front ends that write it in a header set it; the same rule).
  ExtractionOptions& o = m.options.extraction;
  if (o.wavepad_bins == 0) o.wavepad_bins = wavelength_padding(psf, wavelengths, o);
  m.padded = padded_wavelengths(wavelengths, o);
  m.exec = exec;
  m.psf = psf;
  m.wavelengths = wavelengths;
  m.specmin = specmin;
  m.nspec = nspec;
  m.nwave = static_cast<int>(wavelengths.size());
  m.bundles = bundle_ranges(specmin, nspec, o.bundlesize);
  m.bundles_per_chunk = options.bundles_per_chunk > 0 ? options.bundles_per_chunk
                                                      : backends::FramePolicy<ExecSpace>::bundles_per_chunk;
  m.dwave = detail::upload_gradient(exec, wavelengths);
  m.plans.resize(static_cast<std::size_t>(m.chunks()));
}

FrameExtractor::~FrameExtractor() = default;
FrameExtractor::FrameExtractor(FrameExtractor&&) noexcept = default;
FrameExtractor& FrameExtractor::operator=(FrameExtractor&&) noexcept = default;

int FrameExtractor::specmin() const { return m_impl->specmin; }
int FrameExtractor::nspec() const { return m_impl->nspec; }
int FrameExtractor::nwave() const { return m_impl->nwave; }
int FrameExtractor::chunks() const { return m_impl->chunks(); }
int FrameExtractor::chunk_fiber_begin(int chunk) const { return m_impl->fiber_begin(chunk); }
int FrameExtractor::chunk_fibers(int chunk) const { return m_impl->fibers(chunk); }
std::size_t FrameExtractor::working_bytes() const { return m_impl->working_bytes(); }

std::size_t FrameExtractor::chunk_values(int chunk) const {
  const Impl& m = *m_impl;
  return static_cast<std::size_t>(m.fibers(chunk)) * m.nwave * (5 + 2 * m.options.extraction.ndiag + 1);
}

void FrameExtractor::begin(const ImageInput& image, FrameStorage storage) {
  ScopedRegion region("perfex::FrameExtractor::begin");
  Impl& m = *m_impl;
  m.t0 = Clock::now();
  if (image.image.extent(0) != image.weights.extent(0) || image.image.extent(1) != image.weights.extent(1))
    throw_data_error("image and weights differ in shape: " + text(static_cast<int>(image.image.extent(0))) + " x " +
                     text(static_cast<int>(image.image.extent(1))) + " and " +
                     text(static_cast<int>(image.weights.extent(0))) + " x " +
                     text(static_cast<int>(image.weights.extent(1))));
  if (image.ccd_ny <= 0 || image.ccd_nx <= 0) throw_data_error("the CCD shape must be positive");
  m.image = image;
  m.storage = storage;
  // Fresh arrays for every frame: the results handed out by finish() keep the previous ones (on host
  // backends they are those arrays).
  // One chunk at a time: rows for the largest chunk (with partial bundles it need not be the first).
  const int rows = storage == FrameStorage::WholeFrame ? m.nspec : m.max_chunk_fibers();
  m.out = detail::allocate_outputs("perfex::frame::", rows, m.nwave, m.options.extraction.ndiag);
  m.model = DeviceView<double**>();
  if (m.options.model_image && storage == FrameStorage::WholeFrame)
    m.model = DeviceView<double**>("perfex::frame::model", image.ccd_ny, image.ccd_nx);
  m.model_next = 0;
  m.done.assign(static_cast<std::size_t>(m.chunks()), 0);
  m.begun = true;
}

void FrameExtractor::extract_chunk(int chunk) {
  ScopedRegion region("perfex::FrameExtractor::extract_chunk");
  Impl& m = *m_impl;
  m.check_chunk(chunk, "extract_chunk");
  const int row0 = m.row_of(chunk), nfiber = m.fibers(chunk);
  if (m.storage == FrameStorage::OneChunk) m.clear_rows(nfiber);  // rows reused from the previous chunk
  m.evaluate_chunk_spots(chunk);
  detail::check_inputs(m.image, m.spots);
  const ChunkPlan& plan = m.plan_of(chunk);
  detail::solve_patch_batches(m.exec, m.image, m.spots, plan.plan, plan.patches, m.options.extraction,
                              m.fiber_begin(chunk) - row0, m.out, detail::SolvePhase::All, &m.workspace);
  detail::convert_per_angstrom(m.exec, m.out, row0, row0 + nfiber, m.dwave);
  m.done[static_cast<std::size_t>(chunk)] = 1;
  if (m.model.data() != nullptr && chunk == m.model_next) {
    m.project_model(chunk);
    ++m.model_next;
  }
}

namespace {

// The views of one chunk's rows in read_chunk's layout, on the host over `values`.
using Unmanaged2 = Kokkos::View<double**, Kokkos::LayoutRight, HostSpace, Kokkos::MemoryUnmanaged>;
using Unmanaged3 = Kokkos::View<double***, Kokkos::LayoutRight, HostSpace, Kokkos::MemoryUnmanaged>;
using UnmanagedFlags = Kokkos::View<std::uint8_t**, Kokkos::LayoutRight, HostSpace, Kokkos::MemoryUnmanaged>;

// Calls f(device rows, host view over `values`) for each double plane of the layout, and g(device rows,
// host view over the unsolved plane) for the flags, which travel as doubles 0 and 1.
template <class F, class G>
void for_each_plane(const detail::PatchOutputs& out, int row0, int nfiber, double* values, F&& f, G&& g) {
  const std::size_t nwave = out.flux.extent(1), ndiags = out.resolution.extent(1);
  const std::size_t plane = static_cast<std::size_t>(nfiber) * nwave;
  const auto rows = std::make_pair(row0, row0 + nfiber);
  double* p = values;
  for (const DeviceView<double**>* v : {&out.flux, &out.ivar, &out.chi2pix, &out.pixmask}) {
    f(Kokkos::subview(*v, rows, Kokkos::ALL()), Unmanaged2(p, nfiber, nwave));
    p += plane;
  }
  g(Kokkos::subview(out.unsolved, rows, Kokkos::ALL()), Unmanaged2(p, nfiber, nwave));
  p += plane;
  f(Kokkos::subview(out.resolution, rows, Kokkos::ALL(), Kokkos::ALL()), Unmanaged3(p, nfiber, ndiags, nwave));
}

}  // namespace

void FrameExtractor::read_chunk(int chunk, double* values) const {
  const Impl& m = *m_impl;
  m.check_chunk(chunk, "read_chunk");
  std::vector<std::uint8_t> flags;
  for_each_plane(
      m.out, m.row_of(chunk), m.fibers(chunk), values,
      [&](const auto& device, const auto& host) { Kokkos::deep_copy(m.exec, host, device); },
      [&](const auto& device, const Unmanaged2& host) {
        flags.resize(host.span());
        Kokkos::deep_copy(m.exec, UnmanagedFlags(flags.data(), host.extent(0), host.extent(1)), device);
        m.exec.fence();
        for (std::size_t k = 0; k < flags.size(); ++k) host.data()[k] = flags[k] != 0 ? 1.0 : 0.0;
      });
  m.exec.fence();
}

void FrameExtractor::write_chunk(int chunk, const double* values) {
  Impl& m = *m_impl;
  m.check_chunk(chunk, "write_chunk");
  if (m.storage != FrameStorage::WholeFrame) throw_usage_error("FrameExtractor::write_chunk needs WholeFrame storage");
  std::vector<std::uint8_t> flags;
  for_each_plane(
      m.out, m.row_of(chunk), m.fibers(chunk), const_cast<double*>(values),
      [&](const auto& device, const auto& host) { Kokkos::deep_copy(m.exec, device, host); },
      [&](const auto& device, const Unmanaged2& host) {
        flags.resize(host.span());
        for (std::size_t k = 0; k < flags.size(); ++k) flags[k] = host.data()[k] != 0.0 ? 1 : 0;
        Kokkos::deep_copy(m.exec, device, UnmanagedFlags(flags.data(), host.extent(0), host.extent(1)));
      });
  m.exec.fence();  // `values` and the flags may be reused on return
  m.done[static_cast<std::size_t>(chunk)] = 1;
}

ExtractedFrame FrameExtractor::finish() {
  ScopedRegion region("perfex::FrameExtractor::finish");
  Impl& m = *m_impl;
  if (!m.begun || m.storage != FrameStorage::WholeFrame)
    throw_usage_error("FrameExtractor::finish needs begin() with WholeFrame storage");
  for (int c = 0; c < m.chunks(); ++c)
    if (!m.done[static_cast<std::size_t>(c)])
      throw_usage_error("FrameExtractor::finish: chunk " + text(c) + " was neither extracted nor written");
  if (m.model.data() != nullptr)
    for (; m.model_next < m.chunks(); ++m.model_next) m.project_model(m.model_next);
  const DeviceView<std::uint32_t**> mask = frame_mask(m.exec, m.out.pixmask, m.out.chi2pix);
  flag_unsolved(m.exec, m.out.unsolved, mask);  // BAD2DFIT where no solve succeeded
  ExtractedFrame f;
  FrameResult& r = f.result;
  r.specmin = m.specmin;
  r.nspec = m.nspec;
  r.nwave = m.nwave;
  r.ndiag = m.options.extraction.ndiag;
  r.wavelengths = m.wavelengths;
  // The one copy of each finished array, queued together.
  r.flux = detail::copy_to_result(m.exec, m.out.flux);
  r.ivar = detail::copy_to_result(m.exec, m.out.ivar);
  r.resolution = detail::copy_to_result(m.exec, m.out.resolution);
  r.chi2pix = detail::copy_to_result(m.exec, m.out.chi2pix);
  r.pixmask_fraction = detail::copy_to_result(m.exec, m.out.pixmask);
  r.unsolved = detail::copy_to_result(m.exec, m.out.unsolved);
  f.mask = detail::copy_to_result(m.exec, mask);
  if (m.model.data() != nullptr) f.model = detail::copy_to_result(m.exec, m.model);
  m.exec.fence();
  r.unsolved_bins = detail::count_unsolved(r.unsolved);
  // The frame's device arrays go with the results (on host backends they are the results).
  m.out = detail::PatchOutputs();
  m.model = DeviceView<double**>();
  m.image = ImageInput();
  m.begun = false;
  f.extract_s = std::chrono::duration<double>(Clock::now() - m.t0).count();
  return f;
}

ExtractedFrame FrameExtractor::extract(const ImageInput& image) {
  ScopedRegion region("perfex::extract_frame");
  Impl& m = *m_impl;
  begin(image);
  for (int c = 0; c < m.chunks(); ++c) {
    extract_chunk(c);
    if (m.options.progress) {
      FrameProgress p;
      p.bundles_done = std::min(m.nbundle(), (c + 1) * m.bundles_per_chunk);
      p.bundles_total = m.nbundle();
      p.elapsed_s = std::chrono::duration<double>(Clock::now() - m.t0).count();
      p.working_bytes = m.working_bytes();
      m.options.progress(p);
    }
  }
  return finish();
}

ExtractedFrame extract_frame(const ExecSpace& exec, const ImageInput& image, const GaussHermitePsf& psf,
                             const std::vector<double>& wavelengths, int specmin, int nspec,
                             const FrameOptions& options) {
  return FrameExtractor(exec, psf, wavelengths, specmin, nspec, options).extract(image);
}

}  // namespace perfex
