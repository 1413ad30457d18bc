// Counts the deep copies Kokkos makes while a CopyCount is alive, by direction (Kokkos Tools'
// begin_deep_copy callback): what the GPU check reports for one frame (perf/bench_frame, the parity tool).
#pragma once

#include <Kokkos_Core.hpp>
#include <cstdint>

namespace perfex::bench {

struct Copies {
  std::int64_t to_host = 0, to_device = 0, within = 0;  // within: both ends host, or both device
  std::int64_t bytes_to_host = 0, bytes_to_device = 0;
};

// Installs the callback for its lifetime (after a fence) and restores the previous Kokkos Tools callbacks.
class CopyCount {
 public:
  CopyCount();
  ~CopyCount();
  CopyCount(const CopyCount&) = delete;
  CopyCount& operator=(const CopyCount&) = delete;
  const Copies& copies() const;

 private:
  Kokkos::Tools::Experimental::EventSet m_previous;
};

}  // namespace perfex::bench
