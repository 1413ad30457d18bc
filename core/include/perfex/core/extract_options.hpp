// Extraction parameters with desispec's names and defaults, and the wavelength-grid rules derived from them.
#pragma once

#include <vector>

namespace perfex {

// The largest --regularize (alpha; extract_options.cpp says why).
constexpr double max_regularize = 1e8;

struct ExtractionOptions {
  int bundlesize = 25;        // fibers per bundle; bundles never couple
  int nsubbundles = 5;        // subbundles per bundle, split as specter splits them (sizes may differ by one)
  int nwavestep = 50;         // core wavelength bins per patch
  double wavepad_frac = 0.2;  // wavelength padding: 10 + int(10 wavepad_frac) bins on each side
  double pixpad_frac = 0.8;   // fraction of the pixel padding kept around the core rows
  double regularize = 0.0;    // alpha for bins above the fluxweight floor, in 0..max_regularize
  double psferr = 0.01;       // fractional PSF model error used in chi2pix
  int ndiag = 5;              // resolution half-width (HSIZEY): 2 ndiag + 1 diagonals are written
  // The padding chosen for a PSF and grid by wavelength_padding() (core/patch_plan.hpp), which front ends set
  // before extracting; 0: the reference's rule alone.
  int wavepad_bins = 0;

  // Number of padding bins below the requested grid (the references' `wavepad`, or wavepad_bins when set).
  int wavepad() const { return wavepad_bins > 0 ? wavepad_bins : reference_wavepad(); }
  // gpu_specter's rule: 10 + int(10 wavepad_frac) bins (12 by default).
  int reference_wavepad() const { return 10 + static_cast<int>(10 * wavepad_frac); }
  // Bins solved per patch: the core plus padding on both sides.
  int patch_nwave() const { return nwavestep + 2 * wavepad(); }
  // The most core fibers a patch has: specter's split gives subbundles of ceil(bundlesize / nsubbundles) or
  // one fewer, and partial bundles no more (the plan's max_ncore_fiber is the exact figure).
  int fibers_per_subbundle() const { return (bundlesize + nsubbundles - 1) / nsubbundles; }
  // Throws perfex::Error (usage) naming the offending option.
  void validate() const;
};

// The padded grid the spots must be evaluated on: `wavepad` bins below the requested grid and
// `wavepad + nwavestep` above, with the grid's own step (the references' `fullwave`).
// The requested grid must be linear (uniform step); throws perfex::Error otherwise.
std::vector<double> padded_wavelengths(const std::vector<double>& wavelengths, const ExtractionOptions& options);

// numpy.gradient of the grid (central differences inside, one-sided at the ends): the bin widths used to
// convert flux per bin into flux per Angstrom.
std::vector<double> wavelength_gradient(const std::vector<double>& wavelengths);

// The references' grid: arange(wmin, wmax + dw/2, dw).
std::vector<double> linear_wavelengths(double wmin, double wmax, double dw);

}  // namespace perfex
