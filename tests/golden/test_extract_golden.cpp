// Extraction of the golden bundle (r0-51060-bundle0) through the library API, from the real PSF file and
// the cutout image, against gpu_specter's and specter's outputs and the simulation truth.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "golden_support.hpp"
#include "perfex/core/extract.hpp"
#include "perfex/io/psf_io.hpp"
#include "test_support.hpp"

namespace {

using perfex::test::check_against_gpu_specter;
using perfex::test::GoldenArray;
using perfex::test::read_golden;

struct GoldenCase {
  perfex::FrameResult result;
  perfex::PatchPlan plan;
  perfex::ImageInput input;  // the cutout, for extractions with other options
  std::vector<double> grid;
  perfex::GaussHermitePsf psf;
};

// Runs the extraction once for all the tests of this file.
const GoldenCase& golden_case(const std::filesystem::path& dir, const std::filesystem::path& psf_path) {
  // Kept until Kokkos::finalize (its Views must not outlive Kokkos).
  static std::unique_ptr<GoldenCase> c;
  if (c) return *c;
  c = std::make_unique<GoldenCase>([&] {
    perfex::io::FitsFile in((dir / "input.fits").string(), perfex::io::FitsFile::Mode::Read);
    in.move_to("IMAGE");
    const int y0 = static_cast<int>(in.require_key_int("CUT_Y0"));
    const int x0 = static_cast<int>(in.require_key_int("CUT_X0"));
    const GoldenArray image = read_golden(in, "IMAGE");
    const GoldenArray ivar = read_golden(in, "IVAR");
    const GoldenArray mask = read_golden(in, "MASK");
    const GoldenArray wave = read_golden(in, "WAVELENGTH");
    const long ny = image.shape[0], nx = image.shape[1];
    perfex::HostView<double**> himg("image", ny, nx), hw("weights", ny, nx);
    for (long y = 0; y < ny; ++y)
      for (long x = 0; x < nx; ++x) {
        himg(y, x) = image.at(y, x);
        hw(y, x) = mask.at(y, x) == 0 ? ivar.at(y, x) : 0.0;
      }
    perfex::ImageInput input;
    input.image = Kokkos::create_mirror_view_and_copy(perfex::MemSpace(), himg);
    input.weights = Kokkos::create_mirror_view_and_copy(perfex::MemSpace(), hw);
    input.origin_y = y0;
    input.origin_x = x0;
    const auto psf = perfex::io::read_psf(psf_path.string());
    input.ccd_ny = psf.npix_y;
    input.ccd_nx = psf.npix_x;
    perfex::ExtractionOptions options;
    options.psferr = psf.default_psferr();
    options.ndiag = psf.hsizey;
    const std::vector<double> grid(wave.data.begin(), wave.data.end());
    const auto padded = perfex::padded_wavelengths(grid, options);
    const auto spots = perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 25, padded);
    GoldenCase g;
    const auto xc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.xcorner);
    const auto yc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.ycorner);
    g.plan =
        perfex::plan_patches(xc, yc, 0, spots.stamp_ny, spots.stamp_nx, 0, 25, static_cast<int>(grid.size()), options);
    g.result = perfex::extract(perfex::ExecSpace(), input, spots, grid, g.plan, options);
    g.input = input;
    g.grid = grid;
    g.psf = psf;
    return g;
  }());
  Kokkos::push_finalize_hook([] { c.reset(); });
  return *c;
}

// gpu_specter's criterion against a reference's FLUX/IVAR: good bins (ivar > 0, chi2pix < 100,
// pixmask_fraction <= 0.5), 99% of them below 0.01 sigma, none above 0.05.
struct Agreement {
  int good = 0, below_001 = 0;
  double worst = 0;
};
Agreement agreement(const perfex::FrameResult& r, const std::string& reference) {
  perfex::io::FitsFile f(reference, perfex::io::FitsFile::Mode::Read);
  const GoldenArray flux = read_golden(f, "FLUX"), ivar = read_golden(f, "IVAR");
  Agreement a;
  for (int i = 0; i < r.nspec; ++i)
    for (int j = 0; j < r.nwave; ++j) {
      if (!(r.ivar(i, j) > 0 && ivar.at(i, j) > 0 && r.chi2pix(i, j) < 100 && r.pixmask_fraction(i, j) <= 0.5))
        continue;
      const double pull = std::fabs(r.flux(i, j) - flux.at(i, j)) / std::sqrt(1.0 / r.ivar(i, j) + 1.0 / ivar.at(i, j));
      ++a.good;
      a.below_001 += pull < 0.01;
      a.worst = std::max(a.worst, pull);
    }
  return a;
}

}  // namespace

