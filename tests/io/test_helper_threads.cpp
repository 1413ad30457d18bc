// Helper threads (io/helper_threads.hpp): on every CPU the process started with, whatever the affinity of the
// thread that starts them, and their errors reach join().
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "perfex/io/helper_threads.hpp"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>

namespace {

cpu_set_t this_thread_cpus() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  REQUIRE(sched_getaffinity(0, sizeof(cpus), &cpus) == 0);
  return cpus;
}

int first_cpu(const cpu_set_t& cpus) {
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &cpus)) return c;
  return -1;
}

}  // namespace

TEST_CASE("helper threads run on the process's CPUs, not on the core their creator is bound to", "[io][threads]") {
  const cpu_set_t before = this_thread_cpus();
  const unsigned count = perfex::io::process_cpu_count();
  REQUIRE(count >= static_cast<unsigned>(CPU_COUNT(&before)));  // (a thread's CPUs are some of the process's)
  // As OpenMP binds Kokkos' master thread under OMP_PROC_BIND: this thread on one CPU only.
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first_cpu(before), &one);
  REQUIRE(sched_setaffinity(0, sizeof(one), &one) == 0);
  cpu_set_t helper_cpus;
  CPU_ZERO(&helper_cpus);
  {
    perfex::io::HelperThreads helpers;
    helpers.run([&] { helper_cpus = this_thread_cpus(); });
    helpers.join();
  }
  REQUIRE(sched_setaffinity(0, sizeof(before), &before) == 0);
  CHECK(CPU_COUNT(&helper_cpus) == static_cast<int>(count));
  cpu_set_t missing;
  CPU_XOR(&missing, &before, &helper_cpus);
  CPU_AND(&missing, &missing, &before);
  CHECK(CPU_COUNT(&missing) == 0);  // every CPU this thread had before
  if (count < 2) WARN("one CPU only: a helper bound to its creator's core could not be told apart");
}
#endif

TEST_CASE("helper threads hand the first error to join() and all finish first", "[io][threads]") {
  perfex::io::HelperThreads helpers;
  int finished = 0;
  helpers.run([] { throw std::runtime_error("reader failed"); });
  helpers.run([&finished] { finished = 1; });
  CHECK_THROWS_WITH(helpers.join(), Catch::Matchers::Equals("reader failed"));
  CHECK(finished == 1);
}

TEST_CASE("run_in_parts covers the work once in ordered ranges, alone below its threshold, and rethrows",
          "[io][threads]") {
  const long long n = 1000003;
  for (const long long worth_it : {1LL, n + 1}) {
    std::vector<int> seen(static_cast<std::size_t>(n), 0);
    std::atomic<int> calls{0};
    int nparts_seen = 0;
    perfex::io::run_in_parts(n, worth_it, 4, [&](int k, int parts) {
      ++calls;
      if (k == 0) nparts_seen = parts;
      const auto [begin, end] = perfex::io::part_range(n, k, parts);
      for (long long e = begin; e < end; ++e) ++seen[static_cast<std::size_t>(e)];
    });
    for (int v : seen) REQUIRE(v == 1);
    CHECK(calls == nparts_seen);
    if (worth_it > n)
      CHECK(nparts_seen == 1);
    else
      CHECK(nparts_seen == static_cast<int>(std::min(4u, perfex::io::process_cpu_count())));
  }
  CHECK(perfex::io::part_range(10, 0, 3) == std::pair<long long, long long>{0, 3});
  CHECK(perfex::io::part_range(10, 2, 3) == std::pair<long long, long long>{6, 10});
  CHECK_THROWS_WITH(perfex::io::run_in_parts(n, 1, 4,
                                             [](int k, int parts) {
                                               if (k == parts - 1) throw std::runtime_error("last part failed");
                                             }),
                    Catch::Matchers::Equals("last part failed"));
}
