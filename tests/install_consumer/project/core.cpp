// Uses perfex::core from an installed package: evaluates a few spots of the synthetic PSF with Kokkos
// (each stamp sums to 1) and prints the version.
#include <perfex/backends/device.hpp>
#include <perfex/core/spots.hpp>
#include <perfex/core/synthetic_psf.hpp>
#include <perfex/core/version.hpp>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdio>

int main(int argc, char* argv[]) {
  // Built for CUDA on a machine without a GPU: built and linked is all that can be checked here.
  if (const std::string missing = perfex::backends::missing_device(); !missing.empty()) {
    std::printf("perfex %s: %s: skipping the run\n", PERFEX_VERSION_STRING, missing.c_str());
    return 0;
  }
  Kokkos::ScopeGuard guard(argc, argv);
  const perfex::GaussHermitePsf psf = perfex::make_synthetic_psf({"r0", 1, false});
  const auto cache = perfex::evaluate_spots(perfex::ExecSpace(), psf, 10, 2, {6000.0, 6500.0, 7000.0});
  const auto spots = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.spots);
  double worst = 0.0;
  for (int f = 0; f < cache.nfiber; ++f)
    for (int w = 0; w < cache.nwave; ++w) {
      double sum = 0.0;
      for (int iy = 0; iy < cache.stamp_ny; ++iy)
        for (int ix = 0; ix < cache.stamp_nx; ++ix) sum += spots(f, w, iy, ix);
      worst = std::fmax(worst, std::fabs(sum - 1.0));
    }
  std::printf("perfex %s: %d spots on %s, largest |sum - 1| %.1e\n", PERFEX_VERSION_STRING, cache.nfiber * cache.nwave,
              perfex::ExecSpace::name(), worst);
  return worst < 1e-12 ? 0 : 1;
}