TEST_CASE("Golden bundle: the patch plan equals gpu_specter's", "[golden][extract]") {
  PERFEX_REQUIRE_SHARED(dir, "golden/r0-51060-bundle0");
  PERFEX_REQUIRE_SHARED(psf, "data/psf-r0-00051060.fits");
  const auto& g = golden_case(dir, psf);
  perfex::io::FitsFile f((dir / "expected-gpu_specter.fits").string(), perfex::io::FitsFile::Mode::Read);
  f.move_to("PATCHES");
  const auto ispec = f.read_column_int("ISPEC");
  const auto iwave = f.read_column_int("IWAVE");
  const auto xmin = f.read_column_int("XMIN"), xmax = f.read_column_int("XMAX");
  const auto ymin = f.read_column_int("YMIN"), ymax = f.read_column_int("YMAX");
  REQUIRE(ispec.size() == g.plan.patches.size());
  for (std::size_t r = 0; r < ispec.size(); ++r) {
    // Match rows by (core fiber, index of the core start on the requested grid).
    auto it = std::find_if(g.plan.patches.begin(), g.plan.patches.end(), [&](const perfex::Patch& p) {
      return p.core_fiber_lo == ispec[r] && p.out_wave == iwave[r];
    });
    REQUIRE(it != g.plan.patches.end());
    INFO("patch row " << r << ": fibers from " << ispec[r] << ", core from bin " << iwave[r]);
    CHECK(it->xmin == xmin[r]);
    CHECK(it->xmax == xmax[r]);
    CHECK(it->ymin == ymin[r]);
    CHECK(it->ymax == ymax[r]);
  }
}

TEST_CASE("Golden bundle: outputs match gpu_specter to the stated float64 bounds", "[golden][extract]") {
  PERFEX_REQUIRE_SHARED(dir, "golden/r0-51060-bundle0");
  PERFEX_REQUIRE_SHARED(psf, "data/psf-r0-00051060.fits");
  const auto& r = golden_case(dir, psf).result;
  check_against_gpu_specter(r, (dir / "expected-gpu_specter.fits").string());
}

