// The per-patch solve, written once for every execution space: one team per patch, phases separated by
// team barriers, the patch's pixels, weighted stamps and fiber tiles in the team's scratch. Internal to core
// (extract.cpp launches it in batches over the patch plan, and again for the patches that failed).
#pragma once

#include <Kokkos_Core.hpp>

#include <cstdint>

#include "fiber_tiles.hpp"
#include "perfex/backends/host_isa.hpp"
#include "perfex/core/detail/extract_phases.hpp"
#include "perfex/core/math.hpp"
#include "perfex/core/patch_plan.hpp"
#include "perfex/core/types.hpp"

namespace perfex::detail {

// Per-slot results in global memory (a slot is one patch of the current batch), read by the decorrelation.
struct PatchWorkspace {
  DeviceView<double**> cblocks;  // [slot][c * bstride + i * nwave + j]: C_bb(i, j) of core fiber c, or its inverse
                                 // M_b (PatchSolver::core_tiles), upper triangle j >= i (read by the
                                 // decorrelation, core/src/decorrelate.hpp; the lower triangle is stale)
  DeviceView<double**> vec;      // [slot][2 * max_n]: fluxweight | xflux
  int max_n = 0;
  int max_nfiber = 0;  // fibers of the largest patch
  int bstride = 0;     // per C_bb block: max_nwave^2
  // Team scratch (level 1) of one patch, in doubles: see SolverScratch.
  int max_box = 0;
  int stamp_px = 0;
  int max_tile_ld = 0;  // largest tile (fibers per tile x bins)
  int max_tiles = 0;    // FiberTiles::tile_count of the largest patch
  // Tiles too large for team scratch: in tile_pool [slot][max_tiles * max_tile_ld^2] (global memory) instead.
  bool tiles_in_pool = false;
  DeviceView<double**> tile_pool;
};

// How a patch's team scratch is laid out (doubles from the start of the team's level-1 scratch).
struct SolverScratch {
  KOKKOS_INLINE_FUNCTION static long box(const PatchWorkspace&) { return 0; }
  KOKKOS_INLINE_FUNCTION static long stamps(const PatchWorkspace& ws) { return 3L * ws.max_box; }
  KOKKOS_INLINE_FUNCTION static long diag(const PatchWorkspace& ws, int team_size) {
    return stamps(ws) + static_cast<long>(team_size) * ws.stamp_px;
  }
  KOKKOS_INLINE_FUNCTION static long work(const PatchWorkspace& ws, int team_size) {
    return diag(ws, team_size) + ws.max_n;
  }
  // 5 ints per patch fiber (FarStrips), in doubles' room.
  KOKKOS_INLINE_FUNCTION static long ints(const PatchWorkspace& ws, int team_size) {
    return work(ws, team_size) + 2L * ws.max_tile_ld;
  }
  KOKKOS_INLINE_FUNCTION static long tiles(const PatchWorkspace& ws, int team_size) {
    return ints(ws, team_size) + 5L * ws.max_nfiber;
  }
  KOKKOS_INLINE_FUNCTION static long total(const PatchWorkspace& ws, int team_size) {
    return tiles(ws, team_size) +
           (ws.tiles_in_pool ? 0L : static_cast<long>(ws.max_tiles) * ws.max_tile_ld * ws.max_tile_ld);
  }
};

struct PatchOutputs {
  DeviceView<double**> flux;  // [nspec][nwave] per bin (converted per Angstrom on the host)
  DeviceView<double**> ivar;
  DeviceView<double***> resolution;  // [nspec][2 ndiag + 1][nwave]
  DeviceView<double**> chi2pix;
  DeviceView<double**> pixmask;
  DeviceView<std::uint8_t**> unsolved;  // [nspec][nwave]: 1 on the kept bins of patches no pass could solve
                                        // (written by extract.cpp after the passes, not by the solver)
  DeviceView<int*> status;              // [patch of the launch's list]: PatchStatus
};

// Per patch, after a launch of the solver.
enum PatchStatus : int {
  solved = 0,
  not_positive_definite =
      1,                // a pivot of the tile factorisation fell to tau of its diagonal entry, or iCov is not finite
  wide_coupling = 2,    // fibers further apart than the tiles hold couple: solve again with wider tiles
  prior_dominates = 3,  // (with a ridge) the ridge supplies more than 1% of a reported bin's information
};

// The solver's numerical thresholds (README, "Degenerate patches").
struct SolverThresholds {
  static constexpr double pivot_tau = 1e-10;  // not positive definite below this scaled pivot
  static constexpr double far_coupling =
      1e-10;  // couplings of fibers beyond the tiles below this x max diagonal are dropped
  static constexpr double retry_ridge = 1e-8;  // the retry's prior: iCov_jj (1 + retry_ridge)
  static constexpr double prior_share = 0.01;  // a retried bin may take at most this share of its information from it
};

// What the patch at `index` of a list (fibers per tile `group`, extra prior `ridge`; empty views: 1 and 0) leaves
// in cblocks for the decorrelation: C_bb = M_b^{-1} where C_bb is needed, that is for tiles of several fibers
// (C_bb is then a block of C_ss, not the inverse of a block of M_s) and for the retry's prior check (it reads
// C_jj); otherwise M_b itself, which saves its inversion (the decorrelation takes either:
// linalg/block_inverse_sqrt.hpp).
KOKKOS_INLINE_FUNCTION CoreTiles core_tiles_of(const DeviceView<const int*>& group,
                                               const DeviceView<const double*>& ridge, int index) {
  const int g = group.extent(0) > 0 ? group(index) : 1;
  const double r = ridge.extent(0) > 0 ? ridge(index) : 0.0;
  return g == 1 && r == 0.0 ? CoreTiles::precision : CoreTiles::covariance;
}

// An unknown's stamp clipped to the patch's box (PatchSolver::weighted_stamp).
struct StampClip {
  int xi, yi;    // the stamp's corner
  int ylo, yhi;  // rows inside the box
  int xlo, xhi;  // columns inside the box
};

// Fibers further apart than the tiles hold ("far" pairs: tile distance >= 2) are not summed pair by pair: a
// bound replaces them. Every far partner k of i (patch fiber fk) has |iCov(i, k)| <= sum_p |w a_i|(p) U_fk(p)
// with U_fk(p) = max_k |a_k(p)| (the largest of fk's stamps at pixel p, |.| so that it holds for any spot),
// taken over the columns fk shares with the fibers it is far from ("strips", a few columns for DESI spots).
// That costs a few percent of the pair sums it replaces and stays within a few times the largest true
// coupling (the best partner at each pixel need not be the same one). FarStrips lays the strips out in
// the box's third plane (free until chi2pix); `fits` is false where they would not fit, and the far pairs are
// then summed exactly.
struct FarStrips {
  int* x0;      // per patch fiber: the strip's first box column
  int* width;   // its columns (0: no strip)
  int* offset;  // its first double in `u` (rows of `width`, the box's rows)
  double* u;
  bool fits;
};

struct PatchSolver {
  DeviceView<const Patch*> patches;
  DeviceView<const int*> group;        // [patch of the list]: fibers per tile (empty: 1)
  DeviceView<const double*> ridge;     // [patch of the list]: extra prior, relative to iCov's diagonal (empty: 0)
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

