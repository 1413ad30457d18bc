// The simulator: projects spectra (electrons per wavelength bin per fiber) through a PSF onto the CCD, then
// adds Poisson and read noise and optional defects, reproducibly from a seed for any thread count.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "perfex/core/psf.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/types.hpp"

namespace perfex {

namespace detail {
// Kernel math: Kokkos::Experimental in Kokkos 3.4, namespace Kokkos from 3.7 on.
#if KOKKOS_VERSION >= 30700
namespace kmath = Kokkos;
#else
namespace kmath = Kokkos::Experimental;
#endif
}  // namespace detail

// ---------------------------------------------------------------------------------------------------------
// Counter-based random numbers. Every draw is a pure function of (seed, stream, index, draw number):
// SplitMix64's output function applied to key + n * golden, with key = mix(mix(mix(seed) + stream) + index).
// A pixel's noise (stream `noise`, index = y * npix_x + x) is therefore the same whatever thread computes
// it, on any backend, and the host and kernels share the same code.
class CounterRng {
 public:
  enum Stream : std::uint64_t { noise = 1, cosmics = 2, defects = 3, spectra = 4, sky_fibers = 5, sky_lines = 6 };

  KOKKOS_INLINE_FUNCTION static std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  KOKKOS_INLINE_FUNCTION CounterRng(std::uint64_t seed, std::uint64_t stream, std::uint64_t index)
      : m_key(mix(mix(mix(seed) + stream * k_gamma) + index)) {}

  KOKKOS_INLINE_FUNCTION std::uint64_t next() {
    ++m_count;
    return mix(m_key + m_count * k_gamma);
  }
  // Uniform in the open interval (0, 1): 53 random bits, centred in their cell (never 0, never 1).
  KOKKOS_INLINE_FUNCTION double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  // Integer uniform in [0, n), n > 0 (the modulo bias is below 2^-40 for every n used here).
  KOKKOS_INLINE_FUNCTION std::int64_t below(std::int64_t n) {
    return static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(n));
  }
  // Standard normal deviate: Marsaglia's polar method (one of the pair kept; 1.27 pairs of uniforms on
  // average, one log and one sqrt, no trigonometry).
  KOKKOS_INLINE_FUNCTION double normal() {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const double u = 2.0 * uniform() - 1.0, v = 2.0 * uniform() - 1.0;
      const double s = u * u + v * v;
      if (s < 1.0 && s > 0.0) return u * detail::kmath::sqrt(-2.0 * detail::kmath::log(s) / s);
    }
    return 0.0;  // unreachable in practice (each attempt succeeds with probability pi/4)
  }
  // Poisson deviate of mean mu (0 for mu <= 0). Exact algorithms: inversion by sequential search for
  // mu < 10; above, Hoermann's transformed rejection with squeeze (PTRS, 1993), which needs about 1.1
  // pairs of uniforms per deviate. Means beyond 1e12 (never reached by CCD data) use a rounded normal.
  KOKKOS_INLINE_FUNCTION double poisson(double mu);

 private:
  static constexpr std::uint64_t k_gamma = 0x9e3779b97f4a7c15ULL;
  // log(k!) for k >= 0: direct sum for small k, Stirling's series (error < 1e-13) above.
  KOKKOS_INLINE_FUNCTION static double log_factorial(double k);

  std::uint64_t m_key;
  std::uint64_t m_count = 0;
};

KOKKOS_INLINE_FUNCTION double CounterRng::log_factorial(double k) {
  namespace kx = detail::kmath;
  if (k < 20.0) {
    double s = 0.0;
    for (double i = 2.0; i <= k; i += 1.0) s += kx::log(i);
    return s;
  }
  const double x = k + 1.0;
  const double ix = 1.0 / x, ix2 = ix * ix;
  return (x - 0.5) * kx::log(x) - x + 0.91893853320467274178 + ix * (1.0 / 12.0 - ix2 * (1.0 / 360.0 - ix2 / 1260.0));
}

KOKKOS_INLINE_FUNCTION double CounterRng::poisson(double mu) {
  namespace kx = detail::kmath;
  if (!(mu > 0.0)) return 0.0;
  if (mu < 10.0) {
    const double u = uniform();
    double p = kx::exp(-mu), cdf = p;
    double k = 0.0;
    while (u > cdf && k < 1000.0) {
      k += 1.0;
      p *= mu / k;
      cdf += p;
    }
    return k;
  }
  if (mu > 1e12) return kx::floor(mu + kx::sqrt(mu) * normal() + 0.5);
  const double smu = kx::sqrt(mu);
  const double b = 0.931 + 2.53 * smu;
  const double a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2.0);
  const double log_mu = kx::log(mu);
  for (int attempt = 0; attempt < 10000; ++attempt) {
    const double u = uniform() - 0.5;
    const double v = uniform();
    const double us = 0.5 - kx::fabs(u);
    const double k = kx::floor((2.0 * a / us + b) * u + mu + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0.0 || (us < 0.013 && v > us)) continue;
    if (kx::log(v) + kx::log(inv_alpha) - kx::log(a / (us * us) + b) <= -mu + k * log_mu - log_factorial(k)) return k;
  }
  return kx::floor(mu + 0.5);  // unreachable in practice (acceptance is about 0.9 per attempt)
}

