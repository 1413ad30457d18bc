// The decorrelation's team-level algebra (perfex/core/linalg/block_inverse_sqrt.hpp and its pieces) against
// dense float64 references on fresh random inputs, with the lanes split explicitly (SerialLanes: the GPU
// shapes' lane counts, run on one thread in both lane orders, which must agree bit for bit) and on a real
// Kokkos team.
#include <catch2/catch_test_macros.hpp>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "perfex/core/linalg/block_inverse_sqrt.hpp"
#include "perfex/core/linalg/inverse_sqrt_poles.hpp"
#include "perfex/core/linalg/symmetric_eigen.hpp"
#include "perfex/core/types.hpp"

// (A named namespace: in an anonymous one, nvcc's device pass warns that Barrier::wait is never used.)
namespace block_inverse_sqrt_test {

// Lanes on OS threads, one per lane, with a real barrier at the end of every phase: the races SerialLanes
// cannot show (a thread still reading, between two phases, what a faster one already writes in the next)
// happen here as on a GPU team.
class Barrier {
 public:
  explicit Barrier(int n) : m_n(n) {}
  void wait() {
    std::unique_lock<std::mutex> lock(m_mutex);
    const long generation = m_generation;
    if (++m_arrived == m_n) {
      m_arrived = 0;
      ++m_generation;
      m_cv.notify_all();
    } else {
      m_cv.wait(lock, [&] { return m_generation != generation; });
    }
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  int m_n;
  int m_arrived = 0;
  long m_generation = 0;
};
// (Host and device annotations because the algorithm is: a CUDA build compiles its device side too,
// where a host-only call would be an error; it never runs there.)
struct ThreadLanes {
  int lane;
  int lanes;
  Barrier* barrier;
  KOKKOS_INLINE_FUNCTION int count() const { return lanes; }
  template <class Body>
  KOKKOS_INLINE_FUNCTION void phase(const Body& body) const {
#if !defined(__CUDA_ARCH__)
    body(lane, lanes);
    std::this_thread::yield();  // let the other threads run ahead or fall behind
    barrier->wait();
#endif
  }
};

}  // namespace block_inverse_sqrt_test

namespace {

using block_inverse_sqrt_test::Barrier;
using block_inverse_sqrt_test::ThreadLanes;
using perfex::linalg::SerialLanes;
using Matrix = std::vector<double>;  // dense, row-major

// A random orthogonal matrix: modified Gram-Schmidt, twice, on a random Gaussian matrix (rows).
Matrix random_orthogonal(int m, std::mt19937_64& rng) {
  std::normal_distribution<double> g(0.0, 1.0);
  Matrix q(static_cast<std::size_t>(m) * m);
  for (double& x : q) x = g(rng);
  for (int pass = 0; pass < 2; ++pass)
    for (int i = 0; i < m; ++i) {
      for (int k = 0; k < i; ++k) {
        double d = 0.0;
        for (int j = 0; j < m; ++j) d += q[i * m + j] * q[k * m + j];
        for (int j = 0; j < m; ++j) q[i * m + j] -= d * q[k * m + j];
      }
      double n = 0.0;
      for (int j = 0; j < m; ++j) n += q[i * m + j] * q[i * m + j];
      n = std::sqrt(n);
      for (int j = 0; j < m; ++j) q[i * m + j] /= n;
    }
  return q;
}

// Symmetric A = sum_i lambda_i q_i q_i^T with the given eigenvalues and eigenvectors (the rows of q).
Matrix with_basis(const std::vector<double>& lambda, const Matrix& q) {
  const int m = static_cast<int>(lambda.size());
  Matrix a(static_cast<std::size_t>(m) * m, 0.0);
  for (int k = 0; k < m; ++k)
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) a[i * m + j] += lambda[k] * q[k * m + i] * q[k * m + j];
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < i; ++j) a[i * m + j] = a[j * m + i] = 0.5 * (a[i * m + j] + a[j * m + i]);
  return a;
}

// The same with random eigenvectors.
Matrix with_spectrum(const std::vector<double>& lambda, std::mt19937_64& rng) {
  return with_basis(lambda, random_orthogonal(static_cast<int>(lambda.size()), rng));
}