  KOKKOS_INLINE_FUNCTION CoreTiles core_tiles(int index) const { return core_tiles_of(group, ridge, index); }

  // The first bin in [lo, hi) of the patch's fiber at cache index `fiber` whose stamp starts below row `y`
  // (ycorner > y), for a fiber whose stamps' first rows ascend along the patch's bins (bisection).
  KOKKOS_INLINE_FUNCTION int first_bin_after(const Patch& p, int fiber, int lo, int hi, int y) const {
    while (lo < hi) {
      const int mid = lo + (hi - lo) / 2;
      if (ycorner(fiber, p.wave_lo + mid) > y)
        hi = mid;
      else
        lo = mid + 1;
    }
    return lo;
  }

  template <class Member>
  PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const;

 private:
  template <class Member>
  PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION void gather_pixels(const Member& team, const Patch& p,
                                                                   double* box) const;
  template <class Member>
  KOKKOS_INLINE_FUNCTION std::uint64_t ascending_fibers(const Member& team, const Patch& p) const;
  template <class Member>
  KOKKOS_INLINE_FUNCTION StampClip weighted_stamp(const Member& team, const Patch& p, int fiber, int wave,
                                                  const double* wbox, double* ws_i) const;
  template <class Member, class Emit>
  KOKKOS_INLINE_FUNCTION void partner_sums(const Member& team, const Patch& p, std::uint64_t ascending,
                                           const StampClip& k, const double* ws_i, int fk, int ck,
                                           const Emit& emit) const;
  template <class Member>
  PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION FarStrips far_strips(const Member& team, const Patch& p,
                                                                     const FiberTiles& t, double* plane,
                                                                     int* ints) const;
  template <class Member>
  PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION void normal_equations(const Member& team, const Patch& p,
                                                                      const FiberTiles& t, std::uint64_t ascending,
                                                                      double* box, double* stamps, int* ints,
                                                                      double* fluxweight, double* rhs, double* diag,
                                                                      double& farmax, bool& far_exact) const;
  template <class Member>
  PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION double far_couplings(const Member& team, const Patch& p,
                                                                     const FiberTiles& t, std::uint64_t ascending,
                                                                     const double* box, double* stamps) const;
  template <class Member>
  KOKKOS_INLINE_FUNCTION void add_prior(const Member& team, const Patch& p, const FiberTiles& t, double relative_ridge,
                                        const double* fluxweight, double* diag) const;
  template <class Member>
  KOKKOS_INLINE_FUNCTION void copy_cblocks(const Member& team, const Patch& p, const FiberTiles& t, double* cb) const;
  template <class Member>
  PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION void chi2_and_pixmask(const Member& team, const Patch& p,
                                                                      std::uint64_t ascending, const double* xflux,
                                                                      double* box, bool solved) const;
};

// ---- implementation -------------------------------------------------------------------------------------

template <class Member>
KOKKOS_INLINE_FUNCTION void PatchSolver::operator()(const Member& team) const {
  const int slot = team.league_rank();
  const int index = batch_begin + slot;
  const Patch p = patches(index);
  const int n = p.unknowns();
  double* fluxweight = &ws.vec(slot, 0);
  double* xflux = fluxweight + ws.max_n;
  double* cb = &ws.cblocks(slot, 0);

  double* scratch = static_cast<double*>(team.team_scratch(1).get_shmem(
      sizeof(double) * static_cast<std::size_t>(SolverScratch::total(ws, team.team_size()))));
  double* box = scratch + SolverScratch::box(ws);
  double* stamps = scratch + SolverScratch::stamps(ws);
  double* diag = scratch + SolverScratch::diag(ws, team.team_size());
  double* work = scratch + SolverScratch::work(ws, team.team_size());
  int* ints = reinterpret_cast<int*>(scratch + SolverScratch::ints(ws, team.team_size()));

  FiberTiles t;
  t.g = group.extent(0) > 0 ? group(index) : 1;
  if (t.g > p.nfiber) t.g = p.nfiber;
  t.m = p.nwave;
  t.nfiber = p.nfiber;
  t.ntile = (p.nfiber + t.g - 1) / t.g;
  t.ld = t.g * t.m;
  const int core_b0 = p.core_fiber_lo - p.fiber_lo;
  t.first_core_tile = core_b0 / t.g;
  t.last_core_tile = (core_b0 + p.ncore_fiber - 1) / t.g;
  t.skew = p.wave_skew;
  t.base = ws.tiles_in_pool ? &ws.tile_pool(slot, 0) : scratch + SolverScratch::tiles(ws, team.team_size());
  const double relative_ridge = ridge.extent(0) > 0 ? ridge(index) : 0.0;

  gather_pixels(team, p, box);
  const std::uint64_t ascending = ascending_fibers(team, p);
  double farmax = 0.0;
  bool far_exact = false;
  normal_equations(team, p, t, ascending, box, stamps, ints, fluxweight, xflux, diag, farmax, far_exact);
  add_prior(team, p, t, relative_ridge, fluxweight, diag);
  if (last_phase < SolvePhase::Factorization) return;

  int status = PatchStatus::solved;
  if (farmax > 0.0) {
    double maxdiag = 0.0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, 0, n), [&](const int i, double& mx) { mx = diag[i] > mx ? diag[i] : mx; },
        Kokkos::Max<double>(maxdiag));
    // A bound above the threshold: the far pairs summed exactly decide.
    if (!far_exact && !(farmax <= SolverThresholds::far_coupling * maxdiag))
      farmax = far_couplings(team, p, t, ascending, box, stamps);
    if (!(farmax <= SolverThresholds::far_coupling * maxdiag)) status = PatchStatus::wide_coupling;
  }
  if (status == PatchStatus::solved &&
      detail::team_solve_fiber_tiles(team, t, diag, SolverThresholds::pivot_tau, xflux, work,
                                     last_phase >= SolvePhase::SelectedInverse ? core_tiles(index)
                                                                               : CoreTiles::factor) != 0)
    status = PatchStatus::not_positive_definite;
  if (status == PatchStatus::solved && last_phase >= SolvePhase::SelectedInverse) {
    copy_cblocks(team, p, t, cb);
    if (relative_ridge > 0.0) {
      // The ridge added r/(1+r) of iCov_jj to bin j: reject the patch if that is over prior_share of the
      // bin's information 1/C_jj for a bin it reports.
      const double share = relative_ridge / (1.0 + relative_ridge);
      int dominated = 0;
      Kokkos::parallel_reduce(
          Kokkos::TeamThreadRange(team, 0, p.ncore_fiber * p.nkeep),
          [&](const int idx, int& bad) {
            const int c = idx / p.nkeep, k = p.core_offset + idx % p.nkeep;
            const double cjj = cb[c * ws.bstride + k * p.nwave + k];
            const double info = share * diag[(core_b0 + c) * p.nwave + k];
            if (!(info * cjj <= SolverThresholds::prior_share)) bad = 1;
          },
          Kokkos::Max<int>(dominated));
      if (dominated) status = PatchStatus::prior_dominates;
    }
  }
  Kokkos::single(Kokkos::PerTeam(team), [&]() { out.status(index) = status; });
  if (status != PatchStatus::solved) {
    if (last_phase >= SolvePhase::All) chi2_and_pixmask(team, p, ascending, xflux, box, false);
    return;
  }
  // The decorrelation of the solved patches is a launch of its own after this one (core/src/decorrelate.hpp).
  if (last_phase < SolvePhase::All) return;
  chi2_and_pixmask(team, p, ascending, xflux, box, true);
}

