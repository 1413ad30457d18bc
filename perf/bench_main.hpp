// The main() shared by perfex's benchmark programs: --smoke, the device check, Kokkos, the context lines.
#pragma once

#include <string>

namespace perfex::bench {

// What a benchmark program tells run_benchmarks.
struct BenchProgram {
  // Set before any benchmark runs: true with --smoke (one small untimed pass for ctest).
  bool* smoke = nullptr;
  // The "frame" context line, given the smoke flag.
  std::string (*describe_frame)(bool smoke) = nullptr;
  // Frees what the benchmarks cached (Kokkos views) before Kokkos finalises.
  void (*release)() = nullptr;
};

// Strips --smoke, returns 0 with a message when the build's device is missing (a CUDA build without a GPU:
// ctest reports the smoke run as skipped), initialises Kokkos and Google Benchmark, records the Kokkos
// execution space, concurrency and version and the build type as context, and runs the benchmarks selected
// by the command line.
int run_benchmarks(int argc, char** argv, const BenchProgram& program);

}  // namespace perfex::bench
