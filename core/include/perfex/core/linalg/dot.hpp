// The dot product every linalg kernel shares: contiguous operands, a fixed summation order.
#pragma once

#include <Kokkos_Core.hpp>

namespace perfex::linalg {

// Dot product with four partial sums (a fixed order, so results do not depend on the thread count).
KOKKOS_INLINE_FUNCTION double dot(const double* a, const double* b, int n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; ++k) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace perfex::linalg
