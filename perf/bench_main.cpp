#include "bench_main.hpp"

#include <benchmark/benchmark.h>

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <cstring>
#include <vector>

#include "perfex/backends/device.hpp"
#include "perfex/core/types.hpp"

namespace perfex::bench {

int run_benchmarks(int argc, char** argv, const BenchProgram& program) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0)
      *program.smoke = true;
    else
      args.push_back(argv[i]);
  }
  int n = static_cast<int>(args.size());
  if (const std::string missing = perfex::backends::missing_device(); !missing.empty()) {
    std::printf("%s: skipping the benchmarks\n", missing.c_str());
    return 0;
  }
  Kokkos::ScopeGuard kokkos(n, args.data());
  benchmark::Initialize(&n, args.data());
  benchmark::AddCustomContext("kokkos_execution_space", perfex::ExecSpace::name());
  benchmark::AddCustomContext("kokkos_concurrency", std::to_string(perfex::ExecSpace().concurrency()));
  benchmark::AddCustomContext("kokkos_version", std::to_string(KOKKOS_VERSION));
#if defined(NDEBUG)
  benchmark::AddCustomContext("perfex_build", "optimized (NDEBUG)");
#else
  benchmark::AddCustomContext("perfex_build", "debug (assertions on)");
#endif
  benchmark::AddCustomContext("frame", program.describe_frame(*program.smoke));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  program.release();
  return 0;
}

}  // namespace perfex::bench
