// erf from a Gaussian the caller already holds: erf(x) = sign(x) (1 - exp(-x^2) erfcx(|x|)), with erfcx(x) =
// exp(x^2) erfc(x) from the piecewise polynomials of erfcx_table.hpp. The spot kernel has exp(-x^2) at
// every pixel edge anyway (the Hermite terms need it), so each erf costs one 13-term Horner evaluation
// instead of a libm erf (which computes exp twice itself): about a third of the spot cache's time before.
// Absolute error: erfc(x) times erfcx's relative error plus that of the Gaussian given, below 1e-15 for an
// exact Gaussian (scripts/fit-erfcx.py checks the table; tests/core/test_fast_erf.cpp against std::erf).
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/core/detail/erfcx_table.hpp"

namespace perfex::detail {

// erfcx(x) for x >= 0; x beyond the table (and NaN) is taken as its end, where exp(-x^2) erfcx(x) < 2.2e-17
// (so erf is 1 to double precision whatever the polynomial gives there).
KOKKOS_INLINE_FUNCTION double erfcx_nonnegative(const ErfcxTable& table, double x) {
  constexpr double end = ErfcxTable::pieces;  // in piece widths
  double s = x * ErfcxTable::inverse_width;   // position in piece widths
  s = s < end ? s : end;                      // also maps NaN to the end
  int p = static_cast<int>(s);
  p = p < ErfcxTable::pieces ? p : ErfcxTable::pieces - 1;
  const double t = 2.0 * (s - p) - 1.0;  // local variable in [-1, 1]
  const double* const c = table.coeff[p];
  // Estrin's scheme: a dependency chain of 5 multiply-adds instead of Horner's 12, so the edges of a
  // stamp overlap in the pipeline.
  static_assert(ErfcxTable::terms == 13, "Estrin's scheme below is written for degree 12");
  const double t2 = t * t, t4 = t2 * t2, t8 = t4 * t4;
  const double q0 = (c[0] + c[1] * t) + (c[2] + c[3] * t) * t2;
  const double q1 = (c[4] + c[5] * t) + (c[6] + c[7] * t) * t2;
  const double q2 = (c[8] + c[9] * t) + (c[10] + c[11] * t) * t2;
  return (q0 + q1 * t4) + (q2 + c[12] * t4) * t8;
}

// erf(x) given gaussian = exp(-x^2).
KOKKOS_INLINE_FUNCTION double erf_from_gaussian(const ErfcxTable& table, double x, double gaussian) {
  const double erfc_abs = gaussian * erfcx_nonnegative(table, x < 0.0 ? -x : x);
  return x < 0.0 ? erfc_abs - 1.0 : 1.0 - erfc_abs;
}

}  // namespace perfex::detail
