// A Kokkos Tools library (loaded through KOKKOS_PROFILE_LIBRARY / KOKKOS_TOOLS_LIBS) for the tests of
// extract-exposure's I/O thread: counts the kernels launched and the allocations made by a thread other than
// the one that initialised Kokkos. At finalisation it prints, on stderr,
//   perfex-io-thread-check: K kernels off the main thread, A allocations off the main thread
// followed by the names of the first kernels, so that a test can require K == 0 (the I/O thread launches
// nothing; Kokkos' OpenMP backend runs only on its master thread) and A > 0 (the I/O thread did read frames).
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace {

pthread_t g_main;
std::atomic<long> g_kernels{0};
std::atomic<long> g_allocations{0};
std::mutex g_names_mutex;
std::vector<std::string> g_names;

bool off_main_thread() { return pthread_equal(pthread_self(), g_main) == 0; }

void kernel(const char* name) {
  if (!off_main_thread()) return;
  ++g_kernels;
  std::lock_guard<std::mutex> lock(g_names_mutex);
  if (g_names.size() < 5) g_names.emplace_back(name ? name : "?");
}

}  // namespace

extern "C" {

struct SpaceHandle {
  char name[64];
};

void kokkosp_init_library(const int, const std::uint64_t, const std::uint32_t, void*) { g_main = pthread_self(); }

void kokkosp_finalize_library() {
  std::fprintf(stderr, "perfex-io-thread-check: %ld kernels off the main thread, %ld allocations off the main thread\n",
               g_kernels.load(), g_allocations.load());
  for (const std::string& n : g_names) std::fprintf(stderr, "perfex-io-thread-check: kernel %s\n", n.c_str());
}

void kokkosp_begin_parallel_for(const char* name, const std::uint32_t, std::uint64_t* id) {
  *id = 0;
  kernel(name);
}
void kokkosp_begin_parallel_reduce(const char* name, const std::uint32_t, std::uint64_t* id) {
  *id = 0;
  kernel(name);
}
void kokkosp_begin_parallel_scan(const char* name, const std::uint32_t, std::uint64_t* id) {
  *id = 0;
  kernel(name);
}
void kokkosp_end_parallel_for(const std::uint64_t) {}
void kokkosp_end_parallel_reduce(const std::uint64_t) {}
void kokkosp_end_parallel_scan(const std::uint64_t) {}

void kokkosp_allocate_data(const SpaceHandle, const char*, const void* const, const std::uint64_t) {
  if (off_main_thread()) ++g_allocations;
}

}  // extern "C"
