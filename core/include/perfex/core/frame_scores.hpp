// The SCORES of a raw frame as DESI's extraction appends them: desispec.specscore.compute_and_append_frame_scores
// (frame, suffix='RAW'), i.e. compute_frame_scores with flux_per_angstrom=False, in desispec 0.70.0's arithmetic.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "perfex/core/types.hpp"

namespace perfex {

struct FrameScoreColumn {
  std::string name;            // e.g. SUM_RAW_COUNT_R
  std::string comment;         // desispec's comment, kept on the column's TTYPEn card
  std::vector<double> values;  // one per spectrum
};

struct FrameScores {
  char band = 'r';                        // b, r or z: desispec's choice from the mean wavelength
  double wave_lo = 0, wave_hi = 0;        // the band's top-hat range [lo, hi) in Angstrom
  std::vector<FrameScoreColumn> columns;  // SUM_RAW_COUNT_X, MEDIAN_RAW_COUNT_X, MEDIAN_RAW_SNR_X
};

// desispec's band of a frame: b when the mean wavelength is <= 5800 A, z when it is >= 7600 A, else r; its
// top-hat range: b 4000..5800, r 5800..7600, z 7600..9800 (lower bound included, upper excluded).
FrameScores frame_score_band(const std::vector<double>& wavelengths);

// The three scores per spectrum, from the frame's wavelengths and its flux and ivar *as the file stores them*
// (pass float32-rounded values to match what desispec computes on the frame it reads):
//   SUM_RAW_COUNT_X    = sum of flux over the band's bins (summed bin by bin, as numpy sums a 2D array's rows),
//   MEDIAN_RAW_COUNT_X = median of flux / dwave,
//   MEDIAN_RAW_SNR_X   = median of sqrt(ivar) * flux / sqrt(dwave),
// with dwave = numpy.gradient(wavelengths) and negative ivar counted as 0. nullopt when no wavelength lies in
// the band's range (desispec raises ValueError there). Shapes: flux and ivar [nspec][nwave].
std::optional<FrameScores> raw_frame_scores(const std::vector<double>& wavelengths,
                                            const HostView<const double**>& flux, const HostView<const double**>& ivar);

}  // namespace perfex