// Copies the box's pixels and weights into scratch once (weights 0 for masked, off-image, off-CCD or
// non-finite pixels), so the accumulation loops below read contiguous rows.
template <class Member>
KOKKOS_INLINE_FUNCTION void PatchSolver::gather_pixels(const Member& team, const Patch& p, double* box) const {
  const int nx = p.xmax - p.xmin, ny = p.ymax - p.ymin;
  double* wbox = box;
  double* vbox = box + ws.max_box;
  // The box's columns on both the CCD and the image, [xa, xb) relative to xmin (the same for every row).
  const int col_lo = origin_x > 0 ? origin_x : 0;
  const int col_hi = origin_x + image_nx < ccd_nx ? origin_x + image_nx : ccd_nx;
  const int xa = col_lo > p.xmin ? (col_lo < p.xmax ? col_lo : p.xmax) - p.xmin : 0;
  const int xb_raw = (col_hi < p.xmax ? col_hi : p.xmax) - p.xmin;
  const int xb = xb_raw > xa ? xb_raw : xa;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, ny), [&](const int iy) {
    const int y = p.ymin + iy, row = y - origin_y;
    const bool on_image = y >= 0 && y < ccd_ny && row >= 0 && row < image_ny;
    const int lo = on_image ? xa : nx, hi = on_image ? xb : nx;
    double* wout = wbox + iy * nx;
    double* vout = vbox + iy * nx;
    // Off the CCD or the image: weight 0; on it, the pixel unless its value or weight is not finite or the
    // weight is not positive (branch-free: a vectorised pass over the row).
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, 0, lo), [&](const int ix) { wout[ix] = vout[ix] = 0.0; });
    if (hi > lo) {
      // Image column x - origin_x of box column ix: offsets from the arrays' starts, never a pointer before them.
      const long vrow = static_cast<long>(row) * static_cast<long>(image.stride(0)) + (p.xmin - origin_x);
      const long wrow = static_cast<long>(row) * static_cast<long>(weights.stride(0)) + (p.xmin - origin_x);
      const double* value = image.data();
      const double* weight = weights.data();
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, lo, hi), [&](const int ix) {
        const double v = value[vrow + ix], w = weight[wrow + ix];
        const bool use = math::isfinite(v) & math::isfinite(w) & (w > 0.0);
        wout[ix] = use ? w : 0.0;
        vout[ix] = use ? v : 0.0;
      });
    }
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, hi, nx), [&](const int ix) { wout[ix] = vout[ix] = 0.0; });
  });
  team.team_barrier();
}

