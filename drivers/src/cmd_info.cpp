// `perfex info`: versions and the parallel configuration this build runs with.
#include <fitsio.h>
#include <fmt/core.h>
#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>
#include <string>
#if defined(KOKKOS_ENABLE_CUDA)
#include <cuda_runtime_api.h>
#endif

#include "perfex/core/types.hpp"
#include "perfex/core/version.hpp"
#include "perfex/drivers/cli.hpp"
#include "perfex/drivers/comm.hpp"
#include "perfex/io/frame_hdf5.hpp"

namespace perfex::drivers {

namespace {
// `missing`: why the default execution space cannot run here (then Kokkos is not initialised), or empty.
int print_info(const std::string& missing) {
  fmt::print("perfex {}\n", PERFEX_VERSION_STRING);
  fmt::print("Kokkos {}.{}.{}\n", KOKKOS_VERSION / 10000, KOKKOS_VERSION / 100 % 100, KOKKOS_VERSION % 100);
  if (!missing.empty()) {
    fmt::print("default execution space: {} (unavailable: {})\n", ExecSpace::name(), missing);
  } else {
    fmt::print("default execution space: {} (concurrency {})\n", ExecSpace::name(), ExecSpace().concurrency());
    fmt::print("host execution space: {} (concurrency {})\n", Kokkos::DefaultHostExecutionSpace::name(),
               Kokkos::DefaultHostExecutionSpace().concurrency());
#if defined(KOKKOS_ENABLE_CUDA)
    int device = 0;
    cudaDeviceProp prop{};
    if (cudaGetDevice(&device) == cudaSuccess && cudaGetDeviceProperties(&prop, device) == cudaSuccess)
      fmt::print("CUDA device {}: {} (compute capability {}.{}, {} SMs, {:.1f} GiB)\n", device, prop.name, prop.major,
                 prop.minor, prop.multiProcessorCount, prop.totalGlobalMem / 1073741824.0);
#endif
  }
#if defined(KOKKOS_ENABLE_CUDA) && defined(KOKKOS_ARCH_HOPPER90)
  fmt::print("CUDA architecture: HOPPER90 (sm_90)\n");
#elif defined(KOKKOS_ENABLE_CUDA) && defined(KOKKOS_ARCH_AMPERE80)
  fmt::print("CUDA architecture: AMPERE80 (sm_80)\n");
#endif
  fmt::print("enabled execution spaces:");
#if defined(KOKKOS_ENABLE_SERIAL)
  fmt::print(" Serial");
#endif
#if defined(KOKKOS_ENABLE_OPENMP)
  fmt::print(" OpenMP");
#endif
#if defined(KOKKOS_ENABLE_CUDA)
  fmt::print(" Cuda");
#endif
  fmt::print("\n");
  float cfitsio_version = 0;
  fits_get_version(&cfitsio_version);
  fmt::print("CFITSIO {:.3f}\n", cfitsio_version);
#if defined(PERFEX_HAVE_MPI)
  fmt::print("MPI: enabled ({})\n", mpi_library_version());
#else
  fmt::print("MPI: not built (configure with -DPERFEX_ENABLE_MPI=ON)\n");
#endif
  if (io::hdf5_available())
    fmt::print("HDF5: enabled ({}; frame files .h5, perfex convert{})\n", io::hdf5_library_version(),
               io::hdf5_parallel_available() ? "; parallel: collective exposure writes under MPI" : "");
  else
    fmt::print("HDF5: not built (configure with -DPERFEX_ENABLE_HDF5=ON)\n");
  return 0;
}
int run_info() { return print_info({}); }
}  // namespace

int run_info_without_device(const std::string& missing) { return print_info(missing); }

void add_info_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("info", "Print versions and the parallel configuration (execution spaces, threads)");
  cmd->callback([&action] { action = run_info; });
}

}  // namespace perfex::drivers