// Eigenvalues log-uniform in [1, kappa] (both ends present when m > 1), times `scale`.
std::vector<double> log_spectrum(int m, double kappa, double scale, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> l(m);
  for (int i = 0; i < m; ++i) l[i] = scale * std::pow(kappa, i == 0 ? 0.0 : (i == 1 ? 1.0 : u(rng)));
  std::shuffle(l.begin(), l.end(), rng);
  return l;
}

// The reference Q = A^{-1/2} from the dense eigen-decomposition (itself tested in test_linalg.cpp).
Matrix dense_inverse_sqrt(const Matrix& a, int m) {
  Matrix work = a, vt(a.size());
  std::vector<double> d(m), e(m), w(2 * m);
  REQUIRE(perfex::linalg::symmetric_eigen(work.data(), m, d.data(), e.data(), vt.data(), w.data()) == 0);
  Matrix q(a.size(), 0.0);
  for (int k = 0; k < m; ++k) {
    REQUIRE(d[k] > 0.0);
    const double f = 1.0 / std::sqrt(d[k]);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) q[i * m + j] += vt[k * m + i] * f * vt[k * m + j];
  }
  return q;
}

// Scratch for one block, sized for shape.
struct Scratch {
  std::vector<double> near, far;
  perfex::linalg::BlockInverseSqrtScratch w;
  explicit Scratch(const perfex::linalg::BlockInverseSqrtShape& s)
      : near(perfex::linalg::BlockInverseSqrtScratch::near_doubles(s), std::numeric_limits<double>::quiet_NaN()),
        far(perfex::linalg::BlockInverseSqrtScratch::far_doubles(s), std::numeric_limits<double>::quiet_NaN()),
        w(perfex::linalg::BlockInverseSqrtScratch::carve(s, near.data(), far.data())) {}
};

perfex::linalg::InverseSqrtPolesRef table_ref() {
  const auto& t = perfex::linalg::inverse_sqrt_poles();
  return {t.first.data(), t.shift.data(), t.weight.data(), perfex::linalg::InverseSqrtPoleTable::max_log2_ratio};
}

// One block's outputs, copied out of the scratch.
struct BlockResult {
  int status = -1;
  std::vector<double> s, qx, qband;
};

template <class Lanes>
BlockResult run_block(const Lanes& lanes, const perfex::linalg::BlockInverseSqrtShape& shape, const Matrix& c, int m,
                      const std::vector<double>& x, int j0, int ncols, int nd,
                      perfex::linalg::BlockForm form = perfex::linalg::BlockForm::covariance) {
  Scratch sc(shape);
  BlockResult r;
  r.status = perfex::linalg::team_block_inverse_sqrt(lanes, table_ref(), shape, sc.w, m, c.data(), m, x.data(), j0,
                                                     ncols, nd, form);
  r.s.assign(sc.w.s, sc.w.s + m);
  r.qx.assign(sc.w.qx, sc.w.qx + ncols);
  r.qband.assign(sc.w.qband, sc.w.qband + (2 * nd + 1) * shape.max_cols);
  // Rows outside the band's reach are not written: blank them for comparisons.
  for (int i = 0; i < m; ++i)
    if (i < j0 - nd || i >= j0 + ncols + nd) r.s[i] = 0.0;
  for (int t = 0; t < 2 * nd + 1; ++t)
    for (int k = ncols; k < shape.max_cols; ++k) r.qband[t * shape.max_cols + k] = 0.0;
  return r;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

}  // namespace

TEST_CASE("Lane ranges split a range into balanced contiguous parts", "[linalg][lanes]") {
  for (int n : {0, 1, 5, 74}) {
    for (int lanes : {1, 2, 3, 32, 64}) {
      int next = 3;
      for (int l = 0; l < lanes; ++l) {
        const auto r = perfex::linalg::lane_range(l, lanes, 3, 3 + n);
        CHECK(r.lo == next);
        CHECK(r.hi - r.lo >= n / lanes);
        CHECK(r.hi - r.lo <= n / lanes + 1);
        next = r.hi;
      }
      CHECK(next == 3 + n);
    }
  }
}

