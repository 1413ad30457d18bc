// The CPUs helper threads run on (helper_threads.hpp).
#include "perfex/io/helper_threads.hpp"

#include <cerrno>
#include <system_error>
#include <thread>
#include <utility>

#if defined(__linux__)
#include <pthread.h>
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

namespace detail {

struct HelperThread::State {
  std::function<void()> body;
  bool running = false;
#if defined(__linux__)
  pthread_t id{};
  static void* start(void* state) {
    static_cast<State*>(state)->body();
    return nullptr;
  }
#else
  std::thread thread;
#endif
};

HelperThread::HelperThread(std::function<void()> body) : m_state(std::make_unique<State>()) {
  m_state->body = std::move(body);
#if defined(__linux__)
  const ProcessCpus& p = process_cpus();
  int rc = EINVAL;
  if (p.known) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setaffinity_np(&attr, sizeof(p.cpus), &p.cpus);
    rc = pthread_create(&m_state->id, &attr, &State::start, m_state.get());
    pthread_attr_destroy(&attr);
  }
  // Without a known affinity, or when it is refused (a CPU taken away since): the creator's.
  if (rc != 0) rc = pthread_create(&m_state->id, nullptr, &State::start, m_state.get());
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "cannot start a helper thread");
#else
  m_state->thread = std::thread(m_state->body);
#endif
  m_state->running = true;
}

void HelperThread::join() {
  if (!m_state || !m_state->running) return;
#if defined(__linux__)
  pthread_join(m_state->id, nullptr);
#else
  m_state->thread.join();
#endif
  m_state->running = false;
}

HelperThread::~HelperThread() { join(); }

}  // namespace detail

unsigned process_cpu_count() {
#if defined(__linux__)
  const ProcessCpus& p = process_cpus();
  if (p.known) return static_cast<unsigned>(CPU_COUNT(&p.cpus));
#endif
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? hw : 1;
}

}  // namespace perfex::io
