// Checks of a frame extraction's fibers and grid against the options and the PSF.
#include "perfex/core/frame_request.hpp"

#include <algorithm>
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

void check_fiber_options(int specmin, std::optional<int> nspec, int bundlesize) {
  if (specmin < 0) throw_usage_error("--specmin must be >= 0, got " + text(specmin));
  if (specmin % bundlesize != 0)
    throw_usage_error("--specmin " + text(specmin) + " must be a multiple of --bundlesize " + text(bundlesize) +
                      " (extraction starts at a bundle boundary)");
  if (nspec) {
    if (*nspec < 1) throw_usage_error("--nspec must be >= 1, got " + text(*nspec));
    if (*nspec % bundlesize != 0)
      throw_usage_error("--nspec " + text(*nspec) + " must be a multiple of --bundlesize " + text(bundlesize));
  }
}

int fibers_to_extract(const GaussHermitePsf& psf, const std::string& psf_name, int specmin, std::optional<int> nspec,
                      int bundlesize) {
  if (specmin >= psf.nfiber)
    throw_data_error("--specmin " + text(specmin) + ": " + psf_name + " has fibers 0.." + text(psf.nfiber - 1));
  const int n = nspec.value_or(std::min(500, psf.nfiber - specmin));
  if (!nspec && n % bundlesize != 0)
    throw_data_error(psf_name + " has " + text(psf.nfiber - specmin) + " fibers from --specmin " + text(specmin) +
                     ", not a multiple of --bundlesize " + text(bundlesize) + ": give --nspec");
  if (specmin + n > psf.nfiber)
    throw_data_error("--specmin " + text(specmin) + " --nspec " + text(n) + " asks for fibers " + text(specmin) + ".." +
                     text(specmin + n - 1) + ", " + psf_name + " has fibers 0.." + text(psf.nfiber - 1));
  return n;
}

void check_grid_inside_psf(const std::vector<double>& grid, const GaussHermitePsf& psf, const std::string& psf_name,
                           const std::string& note) {
  const double wlo = psf.wavemin(), whi = psf.wavemax();
  if (grid.front() < wlo || grid.back() > whi)
    throw_data_error("the grid " + fixed2(grid.front()) + ".." + fixed2(grid.back()) + " A" + note +
                     " lies outside the wavelength range " + fixed2(wlo) + ".." + fixed2(whi) + " A of " + psf_name);
}

}  // namespace perfex
