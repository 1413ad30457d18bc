// perfex extract end to end on the golden case embedded in a full-size preproc file (zeros and IVAR 0
// outside the cutout): the frame file against gpu_specter's outputs, its float32 HDUs, mask, header and
// fibermap; the barycentric correction from header keywords.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include "golden/golden_support.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/frame_mask.hpp"
#include "perfex/drivers/barycentric.hpp"
#include "perfex/drivers/extract_command.hpp"
#include "perfex/drivers/frame_compare.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/frame_io.hpp"
#include "perfex/io/preproc_io.hpp"
#include "test_support.hpp"

namespace {

using perfex::test::check_against_gpu_specter;
using perfex::test::GoldenArray;
using perfex::test::read_golden;

// The golden pointing keywords written into the embedded preproc (for --barycentric-correction).
constexpr double k_ra = 150.1, k_dec = 2.2, k_mjd = 59000.25, k_exptime = 1000.0;

// The preproc file, written once per test run into a temporary directory.
struct GoldenFrameCase {
  perfex::test::TempDir dir;
  std::string preproc;
  std::string psf;
  std::string frame;  // perfex extract --float64 output
};

const GoldenFrameCase& golden_frame_case(const std::filesystem::path& golden, const std::filesystem::path& psf) {
  static std::unique_ptr<GoldenFrameCase> c;
  if (c) return *c;
  auto g = std::make_unique<GoldenFrameCase>();
  g->psf = psf.string();
  g->preproc = (g->dir / "preproc-r0-00051060.fits").string();
  {
    const auto cut = perfex::io::read_preproc((golden / "input.fits").string());
    perfex::io::FitsFile in((golden / "input.fits").string(), perfex::io::FitsFile::Mode::Read);
    in.move_to("IMAGE");
    const int y0 = static_cast<int>(in.require_key_int("CUT_Y0")), x0 = static_cast<int>(in.require_key_int("CUT_X0"));
    const int ny = static_cast<int>(in.require_key_int("NPIX_Y")), nx = static_cast<int>(in.require_key_int("NPIX_X"));
    perfex::io::PreprocImage full;
    full.npix_y = ny;
    full.npix_x = nx;
    full.image = perfex::HostView<double**>("image", ny, nx);
    full.ivar = perfex::HostView<double**>("ivar", ny, nx);
    full.mask = perfex::HostView<std::int32_t**>("mask", ny, nx);
    for (int y = 0; y < cut.npix_y; ++y)
      for (int x = 0; x < cut.npix_x; ++x) {
        full.image(y0 + y, x0 + x) = cut.image(y, x);
        full.ivar(y0 + y, x0 + x) = cut.ivar(y, x);  // already 0 where MASK != 0
        full.mask(y0 + y, x0 + x) = cut.mask(y, x);
      }
    full.header = cut.header;
    full.header.camera = "r0";
    full.header.expid = 51060;
    full.header.night = 20200315;
    full.header.mjd_obs = k_mjd;
    full.header.exptime = k_exptime;
    full.fibermap = cut.fibermap;
    perfex::io::PreprocWriteOptions wo;
    wo.keywords.push_back({"TARGTRA", k_ra, "target RA [deg]"});
    wo.keywords.push_back({"TARGTDEC", k_dec, "target Dec [deg]"});
    perfex::io::write_preproc(g->preproc, full, wo);
  }
  perfex::drivers::ExtractArgs a;
  a.input = g->preproc;
  a.psf = g->psf;
  a.output = g->frame = (g->dir / "frame-r0-00051060.fits").string();
  a.wavelength = "6500,6660,0.8";
  a.nspec = 25;
  a.float64 = true;
  REQUIRE(perfex::drivers::run_extract(a) == 0);
  c = std::move(g);
  return *c;
}

perfex::drivers::ExtractArgs golden_args(const GoldenFrameCase& g, const std::string& output) {
  perfex::drivers::ExtractArgs a;
  a.input = g.preproc;
  a.psf = g.psf;
  a.output = (g.dir / output).string();
  a.wavelength = "6500,6660,0.8";
  a.nspec = 25;
  return a;
}

}  // namespace

TEST_CASE("perfex extract on the golden case embedded in a full frame meets the float64 bounds",
          "[drivers][golden][extract]") {
  PERFEX_REQUIRE_SHARED(golden, "golden/r0-51060-bundle0");
  PERFEX_REQUIRE_SHARED(psf, "data/psf-r0-00051060.fits");
  const auto& g = golden_frame_case(golden, psf);
  const auto frame = perfex::io::read_frame(g.frame, true);
  REQUIRE(frame.exact);
  REQUIRE(frame.has_pixmask_fraction);
  const auto& r = frame.data;
  {  // -w 6500,6660,0.8 gives the reference's grid to the bit
    perfex::io::FitsFile f((golden / "expected-gpu_specter.fits").string(), perfex::io::FitsFile::Mode::Read);
    REQUIRE(r.wavelengths == read_golden(f, "WAVELENGTH").data);
  }
  // The extraction core's bounds (golden README): the frame pipeline must not lose anything.
  check_against_gpu_specter(r, (golden / "expected-gpu_specter.fits").string());

  // MASK is the specmask of PIXMASK_FRACTION and CHI2PIX; the golden case has four bins above one half.
  const auto expect = perfex::frame_mask(r.pixmask_fraction, r.chi2pix);
  int somebad = 0;
  for (int i = 0; i < r.nspec; ++i)
    for (int j = 0; j < r.nwave; ++j) {
      CHECK(frame.mask(i, j) == expect(i, j));
      somebad += (frame.mask(i, j) & perfex::specmask::somebadpix) != 0;
    }
  CHECK(somebad == 4);
}

