// perfex extract with specter's older PSF layouts (GAUSS-HERMITE PSFVER 2, GAUSS-HERMITE2) on the golden
// images of ../shared/golden/specter-psf-formats, embedded in a full-CCD preproc that holds only IMAGE, IVAR
// and MASK (no CAMERA, no FIBERMAP): within 0.01 sigma of specter's ex2d with the same arguments, and
// unbiased against the true spectra.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "golden/golden_support.hpp"
#include "perfex/drivers/extract_command.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/frame_io.hpp"
#include "perfex/io/preproc_io.hpp"
#include "test_support.hpp"

namespace {

using perfex::test::GoldenArray;
using perfex::test::read_golden;

struct LayoutCase {
  std::string name;        // gausshermite, gausshermite2
  std::string wavelength;  // -w, the README's grid
};

struct Comparison {
  double p99 = 0, pmax = 0, mean = 0, sd = 0;
  int zero_ivar = 0, bins = 0, truth_bins = 0;
};

// Writes the preproc (IMAGE, IVAR, MASK only), runs `perfex extract` with the README's ex2d arguments
// (bundlesize 10, 2 subbundles, nwavestep 50, --psf-tails since specter always adds the tails, --float64) and
// compares with specter's NOISY_* arrays and with the truth.
Comparison run_case(const std::filesystem::path& dir, const LayoutCase& c, const perfex::test::TempDir& tmp,
                    const std::string& nwavestep = "") {
  const std::string golden = (dir / ("extract-" + c.name + ".fits")).string();
  perfex::io::FitsFile g(golden, perfex::io::FitsFile::Mode::Read);
  g.move_to("IMAGE");
  const int y0 = static_cast<int>(g.require_key_int("CUT_Y0")), x0 = static_cast<int>(g.require_key_int("CUT_X0"));
  const int npix_y = static_cast<int>(g.require_key_int("NPIX_Y")),
            npix_x = static_cast<int>(g.require_key_int("NPIX_X"));
  const GoldenArray image = read_golden(g, "IMAGE"), ivar = read_golden(g, "IVAR");
  const std::string preproc = (tmp / ("preproc-" + c.name + ".fits")).string();
  if (!std::filesystem::exists(preproc)) {
    perfex::io::PreprocImage p;
    p.npix_y = npix_y;
    p.npix_x = npix_x;
    p.image = perfex::HostView<double**>("image", npix_y, npix_x);
    p.ivar = perfex::HostView<double**>("ivar", npix_y, npix_x);
    p.mask = perfex::HostView<std::int32_t**>("mask", npix_y, npix_x);
    p.has_mask = true;
    Kokkos::deep_copy(p.mask, 1);  // BAD outside the cutout, where IVAR is 0
    for (long y = 0; y < image.shape[0]; ++y)
      for (long x = 0; x < image.shape[1]; ++x) {
        p.image(y0 + y, x0 + x) = image.at(y, x);
        p.ivar(y0 + y, x0 + x) = ivar.at(y, x);
        p.mask(y0 + y, x0 + x) = 0;
      }
    perfex::io::write_preproc(preproc, p, {});
    // Only IMAGE, IVAR and MASK: no CAMERA keyword, no FIBERMAP.
    perfex::io::FitsFile check(preproc, perfex::io::FitsFile::Mode::Read);
    REQUIRE(check.hdu_count() == 3);
    REQUIRE_FALSE(check.read_key_string("CAMERA").has_value());
    REQUIRE_FALSE(check.has_hdu("FIBERMAP"));
  }
  perfex::drivers::ExtractArgs a;
  a.input = preproc;
  a.psf = (dir / ("psf-" + c.name + ".fits")).string();
  a.output = (tmp / ("frame-" + c.name + nwavestep + ".fits")).string();
  a.wavelength = c.wavelength;
  a.nspec = 10;
  a.options.bundlesize = 10;
  a.options.nsubbundles = 2;
  if (!nwavestep.empty()) a.options.nwavestep = std::stoi(nwavestep);
  a.psf_tails = true;
  a.float64 = true;
  a.overwrite = true;
  REQUIRE(perfex::drivers::run_extract(a) == 0);
  const auto frame = perfex::io::read_frame(a.output, true);
  REQUIRE(frame.exact);
  const auto& r = frame.data;

  const GoldenArray sflux = read_golden(g, "NOISY_FLUX"), sivar = read_golden(g, "NOISY_IVAR");
  const GoldenArray grid = read_golden(g, "WAVELENGTH"), wave = read_golden(g, "WAVE"), phot = read_golden(g, "PHOT");
  // specter's grid is 6500.0 + 0.8 k (7600.0 + 2.5 k); -w builds numpy.arange's, within 1e-10 A of it.
  REQUIRE(r.nwave == static_cast<int>(grid.data.size()));
  for (int j = 0; j < r.nwave; ++j) REQUIRE(std::fabs(r.wavelengths[static_cast<std::size_t>(j)] - grid(j)) < 1e-9);
  REQUIRE(sflux.shape == std::vector<long>{10, r.nwave});
  Comparison out;
  std::vector<double> pulls;
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < r.nwave; ++j) {
      out.zero_ivar += !(r.ivar(i, j) > 0.0);
      pulls.push_back(std::fabs(r.flux(i, j) - sflux.at(i, j)) / std::sqrt(1.0 / sivar.at(i, j) + 1.0 / r.ivar(i, j)));
    }
  out.bins = static_cast<int>(pulls.size());
  std::sort(pulls.begin(), pulls.end());
  out.p99 = pulls[static_cast<std::size_t>(0.99 * (pulls.size() - 1))];
  out.pmax = pulls.back();

