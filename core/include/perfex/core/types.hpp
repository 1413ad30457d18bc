// Execution and memory spaces perfex's kernels run on, and the View aliases the layers share.
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/backends/frame_policy.hpp"

namespace perfex {

// One source for every backend: kernels launch on the default execution space (OpenMP on CPUs, Cuda on
// NVIDIA GPUs); host-side plans and results live in HostSpace. PERFEX_EXECUTION_SPACE (e.g. Kokkos::Serial)
// compiles perfex for another enabled space: the tests build core once per space (cmake/PerfexTestSpaces.cmake).
#if defined(PERFEX_EXECUTION_SPACE)
using ExecSpace = PERFEX_EXECUTION_SPACE;
#else
using ExecSpace = Kokkos::DefaultExecutionSpace;
#endif
using MemSpace = ExecSpace::memory_space;
using HostSpace = Kokkos::HostSpace;
// Where host-side kernels (tools on host arrays) run: the backend's choice (backends::FramePolicy).
using HostExecSpace = backends::FramePolicy<ExecSpace>::host_exec_space;

template <class T>
using DeviceView = Kokkos::View<T, Kokkos::LayoutRight, MemSpace>;
template <class T>
using HostView = Kokkos::View<T, Kokkos::LayoutRight, HostSpace>;

// Host memory the finished arrays of an extraction are copied into: page-locked where the backend has it
// (backends::FramePolicy), HostSpace otherwise. Host-accessible like HostView, but only the same type on
// host backends: code that must accept both takes ResultView or a template.
using ResultSpace = backends::FramePolicy<ExecSpace>::result_space;
template <class T>
using ResultView = Kokkos::View<T, Kokkos::LayoutRight, ResultSpace>;

}  // namespace perfex