TEST_CASE("perfex extract on the golden case: float32 HDUs, header and fibermap", "[drivers][golden][extract]") {
  PERFEX_REQUIRE_SHARED(golden, "golden/r0-51060-bundle0");
  PERFEX_REQUIRE_SHARED(psf, "data/psf-r0-00051060.fits");
  const auto& g = golden_frame_case(golden, psf);
  const auto exact = perfex::io::read_frame(g.frame, true);
  const auto f32 = perfex::io::read_frame(g.frame, false);
  REQUIRE_FALSE(f32.exact);
  // float32 rounding: relative 2^-24 of each value (6e-8).
  const double eps = std::ldexp(1.0, -24);
  double worst = 0;
  auto rel = [&](double a, double b) { worst = std::max(worst, std::fabs(a - b) / std::max(std::fabs(b), 1e-300)); };
  for (int i = 0; i < exact.data.nspec; ++i)
    for (int j = 0; j < exact.data.nwave; ++j) {
      rel(f32.data.flux(i, j), exact.data.flux(i, j));
      rel(f32.data.ivar(i, j), exact.data.ivar(i, j));
      rel(f32.data.chi2pix(i, j), exact.data.chi2pix(i, j));
      for (int d = 0; d < 11; ++d)
        if (exact.data.resolution(i, d, j) != 0.0) rel(f32.data.resolution(i, d, j), exact.data.resolution(i, d, j));
      CHECK(f32.mask(i, j) == exact.mask(i, j));
    }
  INFO("worst relative float32 rounding " << worst);
  CHECK(worst <= eps);

  const auto& h = exact.header;
  CHECK(h.camera == "r0");
  CHECK(h.expid == 51060);
  CHECK(h.night == 20200315);
  CHECK(h.in_psf == g.psf);
  CHECK(h.in_img == g.preproc);
  CHECK(h.options.psferr == 0.01);
  CHECK(h.heliocor == 1.0);
  perfex::io::FitsFile out(g.frame, perfex::io::FitsFile::Mode::Read);
  out.move_to("FLUX");
  CHECK(out.require_key_int("NSPEC") == 25);
  CHECK(out.require_key_int("SPECMIN") == 0);
  CHECK(out.require_key_double("WAVEMIN") == 6500.0);
  CHECK(out.require_key_double("WAVEMAX") == 6660.0);
  CHECK(std::fabs(out.require_key_double("WAVESTEP") - 0.8) < 1e-12);
  CHECK(out.require_key_int("BUNDLESZ") == 25);
  CHECK(out.require_key_int("NSUBBUN") == 5);
  CHECK(out.require_key_int("NWAVSTEP") == 50);
  CHECK(out.require_key_int("WAVEPADT") == 12);
  CHECK(out.require_key_double("PIXPADF") == 0.8);
  CHECK(out.require_key_double("WAVEPADF") == 0.2);
  CHECK(out.require_key_double("REGULARI") == 0.0);
  CHECK(out.require_key_string("BUNIT") == "electron/Angstrom");
  CHECK(out.read_key_string("PERFEXV").has_value());
  // FIBERMAP: the input's 25 rows.
  REQUIRE(exact.fibermap_rows == 25);
  perfex::io::FitsFile in((golden / "input.fits").string(), perfex::io::FitsFile::Mode::Read);
  in.move_to("FIBERMAP");
  out.move_to("FIBERMAP");
  CHECK(out.read_column_int("FIBER") == in.read_column_int("FIBER"));
  CHECK(out.read_column_int("TARGETID") == in.read_column_int("TARGETID"));
}

