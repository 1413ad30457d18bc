// Threads perfex starts beside Kokkos' own: the pixel readers, the pixel screen, extract-exposure's I/O
// thread. A new thread inherits its creator's CPU affinity, and under OMP_PROC_BIND (the README's settings)
// OpenMP binds Kokkos' master thread to one core: helpers started from it all shared that core while the
// others idled (the preproc reading of a 2-core run used one core). Helpers therefore run on every CPU the
// process was given when it started (by the launcher: taskset, srun's binding, a cgroup), not on one core.
#pragma once

#include <algorithm>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <utility>

namespace perfex::io {

// The number of CPUs the process was given at start (>= 1; std::thread::hardware_concurrency() where that
// affinity could not be read): how many helpers can run at once.
unsigned process_cpu_count();

namespace detail {
// A thread created with the process's CPUs as its affinity, so that the kernel places it on an idle one when
// it starts. (Set by the thread itself, the affinity did not move it: it stayed on its creator's core, beside
// the creator, until a load balance, ~40 ms for the pixel screen.) The destructor joins.
class HelperThread {
 public:
  explicit HelperThread(std::function<void()> body);  // body must not throw
  HelperThread(const HelperThread&) = delete;
  HelperThread& operator=(const HelperThread&) = delete;
  ~HelperThread();
  void join();

 private:
  struct State;
  std::unique_ptr<State> m_state;
};
}  // namespace detail

// Helper threads on the process's CPUs; join() waits for all and rethrows the first error. The destructor
// joins too (an exception on the calling thread must not leave a helper writing into freed memory).
class HelperThreads {
 public:
  HelperThreads() = default;
  HelperThreads(const HelperThreads&) = delete;
  HelperThreads& operator=(const HelperThreads&) = delete;
  ~HelperThreads() { wait(); }

  template <class F>
  void run(F&& f) {
    m_errors.emplace_back();
    std::exception_ptr* error = &m_errors.back();
    m_threads.emplace_back([f = std::forward<F>(f), error]() mutable {
      try {
        f();
      } catch (...) {
        *error = std::current_exception();
      }
    });
  }

  void join() {
    wait();
    for (const std::exception_ptr& e : m_errors)
      if (e) std::rethrow_exception(e);
  }

 private:
  void wait() {
    for (detail::HelperThread& t : m_threads) t.join();
  }
  std::list<detail::HelperThread> m_threads;
  std::list<std::exception_ptr> m_errors;  // (a list: run() hands out stable addresses)
};

// Runs part(k, parts) for k in [0, parts): parts 1.. on helper threads, part 0 on the calling thread, with
// parts = min(most, process_cpu_count()) (1 when `work` is below `worth_it`: a thread costs ~50 us). For
// passes over large arrays off Kokkos' launches (readers, writers, the frame's tail), which must not launch
// kernels: extract-exposure runs them in an I/O thread, and Kokkos' host backends launch from their master
// thread only. Rethrows the first error once every part has finished.
template <class Part>
void run_in_parts(long long work, long long worth_it, unsigned most, const Part& part) {
  const int parts = work < worth_it ? 1 : static_cast<int>(std::max(1u, std::min(most, process_cpu_count())));
  if (parts == 1) {
    part(0, 1);
    return;
  }
  HelperThreads helpers;
  for (int k = 1; k < parts; ++k) helpers.run([&part, k, parts] { part(k, parts); });
  std::exception_ptr error;
  try {
    part(0, parts);
  } catch (...) {
    error = std::current_exception();
  }
  helpers.join();
  if (error) std::rethrow_exception(error);
}

// [begin, end) of part k of `parts` equal ranges of [0, n).
inline std::pair<long long, long long> part_range(long long n, int k, int parts) {
  return {n * k / parts, n * (k + 1) / parts};
}

}  // namespace perfex::io
