// The fibers and the grid a frame extraction asks for, checked against the options and the PSF with
// perfex extract's rules and messages: shared by the program and the Python module.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "perfex/core/psf.hpp"

namespace perfex {

// --specmin and --nspec before any file is read: usage errors (--specmin < 0, --nspec < 1). Any first fiber and
// count are accepted: the bundles of bundlesize fibers at either end may be partial.
void check_fiber_options(int specmin, std::optional<int> nspec, int bundlesize);

// The fibers to extract from the PSF `psf_name`: nspec, or by default 500 or the PSF's fibers from specmin;
// data errors when the PSF lacks them.
int fibers_to_extract(const GaussHermitePsf& psf, const std::string& psf_name, int specmin, std::optional<int> nspec,
                      int bundlesize);

// The extraction grid must lie inside the PSF's wavelength range (GaussHermitePsf::wavemin/wavemax), its bins
// at most half a bin beyond it (numpy.arange's last bin may exceed wmax by up to dw/2); `note` follows the grid
// in the message. A data error naming `psf_name`, saying whether the grid lies outside the range or extends
// beyond it, and by how much, otherwise.
void check_grid_inside_psf(const std::vector<double>& grid, const GaussHermitePsf& psf, const std::string& psf_name,
                           const std::string& note = "");

}  // namespace perfex