// Bit b (the patch's first 64 fibers): the first rows of fiber b's stamps never decrease along the patch's
// bins (every real trace), so the bins whose stamps meet a pixel row are a contiguous run found by bisection
// (first_bin_after) in the normal equations and in chi2pix; the others' bins are all tested.
template <class Member>
KOKKOS_INLINE_FUNCTION std::uint64_t PatchSolver::ascending_fibers(const Member& team, const Patch& p) const {
  const int f0 = p.fiber_lo - cache_fiber_begin;
  std::uint64_t ascending = 0;
  Kokkos::parallel_reduce(
      Kokkos::TeamThreadRange(team, 0, p.nfiber < 64 ? p.nfiber : 64),
      [&](const int b, std::uint64_t& bits) {
        bool up = true;
        for (int w = 1; w < p.nwave && up; ++w)
          up = ycorner(f0 + b, p.wave_lo + w) >= ycorner(f0 + b, p.wave_lo + w - 1);
        if (up) bits |= std::uint64_t(1) << b;
      },
      Kokkos::BOr<std::uint64_t>(ascending));
  return ascending;
}

// Unknown (fiber, wave)'s stamp clipped to the box, and its weighted stamp w a_i in ws_i (rows of stamp_nx,
// the clip's columns from 0).
template <class Member>
KOKKOS_INLINE_FUNCTION StampClip PatchSolver::weighted_stamp(const Member& team, const Patch& p, int fiber, int wave,
                                                             const double* wbox, double* ws_i) const {
  StampClip k;
  k.xi = xcorner(fiber, wave);
  k.yi = ycorner(fiber, wave);
  k.ylo = k.yi > p.ymin ? k.yi : p.ymin;
  k.yhi = k.yi + stamp_ny < p.ymax ? k.yi + stamp_ny : p.ymax;
  k.xlo = k.xi > p.xmin ? k.xi : p.xmin;
  k.xhi = k.xi + stamp_nx < p.xmax ? k.xi + stamp_nx : p.xmax;
  if (k.yhi < k.ylo) k.yhi = k.ylo;
  if (k.xhi < k.xlo) k.xhi = k.xlo;
  const int nx = p.xmax - p.xmin;
  const double* spot_i = &spots(fiber, wave, 0, 0);
  for (int y = k.ylo; y < k.yhi; ++y) {
    const double* wrow = wbox + (y - p.ymin) * nx + (k.xlo - p.xmin);
    const double* srow = spot_i + (y - k.yi) * stamp_nx + (k.xlo - k.xi);
    double* out = ws_i + (y - k.ylo) * stamp_nx;
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, 0, k.xhi - k.xlo),
                         [&](const int x) { out[x] = wrow[x] * srow[x]; });
  }
  return k;
}

