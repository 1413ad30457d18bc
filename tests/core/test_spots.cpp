// Tests of PSF evaluation into spots (analytic Gauss-Hermite cases, tails, errors) and of the synthetic PSF.
#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/synthetic_psf.hpp"

using Catch::Matchers::ContainsSubstring;

namespace {

// Host copies of a spot cache, whatever the backend.
struct HostSpots {
  perfex::HostView<double****> spots;
  perfex::HostView<int**> xcorner, ycorner;
  perfex::HostView<double**> xcenter, ycenter;
  explicit HostSpots(const perfex::SpotCache& c)
      : spots(Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), c.spots)),
        xcorner(Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), c.xcorner)),
        ycorner(Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), c.ycorner)),
        xcenter(Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), c.xcenter)),
        ycenter(Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), c.ycenter)) {}
};

perfex::LegendreSeries series(double wavemin, double wavemax, const std::vector<std::vector<double>>& per_fiber) {
  perfex::LegendreSeries s;
  s.wavemin = wavemin;
  s.wavemax = wavemax;
  s.nfiber = static_cast<int>(per_fiber.size());
  s.ncoef = static_cast<int>(per_fiber[0].size());
  for (const auto& c : per_fiber) s.coeff.insert(s.coeff.end(), c.begin(), c.end());
  return s;
}

void set_param(perfex::GaussHermitePsf& psf, const std::string& name, const perfex::LegendreSeries& s) {
  for (auto& p : psf.params)
    if (p.name == name) {
      p.series = s;
      return;
    }
  psf.params.push_back({name, s});
}

// Four fibers, the trace HDUs and the PSF table on three different domains; fiber 3 runs at negative
// x and y so corners and sub-pixel offsets exercise floor and Python's modulo below zero. Only GH-0-0
// is non-zero (a pure Gaussian core); the other GH rows up to `ghdeg` are present and evaluated.
perfex::GaussHermitePsf analytic_psf(int ghdeg = 2, int hsizex = 8, int hsizey = 5) {
  perfex::GaussHermitePsf psf;
  psf.nfiber = 4;
  psf.npix_x = 200;
  psf.npix_y = 300;
  psf.hsizex = hsizex;
  psf.hsizey = hsizey;
  psf.ghdegx = ghdeg;
  psf.ghdegy = ghdeg;
  psf.xtrace = series(5000.0, 6000.0, {{20.123, 0.7, 0.05}, {50.31, 0.4, -0.1}, {80.77, 0.9, 0.0}, {-1.37, 0.6, 0.0}});
  psf.ytrace = series(4999.0, 6001.0, {{100.0, 80.0}, {103.3, 81.0}, {106.6, 79.5}, {-2.2, 1.5}});
  set_param(psf, "GHSIGX", series(4998.0, 6002.0, {{1.0, 0.1}, {1.05, 0.1}, {1.1, -0.05}, {1.2, 0.0}}));
  set_param(psf, "GHSIGY", series(4998.0, 6002.0, {{0.9, -0.05}, {1.0, 0.05}, {1.1, 0.0}, {1.3, 0.02}}));
  const std::vector<std::vector<double>> zero(4, std::vector<double>{0.0, 0.0});
  for (int a = 0; a <= ghdeg; ++a)
    for (int b = 0; b <= ghdeg; ++b) set_param(psf, perfex::gh_param_name(a, b), series(4998.0, 6002.0, zero));
  set_param(psf, "GH-0-0", series(4998.0, 6002.0, {{1.0, 0.05}, {1.0, -0.03}, {0.95, 0.0}, {1.1, 0.02}}));
  return psf;
}

void add_tails(perfex::GaussHermitePsf& psf, double amp) {
  const double lo = 4998.0, hi = 6002.0;
  set_param(psf, "TAILAMP", series(lo, hi, {{amp, 0.001}, {amp, 0.0}, {amp, 0.0}, {amp, 0.0}}));
  set_param(psf, "TAILCORE", series(lo, hi, {{2.0, 0.1}, {2.0, 0.0}, {1.8, 0.0}, {2.2, 0.0}}));
  set_param(psf, "TAILXSCA", series(lo, hi, {{1.0, 0.0}, {1.1, 0.0}, {0.9, 0.0}, {1.0, 0.0}}));
  set_param(psf, "TAILYSCA", series(lo, hi, {{1.0, 0.0}, {0.9, 0.0}, {1.0, 0.05}, {1.0, 0.0}}));
  set_param(psf, "TAILINDE", series(lo, hi, {{1.5, 0.0}, {1.4, 0.0}, {1.6, 0.0}, {1.5, 0.0}}));
}

