// The pole table of perfex/core/linalg/inverse_sqrt_poles.hpp: Jacobi elliptic functions from theta
// series, in long double, and the number of poles per ratio chosen by the measured error.
#include "perfex/core/linalg/inverse_sqrt_poles.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace perfex::linalg {

namespace {

using real = long double;
constexpr real pi = 3.141592653589793238462643383279502884L;

// Complete elliptic integral K(m) = pi / (2 AGM(1, sqrt(1 - m))), from m1 = 1 - m (so that m close to 1
// keeps its precision).
real elliptic_k(real m1) {
  real a = 1.0L, b = std::sqrt(m1);
  for (int it = 0; it < 64 && std::fabs(a - b) > 1e-19L * a; ++it) {
    const real an = 0.5L * (a + b);
    b = std::sqrt(a * b);
    a = an;
  }
  return pi / (2.0L * a);
}

// sc(u | m) and dn(u | m) / cn^2(u | m) for 0 <= u <= K / 2, by Jacobi's imaginary transformation
// (sc(u | m) = -i sn(iu | 1 - m), dn / cn^2 (u | m) = dn(iu | 1 - m) cn(iu | 1 - m)) and the theta series of
// the complementary nome q' = exp(-pi K / K'). Every series is a sum of hyperbolic functions whose terms
// fall like q'^{n^2} (q' <= e^{-pi}); on u <= K/2 nothing cancels, unlike cos(am(u)) from the AGM, which
// loses ~1e-14 of cn near K/2 when m is within 2^-40 of 1.
struct EllipticNode {
  real sc;
  real dn_over_cn2;
};
EllipticNode elliptic_node(real u, real kk, real kkp) {
  const real ratio = pi * kk / kkp;      // q' = exp(-ratio)
  const real y = pi * u / (2.0L * kkp);  // the imaginary transformation's argument
  // theta_{1,2}(iy) / (2 q'^{1/4}) = sum (+-)^n q'^{n(n+1)} {sinh, cosh}((2n+1) y); theta_{3,4}(iy) =
  // 1 + 2 sum (+-)^n q'^{n^2} cosh(2 n y); theta_k(0) likewise at y = 0.
  real s1 = 0.0L, s2 = 0.0L, s2_0 = 0.0L, s3 = 1.0L, s4 = 1.0L, s3_0 = 1.0L, s4_0 = 1.0L;
  for (int n = 0; n < 12; ++n) {
    const real a = std::exp(-ratio * n * (n + 1));
    const real sign = (n % 2 == 0) ? 1.0L : -1.0L;
    s1 += sign * a * std::sinh((2 * n + 1) * y);
    s2 += a * std::cosh((2 * n + 1) * y);
    s2_0 += a;
    if (n >= 1) {
      const real b = 2.0L * std::exp(-ratio * n * n);
      s3 += b * std::cosh(2 * n * y);
      s4 += sign * b * std::cosh(2 * n * y);
      s3_0 += b;
      s4_0 += sign * b;
    }
  }
  EllipticNode node;
  node.sc = s3_0 * s1 / (s2_0 * s4);
  node.dn_over_cn2 = s4_0 * s4_0 * s2 * s3 / (s2_0 * s3_0 * s4 * s4);
  return node;
}

// The N-point rule for [1, 2^q]: shifts sc^2(u_j) and weights (2K / (pi N)) dn(u_j) / cn^2(u_j) at the
// midpoints u_j = (j - 1/2) K / N. Nodes beyond K/2 come from their mirror v = K - u: sc^2(u) =
// 1 / (k'^2 sc^2(v)) and dn(u) / cn^2(u) = (dn / cn^2)(v) / (k' sc^2(v)).
void rule(int q, int n, std::vector<real>& shift, std::vector<real>& weight) {
  const real m1 = std::ldexp(1.0L, -q);
  const real kp = std::sqrt(m1);
  const real kk = elliptic_k(m1);          // K(1 - 2^-q)
  const real kkp = elliptic_k(1.0L - m1);  // K'(1 - 2^-q) = K(2^-q)
  shift.assign(n, 0.0L);
  weight.assign(n, 0.0L);
  for (int j = 0; j < n; ++j) {
    const bool direct = 2 * j + 1 <= n;
    const real u = ((direct ? j : n - 1 - j) + 0.5L) * kk / n;
    const EllipticNode e = elliptic_node(u, kk, kkp);
    const real scale = 2.0L * kk / (pi * n);
    if (direct) {
      shift[j] = e.sc * e.sc;
      weight[j] = scale * e.dn_over_cn2;
    } else {
      shift[j] = 1.0L / (m1 * e.sc * e.sc);
      weight[j] = scale * e.dn_over_cn2 / (kp * e.sc * e.sc);
    }
  }
}

// Largest relative error of the rule (rounded to double, as the kernels use it) on [1, 2^q], sampled at
// 32 points per pole, log-spaced, end points included (the error oscillates about N times over the range).
real rule_error(int q, const std::vector<real>& shift, const std::vector<real>& weight) {
  const int n = static_cast<int>(shift.size());
  const int npts = 32 * n + 1;
  const real range = q * std::log(2.0L);
  real worst = 0.0L;
  for (int t = 0; t <= npts; ++t) {
    const real lambda = std::exp(range * t / npts);
    real r = 0.0L;
    for (int j = 0; j < n; ++j)
      r += static_cast<real>(static_cast<double>(weight[j])) /
           (lambda + static_cast<real>(static_cast<double>(shift[j])));
    worst = std::max(worst, std::fabs(r * std::sqrt(lambda) - 1.0L));
  }
  return worst;
}

}  // namespace

int InverseSqrtPoleTable::max_poles() const {
  int most = 0;
  for (int q = 0; q <= max_log2_ratio; ++q) most = std::max(most, poles(q));
  return most;
}

InverseSqrtPoleTable make_inverse_sqrt_poles(double tolerance) {
  if (!(tolerance >= 1e-17)) throw std::invalid_argument("make_inverse_sqrt_poles: tolerance below 1e-17");
  InverseSqrtPoleTable table;
  table.tolerance = tolerance;
  table.first.assign(InverseSqrtPoleTable::max_log2_ratio + 2, 0);
  std::vector<real> shift, weight;
  int n = 1;
  for (int q = 1; q <= InverseSqrtPoleTable::max_log2_ratio; ++q) {
    table.first[q] = static_cast<int>(table.shift.size());
    // The number of poles never decreases with the ratio: start from the previous one.
    for (;; ++n) {
      if (n > 200) throw std::runtime_error("make_inverse_sqrt_poles: no rule reaches the tolerance");
      rule(q, n, shift, weight);
      if (rule_error(q, shift, weight) <= tolerance) break;
    }
    for (int j = 0; j < n; ++j) {
      table.shift.push_back(static_cast<double>(shift[j]));
      table.weight.push_back(static_cast<double>(weight[j]));
    }
  }
  table.first[InverseSqrtPoleTable::max_log2_ratio + 1] = static_cast<int>(table.shift.size());
  return table;
}

}  // namespace perfex::linalg
