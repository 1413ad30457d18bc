// The thread and lane loops of perfex's team-level kernels, in one place: TeamThreadRange over threads,
// ThreadVectorRange over the lanes of a thread, TeamVectorRange over both, a lane sum in a fixed order.
// Kernels call these unqualified, so a test can run them with explicitly split lanes (an argument type of
// its own with these functions beside it; see tests/core/test_tiles.cpp): host backends run lanes serially,
// which would hide a dependence between the iterations of one lane loop.
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/backends/launch_config.hpp"

namespace perfex::linalg {

// Width of the work items of the tile kernels: contiguous outputs one lane keeps in registers.
template <class Member>
struct LaneTraits {
  static constexpr int item_width = backends::LaunchConfig<typename Member::execution_space>::tile_item_width;
};

template <class Member, class F>
KOKKOS_INLINE_FUNCTION void thread_for(const Member& team, int begin, int end, const F& f) {
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, begin, end), f);
}

template <class Member, class F>
KOKKOS_INLINE_FUNCTION void lane_for(const Member& team, int begin, int end, const F& f) {
  Kokkos::parallel_for(Kokkos::ThreadVectorRange(team, begin, end), f);
}

// Every lane of every thread of the team: independent iterations only.
template <class Member, class F>
KOKKOS_INLINE_FUNCTION void team_lane_for(const Member& team, int begin, int end, const F& f) {
  Kokkos::parallel_for(Kokkos::TeamVectorRange(team, begin, end), f);
}

// sum_{i in [begin, end)} f(i) over the lanes of the calling thread, known to every lane afterwards. On GPUs
// Kokkos' lane reduction; on host backends four interleaved partial sums (a fixed order, independent of the
// thread count, and four independent add chains).
template <class Member, class F>
KOKKOS_INLINE_FUNCTION double lane_sum(const Member& team, int begin, int end, const F& f) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  double s = 0.0;
  Kokkos::parallel_reduce(
      Kokkos::ThreadVectorRange(team, begin, end), [&](const int i, double& acc) { acc += f(i); }, s);
  return s;
#else
  (void)team;
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int i = begin;
  for (; i + 3 < end; i += 4) {
    s0 += f(i);
    s1 += f(i + 1);
    s2 += f(i + 2);
    s3 += f(i + 3);
  }
  for (; i < end; ++i) s0 += f(i);
  return (s0 + s1) + (s2 + s3);
#endif
}

namespace lanes_detail {
// Host: a stamp overlap W columns wide, one partial sum per column (the column loop unrolled and vectorised,
// no remainder loop per row), the columns added at the end.
template <int W, class F>
KOKKOS_INLINE_FUNCTION double sum_rows_fixed(int ny, int x0, const F& f) {
  double acc[W] = {};
  for (int y = 0; y < ny; ++y)
    for (int w = 0; w < W; ++w) acc[w] += f(y, x0 + w);
  double s = 0.0;
  for (int w = 0; w < W; ++w) s += acc[w];
  return s;
}
}  // namespace lanes_detail

// sum over rows y in [0, ny) and columns x in [x0, x1) of f(y, x) (a stamp overlap): on GPUs lanes over the
// columns of a row (coalesced), each lane summing down its column, one reduction at the end; on host
// backends one partial sum per column for overlaps up to 12 columns wide (most are 4-11: stamps of
// neighbouring fibers and bins), else row by row with four interleaved partial sums. Either way the order of
// the additions depends on the width only, never on threads.
template <class Member, class F>
KOKKOS_INLINE_FUNCTION double lane_sum_rows(const Member& team, int ny, int x0, int x1, const F& f) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  double s = 0.0;
  Kokkos::parallel_reduce(
      Kokkos::ThreadVectorRange(team, x0, x1),
      [&](const int x, double& acc) {
        for (int y = 0; y < ny; ++y) acc += f(y, x);
      },
      s);
  return s;
#else
  (void)team;
  using lanes_detail::sum_rows_fixed;
  switch (x1 - x0) {
    case 1:
      return sum_rows_fixed<1>(ny, x0, f);
    case 2:
      return sum_rows_fixed<2>(ny, x0, f);
    case 3:
      return sum_rows_fixed<3>(ny, x0, f);
    case 4:
      return sum_rows_fixed<4>(ny, x0, f);
    case 5:
      return sum_rows_fixed<5>(ny, x0, f);
    case 6:
      return sum_rows_fixed<6>(ny, x0, f);
    case 7:
      return sum_rows_fixed<7>(ny, x0, f);
    case 8:
      return sum_rows_fixed<8>(ny, x0, f);
    case 9:
      return sum_rows_fixed<9>(ny, x0, f);
    case 10:
      return sum_rows_fixed<10>(ny, x0, f);
    case 11:
      return sum_rows_fixed<11>(ny, x0, f);
    case 12:
      return sum_rows_fixed<12>(ny, x0, f);
    default:
      break;
  }
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  for (int y = 0; y < ny; ++y) {
    int x = x0;
    for (; x + 3 < x1; x += 4) {
      s0 += f(y, x);
      s1 += f(y, x + 1);
      s2 += f(y, x + 2);
      s3 += f(y, x + 3);
    }
    for (; x < x1; ++x) s0 += f(y, x);
  }
  return (s0 + s1) + (s2 + s3);
#endif
}

// f() on one lane of the calling thread; its writes are visible to the thread's lanes afterwards.
template <class Member, class F>
KOKKOS_INLINE_FUNCTION void single_lane(const Member& team, const F& f) {
  Kokkos::single(Kokkos::PerThread(team), f);
}

template <class Member>
KOKKOS_INLINE_FUNCTION void barrier(const Member& team) {
  team.team_barrier();
}

// The value of thread `rank`, for every thread of the team (synchronises the team).
template <class Member, class T>
KOKKOS_INLINE_FUNCTION T broadcast(const Member& team, T value, int rank) {
  team.team_broadcast(value, rank);
  return value;
}

}  // namespace perfex::linalg
