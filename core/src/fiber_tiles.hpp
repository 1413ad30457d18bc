// The normal matrix of a patch on fiber tiles: factorisation, solve, and the diagonal blocks of its inverse
// for the core fibers, with the team-level tile kernels of linalg/tile_cholesky.hpp. Internal to core.
//
// iCov is block-banded over fibers. Its unknowns are grouped into tiles of g consecutive fibers (g m unknowns,
// m bins per fiber; the last tile may hold fewer fibers) with g at least the fiber distance of any coupling
// kept, so iCov is block TRIDIAGONAL over tiles: D_s (tile s with itself) and B_s = iCov(tile s + 1, tile s),
// whose profile is zero left of the diagonal band (B_s(a, c) = 0 for c < a - skew). g = 1 for DESI spots.
//
// Two-sided ("twisted") block elimination, with k the last tile holding core fibers:
//   forward   S_0 = D_0,  S_{s+1} = D_{s+1} - W_s W_s^T,  S_s = R_s^T R_s,  W_s = B_s R_s^{-1}     (s < k)
//   backward  T_last = D_last,  T_{s-1} = D_{s-1} - G_s,  G_s = V_s V_s^T,  V_s = B_{s-1}^T U_s^{-1}  (s > first core)
//   M_s = S_s - G_{s+1} (the Schur complement of tile s in iCov), C_ss = M_s^{-1} for every core tile s.
// The backward sweep runs in reversed bin order (U_s upper), so that V_s keeps the zero profile of B and
// every tile kernel is the same. M_k = R_M^T R_M with R_s, W_s (s < k) and U_s, V_s (s > k) is a complete
// (twisted) factorisation, used for the solve. Per DESI patch (7 fibers, 5 core) this is 15 tile Cholesky
// factorisations, 15 triangular tile solves and 15 rank-k tile updates: ~3.3 M multiply-adds instead of the
// band Cholesky and Takahashi selected inverse's ~5.2 M, with ~3 team barriers per 16 columns of a
// factorisation instead of 3 per column.
//
// Factorisations report failure: a pivot not above tau times the unknown's own diagonal entry (the part of
// its information that the other unknowns do not explain is below tau: numerically not positive definite).
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/backends/host_isa.hpp"
#include "perfex/core/linalg/team_lanes.hpp"
#include "perfex/core/linalg/tile_cholesky.hpp"

namespace perfex::detail {

// A patch's tiles in team scratch (or any memory the team shares).
struct FiberTiles {
  int g = 1;       // fibers per tile
  int m = 0;       // bins per fiber
  int nfiber = 0;  // fibers of the patch
  int ntile = 0;   // tiles: ceil(nfiber / g)
  int first_core_tile = 0, last_core_tile = 0;
  int ld = 0;              // leading dimension of every tile (g m)
  int skew = 0;            // B_s(a, c) = 0 for c < a - skew
  double* base = nullptr;  // tile_count() tiles of ld * ld doubles

