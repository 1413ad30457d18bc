// Householder reduction of a dense symmetric matrix to tridiagonal form, A = U T U^T, on lanes (see
// lanes.hpp), with A in packed lower-triangular storage so that a 74 x 74 block takes 22 KB of scratch.
//
// Storage: packed lower triangle, column-major: A(i, j), i >= j, at ap[packed_column(m, j) + i - j], so
// every column below its diagonal is contiguous. U is dense row-major: U(r, c) at u[r * m + c].
//
// Lanes own contiguous rows of the trailing matrix; every product is summed in an order that does not
// depend on the number of lanes, except the two dot products per step (norm and v.p), summed lane by lane.
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/backends/host_isa.hpp"
#include "perfex/core/linalg/dot.hpp"
#include "perfex/core/linalg/lanes.hpp"
#include "perfex/core/math.hpp"

namespace perfex::linalg {

KOKKOS_INLINE_FUNCTION int packed_column(int m, int j) { return j * m - (j * (j - 1)) / 2; }
KOKKOS_INLINE_FUNCTION int packed_size(int m) { return m * (m + 1) / 2; }

// Scratch of the reduction beyond ap: p and q (m doubles each), two lane partial sums per lane, one saved
// element.
struct TridiagonalWork {
  double* p;         // [m]: beta A v
  double* q;         // [m]: p - (beta/2)(p.v) v, own rows
  double* partial;   // [lanes]: the column's squared norm, per lane
  double* partial2;  // [lanes]: p.v, per lane
  double* x0;        // [1]: the first element of the next column (read before it becomes v's first)
};

// Column k's squared norm below the subdiagonal start (rows k+1 .. m-1), as lane partials over the row
// split [first_row, m) of this lane, and its first element A(k+1, k). Phase body.
KOKKOS_INLINE_FUNCTION void reduction_column_partial(int lane, int nlanes, const double* ap, int m, int k,
                                                     int first_row, const TridiagonalWork& w) {
  const LaneRange rows = lane_range(lane, nlanes, first_row, m);
  const double* col = ap + packed_column(m, k) - k;  // col[i] = A(i, k)
  const int lo = rows.lo > k + 1 ? rows.lo : k + 1;
  w.partial[lane] = lo < rows.hi ? dot(col + lo, col + lo, rows.hi - lo) : 0.0;
  if (k + 1 >= rows.lo && k + 1 < rows.hi) w.x0[0] = col[k + 1];
}

// Step k's reflector from the partial norms: H = I - beta v v^T maps column k below the diagonal onto
// alpha e_1; v = x - alpha e_1 overwrites the column. Every lane computes it (the same sums in the same
// order, so the same bits) and keeps v's first element and beta for its own use in the same phase; lane 0
// writes them, d[k] and e[k] = alpha (beta 0 where the column is already zero), read from the next phase on.
struct Reflector {
  double v1;    // v's first element, A(k+1, k) from the next phase on
  double beta;  // beta[k]
};
KOKKOS_INLINE_FUNCTION Reflector reduction_reflector(int lane, int nlanes, double* ap, int m, int k, double* d,
                                                     double* e, double* beta, const TridiagonalWork& w) {
  double norm2 = 0.0;
  for (int l = 0; l < nlanes; ++l) norm2 += w.partial[l];
  const double x0 = w.x0[0];
  double* col = ap + packed_column(m, k) - k;
  Reflector r{x0, 0.0};
  double alpha = x0;
  if (norm2 != 0.0) {
    alpha = x0 >= 0.0 ? -math::sqrt(norm2) : math::sqrt(norm2);
    const double vnorm2 = norm2 - x0 * x0 + (x0 - alpha) * (x0 - alpha);
    r.v1 = x0 - alpha;
    r.beta = vnorm2 > 0.0 ? 2.0 / vnorm2 : 0.0;
  }
  if (lane == 0) {
    d[k] = col[k];
    col[k + 1] = r.v1;
    beta[k] = r.beta;
    e[k] = alpha;
  }
  return r;
}

// Inner loops of the reduction (restrict: the compiler need not test for overlap before every short loop).
KOKKOS_INLINE_FUNCTION void reduction_axpy2(double* KOKKOS_RESTRICT p, const double* KOKKOS_RESTRICT a0,
                                            const double* KOKKOS_RESTRICT a1, double v0, double v1, int lo, int hi) {
  for (int i = lo; i < hi; ++i) p[i] += a0[i] * v0 + a1[i] * v1;
}
KOKKOS_INLINE_FUNCTION void reduction_axpy1(double* KOKKOS_RESTRICT p, const double* KOKKOS_RESTRICT a0, double v0,
                                            int lo, int hi) {
  for (int i = lo; i < hi; ++i) p[i] += a0[i] * v0;
}
// a0 -= v q0 + q v0 and a1 -= v q1 + q v1 on [lo, hi).
KOKKOS_INLINE_FUNCTION void reduction_rank2_pair(double* KOKKOS_RESTRICT a0, double* KOKKOS_RESTRICT a1,
                                                 const double* KOKKOS_RESTRICT v, const double* KOKKOS_RESTRICT q,
                                                 double q0, double v0, double q1, double v1, int lo, int hi) {
  for (int i = lo; i < hi; ++i) {
    const double vi = v[i], qi = q[i];
    a0[i] -= vi * q0 + qi * v0;
    a1[i] -= vi * q1 + qi * v1;
  }
}
KOKKOS_INLINE_FUNCTION void reduction_rank2_single(double* KOKKOS_RESTRICT a0, const double* KOKKOS_RESTRICT v,
                                                   const double* KOKKOS_RESTRICT q, double q0, double v0, int lo,
                                                   int hi) {
  for (int i = lo; i < hi; ++i) a0[i] -= v[i] * q0 + q[i] * v0;
}

// p = beta A22 v over this lane's rows of the trailing matrix A22 = A[k+1.., k+1..] (both triangles read
// from the packed lower one), and the lane's partial p.v. Columns go in pairs: each pass over p adds two
// columns' axpy, and a column owned by this lane adds its dot product with v below the diagonal (the
// strict upper triangle's contribution to its own row). v's first element and beta come from `r` (lane 0
// writes them to memory in this same phase). Phase body, after reduction_reflector.
PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION void reduction_symv(int lane, int nlanes, const double* ap, int m, int k,
                                                                  const Reflector& r, const TridiagonalWork& w) {
  const LaneRange rows = lane_range(lane, nlanes, k + 1, m);
  const double* vmem = ap + packed_column(m, k) - k;  // v[i] = A(i, k), i > k + 1
  const auto v = [&](int i) { return i == k + 1 ? r.v1 : vmem[i]; };
  double* p = w.p;
  for (int i = rows.lo; i < rows.hi; ++i) p[i] = 0.0;
  // Columns left of this lane's rows: axpy only.
  int j = k + 1;
  for (; j + 1 < rows.lo; j += 2)
    reduction_axpy2(p, ap + packed_column(m, j) - j, ap + packed_column(m, j + 1) - (j + 1), v(j), v(j + 1), rows.lo,
                    rows.hi);
  if (j < rows.lo) {
    reduction_axpy1(p, ap + packed_column(m, j) - j, v(j), rows.lo, rows.hi);
    ++j;
  }
  // This lane's columns: axpy below the diagonal block, dot products down to row m (v's contiguous part from
  // row j + 2 > k + 1 on).
  for (; j + 1 < rows.hi; j += 2) {
    const double* a0 = ap + packed_column(m, j) - j;
    const double* a1 = ap + packed_column(m, j + 1) - (j + 1);
    reduction_axpy2(p, a0, a1, v(j), v(j + 1), j + 2, rows.hi);
    const double s0 = dot(a0 + j + 2, vmem + j + 2, m - j - 2);
    const double s1 = dot(a1 + j + 2, vmem + j + 2, m - j - 2);
    p[j] += (a0[j] * v(j) + a0[j + 1] * v(j + 1)) + s0;
    p[j + 1] += (a0[j + 1] * v(j) + a1[j + 1] * v(j + 1)) + s1;
  }
  if (j < rows.hi) {
    const double* a0 = ap + packed_column(m, j) - j;
    reduction_axpy1(p, a0, v(j), j + 1, rows.hi);
    p[j] += a0[j] * v(j) + dot(a0 + j + 1, vmem + j + 1, m - j - 1);
  }
  const double b = r.beta;
  double pv = 0.0;
  int i = rows.lo;
  if (i == k + 1 && i < rows.hi) {
    p[i] *= b;
    pv += p[i] * r.v1;
    ++i;
  }
  for (; i < rows.hi; ++i) {
    p[i] *= b;
    pv += p[i] * vmem[i];
  }
  w.partial2[lane] = pv;
}

// A22 -= v q^T + q v^T with q = p - (beta/2)(p.v) v, this lane's rows, columns in pairs; then the lane's
// partial norm of the next column (its rows below the next subdiagonal). Phase body.
PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION void reduction_rank2(int lane, int nlanes, double* ap, int m, int k,
                                                                   const double* beta, const TridiagonalWork& w) {
  const LaneRange rows = lane_range(lane, nlanes, k + 1, m);
  const double* v = ap + packed_column(m, k) - k;
  const double* p = w.p;
  double* q = w.q;
  double pv = 0.0;
  for (int l = 0; l < nlanes; ++l) pv += w.partial2[l];
  const double kk = 0.5 * beta[k] * pv;
  for (int i = rows.lo; i < rows.hi; ++i) q[i] = p[i] - kk * v[i];
  int j = k + 1;
  for (; j + 1 < rows.hi; j += 2) {
    double* a0 = ap + packed_column(m, j) - j;
    double* a1 = ap + packed_column(m, j + 1) - (j + 1);
    // q[j] recomputed: row j may belong to another lane.
    const double q0 = p[j] - kk * v[j], q1 = p[j + 1] - kk * v[j + 1];
    if (j >= rows.lo) a0[j] -= v[j] * q0 + q0 * v[j];
    const int lo = rows.lo > j + 1 ? rows.lo : j + 1;
    reduction_rank2_pair(a0, a1, v, q, q0, v[j], q1, v[j + 1], lo, rows.hi);
  }
  if (j < rows.hi) {
    const double q0 = p[j] - kk * v[j];
    reduction_rank2_single(ap + packed_column(m, j) - j, v, q, q0, v[j], rows.lo > j ? rows.lo : j, rows.hi);
  }
  if (k + 1 <= m - 3) {  // the next step's column norm, over the same rows
    const double* next = ap + packed_column(m, k + 1) - (k + 1);
    const int lo = rows.lo > k + 2 ? rows.lo : k + 2;
    w.partial[lane] = lo < rows.hi ? dot(next + lo, next + lo, rows.hi - lo) : 0.0;
    if (k + 2 >= rows.lo && k + 2 < rows.hi) w.x0[0] = next[k + 2];
  }
}

// The whole reduction: on return d[0..m) and e[0..m-1) hold T (e[i] couples i and i+1), the columns of ap
// below the subdiagonal the Householder vectors v_k (k = 0 .. m-3) with scales beta[k] (H_k = I - beta_k
// v_k v_k^T acts on rows k+1 ..), so that A = U T U^T with U = H_0 H_1 ... H_{m-3}. Two phases per step
// (reflector and product, then the rank-2 update).
template <class Lanes>
PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION void team_packed_tridiagonalize(const Lanes& lanes, double* ap, int m,
                                                                              double* d, double* e, double* beta,
                                                                              const TridiagonalWork& w) {
  if (m >= 3) lanes.phase([&](int lane, int nl) { reduction_column_partial(lane, nl, ap, m, 0, 1, w); });
  for (int k = 0; k + 2 < m; ++k) {
    lanes.phase([&](int lane, int nl) {
      const Reflector r = reduction_reflector(lane, nl, ap, m, k, d, e, beta, w);
      reduction_symv(lane, nl, ap, m, k, r, w);
    });
    lanes.phase([&](int lane, int nl) { reduction_rank2(lane, nl, ap, m, k, beta, w); });
  }
  lanes.phase([&](int lane, int nl) {
    if (lane != 0) return;
    if (m >= 2) {
      d[m - 2] = ap[packed_column(m, m - 2)];
      e[m - 2] = ap[packed_column(m, m - 2) + 1];
      beta[m - 2] = 0.0;
    }
    d[m - 1] = ap[packed_column(m, m - 1)];
    e[m - 1] = 0.0;
    beta[m - 1] = 0.0;
  });
}

// Columns [c0, c0 + Width) of U, row-major (U(r, c) at u[r * m + c]): U e_c = H_0 H_1 ... H_{c-1} e_c, the
// reflectors applied from the last one down (H_k with k >= c leave e_c alone, and applying them to columns
// that are still zero below row k changes nothing). The Width columns share every pass over v: one
// vector of Width sums per reflector (SIMD on a CPU), no dependence between the columns.
template <int Width>
KOKKOS_INLINE_FUNCTION void householder_panel(const double* KOKKOS_RESTRICT ap, const double* beta, int m,
                                              double* KOKKOS_RESTRICT u, int c0) {
  for (int r = 0; r < m; ++r)
    for (int g = 0; g < Width; ++g) u[r * m + c0 + g] = r == c0 + g ? 1.0 : 0.0;
  int k = c0 + Width - 2;  // the last column's first reflector
  if (k > m - 3) k = m - 3;
  for (; k >= 0; --k) {
    const double b = beta[k];
    if (b == 0.0) continue;
    const double* v = ap + packed_column(m, k) - k;  // v[i], i = k+1 .. m-1
    double t[Width];
    for (int g = 0; g < Width; ++g) t[g] = 0.0;
    for (int i = k + 1; i < m; ++i) {
      const double vi = v[i];
      const double* row = u + i * m + c0;
      for (int g = 0; g < Width; ++g) t[g] += vi * row[g];
      PERFEX_ROWWISE_LOOP();
    }
    for (int g = 0; g < Width; ++g) t[g] *= b;
    for (int i = k + 1; i < m; ++i) {
      const double vi = v[i];
      double* KOKKOS_RESTRICT row = u + i * m + c0;
      // Pairs read before they are written: the form GCC turns into SIMD (row[g] -= t[g] vi stays scalar).
      for (int g = 0; g + 1 < Width; g += 2) {
        const double r0 = row[g] - t[g] * vi, r1 = row[g + 1] - t[g + 1] * vi;
        row[g] = r0;
        row[g + 1] = r1;
      }
      if (Width % 2 == 1) row[Width - 1] -= t[Width - 1] * vi;
    }
  }
}

// U = H_0 H_1 ... H_{m-3}, row-major, from the reduction's reflectors. One lane forms panels of 8 columns
// (SIMD width on a CPU: full panels from the right, where columns cost most, single columns on the left).
// Several lanes own columns in turn and apply the reflectors in step, all lanes at the same k, so that a
// warp's loads of U's row r are contiguous (GPU coalescing) and the work stays balanced; each column sees
// the same operations in the same order either way. One phase.
template <class Lanes>
PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION void team_householder_columns(const Lanes& lanes, const double* ap,
                                                                            const double* beta, int m, double* u) {
  constexpr int panel = 8;
  lanes.phase([&](int lane, int nl) {
    if (nl == 1) {
      int c1 = m;
      for (; c1 - panel >= 0; c1 -= panel) householder_panel<panel>(ap, beta, m, u, c1 - panel);
      for (int c = 0; c < c1; ++c) householder_panel<1>(ap, beta, m, u, c);
      return;
    }
    for (int c = lane; c < m; c += nl)
      for (int r = 0; r < m; ++r) u[r * m + c] = r == c ? 1.0 : 0.0;
    for (int k = m - 3; k >= 0; --k) {
      const double b = beta[k];
      if (b == 0.0) continue;
      const double* v = ap + packed_column(m, k) - k;
      for (int c = lane; c < m; c += nl) {
        if (c <= k) continue;  // still e_c below row k
        double t = 0.0;
        for (int i = k + 1; i < m; ++i) t += v[i] * u[i * m + c];
        t *= b;
        for (int i = k + 1; i < m; ++i) u[i * m + c] -= t * v[i];
      }
    }
  });
}

}  // namespace perfex::linalg
