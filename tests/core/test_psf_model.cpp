// Tests of the host-side PSF model: Legendre series, parameter lookup and validation messages.
#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "perfex/core/error.hpp"
#include "perfex/core/psf.hpp"

using Catch::Matchers::ContainsSubstring;

TEST_CASE("Legendre series match closed-form polynomials, also outside [-1, 1]", "[psf]") {
  perfex::LegendreSeries s;
  s.wavemin = 5000.0;
  s.wavemax = 7000.0;
  s.nfiber = 2;
  s.ncoef = 4;
  s.coeff = {1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 1.0};
  for (double lambda : {4900.0, 5000.0, 5731.5, 6000.0, 7000.0, 7100.0}) {
    const double w = 2.0 * (lambda - 5000.0) / 2000.0 - 1.0;
    const double p2 = 0.5 * (3 * w * w - 1), p3 = 0.5 * (5 * w * w * w - 3 * w);
    CHECK(s.evaluate(0, lambda) == Catch::Approx(1 + 2 * w + 3 * p2 + 4 * p3).epsilon(1e-14));
    CHECK(s.evaluate(1, lambda) == Catch::Approx(p3).epsilon(1e-14).margin(1e-15));
  }
}

TEST_CASE("PSF validation names what is missing", "[psf]") {
  perfex::GaussHermitePsf psf;
  psf.nfiber = 1;
  psf.npix_x = 100;
  psf.npix_y = 100;
  psf.hsizex = 8;
  psf.hsizey = 5;
  psf.ghdegx = 0;
  psf.ghdegy = 0;
  perfex::LegendreSeries one{5000.0, 7000.0, 1, 1, {1.0}};
  psf.xtrace = one;
  psf.ytrace = one;
  psf.params = {{"GHSIGX", one}, {"GHSIGY", one}};
  try {
    psf.validate("psf.fits");
    FAIL("validation should fail");
  } catch (const perfex::Error& e) {
    CHECK(e.exit_code() == 1);
    CHECK_THAT(e.what(), ContainsSubstring("psf.fits") && ContainsSubstring("GH-0-0"));
  }
  psf.params.push_back({"GH-0-0", one});
  CHECK_NOTHROW(psf.validate("psf.fits"));
  CHECK(psf.default_psferr() == 0.01);
  psf.psferr_keyword = 0.04;
  CHECK(psf.default_psferr() == 0.04);
  psf.hsizex = 0;
  CHECK_THROWS_WITH(psf.validate("psf.fits"), ContainsSubstring("HSIZEX"));
}
