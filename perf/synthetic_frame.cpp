#include "synthetic_frame.hpp"

#include "perfex/core/builtin_spectra.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/simulate.hpp"
#include "perfex/core/synthetic_psf.hpp"

namespace perfex::bench {

SyntheticFrame simulate_r_frame(const ExecSpace& exec, int fiber_begin, int nfiber, double wmin, double wmax,
                                int ncosmics) {
  SyntheticFrame f;
  f.psf = make_synthetic_psf({"r0", 1, false});
  f.grid = linear_wavelengths(wmin, wmax, 0.8);
  const auto sim_grid = linear_wavelengths(wmin - 0.8 * 40, wmax + 0.8 * 100, 0.8);
  const auto spectra = make_builtin_spectra(sim_grid, fiber_begin, nfiber, {});
  SimulationOptions sim;
  sim.seed = 7;
  sim.fiber_begin = fiber_begin;
  sim.ncosmics = ncosmics;
  const SimulatedFrame simulated = simulate_frame(exec, f.psf, sim_grid, spectra.photons, sim);
  f.image = Kokkos::create_mirror_view_and_copy(HostSpace(), simulated.image);
  f.ivar = Kokkos::create_mirror_view_and_copy(HostSpace(), simulated.ivar);
  return f;
}

}  // namespace perfex::bench