// ---------------------------------------------------------------------------------------------------------
// Amplifiers: the CCD's four quadrants, A (rows < npix_y/2, columns < npix_x/2), B (right of A),
// C (above A), D (above B).
KOKKOS_INLINE_FUNCTION int amplifier_of(int y, int x, int npix_y, int npix_x) {
  return (y >= npix_y / 2 ? 2 : 0) + (x >= npix_x / 2 ? 1 : 0);
}

// Bounds of the simulator's inputs. Photons per bin: counts stay exact integers in double (2^53 ~ 9e15) for the
// Poisson draws, and every pixel then fits IMAGE's float32; 1e15 is ~1e10 times a CCD pixel's full well.
// Cosmic-ray hits: each is a row of the truth's DEFECTS table and a few dozen pixels; 100000 is 20 times what
// a long DESI exposure collects on one CCD.
constexpr double max_photons_per_bin = 1e15;
constexpr int max_cosmics = 100000;

struct SimulationOptions {
  std::uint64_t seed = 0;
  int fiber_begin = 0;  // PSF fiber of the first row of the photons
  bool noise = true;    // Poisson + read noise; without it IMAGE is the noiseless model
  std::array<double, 4> readnoise = {3.0, 2.9, 3.2, 3.1};  // electrons rms of amplifiers A, B, C, D
  int ncosmics = 0;                                        // cosmic-ray hits (COSMIC), at most max_cosmics
  bool defects = false;  // a hot column (HOT), a dead column (DEAD) and a 3x3 bad cluster (BAD)
  SpotOptions spots;     // PSF tails or not
  // Spots are evaluated for this many fibers at a time (bounds memory); 0 chooses: 25 on GPUs, and on host
  // backends as many as keep a batch's spots under 24 MB, which the allocator then reuses from batch to
  // batch instead of mapping (and page-faulting) fresh memory each time.
  int fibers_per_batch = 0;
};

enum class DefectKind { Cosmic, HotColumn, DeadColumn, BadCluster };
// "COSMIC", "HOTCOL", "DEADCOL", "BADPIX".
const char* defect_kind_name(DefectKind kind);

struct SimulatedDefect {
  DefectKind kind = DefectKind::Cosmic;
  std::int32_t mask_bit = 0;
  int ymin = 0, ymax = 0, xmin = 0, xmax = 0;  // bounding box of its pixels, inclusive
  int npix = 0;
  double electrons = 0.0;  // electrons added: in total for a cosmic ray, per pixel for a hot column
};

struct SimulatedFrame {
  int npix_y = 0;
  int npix_x = 0;
  DeviceView<double**> model;         // noiseless electrons [npix_y][npix_x]
  DeviceView<double**> image;         // model + Poisson + read noise (+ defects)
  DeviceView<double**> ivar;          // 1 / (readnoise^2 + model); 0 where mask != 0
  DeviceView<std::int32_t**> mask;    // ccd_mask bits
  std::array<double, 4> readnoise{};  // per amplifier, as used
  double photons_in = 0.0;            // sum of the input photons
  double photons_off_ccd = 0.0;       // sum over spots of photons x (spot pixels outside the CCD)
  std::vector<SimulatedDefect> defects;
};

// Adds photons[f][w] x spot(f, w) into `image` for every spot of the cache (fibers fiber_begin ..
// fiber_begin + nfiber of the cache, rows of `photons` in the same order), spot pixels outside the image
// dropped. Deterministic gather: each pixel sums its spots by (fiber, wavelength) in increasing order, so
// the result is bitwise the same for any thread count and any split of the fibers into caches applied in
// fiber order. Returns the photons that fell outside the image (sum over spots, in (fiber, wavelength)
// order on the host).
double project_spots(const ExecSpace& exec, const SpotCache& spots, const DeviceView<const double**>& photons,
                     const DeviceView<double**>& image);
// project_spots without the photons off the image (no copy to the host): the frame pipeline's model image.
void add_spots(const ExecSpace& exec, const SpotCache& spots, const DeviceView<const double**>& photons,
               const DeviceView<double**>& image);

// Simulates a preprocessed CCD frame of psf.npix_y x psf.npix_x pixels. `photons` is [nfiber][nwave]
// electrons per wavelength bin for fibers options.fiber_begin .. + nfiber on `wavelengths` (finite,
// >= 0). Throws perfex::Error (usage) for inconsistent arguments.
SimulatedFrame simulate_frame(const ExecSpace& exec, const GaussHermitePsf& psf, const std::vector<double>& wavelengths,
                              const HostView<const double**>& photons, const SimulationOptions& options);

}  // namespace perfex
