// The per-patch solve, written once for every execution space: one team per patch, phases separated by
// team barriers. Internal to core (extract.cpp launches it in batches over the patch plan).
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/core/linalg/band_cholesky.hpp"
#include "perfex/core/math.hpp"
#include "perfex/core/detail/extract_phases.hpp"
#include "perfex/core/patch_plan.hpp"
#include "perfex/core/types.hpp"

namespace perfex::detail {

// Per-slot scratch in global memory (a slot is one patch of the current batch).
struct PatchWorkspace {
  DeviceView<double**> icov;        // [slot][max_n * ld]: iCov, then its Cholesky factor
  DeviceView<double**> cinv;        // [slot][max_n * ldz]: selected inverse C inside the band (full band)
  DeviceView<double**> vec;         // [slot][3 * max_n]: fluxweight | y -> xflux | column work
  DeviceView<double**> box;         // [slot][3 * max_box]: weights | pixel values -> chi^2 | model -> totivar > 0
  DeviceView<double**> cblocks;     // [slot][c * bstride + i * nwave + j]: C_bb(i, j) of core fiber c, both
                                    // triangles (read by the decorrelation, core/src/decorrelate.hpp)
  int ld = 0;   // lower band row length (max bandwidth + 1)
  int ldz = 0;  // full band row length (2 max bandwidth + 1)
  int max_n = 0;
  int max_box = 0;
  int bstride = 0;  // per C_bb block: max_nwave^2
};

struct PatchOutputs {
  DeviceView<double**> flux;        // [nspec][nwave] per bin (converted per Angstrom on the host)
  DeviceView<double**> ivar;
  DeviceView<double***> resolution; // [nspec][2 ndiag + 1][nwave]
  DeviceView<double**> chi2pix;
  DeviceView<double**> pixmask;
  DeviceView<int*> status;          // [patch]: 0 ok, otherwise a failure code
};

struct PatchSolver {
  DeviceView<const Patch*> patches;
  DeviceView<const double****> spots;  // [fiber][wave][iy][ix]
  DeviceView<const int**> xcorner;
  DeviceView<const int**> ycorner;
  DeviceView<const double**> image;
  DeviceView<const double**> weights;
  PatchWorkspace ws;
  PatchOutputs out;
  int cache_fiber_begin = 0;
  int specmin = 0;
  int origin_y = 0, origin_x = 0, image_ny = 0, image_nx = 0, ccd_ny = 0, ccd_nx = 0;
  int stamp_ny = 0, stamp_nx = 0;
  int ndiag = 0;
  double regularize = 0.0;
  double psferr = 0.01;
  int batch_begin = 0;
  SolvePhase last_phase = SolvePhase::All;

  // Pixel value and weight at full-CCD (y, x); pixels off the image or the CCD, and non-finite or
  // negative values, count as masked (weight 0).
  KOKKOS_INLINE_FUNCTION void pixel(int y, int x, double& value, double& weight) const {
    const int iy = y - origin_y, ix = x - origin_x;
    value = 0.0;
    weight = 0.0;
    if (y < 0 || y >= ccd_ny || x < 0 || x >= ccd_nx || iy < 0 || iy >= image_ny || ix < 0 || ix >= image_nx) return;
    const double v = image(iy, ix), w = weights(iy, ix);
    if (math::isfinite(v) && math::isfinite(w) && w > 0.0) {
      value = v;
      weight = w;
    }
  }

  template <class Member>
  KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const;

