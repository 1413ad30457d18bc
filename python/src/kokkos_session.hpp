// The Kokkos session of the Python module: initialised on first use (or by perfex.initialize), finalised
// at interpreter exit, but never before the last numpy array that owns Kokkos memory is gone (a Kokkos
// allocation freed after Kokkos::finalize throws from a destructor, which would abort the interpreter).
#pragma once

#include <optional>
#include <string>

namespace perfex::python {

// Initialises Kokkos unless it is running; raises perfex.Error when this build's execution space cannot
// run here (a CUDA build without a device) or when the interpreter is exiting.
void ensure_kokkos();
// perfex.initialize(num_threads=None): explicit initialisation with a thread count; perfex.Error when
// Kokkos already runs.
void initialize_kokkos(std::optional<int> num_threads);
// Registered with atexit at import: finalises Kokkos now, or when the last Kokkos-owned array dies.
void finalize_at_exit();
// Whether Kokkos runs, the execution space and its concurrency, live Kokkos-owned arrays.
bool kokkos_running();
int live_kokkos_arrays();

// Kokkos-owned arrays handed to Python (arrays.hpp): counted, so that finalisation waits for them.
void retain_kokkos_array();
void release_kokkos_array();

}  // namespace perfex::python
