// Rational approximations of 1/sqrt(lambda) with real negative poles, for the decorrelation's C^{-1/2}:
//   1/sqrt(lambda) ~= sum_j weight_j / (lambda + shift_j),  weight_j, shift_j > 0,
// with relative error <= `tolerance` for lambda in [1, 2^q], one set of poles per q = 1 .. max_log2_ratio.
// For a spectrum in [a, 2^q a] the poles scale: shift_j a and weight_j sqrt(a).
//
// The poles are the midpoint rule on 1/sqrt(lambda) = (2/pi) int_0^inf dt / (t^2 + lambda) after the
// substitution t = sc(u | 1 - 1/2^q), u in [0, K) (Hale, Higham and Trefethen, SIAM J. Numer. Anal. 46,
// 2008, method 3): the error falls like exp(-2 pi^2 N / ln(16 * 2^q)), so N grows with log(condition),
// 10 poles for a ratio of 16, 64 for 2^47. Computed in long double at build time (the default table) or on
// request (make_inverse_sqrt_poles).
#pragma once

#include <vector>

namespace perfex::linalg {

struct InverseSqrtPoleTable {
  static constexpr int max_log2_ratio = 47;           // spectra wider than 2^47 (condition > 1.4e14) are refused
  static constexpr double default_tolerance = 2e-15;  // about 10 ulp
  double tolerance = 0.0;                             // largest relative error of the sums on their interval
  std::vector<int> first;                             // [q], q = 0 .. max_log2_ratio + 1: poles of ratio 2^q are
                                                      // [first[q], first[q + 1]) (none for q = 0)
  std::vector<double> shift;
  std::vector<double> weight;

  int poles(int q) const { return first[q + 1] - first[q]; }
  int max_poles() const;
};

// The table at default_tolerance, generated at build time (core/src/pole_table_generator.cpp); its vectors
// are filled on first use (thread-safe).
const InverseSqrtPoleTable& inverse_sqrt_poles();

// Builds a table for another tolerance (tests; >= 1e-17).
InverseSqrtPoleTable make_inverse_sqrt_poles(double tolerance);

}  // namespace perfex::linalg
