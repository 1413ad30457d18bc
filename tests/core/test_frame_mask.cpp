// The specmask rules (SOMEBADPIX, ALLBADPIX, BAD2DFIT with its two medians) and the default grid from
// the PSF's CCD coverage, on small hand-made cases.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <limits>

#include "perfex/core/ccd_coverage.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/frame_mask.hpp"
#include "perfex/core/synthetic_psf.hpp"

namespace {

perfex::HostView<double**> filled(int nspec, int nwave, double value) {
  perfex::HostView<double**> v("v", nspec, nwave);
  Kokkos::deep_copy(v, value);
  return v;
}

}  // namespace

TEST_CASE("median_of follows numpy (mean of the two middle values for an even count)", "[core][mask]") {
  const double odd[] = {5, 1, 3};
  CHECK(perfex::median_of(odd, 3) == 3.0);
  const double even[] = {4, 1, 3, 2};
  CHECK(perfex::median_of(even, 4) == 2.5);
  // Strided: every other value of {9, x, 1, x, 5, x}.
  const double strided[] = {9, -1, 1, -1, 5, -1};
  CHECK(perfex::median_of(strided, 3, 2) == 5.0);
  CHECK(perfex::median_of(odd, 0) == 0.0);
}

TEST_CASE("SOMEBADPIX above one half, ALLBADPIX at 1 (to rounding), ivar alone sets nothing", "[core][mask]") {
  auto pixmask = filled(2, 4, 0.0);
  auto chi2 = filled(2, 4, 1.0);
  pixmask(0, 0) = 0.5;          // not above one half
  pixmask(0, 1) = 0.5000001;    // SOMEBADPIX
  pixmask(0, 2) = 1.0;          // both
  pixmask(0, 3) = 1.0 - 2e-16;  // both: 1 up to the rounding of a sum of spot values
  pixmask(1, 0) = 0.999;        // SOMEBADPIX only
  const auto m = perfex::frame_mask(pixmask, chi2);
  using namespace perfex::specmask;
  CHECK(m(0, 0) == 0u);
  CHECK(m(0, 1) == somebadpix);
  CHECK(m(0, 2) == (somebadpix | allbadpix));
  CHECK(m(0, 3) == (somebadpix | allbadpix));
  CHECK(m(1, 0) == somebadpix);
  CHECK(m(1, 1) == 0u);
}

TEST_CASE("BAD2DFIT needs chi2pix above 5x both medians (fibers at that wavelength, wavelengths of that fiber)",
          "[core][mask]") {
  // 5 fibers x 7 wavelengths of chi2pix 1.
  auto pixmask = filled(5, 7, 0.0);
  auto chi2 = filled(5, 7, 1.0);
  chi2(2, 3) = 5.5;  // above 5 x 1 for both medians
  chi2(0, 0) = 5.0;  // not strictly above
  // Fiber 4 is bad everywhere: its own median is 20, so 50 at (4, 5) is not above 5 x 20, though it is
  // above 5x the median over fibers at that wavelength (1).
  for (int j = 0; j < 7; ++j) chi2(4, j) = 20.0;
  chi2(4, 5) = 50.0;
  // Wavelength 6 is bad for three of five fibers: the median over fibers there is 30, so 60 at (1, 6)
  // passes the fiber median (1) but not the wavelength median.
  chi2(0, 6) = 30.0;
  chi2(1, 6) = 60.0;
  chi2(3, 6) = 30.0;
  const auto m = perfex::frame_mask(pixmask, chi2);
  using perfex::specmask::bad2dfit;
  CHECK(m(2, 3) == bad2dfit);
  CHECK(m(0, 0) == 0u);
  CHECK(m(4, 5) == 0u);
  CHECK(m(1, 6) == 0u);
  int flagged = 0;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 7; ++j) flagged += m(i, j) != 0;
  CHECK(flagged == 1);
}

TEST_CASE("BAD2DFIT medians include bins without data (chi2pix 0)", "[core][mask]") {
  // Three of four fibers have no data (chi2pix 0) at every wavelength: both medians of fiber 0's bins are
  // low, so any chi2pix of fiber 0 above 5 x its own median is flagged.
  auto pixmask = filled(4, 5, 0.0);
  auto chi2 = filled(4, 5, 0.0);
  for (int j = 0; j < 5; ++j) chi2(0, j) = 1.0;
  chi2(0, 2) = 6.0;
  const auto m = perfex::frame_mask(pixmask, chi2);
  CHECK(m(0, 2) == perfex::specmask::bad2dfit);
  CHECK(m(0, 1) == 0u);  // 1 is not above 5 x fiber 0's median (1)
  CHECK(m(1, 2) == 0u);
}

TEST_CASE("frame_mask refuses arrays of different shapes", "[core][mask]") {
  auto pixmask = filled(2, 3, 0.0);
  auto chi2 = filled(3, 2, 0.0);
  CHECK_THROWS_AS(perfex::frame_mask(pixmask, chi2), perfex::Error);
}

TEST_CASE("The default grid lies where every fiber's trace is on the CCD, on multiples of 0.8 A", "[core][grid]") {
  perfex::SyntheticPsfOptions o;
  o.camera = "r0";
  o.seed = 3;
  const auto psf = perfex::make_synthetic_psf(o);
  const auto cover = perfex::common_ccd_coverage(psf, 0, psf.nfiber);
  REQUIRE(cover);
  const auto grid = perfex::default_wavelength_grid(psf);
  REQUIRE(grid.size() > 2000);
  CHECK(grid.front() >= cover->first);
  CHECK(grid.back() <= cover->second);
  CHECK(grid.front() - 0.8 < cover->first);  // the first multiple of 0.8 inside
  CHECK(grid.back() + 0.8 > cover->second);
  CHECK(std::fabs(grid.front() / 0.8 - std::round(grid.front() / 0.8)) < 1e-9);
  for (int f : {0, 250, 499}) {
    const double y0 = psf.ytrace.evaluate(f, grid.front()), y1 = psf.ytrace.evaluate(f, grid.back());
    CHECK(y0 >= 0.0);
    CHECK(y1 <= psf.npix_y - 1.0);
  }
  // Moving the traces 300 rows down shortens the shared range at the blue end only.
  auto shifted = psf;
  for (int f = 0; f < shifted.nfiber; ++f) shifted.ytrace.coeff[f * shifted.ytrace.ncoef] -= 300.0;
  const auto c2 = perfex::common_ccd_coverage(shifted, 0, shifted.nfiber);
  REQUIRE(c2);
  CHECK(c2->first > cover->first + 50.0);
  // Traces entirely off the CCD share nothing.
  for (int f = 0; f < shifted.nfiber; ++f) shifted.ytrace.coeff[f * shifted.ytrace.ncoef] -= 1e5;
  CHECK_FALSE(perfex::common_ccd_coverage(shifted, 0, shifted.nfiber));
  CHECK_THROWS_AS(perfex::default_wavelength_grid(shifted), perfex::Error);
}