// Python's float a % 1.0, written with fmod to check the kernel's floor-based version independently.
double python_mod1(double a) {
  double r = std::fmod(a, 1.0);
  if (r != 0.0 && r < 0.0) r += 1.0;
  return r;
}

// Pixel integrals g[m][i], m = 0..deg, over a stamp of n pixels whose middle pixel holds `center`, straight
// from ALGORITHM.md step 4: erf differences for m = 0, He_{m-1}(u) phi(u) differences (exp at every edge) above.
std::vector<std::vector<double>> pixel_gauss_hermite(double center, double sigma, int n, int deg) {
  const double d = python_mod1(center + 0.5) - 0.5;
  const double pi = 3.14159265358979323846;
  std::vector<std::vector<double>> edge(deg + 1, std::vector<double>(n + 1));
  for (int k = 0; k <= n; ++k) {
    const double u = (k - n / 2 - 0.5 - d) / sigma;
    const double phi = std::exp(-0.5 * u * u) / std::sqrt(2.0 * pi);
    edge[0][k] = std::erf(u / std::sqrt(2.0));
    double he_prev = 0.0, he = 1.0;  // He_{-1} (unused), He_0
    for (int m = 1; m <= deg; ++m) {
      edge[m][k] = he * phi;  // He_{m-1}(u) phi(u)
      const double he_next = u * he - (m - 1) * he_prev;
      he_prev = he;
      he = he_next;
    }
  }
  std::vector<std::vector<double>> g(deg + 1, std::vector<double>(n));
  for (int i = 0; i < n; ++i) {
    g[0][i] = 0.5 * (edge[0][i + 1] - edge[0][i]);
    for (int m = 1; m <= deg; ++m) g[m][i] = edge[m][i] - edge[m][i + 1];
  }
  return g;
}

// The expected spot, evaluated independently on the host: Gauss-Hermite core (every GH-a-b row), optional
// tails, clipped at zero and normalised. The trace position is the kernel's (checked separately), so that
// ulp-level differences of the Legendre arithmetic do not blur the comparison of the stamps.
std::vector<double> reference_spot(const perfex::GaussHermitePsf& psf, int fiber, double lambda, bool tails, double x,
                                   double y) {
  const int nx = psf.stamp_nx(), ny = psf.stamp_ny();
  const auto gx = pixel_gauss_hermite(x, psf.param("GHSIGX").evaluate(fiber, lambda), nx, psf.ghdegx);
  const auto gy = pixel_gauss_hermite(y, psf.param("GHSIGY").evaluate(fiber, lambda), ny, psf.ghdegy);
  const double xc = std::floor(x - psf.hsizex + 0.5), yc = std::floor(y - psf.hsizey + 0.5);
  auto p = [&](const std::string& name) { return psf.param(name).evaluate(fiber, lambda); };
  std::vector<double> spot(static_cast<std::size_t>(ny) * nx, 0.0);
  for (int a = 0; a <= psf.ghdegx; ++a)
    for (int b = 0; b <= psf.ghdegy; ++b) {
      const double c = p(perfex::gh_param_name(a, b));
      for (int iy = 0; iy < ny; ++iy)
        for (int ix = 0; ix < nx; ++ix) spot[iy * nx + ix] += c * gy[b][iy] * gx[a][ix];
    }
  double sum = 0.0;
  for (int iy = 0; iy < ny; ++iy)
    for (int ix = 0; ix < nx; ++ix) {
      double& v = spot[iy * nx + ix];
      if (tails) {
        const double dx = (xc + ix - x) * p("TAILXSCA"), dy = (yc + iy - y) * p("TAILYSCA");
        const double r2 = dx * dx + dy * dy;
        v += p("TAILAMP") * r2 / std::pow(p("TAILCORE") * p("TAILCORE") + r2, 1.0 + p("TAILINDE") / 2.0);
      }
      v = std::max(v, 0.0);
      sum += v;
    }
  for (double& v : spot) v /= sum;
  return spot;
}

