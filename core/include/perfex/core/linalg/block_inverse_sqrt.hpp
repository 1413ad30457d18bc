// The decorrelation's algebra for one dense symmetric positive definite block C (m x m) on lanes (see
// lanes.hpp): Q = C^{-1/2} is never formed; only what the outputs need is:
//   s = Q 1 (rows around the kept columns), Q x (kept columns), and Q(r, j) for |r - j| <= nd (kept j).
// Route: C = U T U^T (Householder, packed_tridiagonal.hpp), so Q = U T^{-1/2} U^T; with B = U^T [e_j..., 1, x]
// (U's rows, read from its columns), F = T^{-1/2} B by a rational approximation whose poles need only
// tridiagonal solves (tridiagonal_inverse_sqrt.hpp, sized by Sturm counts: tridiagonal_bounds.hpp), and
// the outputs are rows of U times columns of F. No eigenvectors: ~1.5 M flops for a DESI block instead of
// ~4 M for an eigen-decomposition, and no data-dependent iteration.
//
// The block may also be given as its inverse P = C^{-1} (the fiber-tile solver's Schur complement M_b, which
// saves inverting it): then P = U T U^T and Q = P^{1/2} = U T^{1/2} U^T with T^{1/2} B = T (T^{-1/2} B),
// one tridiagonal product more. The spectrum bracket and the poles are the same.
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/backends/host_isa.hpp"
#include "perfex/core/linalg/lanes.hpp"
#include "perfex/core/linalg/packed_tridiagonal.hpp"
#include "perfex/core/linalg/tridiagonal_bounds.hpp"
#include "perfex/core/linalg/tridiagonal_inverse_sqrt.hpp"

namespace perfex::linalg {

// The largest problem a scratch layout is sized for (from the patch plan, never from DESI's 74).
struct BlockInverseSqrtShape {
  int max_m = 0;     // block size
  int max_cols = 0;  // kept columns
  int max_nd = 0;    // band half-width of the wanted entries
  int lanes = 1;
};

// The pole table as the kernels read it (device pointers): poles of ratio 2^r are [first[r], first[r+1]).
// What the block handed to team_block_inverse_sqrt is: C itself, or its inverse P = C^{-1}.
enum class BlockForm { covariance, precision };

struct InverseSqrtPolesRef {
  const int* first = nullptr;
  const double* shift = nullptr;
  const double* weight = nullptr;
  int max_log2_ratio = 0;
};

// Scratch, in two parts: `near` is touched by every step of the reduction (team scratch level 0 where it
// fits), `far` by the phases after it (level 1 on GPUs). Sizes in doubles (ints are stored in doubles'
// room).
struct BlockInverseSqrtScratch {
  // near
  double* ap;      // packed C, then the Householder vectors
  double* d;       // T's diagonal
  double* e;       // T's off-diagonal
  double* beta;    // reflector scales
  double* bounds;  // m + 2: e^2, Gershgorin bound, pivmin
  TridiagonalWork tri;
  int* flags;  // 2 per lane
  // far
  double* u;      // U, row-major
  double* b;      // B: m rows x (ncols + 2)
  double* y;      // sweep work, as B; then F's transpose
  double* y2;     // sweep work, as B
  double* f;      // F = T^{-1/2} B, as B
  double* fac;    // pole factors
  double* s;      // s = Q 1, indexed by row
  double* qx;     // Q x, per kept column
  double* qband;  // Q(j - nd + t, j) at qband[t * max_cols + k], j = j0 + k

