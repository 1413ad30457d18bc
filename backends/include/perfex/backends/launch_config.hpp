// Per-backend launch choices, in one place so core's kernels stay written once: team sizes and vector
// lengths for TeamPolicy launches on each execution space. The frame pipeline's choices (bundles per chunk,
// result memory, the simulator's batches) are in frame_policy.hpp.
#pragma once

#include <Kokkos_Core.hpp>

namespace perfex::backends {

template <class ExecutionSpace>
struct LaunchConfig {
  // Host backends: one thread per team, the team's work is serial and vectorised by the compiler.
  static constexpr int team_size = 1;
  static constexpr int vector_length = 1;
  // Patches solved per launch: bounds the per-patch workspace (~1.3 MB each for DESI patches) while
  // giving every thread many patches to balance.
  static constexpr int patch_batch = 128;
  // Wavelengths per work item of a per-(fiber, wavelength) kernel whose inner loops run over them: SIMD
  // lanes on host backends.
  static constexpr int wavelengths_per_item = 8;
  // Decorrelation (core/src/decorrelate.hpp): one team per C_bb block. One lane per team on host
  // backends: the block's loops run contiguously and vectorise; the GPU shape (PERFEX_LAUNCH_SHAPE=gpu)
  // uses the CUDA team size, clamped at run time to the thread pool.
#if defined(PERFEX_LAUNCH_SHAPE_GPU)
  static constexpr int decorrelate_team_size = 32;
#else
  static constexpr int decorrelate_team_size = 1;
#endif
  static constexpr int decorrelate_vector_length = 1;
};

#if defined(KOKKOS_ENABLE_CUDA)
template <>
struct LaunchConfig<Kokkos::Cuda> {
  static constexpr int team_size = 128;
  static constexpr int vector_length = 1;
  static constexpr int patch_batch = 2048;
  static constexpr int wavelengths_per_item = 1;  // one per thread: per-thread arrays stay in registers
  // Decorrelation: a warp per C_bb block, one lane per thread (the block's rows, columns or poles).
  static constexpr int decorrelate_team_size = 32;
  static constexpr int decorrelate_vector_length = 1;
};
#endif

template <class ExecutionSpace>
Kokkos::TeamPolicy<ExecutionSpace> team_policy(const ExecutionSpace& exec, int league_size) {
  using Config = LaunchConfig<ExecutionSpace>;
  return Kokkos::TeamPolicy<ExecutionSpace>(exec, league_size, Config::team_size, Config::vector_length);
}

// Teams of unequal cost (patches differ in pixels and bandwidth): dynamic scheduling on host backends.
template <class ExecutionSpace>
Kokkos::TeamPolicy<ExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>> dynamic_team_policy(const ExecutionSpace& exec,
                                                                                          int league_size) {
  using Config = LaunchConfig<ExecutionSpace>;
  return Kokkos::TeamPolicy<ExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>>(exec, league_size, Config::team_size,
                                                                               Config::vector_length);
}

}  // namespace perfex::backends
