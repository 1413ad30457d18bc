// The CPUs helper threads run on (helper_threads.hpp).
#include "perfex/io/helper_threads.hpp"

#if defined(__linux__)
#include <sched.h>

#include <vector>
#endif
#if defined(_OPENMP)
#include <omp.h>
#endif

namespace perfex::io {

namespace {

#if defined(__linux__)
// The process's CPUs: the affinity the program was loaded with, joined with every CPU of OpenMP's place
// list. The join is needed: under OMP_PROC_BIND, GNU OpenMP binds the loading thread while its library is
// initialised, before this file's initialiser runs, but it builds its places from the affinity it found.
struct ProcessCpus {
  cpu_set_t cpus{};
  bool known = false;
  ProcessCpus() {
    // sched_getaffinity fails (EINVAL) on kernels with more possible CPUs than cpu_set_t holds (1024).
    if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0) return;
#if defined(_OPENMP)
    for (int place = 0; place < omp_get_num_places(); ++place) {
      std::vector<int> ids(static_cast<std::size_t>(omp_get_place_num_procs(place)));
      if (!ids.empty()) omp_get_place_proc_ids(place, ids.data());
      for (int id : ids)
        if (id >= 0 && id < CPU_SETSIZE) CPU_SET(id, &cpus);
    }
#endif
    known = CPU_COUNT(&cpus) > 0;
  }
};

const ProcessCpus& process_cpus() {
  static const ProcessCpus cpus;
  return cpus;
}

// Taken while the program (or the Python module) is loaded, before main() starts Kokkos, which binds the
// threads it starts under OMP_PROC_BIND.
const ProcessCpus& g_loaded_with = process_cpus();
#endif

}  // namespace

void run_on_process_cpus() {
#if defined(__linux__)
  const ProcessCpus& p = process_cpus();
  // Best effort: a refusal (a CPU taken away since) leaves the thread where it was.
  if (p.known) sched_setaffinity(0, sizeof(p.cpus), &p.cpus);
#endif
}

unsigned process_cpu_count() {
#if defined(__linux__)
  const ProcessCpus& p = process_cpus();
  if (p.known) return static_cast<unsigned>(CPU_COUNT(&p.cpus));
#endif
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? hw : 1;
}

}  // namespace perfex::io
