// The harness runs the core tests once per execution space (tests/CMakeLists.txt, PERFEX_TEST_SPACES):
// each executable must run perfex on the space it was built for, not on Kokkos' default one.
#include <catch2/catch_test_macros.hpp>

#include <Kokkos_Core.hpp>
#include <string>

#include "perfex/core/types.hpp"

// PERFEX_TEST_EXPECTED_SPACE: the space this executable tests, set by tests/CMakeLists.txt (unset when
// Kokkos' CMake package does not list its backends: then Kokkos' default space).
#ifndef PERFEX_TEST_EXPECTED_SPACE
#define PERFEX_TEST_EXPECTED_SPACE Kokkos::DefaultExecutionSpace::name()
#endif

TEST_CASE("perfex::ExecSpace is the execution space this test executable was built for", "[spaces]") {
  INFO("Kokkos' default execution space: " << Kokkos::DefaultExecutionSpace::name());
  CHECK(std::string(perfex::ExecSpace::name()) == PERFEX_TEST_EXPECTED_SPACE);
  CHECK(perfex::ExecSpace().concurrency() >= 1);
  // Device views live in the space's memory, which the host can read only on host backends.
  CHECK(Kokkos::SpaceAccessibility<perfex::ExecSpace, perfex::MemSpace>::accessible);
}
