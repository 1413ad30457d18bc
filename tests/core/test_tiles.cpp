// The fiber-tile solver's team-level linear algebra (linalg/tile_cholesky.hpp, core/src/fiber_tiles.hpp) against
// dense float64 references on fresh random inputs, for several team sizes (up to what the thread pool allows:
// the GPU-shape CI step runs these with 64 OpenMP threads) and with explicitly split vector lanes: host
// backends run a ThreadVectorRange serially, so `SplitLanes` replays each lane loop lane by lane (lane 0's
// iterations, then lane 1's, ...) and sums in per-lane partials combined as a tree, as on a GPU. A loop whose
// iterations depend on each other, or a lane reading another lane's unsynchronised result, then fails.
#include <catch2/catch_test_macros.hpp>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "../../core/src/fiber_tiles.hpp"
#include "perfex/core/linalg/tile_cholesky.hpp"
#include "perfex/core/types.hpp"

namespace split {

using HostPolicy = Kokkos::TeamPolicy<Kokkos::DefaultHostExecutionSpace>;
using HostMember = HostPolicy::member_type;

// A team member whose vector lanes are explicit (at most 32). Its functions are host-device like the kernels
// that call them (a CUDA build compiles those for both), though the tests run them on the host.
struct SplitLanes {
  const HostMember& member;
  int lanes;
  using execution_space = Kokkos::DefaultHostExecutionSpace;
  KOKKOS_INLINE_FUNCTION int team_rank() const { return member.team_rank(); }
  KOKKOS_INLINE_FUNCTION int team_size() const { return member.team_size(); }
  KOKKOS_INLINE_FUNCTION void team_barrier() const { member.team_barrier(); }
};

template <class F>
KOKKOS_INLINE_FUNCTION void thread_for(const SplitLanes& t, int begin, int end, const F& f) {
  Kokkos::parallel_for(Kokkos::TeamThreadRange(t.member, begin, end), f);
}

template <class F>
KOKKOS_INLINE_FUNCTION void lane_for(const SplitLanes& t, int begin, int end, const F& f) {
  for (int lane = 0; lane < t.lanes; ++lane)
    for (int i = begin + lane; i < end; i += t.lanes) f(i);
}

template <class F>
KOKKOS_INLINE_FUNCTION void team_lane_for(const SplitLanes& t, int begin, int end, const F& f) {
  const int n = end - begin, chunks = (n + t.lanes - 1) / t.lanes;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(t.member, 0, chunks), [&](const int c) {
    const int b = begin + c * t.lanes, e = b + t.lanes < end ? b + t.lanes : end;
    for (int i = e - 1; i >= b; --i) f(i);  // lanes of a chunk in reverse order
  });
}

template <class F>
KOKKOS_INLINE_FUNCTION double lane_sum(const SplitLanes& t, int begin, int end, const F& f) {
  double partial[32] = {};
  for (int lane = 0; lane < t.lanes; ++lane)
    for (int i = begin + lane; i < end; i += t.lanes) partial[lane] += f(i);
  for (int width = 1; width < t.lanes; width *= 2)
    for (int lane = 0; lane + width < t.lanes; lane += 2 * width) partial[lane] += partial[lane + width];
  return partial[0];
}

template <class F>
KOKKOS_INLINE_FUNCTION void single_lane(const SplitLanes&, const F& f) {
  f();
}

KOKKOS_INLINE_FUNCTION void barrier(const SplitLanes& t) { t.member.team_barrier(); }

template <class T>
KOKKOS_INLINE_FUNCTION T broadcast(const SplitLanes& t, T value, int rank) {
  t.member.team_broadcast(value, rank);
  return value;
}

}  // namespace split

template <>
struct perfex::linalg::LaneTraits<split::SplitLanes> {
  static constexpr int item_width = 1;
};

