// Frame extraction: plans the patches, runs the per-patch solver in batches on the execution space, and
// assembles fibers x wavelengths on the host with the per-Angstrom unit conversion.
#include "perfex/core/extract.hpp"

#include <algorithm>
#include <string>

#include "patch_solver.hpp"
#include "perfex/core/detail/extract_phases.hpp"
#include "perfex/backends/launch_config.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/profiling.hpp"

namespace perfex {

namespace {

template <class T>
HostView<T> to_host(const DeviceView<T>& v) {
  auto h = Kokkos::create_mirror_view(HostSpace(), v);
  Kokkos::deep_copy(h, v);
  return h;
}

void check_inputs(const ImageInput& input, const SpotCache& spots) {
  if (input.image.extent(0) != input.weights.extent(0) || input.image.extent(1) != input.weights.extent(1))
    throw_data_error("image and weights differ in shape: " + std::to_string(input.image.extent(0)) + " x " +
                     std::to_string(input.image.extent(1)) + " and " + std::to_string(input.weights.extent(0)) +
                     " x " + std::to_string(input.weights.extent(1)));
  if (input.ccd_ny <= 0 || input.ccd_nx <= 0) throw_data_error("the CCD shape must be positive");
  if (spots.nfiber <= 0 || spots.nwave <= 0) throw_data_error("the spot cache is empty");
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

// Runs the solver over its patch list [0, count) in launches of `batch` patches, with team scratch sized for
// the largest patch of the list at its tile width (groups[k]).
void solve_list(const ExecSpace& exec, detail::PatchSolver& solver, int count, int batch,
                const std::vector<int>& groups, ExtractWorkspace& w) {
  if (count == 0) return;
  auto probe = backends::solver_team_policy(exec, 1);
  const int team_size = probe.team_size();
  const auto host_patches = Kokkos::create_mirror_view_and_copy(HostSpace(), solver.patches);
  int max_ld = 0, max_tiles = 0;
  for (int k = 0; k < count; ++k) {
    const Patch& p = host_patches(k);
    const int g = std::min(std::max(groups[k], 1), p.nfiber);
    const int ntile = (p.nfiber + g - 1) / g;
    const int core_b0 = p.core_fiber_lo - p.fiber_lo;
    const int ncore_tile = (core_b0 + p.ncore_fiber - 1) / g - core_b0 / g + 1;
    max_ld = std::max(max_ld, g * p.nwave);
    max_tiles = std::max(max_tiles, detail::FiberTiles::tile_count(ntile, ncore_tile));
  }
  solver.ws.max_tile_ld = max_ld;
  solver.ws.max_tiles = max_tiles;
  const std::size_t bytes = sizeof(double) * static_cast<std::size_t>(detail::SolverScratch::total(solver.ws, team_size));
  const std::size_t limit = static_cast<std::size_t>(decltype(probe)::scratch_size_max(1));
  if (bytes > limit)
    throw_data_error("a patch of " + std::to_string(max_ld) + " unknowns per fiber tile needs " +
                     std::to_string(bytes >> 20) + " MiB of team scratch, more than the " + std::to_string(limit >> 20) +
                     " MiB Kokkos allows; use more subbundles (--nsubbundles) or a shorter --nwavestep");
  w.team_scratch_bytes = std::max(w.team_scratch_bytes, bytes);
  w.concurrent_teams = std::max<std::size_t>(w.concurrent_teams, std::max(1, exec.concurrency() / team_size));
  for (int begin = 0; begin < count; begin += batch) {
    solver.batch_begin = begin;
    const int n = begin + batch <= count ? batch : count - begin;
    auto policy = backends::solver_team_policy(exec, n);
    policy.set_scratch_size(1, Kokkos::PerTeam(bytes));
    Kokkos::parallel_for("perfex::extract::solve_patches", policy, solver);
  }
}

}  // namespace

std::size_t ExtractWorkspace::bytes() const {
  auto of = [](const DeviceView<double**>& v) { return v.span() * sizeof(double); };
  return of(cblocks) + of(vec) + of(eig) + team_scratch_bytes * concurrent_teams;
}

FrameResult extract(const ExecSpace& exec, const ImageInput& input, const SpotCache& spots,
                    const std::vector<double>& wavelengths, int specmin, int nspec, const ExtractionOptions& options,
                    ExtractWorkspace* workspace) {
  ScopedRegion region("perfex::extract");
  options.validate();
  check_inputs(input, spots);
  const auto xc = to_host(spots.xcorner);
  const auto yc = to_host(spots.ycorner);
  const PatchPlan plan = plan_patches(xc, yc, spots.fiber_begin, spots.stamp_ny, spots.stamp_nx, specmin, nspec,
                                      static_cast<int>(wavelengths.size()), options);
  return extract(exec, input, spots, wavelengths, plan, options, workspace);
}

FrameResult extract(const ExecSpace& exec, const ImageInput& input, const SpotCache& spots,
                    const std::vector<double>& wavelengths, const PatchPlan& plan, const ExtractionOptions& options,
                    ExtractWorkspace* workspace) {
  return detail::extract_until(exec, input, spots, wavelengths, plan, options, detail::SolvePhase::All, workspace);
}

FrameResult detail::extract_until(const ExecSpace& exec, const ImageInput& input, const SpotCache& spots,
                                  const std::vector<double>& wavelengths, const PatchPlan& plan,
                                  const ExtractionOptions& options, SolvePhase last_phase,
                                  ExtractWorkspace* workspace) {
  ScopedRegion region("perfex::extract_plan");
  options.validate();
  check_inputs(input, spots);
  const int nwave = static_cast<int>(wavelengths.size());
  if (nwave != plan.nwave) throw_data_error("the plan was made for another wavelength grid");
  const int npatch = static_cast<int>(plan.patches.size());
  const int ndiags = 2 * options.ndiag + 1;

  detail::PatchSolver solver;
  DeviceView<Patch*> patches("perfex::extract::patches", npatch);
  {
    auto h = Kokkos::create_mirror_view(patches);
    for (int i = 0; i < npatch; ++i) h(i) = plan.patches[i];
    Kokkos::deep_copy(exec, patches, h);
  }
  solver.spots = spots.spots;
  solver.xcorner = spots.xcorner;
  solver.ycorner = spots.ycorner;
  solver.image = input.image;
  solver.weights = input.weights;
  solver.cache_fiber_begin = spots.fiber_begin;
  solver.specmin = plan.specmin;
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

  detail::PatchOutputs& out = solver.out;
  out.flux = DeviceView<double**>("perfex::extract::flux", plan.nspec, nwave);
  out.ivar = DeviceView<double**>("perfex::extract::ivar", plan.nspec, nwave);
  out.resolution = DeviceView<double***>("perfex::extract::resolution", plan.nspec, ndiags, nwave);
  out.chi2pix = DeviceView<double**>("perfex::extract::chi2pix", plan.nspec, nwave);
  out.pixmask = DeviceView<double**>("perfex::extract::pixmask_fraction", plan.nspec, nwave);

  using Config = backends::LaunchConfig<ExecSpace>;
  const int batch = npatch < Config::patch_batch ? npatch : Config::patch_batch;
  detail::PatchWorkspace& ws = solver.ws;
  const int m = plan.max_nwave;
  int max_core = 1;
  for (const Patch& p : plan.patches) max_core = std::max(max_core, p.ncore_fiber);
  ws.max_n = plan.max_unknowns;
  ws.bstride = m * m;
  ws.eig_stride = 2 * m * m + 4 * m;
  ws.max_box = plan.max_box_pixels;
  ws.stamp_px = spots.stamp_ny * spots.stamp_nx;
  ExtractWorkspace local;
  ExtractWorkspace& w = workspace ? *workspace : local;
  if (batch > 0) {
    fit_slots(w.cblocks, "perfex::extract::cblocks", batch, static_cast<std::size_t>(max_core) * ws.bstride);
    fit_slots(w.vec, "perfex::extract::vectors", batch, 2 * static_cast<std::size_t>(ws.max_n));
    fit_slots(w.eig, "perfex::extract::eigen", batch, static_cast<std::size_t>(max_core) * ws.eig_stride);
    ws.cblocks = w.cblocks;
    ws.vec = w.vec;
    ws.eig = w.eig;
  }

  // Pass 1 over every patch: fiber tiles of one fiber, the reference's prior.
  solver.patches = patches;
  out.status = DeviceView<int*>("perfex::extract::status", npatch);
  solve_list(exec, solver, npatch, batch, std::vector<int>(npatch, 1), w);
  exec.fence();
  auto status = to_host(out.status);

  // Patches that failed are solved again, as a second batch (or two) on the device: with tiles as wide as
  // their fiber coupling when fibers beyond the neighbours couple, with the stronger prior when the matrix
  // was not numerically positive definite. What still fails is reported in FrameResult::unsolved.
  std::vector<RetryState> pending;
  for (int i = 0; i < npatch; ++i)
    if (status(i) != detail::PatchStatus::solved) pending.push_back(RetryState{i, 1, 0.0, status(i)});
  std::vector<int> unsolved_patches;
  while (!pending.empty()) {
    std::vector<RetryState> next;
    for (RetryState st : pending) {
      const Patch& p = plan.patches[st.patch];
      if (st.status == detail::PatchStatus::wide_coupling && st.group < p.fiber_coupling) {
        st.group = p.fiber_coupling;
      } else if (st.status == detail::PatchStatus::not_positive_definite && st.ridge == 0.0) {
        st.ridge = detail::SolverThresholds::retry_ridge;
      } else {
        unsolved_patches.push_back(st.patch);
        continue;
      }
      next.push_back(st);
    }
    if (next.empty()) break;
    const int count = static_cast<int>(next.size());
    DeviceView<Patch*> list("perfex::extract::retry_patches", count);
    DeviceView<int*> group("perfex::extract::retry_group", count);
    DeviceView<double*> ridge("perfex::extract::retry_ridge", count);
    auto hl = Kokkos::create_mirror_view(list);
    auto hg = Kokkos::create_mirror_view(group);
    auto hr = Kokkos::create_mirror_view(ridge);
    std::vector<int> groups(count);
    for (int k = 0; k < count; ++k) {
      hl(k) = plan.patches[next[k].patch];
      hg(k) = groups[k] = next[k].group;
      hr(k) = next[k].ridge;
    }
    Kokkos::deep_copy(exec, list, hl);
    Kokkos::deep_copy(exec, group, hg);
    Kokkos::deep_copy(exec, ridge, hr);
    detail::PatchSolver retry = solver;
    retry.patches = list;
    retry.group = group;
    retry.ridge = ridge;
    retry.out.status = DeviceView<int*>("perfex::extract::retry_status", count);
    solve_list(exec, retry, count, batch, groups, w);
    exec.fence();
    const auto retry_status = to_host(retry.out.status);
    for (int k = 0; k < count; ++k) next[k].status = retry_status(k);
    pending.clear();
    for (const RetryState& st : next)
      if (st.status != detail::PatchStatus::solved) pending.push_back(st);
  }

  FrameResult r;
  r.specmin = plan.specmin;
  r.nspec = plan.nspec;
  r.nwave = nwave;
  r.ndiag = options.ndiag;
  r.wavelengths = wavelengths;
  r.flux = to_host(out.flux);
  r.ivar = to_host(out.ivar);
  r.resolution = to_host(out.resolution);
  r.chi2pix = to_host(out.chi2pix);
  r.pixmask_fraction = to_host(out.pixmask);
  r.unsolved = HostView<std::uint8_t**>("perfex::extract::unsolved", r.nspec, nwave);
  for (const int i : unsolved_patches) {
    const Patch& p = plan.patches[i];
    for (int c = 0; c < p.ncore_fiber; ++c)
      for (int k = 0; k < p.nkeep; ++k) r.unsolved(p.core_fiber_lo + c - plan.specmin, p.out_wave + k) = 1;
    r.unsolved_bins += static_cast<long>(p.ncore_fiber) * p.nkeep;
  }
  // Electrons per bin -> electrons per Angstrom.
  const auto dwave = wavelength_gradient(wavelengths);
  for (int i = 0; i < r.nspec; ++i)
    for (int j = 0; j < nwave; ++j) {
      r.flux(i, j) /= dwave[j];
      r.ivar(i, j) *= dwave[j] * dwave[j];
    }
  return r;
}

}  // namespace perfex