TEST_CASE("Golden bundle: agreement with specter and unbiased truth pulls", "[golden][extract]") {
  PERFEX_REQUIRE_SHARED(dir, "golden/r0-51060-bundle0");
  PERFEX_REQUIRE_SHARED(psf, "data/psf-r0-00051060.fits");
  const auto& r = golden_case(dir, psf).result;
  perfex::io::FitsFile f((dir / "expected-specter.fits").string(), perfex::io::FitsFile::Mode::Read);
  const GoldenArray flux = read_golden(f, "FLUX"), ivar = read_golden(f, "IVAR");
  int good = 0, below_001 = 0;
  double worst = 0;
  for (int i = 0; i < r.nspec; ++i)
    for (int j = 0; j < r.nwave; ++j) {
      // gpu_specter's own criterion for good bins: ivar > 0, chi2pix < 100, pixmask_fraction <= 0.5.
      if (!(r.ivar(i, j) > 0 && ivar.at(i, j) > 0 && r.chi2pix(i, j) < 100 && r.pixmask_fraction(i, j) <= 0.5))
        continue;
      const double pull = std::fabs(r.flux(i, j) - flux.at(i, j)) / std::sqrt(1.0 / r.ivar(i, j) + 1.0 / ivar.at(i, j));
      ++good;
      below_001 += pull < 0.01;
      worst = std::max(worst, pull);
    }
  INFO("good bins " << good << ", below 0.01 sigma " << below_001 << ", worst " << worst);
  CHECK(good > 4900);
  CHECK(below_001 >= 0.99 * good);
  CHECK(worst < 0.05);

  perfex::io::FitsFile t((dir / "truth.fits").string(), perfex::io::FitsFile::Mode::Read);
  const GoldenArray rtruth = read_golden(t, "RTRUTH_GPU");
  std::vector<double> pulls;
  for (int i = 0; i < r.nspec; ++i)
    for (int j = 0; j < r.nwave; ++j)
      if (std::isfinite(rtruth.at(i, j)) && r.ivar(i, j) > 0 && r.pixmask_fraction(i, j) <= 0.5)
        pulls.push_back((r.flux(i, j) - rtruth.at(i, j)) * std::sqrt(r.ivar(i, j)));
  const double n = static_cast<double>(pulls.size());
  const double mean = std::accumulate(pulls.begin(), pulls.end(), 0.0) / n;
  double var = 0;
  for (double p : pulls) var += (p - mean) * (p - mean);
  const double sd = std::sqrt(var / n);
  const double tol = std::max(0.03, 4.0 / std::sqrt(n));
  INFO("truth pulls: n " << n << ", mean " << mean << ", std " << sd);
  CHECK(std::fabs(mean) < tol);
  CHECK(std::fabs(sd - 1.0) < tol);
}

TEST_CASE("Golden bundle: any --nsubbundles, split as specter splits them, within 0.01 sigma of specter",
          "[golden][extract][subbundles]") {
  PERFEX_REQUIRE_SHARED(dir, "golden/r0-51060-bundle0");
  PERFEX_REQUIRE_SHARED(psf_path, "data/psf-r0-00051060.fits");
  const auto& g = golden_case(dir, psf_path);
  // specter's references: nsubbundles 6 (25 = 4 + 4 + 4 + 4 + 4 + 5, an uneven split) and 5.
  for (int nsub : {2, 3, 4, 6, 7}) {
    perfex::ExtractionOptions o;
    o.nsubbundles = nsub;
    o.psferr = g.psf.default_psferr();
    o.ndiag = g.psf.hsizey;
    o.wavepad_bins = perfex::wavelength_padding(g.psf, g.grid, o);
    // DESI's spots: gpu_specter's 12 bins, more for the larger patches of 2 or 3 subbundles, where the traces
    // of up to 15 fibers differ by up to ~12 rows at the CCD's edges.
    CHECK(o.wavepad() >= 12);
    if (nsub >= 4) CHECK(o.wavepad() == 12);
    const auto spots = perfex::evaluate_spots(perfex::ExecSpace(), g.psf, 0, 25, perfex::padded_wavelengths(g.grid, o));
    const auto xc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.xcorner);
    const auto yc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.ycorner);
    const auto plan =
        perfex::plan_patches(xc, yc, 0, spots.stamp_ny, spots.stamp_nx, 0, 25, static_cast<int>(g.grid.size()), o);
    // specter's split_bundle(25, nsub): the core sizes in fiber order.
    std::vector<int> cores;
    for (const auto& p : plan.patches)
      if (p.out_wave == 0) cores.push_back(p.ncore_fiber);
    std::vector<int> expected;
    for (const auto& [lo, n] : perfex::split_bundle(25, nsub)) expected.push_back(n);
    CHECK(cores == expected);
    const auto r = perfex::extract(perfex::ExecSpace(), g.input, spots, g.grid, plan, o);
    for (const char* reference : {"expected-specter.fits", "expected-specter-nsub5.fits"}) {
      const Agreement a = agreement(r, (dir / reference).string());
      INFO("nsubbundles " << nsub << " against " << reference << ": " << a.good << " good bins, " << a.below_001
                          << " below 0.01 sigma, worst " << a.worst);
      CHECK(a.good > 4900);
      CHECK(a.below_001 >= 0.99 * a.good);
      CHECK(a.worst < 0.05);
    }
  }
}
