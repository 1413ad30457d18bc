// Extraction of a piece of a frame: plans the patches, runs the per-patch solver in batches on the
// execution space, converts to per-Angstrom units there, and copies the results to the host once. The
// steps are shared with the frame pipeline (extract_frame.cpp) through extract_internal.hpp.
#include "perfex/core/extract.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "decorrelate.hpp"
#include "extract_internal.hpp"
#include "patch_solver.hpp"
#include "perfex/backends/launch_config.hpp"
#include "perfex/core/detail/extract_phases.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/linalg/inverse_sqrt_poles.hpp"
#include "perfex/core/profiling.hpp"

namespace perfex {

namespace {

template <class T>
HostView<T> to_host(const DeviceView<T>& v) {
  auto h = Kokkos::create_mirror_view(HostSpace(), v);
  Kokkos::deep_copy(h, v);
  return h;
}

// Makes `view` at least [slots][length], keeping its allocation (and its touched pages) when it is large
// enough: the solver addresses a slot by &view(slot, 0), so longer rows are fine. Grows with 1/8 headroom,
// since the next bundle's patches may be a little larger.
void fit_slots(DeviceView<double**>& view, const char* label, int slots, std::size_t length) {
  const std::size_t old_slots = view.extent(0), old_length = view.extent(1);
  if (old_slots >= static_cast<std::size_t>(slots) && old_length >= length) return;
  view = DeviceView<double**>();  // free the old one first
  view = DeviceView<double**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)),
                              std::max(old_slots, static_cast<std::size_t>(slots)),
                              std::max(old_length, length + length / 8));
}

// A patch on its way through the solver's passes.
struct RetryState {
  int patch = 0;       // index in the plan
  int group = 1;       // fibers per tile
  double ridge = 0.0;  // extra prior, relative to iCov's diagonal
  int status = 0;      // detail::PatchStatus of the last pass
};

// A host table on the device (the retry passes' lists).
template <class T>
DeviceView<T*> upload(const ExecSpace& exec, const std::vector<T>& host, const std::string& label) {
  DeviceView<T*> d(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), host.size());
  Kokkos::View<const T*, HostSpace, Kokkos::MemoryUnmanaged> h(host.data(), host.size());
  Kokkos::deep_copy(exec, d, h);
  return d;
}

// unsolved = 1 on the kept core bins of the patches of `list` (rows fiber - out_specmin).
void mark_unsolved(const ExecSpace& exec, const DeviceView<const Patch*>& list, int out_specmin,
                   const DeviceView<std::uint8_t**>& unsolved) {
  Kokkos::parallel_for(
      "perfex::extract::mark_unsolved", Kokkos::RangePolicy<ExecSpace>(exec, 0, static_cast<int>(list.extent(0))),
      KOKKOS_LAMBDA(const int k) {
        const Patch p = list(k);
        for (int c = 0; c < p.ncore_fiber; ++c)
          for (int j = 0; j < p.nkeep; ++j) unsolved(p.core_fiber_lo + c - out_specmin, p.out_wave + j) = 1;
      });
}

// The solver's inputs and its output views, everything but the workspace and the batch.
detail::PatchSolver make_solver(const ImageInput& input, const SpotCache& spots,
                                const DeviceView<const Patch*>& patches, const ExtractionOptions& options,
                                int out_specmin, detail::SolvePhase last_phase) {
  detail::PatchSolver solver;
  solver.patches = patches;
  solver.spots = spots.spots;
  solver.xcorner = spots.xcorner;
  solver.ycorner = spots.ycorner;
  solver.image = input.image;
  solver.weights = input.weights;
  solver.cache_fiber_begin = spots.fiber_begin;
  solver.specmin = out_specmin;
  solver.origin_y = input.origin_y;
  solver.origin_x = input.origin_x;
  solver.image_ny = static_cast<int>(input.image.extent(0));
  solver.image_nx = static_cast<int>(input.image.extent(1));
  solver.ccd_ny = input.ccd_ny;
  solver.ccd_nx = input.ccd_nx;
  solver.stamp_ny = spots.stamp_ny;
  solver.stamp_nx = spots.stamp_nx;
  solver.ndiag = options.ndiag;
  solver.regularize = options.regularize;
  solver.psferr = options.psferr;
  solver.last_phase = last_phase;
  return solver;
}