// iCov(i, k) for the bins k of patch fiber fk (from bin ck on) whose stamps overlap i's clipped stamp, in
// ascending k: emit(ck, value). Partners whose stamp rows meet [ylo, yhi): with rows ascending in
// wavelength (`ascending`), a binary search for the first and a stop after the last; otherwise every bin is
// tested.
template <class Member, class Emit>
KOKKOS_INLINE_FUNCTION void PatchSolver::partner_sums(const Member& team, const Patch& p, std::uint64_t ascending,
                                                      const StampClip& k, const double* ws_i, int fk, int ck,
                                                      const Emit& emit) const {
  const int f0 = p.fiber_lo - cache_fiber_begin;
  const int wk0 = p.wave_lo;
  const int m = p.nwave;
  const bool full_row = k.xlo == k.xi && k.xhi - k.xlo == stamp_nx;  // i's weighted rows are whole stamp rows
  const double* spot_f = &spots(f0 + fk, wk0, 0, 0);
  const bool sorted = fk < 64 && ((ascending >> fk) & 1u);
  if (sorted) ck = first_bin_after(p, f0 + fk, ck, m, k.ylo - stamp_ny);  // stamps ending below ylo
  for (; ck < m; ++ck) {
    const int yk = ycorner(f0 + fk, wk0 + ck);
    if (sorted && yk >= k.yhi) break;
    const int oylo = k.ylo > yk ? k.ylo : yk, oyhi = k.yhi < yk + stamp_ny ? k.yhi : yk + stamp_ny;
    if (oylo >= oyhi) continue;
    const int xk = xcorner(f0 + fk, wk0 + ck);
    const int oxlo = k.xlo > xk ? k.xlo : xk, oxhi = k.xhi < xk + stamp_nx ? k.xhi : xk + stamp_nx;
    if (oxlo >= oxhi) continue;
    const double* wk = ws_i + (oylo - k.ylo) * stamp_nx - k.xlo;
    const double* sk = spot_f + static_cast<long>(ck) * stamp_ny * stamp_nx + (oylo - yk) * stamp_nx - xk;
    double sum;
    if (full_row && xk == k.xi) {  // whole rows on both sides: one contiguous run of pixels
      const double* w0 = wk + k.xlo;
      const double* s0 = sk + xk;
      sum = linalg::lane_sum(team, 0, (oyhi - oylo) * stamp_nx, [&](const int j) { return w0[j] * s0[j]; });
    } else {
      sum = linalg::lane_sum_rows(team, oyhi - oylo, oxlo, oxhi, [&](const int y, const int x) {
        return wk[y * stamp_nx + x] * sk[y * stamp_nx + x];
      });
    }
    emit(ck, sum);
  }
}

template <class Member>
KOKKOS_INLINE_FUNCTION FarStrips PatchSolver::far_strips(const Member& team, const Patch& p, const FiberTiles& t,
                                                         double* plane, int* ints) const {
  const int f0 = p.fiber_lo - cache_fiber_begin;
  const int m = p.nwave, ny = p.ymax - p.ymin;
  const int coupling = p.fiber_coupling > 0 ? p.fiber_coupling : 0;
  FarStrips st{ints, ints + ws.max_nfiber, ints + 2 * ws.max_nfiber, plane, true};
  int* span_lo = ints + 3 * ws.max_nfiber;  // each fiber's stamp columns, clipped to the box
  int* span_hi = ints + 4 * ws.max_nfiber;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, p.nfiber), [&](const int b) {
    int lo = p.xmax, hi = p.xmin;
    for (int c = 0; c < m; ++c) {
      const int x = xcorner(f0 + b, p.wave_lo + c);
      lo = x < lo ? x : lo;
      hi = x + stamp_nx > hi ? x + stamp_nx : hi;
    }
    Kokkos::single(Kokkos::PerThread(team), [&]() {
      span_lo[b] = lo > p.xmin ? lo : p.xmin;
      span_hi[b] = hi < p.xmax ? hi : p.xmax;
    });
  });
  team.team_barrier();
  // The layout, the same on every thread of the team.
  int offset = 0;
  for (int fk = 0; fk < p.nfiber; ++fk) {
    int lo = p.xmax, hi = p.xmin;
    for (int fl = fk - coupling > 0 ? fk - coupling : 0; fl < fk; ++fl)
      if (fk / t.g - fl / t.g >= 2) {
        lo = span_lo[fl] < lo ? span_lo[fl] : lo;
        hi = span_hi[fl] > hi ? span_hi[fl] : hi;
      }
    const int x0 = span_lo[fk] > lo ? span_lo[fk] : lo;
    const int x1 = span_hi[fk] < hi ? span_hi[fk] : hi;
    const int width = x1 > x0 ? x1 - x0 : 0;
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      st.x0[fk] = x0;
      st.width[fk] = width;
      st.offset[fk] = offset;
    });
    offset += width * ny;
  }
  st.fits = offset <= ws.max_box;
  team.team_barrier();
  if (!st.fits) return st;
  // U_fk: threads over the fibers, each taking the largest of its bins' stamps (lanes over the columns).
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, p.nfiber), [&](const int fk) {
    const int width = st.width[fk];
    if (width == 0) return;
    const int x0 = st.x0[fk], x1 = x0 + width;
    double* u = st.u + st.offset[fk];
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, 0, ny * width), [&](const int j) { u[j] = 0.0; });
    for (int c = 0; c < m; ++c) {
      const int xc = xcorner(f0 + fk, p.wave_lo + c), yc = ycorner(f0 + fk, p.wave_lo + c);
      const int lo = xc > x0 ? xc : x0, hi = xc + stamp_nx < x1 ? xc + stamp_nx : x1;
      const int ylo = yc > p.ymin ? yc : p.ymin, yhi = yc + stamp_ny < p.ymax ? yc + stamp_ny : p.ymax;
      if (hi <= lo || yhi <= ylo) continue;  // (most bins of a fiber reach the strip; a few do not)
      // Lanes over the columns, each down its column: one double at a time, so that the next bin's loads of
      // the same strip pixels (its stamp shifted by a column or a row) are forwarded from these stores. Rows
      // of vector stores made every later load that straddled two of them stall (~80% of this phase).
      const double* s0 = &spots(f0 + fk, p.wave_lo + c, ylo - yc, 0) + (lo - xc);
      double* u0 = u + (ylo - p.ymin) * width + (lo - x0);
      const int rows = yhi - ylo;
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, 0, hi - lo), [&](const int x) {
        for (int y = 0; y < rows; ++y) {
          const double a = math::fabs(s0[y * stamp_nx + x]);
          double& v = u0[y * width + x];
          v = a > v ? a : v;
        }
      });
    }
  });
  team.team_barrier();
  return st;
}

