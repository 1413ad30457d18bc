// Where a PSF's traces lie on the CCD: the wavelength range every fiber covers, and the default
// extraction grid derived from it.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "perfex/core/psf.hpp"

namespace perfex {

// The wavelength interval, within the PSF's domain, over which the trace centre y(lambda) of every fiber
// of [fiber_begin, fiber_begin + nfiber) lies on CCD rows [0, npix_y - 1]; nullopt when the fibers share no
// such interval. Each fiber's interval runs from its first to its last on-CCD sample of a fine grid, refined
// by bisection (traces are monotonic in every real PSF).
std::optional<std::pair<double, double>> common_ccd_coverage(const GaussHermitePsf& psf, int fiber_begin, int nfiber);

// perfex extract's default grid: the multiples of `dw` inside the range every fiber of the PSF covers on the
// CCD (DESI's grids are multiples of 0.8 A). Throws perfex::Error (data) when that range holds fewer than
// two bins.
std::vector<double> default_wavelength_grid(const GaussHermitePsf& psf, double dw = 0.8);

}  // namespace perfex
