// Simulator benchmarks on the synthetic DESI r PSF, in memory: a full 500-fiber x 2326-bin frame (spots,
// projection, noise), with and without noise, and the projection of one bundle's precomputed spots.
// `--smoke` shrinks the frame to two bundles so ctest can run every benchmark once.
#include <benchmark/benchmark.h>

#include "bench_main.hpp"

#include <Kokkos_Core.hpp>
#include <memory>
#include <string>
#include <vector>

#include "perfex/core/builtin_spectra.hpp"
#include "perfex/core/simulate.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/synthetic_psf.hpp"

namespace {

bool g_smoke = false;

// Inputs shared by every benchmark (built on first use, released before Kokkos finalises).
struct Inputs {
  perfex::GaussHermitePsf psf;
  std::vector<double> grid;  // DESI r: 5760..7620, step 0.8 (2326 bins)
  perfex::BuiltinSpectra spectra;
  int nfiber = 500;
};
std::unique_ptr<Inputs> g_inputs;

const Inputs& inputs() {
  if (g_inputs) return *g_inputs;
  auto in = std::make_unique<Inputs>();
  in->psf = perfex::make_synthetic_psf({"r0", 1, false});
  in->nfiber = g_smoke ? 50 : in->psf.nfiber;
  const perfex::CameraGrid g = perfex::desi_camera_grid("r0");
  for (int i = 0; i < g.size(); ++i) in->grid.push_back(g.at(i));
  perfex::BuiltinSpectraOptions options;
  options.seed = 7;
  in->spectra = perfex::make_builtin_spectra(in->grid, 0, in->nfiber, options);
  g_inputs = std::move(in);
  return *g_inputs;
}

// simulate_frame end to end; range(0) = 1 with Poisson + read noise, 0 noiseless.
void BM_SimulateFrame(benchmark::State& state) {
  const Inputs& in = inputs();
  const perfex::ExecSpace exec;
  perfex::SimulationOptions options;
  options.seed = 7;
  options.noise = state.range(0) != 0;
  for (auto _ : state) {
    exec.fence();
    Kokkos::Timer timer;
    const auto frame = perfex::simulate_frame(exec, in.psf, in.grid, in.spectra.photons, options);
    exec.fence();
    state.SetIterationTime(timer.seconds());
    benchmark::DoNotOptimize(frame.image.data());
  }
  const double spots = static_cast<double>(in.nfiber) * static_cast<double>(in.grid.size());
  state.counters["spots_per_s"] = benchmark::Counter(spots, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["fibers"] = in.nfiber;
  state.counters["bins"] = static_cast<double>(in.grid.size());
}

// project_spots alone: one bundle's spots (made outside the timing) onto a full-size image.
void BM_ProjectBundle(benchmark::State& state) {
  const Inputs& in = inputs();
  const perfex::ExecSpace exec;
  const auto spots = perfex::evaluate_spots(exec, in.psf, 0, 25, in.grid);
  const int nwave = static_cast<int>(in.grid.size());
  perfex::DeviceView<double**> photons("perfex::bench::photons", 25, nwave);
  {
    auto h = Kokkos::create_mirror_view(photons);
    for (int f = 0; f < 25; ++f)
      for (int w = 0; w < nwave; ++w) h(f, w) = in.spectra.photons(f, w);
    Kokkos::deep_copy(photons, h);
  }
  perfex::DeviceView<double**> image("perfex::bench::image", in.psf.npix_y, in.psf.npix_x);
  for (auto _ : state) {
    exec.fence();
    Kokkos::Timer timer;
    const double off = perfex::project_spots(exec, spots, photons, image);
    exec.fence();
    state.SetIterationTime(timer.seconds());
    benchmark::DoNotOptimize(off);
  }
  state.counters["spots_per_s"] = benchmark::Counter(25.0 * nwave, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(BM_SimulateFrame)->Arg(1)->Arg(0)->ArgName("noise")->UseManualTime()->Unit(benchmark::kSecond);
BENCHMARK(BM_ProjectBundle)->UseManualTime()->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  perfex::bench::BenchProgram program;
  program.smoke = &g_smoke;
  program.describe_frame = [](bool smoke) -> std::string {
    return smoke ? "smoke: 50 fibers x 2326 bins (DESI r)" : "500 fibers x 2326 bins (DESI r), 4128 x 4114 pixels";
  };
  program.release = [] { g_inputs.reset(); };
  return perfex::bench::run_benchmarks(argc, argv, program);
}