// The pole table of the decorrelation's inverse square roots, on the device: uploaded into the workspace
// the first time it is needed (it never changes).
void upload_poles(const ExecSpace& exec, ExtractWorkspace& w) {
  if (w.pole_first.extent(0) > 0) return;
  const linalg::InverseSqrtPoleTable& table = linalg::inverse_sqrt_poles();
  w.pole_first = DeviceView<int*>("perfex::extract::pole_first", table.first.size());
  w.pole_shift = DeviceView<double*>("perfex::extract::pole_shift", table.shift.size());
  w.pole_weight = DeviceView<double*>("perfex::extract::pole_weight", table.weight.size());
  Kokkos::deep_copy(exec, w.pole_first, HostView<const int*>(table.first.data(), table.first.size()));
  Kokkos::deep_copy(exec, w.pole_shift, HostView<const double*>(table.shift.data(), table.shift.size()));
  Kokkos::deep_copy(exec, w.pole_weight, HostView<const double*>(table.weight.data(), table.weight.size()));
}

using DecorrelatePolicy = Kokkos::TeamPolicy<ExecSpace, Kokkos::Schedule<Kokkos::Dynamic>>;

// The decorrelation's launch policy for `league` blocks: the functor's team size, its reduction's scratch in
// level 0 where it fits (near_level), the rest in level 1.
DecorrelatePolicy decorrelate_policy(const ExecSpace& exec, int league, const detail::Decorrelator& d) {
  DecorrelatePolicy policy(exec, league, d.shape.lanes, backends::LaunchConfig<ExecSpace>::decorrelate_vector_length);
  policy.set_chunk_size(1);  // blocks of ~0.3 ms on a CPU thread: see solver_team_policy
  if (d.near_level == 0)
    return policy.set_scratch_size(0, Kokkos::PerTeam(d.near_bytes()))
        .set_scratch_size(1, Kokkos::PerTeam(d.far_bytes()));
  return policy.set_scratch_size(1, Kokkos::PerTeam(d.near_bytes() + d.far_bytes()));
}

// Sets up the decorrelation functor for the solver's batches (scratch sized from the plan's largest patch)
// with the backend's team size, clamped to what the execution space allows (a host thread pool smaller
// than the GPU shape's team).
void make_decorrelator(const ExecSpace& exec, const PatchPlan& plan, const ExtractionOptions& options,
                       const detail::PatchSolver& solver, const ExtractWorkspace& w, detail::Decorrelator& d) {
  using Config = backends::LaunchConfig<ExecSpace>;
  d.patches = solver.patches;
  d.cblocks = solver.ws.cblocks;
  d.vec = solver.ws.vec;
  d.out = solver.out;
  d.pole_first = w.pole_first;
  d.pole_shift = w.pole_shift;
  d.pole_weight = w.pole_weight;
  d.max_ncore = 1;
  for (const Patch& p : plan.patches) d.max_ncore = std::max(d.max_ncore, p.ncore_fiber);
  d.bstride = solver.ws.bstride;
  d.max_n = solver.ws.max_n;
  d.specmin = solver.specmin;
  d.ndiag = options.ndiag;
  d.shape.max_m = plan.max_nwave;
  d.shape.max_cols = 0;
  for (const Patch& p : plan.patches) d.shape.max_cols = std::max(d.shape.max_cols, p.nkeep);
  d.shape.max_nd = options.ndiag;
  // Within the thread pool first: a host TeamPolicy larger than the pool aborts (a PERFEX_LAUNCH_SHAPE=gpu
  // build's 32 on 2 threads).
  d.shape.lanes =
      backends::fitted_team_size<ExecSpace, Kokkos::Schedule<Kokkos::Dynamic>>(exec, Config::decorrelate_team_size);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int level0 = DecorrelatePolicy(exec, 1, d.shape.lanes, Config::decorrelate_vector_length).scratch_size_max(0);
    d.near_level = d.near_bytes() <= static_cast<std::size_t>(level0) ? 0 : 1;
    const int most = decorrelate_policy(exec, 1, d).team_size_max(d, Kokkos::ParallelForTag());
    if (d.shape.lanes <= most) return;
    if (most < 1) break;
    d.shape.lanes = most;
  }
  throw_data_error("patches of " + std::to_string(plan.max_nwave) + " wavelengths need " +
                   std::to_string((d.near_bytes() + d.far_bytes()) / 1024) +
                   " KiB of scratch per decorrelation block, more than this execution space allows");
}

