// Threads perfex starts beside Kokkos' own: the pixel readers, the pixel screen, extract-exposure's I/O
// thread. A new thread inherits its creator's CPU affinity, and under OMP_PROC_BIND (the README's settings)
// OpenMP binds Kokkos' master thread to one core: helpers started from it all shared that core while the
// others idled (the preproc reading of a 2-core run used one core). Helpers therefore run on every CPU the
// process was given when it started (by the launcher: taskset, srun's binding, a cgroup), not on one core.
#pragma once

#include <exception>
#include <list>
#include <thread>
#include <utility>

namespace perfex::io {

// Sets the calling thread's CPU affinity to the process's at start, before Kokkos or OpenMP bound any of its
// threads. No effect where that affinity could not be read (or the platform has none).
void run_on_process_cpus();

// The number of CPUs the process was given at start (>= 1; std::thread::hardware_concurrency() where that
// affinity could not be read): how many helpers can run at once.
unsigned process_cpu_count();

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
        run_on_process_cpus();
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
    for (std::thread& t : m_threads)
      if (t.joinable()) t.join();
  }
  std::list<std::thread> m_threads;
  std::list<std::exception_ptr> m_errors;  // (a list: run() hands out stable addresses)
};

}  // namespace perfex::io