// Gives every GH-a-b row of `psf` a smooth, small, pseudo-random value (GH-0-0 stays as it is).
void fill_gh(perfex::GaussHermitePsf& psf, double scale) {
  const double lo = 4998.0, hi = 6002.0;
  unsigned state = 12345u;
  auto next = [&]() {  // a tiny LCG: portable and deterministic
    state = state * 1664525u + 1013904223u;
    return (state >> 8) / double(1u << 24) * 2.0 - 1.0;
  };
  for (int a = 0; a <= psf.ghdegx; ++a)
    for (int b = 0; b <= psf.ghdegy; ++b) {
      if (a == 0 && b == 0) continue;
      std::vector<std::vector<double>> c(psf.nfiber);
      for (auto& row : c) row = {scale * next(), 0.2 * scale * next()};
      set_param(psf, perfex::gh_param_name(a, b), series(lo, hi, c));
    }
}

std::vector<double> linspace(double lo, double hi, int n) {
  std::vector<double> w(n);
  for (int i = 0; i < n; ++i) w[i] = lo + (hi - lo) * i / (n - 1);
  return w;
}

double spot_sum(const HostSpots& h, int f, int w) {
  double s = 0.0;
  for (std::size_t iy = 0; iy < h.spots.extent(2); ++iy)
    for (std::size_t ix = 0; ix < h.spots.extent(3); ++ix) s += h.spots(f, w, iy, ix);
  return s;
}

// Centroid of a spot in CCD pixel coordinates (pixel centers at integers).
std::pair<double, double> centroid(const HostSpots& h, int f, int w) {
  double sx = 0.0, sy = 0.0, s = 0.0;
  for (std::size_t iy = 0; iy < h.spots.extent(2); ++iy)
    for (std::size_t ix = 0; ix < h.spots.extent(3); ++ix) {
      const double v = h.spots(f, w, iy, ix);
      sx += v * (h.xcorner(f, w) + static_cast<double>(ix));
      sy += v * (h.ycorner(f, w) + static_cast<double>(iy));
      s += v;
    }
  return {sx / s, sy / s};
}

}  // namespace

TEST_CASE("A pure Gaussian PSF gives normalised products of erf differences", "[spots]") {
  const auto psf = analytic_psf();
  REQUIRE_NOTHROW(psf.validate("analytic"));
  const auto waves = linspace(5000.0, 6000.0, 37);
  const auto cache = perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 4, waves);
  REQUIRE(cache.nfiber == 4);
  REQUIRE(cache.nwave == 37);
  REQUIRE(cache.stamp_nx == 17);
  REQUIRE(cache.stamp_ny == 11);
  const HostSpots h(cache);
  double max_diff = 0.0;
  for (int f = 0; f < 4; ++f)
    for (int w = 0; w < 37; ++w) {
      const double x = psf.xtrace.evaluate(f, waves[w]), y = psf.ytrace.evaluate(f, waves[w]);
      // Centers: the kernel's Legendre arithmetic differs from the host's only in rounding order (a few
      // ulp of values below ~110 px).
      CHECK(h.xcenter(f, w) == Catch::Approx(x).margin(1e-12));
      CHECK(h.ycenter(f, w) == Catch::Approx(y).margin(1e-12));
      CHECK(h.xcorner(f, w) == static_cast<int>(std::floor(h.xcenter(f, w) - 8 + 0.5)));
      CHECK(h.ycorner(f, w) == static_cast<int>(std::floor(h.ycenter(f, w) - 5 + 0.5)));
      const auto ref = reference_spot(psf, f, waves[w], false, h.xcenter(f, w), h.ycenter(f, w));
      for (int iy = 0; iy < 11; ++iy)
        for (int ix = 0; ix < 17; ++ix)
          max_diff = std::max(max_diff, std::abs(h.spots(f, w, iy, ix) - ref[iy * 17 + ix]));
    }
  // Same formula and centers on both sides; the only differences are rounding (erf implementations,
  // summation order, 1/sum): a few ulp of values below 0.3, so 1e-15 leaves a margin of ~10.
  CHECK(max_diff < 1e-15);
  // Fiber 3 runs at negative coordinates: the corners there must come from floor, not truncation.
  CHECK(h.xcorner(3, 0) < -8);
  CHECK(h.ycorner(3, 0) < -5);
}

