// Lanes: how the team-level dense algebra splits its work, written so that the same code runs on a GPU
// team (one lane per thread), on a CPU team of one thread (one lane: every loop is a contiguous, vectorised
// loop), and in unit tests that split the lanes explicitly on the host.
//
// An algorithm is a sequence of phases. In a phase every lane runs the same body with its lane index; no
// lane reads what another lane writes in the same phase; the phase ends with a barrier. Code between
// phases runs redundantly on every thread and may only read shared scratch, and only what the next phase
// does not write: a fast thread may already be in it (SerialLanes cannot show that race; real teams do).
#pragma once

#include <Kokkos_Core.hpp>

// Placed in the body of a loop over rows whose inner statements run across contiguous columns: keeps GCC
// from vectorising that loop along the rows (it would gather strided rows with shuffles, ~1.7x slower
// here), so that the SIMD goes across the columns. An empty statement elsewhere (CUDA device code).
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDA_ARCH__)
#define PERFEX_ROWWISE_LOOP() __asm__ volatile("" ::: "memory")
#else
#define PERFEX_ROWWISE_LOOP() \
  do {                        \
  } while (false)
#endif

namespace perfex::linalg {

// Lane `lane` of `nlanes` takes the contiguous part [lo, hi) of [begin, end) (balanced to within one).
struct LaneRange {
  int lo;
  int hi;
};
KOKKOS_INLINE_FUNCTION LaneRange lane_range(int lane, int nlanes, int begin, int end) {
  const int n = end > begin ? end - begin : 0;
  return {begin + static_cast<int>((static_cast<long>(n) * lane) / nlanes),
          begin + static_cast<int>((static_cast<long>(n) * (lane + 1)) / nlanes)};
}

// The lanes of a Kokkos team: one per team thread (vector length 1). A team of one thread skips the
// barrier, which on host backends costs atomics even then.
template <class Member>
struct TeamLanes {
  const Member& team;
  KOKKOS_INLINE_FUNCTION int count() const { return team.team_size(); }
  template <class Body>
  KOKKOS_INLINE_FUNCTION void phase(const Body& body) const {
    const int n = team.team_size();
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n), [&](const int lane) { body(lane, n); });
    if (n > 1) team.team_barrier();
  }
};

// The lanes run one after the other on the calling thread, in ascending or descending order (tests: a
// phase whose lanes depended on each other would give different results in the two orders).
struct SerialLanes {
  int lanes = 1;
  bool descending = false;
  KOKKOS_INLINE_FUNCTION int count() const { return lanes; }
  template <class Body>
  KOKKOS_INLINE_FUNCTION void phase(const Body& body) const {
    for (int i = 0; i < lanes; ++i) body(descending ? lanes - 1 - i : i, lanes);
  }
};

}  // namespace perfex::linalg
