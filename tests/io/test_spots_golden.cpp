// Golden test of PSF evaluation: traces, sigmas, Gauss-Hermite coefficients, corners and spots of the real
// PSF psf-r0-00051060 against gpu_specter's values in golden/r0-51060-bundle0/psf-spots.fits, plus sanity
// checks of every fiber of the second real PSF.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "perfex/core/psf.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/types.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/psf_io.hpp"
#include "test_support.hpp"

using perfex::io::FitsFile;

namespace {

// Arrays of psf-spots.fits, row-major as numpy writes them.
struct GoldenSpots {
  std::vector<std::int32_t> fibers;            // [nf]
  std::vector<double> waves;                   // [nw]
  std::vector<double> x, y, ghsigx, ghsigy;    // [nf, nw]
  std::vector<std::int32_t> xcorner, ycorner;  // [nf, nw]
  std::vector<double> gh;                      // [nf, nw, ghdegx + 1, ghdegy + 1], GH-i-j with i the x degree
  std::vector<double> spots;                   // [nf, nw, ny, nx]
  std::vector<long> gh_shape, spot_shape;
};

GoldenSpots read_golden(const std::string& path) {
  FitsFile f(path, FitsFile::Mode::Read);
  GoldenSpots g;
  f.move_to("FIBERS");
  g.fibers = f.read_image_int32();
  f.move_to("WAVE");
  g.waves = f.read_image_double();
  auto image = [&](const char* name) {
    f.move_to(name);
    REQUIRE(f.image_shape() ==
            std::vector<long>{static_cast<long>(g.fibers.size()), static_cast<long>(g.waves.size())});
    return f.read_image_double();
  };
  g.x = image("X");
  g.y = image("Y");
  g.ghsigx = image("GHSIGX");
  g.ghsigy = image("GHSIGY");
  f.move_to("XCORNER");
  g.xcorner = f.read_image_int32();
  f.move_to("YCORNER");
  g.ycorner = f.read_image_int32();
  f.move_to("GH");
  g.gh_shape = f.image_shape();
  g.gh = f.read_image_double();
  f.move_to("SPOTS_GPU");
  g.spot_shape = f.image_shape();
  g.spots = f.read_image_double();
  return g;
}

}  // namespace

TEST_CASE("Spots of the real PSF match gpu_specter's golden values", "[spots][golden][shared]") {
  PERFEX_REQUIRE_SHARED(psf_path, "data/psf-r0-00051060.fits");
  PERFEX_REQUIRE_SHARED(golden_path, "golden/r0-51060-bundle0/psf-spots.fits");
  const auto psf = perfex::io::read_psf(psf_path.string());
  const auto g = read_golden(golden_path.string());
  const int nf = static_cast<int>(g.fibers.size()), nw = static_cast<int>(g.waves.size());
  REQUIRE(nf == 5);
  REQUIRE(nw == 6);
  REQUIRE(g.gh_shape == std::vector<long>{nf, nw, psf.ghdegx + 1, psf.ghdegy + 1});
  REQUIRE(g.spot_shape == std::vector<long>{nf, nw, psf.stamp_ny(), psf.stamp_nx()});
  const int ny = psf.stamp_ny(), nx = psf.stamp_nx();

  const perfex::ExecSpace exec;
  double max_dtrace = 0, max_dsigma = 0, max_dgh = 0, max_dspot = 0;
  for (int i = 0; i < nf; ++i) {
    const int fiber = g.fibers[static_cast<std::size_t>(i)];
    INFO("fiber " << fiber);
    const auto cache = perfex::evaluate_spots(exec, psf, fiber, 1, g.waves);
    const auto params = perfex::evaluate_psf_params(exec, psf, fiber, 1, g.waves);
    auto spots = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.spots);
    auto xcorner = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.xcorner);
    auto ycorner = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.ycorner);
    auto xcenter = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.xcenter);
    auto ycenter = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.ycenter);
    REQUIRE(cache.stamp_ny == ny);
    REQUIRE(cache.stamp_nx == nx);
    const int ix_param = params.index("X"), iy_param = params.index("Y");
    const int isx = params.index("GHSIGX"), isy = params.index("GHSIGY");
    for (int w = 0; w < nw; ++w) {
      INFO("wavelength " << g.waves[static_cast<std::size_t>(w)]);
      const std::size_t k = static_cast<std::size_t>(i) * nw + w;
      // Traces (~100..4000 pixels): Legendre sums of 7 terms agree to a few ulp of the largest term.
      max_dtrace = std::max({max_dtrace, std::fabs(xcenter(0, w) - g.x[k]), std::fabs(ycenter(0, w) - g.y[k]),
                             std::fabs(params.values(0, w, ix_param) - g.x[k]),
                             std::fabs(params.values(0, w, iy_param) - g.y[k])});
      max_dsigma = std::max({max_dsigma, std::fabs(params.values(0, w, isx) - g.ghsigx[k]),
                             std::fabs(params.values(0, w, isy) - g.ghsigy[k])});
      CHECK(xcorner(0, w) == g.xcorner[k]);
      CHECK(ycorner(0, w) == g.ycorner[k]);
      for (int a = 0; a <= psf.ghdegx; ++a)
        for (int b = 0; b <= psf.ghdegy; ++b) {
          const double expected = g.gh[(k * (psf.ghdegx + 1) + a) * (psf.ghdegy + 1) + b];
          max_dgh =
              std::max(max_dgh, std::fabs(params.values(0, w, params.index(perfex::gh_param_name(a, b))) - expected));
        }
      for (int iy = 0; iy < ny; ++iy)
        for (int ix = 0; ix < nx; ++ix) {
          const double expected = g.spots[(k * ny + iy) * nx + ix];
          max_dspot = std::max(max_dspot, std::fabs(spots(0, w, iy, ix) - expected));
        }
    }
  }
  INFO("max |d trace| " << max_dtrace << " px, |d sigma| " << max_dsigma << ", |d GH| " << max_dgh << ", |d spot| "
                        << max_dspot);
  // Tolerances: traces 1e-11 px (~10 ulp of 4000 px: Legendre sums evaluated in another order; measured 5e-13);
  // sigmas and GH coefficients (order 1) 1e-12; spots 1e-12 absolute (the references agree to 1e-15).
  CHECK(max_dtrace < 1e-11);
  CHECK(max_dsigma < 1e-12);
  CHECK(max_dgh < 1e-12);
  CHECK(max_dspot < 1e-12);
}

