// The host thread counts perfex can run, checked before Kokkos starts. Kokkos 3.4's OpenMP backend keeps its
// threads' data in a fixed array of 512 (OpenMPExec::MAX_THREAD_COUNT, Kokkos_OpenMP_Exec.hpp): more threads
// write past it and crash, and 0 threads aborts ("Requested Team Size is too large"). Within 1..512 any count
// works, whatever the number of cores (threads beyond the cores only share them).
#pragma once

#include <cstdlib>
#include <string>

namespace perfex::backends {

constexpr long max_host_threads = 512;

// "" when `value`, the thread count `source` gives ("--kokkos-threads", "OMP_NUM_THREADS"), is one perfex can
// run; otherwise a one-line reason naming the source. `list`: OpenMP's form "N[,M...]" (nested levels; the
// first is the count).
inline std::string thread_count_problem(const std::string& source, const std::string& value, bool list = false) {
  std::string first = list ? value.substr(0, value.find(',')) : value;
  while (!first.empty() && (first.front() == ' ' || first.front() == '\t')) first.erase(first.begin());
  while (!first.empty() && (first.back() == ' ' || first.back() == '\t')) first.pop_back();
  const std::string expected = " must be a number of threads in 1.." + std::to_string(max_host_threads) +
                               " (Kokkos 3.4's OpenMP backend runs at most " + std::to_string(max_host_threads) + ")";
  if (first.empty() || first.size() > 9 || first.find_first_not_of("0123456789") != std::string::npos)
    return source + "=" + value + ":" + expected;
  const long n = std::strtol(first.c_str(), nullptr, 10);
  if (n < 1 || n > max_host_threads) return source + "=" + value + ":" + expected;
  return {};
}

// The thread counts of the environment Kokkos reads at initialisation (OMP_NUM_THREADS through OpenMP,
// KOKKOS_NUM_THREADS itself): "" or the reason. Unset or empty variables are fine.
inline std::string environment_thread_problem() {
  for (const char* name : {"OMP_NUM_THREADS", "KOKKOS_NUM_THREADS"}) {
    const char* value = std::getenv(name);
    if (!value || !*value) continue;
    const std::string problem = thread_count_problem(name, value, std::string(name) == "OMP_NUM_THREADS");
    if (!problem.empty()) return problem;
  }
  return {};
}

}  // namespace perfex::backends
