// The small symmetric eigensolver against dense float64 references on fresh random inputs (the fiber-tile
// kernels: test_tiles.cpp).
#include <catch2/catch_test_macros.hpp>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "perfex/core/linalg/symmetric_eigen.hpp"
#include "perfex/core/types.hpp"

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