  // Tiles and their order in memory: D/R (ntile), B/W (ntile - 1), M/C (core tiles), three work tiles.
  KOKKOS_INLINE_FUNCTION static int tile_count(int ntile, int ncore_tile) { return 2 * ntile - 1 + ncore_tile + 3; }
  KOKKOS_INLINE_FUNCTION int size(int s) const { return s < ntile - 1 ? g * m : (nfiber - (ntile - 1) * g) * m; }
  KOKKOS_INLINE_FUNCTION double* tile(int index) const { return base + static_cast<long>(index) * ld * ld; }
  KOKKOS_INLINE_FUNCTION double* d(int s) const { return tile(s); }
  KOKKOS_INLINE_FUNCTION double* bt(int s) const { return tile(ntile + s); }
  KOKKOS_INLINE_FUNCTION double* mtile(int s) const { return tile(2 * ntile - 1 + (s - first_core_tile)); }
  KOKKOS_INLINE_FUNCTION double* work(int w) const {
    return tile(2 * ntile - 1 + (last_core_tile - first_core_tile + 1) + w);
  }
  KOKKOS_INLINE_FUNCTION int offset(int s) const { return s * g * m; }  // first unknown of tile s
};

namespace tiles_detail {

// Unqualified below, so that a test's own member type (explicitly split lanes) finds its overloads.
using linalg::barrier;
using linalg::lane_for;
using linalg::team_lane_for;
using linalg::team_tile_cholesky;
using linalg::team_tile_syrk;
using linalg::team_tile_trsm;
using linalg::thread_for;
using linalg::thread_solve_r;
using linalg::thread_solve_rt;
using linalg::thread_sub_w;
using linalg::thread_sub_wt;

// out (upper) = reversed in (upper): out(i, j) = in(n-1-i, n-1-j), minus `sub` (upper, already reversed) if given.
template <class Member>
KOKKOS_INLINE_FUNCTION void reversed_copy(const Member& team, const double* in, double* out, int n, int ld,
                                          const double* sub) {
  thread_for(team, 0, n, [&](const int i) {
    lane_for(team, i, n, [&](const int j) {
      const double v = in[(n - 1 - j) * ld + (n - 1 - i)];
      out[i * ld + j] = sub ? v - sub[i * ld + j] : v;
    });
  });
}

// The coupling of tile s - 1 (rows) with tile s (columns) in reversed bin order, transposed for
// team_tile_trsm: out[j][i] = B_{s-1}(ns - 1 - j, nr - 1 - i) read from bt[c][a] = B_{s-1}(a, c).
template <class Member>
KOKKOS_INLINE_FUNCTION void reversed_coupling(const Member& team, const double* bt, double* out, int nr, int ns,
                                              int ld) {
  thread_for(team, 0, ns, [&](const int j) {
    lane_for(team, 0, nr, [&](const int i) { out[j * ld + i] = bt[(nr - 1 - i) * ld + (ns - 1 - j)]; });
  });
}

template <class Member>
KOKKOS_INLINE_FUNCTION void copy_tile(const Member& team, const double* in, double* out, int rows, int cols, int ld) {
  thread_for(team, 0, rows,
             [&](const int i) { lane_for(team, 0, cols, [&](const int j) { out[i * ld + j] = in[i * ld + j]; }); });
}

template <class Member>
KOKKOS_INLINE_FUNCTION void reverse(const Member& team, double* x, int n) {
  lane_for(team, 0, n / 2, [&](const int i) {
    const double t = x[i];
    x[i] = x[n - 1 - i];
    x[n - 1 - i] = t;
  });
}

}  // namespace tiles_detail

// What team_solve_fiber_tiles leaves in mtile(s) for the core tiles s (upper triangles).
enum class CoreTiles {
  factor,      // R with M_s = R^T R (the benchmarks time the selected inverse by difference)
  covariance,  // C_ss = M_s^{-1}
  precision,   // M_s itself (its factorisation runs on a copy): no inversion, for a consumer that wants M_s
};

// Factorises the tiles (d(s): D_s upper, bt(s): B_s transposed, from the normal equations), solves
// iCov x = rhs in place (x, length nfiber m) and leaves `core` in mtile(s) for the core tiles.
// diag: iCov's diagonal (the pivot test's reference); vec: 2 ld doubles of work space.
// Returns 0, or 1 + the unknown whose pivot failed (the same on every thread of the team).
template <class Member>
PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION int team_solve_fiber_tiles(const Member& team, const FiberTiles& t,
                                                                         const double* diag, double tau, double* x,
                                                                         double* vec, CoreTiles core) {
  using namespace tiles_detail;
  const int sc = t.first_core_tile, sl = t.last_core_tile, last = t.ntile - 1, ld = t.ld;
  double* x1 = t.work(0);  // T' / U' of the backward step, then the inverse's R^{-1}
  double* x2 = t.work(1);  // V'' of the backward step
  double* x3 = t.work(2);  // G' of the backward step
  // Backward sweep (reversed order), tiles last .. sc + 1; G_s goes to mtile(s - 1) for core tiles.
  if (sl == last) {  // the last core tile has no tile after it: M = S
    double* mt = t.mtile(last);
    const int n = t.size(last);
    thread_for(team, 0, n, [&](const int i) { lane_for(team, i, n, [&](const int j) { mt[i * ld + j] = 0.0; }); });
  }
  for (int s = last; s > sc; --s) {
    const int ns = t.size(s), nr = t.size(s - 1);
    reversed_copy(team, t.d(s), x1, ns, ld, s < last ? x3 : nullptr);
    reversed_coupling(team, t.bt(s - 1), x2, nr, ns, ld);
    barrier(team);
    const int fail = team_tile_cholesky(team, x1, ns, ld, diag + t.offset(s) + ns - 1, -1, tau);
    if (fail != 0) return 1 + t.offset(s) + (ns - fail);
    const int skew = t.skew + nr - ns;
    team_tile_trsm(team, x1, ld, x2, ld, nr, ns, skew);
    team_tile_syrk(team, x2, ld, nr, ns, skew, x3, ld, false);
    if (s > sl) {  // the twisted factorisation keeps U_s and V_s beyond the last core tile
      copy_tile(team, x1, t.d(s), ns, ns, ld);
      copy_tile(team, x2, t.bt(s - 1), ns, nr, ld);
    }
    if (s - 1 <= sl) {  // G_s in normal order: the backward part of M_{s-1}
      double* mt = t.mtile(s - 1);
      thread_for(team, 0, nr, [&](const int i) {
        lane_for(team, i, nr, [&](const int j) { mt[i * ld + j] = x3[(nr - 1 - j) * ld + (nr - 1 - i)]; });
      });
    }
    barrier(team);
  }

  // Forward sweep, tiles 0 .. sl: S_s, M_s = S_s - G_{s+1}, then R_s and W_s below the twist.
  for (int s = 0; s <= sl; ++s) {
    const int ns = t.size(s);
    double* ds = t.d(s);
    if (s > 0) team_tile_syrk(team, t.bt(s - 1), ld, ns, t.size(s - 1), t.skew, ds, ld, true);
    if (s >= sc) {
      double* mt = t.mtile(s);
      thread_for(team, 0, ns, [&](const int i) {
        lane_for(team, i, ns, [&](const int j) { mt[i * ld + j] = ds[i * ld + j] - mt[i * ld + j]; });
      });
      barrier(team);
    }
    if (s < sl) {
      const int fail = team_tile_cholesky(team, ds, ns, ld, diag + t.offset(s), 1, tau);
      if (fail != 0) return 1 + t.offset(s) + fail - 1;
      team_tile_trsm(team, ds, ld, t.bt(s), ld, t.size(s + 1), ns, t.skew);
    }
  }
  // Every core M_s is factorised (the positive-definiteness test); M_k's factor also serves the solve. To keep
  // M_s, the factorisation runs on a copy: x1 (discarded), or x2 for M_k (kept until the solve).
  for (int s = sc; s <= sl; ++s) {
    double* f = t.mtile(s);
    if (core == CoreTiles::precision) {
      f = s == sl ? x2 : x1;
      copy_tile(team, t.mtile(s), f, t.size(s), t.size(s), ld);
      barrier(team);
    }
    const int fail = team_tile_cholesky(team, f, t.size(s), ld, diag + t.offset(s), 1, tau);
    if (fail != 0) return 1 + t.offset(s) + fail - 1;
  }
  const double* rk = core == CoreTiles::precision ? x2 : t.mtile(sl);  // M_k = rk^T rk

  // The solve, twisted at k = sl, by one thread and its lanes.
  if (team.team_rank() == 0) {
    const int k = sl;
    for (int s = 0; s < k; ++s) {  // z_s = R_s^{-T} (y_s - W_{s-1} z_{s-1})
      if (s > 0) thread_sub_w(team, t.bt(s - 1), ld, t.size(s), t.size(s - 1), x + t.offset(s - 1), x + t.offset(s));
      thread_solve_rt(team, t.d(s), t.size(s), ld, x + t.offset(s));
    }
    for (int s = last; s > k; --s) {  // the same from the other end, in reversed order
      reverse(team, x + t.offset(s), t.size(s));
      if (s < last) thread_sub_w(team, t.bt(s), ld, t.size(s), t.size(s + 1), x + t.offset(s + 1), x + t.offset(s));
      thread_solve_rt(team, t.d(s), t.size(s), ld, x + t.offset(s));
    }
    const int nk = t.size(k);
    double* xk = x + t.offset(k);
    if (k > 0) thread_sub_w(team, t.bt(k - 1), ld, nk, t.size(k - 1), x + t.offset(k - 1), xk);
    if (k < last) {
      lane_for(team, 0, nk, [&](const int i) { vec[i] = 0.0; });
      thread_sub_w(team, t.bt(k), ld, nk, t.size(k + 1), x + t.offset(k + 1), vec);
      lane_for(team, 0, nk, [&](const int i) { xk[i] += vec[nk - 1 - i]; });
    }
    thread_solve_rt(team, rk, nk, ld, xk);
    thread_solve_r(team, rk, nk, ld, xk);
    for (int s = k + 1; s <= last; ++s) {  // outwards, reversed side: x'_s = U_s^{-1} (u_s - V_s^T x'_{s-1})
      const int np = t.size(s - 1);
      const double* prev = x + t.offset(s - 1);
      if (s - 1 == k) {
        lane_for(team, 0, np, [&](const int i) { vec[ld + i] = prev[np - 1 - i]; });
        prev = vec + ld;
      }
      thread_sub_wt(team, t.bt(s - 1), ld, np, t.size(s), prev, x + t.offset(s));
      thread_solve_r(team, t.d(s), t.size(s), ld, x + t.offset(s));
    }
    for (int s = k + 1; s <= last; ++s) reverse(team, x + t.offset(s), t.size(s));
    for (int s = k - 1; s >= 0; --s) {  // outwards, forward side: x_s = R_s^{-1} (z_s - W_s^T x_{s+1})
      thread_sub_wt(team, t.bt(s), ld, t.size(s + 1), t.size(s), x + t.offset(s + 1), x + t.offset(s));
      thread_solve_r(team, t.d(s), t.size(s), ld, x + t.offset(s));
    }
  }
  barrier(team);

  // C_ss = M_s^{-1} = R^{-1} R^{-T}: W = I R^{-1} by the tile solve, then C = W W^T over mtile(s).
  for (int s = sc; core == CoreTiles::covariance && s <= sl; ++s) {
    const int ns = t.size(s);
    thread_for(team, 0, ns,
               [&](const int i) { lane_for(team, 0, ns, [&](const int j) { x1[i * ld + j] = i == j ? 1.0 : 0.0; }); });
    barrier(team);
    team_tile_trsm(team, t.mtile(s), ld, x1, ld, ns, ns, 0);
    team_tile_syrk(team, x1, ld, ns, ns, 0, t.mtile(s), ld, false);
  }
  return 0;
}

}  // namespace perfex::detail
