// F += T^{-1/2} B for a symmetric positive definite tridiagonal T and a block B of columns, on lanes (see
// lanes.hpp), without eigenvectors: T^{-1/2} ~= sum_j w_j (T + s_j I)^{-1} with the poles of
// inverse_sqrt_poles.hpp for T's bracket (tridiagonal_bounds.hpp). Each pole costs one LDL^T of T + s_j I
// (T + s_j I is positive definite: no pivoting) and a forward and a backward sweep over B's rows; the
// columns of B are independent, so lanes take columns and the sweeps run along contiguous rows.
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/backends/host_isa.hpp"
#include "perfex/core/linalg/lanes.hpp"
#include "perfex/core/math.hpp"

namespace perfex::linalg {

// Poles per factorisation phase (the factors of a group live in scratch: 2 m group doubles).
constexpr int inverse_sqrt_pole_group = 16;

// One pole's sweeps over columns [c0, c1): L z = b (unit lower bidiagonal, l[i * stride] = L(i+1, i)),
// then x = L^-T (wd .* z) with wd[i * stride] = w / delta_i, x over Y, F += x.
KOKKOS_INLINE_FUNCTION void sweep_pole(const double* KOKKOS_RESTRICT b, double* KOKKOS_RESTRICT y,
                                       double* KOKKOS_RESTRICT f, int m, int ld, const double* l, const double* wd,
                                       int stride, int c0, int c1) {
  for (int c = c0; c < c1; ++c) y[c] = b[c];
  for (int i = 1; i < m; ++i) {
    const double li = l[(i - 1) * stride];
    for (int c = c0; c < c1; ++c) y[i * ld + c] = b[i * ld + c] - li * y[(i - 1) * ld + c];
  }
  {
    const double w = wd[(m - 1) * stride];
    for (int c = c0; c < c1; ++c) {
      y[(m - 1) * ld + c] *= w;
      f[(m - 1) * ld + c] += y[(m - 1) * ld + c];
    }
  }
  for (int i = m - 2; i >= 0; --i) {
    const double li = l[i * stride], w = wd[i * stride];
    for (int c = c0; c < c1; ++c) {
      const double x = y[i * ld + c] * w - li * y[(i + 1) * ld + c];
      y[i * ld + c] = x;
      f[i * ld + c] += x;
    }
  }
}

// Two poles at once (l, wd of the second at offset 1): B read and F updated once for both.
KOKKOS_INLINE_FUNCTION void sweep_pole_pair(const double* KOKKOS_RESTRICT b, double* KOKKOS_RESTRICT ya,
                                            double* KOKKOS_RESTRICT yb, double* KOKKOS_RESTRICT f, int m, int ld,
                                            const double* l, const double* wd, int stride, int c0, int c1) {
  for (int c = c0; c < c1; ++c) ya[c] = yb[c] = b[c];
  for (int i = 1; i < m; ++i) {
    const double la = l[(i - 1) * stride], lb = l[(i - 1) * stride + 1];
    for (int c = c0; c < c1; ++c) {
      const double bc = b[i * ld + c];
      ya[i * ld + c] = bc - la * ya[(i - 1) * ld + c];
      yb[i * ld + c] = bc - lb * yb[(i - 1) * ld + c];
    }
  }
  {
    const double wa = wd[(m - 1) * stride], wb = wd[(m - 1) * stride + 1];
    for (int c = c0; c < c1; ++c) {
      const double xa = ya[(m - 1) * ld + c] * wa, xb = yb[(m - 1) * ld + c] * wb;
      ya[(m - 1) * ld + c] = xa;
      yb[(m - 1) * ld + c] = xb;
      f[(m - 1) * ld + c] += xa + xb;
    }
  }
  for (int i = m - 2; i >= 0; --i) {
    const double la = l[i * stride], lb = l[i * stride + 1], wa = wd[i * stride], wb = wd[i * stride + 1];
    for (int c = c0; c < c1; ++c) {
      const double xa = ya[i * ld + c] * wa - la * ya[(i + 1) * ld + c];
      const double xb = yb[i * ld + c] * wb - lb * yb[(i + 1) * ld + c];
      ya[i * ld + c] = xa;
      yb[i * ld + c] = xb;
      f[i * ld + c] += xa + xb;
    }
  }
}

// B, Y, F: m rows of nc columns, row stride ld. The poles (shift, weight, npoles) are those of the ratio
// of the bracket [lower, lower 2^r]: scaled here by lower and sqrt(lower). Y and Y2 are work (m x ld each);
// fac holds 2 m inverse_sqrt_pole_group doubles. Two phases per group of poles.
template <class Lanes>
PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION void team_tridiagonal_inverse_sqrt(
    const Lanes& lanes, const double* d, const double* e, int m, const double* shift, const double* weight, int npoles,
    double lower, const double* b, double* y, double* y2, double* f, int nc, int ld, double* fac) {
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
    // Sweeps for this lane's columns, two poles per pass. (Whole rows: splitting a DESI block's 52 columns
    // in two blocks to keep them in L1 was 1.4x slower on a CPU.)
    lanes.phase([&](int lane, int nl) {
      const LaneRange cols = lane_range(lane, nl, 0, nc);
      int jj = 0;
      for (; jj + 1 < gn; jj += 2) sweep_pole_pair(b, y, y2, f, m, ld, fl + jj, fw + jj, group, cols.lo, cols.hi);
      if (jj < gn) sweep_pole(b, y, f, m, ld, fl + jj, fw + jj, group, cols.lo, cols.hi);
    });
  }
}

}  // namespace perfex::linalg
