// Whether this build's default execution space can run here, asked before Kokkos is initialised (Kokkos
// aborts when a CUDA build finds no device). Host backends always can; a CUDA build needs the CUDA
// runtime to find a device, which a build or CI machine without an NVIDIA GPU and driver does not.
#pragma once

#include <Kokkos_Macros.hpp>  // KOKKOS_ENABLE_CUDA
#include <string>

#if defined(KOKKOS_ENABLE_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace perfex::backends {

// Empty when kernels can run; otherwise a one-line reason starting "no CUDA device: ".
inline std::string missing_device() {
#if defined(KOKKOS_ENABLE_CUDA)
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) return std::string("no CUDA device: ") + cudaGetErrorString(err);
  if (count < 1) return "no CUDA device: the CUDA runtime found none";
#endif
  return {};
}

}  // namespace perfex::backends