// iCov = A^T W A on the fiber tiles (upper triangles of D_s, B_s transposed), y = A^T W p, fluxweight = A^T w,
// diag = iCov's diagonal, accumulated from the sparse spots. Threads take unknowns i; each first weights its
// stamp (clipped to the box) into its own scratch row, then sums it against every partner k >= i whose stamp
// overlaps (lanes over the columns of a stamp row) in the tiles' reach. farmax: a bound on the largest
// |iCov(i, k)| of fibers further apart (FarStrips), or that value itself where the strips do not fit.
template <class Member>
KOKKOS_INLINE_FUNCTION void PatchSolver::normal_equations(const Member& team, const Patch& p, const FiberTiles& t,
                                                          std::uint64_t ascending, double* box, double* stamps,
                                                          int* ints, double* fluxweight, double* rhs, double* diag,
                                                          double& farmax, bool& far_exact) const {
  const int n = p.unknowns();
  const int m = p.nwave;
  const int g = t.g;
  const int f0 = p.fiber_lo - cache_fiber_begin;
  const int nx = p.xmax - p.xmin;
  const int ld = t.ld;
  const double* wbox = box;
  const double* vbox = box + ws.max_box;
  double* ws_i = stamps + team.team_rank() * ws.stamp_px;  // this thread's weighted stamp, rows of stamp_nx
  const int coupling = p.fiber_coupling > 0 ? p.fiber_coupling : 0;
  const FarStrips strips = far_strips(team, p, t, box + 2 * ws.max_box, ints);
  double far = 0.0;
  Kokkos::parallel_reduce(
      Kokkos::TeamThreadRange(team, 0, n),
      [&](const int i, double& far_i) {
        const int fl = i / m, c = i % m;
        const StampClip k = weighted_stamp(team, p, f0 + fl, p.wave_lo + c, wbox, ws_i);
        const int ny_i = k.yhi - k.ylo, nx_i = k.xhi - k.xlo;
        const double fw = linalg::lane_sum_rows(team, ny_i, 0, nx_i,
                                                [&](const int y, const int x) { return ws_i[y * stamp_nx + x]; });
        const double yy = linalg::lane_sum_rows(team, ny_i, 0, nx_i, [&](const int y, const int x) {
          return ws_i[y * stamp_nx + x] * vbox[(k.ylo + y - p.ymin) * nx + (k.xlo + x - p.xmin)];
        });
        // Row i of the tiles: D_s from bin i on, and B_s (transposed) when there is a next tile.
        const int s = fl / g, r = (fl % g) * m + c;
        const int ns = t.size(s);
        double* drow = t.d(s) + r * ld;
        double* brow = s + 1 < t.ntile ? t.bt(s) + r * ld : nullptr;
        const int nnext = s + 1 < t.ntile ? t.size(s + 1) : 0;
        Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, r, ns), [&](const int j) { drow[j] = 0.0; });
        if (brow) Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, 0, nnext), [&](const int j) { brow[j] = 0.0; });
        double dii = 0.0;
        const int fmax = fl + coupling < p.nfiber - 1 ? fl + coupling : p.nfiber - 1;
        for (int fk = fl; fk <= fmax; ++fk) {
          const int tk = fk / g;
          if (tk > s + 1 && strips.fits) {  // far: bounded from fk's strip
            const int x0 = strips.x0[fk], x1 = x0 + strips.width[fk];
            const int lo = k.xlo > x0 ? k.xlo : x0, hi = k.xhi < x1 ? k.xhi : x1;
            if (hi <= lo || ny_i == 0) continue;
            const double* u = strips.u + strips.offset[fk] - x0;
            const double bound = linalg::lane_sum_rows(team, ny_i, lo, hi, [&](const int y, const int x) {
              return math::fabs(ws_i[y * stamp_nx + x - k.xlo]) * u[(k.ylo + y - p.ymin) * strips.width[fk] + x];
            });
            far_i = bound > far_i ? bound : far_i;
            continue;
          }
          partner_sums(team, p, ascending, k, ws_i, fk, fk == fl ? c : 0, [&](const int ck, const double sum) {
            const int rk = (fk % g) * m + ck;
            if (tk == s) {
              Kokkos::single(Kokkos::PerThread(team), [&]() { drow[rk] = sum; });
              if (fk == fl && ck == c) dii = sum;
            } else if (tk == s + 1) {
              Kokkos::single(Kokkos::PerThread(team), [&]() { brow[rk] = sum; });
            } else {
              const double a = math::fabs(sum);
              far_i = a > far_i ? a : far_i;
            }
          });
        }
        Kokkos::single(Kokkos::PerThread(team), [&]() {
          fluxweight[i] = fw;
          rhs[i] = yy;
          diag[i] = dii;
        });
      },
      Kokkos::Max<double>(far));
  // The bound is a sum of non-negative products rounded to nearest (the maxima are exact): a relative 1e-12
  // more covers its rounding.
  farmax = strips.fits ? far * (1.0 + 1e-12) : far;
  far_exact = !strips.fits;
  team.team_barrier();
}

