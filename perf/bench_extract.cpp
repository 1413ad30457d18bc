// Extraction benchmarks on a synthetic DESI-like r frame made in memory (synthetic PSF, built-in spectra,
// simulated noise): the spot cache, one bundle by solver phase, one bundle, and a full 500-fiber frame.
// `--smoke` shrinks everything to one bundle and a short grid so ctest can run it once, untimed.
#include <benchmark/benchmark.h>

#include "bench_main.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "perfex/core/builtin_spectra.hpp"
#include "perfex/core/detail/extract_phases.hpp"
#include "perfex/core/extract.hpp"
#include "perfex/core/extract_frame.hpp"
#include "perfex/core/linalg/block_inverse_sqrt.hpp"
#include "perfex/core/linalg/inverse_sqrt_poles.hpp"
#include "perfex/core/simulate.hpp"
#include "perfex/core/synthetic_psf.hpp"

namespace {

bool g_smoke = false;

// One simulated frame shared by every benchmark (built on first use, released before Kokkos finalises).
struct Frame {
  perfex::GaussHermitePsf psf;
  std::vector<double> grid;  // the extraction grid (DESI r: 5760..7620, step 0.8)
  perfex::ImageInput input;
  perfex::ExtractionOptions options;
  int nspec = 500;
};
std::unique_ptr<Frame> g_frame;

const Frame& frame() {
  if (g_frame) return *g_frame;
  auto f = std::make_unique<Frame>();
  f->psf = perfex::make_synthetic_psf({"r0", 1, false});
  f->nspec = g_smoke ? 25 : f->psf.nfiber;
  const double wmax = g_smoke ? 5760.0 + 0.8 * 99 : 7620.0;
  f->grid = perfex::linear_wavelengths(5760.0, wmax, 0.8);
  // Simulate on a grid reaching past the padded extraction grid, so the padding bins see light too.
  const auto sim_grid = perfex::linear_wavelengths(5760.0 - 0.8 * 40, wmax + 0.8 * 100, 0.8);
  const auto spectra = perfex::make_builtin_spectra(sim_grid, 0, f->nspec, {});
  perfex::SimulationOptions sim;
  sim.seed = 7;
  const auto simulated = perfex::simulate_frame(perfex::ExecSpace(), f->psf, sim_grid, spectra.photons, sim);
  f->input.image = simulated.image;
  f->input.weights = simulated.ivar;
  f->input.ccd_ny = f->psf.npix_y;
  f->input.ccd_nx = f->psf.npix_x;
  f->options.psferr = f->psf.default_psferr();
  f->options.ndiag = f->psf.hsizey;
  g_frame = std::move(f);
  return *g_frame;
}

void add_context_counters(benchmark::State& state, double patches) {
  state.counters["patches_per_s"] = benchmark::Counter(patches, benchmark::Counter::kIsRate);
}

void BM_SpotCacheBundle(benchmark::State& state) {
  const Frame& f = frame();
  const auto padded = perfex::padded_wavelengths(f.grid, f.options);
  for (auto _ : state) {
    auto spots = perfex::evaluate_spots(perfex::ExecSpace(), f.psf, 0, 25, padded);
    Kokkos::fence();
    benchmark::DoNotOptimize(spots.spots.data());
  }
  state.counters["spots_per_s"] =
      benchmark::Counter(25.0 * static_cast<double>(padded.size()), benchmark::Counter::kIsIterationInvariantRate);
}

// Every fiber of the frame on the requested grid (500 x 2326 for DESI r, issue #3's measure), into a fresh
// cache (range 0: allocation and first touch of its ~1.7 GB included) or into one reused cache (range 1:
// what the frame pipeline pays per chunk after the first).
void BM_SpotCacheFrame(benchmark::State& state) {
  const Frame& f = frame();
  const bool reuse = state.range(0) == 1;
  perfex::SpotCache cache;
  if (reuse) perfex::evaluate_spots(perfex::ExecSpace(), f.psf, 0, f.nspec, f.grid, cache);
  for (auto _ : state) {
    if (reuse) {
      perfex::evaluate_spots(perfex::ExecSpace(), f.psf, 0, f.nspec, f.grid, cache);
    } else {
      perfex::SpotCache fresh;
      perfex::evaluate_spots(perfex::ExecSpace(), f.psf, 0, f.nspec, f.grid, fresh);
      Kokkos::fence();
      benchmark::DoNotOptimize(fresh.spots.data());
    }
    Kokkos::fence();
  }
  state.counters["spots_per_s"] = benchmark::Counter(static_cast<double>(f.nspec) * static_cast<double>(f.grid.size()),
                                                     benchmark::Counter::kIsIterationInvariantRate);
}

// One bundle up to a solver phase (1 normal equations, 2 + Cholesky and solve, 3 + selected inverse,
// 4 + decorrelation, 5 + chi2pix and pixmask = everything); the spot cache is made outside the timing.
void BM_BundleUntilPhase(benchmark::State& state) {
  const Frame& f = frame();
  const auto phase = static_cast<perfex::detail::SolvePhase>(state.range(0));
  const auto padded = perfex::padded_wavelengths(f.grid, f.options);
  const auto spots = perfex::evaluate_spots(perfex::ExecSpace(), f.psf, 0, 25, padded);
  const auto xc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.xcorner);
  const auto yc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.ycorner);
  const auto plan = perfex::plan_patches(xc, yc, 0, spots.stamp_ny, spots.stamp_nx, 0, 25,
                                         static_cast<int>(f.grid.size()), f.options);
  perfex::ExtractWorkspace workspace;  // kept between iterations, as the frame pipeline keeps it between bundles
  for (auto _ : state) {
    auto r =
        perfex::detail::extract_until(perfex::ExecSpace(), f.input, spots, f.grid, plan, f.options, phase, &workspace);
    benchmark::DoNotOptimize(r.flux.data());
  }
  add_context_counters(state, static_cast<double>(plan.patches.size()) * state.iterations());
  state.counters["patches"] = static_cast<double>(plan.patches.size());
}

