// The fibers and the grid a frame extraction asks for, checked against the options and the PSF with
// perfex extract's rules and messages: shared by the program and the Python module.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "perfex/core/psf.hpp"

namespace perfex {

// --specmin and --nspec before any file is read: usage errors (negative, not multiples of bundlesize).
void check_fiber_options(int specmin, std::optional<int> nspec, int bundlesize);

// The fibers to extract from the PSF `psf_name`: nspec, or by default 500 or the PSF's fibers from specmin
// (a multiple of bundlesize); data errors when the PSF lacks them.
int fibers_to_extract(const GaussHermitePsf& psf, const std::string& psf_name, int specmin, std::optional<int> nspec,
                      int bundlesize);

// The extraction grid must lie inside the PSF's wavelength range (`note` follows the grid in the message);
// data error naming `psf_name` otherwise.
void check_grid_inside_psf(const std::vector<double>& grid, const GaussHermitePsf& psf, const std::string& psf_name,
                           const std::string& note = "");

}  // namespace perfex
