// Uses perfex::core from an installed package: evaluates a Legendre series and prints the version.
#include <perfex/backends/device.hpp>
#include <perfex/core/psf.hpp>
#include <perfex/core/version.hpp>

#include <Kokkos_Core.hpp>
#include <cstdio>

int main(int argc, char* argv[]) {
  // Built for CUDA on a machine without a GPU: built and linked is all that can be checked here.
  if (const std::string missing = perfex::backends::missing_device(); !missing.empty()) {
    std::printf("perfex %s: %s: skipping the run\n", PERFEX_VERSION_STRING, missing.c_str());
    return 0;
  }
  Kokkos::ScopeGuard guard(argc, argv);
  perfex::LegendreSeries s;
  s.wavemin = 0.0;
  s.wavemax = 2.0;
  s.nfiber = 1;
  s.ncoef = 2;
  s.coeff = {1.0, 2.0};
  const double v = s.evaluate(0, 2.0);  // 1 + 2 * P1(1) = 3
  std::printf("perfex %s: %g\n", PERFEX_VERSION_STRING, v);
  return v == 3.0 ? 0 : 1;
}