namespace {

using split::HostMember;
using split::HostPolicy;
using split::SplitLanes;

// Team sizes to try: 1, 2, 3, 4, 8, 32, as far as the thread pool allows.
std::vector<int> team_sizes() {
  const int max = HostPolicy(1, 1).team_size_max([](const HostMember&) {}, Kokkos::ParallelForTag());
  std::vector<int> sizes;
  for (int t : {1, 2, 3, 4, 8, 32})
    if (t <= max) sizes.push_back(t);
  return sizes;
}

// Runs f(team-like member) on one team of `team_size` threads: the host member itself (lanes 0) or
// SplitLanes with that many lanes.
template <class F>
void on_team(int team_size, int lanes, const F& f) {
  Kokkos::parallel_for(HostPolicy(1, team_size), [&](const HostMember& member) {
    if (lanes == 0)
      f(member);
    else
      f(SplitLanes{member, lanes});
  });
  Kokkos::fence();
}

std::vector<double> random_spd(int n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> g(static_cast<std::size_t>(n) * n), a(static_cast<std::size_t>(n) * n, 0.0);
  for (auto& v : g) v = u(rng);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double s = i == j ? n : 0.0;
      for (int k = 0; k < n; ++k) s += g[i * n + k] * g[j * n + k] / n;
      a[i * n + j] = s;
    }
  return a;
}

// Dense inverse by Gauss-Jordan with partial pivoting (the reference).
std::vector<double> dense_inverse(std::vector<double> a, int n) {
  std::vector<double> inv(static_cast<std::size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) inv[i * n + i] = 1.0;
  for (int c = 0; c < n; ++c) {
    int piv = c;
    for (int r = c + 1; r < n; ++r)
      if (std::fabs(a[r * n + c]) > std::fabs(a[piv * n + c])) piv = r;
    for (int j = 0; j < n; ++j) {
      std::swap(a[c * n + j], a[piv * n + j]);
      std::swap(inv[c * n + j], inv[piv * n + j]);
    }
    const double d = a[c * n + c];
    for (int j = 0; j < n; ++j) {
      a[c * n + j] /= d;
      inv[c * n + j] /= d;
    }
    for (int r = 0; r < n; ++r)
      if (r != c) {
        const double f = a[r * n + c];
        for (int j = 0; j < n; ++j) {
          a[r * n + j] -= f * a[c * n + j];
          inv[r * n + j] -= f * inv[c * n + j];
        }
      }
  }
  return inv;
}

// Exercises every tile kernel on one random case with the given member kind; returns the worst errors.
struct TileErrors {
  double chol = 0, trsm = 0, syrk = 0, solve = 0;
};

// Unqualified calls: SplitLanes finds its own lane functions.
template <class Member>
void tile_kernels(const Member& team, int n, int na, int skew, int ld, double* s, double* bt, double* out, double* x,
                  double* y, double* v, const double* diag, int& info) {
  using namespace perfex::linalg;
  info = team_tile_cholesky(team, s, n, ld, diag, 1, 1e-12);
  if (info != 0) return;
  team_tile_trsm(team, s, ld, bt, ld, na, n, skew);
  team_tile_syrk(team, bt, ld, na, n, skew, out, ld, true);
  if (team.team_rank() == 0) {
    thread_solve_rt(team, s, n, ld, x);        // z = R^{-T} x
    thread_sub_w(team, bt, ld, na, n, x, y);   // y -= W z = B S^{-1} x
    thread_solve_r(team, s, n, ld, x);         // R^{-1} z = S^{-1} x
    thread_sub_wt(team, bt, ld, na, n, y, v);  // v -= W^T y
  }
  barrier(team);
}

}  // namespace