// Global memory for fiber tiles too large for team scratch (see solve_list).
constexpr std::size_t tile_pool_budget = std::size_t(512) << 20;

// Runs the solver over its patch list (solver.patches on the device, `list` the same on the host) in launches
// of `batch` patches, with team scratch sized for the largest patch of the list at its tile width (groups[k]);
// with a `decorrelator`, its launch follows each batch's solve (it skips the patches whose status is not 0).
void solve_list(const ExecSpace& exec, detail::PatchSolver& solver, const std::vector<Patch>& list,
                const std::vector<int>& groups, int batch, ExtractWorkspace& w, detail::Decorrelator* decorrelator) {
  const int count = static_cast<int>(list.size());
  if (count == 0) return;
  auto probe = backends::solver_team_policy(exec, 1);
  const int team_size = probe.team_size();
  int max_ld = 0, max_tiles = 0;
  for (int k = 0; k < count; ++k) {
    const Patch& p = list[static_cast<std::size_t>(k)];
    const int g = std::min(std::max(groups[static_cast<std::size_t>(k)], 1), p.nfiber);
    const int ntile = (p.nfiber + g - 1) / g;
    const int core_b0 = p.core_fiber_lo - p.fiber_lo;
    const int ncore_tile = (core_b0 + p.ncore_fiber - 1) / g - core_b0 / g + 1;
    max_ld = std::max(max_ld, g * p.nwave);
    max_tiles = std::max(max_tiles, detail::FiberTiles::tile_count(ntile, ncore_tile));
  }
  solver.ws.max_tile_ld = max_ld;
  solver.ws.max_tiles = max_tiles;
  // The tiles live in team scratch where they fit. A larger patch (a whole 25-fiber bundle in one subbundle
  // with a long --nwavestep: ~80 tiles of 186 x 186) keeps them in a per-slot pool in global memory instead,
  // with batches made small enough that the pool stays within tile_pool_budget.
  const std::size_t limit = static_cast<std::size_t>(decltype(probe)::scratch_size_max(1));
  solver.ws.tiles_in_pool = false;
  solver.ws.tile_pool = DeviceView<double**>();
  std::size_t bytes = sizeof(double) * static_cast<std::size_t>(detail::SolverScratch::total(solver.ws, team_size));
  if (bytes > limit) {
    solver.ws.tiles_in_pool = true;
    bytes = sizeof(double) * static_cast<std::size_t>(detail::SolverScratch::total(solver.ws, team_size));
    if (bytes > limit)
      throw_data_error("a patch of " + std::to_string(max_ld) + " unknowns per fiber tile needs " +
                       std::to_string(bytes >> 20) + " MiB of team scratch besides its tiles, more than the " +
                       std::to_string(limit >> 20) +
                       " MiB Kokkos allows; use more subbundles (--nsubbundles) or a shorter --nwavestep");
    const std::size_t per_slot = static_cast<std::size_t>(max_tiles) * max_ld * max_ld;
    const std::size_t fit = tile_pool_budget / (sizeof(double) * per_slot);
    batch = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(batch), std::max<std::size_t>(fit, 1)));
    fit_slots(w.tile_pool, "perfex::extract::tile_pool", batch, per_slot);
    solver.ws.tile_pool = w.tile_pool;
  }
  w.team_scratch_bytes = std::max(w.team_scratch_bytes, bytes);
  w.concurrent_teams = std::max<std::size_t>(w.concurrent_teams, std::max(1, exec.concurrency() / team_size));
  for (int begin = 0; begin < count; begin += batch) {
    solver.batch_begin = begin;
    const int n = begin + batch <= count ? batch : count - begin;
    auto policy = backends::solver_team_policy(exec, n);
    policy.set_scratch_size(1, Kokkos::PerTeam(bytes));
    Kokkos::parallel_for("perfex::extract::solve_patches", policy, solver);
    if (decorrelator) {
      decorrelator->patches = solver.patches;
      decorrelator->group = solver.group;
      decorrelator->ridge = solver.ridge;
      decorrelator->out = solver.out;  // the list's status
      decorrelator->batch_begin = begin;
      Kokkos::parallel_for("perfex::extract::decorrelate",
                           decorrelate_policy(exec, n * decorrelator->max_ncore, *decorrelator), *decorrelator);
    }
  }
}

}  // namespace

