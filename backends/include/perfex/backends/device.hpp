// Whether this build's default execution space can run here, asked before Kokkos is initialised (Kokkos
// aborts when a CUDA build finds no device). Host backends always can; a CUDA build needs the CUDA
// runtime to find a device, which a build or CI machine without an NVIDIA GPU and driver does not.
#pragma once

#include <Kokkos_Macros.hpp>  // KOKKOS_ENABLE_CUDA
#include <cstdlib>
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

// Call before Kokkos is initialised. OpenMP reads OMP_PROC_BIND/OMP_PLACES when the program starts, so
// perfex cannot choose a binding for itself; without OMP_PROC_BIND the threads are not bound. Kokkos 3.4
// prints a warning on stdout when the variable is unset: record the state it is in (false) so that the
// warning does not mix with perfex's output. A binding the user sets (OMP_PROC_BIND=spread
// OMP_PLACES=threads, see the README) is left as it is.
inline void record_openmp_binding() { setenv("OMP_PROC_BIND", "false", 0); }

}  // namespace perfex::backends