TEST_CASE("Every Gauss-Hermite term matches an independent host evaluation", "[spots]") {
  // DESI's shape (17 x 11 stamps, degree 6: the compile-time sized kernel) and an odd one (9 x 7, degree 3:
  // the run-time sized kernel).
  for (const auto& [ghdeg, hsizex, hsizey] : {std::tuple{6, 8, 5}, std::tuple{3, 4, 3}}) {
    INFO("GHDEG " << ghdeg << ", HSIZEX " << hsizex << ", HSIZEY " << hsizey);
    auto psf = analytic_psf(ghdeg, hsizex, hsizey);
    fill_gh(psf, 0.03);
    const auto waves = linspace(4995.0, 6005.0, 29);
    const HostSpots h(perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 4, waves));
    const int nx = psf.stamp_nx(), ny = psf.stamp_ny();
    double max_diff = 0.0;
    int clipped = 0;
    for (int f = 0; f < 4; ++f)
      for (int w = 0; w < 29; ++w) {
        const auto ref = reference_spot(psf, f, waves[w], false, h.xcenter(f, w), h.ycenter(f, w));
        for (int iy = 0; iy < ny; ++iy)
          for (int ix = 0; ix < nx; ++ix) {
            max_diff = std::max(max_diff, std::abs(h.spots(f, w, iy, ix) - ref[iy * nx + ix]));
            if (ref[iy * nx + ix] == 0.0) ++clipped;
          }
      }
    INFO("max |d spot| " << max_diff << ", clipped pixels " << clipped);
    // Rounding only: the kernel orders the sums differently, gets phi by a recurrence (~1e-14 relative on
    // terms whose coefficients are ~0.03) and multiplies by 1/sum; measured 2e-16 on values below 0.3.
    CHECK(max_diff < 1e-15);
    CHECK(clipped > 0);  // the higher terms make negative wings: clipping is exercised too
  }
}

TEST_CASE("Spots sum to one and are non-negative; centroids follow symmetric traces", "[spots]") {
  auto psf = analytic_psf();
  // Sigma 1 everywhere so the stamp truncation (at >= 5 sigma) cannot bias the centroid measurably.
  const std::vector<std::vector<double>> one(4, std::vector<double>{1.0});
  set_param(psf, "GHSIGX", series(4998.0, 6002.0, one));
  set_param(psf, "GHSIGY", series(4998.0, 6002.0, one));
  // Even Hermite terms keep the spot symmetric about the trace.
  const std::vector<std::vector<double>> even(4, std::vector<double>{0.04, 0.01});
  set_param(psf, "GH-2-0", series(4998.0, 6002.0, even));
  set_param(psf, "GH-0-2", series(4998.0, 6002.0, even));
  set_param(psf, "GH-2-2", series(4998.0, 6002.0, even));
  const auto waves = linspace(5000.0, 6000.0, 101);
  const HostSpots h(perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 4, waves));
  double max_sum_err = 0.0, min_value = 1.0, max_dx = 0.0, max_dy = 0.0;
  for (int f = 0; f < 4; ++f)
    for (int w = 0; w < 101; ++w) {
      max_sum_err = std::max(max_sum_err, std::abs(spot_sum(h, f, w) - 1.0));
      for (int iy = 0; iy < 11; ++iy)
        for (int ix = 0; ix < 17; ++ix) min_value = std::min(min_value, h.spots(f, w, iy, ix));
      const auto [cx, cy] = centroid(h, f, w);
      max_dx = std::max(max_dx, std::abs(cx - h.xcenter(f, w)));
      max_dy = std::max(max_dy, std::abs(cy - h.ycenter(f, w)));
    }
  // 187 terms each rounded once: the sum is 1 to a few 1e-16.
  CHECK(max_sum_err < 1e-13);
  CHECK(min_value >= 0.0);
  // Pixel integration preserves the mean up to aliasing terms ~exp(-2 pi^2 sigma^2) ~ 3e-9; truncation
  // at 5 sigma (y, worst offset) shifts it by ~ 5 * 3e-7. 1e-5 px is far below anything that matters.
  CHECK(max_dx < 1e-5);
  CHECK(max_dy < 1e-5);
}