  KOKKOS_INLINE_FUNCTION static int near_doubles(const BlockInverseSqrtShape& s) {
    const int m = s.max_m;
    return packed_size(m) + 3 * m + (m + 2) + 2 * m + 1 + 2 * s.lanes + 2 * s.lanes + s.lanes;
  }
  KOKKOS_INLINE_FUNCTION static int far_doubles(const BlockInverseSqrtShape& s) {
    const int m = s.max_m, ld = s.max_cols + 2;
    return m * m + 4 * m * ld + 2 * m * inverse_sqrt_pole_group + m + s.max_cols + (2 * s.max_nd + 1) * s.max_cols;
  }
  KOKKOS_INLINE_FUNCTION static BlockInverseSqrtScratch carve(const BlockInverseSqrtShape& s, double* near,
                                                              double* far) {
    const int m = s.max_m, ld = s.max_cols + 2;
    BlockInverseSqrtScratch w;
    double* p = near;
    w.ap = p;
    p += packed_size(m);
    w.d = p;
    p += m;
    w.e = p;
    p += m;
    w.beta = p;
    p += m;
    w.bounds = p;
    p += m + 2;
    w.tri.p = p;
    p += m;
    w.tri.q = p;
    p += m;
    w.tri.x0 = p;
    p += 1;
    w.tri.partial = p;
    p += s.lanes;
    w.tri.partial2 = p;
    p += s.lanes;
    w.flags = reinterpret_cast<int*>(p);  // 2 ints per lane in 2 doubles per lane
    p += 2 * s.lanes;
    // (s.lanes doubles spare: alignment room)
    p = far;
    w.u = p;
    p += m * m;
    w.b = p;
    p += m * ld;
    w.y = p;
    p += m * ld;
    w.y2 = p;
    p += m * ld;
    w.f = p;
    p += m * ld;
    w.fac = p;
    p += 2 * m * inverse_sqrt_pole_group;
    w.s = p;
    p += m;
    w.qx = p;
    p += s.max_cols;
    w.qband = p;
    return w;
  }
};

// For the block C (row-major, row stride ldc, or P = C^{-1} there: `form`; only the upper triangle, row j from
// column j on, is read) and the vector x: s[r] = (Q 1)_r for r in [max(0, j0 - nd), min(m, j0 + ncols + nd)),
// qx[k] = (Q x)_{j0 + k} and qband[t * shape.max_cols + k] = Q(j0 + k - nd + t, j0 + k) (0 outside the
// block) for k < ncols, t <= 2 nd. Returns 0, or 1 where C is not positive definite to working precision (a
// non-finite entry, an eigenvalue <= 0, or a condition number above 2^poles.max_log2_ratio); the outputs are
// then not meaningful.
template <class Lanes>
PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION int team_block_inverse_sqrt(
    const Lanes& lanes, const InverseSqrtPolesRef& poles, const BlockInverseSqrtShape& shape,
    const BlockInverseSqrtScratch& w, int m, const double* c, int ldc, const double* x, int j0, int ncols, int nd,
    BlockForm form = BlockForm::covariance) {
  const int ld = ncols + 2;
  // C's lower triangle into packed storage: column j of the lower triangle is row j of C from j on.
  lanes.phase([&](int lane, int nl) {
    const LaneRange cols = lane_range(lane, nl, 0, m);
    for (int j = cols.lo; j < cols.hi; ++j) {
      double* col = w.ap + packed_column(m, j) - j;
      const double* row = c + j * ldc;
      for (int i = j; i < m; ++i) col[i] = row[i];
    }
  });
  team_packed_tridiagonalize(lanes, w.ap, m, w.d, w.e, w.beta, w.tri);

  const SpectrumBracket bracket = team_spectrum_bracket(lanes, w.d, w.e, m, poles.max_log2_ratio, w.bounds, w.flags);
  if (!bracket.ok) return 1;

  team_householder_columns(lanes, w.ap, w.beta, m, w.u);
  // B = [U(j0.., i), (U^T 1)_i, (U^T x)_i] row by row (U's column sums accumulated row by row of U, in order,
  // contiguous), and F = 0, on this lane's rows of B.
  lanes.phase([&](int lane, int nl) {
    const LaneRange rows = lane_range(lane, nl, 0, m);
    for (int i = rows.lo; i < rows.hi; ++i) {
      double* brow = w.b + i * ld;
      double* frow = w.f + i * ld;
      for (int k = 0; k < ncols; ++k) brow[k] = w.u[(j0 + k) * m + i];
      for (int k = 0; k < ld; ++k) frow[k] = 0.0;
    }
    double* sum = w.y;  // free until the sweeps
    double* sx = w.y2;
    for (int i = rows.lo; i < rows.hi; ++i) sum[i] = sx[i] = 0.0;
    for (int r = 0; r < m; ++r) {
      const double* urow = w.u + r * m;
      const double xr = x[r];
      for (int i = rows.lo; i < rows.hi; ++i) {
        sum[i] += urow[i];
        sx[i] += urow[i] * xr;
      }
    }
    for (int i = rows.lo; i < rows.hi; ++i) {
      w.b[i * ld + ncols] = sum[i];
      w.b[i * ld + ncols + 1] = sx[i];
    }
  });

  const int r0 = bracket.log2_ratio;
  team_tridiagonal_inverse_sqrt(lanes, w.d, w.e, m, poles.shift + poles.first[r0], poles.weight + poles.first[r0],
                                poles.first[r0 + 1] - poles.first[r0], bracket.lower, w.b, w.y, w.y2, w.f, ncols + 2,
                                ld, w.fac);

  // F's columns as rows (into Y, free now), so that every output is a dot product of two contiguous rows:
  // a row of U and a column of F. For a precision block F = T (T^{-1/2} B), row i of T being
  // (e[i-1], d[i], e[i]).
  double* ft = w.y;  // ft[c * m + i] = F(i, c)
  lanes.phase([&](int lane, int nl) {
    const LaneRange cols = lane_range(lane, nl, 0, ld);
    if (form == BlockForm::covariance) {
      for (int i = 0; i < m; ++i)
        for (int c = cols.lo; c < cols.hi; ++c) ft[c * m + i] = w.f[i * ld + c];
      return;
    }
    for (int i = 0; i < m; ++i) {
      const double* fi = w.f + i * ld;
      const double di = w.d[i];
      const double el = i > 0 ? w.e[i - 1] : 0.0, er = i + 1 < m ? w.e[i] : 0.0;
      const double* fl = i > 0 ? fi - ld : fi;
      const double* fr = i + 1 < m ? fi + ld : fi;
      for (int c = cols.lo; c < cols.hi; ++c) ft[c * m + i] = (di * fi[c] + el * fl[c]) + er * fr[c];
    }
  });
  // s over the rows the resolution divides by, Q x and the band over the kept columns.
  const int row_lo = j0 - nd > 0 ? j0 - nd : 0;
  const int row_hi = j0 + ncols + nd < m ? j0 + ncols + nd : m;
  const int nt = 2 * nd + 1;
  lanes.phase([&](int lane, int nl) {
    const LaneRange rows = lane_range(lane, nl, row_lo, row_hi);
    for (int r = rows.lo; r < rows.hi; ++r) w.s[r] = dot(w.u + r * m, ft + ncols * m, m);
    const LaneRange cols = lane_range(lane, nl, 0, ncols);
    for (int k = cols.lo; k < cols.hi; ++k) {
      const int j = j0 + k;
      w.qx[k] = dot(w.u + j * m, ft + (ncols + 1) * m, m);
      for (int t = 0; t < nt; ++t) {
        const int r = j - nd + t;
        w.qband[t * shape.max_cols + k] = (r >= 0 && r < m) ? dot(w.u + r * m, ft + k * m, m) : 0.0;
      }
    }
  });
  return 0;
}

}  // namespace perfex::linalg