// The decorrelation's block algebra alone (perfex/core/linalg/block_inverse_sqrt.hpp) on one lane, as host
// backends run it, over the real C_bb blocks of the bundle's last patch batch (left in the workspace by a
// run up to the decorrelation): C^{-1/2} products of every core fiber's 74 x 74 block.
void BM_DecorrelationBlocks(benchmark::State& state) {
  const Frame& f = frame();
  const auto padded = perfex::padded_wavelengths(f.grid, f.options);
  const auto spots = perfex::evaluate_spots(perfex::ExecSpace(), f.psf, 0, 25, padded);
  const auto xc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.xcorner);
  const auto yc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.ycorner);
  const auto plan = perfex::plan_patches(xc, yc, 0, spots.stamp_ny, spots.stamp_nx, 0, 25,
                                         static_cast<int>(f.grid.size()), f.options);
  perfex::ExtractWorkspace workspace;
  perfex::detail::extract_until(perfex::ExecSpace(), f.input, spots, f.grid, plan, f.options,
                                perfex::detail::SolvePhase::Decorrelation, &workspace);
  const auto cblocks = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), workspace.cblocks);
  const auto vec = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), workspace.vec);
  const int npatch = static_cast<int>(plan.patches.size());
  const int slots = static_cast<int>(cblocks.extent(0));
  const int first = ((npatch - 1) / slots) * slots;  // the last batch's first patch
  const int m = plan.max_nwave;
  int max_cols = 0;
  for (const auto& p : plan.patches) max_cols = std::max(max_cols, p.nkeep);
  const perfex::linalg::BlockInverseSqrtShape shape{m, max_cols, f.options.ndiag, 1};
  std::vector<double> near(perfex::linalg::BlockInverseSqrtScratch::near_doubles(shape));
  std::vector<double> far(perfex::linalg::BlockInverseSqrtScratch::far_doubles(shape));
  const auto w = perfex::linalg::BlockInverseSqrtScratch::carve(shape, near.data(), far.data());
  const auto& table = perfex::linalg::inverse_sqrt_poles();
  const perfex::linalg::InverseSqrtPolesRef poles{table.first.data(), table.shift.data(), table.weight.data(),
                                                  perfex::linalg::InverseSqrtPoleTable::max_log2_ratio};
  double blocks = 0.0;
  int failed = 0;
  for (auto _ : state) {
    for (int i = first; i < npatch; ++i) {
      const auto& p = plan.patches[i];
      for (int c = 0; c < p.ncore_fiber; ++c) {
        const int b = p.core_fiber_lo - p.fiber_lo + c;
        failed += perfex::linalg::team_block_inverse_sqrt(perfex::linalg::SerialLanes{1, false}, poles, shape, w,
                                                          p.nwave, &cblocks(i - first, c * m * m), p.nwave,
                                                          &vec(i - first, plan.max_unknowns + b * p.nwave),
                                                          p.core_offset, p.nkeep, f.options.ndiag);
        blocks += 1.0;
      }
    }
    benchmark::DoNotOptimize(w.qband);
  }
  state.counters["blocks_per_s"] = benchmark::Counter(blocks, benchmark::Counter::kIsRate);
  state.counters["failed"] = failed;
}

