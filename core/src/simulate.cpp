// The simulator's kernels: deterministic projection of spots onto the CCD (a per-row gather), counter-based
// Poisson + read noise, inverse variances from the noiseless model, and injected defects.
#include "perfex/core/simulate.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>

#include "perfex/backends/launch_config.hpp"
#include "perfex/core/ccd_mask.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/profiling.hpp"

namespace perfex {

namespace {

// One pixel a defect touches; merged per pixel on the host so the kernel applying them has no races.
struct DefectPixel {
  std::int64_t pixel = 0;
  double add = 0.0;  // electrons added
  int zero = 0;      // the pixel reads 0 (dead)
  std::int32_t bits = 0;
};

// Adds the pixels of a cosmic-ray hit: a short straight track (or a compact blob) of deposited charge.
void add_cosmic(CounterRng& rng, int npix_y, int npix_x, std::vector<DefectPixel>& pixels,
                std::vector<SimulatedDefect>& defects) {
  const double y0 = rng.uniform() * npix_y - 0.5;
  const double x0 = rng.uniform() * npix_x - 0.5;
  // A third are near-normal hits (1-2 pixels), the rest tracks up to 40 pixels long.
  const double length = rng.uniform() < 0.33 ? rng.uniform() * 1.5 : 2.0 + 38.0 * rng.uniform() * rng.uniform();
  const double angle = 6.283185307179586 * rng.uniform();
  const double per_pixel = 300.0 + 2000.0 * -std::log(rng.uniform());  // exponential tail of energies
  const double dy = std::sin(angle), dx = std::cos(angle);
  const int nstep = 1 + static_cast<int>(std::ceil(2.0 * length));
  std::vector<std::int64_t> track;
  for (int s = 0; s <= nstep; ++s) {
    const double t = length * s / nstep;
    const long y = std::lround(y0 + t * dy), x = std::lround(x0 + t * dx);
    if (y < 0 || y >= npix_y || x < 0 || x >= npix_x) continue;
    const std::int64_t p = static_cast<std::int64_t>(y) * npix_x + x;
    if (std::find(track.begin(), track.end(), p) == track.end()) track.push_back(p);
  }
  if (track.empty()) return;
  SimulatedDefect d;
  d.kind = DefectKind::Cosmic;
  d.mask_bit = ccd_mask::cosmic;
  d.ymin = d.xmin = INT_MAX;
  d.ymax = d.xmax = INT_MIN;
  for (std::int64_t p : track) {
    const int y = static_cast<int>(p / npix_x), x = static_cast<int>(p % npix_x);
    const double e = per_pixel * (0.5 + rng.uniform());
    pixels.push_back({p, e, 0, ccd_mask::cosmic});
    d.electrons += e;
    d.ymin = std::min(d.ymin, y);
    d.ymax = std::max(d.ymax, y);
    d.xmin = std::min(d.xmin, x);
    d.xmax = std::max(d.xmax, x);
  }
  d.npix = static_cast<int>(track.size());
  defects.push_back(d);
}

// A partial column [ybegin, yend) at x: hot (adds `level` electrons) or dead (reads 0).
void add_column(DefectKind kind, int x, int ybegin, int yend, double level, int npix_x,
                std::vector<DefectPixel>& pixels, std::vector<SimulatedDefect>& defects) {
  const bool hot = kind == DefectKind::HotColumn;
  const std::int32_t bit = hot ? ccd_mask::hot : ccd_mask::dead;
  for (int y = ybegin; y < yend; ++y)
    pixels.push_back({static_cast<std::int64_t>(y) * npix_x + x, hot ? level : 0.0, hot ? 0 : 1, bit});
  SimulatedDefect d;
  d.kind = kind;
  d.mask_bit = bit;
  d.ymin = ybegin;
  d.ymax = yend - 1;
  d.xmin = d.xmax = x;
  d.npix = yend - ybegin;
  d.electrons = hot ? level : 0.0;
  defects.push_back(d);
}

// Every defect of the frame, from the seed alone (cosmics stream: one generator per hit; defects stream).
std::vector<DefectPixel> make_defects(const SimulationOptions& options, int npix_y, int npix_x,
                                      std::vector<SimulatedDefect>& defects) {
  std::vector<DefectPixel> pixels;
  if (options.defects && npix_x >= 64 && npix_y >= 16) {
    CounterRng rng(options.seed, CounterRng::defects, 0);
    // Columns inside the central 80% of the CCD (where the fibers are), at least 16 columns apart.
    const int lo = npix_x / 10, span = std::max(1, npix_x * 8 / 10);
    const int x_hot = lo + static_cast<int>(rng.below(span));
    int x_dead = lo + static_cast<int>(rng.below(span));
    if (std::abs(x_dead - x_hot) < 16) x_dead = x_hot + (x_hot + 16 < npix_x ? 16 : -16);
    // A hot column from a random row to the top edge, a dead one from the bottom edge to a random row.
    const int hot_begin = static_cast<int>(rng.below(npix_y / 2));
    const double hot_level = 200.0 + 800.0 * rng.uniform();
    add_column(DefectKind::HotColumn, x_hot, hot_begin, npix_y, hot_level, npix_x, pixels, defects);
    const int dead_end = npix_y / 2 + static_cast<int>(rng.below(npix_y - npix_y / 2)) + 1;
    add_column(DefectKind::DeadColumn, x_dead, 0, dead_end, 0.0, npix_x, pixels, defects);
    // A 3x3 cluster of bad pixels.
    const int yc = 1 + static_cast<int>(rng.below(npix_y - 2));
    const int xc = lo + static_cast<int>(rng.below(span));
    SimulatedDefect d;
    d.kind = DefectKind::BadCluster;
    d.mask_bit = ccd_mask::bad;
    d.ymin = yc - 1;
    d.ymax = yc + 1;
    d.xmin = std::max(0, xc - 1);
    d.xmax = std::min(npix_x - 1, xc + 1);
    for (int y = d.ymin; y <= d.ymax; ++y)
      for (int x = d.xmin; x <= d.xmax; ++x)
        pixels.push_back({static_cast<std::int64_t>(y) * npix_x + x, 0.0, 0, ccd_mask::bad});
    d.npix = (d.ymax - d.ymin + 1) * (d.xmax - d.xmin + 1);
    defects.push_back(d);
  }
  for (int i = 0; i < options.ncosmics; ++i) {
    CounterRng rng(options.seed, CounterRng::cosmics, static_cast<std::uint64_t>(i));
    add_cosmic(rng, npix_y, npix_x, pixels, defects);
  }
  // One entry per pixel: charges add up, a dead pixel stays 0, mask bits combine.
  std::stable_sort(pixels.begin(), pixels.end(),
                   [](const DefectPixel& a, const DefectPixel& b) { return a.pixel < b.pixel; });
  std::vector<DefectPixel> merged;
  for (const DefectPixel& p : pixels) {
    if (!merged.empty() && merged.back().pixel == p.pixel) {
      merged.back().add += p.add;
      merged.back().zero |= p.zero;
      merged.back().bits |= p.bits;
    } else {
      merged.push_back(p);
    }
  }
  return merged;
}

}  // namespace

const char* defect_kind_name(DefectKind kind) {
  switch (kind) {
    case DefectKind::Cosmic:
      return "COSMIC";
    case DefectKind::HotColumn:
      return "HOTCOL";
    case DefectKind::DeadColumn:
      return "DEADCOL";
    case DefectKind::BadCluster:
      return "BADPIX";
  }
  return "UNKNOWN";
}

void add_spots(const ExecSpace& exec, const SpotCache& spots, const DeviceView<const double**>& photons,
               const DeviceView<double**>& image) {
  ScopedRegion region("perfex::simulate::add_spots");
  const int nfiber = spots.nfiber, nwave = spots.nwave;
  const int sy = spots.stamp_ny, sx = spots.stamp_nx;
  const int ny = static_cast<int>(image.extent(0)), nx = static_cast<int>(image.extent(1));
  if (static_cast<int>(photons.extent(0)) != nfiber || static_cast<int>(photons.extent(1)) != nwave)
    throw_usage_error("add_spots: photons are " + std::to_string(photons.extent(0)) + " x " +
                      std::to_string(photons.extent(1)) + ", the spot cache " + std::to_string(nfiber) + " x " +
                      std::to_string(nwave));
  if (nfiber == 0 || nwave == 0 || ny == 0 || nx == 0) return;

  const auto spot = spots.spots;
  const auto xcorner = spots.xcorner;
  const auto ycorner = spots.ycorner;

  // Per (fiber, row): the range of wavelength bins whose lit spots touch the row, and their column span.
  // One thread per fiber walks its bins in order, so the tables need no atomics.
  DeviceView<int**> wlo(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::simulate::wlo"), nfiber, ny);
  DeviceView<int**> whi(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::simulate::whi"), nfiber, ny);
  DeviceView<int**> xlo(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::simulate::xlo"), nfiber, ny);
  DeviceView<int**> xhi(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::simulate::xhi"), nfiber, ny);
  Kokkos::deep_copy(exec, wlo, nwave);  // empty ranges
  Kokkos::deep_copy(exec, whi, -1);
  Kokkos::deep_copy(exec, xlo, INT_MAX);
  Kokkos::deep_copy(exec, xhi, INT_MIN);
  Kokkos::parallel_for(
      "perfex::simulate::row_tables", Kokkos::RangePolicy<ExecSpace>(exec, 0, nfiber), KOKKOS_LAMBDA(const int f) {
        for (int w = 0; w < nwave; ++w) {
          if (photons(f, w) == 0.0) continue;
          const int yc = ycorner(f, w), xc = xcorner(f, w);
          const int y0 = yc < 0 ? 0 : yc, y1 = yc + sy > ny ? ny : yc + sy;
          if (xc >= nx || xc + sx <= 0) continue;
          for (int y = y0; y < y1; ++y) {
            if (w < wlo(f, y)) wlo(f, y) = w;
            if (w > whi(f, y)) whi(f, y) = w;
            if (xc < xlo(f, y)) xlo(f, y) = xc;
            if (xc + sx > xhi(f, y)) xhi(f, y) = xc + sx;
          }
        }
      });

  // The gather: one team per CCD row, fibers in order (a barrier between fibers). Each thread of the team
  // owns a contiguous block of the fiber's columns and adds the fiber's bins in increasing order into it:
  // a scatter over the stamp's columns on host backends (one thread per team), a per-pixel gather on GPUs.
  // Either way every pixel sums its spots in (fiber, wavelength) order.
  using Member = Kokkos::TeamPolicy<ExecSpace>::member_type;
  Kokkos::parallel_for(
      "perfex::simulate::gather", backends::team_policy(exec, ny), KOKKOS_LAMBDA(const Member& team) {
        const int y = team.league_rank();
        const int nthread = team.team_size();
        for (int f = 0; f < nfiber; ++f) {
          const int w0 = wlo(f, y), w1 = whi(f, y);
          if (w0 > w1) continue;
          const int x0 = xlo(f, y) < 0 ? 0 : xlo(f, y);
          const int x1 = xhi(f, y) > nx ? nx : xhi(f, y);
          const int block = (x1 - x0 + nthread - 1) / nthread;
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, nthread), [&](const int t) {
            const int xa = x0 + t * block;
            const int xb = xa + block < x1 ? xa + block : x1;
            for (int w = w0; w <= w1; ++w) {
              const int iy = y - ycorner(f, w);
              if (iy < 0 || iy >= sy) continue;
              const double ph = photons(f, w);
              if (ph == 0.0) continue;
              const int xc = xcorner(f, w);
              const int lo = xc > xa ? xc : xa;
              const int hi = xc + sx < xb ? xc + sx : xb;
              for (int x = lo; x < hi; ++x) image(y, x) += ph * spot(f, w, iy, x - xc);
            }
          });
          team.team_barrier();
        }
      });
}

double project_spots(const ExecSpace& exec, const SpotCache& spots, const DeviceView<const double**>& photons,
                     const DeviceView<double**>& image) {
  ScopedRegion region("perfex::simulate::project_spots");
  add_spots(exec, spots, photons, image);
  const int nfiber = spots.nfiber, nwave = spots.nwave;
  const int sy = spots.stamp_ny, sx = spots.stamp_nx;
  const int ny = static_cast<int>(image.extent(0)), nx = static_cast<int>(image.extent(1));
  if (nfiber == 0 || nwave == 0 || ny == 0 || nx == 0) return 0.0;
  const auto spot = spots.spots;
  const auto xcorner = spots.xcorner;
  const auto ycorner = spots.ycorner;
  DeviceView<double**> off(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::simulate::off_ccd"), nfiber, nwave);
  // Photons of each spot that land outside the image.
  Kokkos::parallel_for(
      "perfex::simulate::off_ccd", Kokkos::RangePolicy<ExecSpace>(exec, 0, nfiber * nwave), KOKKOS_LAMBDA(const int i) {
        const int f = i / nwave, w = i - f * nwave;
        const double ph = photons(f, w);
        double outside = 0.0;
        const int yc = ycorner(f, w), xc = xcorner(f, w);
        const bool inside = yc >= 0 && yc + sy <= ny && xc >= 0 && xc + sx <= nx;
        if (ph != 0.0 && !inside) {
          for (int iy = 0; iy < sy; ++iy) {
            const bool row_in = yc + iy >= 0 && yc + iy < ny;
            for (int ix = 0; ix < sx; ++ix)
              if (!row_in || xc + ix < 0 || xc + ix >= nx) outside += spot(f, w, iy, ix);
          }
        }
        off(f, w) = ph * outside;
      });

  auto off_host = Kokkos::create_mirror_view_and_copy(HostSpace(), off);
  double total = 0.0;
  for (int f = 0; f < nfiber; ++f)
    for (int w = 0; w < nwave; ++w) total += off_host(f, w);
  return total;
}

SimulatedFrame simulate_frame(const ExecSpace& exec, const GaussHermitePsf& psf, const std::vector<double>& wavelengths,
                              const HostView<const double**>& photons, const SimulationOptions& options) {
  ScopedRegion region("perfex::simulate::simulate_frame");
  const int nfiber = static_cast<int>(photons.extent(0));
  const int nwave = static_cast<int>(photons.extent(1));
  if (static_cast<std::size_t>(nwave) != wavelengths.size())
    throw_usage_error("simulate: the spectra have " + std::to_string(nwave) + " wavelength bins, the grid " +
                      std::to_string(wavelengths.size()));
  if (options.fiber_begin < 0 || options.fiber_begin + nfiber > psf.nfiber)
    throw_usage_error("simulate: fibers " + std::to_string(options.fiber_begin) + ".." +
                      std::to_string(options.fiber_begin + nfiber - 1) + " are not all in the PSF's 0.." +
                      std::to_string(psf.nfiber - 1));
  if (options.fibers_per_batch < 0) throw_usage_error("simulate: fibers_per_batch must not be negative");
  if (options.ncosmics < 0 || options.ncosmics > max_cosmics)
    throw_usage_error("--cosmics must be in 0.." + std::to_string(max_cosmics) + " (cosmic-ray hits), got " +
                      std::to_string(options.ncosmics));
  for (double r : options.readnoise)
    if (!(std::isfinite(r) && r > 0.0)) throw_usage_error("simulate: read noise must be positive");
  double photons_in = 0.0;
  for (int f = 0; f < nfiber; ++f)
    for (int w = 0; w < nwave; ++w) {
      const double p = photons(f, w);
      if (!(std::isfinite(p) && p >= 0.0 && p <= max_photons_per_bin))
        throw_usage_error("simulate: photons must be finite and >= 0 and <= 1e15 per bin, fiber " +
                          std::to_string(options.fiber_begin + f) + " bin " + std::to_string(w) + " has " +
                          std::to_string(p));
      photons_in += p;
    }

  SimulatedFrame frame;
  const int ny = psf.npix_y, nx = psf.npix_x;
  frame.npix_y = ny;
  frame.npix_x = nx;
  frame.readnoise = options.readnoise;
  frame.photons_in = photons_in;
  frame.model =
      DeviceView<double**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::simulate::model"), ny, nx);
  Kokkos::deep_copy(exec, frame.model, 0.0);
  frame.image =
      DeviceView<double**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::simulate::image"), ny, nx);
  frame.ivar = DeviceView<double**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::simulate::ivar"), ny, nx);
  frame.mask =
      DeviceView<std::int32_t**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::simulate::mask"), ny, nx);

  // Projection, a batch of fibers at a time (the spots of a whole frame would need ~1.7 GB).
  DeviceView<double**> photons_dev(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::simulate::photons"), nfiber,
                                   nwave);
  {
    auto staging = Kokkos::create_mirror_view(photons_dev);
    for (int f = 0; f < nfiber; ++f)
      for (int w = 0; w < nwave; ++w) staging(f, w) = photons(f, w);
    Kokkos::deep_copy(exec, photons_dev, staging);
    exec.fence();  // the staging buffer goes out of scope
  }
  int batch = options.fibers_per_batch;
  if (batch == 0) {
    const std::size_t spot_bytes = static_cast<std::size_t>(psf.stamp_ny()) * psf.stamp_nx() * sizeof(double);
    batch = backends::FramePolicy<ExecSpace>::simulate_fibers_per_batch(spot_bytes, nwave);
  }
  for (int b0 = 0; b0 < nfiber; b0 += batch) {
    const int nb = std::min(batch, nfiber - b0);
    const SpotCache cache = evaluate_spots(exec, psf, options.fiber_begin + b0, nb, wavelengths, options.spots);
    const auto batch = Kokkos::subview(photons_dev, std::make_pair(b0, b0 + nb), Kokkos::ALL());
    frame.photons_off_ccd += project_spots(exec, cache, batch, frame.model);
  }

  // Noise and inverse variance, pixel by pixel.
  {
    ScopedRegion noise_region("perfex::simulate::noise");
    Kokkos::Array<double, 4> rn;
    for (int a = 0; a < 4; ++a) rn[a] = options.readnoise[a];
    const std::uint64_t seed = options.seed;
    const bool noise = options.noise;
    const auto model = frame.model, image = frame.image, ivar = frame.ivar;
    const auto mask = frame.mask;
    const std::int64_t npix = static_cast<std::int64_t>(ny) * nx;
    Kokkos::parallel_for(
        "perfex::simulate::noise", Kokkos::RangePolicy<ExecSpace, Kokkos::IndexType<std::int64_t>>(exec, 0, npix),
        KOKKOS_LAMBDA(const std::int64_t p) {
          const int y = static_cast<int>(p / nx), x = static_cast<int>(p - static_cast<std::int64_t>(y) * nx);
          const double r = rn[amplifier_of(y, x, ny, nx)];
          const double m = model(y, x);
          double value = m;
          if (noise) {
            CounterRng rng(seed, CounterRng::noise, static_cast<std::uint64_t>(p));
            value = rng.poisson(m) + r * rng.normal();
          }
          image(y, x) = value;
          ivar(y, x) = 1.0 / (r * r + (m > 0.0 ? m : 0.0));
          mask(y, x) = 0;
        });
  }

  // Defects: generated on the host from the seed, merged per pixel, applied by a race-free kernel.
  const std::vector<DefectPixel> defect_pixels = make_defects(options, ny, nx, frame.defects);
  if (!defect_pixels.empty()) {
    const int n = static_cast<int>(defect_pixels.size());
    HostView<std::int64_t*> where_h("perfex::simulate::defect_pixel", n);
    HostView<double*> add_h("perfex::simulate::defect_add", n);
    HostView<int*> zero_h("perfex::simulate::defect_zero", n);
    HostView<std::int32_t*> bits_h("perfex::simulate::defect_bits", n);
    for (int i = 0; i < n; ++i) {
      where_h(i) = defect_pixels[i].pixel;
      add_h(i) = defect_pixels[i].add;
      zero_h(i) = defect_pixels[i].zero;
      bits_h(i) = defect_pixels[i].bits;
    }
    const auto where = Kokkos::create_mirror_view_and_copy(MemSpace(), where_h);
    const auto add = Kokkos::create_mirror_view_and_copy(MemSpace(), add_h);
    const auto zero = Kokkos::create_mirror_view_and_copy(MemSpace(), zero_h);
    const auto bits = Kokkos::create_mirror_view_and_copy(MemSpace(), bits_h);
    const auto image = frame.image, ivar = frame.ivar;
    const auto mask = frame.mask;
    Kokkos::parallel_for(
        "perfex::simulate::defects", Kokkos::RangePolicy<ExecSpace>(exec, 0, n), KOKKOS_LAMBDA(const int i) {
          const int y = static_cast<int>(where(i) / nx), x = static_cast<int>(where(i) % nx);
          image(y, x) = zero(i) ? 0.0 : image(y, x) + add(i);
          mask(y, x) |= bits(i);
          ivar(y, x) = 0.0;
        });
  }
  exec.fence();
  return frame;
}

}  // namespace perfex