 private:
  template <class Member>
  KOKKOS_INLINE_FUNCTION void gather_pixels(const Member& team, const Patch& p, double* box) const;
  template <class Member>
  KOKKOS_INLINE_FUNCTION void normal_equations(const Member& team, const Patch& p, const double* box, double* icov,
                                               double* fluxweight, double* rhs) const;
  template <class Member>
  KOKKOS_INLINE_FUNCTION void copy_core_blocks(const Member& team, const Patch& p, const double* cinv,
                                               double* cblocks) const;
  template <class Member>
  KOKKOS_INLINE_FUNCTION void chi2_and_pixmask(const Member& team, const Patch& p, const double* xflux, double* box) const;
};

// ---- implementation -------------------------------------------------------------------------------------

template <class Member>
KOKKOS_INLINE_FUNCTION void PatchSolver::operator()(const Member& team) const {
  const int slot = team.league_rank();
  const Patch p = patches(batch_begin + slot);
  const int n = p.unknowns();
  const int ld = ws.ld;
  double* icov = &ws.icov(slot, 0);
  double* cinv = &ws.cinv(slot, 0);
  double* fluxweight = &ws.vec(slot, 0);
  double* xflux = fluxweight + ws.max_n;

  double* box = &ws.box(slot, 0);
  gather_pixels(team, p, box);
  normal_equations(team, p, box, icov, fluxweight, xflux);
  if (last_phase < SolvePhase::Factorization) return;
  double* col = xflux + ws.max_n;
  const int info = linalg::team_band_cholesky(team, icov, n, p.bandwidth, ld, col);
  if (info != 0) {
    Kokkos::single(Kokkos::PerTeam(team), [&]() { out.status(batch_begin + slot) = info; });
    return;
  }
  linalg::team_band_solve(team, icov, n, p.bandwidth, ld, xflux);
  if (last_phase < SolvePhase::SelectedInverse) return;
  linalg::team_band_selected_inverse(team, icov, n, p.bandwidth, ld, cinv, ws.ldz, col);
  if (last_phase < SolvePhase::Decorrelation) return;
  copy_core_blocks(team, p, cinv, &ws.cblocks(slot, 0));
  if (last_phase < SolvePhase::All) return;
  chi2_and_pixmask(team, p, xflux, box);
}

// Copies the box's pixels and weights into the workspace once (weights 0 for masked, off-image, off-CCD
// or non-finite pixels), so the accumulation loops below read contiguous rows.
template <class Member>
KOKKOS_INLINE_FUNCTION void PatchSolver::gather_pixels(const Member& team, const Patch& p, double* box) const {
  const int nx = p.xmax - p.xmin, ny = p.ymax - p.ymin;
  double* wbox = box;
  double* vbox = box + ws.max_box;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, ny), [&](const int iy) {
    for (int ix = 0; ix < nx; ++ix) {
      double v, w;
      pixel(p.ymin + iy, p.xmin + ix, v, w);
      wbox[iy * nx + ix] = w;
      vbox[iy * nx + ix] = v;
    }
  });
  team.team_barrier();
}

