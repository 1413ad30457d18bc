// The shared Catch2 main: initialises Kokkos once for every test of the executable, and keeps Kokkos'
// own messages out of Catch2's test discovery (which parses stdout).
#include <Kokkos_Core.hpp>
#include <catch2/catch_session.hpp>

#include <cstdio>
#include <cstring>
#include <string>

#include "perfex/backends/device.hpp"

int main(int argc, char* argv[]) {
  bool listing = false;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--list", 6) == 0) listing = true;
  if (listing) {
    // Discovery needs no Kokkos: list without initialising, so nothing else reaches stdout.
    return Catch::Session().run(argc, argv);
  }
  // A CUDA build on a machine without a GPU (CI): every test needs the device, so skip them all before
  // Kokkos (which would abort) is initialised. 4 is the code catch_discover_tests reports as skipped.
  if (const std::string missing = perfex::backends::missing_device(); !missing.empty()) {
    std::printf("%s: skipping (this build runs its kernels on Kokkos' %s execution space)\n", missing.c_str(),
                Kokkos::DefaultExecutionSpace::name());
    return 4;
  }
  Kokkos::ScopeGuard kokkos(argc, argv);
  return Catch::Session().run(argc, argv);
}