  // Truth pulls (FLUX - R TRUEFLUX) sqrt(IVAR), TRUEFLUX = PHOT / WAVESTEP on the grid (WAVE[16:166]), R the
  // extraction's own resolution; bins within NDIAG of the ends, where R TRUEFLUX is incomplete, are left out.
  const double dw = grid(1) - grid(0);
  const int offset = 16;
  REQUIRE(std::fabs(wave(offset) - grid(0)) < 1e-9);
  double sum = 0, sum2 = 0;
  for (int i = 0; i < 10; ++i)
    for (int k = r.ndiag; k < r.nwave - r.ndiag; ++k) {
      double rt = 0;
      for (int d = 0; d <= 2 * r.ndiag; ++d) {
        const int j = k - d + r.ndiag;
        rt += r.resolution(i, d, j) * phot.at(i, offset + j) / dw;
      }
      const double pull = (r.flux(i, k) - rt) * std::sqrt(r.ivar(i, k));
      sum += pull;
      sum2 += pull * pull;
      ++out.truth_bins;
    }
  out.mean = sum / out.truth_bins;
  out.sd = std::sqrt(sum2 / out.truth_bins - out.mean * out.mean);
  return out;
}

void check_case(const Comparison& c) {
  INFO("pulls against specter over " << c.bins << " bins: 99% " << c.p99 << ", max " << c.pmax << "; truth pulls over "
                                     << c.truth_bins << " bins: mean " << c.mean << ", std " << c.sd);
  CHECK(c.bins == 1500);
  CHECK(c.zero_ivar == 0);
  CHECK(c.p99 < 0.01);
  CHECK(c.pmax < 0.05);
  CHECK(std::fabs(c.mean) < 0.03);
  CHECK(std::fabs(c.sd - 1.0) < 0.03);
}

}  // namespace

TEST_CASE("perfex extract with specter's GAUSS-HERMITE PSFVER 2 PSF matches specter's ex2d",
          "[drivers][golden][psf-layouts]") {
  PERFEX_REQUIRE_SHARED(dir, "golden/specter-psf-formats");
  perfex::test::TempDir tmp;
  check_case(run_case(dir, {"gausshermite", "6500.0,6619.2,0.8"}, tmp));
}

TEST_CASE("perfex extract with specter's GAUSS-HERMITE2 PSF matches specter's ex2d", "[drivers][golden][psf-layouts]") {
  PERFEX_REQUIRE_SHARED(dir, "golden/specter-psf-formats");
  perfex::test::TempDir tmp;
  check_case(run_case(dir, {"gausshermite2", "7600.0,7972.5,2.5"}, tmp));
}
