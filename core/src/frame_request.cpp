// Checks of a frame extraction's fibers and grid against the options and the PSF.
#include "perfex/core/frame_request.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "perfex/core/error.hpp"

namespace perfex {

namespace {

std::string text(int v) { return std::to_string(v); }

std::string fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

// Any first fiber and count: the bundles of --bundlesize fibers at either end may be partial (plan_patches
// clips DESI's bundles to the requested fibers, as desispec's extraction does).
void check_fiber_options(int specmin, std::optional<int> nspec, int /*bundlesize*/) {
  if (specmin < 0) throw_usage_error("--specmin must be >= 0, got " + text(specmin));
  if (nspec && *nspec < 1) throw_usage_error("--nspec must be >= 1, got " + text(*nspec));
}

int fibers_to_extract(const GaussHermitePsf& psf, const std::string& psf_name, int specmin, std::optional<int> nspec,
                      int /*bundlesize*/) {
  if (specmin >= psf.nfiber)
    throw_data_error("--specmin " + text(specmin) + ": " + psf_name + " has fibers 0.." + text(psf.nfiber - 1));
  const int n = nspec.value_or(std::min(500, psf.nfiber - specmin));
  if (specmin + n > psf.nfiber)
    throw_data_error("--specmin " + text(specmin) + " --nspec " + text(n) + " asks for fibers " + text(specmin) + ".." +
                     text(specmin + n - 1) + ", " + psf_name + " has fibers 0.." + text(psf.nfiber - 1));
  return n;
}

void check_grid_inside_psf(const std::vector<double>& grid, const GaussHermitePsf& psf, const std::string& psf_name,
                           const std::string& note) {
  const double wlo = psf.wavemin(), whi = psf.wavemax();
  // numpy.arange(wmin, wmax + dw/2, dw) ends up to half a bin beyond wmax (wmax off the step, or the last
  // bin's rounding): bins within half a bin of the PSF's range are accepted (the series extrapolate smoothly
  // there, as they do for the padding bins anyway).
  const double half = grid.size() > 1 ? 0.5 * std::fabs(grid[1] - grid[0]) : 0.0;
  const double below = wlo - half - grid.front(), above = grid.back() - (whi + half);
  if (!(below > 0.0 || above > 0.0)) return;
  const std::string what = "the grid " + fixed2(grid.front()) + ".." + fixed2(grid.back()) + " A" + note;
  const std::string range = "the wavelength range " + fixed2(wlo) + ".." + fixed2(whi) + " A of " + psf_name;
  if (grid.back() < wlo || grid.front() > whi) throw_data_error(what + " lies outside " + range);
  std::string by;
  if (below > 0.0) by = "starts " + fixed2(wlo - grid.front()) + " A below it";
  if (above > 0.0) by += (by.empty() ? "" : " and ") + std::string("ends ") + fixed2(grid.back() - whi) + " A above it";
  throw_data_error(what + " extends beyond " + range + ": it " + by +
                   " (bins may lie at most half a bin beyond the range)");
}

}  // namespace perfex