// A full frame as perfex extract runs it: core's extract_frame (chunks of the backend's bundles_per_chunk,
// spots, plan, solve, per-Angstrom units and specmask on the device, one copy of each array to the host),
// the image already uploaded. reuse:0 sets the pipeline up for every frame (perfex extract); reuse:1 keeps
// one FrameExtractor between frames, so later frames reuse its patch plans and workspace (an exposure's
// frames with one PSF, the GPU check).
void BM_Frame(benchmark::State& state) {
  const Frame& f = frame();
  const bool reuse = state.range(0) == 1;
  perfex::FrameOptions options;
  options.extraction = f.options;
  std::unique_ptr<perfex::FrameExtractor> kept;
  if (reuse) {  // set up, and its plans made, outside the timing
    kept = std::make_unique<perfex::FrameExtractor>(perfex::ExecSpace(), f.psf, f.grid, 0, f.nspec, options);
    kept->extract(f.input);
  }
  double patches = 0;
  for (auto _ : state) {
    const auto r = reuse ? kept->extract(f.input)
                         : perfex::extract_frame(perfex::ExecSpace(), f.input, f.psf, f.grid, 0, f.nspec, options);
    benchmark::DoNotOptimize(r.result.flux.data());
    patches += static_cast<double>(r.result.nspec / 5 * ((r.result.nwave + 49) / 50));
  }
  add_context_counters(state, patches);
  state.counters["fibers"] = f.nspec;
  state.counters["bins"] = static_cast<double>(f.grid.size());
  state.counters["bundles_per_chunk"] = perfex::backends::FramePolicy<perfex::ExecSpace>::bundles_per_chunk;
}

}  // namespace

BENCHMARK(BM_SpotCacheBundle)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SpotCacheFrame)->ArgName("reuse")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BundleUntilPhase)->DenseRange(1, 5)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DecorrelationBlocks)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Frame)->ArgName("reuse")->Arg(0)->Arg(1)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

int main(int argc, char** argv) {
  perfex::bench::BenchProgram program;
  program.smoke = &g_smoke;
  program.describe_frame = [](bool smoke) -> std::string {
    return smoke ? "smoke: 25 fibers x 100 bins" : "500 fibers x 2326 bins (DESI r)";
  };
  program.release = [] { g_frame.reset(); };
  return perfex::bench::run_benchmarks(argc, argv, program);
}