TEST_CASE("Inverse square root poles reach their tolerance on every ratio", "[linalg][decorrelation]") {
  const auto& t = perfex::linalg::inverse_sqrt_poles();
  REQUIRE(t.tolerance == 2e-15);
  int previous = 0;
  for (int q = 1; q <= perfex::linalg::InverseSqrtPoleTable::max_log2_ratio; ++q) {
    const int n = t.poles(q);
    CHECK(n >= previous);
    previous = n;
    // 1/sqrt(lambda) from the rule, in long double, at 97 points per pole (three times the builder's
    // sampling, offset from it) and at the ends: the builder's bound holds between its samples too, to
    // within 5% (the error is a smooth oscillation).
    for (int j = t.first[q]; j < t.first[q + 1]; ++j) {
      CHECK(t.shift[j] > 0.0);
      CHECK(t.weight[j] > 0.0);
    }
    long double worst = 0.0L;
    const int npts = 97 * n;
    for (int i = 0; i <= npts; ++i) {
      const long double lambda = std::exp(q * std::log(2.0L) * (i + 0.37L * (i > 0 && i < npts)) / npts);
      long double r = 0.0L;
      for (int j = t.first[q]; j < t.first[q + 1]; ++j)
        r += static_cast<long double>(t.weight[j]) / (lambda + static_cast<long double>(t.shift[j]));
      worst = std::max(worst, std::fabs(r * std::sqrt(lambda) - 1.0L));
    }
    INFO("ratio 2^" << q << ", " << n << " poles: relative error " << static_cast<double>(worst));
    CHECK(worst < 1.05L * t.tolerance);
  }
  CHECK(t.poles(4) <= 10);  // a DESI block (ratio ~8-16) needs about ten
  CHECK(t.max_poles() <= 64);
}

TEST_CASE("The pole table generated at build time is the one make_inverse_sqrt_poles computes, to the bit",
          "[linalg][decorrelation]") {
  const auto& built = perfex::linalg::inverse_sqrt_poles();
  const auto fresh = perfex::linalg::make_inverse_sqrt_poles(perfex::linalg::InverseSqrtPoleTable::default_tolerance);
  CHECK(built.tolerance == fresh.tolerance);
  CHECK(built.first == fresh.first);
  REQUIRE(built.shift.size() == fresh.shift.size());
  REQUIRE(built.weight.size() == fresh.weight.size());
  for (std::size_t j = 0; j < fresh.shift.size(); ++j) {
    INFO("pole " << j);
    CHECK(std::memcmp(&built.shift[j], &fresh.shift[j], sizeof(double)) == 0);
    CHECK(std::memcmp(&built.weight[j], &fresh.weight[j], sizeof(double)) == 0);
  }
}

TEST_CASE("Packed Householder tridiagonalisation reconstructs random symmetric matrices on any lanes",
          "[linalg][decorrelation]") {
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int m : {1, 2, 3, 4, 9, 31, 74, 90}) {
    Matrix a(static_cast<std::size_t>(m) * m);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j <= i; ++j) a[i * m + j] = a[j * m + i] = u(rng);
    for (int lanes : {1, 2, 3, 7, 32}) {
      std::vector<double> results[2];
      for (int order = 0; order < 2; ++order) {
        const SerialLanes team{lanes, order == 1};
        std::vector<double> ap(perfex::linalg::packed_size(m)), d(m), e(m), beta(m), p(m), q(m), part(lanes),
            part2(lanes), x0(1), uu(static_cast<std::size_t>(m) * m, -7.0);
        for (int j = 0; j < m; ++j)
          for (int i = j; i < m; ++i) ap[perfex::linalg::packed_column(m, j) + i - j] = a[i * m + j];
        const perfex::linalg::TridiagonalWork w{p.data(), q.data(), part.data(), part2.data(), x0.data()};
        perfex::linalg::team_packed_tridiagonalize(team, ap.data(), m, d.data(), e.data(), beta.data(), w);
        perfex::linalg::team_householder_columns(team, ap.data(), beta.data(), m, uu.data());
        // U T U^T against A, and U U^T against I.
        double worst_rec = 0.0, worst_orth = 0.0;
        for (int i = 0; i < m; ++i)
          for (int j = 0; j < m; ++j) {
            double rec = 0.0, orth = 0.0;
            for (int k = 0; k < m; ++k) {
              double tk = d[k] * uu[j * m + k];
              if (k > 0) tk += e[k - 1] * uu[j * m + k - 1];
              if (k + 1 < m) tk += e[k] * uu[j * m + k + 1];
              rec += uu[i * m + k] * tk;
              orth += uu[i * m + k] * uu[j * m + k];
            }
            worst_rec = std::max(worst_rec, std::fabs(rec - a[i * m + j]));
            worst_orth = std::max(worst_orth, std::fabs(orth - (i == j ? 1.0 : 0.0)));
          }
        INFO("m " << m << ", " << lanes << " lanes: |U T U^T - A| " << worst_rec << ", |U U^T - I| " << worst_orth);
        // Backward stable: errors of order m eps |A| (|A| <= m here).
        CHECK(worst_rec < 1e-12);
        CHECK(worst_orth < 1e-12);
        results[order] = d;
        results[order].insert(results[order].end(), e.begin(), e.end());
        results[order].insert(results[order].end(), uu.begin(), uu.end());
      }
      INFO("m " << m << ", " << lanes << " lanes: lane order changed the result");
      CHECK(same_bits(results[0], results[1]));
    }
  }
}