TEST_CASE("Every fiber of the second real PSF gives unit-sum spots with corners near the CCD", "[spots][shared]") {
  PERFEX_REQUIRE_SHARED(psf_path, "data/psf-r0-00067784.fits");
  const auto psf = perfex::io::read_psf(psf_path.string());
  const std::vector<double> waves = {5543.0, 5700.0, 6250.5, 6800.0, 7400.0, 7826.0};
  const perfex::ExecSpace exec;
  const auto cache = perfex::evaluate_spots(exec, psf, 0, psf.nfiber, waves);
  REQUIRE(cache.nfiber == psf.nfiber);
  REQUIRE(cache.nwave == static_cast<int>(waves.size()));
  auto spots = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.spots);
  auto xcorner = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.xcorner);
  auto ycorner = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.ycorner);
  auto xcenter = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.xcenter);
  auto ycenter = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.ycenter);
  const int ny = psf.stamp_ny(), nx = psf.stamp_nx();
  int bad_sum = 0, negative = 0, bad_corner = 0;
  double max_dsum = 0;
  for (int f = 0; f < psf.nfiber; ++f)
    for (int w = 0; w < cache.nwave; ++w) {
      double sum = 0;
      for (int iy = 0; iy < ny; ++iy)
        for (int ix = 0; ix < nx; ++ix) {
          const double v = spots(f, w, iy, ix);
          if (!(v >= 0.0)) ++negative;  // also catches NaN
          sum += v;
        }
      max_dsum = std::max(max_dsum, std::fabs(sum - 1.0));
      if (!(std::fabs(sum - 1.0) < 1e-12)) ++bad_sum;
      // Corners: the stamp's lower-left pixel from the trace, near the CCD: within a stamp in x, and in y within
      // 300 rows (the domain ends 5543 and 7826 A lie up to ~150 rows, 65 A, beyond the CCD's first and last row).
      const bool finite = std::isfinite(xcenter(f, w)) && std::isfinite(ycenter(f, w));
      const bool consistent = finite &&
                              xcorner(f, w) == static_cast<int>(std::floor(xcenter(f, w) - psf.hsizex + 0.5)) &&
                              ycorner(f, w) == static_cast<int>(std::floor(ycenter(f, w) - psf.hsizey + 0.5));
      const bool near_ccd = xcorner(f, w) >= -nx && xcorner(f, w) <= psf.npix_x && ycorner(f, w) >= -300 &&
                            ycorner(f, w) <= psf.npix_y + 300;
      if (!consistent || !near_ccd) ++bad_corner;
    }
  INFO("max |sum - 1| " << max_dsum);
  CHECK(bad_sum == 0);
  CHECK(negative == 0);
  CHECK(bad_corner == 0);
}
