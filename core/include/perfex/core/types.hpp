// Execution and memory spaces perfex's kernels run on, and the View aliases the layers share.
#pragma once

#include <Kokkos_Core.hpp>

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

template <class T>
using DeviceView = Kokkos::View<T, Kokkos::LayoutRight, MemSpace>;
template <class T>
using HostView = Kokkos::View<T, Kokkos::LayoutRight, HostSpace>;

}  // namespace perfex