TEST_CASE("The spectrum bracket holds every eigenvalue and refuses what is not positive definite",
          "[linalg][decorrelation]") {
  std::mt19937_64 rng(std::random_device{}());
  constexpr int max_ratio = perfex::linalg::InverseSqrtPoleTable::max_log2_ratio;
  const auto bracket = [&](const std::vector<double>& d, const std::vector<double>& e, int lanes) {
    const int m = static_cast<int>(d.size());
    std::vector<double> work(m + 2);
    std::vector<int> flags(2 * lanes);
    return perfex::linalg::team_spectrum_bracket(SerialLanes{lanes, false}, d.data(), e.data(), m, max_ratio,
                                                 work.data(), flags.data());
  };
  // Tridiagonal matrices with known spectra: the reduction of A = Q diag(lambda) Q^T.
  for (int m : {1, 2, 7, 74}) {
    for (double kappa : {1.0, 3.0, 1e3, 1e12}) {
      const auto lambda = log_spectrum(m, kappa, std::exp2(std::uniform_real_distribution<double>(-40, 40)(rng)), rng);
      const Matrix a = with_spectrum(lambda, rng);
      std::vector<double> d(m), e(m);
      std::vector<double> ap(perfex::linalg::packed_size(m)), beta(m), p(m), q(m), part(1), part2(1), x0(1);
      for (int j = 0; j < m; ++j)
        for (int i = j; i < m; ++i) ap[perfex::linalg::packed_column(m, j) + i - j] = a[i * m + j];
      perfex::linalg::team_packed_tridiagonalize(SerialLanes{1, false}, ap.data(), m, d.data(), e.data(), beta.data(),
                                                 {p.data(), q.data(), part.data(), part2.data(), x0.data()});
      const double lmin = *std::min_element(lambda.begin(), lambda.end());
      const double lmax = *std::max_element(lambda.begin(), lambda.end());
      // The bracket's contract is backward: it holds the spectrum of a matrix within a few ulp of T, and T is
      // itself A's reduction (A formed from lambda in floating point). Both move an eigenvalue by up to a few
      // eps ||A||: at kappa 1e12 that is ~1e-4 of the smallest one, which a Sturm count cannot resolve.
      const double slack = 16.0 * m * std::numeric_limits<double>::epsilon() * lmax;
      for (int lanes : {1, 3, 32}) {
        const auto b = bracket(d, e, lanes);
        INFO("m " << m << ", kappa " << kappa << ", " << lanes << " lanes: [" << b.lower << ", 2^" << b.log2_ratio
                  << "], spectrum [" << lmin << ", " << lmax << "]");
        REQUIRE(b.ok);
        CHECK(b.lower <= lmin * (1 + 1e-12) + slack);
        CHECK(std::ldexp(b.lower, b.log2_ratio) >= lmax * (1 - 1e-12) - slack);
        // Powers of two at both ends, and Gershgorin at most 4x high: at most 4 doublings to spare.
        CHECK(b.log2_ratio <= std::ceil(std::log2(kappa)) + 4);
      }
    }
  }
  // Refused: an eigenvalue <= 0, a NaN, a condition number beyond 2^47.
  for (const double bad : {-1e-3, 0.0}) {
    auto lambda = log_spectrum(9, 10.0, 1.0, rng);
    lambda[4] = bad;
    const Matrix a = with_spectrum(lambda, rng);
    std::vector<double> d(9), e(9), ap(perfex::linalg::packed_size(9)), beta(9), p(9), q(9), part(1), part2(1), x0(1);
    for (int j = 0; j < 9; ++j)
      for (int i = j; i < 9; ++i) ap[perfex::linalg::packed_column(9, j) + i - j] = a[i * 9 + j];
    perfex::linalg::team_packed_tridiagonalize(SerialLanes{1, false}, ap.data(), 9, d.data(), e.data(), beta.data(),
                                               {p.data(), q.data(), part.data(), part2.data(), x0.data()});
    CHECK_FALSE(bracket(d, e, 1).ok);
    CHECK_FALSE(bracket(d, e, 5).ok);
  }
  CHECK_FALSE(bracket({1.0, std::nan(""), 2.0}, {0.1, 0.1, 0.0}, 1).ok);
  CHECK_FALSE(bracket({1.0, 2.0, 3.0}, {std::numeric_limits<double>::infinity(), 0.1, 0.0}, 2).ok);
  CHECK_FALSE(bracket({1.0, 1e-16, 2.0}, {0.0, 0.0, 0.0}, 1).ok);  // ratio 2^53
  CHECK(bracket({1.0, 1e-13, 2.0}, {0.0, 0.0, 0.0}, 1).ok);        // ratio 2^44
}