// iCov = A^T W A + diag(alpha^2 + 1e-15) inside the band, y = A^T W p, fluxweight = A^T w, accumulated
// from the sparse spots: entry (i, k) sums over the pixels where both stamps overlap the box.
template <class Member>
KOKKOS_INLINE_FUNCTION void PatchSolver::normal_equations(const Member& team, const Patch& p, const double* box,
                                                          double* icov, double* fluxweight, double* rhs) const {
  const int n = p.unknowns();
  const int nw = p.nwave;
  const int ld = ws.ld;
  const int bw = p.bandwidth;
  const int f0 = p.fiber_lo - cache_fiber_begin;
  const int nx = p.xmax - p.xmin;
  const double* wbox = box;
  const double* vbox = box + ws.max_box;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, n), [&](const int i) {
    const int fi = f0 + i / nw, wi = p.wave_lo + i % nw;
    const int xi = xcorner(fi, wi), yi = ycorner(fi, wi);
    // The stamp of i clipped to the box.
    const int ylo = yi > p.ymin ? yi : p.ymin, yhi = yi + stamp_ny < p.ymax ? yi + stamp_ny : p.ymax;
    const int xlo = xi > p.xmin ? xi : p.xmin, xhi = xi + stamp_nx < p.xmax ? xi + stamp_nx : p.xmax;
    const double* spot_i = &spots(fi, wi, 0, 0);
    double fw = 0.0, yy = 0.0;
    for (int y = ylo; y < yhi; ++y) {
      const double* wrow = wbox + (y - p.ymin) * nx - p.xmin;
      const double* vrow = vbox + (y - p.ymin) * nx - p.xmin;
      const double* srow = spot_i + (y - yi) * stamp_nx - xi;
      for (int x = xlo; x < xhi; ++x) {
        const double wa = wrow[x] * srow[x];
        fw += wa;
        yy += wa * vrow[x];
      }
    }
    fluxweight[i] = fw;
    rhs[i] = yy;
    // Row i of the lower band: partners k = i - bw .. i, visited fiber by fiber without divisions; only
    // pairs whose stamps overlap inside the box contribute.
    double* row = icov + i * ld + (bw - i);  // row[k] = iCov(i, k)
    for (int k = i - bw; k <= i; ++k)
      if (k >= 0) row[k] = 0.0;
    const int ilocal_f = i / nw;
    for (int fl = ilocal_f; fl >= 0 && (fl + 1) * nw - 1 >= i - bw; --fl) {
      const int kmin = (fl * nw > i - bw) ? fl * nw : i - bw;
      const int kmax = (fl == ilocal_f) ? i : fl * nw + nw - 1;
      const int fk = f0 + fl;
      for (int k = kmin; k <= kmax; ++k) {
        const int wk = p.wave_lo + (k - fl * nw);
        const int yk = ycorner(fk, wk);
        const int oylo = ylo > yk ? ylo : yk, oyhi = yhi < yk + stamp_ny ? yhi : yk + stamp_ny;
        if (oylo >= oyhi) continue;
        const int xk = xcorner(fk, wk);
        const int oxlo = xlo > xk ? xlo : xk, oxhi = xhi < xk + stamp_nx ? xhi : xk + stamp_nx;
        if (oxlo >= oxhi) continue;
        const double* spot_k = &spots(fk, wk, 0, 0);
        double sum = 0.0;
        for (int y = oylo; y < oyhi; ++y) {
          const double* wrow = wbox + (y - p.ymin) * nx - p.xmin;
          const double* si = spot_i + (y - yi) * stamp_nx - xi;
          const double* sk = spot_k + (y - yk) * stamp_nx - xk;
          for (int x = oxlo; x < oxhi; ++x) sum += wrow[x] * si[x] * sk[x];
        }
        row[k] = sum;
      }
    }
  });
  team.team_barrier();
  // The prior: bins below 1e-4 of the largest fluxweight are pulled to zero flux (alpha = minweight -
  // fluxweight), the others get `regularize`; a 1e-15 floor keeps iCov positive definite.
  double maxweight = 0.0;
  Kokkos::parallel_reduce(
      Kokkos::TeamThreadRange(team, 0, n), [&](const int i, double& m) { m = fluxweight[i] > m ? fluxweight[i] : m; },
      Kokkos::Max<double>(maxweight));
  const double minweight = 1e-4 * maxweight;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, n), [&](const int i) {
    const double alpha = fluxweight[i] < minweight ? minweight - fluxweight[i] : regularize;
    icov[i * ld + p.bandwidth] += alpha * alpha + 1e-15;
  });
  team.team_barrier();
}

// The core fibers' diagonal blocks C_bb of the selected inverse, row by row, for the decorrelation's launch
// (core/src/decorrelate.hpp). Each row of C_bb is a contiguous piece of the full band (bandwidth >= nwave - 1).
// (A stopgap until the factorisation writes the blocks itself.)
template <class Member>
KOKKOS_INLINE_FUNCTION void PatchSolver::copy_core_blocks(const Member& team, const Patch& p, const double* cinv,
                                                          double* cblocks) const {
  const int m = p.nwave;
  const int ldz = ws.ldz;
  const int bw = p.bandwidth;
  const int core_b0 = p.core_fiber_lo - p.fiber_lo;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, p.ncore_fiber * m), [&](const int ci) {
    const int c = ci / m, i = ci % m;
    const int row = (core_b0 + c) * m + i;  // unknown of C_bb's row i
    const double* band = cinv + row * ldz + (bw - i);  // band[j] = C(row, (core_b0 + c) m + j)
    double* out = cblocks + c * ws.bstride + i * m;
    for (int j = 0; j < m; ++j) out[j] = band[j];
  });
  team.team_barrier();
}

