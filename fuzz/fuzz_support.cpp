// Kokkos for the fuzz targets: initialised once with one thread and never finalised (libFuzzer ends the
// process with exit()).
#include "fuzz_support.hpp"

#include <Kokkos_Core.hpp>

namespace perfex::fuzz {

void start_kokkos() {
  if (Kokkos::is_initialized()) return;
  Kokkos::InitArguments args;
  args.num_threads = 1;
  args.disable_warnings = true;
  Kokkos::initialize(args);
}

}  // namespace perfex::fuzz