// The largest |iCov(i, k)| over the far pairs, summed exactly (after the bound of normal_equations exceeded
// the threshold). The weighted stamps are formed again.
template <class Member>
KOKKOS_INLINE_FUNCTION double PatchSolver::far_couplings(const Member& team, const Patch& p, const FiberTiles& t,
                                                         std::uint64_t ascending, const double* box,
                                                         double* stamps) const {
  const int m = p.nwave;
  const int f0 = p.fiber_lo - cache_fiber_begin;
  double* ws_i = stamps + team.team_rank() * ws.stamp_px;
  const int coupling = p.fiber_coupling > 0 ? p.fiber_coupling : 0;
  double far = 0.0;
  Kokkos::parallel_reduce(
      Kokkos::TeamThreadRange(team, 0, p.unknowns()),
      [&](const int i, double& far_i) {
        const int fl = i / m, c = i % m;
        const int fmax = fl + coupling < p.nfiber - 1 ? fl + coupling : p.nfiber - 1;
        const int first_far = (fl / t.g + 2) * t.g;
        if (first_far > fmax) return;
        const StampClip k = weighted_stamp(team, p, f0 + fl, p.wave_lo + c, box, ws_i);
        for (int fk = first_far; fk <= fmax; ++fk)
          partner_sums(team, p, ascending, k, ws_i, fk, 0, [&](const int, const double sum) {
            const double a = math::fabs(sum);
            far_i = a > far_i ? a : far_i;
          });
      },
      Kokkos::Max<double>(far));
  team.team_barrier();
  return far;
}

// The prior: bins below 1e-4 of the largest fluxweight are pulled to zero flux (alpha = minweight -
// fluxweight), the others get `regularize`; a 1e-15 floor keeps iCov positive definite; a retry adds
// relative_ridge x iCov_jj. diag becomes iCov's diagonal with the prior.
template <class Member>
KOKKOS_INLINE_FUNCTION void PatchSolver::add_prior(const Member& team, const Patch& p, const FiberTiles& t,
                                                   double relative_ridge, const double* fluxweight,
                                                   double* diag) const {
  const int n = p.unknowns();
  const int m = p.nwave;
  double maxweight = 0.0;
  Kokkos::parallel_reduce(
      Kokkos::TeamThreadRange(team, 0, n),
      [&](const int i, double& mx) { mx = fluxweight[i] > mx ? fluxweight[i] : mx; }, Kokkos::Max<double>(maxweight));
  const double minweight = 1e-4 * maxweight;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, n), [&](const int i) {
    const double alpha = fluxweight[i] < minweight ? minweight - fluxweight[i] : regularize;
    const int fl = i / m, s = fl / t.g, r = (fl % t.g) * m + i % m;
    double* dii = t.d(s) + r * t.ld + r;
    const double value = (*dii + alpha * alpha + 1e-15) * (1.0 + relative_ridge);
    Kokkos::single(Kokkos::PerThread(team), [&]() {
      *dii = value;
      diag[i] = value;
    });
  });
  team.team_barrier();
}

// C_bb (or M_b) of the core fibers (diagonal blocks of the core tiles' mtile, in team scratch) into the slot's
// cblocks for the decorrelation's launch (core/src/decorrelate.hpp): the upper triangle only (row i from
// column i on), all the decorrelation reads; the lower triangle's stores were strided, one cache line each.
template <class Member>
KOKKOS_INLINE_FUNCTION void PatchSolver::copy_cblocks(const Member& team, const Patch& p, const FiberTiles& t,
                                                      double* cb) const {
  const int m = p.nwave;
  const int core_b0 = p.core_fiber_lo - p.fiber_lo;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, p.ncore_fiber * m), [&](const int idx) {
    const int c = idx / m, i = idx % m;
    const int b = core_b0 + c, s = b / t.g, o = (b % t.g) * m;
    const double* crow = t.mtile(s) + (o + i) * t.ld + o;
    double* out = cb + c * ws.bstride;
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, i, m), [&](const int j) { out[i * m + j] = crow[j]; });
  });
  team.team_barrier();
}