TEST_CASE("Tile Cholesky, triangular solve and rank-k update match dense references", "[linalg][tiles]") {
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (const int team_size : team_sizes())
    for (const int lanes : {0, 1, 3, 4, 32})
      for (const auto& [n_case, na_case, skew_case] : {std::array<int, 3>{1, 1, 0}, std::array<int, 3>{17, 17, 3},
                                                       std::array<int, 3>{74, 74, 8}, std::array<int, 3>{40, 25, 50}}) {
        const int n = n_case, na = na_case, skew = skew_case, ld = std::max(n, na) + 3;
        const auto a = random_spd(n, rng);
        std::vector<double> b(static_cast<std::size_t>(na) * n, 0.0), c0(static_cast<std::size_t>(na) * na);
        for (int r = 0; r < na; ++r)
          for (int c = std::max(0, r - skew); c < n; ++c) b[r * n + c] = u(rng);
        for (auto& v : c0) v = u(rng);
        std::vector<double> s(ld * ld, 7.0), bt(ld * ld, 7.0), out(ld * ld, 7.0), x(n), y(na), v(n), diag(n);
        for (int i = 0; i < n; ++i) {
          diag[i] = a[i * n + i];
          x[i] = u(rng);
          v[i] = u(rng);
          for (int j = i; j < n; ++j) s[i * ld + j] = a[i * n + j];
        }
        for (int r = 0; r < na; ++r) {
          y[r] = u(rng);
          for (int c = 0; c < n; ++c) bt[c * ld + r] = b[r * n + c];
          for (int j = r; j < na; ++j) out[r * ld + j] = c0[r * na + j];
        }
        const std::vector<double> x0 = x, y0 = y, v0 = v;
        int info = -1;
        on_team(team_size, lanes, [&](const auto& team) {
          int i = 0;
          tile_kernels(team, n, na, skew, ld, s.data(), bt.data(), out.data(), x.data(), y.data(), v.data(),
                       diag.data(), i);
          if (team.team_rank() == 0) info = i;
        });
        REQUIRE(info == 0);
        const auto inv = dense_inverse(a, n);
        TileErrors err;
        for (int i = 0; i < n; ++i)
          for (int j = i; j < n; ++j) {  // R^T R = S
            double v = 0.0;
            for (int k = 0; k <= i; ++k) v += s[k * ld + i] * s[k * ld + j];
            err.chol = std::max(err.chol, std::fabs(v - a[i * n + j]));
          }
        // W R = B, W transposed in bt; W(r, c) = 0 left of the profile.
        for (int r = 0; r < na; ++r)
          for (int c = 0; c < n; ++c) {
            double v = 0.0;
            for (int k = 0; k <= c; ++k) v += bt[k * ld + r] * s[k * ld + c];
            err.trsm = std::max(err.trsm, std::fabs(v - b[r * n + c]));
            if (c < r - skew) err.trsm = std::max(err.trsm, std::fabs(bt[c * ld + r]));
          }
        // out = c0 - B S^{-1} B^T (upper); x = S^{-1} x0; y = y0 - B S^{-1} x0; R^T (v0 - v) = B^T y.
        std::vector<double> sx(n, 0.0);
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < n; ++j) sx[i] += inv[i * n + j] * x0[j];
        for (int r = 0; r < na; ++r) {
          for (int q = r; q < na; ++q) {
            double w = c0[r * na + q];
            for (int i = 0; i < n; ++i)
              for (int j = 0; j < n; ++j) w -= b[r * n + i] * inv[i * n + j] * b[q * n + j];
            err.syrk = std::max(err.syrk, std::fabs(w - out[r * ld + q]));
          }
          double w = y0[r];
          for (int i = 0; i < n; ++i) w -= b[r * n + i] * sx[i];
          err.solve = std::max(err.solve, std::fabs(w - y[r]));
        }
        for (int i = 0; i < n; ++i) {
          err.solve = std::max(err.solve, std::fabs(sx[i] - x[i]));
          double lhs = 0.0, rhs = 0.0;
          for (int k = 0; k <= i; ++k) lhs += s[k * ld + i] * (v0[k] - v[k]);
          for (int r = 0; r < na; ++r) rhs += b[r * n + i] * y[r];
          err.solve = std::max(err.solve, std::fabs(lhs - rhs));
        }
        INFO("team " << team_size << ", lanes " << lanes << ", n " << n << ", na " << na << ", skew " << skew
                     << ": |R^T R - S| " << err.chol << ", |W R - B| " << err.trsm << ", |C - B S^-1 B^T| " << err.syrk
                     << ", vector solves " << err.solve);
        CHECK(err.chol < 1e-12 * n);
        CHECK(err.trsm < 1e-12 * n);
        CHECK(err.syrk < 1e-12 * n);
        CHECK(err.solve < 1e-12 * n);
      }
}

