// The whole frame as `perfex extract` runs it (perf/frame_call.hpp: the CLI's chunking of bundles, image
// upload, spots, solve, assembly, specmask; model:1 adds the model image of -m), on the simulated DESI r
// frame of bench_extract (500 fibers x 2326 bins), with the copies between device and host that one frame
// makes (Kokkos Tools). The GPU check (scripts/gpu-check.sh) runs it on the GPU. `--smoke` shrinks the
// frame to one bundle and 100 bins so that ctest can run it once, untimed.
#include <benchmark/benchmark.h>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench_main.hpp"
#include "copy_count.hpp"
#include "frame_call.hpp"
#include "synthetic_frame.hpp"

namespace {

bool g_smoke = false;
std::unique_ptr<perfex::bench::SyntheticFrame> g_frame;

const perfex::bench::SyntheticFrame& frame() {
  if (!g_frame) {
    const int nfiber = g_smoke ? 25 : 500;
    const double wmax = g_smoke ? 5760.0 + 0.8 * 99 : 7620.0;
    g_frame = std::make_unique<perfex::bench::SyntheticFrame>(perfex::bench::simulate_r_frame(perfex::ExecSpace(), 0,
                                                                                              nfiber, 5760.0, wmax,
                                                                                              g_smoke ? 20 : 3000));
  }
  return *g_frame;
}

void BM_FrameCli(benchmark::State& state) {
  const auto& f = frame();
  const bool model = state.range(0) == 1;
  const auto options = perfex::bench::cli_extraction_options(f.psf);
  const int nspec = g_smoke ? 25 : f.psf.nfiber;
  double extract_s = 0.0;
  perfex::bench::Copies copies;
  for (auto _ : state) {
    perfex::bench::CopyCount count;
    const auto out = perfex::bench::extract_frame_as_cli(perfex::ExecSpace(), f.image, f.ivar, f.psf, f.grid, 0, nspec,
                                                         options, model);
    Kokkos::fence();
    benchmark::DoNotOptimize(out.result.flux.data());
    extract_s = out.extract_s;
    copies = count.copies();
  }
  state.counters["fibers"] = nspec;
  state.counters["bins"] = static_cast<double>(f.grid.size());
  state.counters["pipeline_s"] = extract_s;
  state.counters["d2h_copies"] = static_cast<double>(copies.to_host);
  state.counters["d2h_MB"] = static_cast<double>(copies.bytes_to_host) / 1e6;
  state.counters["h2d_copies"] = static_cast<double>(copies.to_device);
  state.counters["h2d_MB"] = static_cast<double>(copies.bytes_to_device) / 1e6;
}

}  // namespace

BENCHMARK(BM_FrameCli)->ArgName("model")->Arg(0)->Arg(1)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

int main(int argc, char** argv) {
  perfex::bench::BenchProgram program;
  program.smoke = &g_smoke;
  program.describe_frame = [](bool smoke) -> std::string {
    return smoke ? "smoke: 25 fibers x 100 bins, as perfex extract runs it"
                 : "500 fibers x 2326 bins (DESI r), as perfex extract runs it";
  };
  program.release = [] { g_frame.reset(); };
  return perfex::bench::run_benchmarks(argc, argv, program);
}