TEST_CASE("GH-1-0 moves the x centroid by c sigma and GH-0-1 the y centroid: a is the x degree", "[spots]") {
  auto psf = analytic_psf();
  const std::vector<std::vector<double>> one(4, std::vector<double>{1.0});
  set_param(psf, "GHSIGX", series(4998.0, 6002.0, one));
  set_param(psf, "GHSIGY", series(4998.0, 6002.0, one));
  set_param(psf, "GH-0-0", series(4998.0, 6002.0, one));
  const double c = 0.05;
  const std::vector<std::vector<double>> cc(4, std::vector<double>{c});
  set_param(psf, "GH-1-0", series(4998.0, 6002.0, cc));
  const auto waves = linspace(5000.0, 6000.0, 11);
  const HostSpots hx(perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 4, waves));
  set_param(psf, "GH-1-0", series(4998.0, 6002.0, std::vector<std::vector<double>>(4, {0.0})));
  set_param(psf, "GH-0-1", series(4998.0, 6002.0, cc));
  const HostSpots hy(perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 4, waves));
  for (int f = 0; f < 4; ++f)
    for (int w = 0; w < 11; ++w) {
      // (1 + c u) phi(u) has mean c sigma (sigma = 1) and stays positive on the stamp, so no clipping;
      // the residual is aliasing and truncation as in the symmetric test.
      const auto [x1, y1] = centroid(hx, f, w);
      CHECK(x1 - hx.xcenter(f, w) == Catch::Approx(c).margin(1e-5));
      CHECK(y1 - hx.ycenter(f, w) == Catch::Approx(0.0).margin(1e-5));
      const auto [x2, y2] = centroid(hy, f, w);
      CHECK(x2 - hy.xcenter(f, w) == Catch::Approx(0.0).margin(1e-5));
      CHECK(y2 - hy.ycenter(f, w) == Catch::Approx(c).margin(1e-5));
    }
}

TEST_CASE("Tails change spots as specter's model says; spots still sum to one", "[spots]") {
  auto psf = analytic_psf();
  add_tails(psf, 0.01);
  const auto waves = linspace(5000.0, 6000.0, 21);
  const HostSpots plain(perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 4, waves));
  const HostSpots tailed(perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 4, waves, {true}));
  double max_change = 0.0, max_diff = 0.0, max_sum_err = 0.0;
  for (int f = 0; f < 4; ++f)
    for (int w = 0; w < 21; ++w) {
      const auto ref = reference_spot(psf, f, waves[w], true, tailed.xcenter(f, w), tailed.ycenter(f, w));
      for (int iy = 0; iy < 11; ++iy)
        for (int ix = 0; ix < 17; ++ix) {
          max_change = std::max(max_change, std::abs(tailed.spots(f, w, iy, ix) - plain.spots(f, w, iy, ix)));
          max_diff = std::max(max_diff, std::abs(tailed.spots(f, w, iy, ix) - ref[iy * 17 + ix]));
        }
      max_sum_err = std::max(max_sum_err, std::abs(spot_sum(tailed, f, w) - 1.0));
      // The corner pixel is far in the wings: the tail dominates there.
      CHECK(tailed.spots(f, w, 0, 0) > 10 * plain.spots(f, w, 0, 0));
    }
  // Tails of amplitude 0.01 change pixels by ~1e-3; rounding differences with the host formula stay
  // at a few ulp (pow and erf implementations, summation order).
  CHECK(max_change > 1e-4);
  CHECK(max_diff < 1e-15);
  CHECK(max_sum_err < 1e-13);
}

TEST_CASE("Tails requested without tail rows is a data error naming them", "[spots]") {
  const auto psf = analytic_psf();
  try {
    perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 1, {5500.0}, {true});
    FAIL("tails without rows should throw");
  } catch (const perfex::Error& e) {
    CHECK(e.exit_code() == 1);
    CHECK_THAT(e.what(), ContainsSubstring("TAILAMP") && ContainsSubstring("TAILINDE"));
  }
  // Without tails the rows are not needed.
  CHECK_NOTHROW(perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 1, {5500.0}));
}

TEST_CASE("Wavelengths slightly outside the PSF range evaluate to valid spots", "[spots]") {
  const auto psf = analytic_psf();
  // 12 bins of 0.8 A padding on both sides, beyond every domain (the tightest is 5000..6000).
  const std::vector<double> waves = {4990.4, 4995.0, 4999.2, 6000.8, 6005.0, 6009.6};
  const HostSpots h(perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 4, waves));
  for (int f = 0; f < 4; ++f)
    for (int w = 0; w < 6; ++w) {
      CHECK(std::abs(spot_sum(h, f, w) - 1.0) < 1e-13);  // as above: rounding of 187 terms
      // Legendre series extrapolate smoothly: same value as the host evaluation, to a few ulp of ~110 px.
      CHECK(h.xcenter(f, w) == Catch::Approx(psf.xtrace.evaluate(f, waves[w])).margin(1e-12));
      CHECK(h.ycenter(f, w) == Catch::Approx(psf.ytrace.evaluate(f, waves[w])).margin(1e-12));
    }
}

