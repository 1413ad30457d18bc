// The input pixels extraction can use. Besides masked pixels, a pixel counts as masked (weight 0) when its
// value or inverse variance is not finite, the inverse variance is negative, or either is so large that the
// arithmetic of the extraction would overflow or lose every digit:
//  - |value| > 1e10 electrons: 10^5 times the full well of a DESI CCD pixel (~2e5 e-), so no real pixel, cosmic
//    ray or saturated one, comes near; below it, the products the solver forms stay far inside float32's range
//    (ivar x value^2 <= 1e30 for chi2pix, fluxes of ~1e10), so every value the frame's float32 HDUs hold is finite;
//  - ivar > 1e10 (a standard deviation below 1e-5 e-, 10^5 times below any read noise): a heavier pixel makes the
//    patch's normal matrix iCov so ill-conditioned (its weight over a typical 0.1 exceeds 1e11, against double's
//    1/eps of 4.5e15) that the factorisation of the patch loses its digits or fails.
// A frame of two pixels at +-1e30 with normal weights would otherwise give fluxes of 1e30 across a patch.
// io's preproc reader and core's upload_image (the images Python hands over) apply it.
#pragma once

#include "perfex/core/math.hpp"

namespace perfex {

constexpr double max_pixel_value = 1e10;  // electrons
constexpr double max_pixel_ivar = 1e10;   // 1 / electrons^2

// Whether extraction uses a pixel of `value` and inverse variance `ivar` (mask bits apart).
KOKKOS_INLINE_FUNCTION bool usable_pixel(double value, double ivar) {
  return math::isfinite(value) && math::isfinite(ivar) && ivar >= 0.0 && math::fabs(value) <= max_pixel_value &&
         ivar <= max_pixel_ivar;
}

}  // namespace perfex
