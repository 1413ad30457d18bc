// The specmask bits of an extracted frame from pixmask_fraction and chi2pix (host, O(nspec nwave log)).
#include "perfex/core/frame_mask.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "perfex/core/error.hpp"

namespace perfex {

double median_of(const double* values, int n, int stride) {
  if (n <= 0) return 0.0;
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = values[static_cast<std::size_t>(i) * stride];
  // NaN sorts last, as in numpy (whose median is NaN if any value is NaN; perfex never produces one).
  auto less = [](double a, double b) { return a < b || (!std::isnan(a) && std::isnan(b)); };
  const auto mid = v.begin() + n / 2;
  std::nth_element(v.begin(), mid, v.end(), less);
  const double upper = *mid;
  if (n % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), mid, less);
  return 0.5 * (lower + upper);
}

HostView<std::uint32_t**> frame_mask(const HostView<const double**>& pixmask_fraction,
                                     const HostView<const double**>& chi2pix, const FrameMaskOptions& options) {
  const int nspec = static_cast<int>(pixmask_fraction.extent(0));
  const int nwave = static_cast<int>(pixmask_fraction.extent(1));
  if (chi2pix.extent(0) != pixmask_fraction.extent(0) || chi2pix.extent(1) != pixmask_fraction.extent(1))
    throw_usage_error("frame_mask: chi2pix is " + std::to_string(chi2pix.extent(0)) + " x " +
                      std::to_string(chi2pix.extent(1)) + ", pixmask_fraction " + std::to_string(nspec) + " x " +
                      std::to_string(nwave));
  HostView<std::uint32_t**> mask("perfex::frame::mask", nspec, nwave);
  if (nspec == 0 || nwave == 0) return mask;

  // Medians over fibers (one per wavelength) and over wavelengths (one per fiber). Views are LayoutRight.
  std::vector<double> by_wave(static_cast<std::size_t>(nwave)), by_fiber(static_cast<std::size_t>(nspec));
  const double* c = chi2pix.data();
  for (int j = 0; j < nwave; ++j) by_wave[j] = median_of(c + j, nspec, nwave);
  for (int i = 0; i < nspec; ++i) by_fiber[i] = median_of(c + static_cast<std::size_t>(i) * nwave, nwave, 1);

  const double all_bad = 1.0 - options.allbadpix_tolerance;
  const double k = options.bad2dfit_factor;
  for (int i = 0; i < nspec; ++i)
    for (int j = 0; j < nwave; ++j) {
      std::uint32_t bits = 0;
      const double f = pixmask_fraction(i, j);
      if (f > options.somebadpix_fraction) bits |= specmask::somebadpix;
      if (f >= all_bad) bits |= specmask::allbadpix;
      const double x = chi2pix(i, j);
      if (!std::isfinite(x) || (x > k * by_wave[j] && x > k * by_fiber[i])) bits |= specmask::bad2dfit;
      mask(i, j) = bits;
    }
  return mask;
}

void flag_unsolved(const HostView<const std::uint8_t**>& unsolved, const HostView<std::uint32_t**>& mask) {
  if (unsolved.extent(0) == 0) return;
  if (unsolved.extent(0) != mask.extent(0) || unsolved.extent(1) != mask.extent(1))
    throw_usage_error("flag_unsolved: unsolved is " + std::to_string(unsolved.extent(0)) + " x " +
                      std::to_string(unsolved.extent(1)) + ", the mask " + std::to_string(mask.extent(0)) + " x " +
                      std::to_string(mask.extent(1)));
  for (std::size_t i = 0; i < mask.extent(0); ++i)
    for (std::size_t j = 0; j < mask.extent(1); ++j)
      if (unsolved(i, j)) mask(i, j) |= specmask::bad2dfit;
}

}  // namespace perfex