TEST_CASE("Bad requests and degenerate PSFs are refused with the right error kind", "[spots]") {
  auto psf = analytic_psf();
  CHECK_THROWS_AS(perfex::evaluate_spots(perfex::ExecSpace(), psf, 2, 3, {5500.0}), perfex::Error);
  try {
    perfex::evaluate_spots(perfex::ExecSpace(), psf, -1, 2, {5500.0});
    FAIL("negative fiber should throw");
  } catch (const perfex::Error& e) {
    CHECK(e.exit_code() == 2);
  }
  // A sigma that turns negative inside the requested range: a data error naming fiber and wavelength.
  set_param(psf, "GHSIGX", series(4998.0, 6002.0, {{1.0, 0.0}, {1.0, 0.0}, {0.1, 0.2}, {1.0, 0.0}}));
  try {
    perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 4, {5900.0, 5100.0});
    FAIL("negative sigma should throw");
  } catch (const perfex::Error& e) {
    CHECK(e.exit_code() == 1);
    CHECK_THAT(e.what(), ContainsSubstring("fiber 2") && ContainsSubstring("5100"));
  }
  // Empty requests are fine.
  const auto empty = perfex::evaluate_spots(perfex::ExecSpace(), analytic_psf(), 1, 0, {5500.0});
  CHECK(empty.nfiber == 0);
  CHECK(empty.spots.extent(0) == 0);
}

TEST_CASE("PSF parameter grid names every series and matches host Legendre evaluation", "[spots]") {
  auto psf = analytic_psf();
  add_tails(psf, 0.01);
  const auto waves = linspace(4990.0, 6010.0, 15);
  const auto grid = perfex::evaluate_psf_params(perfex::ExecSpace(), psf, 1, 3, waves);
  REQUIRE(grid.names.size() == 4 + 9 + 5);
  CHECK(grid.names[0] == "X");
  CHECK(grid.names[1] == "Y");
  CHECK(grid.names[2] == "GHSIGX");
  CHECK(grid.names[3] == "GHSIGY");
  CHECK(grid.names[4] == "GH-0-0");
  CHECK(grid.names[5] == "GH-0-1");
  CHECK(grid.index("GH-2-2") == 12);
  CHECK(grid.index("TAILINDE") == 17);
  CHECK_THROWS_AS(grid.index("BUNDLE"), perfex::Error);
  REQUIRE(grid.values.extent(0) == 3);
  REQUIRE(grid.values.extent(1) == 15);
  for (int f = 0; f < 3; ++f)
    for (int w = 0; w < 15; ++w) {
      // Rounding-order differences only: relative 1e-13 of values up to ~100.
      CHECK(grid.values(f, w, 0) == Catch::Approx(psf.xtrace.evaluate(f + 1, waves[w])).epsilon(1e-13));
      CHECK(grid.values(f, w, 1) == Catch::Approx(psf.ytrace.evaluate(f + 1, waves[w])).epsilon(1e-13));
      for (std::size_t p = 2; p < grid.names.size(); ++p)
        CHECK(grid.values(f, w, p) ==
              Catch::Approx(psf.param(grid.names[p]).evaluate(f + 1, waves[w])).epsilon(1e-13).margin(1e-15));
    }
}

