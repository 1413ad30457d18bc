// A Kokkos Tools region for the lifetime of a scope (Kokkos 3.4 has pushRegion/popRegion but no
// ScopedRegion), so profiles read like the architecture: "perfex::<entry point>".
#pragma once

#include <Kokkos_Core.hpp>
#include <string>

namespace perfex {

class ScopedRegion {
 public:
  explicit ScopedRegion(const std::string& name) { Kokkos::Profiling::pushRegion(name); }
  ~ScopedRegion() { Kokkos::Profiling::popRegion(); }
  ScopedRegion(const ScopedRegion&) = delete;
  ScopedRegion& operator=(const ScopedRegion&) = delete;
};

}  // namespace perfex