namespace {

struct TileCase {
  int nfiber, m, g, coupling, core_b0, ncore, skew;
};

// A random SPD matrix over nfiber fibers of m bins: fibers up to `coupling` apart couple, the block of fiber
// f + d with fiber f only where c >= a - skew (the plan's profile); diagonally dominant.
std::vector<double> random_fiber_matrix(const TileCase& c, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const int n = c.nfiber * c.m;
  std::vector<double> a(static_cast<std::size_t>(n) * n, 0.0);
  for (int fi = 0; fi < c.nfiber; ++fi)
    for (int fk = fi; fk < c.nfiber && fk - fi <= c.coupling; ++fk)
      for (int ai = 0; ai < c.m; ++ai)
        for (int ak = 0; ak < c.m; ++ak) {
          const int i = fi * c.m + ai, k = fk * c.m + ak;
          if (k <= i) continue;
          if (fk > fi && ai < ak - c.skew) continue;  // row (fk, ak), column (fi, ai): zero for ai < ak - skew
          a[i * n + k] = a[k * n + i] = u(rng);
        }
  for (int i = 0; i < n; ++i) {
    double s = 1.0;
    for (int k = 0; k < n; ++k) s += std::fabs(a[i * n + k]);
    a[i * n + i] = s * (1.0 + 0.5 * (u(rng) + 1.0));
  }
  return a;
}

}  // namespace