std::size_t ExtractWorkspace::bytes() const {
  auto of = [](const auto& v) { return v.span() * sizeof(typename std::decay_t<decltype(v)>::value_type); };
  return of(cblocks) + of(vec) + of(tile_pool) + of(pole_first) + of(pole_shift) + of(pole_weight) +
         team_scratch_bytes * concurrent_teams;
}

namespace detail {

PatchOutputs allocate_outputs(const std::string& prefix, int nspec, int nwave, int ndiag) {
  PatchOutputs out;
  out.flux = DeviceView<double**>(prefix + "flux", nspec, nwave);
  out.ivar = DeviceView<double**>(prefix + "ivar", nspec, nwave);
  out.resolution = DeviceView<double***>(prefix + "resolution", nspec, 2 * ndiag + 1, nwave);
  out.chi2pix = DeviceView<double**>(prefix + "chi2pix", nspec, nwave);
  out.pixmask = DeviceView<double**>(prefix + "pixmask_fraction", nspec, nwave);
  out.unsolved = DeviceView<std::uint8_t**>(prefix + "unsolved", nspec, nwave);
  return out;
}

DeviceView<Patch*> upload_patch_table(const ExecSpace& exec, const PatchPlan& plan, const std::string& label) {
  const int npatch = static_cast<int>(plan.patches.size());
  DeviceView<Patch*> patches(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), npatch);
  auto h = Kokkos::create_mirror_view(patches);
  for (int i = 0; i < npatch; ++i) h(i) = plan.patches[i];
  Kokkos::deep_copy(exec, patches, h);
  exec.fence();  // `h` is released on return
  return patches;
}

void check_inputs(const ImageInput& input, const SpotCache& spots) {
  if (input.image.extent(0) != input.weights.extent(0) || input.image.extent(1) != input.weights.extent(1))
    throw_data_error("image and weights differ in shape: " + std::to_string(input.image.extent(0)) + " x " +
                     std::to_string(input.image.extent(1)) + " and " + std::to_string(input.weights.extent(0)) + " x " +
                     std::to_string(input.weights.extent(1)));
  if (input.ccd_ny <= 0 || input.ccd_nx <= 0) throw_data_error("the CCD shape must be positive");
  if (spots.nfiber <= 0 || spots.nwave <= 0) throw_data_error("the spot cache is empty");
}

