// Team-level band Cholesky, solve and selected inverse, and the small symmetric eigensolver, against dense
// float64 references on fresh random inputs.
#include <catch2/catch_test_macros.hpp>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "perfex/core/linalg/band_cholesky.hpp"
#include "perfex/core/linalg/symmetric_eigen.hpp"
#include "perfex/core/types.hpp"

namespace {

// A random symmetric positive definite band matrix (dense, n x n) of lower bandwidth bw.
std::vector<double> random_spd_band(int n, int bw, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> a(static_cast<std::size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i)
    for (int k = (i - bw > 0 ? i - bw : 0); k < i; ++k) a[i * n + k] = a[k * n + i] = u(rng);
  for (int i = 0; i < n; ++i) a[i * n + i] = 2.0 * bw + 1.0 + u(rng);  // diagonally dominant
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

}  // namespace

TEST_CASE("Band Cholesky, solve and selected inverse match a dense inverse", "[linalg]") {
  std::mt19937_64 rng(std::random_device{}());
  for (const auto& [n_case, bw_case] : {std::pair{40, 7}, std::pair{150, 40}, std::pair{97, 96}}) {
    const int n = n_case, bw = bw_case;  // named copies: lambdas capturing structured bindings need C++20
    const auto dense = random_spd_band(n, bw, rng);
    const auto inv = dense_inverse(dense, n);
    const int ld = bw + 1, ldz = 2 * bw + 1;
    perfex::HostView<double*> band("band", n * ld), z("z", n * ldz), x("x", n), col("col", bw + 1);
    std::vector<double> b(n);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (int i = 0; i < n; ++i) {
      b[i] = u(rng);
      x(i) = b[i];
      for (int k = i - bw; k <= i; ++k) band(i * ld + (k - i + bw)) = k >= 0 ? dense[i * n + k] : 0.0;
    }
    int info = -1;
    Kokkos::parallel_reduce(
        Kokkos::TeamPolicy<Kokkos::DefaultHostExecutionSpace>(1, 1),
        KOKKOS_LAMBDA(const Kokkos::TeamPolicy<Kokkos::DefaultHostExecutionSpace>::member_type& team, int& status) {
          status = perfex::linalg::team_band_cholesky(team, band.data(), n, bw, ld, col.data());
          perfex::linalg::team_band_solve(team, band.data(), n, bw, ld, x.data());
          perfex::linalg::team_band_selected_inverse(team, band.data(), n, bw, ld, z.data(), ldz, col.data());
        },
        info);
    REQUIRE(info == 0);
    // Well conditioned (diagonally dominant): float64 rounding keeps errors near 1e-15 of the entries.
    double worst_x = 0.0, worst_z = 0.0, scale = 0.0;
    for (int i = 0; i < n; ++i) {
      double xi = 0.0;
      for (int k = 0; k < n; ++k) xi += inv[i * n + k] * b[k];
      worst_x = std::max(worst_x, std::fabs(x(i) - xi));
      for (int k = std::max(0, i - bw); k <= std::min(n - 1, i + bw); ++k) {
        worst_z = std::max(worst_z, std::fabs(z(i * ldz + (k - i + bw)) - inv[i * n + k]));
        scale = std::max(scale, std::fabs(inv[i * n + k]));
      }
    }
    INFO("n " << n << " bw " << bw << ": |dx| " << worst_x << ", |dZ| " << worst_z << " of " << scale);
    CHECK(worst_x < 1e-12);
    CHECK(worst_z < 1e-12 * scale);
  }
}

TEST_CASE("A matrix that is not positive definite is reported by the Cholesky pivot", "[linalg]") {
  const int n = 5, bw = 1, ld = 2;
  perfex::HostView<double*> band("band", n * ld), col("col", 2);
  for (int i = 0; i < n; ++i) band(i * ld + 1) = i == 3 ? -1.0 : 2.0;
  int info = 0;
  Kokkos::parallel_reduce(
      Kokkos::TeamPolicy<Kokkos::DefaultHostExecutionSpace>(1, 1),
      KOKKOS_LAMBDA(const Kokkos::TeamPolicy<Kokkos::DefaultHostExecutionSpace>::member_type& team, int& status) {
        status = perfex::linalg::team_band_cholesky(team, band.data(), n, bw, ld, col.data());
      },
      info);
  CHECK(info == 4);
}

TEST_CASE("Symmetric eigen-decomposition reconstructs random matrices", "[linalg]") {
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int m : {1, 2, 3, 10, 74}) {
    std::vector<double> a(m * m), orig(m * m), vt(m * m), d(m), e(m), work(2 * m);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j <= i; ++j) orig[i * m + j] = orig[j * m + i] = u(rng);
    a = orig;
    REQUIRE(perfex::linalg::symmetric_eigen(a.data(), m, d.data(), e.data(), vt.data(), work.data()) == 0);
    double worst_rec = 0.0, worst_orth = 0.0;
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) {
        double rec = 0.0, orth = 0.0;
        for (int k = 0; k < m; ++k) {
          rec += vt[k * m + i] * d[k] * vt[k * m + j];
          orth += vt[i * m + k] * vt[j * m + k];
        }
        worst_rec = std::max(worst_rec, std::fabs(rec - orig[i * m + j]));
        worst_orth = std::max(worst_orth, std::fabs(orth - (i == j ? 1.0 : 0.0)));
      }
    INFO("m " << m << ": |V D V^T - A| " << worst_rec << ", |V V^T - I| " << worst_orth);
    // Backward-stable algorithms: errors of order m * eps * |A|.
    CHECK(worst_rec < 1e-12);
    CHECK(worst_orth < 1e-12);
  }
}