TEST_CASE("Synthetic PSF: DESI geometry; valid; every trace on the CCD over the camera grid", "[spots][synthetic]") {
  for (const std::string camera : {"b0", "r0", "z3"}) {
    INFO("camera " << camera);
    perfex::SyntheticPsfOptions options;
    options.camera = camera;
    options.seed = 7;
    const auto psf = perfex::make_synthetic_psf(options);
    CHECK_NOTHROW(psf.validate("synthetic"));
    CHECK(psf.nfiber == 500);
    CHECK(psf.camera == camera);
    CHECK(psf.npix_x == 4114);
    CHECK(psf.npix_y == 4128);
    CHECK(psf.stamp_nx() == 17);
    CHECK(psf.stamp_ny() == 11);
    CHECK(psf.ghdegx == 6);
    CHECK(psf.ghdegy == 6);
    CHECK(psf.default_psferr() == (camera[0] == 'b' ? 0.04 : 0.01));
    for (const char* row : {"BUNDLE", "STATUS", "CONT", "TAILAMP"}) CHECK(psf.has_param(row));
    const auto grid = perfex::desi_camera_grid(camera);
    // 12 bins of padding each side, as the extraction uses; the PSF domain covers all of it.
    const double lo = grid.wavemin - 12 * grid.dwave, hi = grid.wavemax + 12 * grid.dwave;
    CHECK(psf.wavemin() <= lo);
    CHECK(psf.wavemax() >= hi);
    const auto waves = linspace(lo, hi, 41);
    const auto params = perfex::evaluate_psf_params(perfex::ExecSpace(), psf, 0, 500, waves);
    double min_sig = 10, max_sig = 0, min_gh00 = 10, max_gh00 = 0, max_gh = 0;
    for (int f = 0; f < 500; ++f)
      for (int w = 0; w < 41; ++w) {
        const double x = params.values(f, w, 0), y = params.values(f, w, 1);
        // Whole stamps on the CCD.
        CHECK((x - psf.hsizex - 0.5 >= 0 && x + psf.hsizex + 0.5 <= psf.npix_x - 1));
        CHECK((y - psf.hsizey - 0.5 >= 0 && y + psf.hsizey + 0.5 <= psf.npix_y - 1));
        for (int p = 2; p < 4; ++p) {
          min_sig = std::min(min_sig, params.values(f, w, p));
          max_sig = std::max(max_sig, params.values(f, w, p));
        }
        min_gh00 = std::min(min_gh00, params.values(f, w, 4));
        max_gh00 = std::max(max_gh00, params.values(f, w, 4));
        for (int p = 5; p < 4 + 49; ++p) max_gh = std::max(max_gh, std::abs(params.values(f, w, p)));
        if (w > 0) CHECK(y > params.values(f, w - 1, 1));        // y grows with wavelength
        if (f > 0) CHECK(x > params.values(f - 1, w, 0) + 5.0);  // fibers in order, never overlapping
      }
    CHECK(min_sig >= 1.0);
    CHECK(max_sig <= 1.3);
    CHECK(min_gh00 >= 0.9);
    CHECK(max_gh00 <= 1.1);
    CHECK(max_gh < 0.05);
    // Fibers at mid wavelength: 120 .. 3945 px, about 7.4 px apart in a bundle, twice that between bundles.
    const double mid = 0.5 * (lo + hi);
    CHECK(psf.xtrace.evaluate(0, mid) == Catch::Approx(120.0).margin(2.0));
    CHECK(psf.xtrace.evaluate(499, mid) == Catch::Approx(3945.0).margin(2.0));
    CHECK(psf.xtrace.evaluate(13, mid) - psf.xtrace.evaluate(12, mid) == Catch::Approx(7.4).margin(0.5));
    CHECK(psf.xtrace.evaluate(25, mid) - psf.xtrace.evaluate(24, mid) > 10.0);
  }
}

TEST_CASE("Synthetic PSF is reproducible from its seed and tails are opt-in", "[spots][synthetic]") {
  perfex::SyntheticPsfOptions options;
  options.seed = 42;
  const auto a = perfex::make_synthetic_psf(options);
  const auto b = perfex::make_synthetic_psf(options);
  options.seed = 43;
  const auto c = perfex::make_synthetic_psf(options);
  CHECK(a.xtrace.coeff == b.xtrace.coeff);
  CHECK(a.ytrace.coeff == b.ytrace.coeff);
  REQUIRE(a.params.size() == b.params.size());
  for (std::size_t i = 0; i < a.params.size(); ++i) {
    CHECK(a.params[i].name == b.params[i].name);
    CHECK(a.params[i].series.coeff == b.params[i].series.coeff);
  }
  CHECK(a.xtrace.coeff != c.xtrace.coeff);
  CHECK(a.param("GH-3-2").coeff != c.param("GH-3-2").coeff);
  CHECK(a.param("GH-0-0").at(0, 0) == 1.0);
  CHECK(a.param("TAILAMP").at(17, 0) == 0.0);
  // Pin a few drawn values so that a change of generator or transform (which would silently change every
  // synthetic input) is noticed. The draws are exact on every platform; 1e-14 relative allows a compiler to
  // contract the arithmetic on them differently.
  CHECK(a.param("GH-3-2").at(0, 0) == Catch::Approx(0.0038680913523078762).epsilon(1e-14));
  CHECK(a.xtrace.at(123, 0) == Catch::Approx(1058.070245948943).epsilon(1e-14));

  options.tails = true;
  const auto t = perfex::make_synthetic_psf(options);
  const auto params = perfex::evaluate_psf_params(perfex::ExecSpace(), t, 0, 500, linspace(5600.0, 7800.0, 23));
  const int amp = params.index("TAILAMP");
  for (int f = 0; f < 500; f += 7)
    for (int w = 0; w < 23; ++w) {
      CHECK(params.values(f, w, amp) >= 0.003);
      CHECK(params.values(f, w, amp) <= 0.01);
    }
  CHECK_THROWS_AS(perfex::desi_camera_grid("x1"), perfex::Error);
  CHECK(perfex::desi_camera_grid("r").size() == 2326);
}