void solve_patch_batches(const ExecSpace& exec, const ImageInput& input, const SpotCache& spots, const PatchPlan& plan,
                         const DeviceView<const Patch*>& patches, const ExtractionOptions& options, int out_specmin,
                         PatchOutputs& out, SolvePhase last_phase, ExtractWorkspace* workspace) {
  ScopedRegion region("perfex::extract::solve_patch_batches");
  const int npatch = static_cast<int>(plan.patches.size());
  detail::PatchSolver solver = make_solver(input, spots, patches, options, out_specmin, last_phase);
  out.status = DeviceView<int*>("perfex::extract::status", npatch);
  solver.out = out;

  const int most = backends::patch_batch_for(exec);
  const int batch = npatch < most ? npatch : most;
  detail::PatchWorkspace& ws = solver.ws;
  // Every size from the plan: subbundles differ in size (specter's split, partial bundles), the padding
  // grows with the spots.
  const int m = plan.max_nwave;
  // (max_core from the patches themselves too: a plan made by hand may leave its max_* summary short).
  int max_core = plan.max_ncore_fiber;
  int max_nfiber = 0;
  for (const Patch& p : plan.patches) {
    max_core = std::max(max_core, p.ncore_fiber);
    max_nfiber = std::max(max_nfiber, p.nfiber);
  }
  ws.max_n = plan.max_unknowns;
  ws.max_nfiber = max_nfiber;
  ws.bstride = m * m;
  ws.max_box = plan.max_box_pixels;
  ws.stamp_px = spots.stamp_ny * spots.stamp_nx;
  ExtractWorkspace local;
  ExtractWorkspace& w = workspace ? *workspace : local;
  if (batch > 0) {
    fit_slots(w.cblocks, "perfex::extract::core_blocks", batch, static_cast<std::size_t>(max_core) * ws.bstride);
    fit_slots(w.vec, "perfex::extract::vectors", batch, 2 * static_cast<std::size_t>(ws.max_n));
    ws.cblocks = w.cblocks;
    ws.vec = w.vec;
  }
  // The decorrelation: its own launch after each batch's solve, one team per (slot, core fiber) block.
  const bool decorrelate = last_phase >= SolvePhase::Decorrelation && batch > 0;
  detail::Decorrelator decorrelator;
  if (decorrelate) {
    upload_poles(exec, w);
    make_decorrelator(exec, plan, options, solver, w, decorrelator);
  }
  detail::Decorrelator* const decorrelate_after = decorrelate ? &decorrelator : nullptr;

  // Pass 1 over every patch: fiber tiles of one fiber, the reference's prior.
  solve_list(exec, solver, plan.patches, std::vector<int>(static_cast<std::size_t>(npatch), 1), batch, w,
             decorrelate_after);
  exec.fence();
  const auto status = to_host(out.status);

  // Patches that failed are solved again, as a second batch (or two) on the device: with tiles as wide as
  // their fiber coupling when fibers beyond the neighbours couple, with the stronger prior when the matrix
  // was not numerically positive definite. What still fails is flagged in out.unsolved.
  std::vector<RetryState> pending;
  for (int i = 0; i < npatch; ++i)
    if (status(i) != detail::PatchStatus::solved) pending.push_back(RetryState{i, 1, 0.0, status(i)});
  std::vector<Patch> unsolved;
  while (!pending.empty()) {
    std::vector<RetryState> next;
    for (RetryState st : pending) {
      const Patch& p = plan.patches[static_cast<std::size_t>(st.patch)];
      if (st.status == detail::PatchStatus::wide_coupling && st.group < p.fiber_coupling) {
        st.group = p.fiber_coupling;
      } else if (st.status == detail::PatchStatus::not_positive_definite && st.ridge == 0.0) {
        st.ridge = detail::SolverThresholds::retry_ridge;
      } else {
        unsolved.push_back(p);
        continue;
      }
      next.push_back(st);
    }
    if (next.empty()) break;
    const std::size_t count = next.size();
    std::vector<Patch> list(count);
    std::vector<int> groups(count);
    std::vector<double> ridges(count);
    for (std::size_t k = 0; k < count; ++k) {
      list[k] = plan.patches[static_cast<std::size_t>(next[k].patch)];
      groups[k] = next[k].group;
      ridges[k] = next[k].ridge;
    }
    detail::PatchSolver retry = solver;
    retry.patches = upload(exec, list, "perfex::extract::retry_patches");
    retry.group = upload(exec, groups, "perfex::extract::retry_group");
    retry.ridge = upload(exec, ridges, "perfex::extract::retry_ridge");
    retry.out.status = DeviceView<int*>("perfex::extract::retry_status", count);
    solve_list(exec, retry, list, groups, batch, w, decorrelate_after);
    exec.fence();
    const auto retry_status = to_host(retry.out.status);
    for (std::size_t k = 0; k < count; ++k) next[k].status = retry_status(k);
    pending.clear();
    for (const RetryState& st : next)
      if (st.status != detail::PatchStatus::solved) pending.push_back(st);
  }
  if (!unsolved.empty()) {
    mark_unsolved(exec, upload(exec, unsolved, "perfex::extract::unsolved_patches"), out_specmin, out.unsolved);
    exec.fence();  // `unsolved` is released on return
  }
}

void convert_per_angstrom(const ExecSpace& exec, const PatchOutputs& out, int row_begin, int row_end,
                          const DeviceView<const double*>& dwave) {
  const int nwave = static_cast<int>(out.flux.extent(1));
  const auto flux = out.flux, ivar = out.ivar;
  Kokkos::parallel_for(
      "perfex::extract::per_angstrom",
      Kokkos::MDRangePolicy<ExecSpace, Kokkos::Rank<2>>(exec, {row_begin, 0}, {row_end, nwave}),
      KOKKOS_LAMBDA(const int i, const int j) {
        const double dw = dwave(j);
        flux(i, j) /= dw;
        ivar(i, j) *= dw * dw;
      });
}

