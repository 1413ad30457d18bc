// Per-backend launch choices, in one place so core's kernels stay written once: team sizes, vector lengths,
// batches and per-item widths for the TeamPolicy launches on each execution space. The frame pipeline's
// choices (bundles per chunk, result memory, the simulator's batches) are in frame_policy.hpp.
//
// Two shapes: the host shape (one thread per team, the work of a team serial and vectorised by the compiler)
// and the GPU shape (teams of threads x vector lanes). CUDA always uses the GPU shape; the host backends use it
// too in a build configured with PERFEX_LAUNCH_SHAPE=gpu (CMake), which defines PERFEX_LAUNCH_SHAPE_GPU, so that
// every team barrier, team split and scratch allocation of the GPU path runs (and is tested) on a CPU. Host
// backends run ThreadVectorRange loops serially, so such a build exercises the team level only; the lane level
// is tested with explicitly split lanes (tests/core/test_tiles.cpp).
#pragma once

#include <Kokkos_Core.hpp>
#include <type_traits>

namespace perfex::backends {

struct HostLaunchShape {
  // Kernels launched through team_policy(): one thread per team.
  static constexpr int team_size = 1;
  static constexpr int vector_length = 1;
  // Patches solved per launch: bounds the per-slot outputs of the patch solver (the core fibers' C blocks,
  // ~0.23 MB per DESI patch) while giving every thread many patches to balance: 64 per thread, at most 128
  // (one thread: 14 MB of blocks to first-touch instead of 28; patch_batch_for()).
  static constexpr int patch_batch = 128;
  static constexpr int patch_batch_per_thread = 64;
  // Wavelengths per work item of a per-(fiber, wavelength) kernel whose inner loops run over them: SIMD
  // lanes on host backends.
  static constexpr int wavelengths_per_item = 8;
  // The patch solver (normal equations, fiber-tile factorisation and selected inverse, chi2pix): one thread
  // per patch; its tile kernels give each lane items of `tile_item_width` contiguous outputs, accumulated in
  // registers (8 doubles: four SSE2 / two AVX2 registers). Two-row items and reading the factor's columns from a
  // transposed copy were measured slower (perf/NOTES.md, step 17).
  static constexpr int solver_team_size = 1;
  static constexpr int solver_vector_length = 1;
  static constexpr int solver_min_teams_per_sm = 0;  // (no launch bounds: GPUs only)
  static constexpr int tile_item_width = 8;
  // Decorrelation (core/src/decorrelate.hpp): one team per C_bb block. One lane per team on host backends: the
  // block's loops run contiguously and vectorise (a PERFEX_LAUNCH_SHAPE=gpu build uses GpuLaunchShape's,
  // clamped at run time to the thread pool).
  static constexpr int decorrelate_team_size = 1;
  static constexpr int decorrelate_vector_length = 1;
  // Spot kernel (core/src/spots.cpp): one team per spot.
  static constexpr int spot_team_size = 1;
};

struct GpuLaunchShape {
  static constexpr int team_size = 128;
  static constexpr int vector_length = 1;
  static constexpr int patch_batch = 2048;
  static constexpr int patch_batch_per_thread = 2048;
  static constexpr int wavelengths_per_item = 1;  // one per thread: per-thread arrays stay in registers
  // The patch solver: 32 threads x 4 lanes (4 warps). Threads take tile rows or unknowns, lanes the
  // contiguous index inside them (coalesced loads); one output per lane item.
  static constexpr int solver_team_size = 32;
  static constexpr int solver_vector_length = 4;
  // Registers for three teams per SM (Kokkos::LaunchBounds<128, 3>: at most 168 per thread on sm_90): the
  // far-coupling bound took the kernel from 168 to 184 registers, which would leave room for two.
  static constexpr int solver_min_teams_per_sm = 3;
  static constexpr int tile_item_width = 1;
  // Decorrelation: a warp per C_bb block, one lane per thread (the block's rows, columns or poles).
  static constexpr int decorrelate_team_size = 32;
  static constexpr int decorrelate_vector_length = 1;
  // Spot kernel: a warp per spot. Its stages have 2 to 30 items (edges, degrees, stamp rows), so a team of
  // 128 left over 3/4 of its threads idle, and at ~250 registers per thread (sm_90) only two such teams fit
  // on an SM: a warp per spot keeps the same 8 warps per SM busy on 8 spots instead of 2.
  static constexpr int spot_team_size = 32;
};

#if defined(PERFEX_LAUNCH_SHAPE_GPU)
inline constexpr bool host_uses_gpu_shape = true;
using HostBackendShape = GpuLaunchShape;
#else
inline constexpr bool host_uses_gpu_shape = false;
using HostBackendShape = HostLaunchShape;
#endif

template <class ExecutionSpace>
struct LaunchConfig : HostBackendShape {};

#if defined(KOKKOS_ENABLE_CUDA)
template <>
struct LaunchConfig<Kokkos::Cuda> : GpuLaunchShape {};
#endif

namespace detail {
struct NoOpTeamFunctor {
  template <class Member>
  KOKKOS_INLINE_FUNCTION void operator()(const Member&) const {}
};
}  // namespace detail

// A requested team size within what the space can run: on host backends at most the thread pool (and the
// OpenMP backend's 64), so a GPU-shaped build also runs with 1 or 2 threads. Device spaces get the request.
template <class ExecutionSpace, class... Traits>
int fitted_team_size(const ExecutionSpace& exec, int requested) {
  if constexpr (Kokkos::SpaceAccessibility<ExecutionSpace, Kokkos::HostSpace>::accessible) {
    const Kokkos::TeamPolicy<ExecutionSpace, Traits...> probe(exec, 1, 1);
    const int max = probe.team_size_max(detail::NoOpTeamFunctor(), Kokkos::ParallelForTag());
    return requested < max ? requested : (max > 0 ? max : 1);
  } else {
    (void)exec;
    return requested;
  }
}

template <class ExecutionSpace>
Kokkos::TeamPolicy<ExecutionSpace> team_policy(const ExecutionSpace& exec, int league_size) {
  using Config = LaunchConfig<ExecutionSpace>;
  return Kokkos::TeamPolicy<ExecutionSpace>(exec, league_size, fitted_team_size(exec, Config::team_size),
                                            Config::vector_length);
}

// Patches per launch of the patch solver on `exec`: patch_batch_per_thread for each thread of a host
// backend's pool, at most patch_batch.
template <class ExecutionSpace>
int patch_batch_for(const ExecutionSpace& exec) {
  using Config = LaunchConfig<ExecutionSpace>;
  const long per_thread = static_cast<long>(Config::patch_batch_per_thread) * exec.concurrency();
  return per_thread < Config::patch_batch ? static_cast<int>(per_thread > 0 ? per_thread : 1) : Config::patch_batch;
}

// The spot kernel's launch: its own team size.
template <class ExecutionSpace>
Kokkos::TeamPolicy<ExecutionSpace> spot_team_policy(const ExecutionSpace& exec, int league_size) {
  using Config = LaunchConfig<ExecutionSpace>;
  return Kokkos::TeamPolicy<ExecutionSpace>(exec, league_size, fitted_team_size(exec, Config::spot_team_size),
                                            Config::vector_length);
}

// Teams of unequal cost (patches differ in pixels and fibers): dynamic scheduling on host backends.
template <class ExecutionSpace>
Kokkos::TeamPolicy<ExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>> dynamic_team_policy(const ExecutionSpace& exec,
                                                                                          int league_size) {
  using Config = LaunchConfig<ExecutionSpace>;
  return Kokkos::TeamPolicy<ExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>>(
      exec, league_size, fitted_team_size<ExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>>(exec, Config::team_size),
      Config::vector_length);
}

// The patch solver's launch: its own team shape, dynamic scheduling.
// The patch solver's policy: dynamic schedule, and on GPUs launch bounds that keep its register count to
// LaunchConfig::solver_min_teams_per_sm teams per SM.
template <class ExecutionSpace>
using SolverTeamPolicy =
    Kokkos::TeamPolicy<ExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>,
                       Kokkos::LaunchBounds<(LaunchConfig<ExecutionSpace>::solver_min_teams_per_sm > 0
                                                 ? LaunchConfig<ExecutionSpace>::solver_team_size *
                                                       LaunchConfig<ExecutionSpace>::solver_vector_length
                                                 : 0),
                                            LaunchConfig<ExecutionSpace>::solver_min_teams_per_sm>>;

// Teams are taken one at a time: Kokkos' host backends otherwise hand out chunks of 2 to 8 teams for a
// launch's 128 patches on 2 threads, and a patch takes milliseconds on a CPU thread, so the threads finished
// each launch up to a chunk apart (the last one working alone).
template <class ExecutionSpace>
SolverTeamPolicy<ExecutionSpace> solver_team_policy(const ExecutionSpace& exec, int league_size) {
  using Config = LaunchConfig<ExecutionSpace>;
  SolverTeamPolicy<ExecutionSpace> policy(
      exec, league_size,
      fitted_team_size<ExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>>(exec, Config::solver_team_size),
      Config::solver_vector_length);
  policy.set_chunk_size(1);
  return policy;
}

}  // namespace perfex::backends
