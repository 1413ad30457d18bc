// desispec.specscore.compute_frame_scores for a raw frame (suffix RAW, counts per bin), in the same order of
// operations as numpy so that the values agree to rounding.
#include "perfex/core/frame_scores.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>

#include "perfex/core/error.hpp"

namespace perfex {

namespace {

// numpy.median of a copy: the middle value, or the mean of the two middle values ((a + b) / 2, as numpy.mean
// computes it); NaN when any value is NaN (numpy propagates it).
double median(std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  for (double x : v)
    if (std::isnan(x)) return x;
  const std::size_t n = v.size(), k = n / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  const double hi = v[k];
  if (n % 2 == 1) return hi;
  const double lo = *std::max_element(v.begin(), v.begin() + static_cast<long>(k));
  return (lo + hi) / 2.0;
}

// numpy.gradient with unit spacing and edge_order 1: one-sided differences at the ends, central inside.
std::vector<double> gradient(const std::vector<double>& w) {
  const std::size_t n = w.size();
  std::vector<double> g(n, 0.0);
  if (n < 2) return g;  // numpy refuses fewer than 2 points; a frame always has more
  g[0] = w[1] - w[0];
  g[n - 1] = w[n - 1] - w[n - 2];
  for (std::size_t j = 1; j + 1 < n; ++j) g[j] = (w[j + 1] - w[j - 1]) / 2.0;
  return g;
}

}  // namespace

FrameScores frame_score_band(const std::vector<double>& wavelengths) {
  FrameScores s;
  double mean = 0.0;  // numpy.mean: the sum, then one division
  for (double w : wavelengths) mean += w;
  mean /= static_cast<double>(wavelengths.size());
  if (mean <= 5800.0) {
    s.band = 'b';
    s.wave_lo = 4000.0;
    s.wave_hi = 5800.0;
  } else if (mean >= 7600.0) {
    s.band = 'z';
    s.wave_lo = 7600.0;
    s.wave_hi = 9800.0;
  } else {
    s.band = 'r';
    s.wave_lo = 5800.0;
    s.wave_hi = 7600.0;
  }
  return s;
}

std::optional<FrameScores> raw_frame_scores(const std::vector<double>& wavelengths,
                                            const HostView<const double**>& flux,
                                            const HostView<const double**>& ivar) {
  const std::size_t nspec = flux.extent(0), nwave = flux.extent(1);
  if (wavelengths.size() != nwave || ivar.extent(0) != nspec || ivar.extent(1) != nwave || nwave < 2)
    throw_usage_error("raw_frame_scores: flux, ivar and wavelengths must share one [nspec][nwave] shape (nwave >= 2)");
  FrameScores s = frame_score_band(wavelengths);
  std::vector<std::size_t> bins;
  for (std::size_t j = 0; j < nwave; ++j)
    if (wavelengths[j] >= s.wave_lo && wavelengths[j] < s.wave_hi) bins.push_back(j);
  if (bins.empty()) return std::nullopt;
  const std::vector<double> dwave = gradient(wavelengths);

  const std::string band(1, static_cast<char>(std::toupper(static_cast<unsigned char>(s.band))));
  const std::string range = std::to_string(static_cast<int>(s.wave_lo)) + "," +
                            std::to_string(static_cast<int>(s.wave_hi)) + "A";
  FrameScoreColumn sum{"SUM_RAW_COUNT_" + band, "sum counts in wave. range " + range, {}};
  FrameScoreColumn count{"MEDIAN_RAW_COUNT_" + band, "median counts/A in wave. range " + range, {}};
  FrameScoreColumn snr{"MEDIAN_RAW_SNR_" + band, "median SNR/sqrt(A) in wave. range " + range, {}};
  std::vector<double> per_angstrom(bins.size()), signal_to_noise(bins.size());
  for (std::size_t i = 0; i < nspec; ++i) {
    double total = 0.0;
    for (std::size_t k = 0; k < bins.size(); ++k) {
      const std::size_t j = bins[k];
      const double f = flux(i, j);
      const double iv = ivar(i, j) < 0.0 ? 0.0 : ivar(i, j);  // desispec: ivar[ivar < 0] *= 0
      total += f;
      per_angstrom[k] = f / dwave[j];
      signal_to_noise[k] = std::sqrt(iv) * f / std::sqrt(dwave[j]);
    }
    sum.values.push_back(total);
    count.values.push_back(median(per_angstrom));
    snr.values.push_back(median(signal_to_noise));
  }
  s.columns = {std::move(sum), std::move(count), std::move(snr)};
  return s;
}

}  // namespace perfex