DeviceView<double*> upload_gradient(const ExecSpace& exec, const std::vector<double>& wavelengths) {
  const std::vector<double> dw = wavelength_gradient(wavelengths);
  DeviceView<double*> d(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::extract::dwave"), dw.size());
  Kokkos::View<const double*, HostSpace, Kokkos::MemoryUnmanaged> h(dw.data(), dw.size());
  Kokkos::deep_copy(exec, d, h);
  exec.fence();  // `dw` is released on return
  return d;
}

long count_unsolved(const ResultView<std::uint8_t**>& unsolved) {
  long n = 0;
  const std::uint8_t* p = unsolved.data();
  for (std::size_t k = 0; k < unsolved.span(); ++k) n += p[k] != 0;
  return n;
}

FrameResult copy_result(const ExecSpace& exec, const PatchOutputs& out, const std::vector<double>& wavelengths,
                        int specmin, int ndiag) {
  FrameResult r;
  r.specmin = specmin;
  r.nspec = static_cast<int>(out.flux.extent(0));
  r.nwave = static_cast<int>(wavelengths.size());
  r.ndiag = ndiag;
  r.wavelengths = wavelengths;
  r.flux = copy_to_result(exec, out.flux);
  r.ivar = copy_to_result(exec, out.ivar);
  r.resolution = copy_to_result(exec, out.resolution);
  r.chi2pix = copy_to_result(exec, out.chi2pix);
  r.pixmask_fraction = copy_to_result(exec, out.pixmask);
  r.unsolved = copy_to_result(exec, out.unsolved);
  exec.fence();
  r.unsolved_bins = count_unsolved(r.unsolved);
  return r;
}

}  // namespace detail

namespace {

// extract_until without checking the options again (the callers have).
FrameResult extract_checked(const ExecSpace& exec, const ImageInput& input, const SpotCache& spots,
                            const std::vector<double>& wavelengths, const PatchPlan& plan,
                            const ExtractionOptions& options, detail::SolvePhase last_phase,
                            ExtractWorkspace* workspace) {
  ScopedRegion region("perfex::extract_plan");
  detail::check_inputs(input, spots);
  const int nwave = static_cast<int>(wavelengths.size());
  if (nwave != plan.nwave) throw_data_error("the plan was made for another wavelength grid");
  const DeviceView<Patch*> patches = detail::upload_patch_table(exec, plan, "perfex::extract::patches");
  detail::PatchOutputs out = detail::allocate_outputs("perfex::extract::", plan.nspec, nwave, options.ndiag);
  detail::solve_patch_batches(exec, input, spots, plan, patches, options, plan.specmin, out, last_phase, workspace);
  detail::convert_per_angstrom(exec, out, 0, plan.nspec, detail::upload_gradient(exec, wavelengths));
  return detail::copy_result(exec, out, wavelengths, plan.specmin, options.ndiag);
}

}  // namespace

FrameResult extract(const ExecSpace& exec, const ImageInput& input, const SpotCache& spots,
                    const std::vector<double>& wavelengths, int specmin, int nspec, const ExtractionOptions& options,
                    ExtractWorkspace* workspace) {
  ScopedRegion region("perfex::extract");
  detail::check_inputs(input, spots);
  const auto xc = to_host(spots.xcorner);
  const auto yc = to_host(spots.ycorner);
  const PatchPlan plan = plan_patches(xc, yc, spots.fiber_begin, spots.stamp_ny, spots.stamp_nx, specmin, nspec,
                                      static_cast<int>(wavelengths.size()), options);  // validates the options
  return extract_checked(exec, input, spots, wavelengths, plan, options, detail::SolvePhase::All, workspace);
}

FrameResult extract(const ExecSpace& exec, const ImageInput& input, const SpotCache& spots,
                    const std::vector<double>& wavelengths, const PatchPlan& plan, const ExtractionOptions& options,
                    ExtractWorkspace* workspace) {
  options.validate();
  return extract_checked(exec, input, spots, wavelengths, plan, options, detail::SolvePhase::All, workspace);
}

FrameResult detail::extract_until(const ExecSpace& exec, const ImageInput& input, const SpotCache& spots,
                                  const std::vector<double>& wavelengths, const PatchPlan& plan,
                                  const ExtractionOptions& options, SolvePhase last_phase,
                                  ExtractWorkspace* workspace) {
  options.validate();
  return extract_checked(exec, input, spots, wavelengths, plan, options, last_phase, workspace);
}

}  // namespace perfex