TEST_CASE("Fiber-tile solve and the core fibers' inverse blocks match a dense inverse", "[linalg][tiles]") {
  using perfex::detail::CoreTiles;
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const std::vector<TileCase> cases = {
      {1, 9, 1, 0, 0, 1, 2},    // one fiber
      {7, 20, 1, 1, 1, 5, 3},   // an interior DESI-like patch
      {6, 20, 1, 1, 0, 5, 4},   // lower bundle edge
      {6, 20, 1, 1, 1, 5, 19},  // upper bundle edge, dense coupling profile
      {7, 12, 2, 2, 1, 5, 3},   // fibers two apart couple: tiles of two fibers
      {5, 10, 3, 3, 1, 3, 2},   // tiles of three fibers, the last one shorter
      {27, 6, 1, 1, 1, 25, 2},  // 25 core fibers (one subbundle per bundle)
  };
  for (const CoreTiles core : {CoreTiles::covariance, CoreTiles::precision})
    for (const int team_size : team_sizes())
      for (const int lanes : {0, 1, 4, 32})
        for (const TileCase& c : cases) {
          const int n = c.nfiber * c.m;
          const auto a = random_fiber_matrix(c, rng);
          const auto inv = dense_inverse(a, n);
          perfex::detail::FiberTiles t;
          t.g = c.g;
          t.m = c.m;
          t.nfiber = c.nfiber;
          t.ntile = (c.nfiber + c.g - 1) / c.g;
          t.ld = c.g * c.m;
          t.first_core_tile = c.core_b0 / c.g;
          t.last_core_tile = (c.core_b0 + c.ncore - 1) / c.g;
          t.skew = c.skew;
          const int ntiles = perfex::detail::FiberTiles::tile_count(t.ntile, t.last_core_tile - t.first_core_tile + 1);
          std::vector<double> storage(static_cast<std::size_t>(ntiles) * t.ld * t.ld, 5.0);
          t.base = storage.data();
          std::vector<double> x(n), b(n), diag(n), vec(2 * t.ld);
          for (int i = 0; i < n; ++i) {
            b[i] = x[i] = u(rng);
            diag[i] = a[i * n + i];
            const int fi = i / c.m, si = fi / c.g, ri = (fi % c.g) * c.m + i % c.m;
            for (int k = i; k < n; ++k) {
              const int fk = k / c.m, sk = fk / c.g, rk = (fk % c.g) * c.m + k % c.m;
              if (sk == si) t.d(si)[ri * t.ld + rk] = a[i * n + k];
              if (sk == si + 1) t.bt(si)[ri * t.ld + rk] = a[i * n + k];
            }
          }
          int info = -1;
          on_team(team_size, lanes, [&](const auto& team) {
            const int i =
                perfex::detail::team_solve_fiber_tiles(team, t, diag.data(), 1e-10, x.data(), vec.data(), core);
            if (team.team_rank() == 0) info = i;
          });
          REQUIRE(info == 0);
          double worst_x = 0.0, worst_c = 0.0, scale_x = 0.0, scale_c = 0.0;
          for (int i = 0; i < n; ++i) {
            double v = 0.0;
            for (int k = 0; k < n; ++k) v += inv[i * n + k] * b[k];
            worst_x = std::max(worst_x, std::fabs(v - x[i]));
            scale_x = std::max(scale_x, std::fabs(v));
          }
          // Every core tile: C_ss (the dense inverse's diagonal block), or M_s = C_ss^{-1}.
          for (int s = t.first_core_tile; s <= t.last_core_tile; ++s) {
            const int ns = t.size(s), o = t.offset(s);
            std::vector<double> block(static_cast<std::size_t>(ns) * ns);
            for (int i = 0; i < ns; ++i)
              for (int j = 0; j < ns; ++j) block[i * ns + j] = inv[(o + i) * n + o + j];
            if (core == CoreTiles::precision) block = dense_inverse(block, ns);
            for (int i = 0; i < ns; ++i)
              for (int j = i; j < ns; ++j) {
                worst_c = std::max(worst_c, std::fabs(t.mtile(s)[i * t.ld + j] - block[i * ns + j]));
                scale_c = std::max(scale_c, std::fabs(block[i * ns + j]));
              }
          }
          INFO((core == CoreTiles::precision ? "M_s" : "C_ss")
               << ", team " << team_size << ", lanes " << lanes << ", " << c.nfiber << " fibers of " << c.m << " bins, "
               << c.g << " per tile, coupling " << c.coupling << ", core " << c.core_b0 << "+" << c.ncore << ": |dx| "
               << worst_x << " of " << scale_x << ", |dC| " << worst_c << " of " << scale_c);
          CHECK(worst_x < 1e-13 * scale_x * n);
          CHECK(worst_c < 1e-13 * scale_c * n);
        }
}

TEST_CASE("A tile factorisation reports the first pivot that is not positive definite to tau", "[linalg][tiles]") {
  for (const int team_size : team_sizes()) {
    // diag(4, 4, 4, 1e-12 + 1/4 * 4 ...): row 3 repeats row 2 up to 1e-12, so its pivot is ~1e-12 of its diagonal.
    const int n = 20, ld = n;
    std::vector<double> s(ld * ld, 0.0), diag(n);
    for (int i = 0; i < n; ++i) s[i * ld + i] = 4.0;
    s[2 * ld + 3] = 4.0;
    s[3 * ld + 3] = 4.0 + 4e-12;
    for (int i = 0; i < n; ++i) diag[i] = s[i * ld + i];
    for (const double tau : {1e-10, 1e-13}) {
      auto work = s;
      int info = -1;
      on_team(team_size, 0, [&](const auto& team) {
        const int i = perfex::linalg::team_tile_cholesky(team, work.data(), n, ld, diag.data(), 1, tau);
        if (team.team_rank() == 0) info = i;
      });
      INFO("team " << team_size << ", tau " << tau);
      CHECK(info == (tau > 1e-12 ? 4 : 0));
    }
  }
}
