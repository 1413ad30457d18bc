// DESI specmask bits of an extracted frame (SOMEBADPIX, ALLBADPIX, BAD2DFIT) from its pixmask_fraction
// and chi2pix: file-free, on the host, over the fibers and wavelengths that were extracted.
#pragma once

#include <cstdint>

#include "perfex/core/types.hpp"

namespace perfex {

namespace specmask {
constexpr std::uint32_t somebadpix = 1u << 0;  // more than half of the bin's PSF weight on masked pixels
constexpr std::uint32_t allbadpix = 1u << 1;   // all of it on masked pixels
constexpr std::uint32_t bad2dfit = 1u << 7;    // chi2pix far above its typical value at this fiber and wavelength
}  // namespace specmask

struct FrameMaskOptions {
  double somebadpix_fraction = 0.5;  // SOMEBADPIX where pixmask_fraction > this
  // ALLBADPIX where pixmask_fraction == 1. The fraction is a sum of spot values in another order than the
  // spot's normalisation, so "1" is taken as >= 1 - allbadpix_tolerance (rounding only).
  double allbadpix_tolerance = 1e-12;
  double bad2dfit_factor = 5.0;  // BAD2DFIT where chi2pix > factor x both medians
};

// The specmask of every bin [nspec][nwave]:
// - SOMEBADPIX (bit 0) where pixmask_fraction > 0.5;
// - ALLBADPIX (bit 1) where pixmask_fraction == 1 (to rounding, see FrameMaskOptions);
// - BAD2DFIT (bit 7) where chi2pix > 5 x its median over the fibers at that wavelength AND > 5 x its median
//   over the wavelengths of that fiber. Medians are numpy's (mean of the two middle values for an even
//   count) over every extracted bin, ivar = 0 bins included, so the bit depends on what was extracted.
// ivar == 0 alone sets no bit. Non-finite chi2pix (never produced by perfex) sets BAD2DFIT.
HostView<std::uint32_t**> frame_mask(const HostView<const double**>& pixmask_fraction,
                                     const HostView<const double**>& chi2pix, const FrameMaskOptions& options = {});

// BAD2DFIT also on the bins of patches the solver could not solve (FrameResult::unsolved, ivar 0): the 2D
// extraction fit failed there. `unsolved` may be empty (no bin flagged).
void flag_unsolved(const HostView<const std::uint8_t**>& unsolved, const HostView<std::uint32_t**>& mask);

// numpy.median of `n` values read with a stride (a copy is partially sorted); 0 for n == 0.
double median_of(const double* values, int n, int stride = 1);

}  // namespace perfex
