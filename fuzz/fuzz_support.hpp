// Shared by perfex's libFuzzer targets: Kokkos started once (host views of the readers), one thread.
#pragma once

namespace perfex::fuzz {

// Initialises Kokkos on first use, with one host thread; safe to call from every LLVMFuzzerInitialize.
void start_kokkos();

}  // namespace perfex::fuzz