// chi2pix over the whole padded patch, sliced to the core: model = A xflux (deconvolved flux of every
// padded unknown), totivar = 1 / (1/modelivar + 1/w) with modelivar = (psferr model + 1e-32)^-2;
// chi2pix = A^T chi^2 / A^T (totivar > 0). pixmask_fraction = A_core^T (w == 0). A patch that was not
// solved gets its pixmask_fraction and chi2pix 0.
template <class Member>
KOKKOS_INLINE_FUNCTION void PatchSolver::chi2_and_pixmask(const Member& team, const Patch& p, std::uint64_t ascending,
                                                          const double* xflux, double* box, bool solved) const {
  const int nx = p.xmax - p.xmin;
  const int nw = p.nwave;
  const int f0 = p.fiber_lo - cache_fiber_begin;
  const double* wbox = box;
  double* chi2 = box + ws.max_box;  // overwrites the pixel values, row by row after use
  double* good = box + 2 * ws.max_box;
  // The model, and chi^2 from it, only where the kept core bins' stamps fall (the sums below read nothing
  // else): about half of the box, the rest being the halo fibers' and the overlap bins' own pixels.
  const int core_b0 = p.core_fiber_lo - p.fiber_lo;
  const int nkept = p.ncore_fiber * p.nkeep;
  // Their corners' extents (min_val .. max_val), one team reduction per axis.
  const auto corner_extent = [&](const auto& corner) {
    Kokkos::MinMaxScalar<int> extent;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, 0, solved ? nkept : 0),
        [&](const int idx, Kokkos::MinMaxScalar<int>& e) {
          const int v = corner(f0 + core_b0 + idx / p.nkeep, p.wave_lo + p.core_offset + idx % p.nkeep);
          e.min_val = v < e.min_val ? v : e.min_val;
          e.max_val = v > e.max_val ? v : e.max_val;
        },
        Kokkos::MinMax<int>(extent));
    return extent;
  };
  const Kokkos::MinMaxScalar<int> ys = corner_extent(ycorner), xs = corner_extent(xcorner);
  const int ylo = ys.min_val, yhi = ys.max_val + stamp_ny, xlo = xs.min_val, xhi = xs.max_val + stamp_nx;
  // Rows [iy0, iy1) and columns [ix0, ix1) of the box (empty when nothing is solved or kept: the reductions
  // then leave their identities, which are not corners).
  const bool any = solved && nkept > 0;
  const int iy0 = any ? (ylo > p.ymin ? ylo : p.ymin) - p.ymin : 0;
  const int iy1 = any ? (yhi < p.ymax ? yhi : p.ymax) - p.ymin : 0;
  const int ix0 = any ? (xlo > p.xmin ? xlo : p.xmin) - p.xmin : 0;
  const int ix1 = any ? (xhi < p.xmax ? xhi : p.xmax) - p.xmin : 0;
  // Model row by row (deterministic: each pixel sums its unknowns in a fixed order, j = b nw + w ascending;
  // the bisection only skips bins whose stamps miss the row).
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, iy0, iy1 > iy0 ? iy1 : iy0), [&](const int iy) {
    const int y = p.ymin + iy;
    double* model = good + iy * nx;
    for (int ix = ix0; ix < ix1; ++ix) model[ix] = 0.0;
    for (int b = 0; b < p.nfiber; ++b) {
      const int fj = f0 + b;
      int wlo = 0, whi = nw;
      if (b < 64 && ((ascending >> b) & 1)) {
        wlo = first_bin_after(p, fj, 0, nw, y - stamp_ny);  // stamps starting at or before y - stamp_ny end above y
        whi = first_bin_after(p, fj, wlo, nw, y);
      }
      for (int w = wlo; w < whi; ++w) {
        const int wj = p.wave_lo + w;
        const int yj = ycorner(fj, wj);
        if (y < yj || y >= yj + stamp_ny) continue;
        const int xj = xcorner(fj, wj);
        const int xa = xj > p.xmin + ix0 ? xj : p.xmin + ix0;
        const int xb = xj + stamp_nx < p.xmin + ix1 ? xj + stamp_nx : p.xmin + ix1;
        const double fx = xflux[b * nw + w];
        const double* srow = &spots(fj, wj, y - yj, 0) - xj;
        for (int x = xa; x < xb; ++x) model[x - p.xmin] += srow[x] * fx;
      }
    }
    for (int ix = ix0; ix < ix1; ++ix) {
      const double w = wbox[iy * nx + ix];
      const double v = chi2[iy * nx + ix];
      // totivar = 1 / (1/modelivar + 1/w) with 1/modelivar = mv^2, as w / (1 + w mv^2): one division, and
      // chi^2 = (v - model)^2 totivar without its square root, as (r totivar) r so that a huge model cannot
      // overflow r^2 (equal to rounding; a NaN or an overflow of mv^2 gives 0 as modelivar <= 0 did).
      const double mv = psferr * model[ix] + 1e-32;
      const double t = w > 0.0 ? w / (1.0 + w * (mv * mv)) : 0.0;
      const double totivar = t > 0.0 ? t : 0.0;
      const double r = v - model[ix];
      chi2[iy * nx + ix] = (r * totivar) * r;
      model[ix] = totivar > 0.0 ? 1.0 : 0.0;
    }
  });
  team.team_barrier();
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, nkept), [&](const int idx) {
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
        if (solved) {
          num += a * chi2[b + x];
          den += a * good[b + x];
        }
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