TEST_CASE("Block inverse square root products match a dense C^-1/2 on any lanes", "[linalg][decorrelation]") {
  using perfex::linalg::BlockForm;
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  struct Case {
    int m, j0, ncols, nd;
    double kappa;
  };
  // DESI's block (74 bins, 50 kept from 12, 5 diagonals each side), other sizes, edges, ill conditioning.
  for (const Case& cs :
       {Case{74, 12, 50, 5, 10.0}, Case{74, 12, 50, 5, 1e6}, Case{90, 20, 50, 7, 300.0}, Case{7, 0, 7, 5, 4.0},
        Case{16, 3, 5, 2, 1e10}, Case{1, 0, 1, 0, 1.0}, Case{33, 30, 3, 4, 50.0}}) {
    const double scale = std::exp2(std::uniform_real_distribution<double>(-30, 30)(rng));
    const std::vector<double> lambda = log_spectrum(cs.m, cs.kappa, scale, rng);
    std::vector<double> inverse_lambda(lambda.size());
    for (std::size_t i = 0; i < lambda.size(); ++i) inverse_lambda[i] = 1.0 / lambda[i];
    const Matrix basis = random_orthogonal(cs.m, rng);
    const Matrix c = with_basis(lambda, basis);
    // The same block given as its inverse (the tile solver's Schur complement).
    const Matrix p = with_basis(inverse_lambda, basis);
    std::vector<double> x(cs.m);
    for (double& v : x) v = u(rng);
    const Matrix q = dense_inverse_sqrt(c, cs.m);
    double qmax = 0.0;
    for (double v : q) qmax = std::max(qmax, std::fabs(v));
    for (const BlockForm form : {BlockForm::covariance, BlockForm::precision})
      for (int lanes : {1, 2, 5, 32}) {
        // Scratch sized for more than this block (a plan's largest patch), as in the kernel.
        const perfex::linalg::BlockInverseSqrtShape shape{cs.m + 3, cs.ncols + 2, cs.nd + 1, lanes};
        const Matrix& given = form == BlockForm::covariance ? c : p;
        const BlockResult fwd =
            run_block(SerialLanes{lanes, false}, shape, given, cs.m, x, cs.j0, cs.ncols, cs.nd, form);
        const BlockResult bwd =
            run_block(SerialLanes{lanes, true}, shape, given, cs.m, x, cs.j0, cs.ncols, cs.nd, form);
        INFO("m " << cs.m << ", kappa " << cs.kappa << ", " << lanes << " lanes, "
                  << (form == BlockForm::covariance ? "covariance" : "precision") << " given");
        REQUIRE(fwd.status == 0);
        CHECK(same_bits(fwd.s, bwd.s));
        CHECK(same_bits(fwd.qx, bwd.qx));
        CHECK(same_bits(fwd.qband, bwd.qband));
        // C itself is only known to ~eps |C| (it is rounded), which moves C^-1/2 by up to ~eps cond(C) |Q|:
        // the bound any backward-stable route meets (the reference too). Seen: ~1e-15 |Q| at cond 10, 4e-7 |Q|
        // at 1e10.
        const double tol = (1e-14 + 1e-14 * cs.kappa) * qmax;
        double worst_s = 0.0, worst_x = 0.0, worst_band = 0.0, xnorm = 0.0;
        for (double v : x) xnorm += std::fabs(v);
        for (int r = std::max(0, cs.j0 - cs.nd); r < std::min(cs.m, cs.j0 + cs.ncols + cs.nd); ++r) {
          double ref = 0.0;
          for (int j = 0; j < cs.m; ++j) ref += q[r * cs.m + j];
          worst_s = std::max(worst_s, std::fabs(fwd.s[r] - ref));
        }
        for (int k = 0; k < cs.ncols; ++k) {
          const int j = cs.j0 + k;
          double ref = 0.0;
          for (int i = 0; i < cs.m; ++i) ref += q[j * cs.m + i] * x[i];
          worst_x = std::max(worst_x, std::fabs(fwd.qx[k] - ref));
          for (int t = 0; t <= 2 * cs.nd; ++t) {
            const int r = j - cs.nd + t;
            const double expect = (r >= 0 && r < cs.m) ? q[r * cs.m + j] : 0.0;
            worst_band = std::max(worst_band, std::fabs(fwd.qband[t * shape.max_cols + k] - expect));
          }
        }
        INFO("|ds| " << worst_s << ", |dQx| " << worst_x << ", |dQ band| " << worst_band << ", |Q| " << qmax);
        CHECK(worst_s < tol * cs.m);
        CHECK(worst_x < tol * xnorm);
        CHECK(worst_band < tol);
      }
  }
}

