// Tests of the spot kernel's erf (detail/fast_erf.hpp: erfcx pieces times a given Gaussian) against
// std::erf: fresh random arguments over the whole useful range, piece boundaries, the clamp beyond the
// table, symmetry and NaN.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "perfex/core/detail/fast_erf.hpp"

namespace {

double fast_erf(double x) {
  return perfex::detail::erf_from_gaussian(perfex::detail::k_erfcx_table, x, std::exp(-x * x));
}

// The table is good to ~7e-16 (scripts/fit-erfcx.py); the bound leaves room for libm's own rounding.
constexpr double k_bound = 2e-15;

}  // namespace

TEST_CASE("fast erf agrees with std::erf on fresh random arguments", "[spots][erf]") {
  std::random_device seed_source;
  const unsigned seed = seed_source();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> wide(-9.0, 9.0), narrow(-1.0, 1.0);
  double worst = 0.0;
  for (int i = 0; i < 200000; ++i) {
    const double x = i % 2 ? wide(rng) : narrow(rng);
    worst = std::max(worst, std::fabs(fast_erf(x) - std::erf(x)));
  }
  INFO("worst absolute error " << worst);
  CHECK(worst < k_bound);
}

TEST_CASE("fast erf at piece boundaries, zero, the table's end and beyond", "[spots][erf]") {
  const double width = 1.0 / perfex::detail::ErfcxTable::inverse_width;
  for (int p = 0; p <= perfex::detail::ErfcxTable::pieces; ++p) {
    const double edge = p * width;
    for (double x : {std::nextafter(edge, -1.0), edge, std::nextafter(edge, 100.0)}) {
      INFO("x = " << x);
      CHECK(std::fabs(fast_erf(x) - std::erf(x)) < k_bound);
      CHECK(std::fabs(fast_erf(-x) - std::erf(-x)) < k_bound);
    }
  }
  CHECK(std::fabs(fast_erf(0.0)) < k_bound);  // 1 - erfcx(0) in rounding: not exactly 0
  CHECK(fast_erf(50.0) == 1.0);
  CHECK(fast_erf(-50.0) == -1.0);
  CHECK(fast_erf(std::numeric_limits<double>::infinity()) == 1.0);
  CHECK(std::isnan(fast_erf(std::numeric_limits<double>::quiet_NaN())));
}

TEST_CASE("fast erf is odd away from 0", "[spots][erf]") {
  for (double x = 0.0371; x < 8.0; x += 0.0371) CHECK(fast_erf(-x) == -fast_erf(x));
}
