// Kokkos' lifetime inside the Python interpreter (see kokkos_session.hpp).
#include "kokkos_session.hpp"

#include <Kokkos_Core.hpp>
#include <cstdlib>

#include "perfex/backends/device.hpp"
#include "perfex/backends/thread_limits.hpp"
#include "perfex/core/error.hpp"

namespace perfex::python {

namespace {

bool g_started = false;         // Kokkos was initialised by this module
bool g_exit_requested = false;  // the interpreter is exiting: finalise when the last array dies
int g_live = 0;

void check_can_start() {
  if (g_exit_requested) throw_usage_error("perfex: the interpreter is exiting; Kokkos has been finalised");
  if (const std::string missing = backends::missing_device(); !missing.empty())
    throw_data_error(missing + " (this perfex runs its kernels on Kokkos' " +
                     std::string(Kokkos::DefaultExecutionSpace::name()) + " execution space)");
  backends::record_openmp_binding();  // as the perfex program does
}

void finalize_now() {
  if (g_started && Kokkos::is_initialized()) Kokkos::finalize();
  g_started = false;
}

}  // namespace

void ensure_kokkos() {
  if (Kokkos::is_initialized()) return;
  if (const std::string problem = backends::environment_thread_problem(); !problem.empty())
    throw_usage_error("perfex: " + problem);
  check_can_start();
  Kokkos::initialize();
  g_started = true;
}

void initialize_kokkos(std::optional<int> num_threads) {
  if (Kokkos::is_initialized())
    throw_usage_error("perfex.initialize: Kokkos is already initialised (call it before any other perfex function)");
  if (num_threads) {
    if (const std::string problem = backends::thread_count_problem("num_threads", std::to_string(*num_threads));
        !problem.empty())
      throw_usage_error("perfex.initialize: " + problem);
  } else if (const std::string problem = backends::environment_thread_problem(); !problem.empty()) {
    throw_usage_error("perfex.initialize: " + problem);
  }
  check_can_start();
#if KOKKOS_VERSION >= 30700
  Kokkos::InitializationSettings settings;
  if (num_threads) settings.set_num_threads(*num_threads);
  Kokkos::initialize(settings);
#else
  Kokkos::InitArguments args;
  if (num_threads) args.num_threads = *num_threads;
  Kokkos::initialize(args);
#endif
  g_started = true;
}

void finalize_at_exit() {
  g_exit_requested = true;
  if (g_live == 0) finalize_now();
}

bool kokkos_running() { return Kokkos::is_initialized(); }
int live_kokkos_arrays() { return g_live; }

void retain_kokkos_array() { ++g_live; }

void release_kokkos_array() {
  if (--g_live == 0 && g_exit_requested) finalize_now();
}

}  // namespace perfex::python