// The solver writes only the upper triangle of each core block (PatchSolver::copy_cblocks): whatever lies
// below the diagonal must not reach the results.
TEST_CASE("The block is read from its upper triangle only", "[linalg][decorrelation]") {
  std::mt19937_64 rng(std::random_device{}());
  const int m = 74;
  std::vector<double> x(m);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (double& v : x) v = u(rng);
  const Matrix c = with_spectrum(log_spectrum(m, 20.0, 3.0, rng), rng);
  Matrix stale = c;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < i; ++j) stale[i * m + j] = std::nan("");
  const perfex::linalg::BlockInverseSqrtShape shape{m, 50, 5, 4};
  for (const auto form : {perfex::linalg::BlockForm::covariance, perfex::linalg::BlockForm::precision})
    for (int lanes : {1, 4}) {
      const BlockResult full = run_block(SerialLanes{lanes, false}, shape, c, m, x, 12, 50, 5, form);
      const BlockResult upper = run_block(SerialLanes{lanes, false}, shape, stale, m, x, 12, 50, 5, form);
      REQUIRE(full.status == 0);
      CHECK(upper.status == 0);
      CHECK(same_bits(full.s, upper.s));
      CHECK(same_bits(full.qx, upper.qx));
      CHECK(same_bits(full.qband, upper.qband));
    }
}

TEST_CASE("A block that is not positive definite is reported, not decorrelated", "[linalg][decorrelation]") {
  std::mt19937_64 rng(std::random_device{}());
  const int m = 20;
  const std::vector<double> x(m, 1.0);
  const perfex::linalg::BlockInverseSqrtShape shape{m, 10, 3, 4};
  auto lambda = log_spectrum(m, 10.0, 1.0, rng);
  lambda[3] = -0.5;
  CHECK(run_block(SerialLanes{4, false}, shape, with_spectrum(lambda, rng), m, x, 5, 10, 3).status == 1);
  lambda[3] = 1e-17;  // condition 1e17
  CHECK(run_block(SerialLanes{1, false}, shape, with_spectrum(lambda, rng), m, x, 5, 10, 3).status == 1);
  Matrix c = with_spectrum(log_spectrum(m, 10.0, 1.0, rng), rng);
  c[5 * m + 7] = c[7 * m + 5] = std::nan("");
  CHECK(run_block(SerialLanes{2, false}, shape, c, m, x, 5, 10, 3).status == 1);
  c[5 * m + 7] = c[7 * m + 5] = std::numeric_limits<double>::infinity();
  CHECK(run_block(SerialLanes{1, false}, shape, c, m, x, 5, 10, 3).status == 1);
}

