// Team-level dense algebra on symmetric positive definite band matrices: Cholesky factorisation, solve,
// and the selected inverse (every entry of A^{-1} inside the band, Takahashi's recurrence).
// No KokkosBatched routine covers band storage (3.4.1 has dense Gemm/Trsm/LU only), hence our own.
//
// Storage (row-major, so every inner loop below runs over contiguous memory and vectorises):
// - lower band: a[i * ld + (k - i + bw)] = A(i, k) for i - bw <= k <= i (the diagonal at column bw);
// - full band:  z[i * ldz + (k - i + bw)] = Z(i, k) for |k - i| <= bw (both triangles, ldz >= 2 bw + 1).
#pragma once

#include <Kokkos_Core.hpp>

#include "perfex/core/linalg/dot.hpp"
#include "perfex/core/math.hpp"

namespace perfex::linalg {

// In place: A = L L^T, L stored over A (right-looking, one column at a time). `col` holds bw doubles.
// Returns 0, or j + 1 if pivot j is not positive (A not positive definite).
template <class Member>
KOKKOS_INLINE_FUNCTION int team_band_cholesky(const Member& team, double* a, int n, int bw, int ld, double* col) {
  for (int j = 0; j < n; ++j) {
    const double ajj = a[j * ld + bw];
    if (!(ajj > 0.0)) return j + 1;
    const double ljj = math::sqrt(ajj);
    const int iend = (j + bw < n - 1) ? j + bw : n - 1;
    team.team_barrier();  // every thread has read a(j, j)
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, j, iend + 1), [&](const int i) {
      if (i == j) {
        a[j * ld + bw] = ljj;
      } else {
        const double lij = a[i * ld + (j - i + bw)] / ljj;
        a[i * ld + (j - i + bw)] = lij;
        col[i - j - 1] = lij;
      }
    });
    team.team_barrier();
    // Rank-1 update of the trailing band: A(i, k) -= L(i, j) L(k, j) for j < k <= i <= iend.
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, j + 1, iend + 1), [&](const int i) {
      const double lij = col[i - j - 1];
      double* row = a + i * ld + (bw - i);  // row[k] = A(i, k)
      const double* c = col - (j + 1);      // c[k] = L(k, j)
      for (int k = j + 1; k <= i; ++k) row[k] -= lij * c[k];
    });
    team.team_barrier();
  }
  return 0;
}

// Solves L L^T x = b in place (x overwrites b), with L from team_band_cholesky.
template <class Member>
KOKKOS_INLINE_FUNCTION void team_band_solve(const Member& team, const double* l, int n, int bw, int ld, double* x) {
  for (int j = 0; j < n; ++j) {  // L z = b, row by row
    const int k0 = j - bw > 0 ? j - bw : 0;
    team.team_barrier();
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      const double* row = l + j * ld + (bw - j);
      x[j] = (x[j] - dot(row + k0, x + k0, j - k0)) / row[j];
    });
  }
  team.team_barrier();
  for (int j = n - 1; j >= 0; --j) {  // L^T x = z, column sweep over the rows of L
    Kokkos::single(Kokkos::PerTeam(team), [&]() { x[j] /= l[j * ld + bw]; });
    team.team_barrier();
    const int k0 = j - bw > 0 ? j - bw : 0;
    const double* row = l + j * ld + (bw - j);
    const double xj = x[j];
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, k0, j), [&](const int k) { x[k] -= row[k] * xj; });
    team.team_barrier();
  }
}

// Z = A^{-1} inside the band of A, from A's Cholesky factor L: Takahashi's recurrence, for j = n-1 .. 0,
//   Z(i, j) = -(1 / L(j, j)) sum_{k > j} Z(i, k) L(k, j)   (j < i <= j + bw),
//   Z(j, j) = 1 / L(j, j)^2 - (1 / L(j, j)) sum_{k > j} Z(j, k) L(k, j).
// Every entry it reads lies in the band, so the cost is O(n bw^2). Z is written in full-band storage
// (ldz >= 2 bw + 1) so that each sum is a contiguous dot product. `col` holds bw doubles.
template <class Member>
KOKKOS_INLINE_FUNCTION void team_band_selected_inverse(const Member& team, const double* l, int n, int bw, int ld,
                                                       double* z, int ldz, double* col) {
  for (int j = n - 1; j >= 0; --j) {
    const int jend = (j + bw < n - 1) ? j + bw : n - 1;
    const int len = jend - j;
    const double ljj = l[j * ld + bw];
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 0, len),
                         [&](const int t) { col[t] = l[(j + 1 + t) * ld + (j - (j + 1 + t) + bw)]; });
    team.team_barrier();
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, j + 1, jend + 1), [&](const int i) {
      const double* zrow = z + i * ldz + (bw - i);  // zrow[k] = Z(i, k)
      const double zij = -dot(zrow + j + 1, col, len) / ljj;
      z[i * ldz + (j - i + bw)] = zij;
      z[j * ldz + (i - j + bw)] = zij;
    });
    team.team_barrier();
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      const double* zrow = z + j * ldz + (bw - j);
      z[j * ldz + bw] = 1.0 / (ljj * ljj) - dot(zrow + j + 1, col, len) / ljj;
    });
    team.team_barrier();
  }
}

}  // namespace perfex::linalg