// chi2pix over the whole padded patch, sliced to the core: model = A xflux (deconvolved flux of every
// padded unknown), totivar = 1 / (1/modelivar + 1/w) with modelivar = (psferr model + 1e-32)^-2;
// chi2pix = A^T chi^2 / A^T (totivar > 0). pixmask_fraction = A_core^T (w == 0).
template <class Member>
KOKKOS_INLINE_FUNCTION void PatchSolver::chi2_and_pixmask(const Member& team, const Patch& p, const double* xflux,
                                                          double* box) const {
  const int nx = p.xmax - p.xmin, ny = p.ymax - p.ymin;
  const int nw = p.nwave;
  const int n = p.unknowns();
  const int f0 = p.fiber_lo - cache_fiber_begin;
  const double* wbox = box;
  double* chi2 = box + ws.max_box;  // overwrites the pixel values, row by row after use
  double* good = box + 2 * ws.max_box;
  // Model row by row (deterministic: each row sums its unknowns in a fixed order).
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, ny), [&](const int iy) {
    const int y = p.ymin + iy;
    double* model = good + iy * nx;
    for (int ix = 0; ix < nx; ++ix) model[ix] = 0.0;
    for (int j = 0; j < n; ++j) {
      const int fj = f0 + j / nw, wj = p.wave_lo + j % nw;
      const int yj = ycorner(fj, wj);
      if (y < yj || y >= yj + stamp_ny) continue;
      const int xj = xcorner(fj, wj);
      const int xlo = xj > p.xmin ? xj : p.xmin, xhi = xj + stamp_nx < p.xmax ? xj + stamp_nx : p.xmax;
      const double fx = xflux[j];
      const double* srow = &spots(fj, wj, y - yj, 0) - xj;
      for (int x = xlo; x < xhi; ++x) model[x - p.xmin] += srow[x] * fx;
    }
    for (int ix = 0; ix < nx; ++ix) {
      const double w = wbox[iy * nx + ix];
      const double v = chi2[iy * nx + ix];
      const double mv = psferr * model[ix] + 1e-32;
      const double modelivar = 1.0 / (mv * mv);
      const double totivar = (modelivar > 0.0 && w > 0.0) ? 1.0 / (1.0 / modelivar + 1.0 / w) : 0.0;
      const double chi = (v - model[ix]) * math::sqrt(totivar);
      chi2[iy * nx + ix] = chi * chi;
      model[ix] = totivar > 0.0 ? 1.0 : 0.0;
    }
  });
  team.team_barrier();
  const int core_b0 = p.core_fiber_lo - p.fiber_lo;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, p.ncore_fiber * p.nkeep), [&](const int idx) {
    const int c = idx / p.nkeep, k = idx % p.nkeep;
    const int fj = f0 + core_b0 + c, wj = p.wave_lo + p.core_offset + k;
    const int xj = xcorner(fj, wj), yj = ycorner(fj, wj);
    const int ylo = yj > p.ymin ? yj : p.ymin, yhi = yj + stamp_ny < p.ymax ? yj + stamp_ny : p.ymax;
    const int xlo = xj > p.xmin ? xj : p.xmin, xhi = xj + stamp_nx < p.xmax ? xj + stamp_nx : p.xmax;
    double num = 0.0, den = 0.0, masked = 0.0;
    for (int y = ylo; y < yhi; ++y) {
      const double* srow = &spots(fj, wj, y - yj, 0) - xj;
      const int b = (y - p.ymin) * nx - p.xmin;
      for (int x = xlo; x < xhi; ++x) {
        const double a = srow[x];
        num += a * chi2[b + x];
        den += a * good[b + x];
        masked += wbox[b + x] == 0.0 ? a : 0.0;
      }
    }
    const int fiber_out = p.core_fiber_lo + c - specmin;
    out.chi2pix(fiber_out, p.out_wave + k) = den > 0.0 ? num / den : 0.0;
    out.pixmask(fiber_out, p.out_wave + k) = masked;
  });
  team.team_barrier();
}

}  // namespace perfex::detail