TEST_CASE("On a Kokkos team the block gives the lanes' result bit for bit", "[linalg][decorrelation]") {
  using Exec = Kokkos::DefaultHostExecutionSpace;
  using Policy = Kokkos::TeamPolicy<Exec>;
  std::mt19937_64 rng(std::random_device{}());
  const int m = 74, j0 = 12, ncols = 50, nd = 5;
  const Matrix c = with_spectrum(log_spectrum(m, 20.0, 3.0, rng), rng);
  std::vector<double> x(m, 0.5);
  const int most = Policy(1, Kokkos::AUTO).team_size_max([](const Policy::member_type&) {}, Kokkos::ParallelForTag());
  for (int lanes : {1, most}) {
    const perfex::linalg::BlockInverseSqrtShape shape{m, ncols, nd, lanes};
    const BlockResult expect = run_block(SerialLanes{lanes, false}, shape, c, m, x, j0, ncols, nd);
    Scratch sc(shape);
    int status = -1;
    const auto poles = table_ref();
    const auto w = sc.w;
    Kokkos::parallel_reduce(
        Policy(1, lanes),
        [&](const Policy::member_type& team, int& st) {
          const perfex::linalg::TeamLanes<Policy::member_type> team_lanes{team};
          const int r = perfex::linalg::team_block_inverse_sqrt(team_lanes, poles, shape, w, m, c.data(), m, x.data(),
                                                                j0, ncols, nd);
          if (team.team_rank() == 0) st = r;
        },
        status);
    INFO(lanes << " lanes on a team of " << lanes << " threads");
    CHECK(status == 0);
    CHECK(same_bits(std::vector<double>(sc.w.qband, sc.w.qband + (2 * nd + 1) * ncols), expect.qband));
    CHECK(same_bits(std::vector<double>(sc.w.qx, sc.w.qx + ncols), expect.qx));
  }
}

TEST_CASE("On threads with a barrier per phase the block gives the lanes' result bit for bit",
          "[linalg][decorrelation]") {
  std::mt19937_64 rng(std::random_device{}());
  const int m = 74, j0 = 12, ncols = 50, nd = 5;
  const Matrix c = with_spectrum(log_spectrum(m, 20.0, 3.0, rng), rng);
  std::vector<double> x(m);
  for (double& v : x) v = std::uniform_real_distribution<double>(-1.0, 1.0)(rng);
  for (int lanes : {3, 8, 32}) {
    const perfex::linalg::BlockInverseSqrtShape shape{m, ncols, nd, lanes};
    const BlockResult expect = run_block(SerialLanes{lanes, false}, shape, c, m, x, j0, ncols, nd);
    for (int run = 0; run < 3; ++run) {
      Scratch sc(shape);
      Barrier barrier(lanes);
      std::vector<int> status(lanes, -1);
      std::vector<std::thread> threads;
      for (int l = 0; l < lanes; ++l)
        threads.emplace_back([&, l] {
          status[l] = perfex::linalg::team_block_inverse_sqrt(ThreadLanes{l, lanes, &barrier}, table_ref(), shape, sc.w,
                                                              m, c.data(), m, x.data(), j0, ncols, nd);
        });
      for (auto& t : threads) t.join();
      INFO(lanes << " lanes on threads, run " << run);
      for (int l = 0; l < lanes; ++l) CHECK(status[l] == 0);
      CHECK(same_bits(std::vector<double>(sc.w.qband, sc.w.qband + (2 * nd + 1) * ncols), expect.qband));
      CHECK(same_bits(std::vector<double>(sc.w.qx, sc.w.qx + ncols), expect.qx));
      std::vector<double> s(sc.w.s, sc.w.s + m);
      for (int i = 0; i < m; ++i)
        if (i < j0 - nd || i >= j0 + ncols + nd) s[i] = 0.0;
      CHECK(same_bits(s, expect.s));
    }
  }
}
