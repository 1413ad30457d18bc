// Team-level dense tile kernels of the fiber-tile solver (core/src/fiber_tiles.hpp): Cholesky factorisation,
// triangular solve of a coupling tile, symmetric rank-k update, and the vector solves. KokkosBatched 3.4.1 has
// team Gemm and Trsm but no Cholesky and no rank-k update, its team Trsm synchronises the team for every
// block of rows, and neither skips the zero profile of the coupling tiles; hence these, written for both
// levels of a team: threads take rows or blocks of columns, lanes take items of contiguous outputs (one per
// lane on GPUs, LaneTraits::item_width in registers on CPUs), with a handful of team barriers per tile.
//
// Storage: row-major tiles with a leading dimension. A symmetric tile holds its UPPER triangle
// (s[i * ld + j], j >= i); its Cholesky factor R (S = R^T R, R upper) overwrites it. A coupling tile
// B (na x nc) is stored transposed, bt[c * ld + a] = B(a, c), so that the rows a of W = B R^{-1} are the
// contiguous index; its profile: B(a, c) = 0 for c < a - skew, which W keeps.
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/backends/host_isa.hpp"
#include "perfex/core/linalg/team_lanes.hpp"
#include "perfex/core/math.hpp"

namespace perfex::linalg {

namespace tile_detail {

KOKKOS_INLINE_FUNCTION int imin(int a, int b) { return a < b ? a : b; }
KOKKOS_INLINE_FUNCTION int imax(int a, int b) { return a > b ? a : b; }
KOKKOS_INLINE_FUNCTION int blocks(int n, int w) { return n > 0 ? (n + w - 1) / w : 0; }

// Rows [p, pe) of R right of the diagonal block, columns [j, j + cnt): row e = (S(e, .) - sum_{p <= e' < e}
// R(e', e) R(e', .)) / R(e, e), rows in order (each depends on the ones above it in the same columns).
template <int W, bool Full>
KOKKOS_INLINE_FUNCTION void panel_rows(double* a, int ld, int p, int pe, int j, int cnt) {
  const int n = Full ? W : cnt;
  for (int e = p; e < pe; ++e) {
    double acc[W] = {};
    double* row = a + e * ld + j;
    for (int w = 0; w < n; ++w) acc[w] = row[w];
    for (int f = p; f < e; ++f) {
      const double r = a[f * ld + e];
      const double* rf = a + f * ld + j;
      for (int w = 0; w < n; ++w) acc[w] -= r * rf[w];
    }
    const double inv = 1.0 / a[e * ld + e];
    for (int w = 0; w < n; ++w) row[w] = acc[w] * inv;
  }
}

// Trailing update S(i, j..j+cnt) -= sum_{e in [p, pe)} R(e, i) R(e, j..j+cnt).
template <int W, bool Full>
KOKKOS_INLINE_FUNCTION void trailing(double* a, int ld, int p, int pe, int i, int j, int cnt) {
  const int n = Full ? W : cnt;
  double acc[W] = {};
  double* row = a + i * ld + j;
  for (int w = 0; w < n; ++w) acc[w] = row[w];
  for (int e = p; e < pe; ++e) {
    const double r = a[e * ld + i];
    const double* re = a + e * ld + j;
    for (int w = 0; w < n; ++w) acc[w] -= r * re[w];
  }
  for (int w = 0; w < n; ++w) row[w] = acc[w];
}

// Rows [a0, a0 + cnt) of W = B R^{-1}, in place over bt, column by column from c0.
template <int W, bool Full>
KOKKOS_INLINE_FUNCTION void trsm_rows(const double* r, int ldr, double* bt, int ldb, int nc, int a0, int cnt, int c0) {
  const int n = Full ? W : cnt;
  for (int c = c0; c < nc; ++c) {
    double acc[W] = {};
    double* out = bt + c * ldb + a0;
    for (int w = 0; w < n; ++w) acc[w] = out[w];
    for (int e = c0; e < c; ++e) {
      const double rec = r[e * ldr + c];
      const double* we = bt + e * ldb + a0;
      for (int w = 0; w < n; ++w) acc[w] -= rec * we[w];
    }
    const double inv = 1.0 / r[c * ldr + c];
    for (int w = 0; w < n; ++w) out[w] = acc[w] * inv;
  }
}

// out(a', a..a+cnt) = [out -] sum_{c >= c0} W(a', c) W(a.., c).
template <int W, bool Full>
KOKKOS_INLINE_FUNCTION void syrk_item(const double* wt, int ldw, int nc, int ap, int a, int cnt, int c0, double* out,
                                      bool subtract) {
  const int n = Full ? W : cnt;
  double acc[W] = {};
  for (int w = 0; w < n; ++w) acc[w] = 0.0;
  for (int c = c0; c < nc; ++c) {
    const double x = wt[c * ldw + ap];
    const double* wc = wt + c * ldw + a;
    for (int w = 0; w < n; ++w) acc[w] += x * wc[w];
  }
  if (subtract)
    for (int w = 0; w < n; ++w) out[w] -= acc[w];
  else
    for (int w = 0; w < n; ++w) out[w] = acc[w];
}

}  // namespace tile_detail

// In place: the upper triangle of the n x n symmetric tile `a` becomes R with S = R^T R (right-looking, panels
// of 16 columns: 3 team barriers per panel). A pivot S(j, j) (after the updates of the rows above) that is not
// > tau * diag[j * dstride] (a Schur complement below tau of the unknown's own information, or non-finite) stops
// the factorisation: returns j + 1, else 0. Every thread of the team returns the same value.
template <class Member>
PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION int team_tile_cholesky(const Member& team, double* a, int n, int ld,
                                                                     const double* diag, int dstride, double tau) {
  using namespace tile_detail;
  constexpr int W = LaneTraits<Member>::item_width;
  constexpr int nb = 16;
  for (int p = 0; p < n; p += nb) {
    const int pe = imin(p + nb, n);
    // The diagonal block, by one thread (lanes over its columns).
    int info = 0;
    if (team.team_rank() == 0) {
      for (int e = p; e < pe; ++e) {
        const double pivot = a[e * ld + e];
        if (!(pivot > tau * diag[e * dstride]) || !math::isfinite(pivot)) {
          info = e + 1;
          break;
        }
        const double r = math::sqrt(pivot), inv = 1.0 / r;
        lane_for(team, e + 1, pe, [&](const int j) { a[e * ld + j] *= inv; });
        for (int f = e + 1; f < pe; ++f) {
          const double ref = a[e * ld + f];
          lane_for(team, f, pe, [&](const int j) { a[f * ld + j] -= ref * a[e * ld + j]; });
        }
        single_lane(team, [&]() { a[e * ld + e] = r; });
      }
    }
    info = broadcast(team, info, 0);
    if (info != 0) return info;
    if (pe == n) break;
    // Rows [p, pe) right of the block, by blocks of columns.
    const int ncols = n - pe, nitem = blocks(ncols, W);
    team_lane_for(team, 0, nitem, [&](const int it) {
      const int j = pe + it * W, cnt = imin(W, n - j);
      if (cnt == W)
        panel_rows<W, true>(a, ld, p, pe, j, cnt);
      else
        panel_rows<W, false>(a, ld, p, pe, j, cnt);
    });
    barrier(team);
    // The trailing upper triangle: threads over rows, lanes over blocks of columns.
    thread_for(team, pe, n, [&](const int i) {
      lane_for(team, 0, blocks(n - i, W), [&](const int it) {
        const int j = i + it * W, cnt = imin(W, n - j);
        if (cnt == W)
          trailing<W, true>(a, ld, p, pe, i, j, cnt);
        else
          trailing<W, false>(a, ld, p, pe, i, j, cnt);
      });
    });
    barrier(team);
  }
  return 0;
}

// In place: bt (B transposed, nc rows of length >= na) becomes W transposed, W = B R^{-1} (R: nc x nc upper from
// team_tile_cholesky). Rows a of W are independent: lanes take blocks of them, no barrier but the last.
// B(a, c) = 0 for c < a - skew (so is W(a, c)); skew >= nc - 1 means dense.
template <class Member>
KOKKOS_INLINE_FUNCTION void team_tile_trsm(const Member& team, const double* r, int ldr, double* bt, int ldb, int na,
                                           int nc, int skew) {
  using namespace tile_detail;
  constexpr int W = LaneTraits<Member>::item_width;
  team_lane_for(team, 0, blocks(na, W), [&](const int it) {
    const int a0 = it * W, cnt = imin(W, na - a0);
    const int c0 = imax(0, a0 - skew);
    if (cnt == W)
      trsm_rows<W, true>(r, ldr, bt, ldb, nc, a0, cnt, c0);
    else
      trsm_rows<W, false>(r, ldr, bt, ldb, nc, a0, cnt, c0);
  });
  barrier(team);
}

// The upper triangle of out (na x na) = [out -] W W^T, W (na x nc) given transposed (wt[c * ldw + a]) with
// W(a, c) = 0 for c < a - skew. Threads over rows a', lanes over blocks of columns a >= a'.
template <class Member>
KOKKOS_INLINE_FUNCTION void team_tile_syrk(const Member& team, const double* wt, int ldw, int na, int nc, int skew,
                                           double* out, int ldo, bool subtract) {
  using namespace tile_detail;
  constexpr int W = LaneTraits<Member>::item_width;
  thread_for(team, 0, na, [&](const int ap) {
    lane_for(team, 0, blocks(na - ap, W), [&](const int it) {
      const int a = ap + it * W, cnt = imin(W, na - a);
      const int c0 = imax(0, a - skew);
      if (cnt == W)
        syrk_item<W, true>(wt, ldw, nc, ap, a, cnt, c0, out + ap * ldo + a, subtract);
      else
        syrk_item<W, false>(wt, ldw, nc, ap, a, cnt, c0, out + ap * ldo + a, subtract);
    });
  });
  barrier(team);
}

// ---- vector kernels: one thread (the caller) and its lanes; the caller synchronises the team afterwards ----

// x <- R^{-T} x (forward substitution, R upper n x n): row e of R updates the entries after e.
template <class Member>
KOKKOS_INLINE_FUNCTION void thread_solve_rt(const Member& team, const double* r, int n, int ld, double* x) {
  for (int e = 0; e < n; ++e) {
    const double z = x[e] / r[e * ld + e];
    lane_for(team, e + 1, n, [&](const int j) { x[j] -= z * r[e * ld + j]; });
    single_lane(team, [&]() { x[e] = z; });
  }
}

// x <- R^{-1} x (back substitution): a dot product with row e of R per entry.
template <class Member>
KOKKOS_INLINE_FUNCTION void thread_solve_r(const Member& team, const double* r, int n, int ld, double* x) {
  for (int e = n - 1; e >= 0; --e) {
    const double* re = r + e * ld;
    const double s = lane_sum(team, e + 1, n, [&](const int j) { return re[j] * x[j]; });
    const double v = (x[e] - s) / re[e];
    single_lane(team, [&]() { x[e] = v; });
  }
}

// y (na) -= W x (x: nc), W given transposed: lanes over the entries of y.
template <class Member>
KOKKOS_INLINE_FUNCTION void thread_sub_w(const Member& team, const double* wt, int ldw, int na, int nc, const double* x,
                                         double* y) {
  lane_for(team, 0, na, [&](const int a) {
    double s = 0.0;
    for (int c = 0; c < nc; ++c) s += wt[c * ldw + a] * x[c];
    y[a] -= s;
  });
}

// y (nc) -= W^T x (x: na): a dot product with row c of wt per entry.
template <class Member>
KOKKOS_INLINE_FUNCTION void thread_sub_wt(const Member& team, const double* wt, int ldw, int na, int nc,
                                          const double* x, double* y) {
  for (int c = 0; c < nc; ++c) {
    const double* w = wt + c * ldw;
    const double s = lane_sum(team, 0, na, [&](const int a) { return w[a] * x[a]; });
    single_lane(team, [&]() { y[c] -= s; });
  }
}

}  // namespace perfex::linalg
