// Per-execution-space choices of the frame pipeline (core's extract_frame and simulate_frame): how many
// bundles are evaluated and extracted together, how many fibers the simulator projects at a time, in
// which host memory the finished arrays arrive (page-locked where the backend has it), and where host-side
// steps run. Kernels' launch
// shapes are in launch_config.hpp.
#pragma once

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace perfex::backends {

template <class ExecutionSpace>
struct FramePolicy {
  // Host backends: one bundle's ~240 patches already keep every thread busy, and each bundle's spot cache
  // (~90 MB for a DESI grid) is reused in place by the next.
  static constexpr int bundles_per_chunk = 1;
  // Host memory the results are copied into. On host backends the device arrays are host memory already:
  // the "copy" is the same allocation (Kokkos::deep_copy sees equal pointers and moves nothing).
  using result_space = Kokkos::HostSpace;
  // Where the pipeline's host-side steps (tools on host arrays: the frame mask) run: the space itself when it
  // is a host space, so that a build for one space launches on that space only, else the default host space.
  using host_exec_space = std::conditional_t<Kokkos::SpaceAccessibility<ExecutionSpace, Kokkos::HostSpace>::accessible,
                                             ExecutionSpace, Kokkos::DefaultHostExecutionSpace>;
  // Simulator: fibers whose spots are evaluated together; as many as keep a batch's spots under 24 MB,
  // which the allocator then reuses from batch to batch instead of mapping fresh pages each time.
  static int simulate_fibers_per_batch(std::size_t spot_bytes, int nwave) {
    const double batch_bytes = static_cast<double>(spot_bytes) * std::max(1, nwave);
    return std::max(1, static_cast<int>(24e6 / batch_bytes));
  }
};

#if defined(KOKKOS_ENABLE_CUDA)
template <>
struct FramePolicy<Kokkos::Cuda> {
  // More patches per launch (4 x ~240) fill the device; ~360 MB of spots for a DESI grid.
  static constexpr int bundles_per_chunk = 4;
  // Page-locked host memory: the one copy of each finished array runs at the link's full speed (pageable
  // memory goes through the driver's bounce buffers), and the copies can be queued on the stream.
  using result_space = Kokkos::CudaHostPinnedSpace;
  using host_exec_space = Kokkos::DefaultHostExecutionSpace;
  static int simulate_fibers_per_batch(std::size_t, int) { return 25; }
};
#endif

}  // namespace perfex::backends
