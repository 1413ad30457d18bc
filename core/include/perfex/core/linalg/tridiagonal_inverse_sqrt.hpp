// F += T^{-1/2} B for a symmetric positive definite tridiagonal T and a block B of columns, on lanes (see
// lanes.hpp), without eigenvectors: T^{-1/2} ~= sum_j w_j (T + s_j I)^{-1} with the poles of
// inverse_sqrt_poles.hpp for T's bracket (tridiagonal_bounds.hpp). Each pole costs one LDL^T of T + s_j I
// (T + s_j I is positive definite: no pivoting) and a forward and a backward sweep over B's rows; the
// columns of B are independent, so lanes take columns and the sweeps run along contiguous rows.
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/core/linalg/lanes.hpp"
#include "perfex/core/math.hpp"

namespace perfex::linalg {

// Poles per factorisation phase (the factors of a group live in scratch: 2 m group doubles).
constexpr int inverse_sqrt_pole_group = 16;

// B, Y, F: m rows of nc columns, row stride ld. The poles (shift, weight, npoles) are those of the ratio
// of the bracket [lower, lower 2^r]: scaled here by lower and sqrt(lower). Y is work (m x ld); fac holds
// 2 m inverse_sqrt_pole_group doubles. Two phases per group of poles.
template <class Lanes>
KOKKOS_INLINE_FUNCTION void team_tridiagonal_inverse_sqrt(const Lanes& lanes, const double* d, const double* e, int m,
                                                          const double* shift, const double* weight, int npoles,
                                                          double lower, const double* b, double* y, double* f,
                                                          int nc, int ld, double* fac) {
  constexpr int group = inverse_sqrt_pole_group;
  const double weight_scale = math::sqrt(lower);
  double* fl = fac;              // [i * group + jj]: l_i = e_i / delta_i of pole jj
  double* fw = fac + m * group;  // [i * group + jj]: w_jj / delta_i
  for (int j0 = 0; j0 < npoles; j0 += group) {
    const int gn = npoles - j0 < group ? npoles - j0 : group;
    // LDL^T of T + s I for this lane's poles, pole index innermost (SIMD over poles on one lane).
    lanes.phase([&](int lane, int nl) {
      const LaneRange poles = lane_range(lane, nl, 0, gn);
      for (int jj = poles.lo; jj < poles.hi; ++jj) {
        const double inv = 1.0 / (d[0] + lower * shift[j0 + jj]);
        fl[jj] = m > 1 ? e[0] * inv : 0.0;
        fw[jj] = weight_scale * weight[j0 + jj] * inv;
      }
      for (int i = 1; i < m; ++i) {
        const double ep = e[i - 1];
        const double en = i + 1 < m ? e[i] : 0.0;
        const double* lp = fl + (i - 1) * group;
        double* li = fl + i * group;
        double* wi = fw + i * group;
        for (int jj = poles.lo; jj < poles.hi; ++jj) {
          const double inv = 1.0 / ((d[i] + lower * shift[j0 + jj]) - lp[jj] * ep);
          li[jj] = en * inv;
          wi[jj] = weight_scale * weight[j0 + jj] * inv;
        }
      }
    });
    // Sweeps for this lane's columns, in blocks of about 24 so that Y, B and F rows stay in L1 on a CPU.
    lanes.phase([&](int lane, int nl) {
      const LaneRange cols = lane_range(lane, nl, 0, nc);
      const int nblocks = (cols.hi - cols.lo + 23) / 24;
      for (int blk = 0; blk < nblocks; ++blk) {
        const LaneRange bc = lane_range(blk, nblocks, cols.lo, cols.hi);
        for (int jj = 0; jj < gn; ++jj) {
          // L z = b (unit lower bidiagonal), z in Y.
          for (int c = bc.lo; c < bc.hi; ++c) y[c] = b[c];
          for (int i = 1; i < m; ++i) {
            const double l = fl[(i - 1) * group + jj];
            const double* bi = b + i * ld;
            const double* yp = y + (i - 1) * ld;
            double* yi = y + i * ld;
            for (int c = bc.lo; c < bc.hi; ++c) yi[c] = bi[c] - l * yp[c];
          }
          // w D^{-1} z, then L^T x = that, x over Y, F += x.
          {
            const double wd = fw[(m - 1) * group + jj];
            double* yi = y + (m - 1) * ld;
            double* fi = f + (m - 1) * ld;
            for (int c = bc.lo; c < bc.hi; ++c) {
              yi[c] *= wd;
              fi[c] += yi[c];
            }
          }
          for (int i = m - 2; i >= 0; --i) {
            const double l = fl[i * group + jj];
            const double wd = fw[i * group + jj];
            double* yi = y + i * ld;
            const double* yn = y + (i + 1) * ld;
            double* fi = f + i * ld;
            for (int c = bc.lo; c < bc.hi; ++c) {
              const double x = yi[c] * wd - l * yn[c];
              yi[c] = x;
              fi[c] += x;
            }
          }
        }
      }
    });
  }
}

}  // namespace perfex::linalg
