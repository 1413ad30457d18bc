// Serial (one thread) eigen-decomposition of a small dense symmetric matrix: Householder reduction to
// tridiagonal form, then the implicit QL iteration with Wilkinson-type shifts. Kokkos-Kernels 3.4.1 has
// no batched symmetric eigensolver (its Eigendecomposition is for general matrices), hence our own.
// The decorrelation no longer uses it (block_inverse_sqrt.hpp needs no eigenvectors); the tests use it as
// the dense reference for C^{-1/2}.
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/core/linalg/dot.hpp"
#include "perfex/core/math.hpp"

namespace perfex::linalg {

// Implicit QL on the symmetric tridiagonal (d, e), e[i] coupling d[i] and d[i+1] (e[m-1] = 0). With
// vt != nullptr the rotations are applied to the rows of vt. Wilkinson-type shifts. (Perfect shifts from
// a vector-free first pass were tried: they cut the rotations by only ~27% here and cost a second pass.)
// Returns 0, or 1 if an eigenvalue needed more than 60 sweeps.
KOKKOS_INLINE_FUNCTION int tridiagonal_ql(double* d, double* e, int m, double* vt) {
  constexpr double eps = 2.220446049250313e-16;
  for (int l = 0; l < m; ++l) {
    int iter = 0;
    while (true) {
      int mm = l;
      for (; mm < m - 1; ++mm) {
        const double dd = math::fabs(d[mm]) + math::fabs(d[mm + 1]);
        if (math::fabs(e[mm]) <= eps * dd) break;
      }
      if (mm == l) break;
      if (++iter > 60) return 1;
      double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
      double r = math::sqrt(g * g + 1.0);
      g = d[mm] - d[l] + e[l] / (g + (g >= 0.0 ? r : -r));
      double s = 1.0, c = 1.0, p = 0.0;
      bool deflated = false;
      for (int i = mm - 1; i >= l; --i) {
        double f = s * e[i];
        const double b = c * e[i];
        r = math::sqrt(f * f + g * g);
        e[i + 1] = r;
        if (r == 0.0) {  // underflow: the matrix splits here
          d[i + 1] -= p;
          e[mm] = 0.0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2.0 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (vt != nullptr) {
          double* vi = vt + i * m;
          double* vi1 = vt + (i + 1) * m;
          for (int k = 0; k < m; ++k) {
            const double t = vi1[k];
            vi1[k] = s * vi[k] + c * t;
            vi[k] = c * vi[k] - s * t;
          }
        }
      }
      if (deflated) continue;
      d[l] -= p;
      e[l] = g;
      e[mm] = 0.0;
    }
  }
  return 0;
}

// a: m x m symmetric, row-major (both triangles), destroyed. On return d[i] holds the eigenvalues and row
// i of vt (m x m, row-major) the matching unit eigenvector: A = sum_i d[i] vt[i]^T vt[i].
// work: 2 m doubles; e: m doubles. Returns 0, or 1 if the QL iteration did not converge.
// Every inner loop runs over a contiguous row (dot products and axpys), so it vectorises.
KOKKOS_INLINE_FUNCTION int symmetric_eigen(double* a, int m, double* d, double* e, double* vt, double* work) {
  double* w = work;         // p, then w = p - K v
  double* beta = work + m;  // Householder scale of step k
  // Householder reduction to tridiagonal form: step k reflects a[k+1.., k] onto its first element with
  // H_k = I - beta_k v v^T; v is kept in column k below the subdiagonal and mirrored in row k.
  for (int k = 0; k + 2 < m; ++k) {
    double* vk = a + k * m;  // row k: vk[i] = a(k, i) = a(i, k), i > k (symmetric storage)
    double norm2 = 0.0;
    for (int i = k + 1; i < m; ++i) norm2 += vk[i] * vk[i];
    beta[k] = 0.0;
    if (norm2 == 0.0) continue;
    const double x0 = vk[k + 1];
    const double alpha = x0 >= 0.0 ? -math::sqrt(norm2) : math::sqrt(norm2);
    const double vnorm2 = norm2 - x0 * x0 + (x0 - alpha) * (x0 - alpha);
    if (vnorm2 == 0.0) continue;
    vk[k + 1] = x0 - alpha;  // v = x - alpha e1
    const double b = 2.0 / vnorm2;
    beta[k] = b;
    // p = b S v over the trailing block S = a[k+1.., k+1..]
    for (int i = k + 1; i < m; ++i) w[i] = b * dot(a + i * m + k + 1, vk + k + 1, m - k - 1);
    const double kk = 0.5 * b * dot(w + k + 1, vk + k + 1, m - k - 1);
    for (int i = k + 1; i < m; ++i) w[i] -= kk * vk[i];
    // S -= v w^T + w v^T, row by row over the whole trailing square (keeps both triangles).
    for (int i = k + 1; i < m; ++i) {
      const double vi = vk[i], wi = w[i];
      double* row = a + i * m;
      for (int j = k + 1; j < m; ++j) row[j] -= vi * w[j] + wi * vk[j];
    }
    d[k] = alpha;  // subdiagonal element (k+1, k) of T, kept until v is no longer needed
  }
  // vt = Q^T with Q = H_0 H_1 ... H_{m-3}, accumulated backwards (each step touches the trailing block
  // only): Y <- Y H_k row by row, Y[i][k+1..] -= beta_k (Y[i][k+1..] . v) v.
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) vt[i * m + j] = (i == j) ? 1.0 : 0.0;
  for (int k = m - 3; k >= 0; --k) {
    if (beta[k] == 0.0) continue;
    const double* v = a + k * m;
    for (int i = k + 1; i < m; ++i) {
      double* row = vt + i * m;
      const double t = beta[k] * dot(row + k + 1, v + k + 1, m - k - 1);
      for (int j = k + 1; j < m; ++j) row[j] -= t * v[j];
    }
  }
  // T: diagonal from a, subdiagonal from the reflections (or a itself where no reflection was needed).
  for (int i = 0; i + 1 < m; ++i) e[i] = (i + 2 < m && beta[i] != 0.0) ? d[i] : a[(i + 1) * m + i];
  for (int i = 0; i < m; ++i) d[i] = a[i * m + i];
  if (m > 0) e[m - 1] = 0.0;

  return tridiagonal_ql(d, e, m, vt);
}

}  // namespace perfex::linalg