TEST_CASE("Synthetic PSF spots: unit sum everywhere; tails change them; chunked evaluation is seamless",
          "[spots][synthetic]") {
  perfex::SyntheticPsfOptions options;
  options.camera = "b1";
  options.seed = 3;
  options.tails = true;
  const auto psf = perfex::make_synthetic_psf(options);
  const auto grid = perfex::desi_camera_grid("b1");
  // 40 fibers x 400 wavelengths x 53 parameters exceed the evaluator's parameter chunk (512 Ki doubles, 24
  // fibers here): fibers 0..23 and 24..39 go through separately, fibers 20..39 in one piece below.
  const auto waves = linspace(grid.wavemin - 9.6, grid.wavemax + 9.6, 400);
  const int nfiber = 40, nwave = 400, f0 = 20, nf = 20;
  const HostSpots all(perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, nfiber, waves));
  const HostSpots part(perfex::evaluate_spots(perfex::ExecSpace(), psf, f0, nf, waves));
  const HostSpots tail(perfex::evaluate_spots(perfex::ExecSpace(), psf, f0, nf, waves, {true}));
  double max_sum_err = 0.0, min_value = 1.0, max_tail_change = 0.0;
  bool same = true;
  for (int f = 0; f < nfiber; ++f)
    for (int w = 0; w < nwave; ++w) {
      max_sum_err = std::max(max_sum_err, std::abs(spot_sum(all, f, w) - 1.0));
      for (int iy = 0; iy < 11; ++iy)
        for (int ix = 0; ix < 17; ++ix) {
          min_value = std::min(min_value, all.spots(f, w, iy, ix));
          if (f >= f0) {
            same = same && all.spots(f, w, iy, ix) == part.spots(f - f0, w, iy, ix);
            max_tail_change =
                std::max(max_tail_change, std::abs(tail.spots(f - f0, w, iy, ix) - part.spots(f - f0, w, iy, ix)));
          }
        }
      if (f >= f0)
        same = same && all.xcorner(f, w) == part.xcorner(f - f0, w) && all.ycorner(f, w) == part.ycorner(f - f0, w);
    }
  CHECK(max_sum_err < 1e-13);  // rounding of 187 terms
  CHECK(min_value >= 0.0);
  CHECK(same);  // the same arithmetic whichever chunk a fiber falls in: bitwise equal
  CHECK(max_tail_change > 1e-4);
}

TEST_CASE("Evaluating into an existing cache reuses fitting views and gives the same spots", "[spots]") {
  perfex::SyntheticPsfOptions options;
  options.seed = 11;
  const auto psf = perfex::make_synthetic_psf(options);
  const auto waves = linspace(6000.0, 6100.0, 50);
  perfex::SpotCache cache;
  perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 5, waves, cache);
  const double* const data = cache.spots.data();
  perfex::evaluate_spots(perfex::ExecSpace(), psf, 5, 5, waves, cache);
  CHECK(cache.spots.data() == data);  // same shape: overwritten in place
  CHECK(cache.fiber_begin == 5);
  const HostSpots reused(cache);
  const HostSpots fresh(perfex::evaluate_spots(perfex::ExecSpace(), psf, 5, 5, waves));
  bool same = true;
  for (int f = 0; f < 5; ++f)
    for (int w = 0; w < 50; ++w) {
      same = same && reused.xcorner(f, w) == fresh.xcorner(f, w) && reused.ycorner(f, w) == fresh.ycorner(f, w);
      for (int iy = 0; iy < 11; ++iy)
        for (int ix = 0; ix < 17; ++ix) same = same && reused.spots(f, w, iy, ix) == fresh.spots(f, w, iy, ix);
    }
  CHECK(same);  // identical arithmetic: bitwise equal
  // A different shape gets new views of that shape.
  perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 3, {6000.0, 6050.0}, cache);
  CHECK(cache.spots.extent(0) == 3);
  CHECK(cache.spots.extent(1) == 2);
  CHECK(cache.nwave == 2);
  CHECK(cache.wavelengths.extent(0) == 2);
}
