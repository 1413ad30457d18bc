// PSF evaluation on the real DESI PSFs (issue #3's measure): every fiber of a GAUSS-HERMITE PSF file on
// the DESI r extraction grid (500 x 2326 spots), into a cache kept between iterations (reuse:1, what the
// frame pipeline pays for each chunk after the first) or allocated afresh (reuse:0: allocation and the
// first touch of ~1.7 GB included). The PSFs come from ../shared/data (or $PERFEX_SHARED_DIR/data, or
// --psf FILE); without them the benchmarks report that they were skipped and why. BM_SpotsLayout: the
// synthetic PSF in each file layout perfex reads (PSFVER 3, PSFVER 2, GAUSS-HERMITE2), tails on.
#include <benchmark/benchmark.h>

#include "bench_main.hpp"

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/io/psf_io.hpp"

namespace {

bool g_smoke = false;
std::string g_psf_override;  // --psf FILE
std::map<std::string, std::unique_ptr<perfex::GaussHermitePsf>> g_psfs;

std::filesystem::path shared_data_dir() {
  if (const char* dir = std::getenv("PERFEX_SHARED_DIR")) return std::filesystem::path(dir) / "data";
  return std::filesystem::path(PERFEX_DEFAULT_SHARED_DIR) / "data";
}

// The PSF of `name` (a file in shared data/, or --psf), read once; nullptr with *why set when it is absent
// or not a readable GAUSS-HERMITE PSF.
const perfex::GaussHermitePsf* psf(const std::string& name, std::string* why) {
  const std::filesystem::path path = g_psf_override.empty() ? shared_data_dir() / name
                                                            : std::filesystem::path(g_psf_override);
  auto& slot = g_psfs[path.string()];
  if (!slot) {
    if (!std::filesystem::exists(path)) {
      *why = "PSF file absent: " + path.string() +
             " (place ../shared beside the project, set PERFEX_SHARED_DIR or pass --psf FILE)";
      return nullptr;
    }
    try {
      slot = std::make_unique<perfex::GaussHermitePsf>(perfex::io::read_psf(path.string()));
    } catch (const perfex::Error& e) {  // a bad --psf: say why, as for an absent file
      *why = e.what();
      return nullptr;
    }
  }
  return slot.get();
}

void BM_SpotsRealPsf(benchmark::State& state, const std::string& name) {
  std::string why;
  const perfex::GaussHermitePsf* p = psf(name, &why);
  if (!p) {
    state.SkipWithError(why.c_str());
    return;
  }
  const bool reuse = state.range(0) == 1;
  const int nfiber = g_smoke ? 25 : p->nfiber;
  const auto grid = perfex::linear_wavelengths(5760.0, g_smoke ? 5760.0 + 0.8 * 99 : 7620.0, 0.8);
  perfex::SpotCache cache;
  if (reuse) perfex::evaluate_spots(perfex::ExecSpace(), *p, 0, nfiber, grid, cache);
  for (auto _ : state) {
    if (reuse) {
      perfex::evaluate_spots(perfex::ExecSpace(), *p, 0, nfiber, grid, cache);
    } else {
      perfex::SpotCache fresh;
      perfex::evaluate_spots(perfex::ExecSpace(), *p, 0, nfiber, grid, fresh);
      Kokkos::fence();
      benchmark::DoNotOptimize(fresh.spots.data());
    }
    Kokkos::fence();
  }
  state.counters["spots_per_s"] = benchmark::Counter(static_cast<double>(nfiber) * static_cast<double>(grid.size()),
                                                     benchmark::Counter::kIsIterationInvariantRate);
}

// The synthetic PSF in each file layout (psf synth --layout), every fiber on the DESI r grid, into a reused
// cache: the PSFVER 2 layout holds the PSFVER 3 model (the same kernel); GAUSS-HERMITE2's 20 x 20 stamps with a
// second core of degree 3 take the general kernel.
void BM_SpotsLayout(benchmark::State& state, perfex::PsfLayout layout) {
  perfex::SyntheticPsfOptions o;
  o.layout = layout;
  o.tails = true;
  const perfex::GaussHermitePsf p = perfex::make_synthetic_psf(o);
  const int nfiber = g_smoke ? 25 : p.nfiber;
  const auto grid = perfex::linear_wavelengths(5760.0, g_smoke ? 5760.0 + 0.8 * 99 : 7620.0, 0.8);
  perfex::SpotOptions options;
  options.tails = true;
  perfex::SpotCache cache;
  perfex::evaluate_spots(perfex::ExecSpace(), p, 0, nfiber, grid, cache, options);
  for (auto _ : state) {
    perfex::evaluate_spots(perfex::ExecSpace(), p, 0, nfiber, grid, cache, options);
    Kokkos::fence();
  }
  state.counters["spots_per_s"] = benchmark::Counter(static_cast<double>(nfiber) * static_cast<double>(grid.size()),
                                                     benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK_CAPTURE(BM_SpotsLayout, psfver3_tails, perfex::PsfLayout::XtraceYtracePsf)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_SpotsLayout, psfver2_tails, perfex::PsfLayout::OneTable)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_SpotsLayout, gauss_hermite2_tails, perfex::PsfLayout::TwoCores)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_SpotsRealPsf, r0_00051060, std::string("psf-r0-00051060.fits"))
    ->ArgName("reuse")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_SpotsRealPsf, r0_00067784, std::string("psf-r0-00067784.fits"))
    ->ArgName("reuse")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--psf") == 0 && i + 1 < argc) {
      g_psf_override = argv[++i];
    } else {
      args.push_back(argv[i]);
    }
  }
  if (!g_psf_override.empty()) {  // a PSF named on the command line must be readable: exit 1 otherwise
    try {
      (void)perfex::io::read_psf(g_psf_override);
    } catch (const perfex::Error& e) {
      std::fprintf(stderr, "bench_spots: error: --psf: %s\n", e.what());
      return 1;
    }
  }
  perfex::bench::BenchProgram program;
  program.smoke = &g_smoke;
  program.describe_frame = [](bool smoke) -> std::string {
    return smoke ? "smoke: 25 fibers x 100 bins of a real PSF" : "every fiber of a real PSF x 2326 bins (DESI r grid)";
  };
  program.release = [] { g_psfs.clear(); };
  return perfex::bench::run_benchmarks(static_cast<int>(args.size()), args.data(), program);
}
