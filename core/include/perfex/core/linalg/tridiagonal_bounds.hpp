// Where the spectrum of a symmetric tridiagonal matrix T lies, to within powers of two: Sturm counts
// (how many eigenvalues lie below x, from the signs of the LDL^T pivots of T - x I) at x = g 2^-p, with g
// Gershgorin's upper bound, searched on lanes (see lanes.hpp). The count is exact for a matrix within a few
// ulp of T (Kahan), which is all the rational approximation built on the bracket needs: it stays accurate
// a little beyond its interval.
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/backends/host_isa.hpp"
#include "perfex/core/linalg/lanes.hpp"
#include "perfex/core/math.hpp"

namespace perfex::linalg {

// 2^-p for 0 <= p <= 1074, exactly (halvings of 1.0 are exact down to the smallest subnormal).
KOKKOS_INLINE_FUNCTION double exp2_negative(int p) {
  double x = 1.0;
  for (; p >= 32; p -= 32) x *= 2.3283064365386963e-10;  // 2^-32
  for (; p > 0; --p) x *= 0.5;
  return x;
}

// Eigenvalues of T (diagonal d, off-diagonal squares e2[i] = e[i]^2) below x. Pivots smaller than pivmin in
// magnitude are replaced by -pivmin (LAPACK's dlaebz), so no division by zero.
KOKKOS_INLINE_FUNCTION int sturm_count(const double* d, const double* e2, int m, double x, double pivmin) {
  double q = d[0] - x;
  if (math::fabs(q) < pivmin) q = -pivmin;
  int count = q < 0.0 ? 1 : 0;
  for (int i = 1; i < m; ++i) {
    q = (d[i] - x) - e2[i - 1] / q;
    if (math::fabs(q) < pivmin) q = -pivmin;
    count += q < 0.0 ? 1 : 0;
  }
  return count;
}

// Smallest p in [lo, hi] with pred(p) true, for pred false then true as p grows; hi + 1 if none. Each round
// the lanes test one point each, splitting the open bracket in nlanes + 1 parts (bisection on one lane).
// `flags` holds 2 ints per lane (rounds alternate halves, so a lane may start the next round while another
// still reads the last one; a last, empty phase lets every thread finish reading before `flags` is reused).
template <class Lanes, class Pred>
KOKKOS_INLINE_FUNCTION int team_first_true(const Lanes& lanes, int lo, int hi, int* flags, const Pred& pred) {
  int a = lo - 1, b = hi + 1;  // pred(a) false, pred(b) true (virtually)
  const int nl = lanes.count();
  for (int round = 0; b - a > 1; ++round) {
    int* f = flags + (round & 1) * nl;
    const int ra = a, rb = b;
    lanes.phase([&](int lane, int n) {
      const int p = ra + static_cast<int>((static_cast<long>(rb - ra) * (lane + 1)) / (n + 1));
      f[lane] = (p > ra && p < rb) ? (pred(p) ? 1 : 0) : -1;
    });
    for (int l = 0; l < nl; ++l) {
      const int p = ra + static_cast<int>((static_cast<long>(rb - ra) * (l + 1)) / (nl + 1));
      if (f[l] == 1 && p < b) b = p;
      if (f[l] == 0 && p > a) a = p;
    }
  }
  lanes.phase([](int, int) {});  // every thread has read the flags: the caller may reuse them
  return b;
}

// The bracket of T's spectrum: every eigenvalue in [lower, lower * 2^log2_ratio], 1 <= log2_ratio <=
// max_log2_ratio, lower > 0. ok is false where T has a non-finite entry, an eigenvalue <= 0, or a spectrum
// wider than 2^max_log2_ratio.
struct SpectrumBracket {
  bool ok;
  int log2_ratio;
  double lower;
};

// work: m doubles (e^2) and 2 scalars; flags: 2 ints per lane.
template <class Lanes>
PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION SpectrumBracket team_spectrum_bracket(const Lanes& lanes, const double* d,
                                                                                    const double* e, int m,
                                                                                    int max_log2_ratio, double* work,
                                                                                    int* flags) {
  double* e2 = work;
  double* scalars = work + m;  // Gershgorin bound, pivmin (or -1 where an entry is not finite)
  lanes.phase([&](int lane, int) {
    if (lane != 0) return;
    double g = 0.0, e2max = 1.0;
    bool finite = true;
    for (int i = 0; i < m; ++i) {
      const double left = i > 0 ? math::fabs(e[i - 1]) : 0.0;
      const double right = i + 1 < m ? math::fabs(e[i]) : 0.0;
      const double r = d[i] + left + right;
      finite = finite && math::isfinite(r);
      g = r > g ? r : g;
      if (i + 1 < m) {
        e2[i] = e[i] * e[i];
        e2max = e2[i] > e2max ? e2[i] : e2max;
      }
    }
    scalars[0] = g;
    scalars[1] = finite && math::isfinite(e2max) ? 2.2250738585072014e-308 * e2max : -1.0;
  });
  const double g = scalars[0], pivmin = scalars[1];
  if (!(pivmin > 0.0) || !(g > 0.0)) return {false, 0, 0.0};
  const auto x = [&](int p) { return g * exp2_negative(p); };
  // Upper end: the largest h <= 3 with every eigenvalue below g 2^-h (Gershgorin can be ~2x too high).
  const int h = team_first_true(lanes, 1, 3, flags, [&](int p) { return sturm_count(d, e2, m, x(p), pivmin) < m; }) - 1;
  // Lower end: the first power of two below the smallest eigenvalue.
  const int q = team_first_true(lanes, h + 1, h + max_log2_ratio, flags,
                                [&](int p) { return sturm_count(d, e2, m, x(p), pivmin) == 0; });
  if (q > h + max_log2_ratio) return {false, 0, 0.0};
  return {true, q - h, x(q)};
}

}  // namespace perfex::linalg