TEST_CASE("perfex extract --barycentric-correction: HELIOCOR from TARGTRA/TARGTDEC/MJD-OBS, nominal grid written",
          "[drivers][golden][barycentric]") {
  PERFEX_REQUIRE_SHARED(golden, "golden/r0-51060-bundle0");
  PERFEX_REQUIRE_SHARED(psf, "data/psf-r0-00051060.fits");
  const auto& g = golden_frame_case(golden, psf);
  auto a = golden_args(g, "frame-bary.fits");
  a.barycentric = true;
  a.float64 = true;
  REQUIRE(perfex::drivers::run_extract(a) == 0);
  const auto bary = perfex::io::read_frame(a.output);
  const double expected = perfex::drivers::barycentric_correction_factor(k_ra, k_dec, k_mjd + k_exptime / 2 / 86400);
  INFO("HELIOCOR " << bary.header.heliocor << ", expected " << expected);
  CHECK(bary.header.heliocor == expected);
  CHECK(std::fabs(bary.header.heliocor - 1.0) > 1e-5);  // a real correction (|v| > 3 km/s here)
  const auto nominal = perfex::linear_wavelengths(6500, 6660, 0.8);
  CHECK(bary.data.wavelengths == nominal);

  // The same factor given with --heliocor gives the same frame; the fluxes moved from the uncorrected ones.
  auto b = golden_args(g, "frame-heliocor.fits");
  b.heliocor = expected;
  b.float64 = true;
  REQUIRE(perfex::drivers::run_extract(b) == 0);
  const auto given = perfex::io::read_frame(b.output);
  const auto plain = perfex::io::read_frame(g.frame);
  double same = 0, moved = 0;
  for (int i = 0; i < 25; ++i)
    for (int j = 0; j < bary.data.nwave; ++j) {
      same = std::max(same, std::fabs(bary.data.flux(i, j) - given.data.flux(i, j)));
      moved =
          std::max(moved, std::fabs(bary.data.flux(i, j) - plain.data.flux(i, j)) * std::sqrt(plain.data.ivar(i, j)));
    }
  CHECK(same == 0.0);
  INFO("largest flux change from the correction: " << moved << " sigma");
  CHECK(moved > 1e-3);
}

TEST_CASE("perfex pulls and compare on the golden frame: R truth, 4771 bins, gpu_specter's statistics",
          "[drivers][golden][pulls]") {
  PERFEX_REQUIRE_SHARED(golden, "golden/r0-51060-bundle0");
  PERFEX_REQUIRE_SHARED(psf, "data/psf-r0-00051060.fits");
  const auto& g = golden_frame_case(golden, psf);
  const auto frame = perfex::io::read_frame(g.frame, true);
  // The golden truth file (WAVE, PHOT on a wider grid): R x truth equals the reference's RTRUTH_GPU.
  const auto truth = perfex::io::read_truth_spectra((golden / "truth.fits").string());
  perfex::io::FitsFile t((golden / "truth.fits").string(), perfex::io::FitsFile::Mode::Read);
  const GoldenArray rtruth = read_golden(t, "RTRUTH_GPU");
  double worst = 0;
  int compared = 0;
  for (int fiber = 0; fiber < 25; ++fiber) {
    bool matched = false;
    const auto rt = perfex::drivers::convolved_truth(frame, truth, fiber, &matched);
    CHECK(matched);
    for (int j = 0; j < frame.data.nwave; ++j) {
      CHECK(std::isfinite(rt[j]) == std::isfinite(rtruth.at(fiber, j)));  // NaN within 5 bins of the ends
      if (!std::isfinite(rt[j]) || !std::isfinite(rtruth.at(fiber, j))) continue;
      worst = std::max(worst, std::fabs(rt[j] - rtruth.at(fiber, j)) * std::sqrt(frame.data.ivar(fiber, j)));
      ++compared;
    }
  }
  INFO("R truth vs RTRUTH_GPU: worst " << worst << " sigma over " << compared << " bins");
  CHECK(compared == 25 * 191);
  CHECK(worst < 1e-6);
  // The golden README's figures: 4771 unmasked bins, mean +0.001, std 0.997.
  const auto p = perfex::drivers::truth_pulls(frame, truth);
  INFO("pulls: " << p.pulls.size() << " bins, mean " << p.mean << ", std " << p.sd);
  CHECK(p.pulls.size() == 4771);
  CHECK(std::fabs(p.mean - 0.001) < 0.0015);
  CHECK(std::fabs(p.sd - 0.997) < 0.0015);

  // Against specter's frame (float64 arrays of the golden file wrapped as a frame): gpu_specter's own
  // criterion, 99% of the good bins below 0.01 sigma and all below 0.05.
  perfex::io::FitsFile s((golden / "expected-specter.fits").string(), perfex::io::FitsFile::Mode::Read);
  perfex::io::Frame spec = frame;  // shares the header and shapes; the arrays are replaced below
  spec.data.flux = perfex::ResultView<double**>("flux", 25, frame.data.nwave);
  spec.data.ivar = perfex::ResultView<double**>("ivar", 25, frame.data.nwave);
  const GoldenArray sflux = read_golden(s, "FLUX"), sivar = read_golden(s, "IVAR");
  for (int i = 0; i < 25; ++i)
    for (int j = 0; j < frame.data.nwave; ++j) {
      spec.data.flux(i, j) = sflux.at(i, j);
      spec.data.ivar(i, j) = sivar.at(i, j);
    }
  const auto c = perfex::drivers::compare_frames(frame, spec);
  const double p99 = perfex::drivers::percentile(c.pulls, 99);
  const double pmax = *std::max_element(c.pulls.begin(), c.pulls.end());
  INFO("against specter: " << c.pulls.size() << " good bins, 99% " << p99 << ", max " << pmax);
  CHECK(c.pulls.size() > 4900);
  CHECK(p99 < 0.01);
  CHECK(pmax < 0.05);
}
