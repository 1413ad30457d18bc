// The CCD coverage of a PSF's traces and the default extraction grid.
#include "perfex/core/ccd_coverage.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "perfex/core/error.hpp"
#include "perfex/core/extract_options.hpp"

namespace perfex {

namespace {

// One fiber's on-CCD interval within [lo, hi], or nullopt.
std::optional<std::pair<double, double>> fiber_coverage(const LegendreSeries& ytrace, int fiber, double last_row,
                                                        double lo, double hi) {
  constexpr int samples = 4096;
  auto on_ccd = [&](double wave) {
    const double y = ytrace.evaluate(fiber, wave);
    return y >= 0.0 && y <= last_row;
  };
  auto sample = [&](int i) { return lo + (hi - lo) * static_cast<double>(i) / (samples - 1); };
  int first = -1, last = -1;
  for (int i = 0; i < samples; ++i) {
    if (!on_ccd(sample(i))) continue;
    if (first < 0) first = i;
    last = i;
  }
  if (first < 0) return std::nullopt;
  // Bisection between an on-CCD and an off-CCD wavelength: the boundary, on the on-CCD side.
  auto boundary = [&](double in, double out) {
    for (int it = 0; it < 64; ++it) {
      const double mid = 0.5 * (in + out);
      if (on_ccd(mid))
        in = mid;
      else
        out = mid;
    }
    return in;
  };
  const double a = first == 0 ? lo : boundary(sample(first), sample(first - 1));
  const double b = last == samples - 1 ? hi : boundary(sample(last), sample(last + 1));
  return std::make_pair(a, b);
}

}  // namespace

std::optional<std::pair<double, double>> common_ccd_coverage(const GaussHermitePsf& psf, int fiber_begin, int nfiber) {
  if (fiber_begin < 0 || nfiber < 1 || fiber_begin + nfiber > psf.nfiber)
    throw_usage_error("common_ccd_coverage: fibers " + std::to_string(fiber_begin) + ".." +
                      std::to_string(fiber_begin + nfiber - 1) + " are not in the PSF's 0.." +
                      std::to_string(psf.nfiber - 1));
  double lo = psf.wavemin(), hi = psf.wavemax();
  for (int f = fiber_begin; f < fiber_begin + nfiber; ++f) {
    const auto c = fiber_coverage(psf.ytrace, f, psf.npix_y - 1.0, psf.wavemin(), psf.wavemax());
    if (!c) return std::nullopt;
    lo = std::max(lo, c->first);
    hi = std::min(hi, c->second);
  }
  if (!(lo <= hi)) return std::nullopt;
  return std::make_pair(lo, hi);
}

std::vector<double> default_wavelength_grid(const GaussHermitePsf& psf, double dw) {
  const auto c = common_ccd_coverage(psf, 0, psf.nfiber);
  if (!c)
    throw_data_error("the PSF's fibers share no wavelength range on the CCD (rows 0.." +
                     std::to_string(psf.npix_y - 1) + "): give the grid with -w/--wavelength");
  // Multiples of dw inside the range (a small tolerance so an end that is a multiple is kept).
  const double first = std::ceil(c->first / dw - 1e-9) * dw;
  const double last = std::floor(c->second / dw + 1e-9) * dw;
  if (!(last - first >= dw))
    throw_data_error("the wavelength range every fiber covers on the CCD is too short for a grid of step " +
                     std::to_string(dw) + " A: give the grid with -w/--wavelength");
  return linear_wavelengths(first, last, dw);
}

}  // namespace perfex
