// The decorrelation (ALGORITHM.md step 4-5), launched after the patch solver over every (patch slot, core
// fiber) block of a batch: one team per block, the block's algebra in team scratch
// (perfex/core/linalg/block_inverse_sqrt.hpp), then flux, ivar and the resolution diagonals of the kept
// bins. Internal to core (extract.cpp launches it).
#pragma once

#include <Kokkos_Core.hpp>

#include "patch_solver.hpp"
#include "perfex/core/linalg/block_inverse_sqrt.hpp"
#include "perfex/core/linalg/lanes.hpp"
#include "perfex/core/math.hpp"
#include "perfex/core/patch_plan.hpp"
#include "perfex/core/types.hpp"

namespace perfex::detail {

struct Decorrelator {
  DeviceView<const Patch*> patches;
  DeviceView<const int*> group;        // the launch's list, as the solver's: which form each patch's blocks take
  DeviceView<const double*> ridge;     // (core_tiles_of)
  DeviceView<const double**> cblocks;  // PatchWorkspace::cblocks
  DeviceView<const double**> vec;      // PatchWorkspace::vec: fluxweight | xflux (from max_n)
  PatchOutputs out;
  DeviceView<const int*> pole_first;  // linalg::InverseSqrtPoleTable, on the device
  DeviceView<const double*> pole_shift;
  DeviceView<const double*> pole_weight;
  linalg::BlockInverseSqrtShape shape;  // from the plan and the team size
  int near_level = 0;                   // scratch level of the reduction's data (0 where it fits)
  int max_ncore = 1;
  int bstride = 0;
  int max_n = 0;
  int specmin = 0;
  int ndiag = 0;
  int batch_begin = 0;

  KOKKOS_INLINE_FUNCTION std::size_t near_bytes() const {
    return sizeof(double) * linalg::BlockInverseSqrtScratch::near_doubles(shape);
  }
  KOKKOS_INLINE_FUNCTION std::size_t far_bytes() const {
    return sizeof(double) * linalg::BlockInverseSqrtScratch::far_doubles(shape);
  }

  template <class Member>
  KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const {
    const int slot = team.league_rank() / max_ncore;
    const int c = team.league_rank() % max_ncore;
    const int patch = batch_begin + slot;
    const Patch p = patches(patch);
    if (c >= p.ncore_fiber || out.status(patch) != 0) return;  // the same for the whole team
    const int m = p.nwave;
    const int b = p.core_fiber_lo - p.fiber_lo + c;  // the core fiber among the padded ones
    const double* fluxweight = &vec(slot, b * m);
    const double* xflux = &vec(slot, max_n + b * m);

    double* near = static_cast<double*>(team.team_scratch(near_level).get_shmem(near_bytes()));
    double* far = static_cast<double*>(team.team_scratch(1).get_shmem(far_bytes()));
    const auto w = linalg::BlockInverseSqrtScratch::carve(shape, near, far);
    const linalg::InverseSqrtPolesRef poles{pole_first.data(), pole_shift.data(), pole_weight.data(),
                                            static_cast<int>(pole_first.extent(0)) - 2};
    const int failed = linalg::team_block_inverse_sqrt(linalg::TeamLanes<Member>{team}, poles, shape, w, m,
                                                       &cblocks(slot, c * bstride), m, xflux, p.core_offset, p.nkeep,
                                                       ndiag,
                                                       core_tiles_of(group, ridge, patch) == CoreTiles::precision
                                                           ? linalg::BlockForm::precision
                                                           : linalg::BlockForm::covariance);

    // flux = Q x / s, ivar = s^2, R(r, j) = Q(r, j) / s_r. A block that failed, a bin without data, and any
    // non-finite or zero value give zeros (ivar 0), never NaN or inf.
    const int fiber_out = p.core_fiber_lo + c - specmin;
    const int nt = 2 * ndiag + 1;
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, p.nkeep), [&](const int k) {
      const int j = p.core_offset + k;
      const int wout = p.out_wave + k;
      const double sj = failed ? 0.0 : w.s[j];
      const double flux = failed ? 0.0 : w.qx[k] / sj;
      bool ok = !failed && fluxweight[j] > 0.0 && sj != 0.0 && math::isfinite(sj * sj) && math::isfinite(flux);
      for (int t = 0; t < nt && ok; ++t) {
        const int r = j - ndiag + t;
        if (r < 0 || r >= m) continue;
        ok = w.s[r] != 0.0 && math::isfinite(w.s[r]) && math::isfinite(w.qband[t * shape.max_cols + k] / w.s[r]);
      }
      out.flux(fiber_out, wout) = ok ? flux : 0.0;
      out.ivar(fiber_out, wout) = ok ? sj * sj : 0.0;
      for (int t = 0; t < nt; ++t) {
        const int r = j - ndiag + t;
        out.resolution(fiber_out, t, wout) = (ok && r >= 0 && r < m) ? w.qband[t * shape.max_cols + k] / w.s[r] : 0.0;
      }
    });
  }
};

}  // namespace perfex::detail
