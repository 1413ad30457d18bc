// Comparisons of extracted frames: frame against frame (perfex compare) and frame against the simulation
// truth through each fiber's resolution matrix (perfex pulls).
#pragma once

#include <cstdint>
#include <vector>

#include "perfex/io/frame_io.hpp"

namespace perfex::drivers {

// Fibers [lo, hi) (PSF fiber indices).
struct FiberRange {
  int lo = 0;
  int hi = 0;
};

struct FrameComparison {
  FiberRange fibers;  // the fibers compared: common to both frames (and within the requested range)
  long bins = 0;      // fibers x wavelengths compared
  // |dflux| / sqrt(1/ivar_a + 1/ivar_b) over the bins good in both (ivar > 0, chi2pix < 100, no SOMEBADPIX).
  std::vector<double> pulls;
  double max_relative_divar = 0;  // |ivar_a - ivar_b| / max(ivar_a, ivar_b) over the good bins
  double max_dresolution = 0;     // over all bins and the diagonals both have
  double max_dchi2pix = 0;
  double max_dpixmask = 0;  // when both frames have PIXMASK_FRACTION
  long ivar_zero_both = 0;
  long ivar_zero_one = 0;          // ivar 0 in one frame only
  long mask_differ = 0;            // bins whose masks differ
  long bit_differ[3] = {0, 0, 0};  // SOMEBADPIX, ALLBADPIX, BAD2DFIT
};

// Throws perfex::Error (data) when the grids differ or the frames share no fiber within `range` (when given).
FrameComparison compare_frames(const io::Frame& a, const io::Frame& b, const FiberRange* range = nullptr);

// numpy's default percentile (linear interpolation between closest ranks); 0 for no values.
double percentile(std::vector<double> values, double q);

struct TruthPulls {
  std::vector<double> pulls;  // (flux - R truth) sqrt(ivar)
  int fibers = 0;
  bool grids_matched = true;  // every frame bin inside the truth's grid coincides with a truth bin
  double mean = 0;
  double sd = 0;  // population standard deviation
};

// R truth for fiber `fiber` of `frame` on its bins, truth flux per Angstrom on the frame's observed-frame
// grid (WAVELENGTH / HELIOCOR): photons / bin width where the grids coincide, else the truth's flux
// density interpolated. NaN where it is incomplete (within NDIAG bins of the ends, or beyond the truth's grid).
std::vector<double> convolved_truth(const io::Frame& frame, const io::TruthSpectra& truth, int fiber,
                                    bool* grids_matched = nullptr);

// Pulls over the bins with ivar > 0, no SOMEBADPIX and a complete R truth. Throws perfex::Error (data) when
// the truth lacks a fiber of the frame (within `range`, when given), or when no bin qualifies (grids that do
// not overlap, everything masked): the message counts the bins each condition leaves.
TruthPulls truth_pulls(const io::Frame& frame, const io::TruthSpectra& truth, const FiberRange* range = nullptr);

}  // namespace perfex::drivers
