// `perfex info`: versions and the parallel configuration this build runs with.
#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>
#include <fitsio.h>
#include <fmt/core.h>

#include "perfex/core/types.hpp"
#include "perfex/core/version.hpp"
#include "perfex/drivers/cli.hpp"

namespace perfex::drivers {

namespace {
int run_info() {
  fmt::print("perfex {}\n", PERFEX_VERSION_STRING);
  fmt::print("Kokkos {}.{}.{}\n", KOKKOS_VERSION / 10000, KOKKOS_VERSION / 100 % 100, KOKKOS_VERSION % 100);
  fmt::print("default execution space: {} (concurrency {})\n", ExecSpace::name(), ExecSpace().concurrency());
  fmt::print("host execution space: {} (concurrency {})\n", Kokkos::DefaultHostExecutionSpace::name(),
             Kokkos::DefaultHostExecutionSpace().concurrency());
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
  fmt::print("MPI: enabled\n");
#else
  fmt::print("MPI: not built (configure with -DPERFEX_ENABLE_MPI=ON)\n");
#endif
#if defined(PERFEX_HAVE_HDF5)
  fmt::print("HDF5: enabled\n");
#else
  fmt::print("HDF5: not built (configure with -DPERFEX_ENABLE_HDF5=ON)\n");
#endif
  return 0;
}
}  // namespace

void add_info_command(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("info", "Print versions and the parallel configuration (execution spaces, threads)");
  cmd->callback([&action] { action = run_info; });
}

}  // namespace perfex::drivers
