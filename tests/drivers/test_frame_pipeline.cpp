// The frame pipeline without shared material: CCD edges (patches whose box runs below row 0), chunking
// invariance, the model image, grid checks, and the barycentric correction.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/frame_mask.hpp"
#include "perfex/core/simulate.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/drivers/barycentric.hpp"
#include "perfex/drivers/frame_pipeline.hpp"
#include "perfex/io/preproc_io.hpp"

namespace {

constexpr double k_photons = 400.0;  // electrons per 0.8 A bin, every fiber, every wavelength

// A synthetic r0 PSF moved 200 rows down, so that the blue end of its domain lies below the CCD, and a
// noisy image of one bundle of flat spectra through it.
struct EdgeCase {
  perfex::GaussHermitePsf psf;
  perfex::io::PreprocImage image;
  std::vector<double> grid;
};

const EdgeCase& edge_case() {
  static std::unique_ptr<EdgeCase> c;  // Views released before Kokkos::finalize
  if (c) return *c;
  c = std::make_unique<EdgeCase>();
  perfex::SyntheticPsfOptions po;
  po.camera = "r0";
  po.seed = 11;
  c->psf = perfex::make_synthetic_psf(po);
  auto& yt = c->psf.ytrace;
  for (int f = 0; f < yt.nfiber; ++f) yt.coeff[static_cast<std::size_t>(f) * yt.ncoef] -= 200.0;
  // From just inside the PSF's domain, where every trace is ~100 rows below the CCD, to well on it.
  const double w0 = std::ceil(c->psf.wavemin() / 0.8 + 1.0) * 0.8;
  c->grid = perfex::linear_wavelengths(w0, w0 + 0.8 * 299, 0.8);
  perfex::HostView<double**> photons("photons", 25, c->grid.size());
  Kokkos::deep_copy(photons, k_photons);
  perfex::SimulationOptions so;
  so.seed = 5;
  const auto sim = perfex::simulate_frame(perfex::ExecSpace(), c->psf, c->grid, photons, so);
  auto& img = c->image;
  img.source = "simulated";
  img.npix_y = sim.npix_y;
  img.npix_x = sim.npix_x;
  img.image = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), sim.image);
  img.ivar = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), sim.ivar);
  img.mask = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), sim.mask);
  Kokkos::push_finalize_hook([] { c.reset(); });
  return *c;
}

perfex::drivers::FramePipelineOptions pipeline_options(const perfex::GaussHermitePsf& psf) {
  perfex::drivers::FramePipelineOptions o;
  o.extraction.ndiag = psf.hsizey;
  return o;
}

}  // namespace

TEST_CASE("CCD edges: bins with no pixel get ivar 0, no NaN anywhere, on-CCD bins are unbiased", "[drivers][edges]") {
  const auto& c = edge_case();
  auto options = pipeline_options(c.psf);
  int chunks = 0;
  options.progress = [&](const perfex::drivers::FrameProgress& p) {
    ++chunks;
    CHECK(p.bundles_done == 1);
    CHECK(p.bundles_total == 1);
  };
  const auto out = perfex::drivers::extract_frame(perfex::ExecSpace(), c.image, c.psf, c.grid, 0, 25, options);
  CHECK(chunks == 1);
  const auto& r = out.result;
  REQUIRE(r.nspec == 25);
  REQUIRE(r.nwave == static_cast<int>(c.grid.size()));

  // Where each spot lands: rows [ycorner, ycorner + 11).
  const auto spots = perfex::evaluate_spots(perfex::ExecSpace(), c.psf, 0, 25, c.grid);
  const auto yc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.ycorner);
  const int sy = spots.stamp_ny;
  int off = 0, on = 0, nonfinite = 0, off_with_ivar = 0, on_without_ivar = 0;
  std::vector<double> pulls;
  for (int i = 0; i < 25; ++i)
    for (int j = 0; j < r.nwave; ++j) {
      bool finite = std::isfinite(r.flux(i, j)) && std::isfinite(r.ivar(i, j)) && std::isfinite(r.chi2pix(i, j)) &&
                    std::isfinite(r.pixmask_fraction(i, j));
      for (int d = 0; d < 2 * r.ndiag + 1; ++d) finite = finite && std::isfinite(r.resolution(i, d, j));
      nonfinite += !finite;
      if (yc(i, j) + sy <= 0) {
        ++off;
        off_with_ivar += r.ivar(i, j) != 0.0;
      } else if (yc(i, j) >= 0) {
        ++on;
        on_without_ivar += !(r.ivar(i, j) > 0.0);
        // The truth is flat: R applied to it is the flux per Angstrom times the row sum of R.
        if (j >= r.ndiag && j + r.ndiag < r.nwave && yc(i, j - r.ndiag) >= 0) {
          double rowsum = 0;
          for (int k = j - r.ndiag; k <= j + r.ndiag; ++k) rowsum += r.resolution(i, j - k + r.ndiag, k);
          pulls.push_back((r.flux(i, j) - k_photons / 0.8 * rowsum) * std::sqrt(r.ivar(i, j)));
        }
      }
    }
  INFO("bins: " << off << " entirely below the CCD, " << on << " entirely on it, " << pulls.size() << " pulls");
  CHECK(nonfinite == 0);
  CHECK(off > 500);  // the test covers patches whose box runs below row 0
  CHECK(on > 3000);
  CHECK(off_with_ivar == 0);
  CHECK(on_without_ivar == 0);
  double mean = 0, var = 0;
  for (double p : pulls) mean += p;
  mean /= static_cast<double>(pulls.size());
  for (double p : pulls) var += (p - mean) * (p - mean);
  const double sd = std::sqrt(var / static_cast<double>(pulls.size()));
  INFO("pulls of the on-CCD bins: mean " << mean << ", std " << sd);
  // Statistical bounds: 4 sigma of the mean of ~5000 pulls is 0.06; the std within 10%.
  CHECK(std::fabs(mean) < 0.06);
  CHECK(std::fabs(sd - 1.0) < 0.1);
  // ivar = 0 alone sets no mask bit; the mask is the frame_mask of the extracted arrays.
  const auto expect = perfex::frame_mask(r.pixmask_fraction, r.chi2pix);
  for (int i = 0; i < 25; ++i)
    for (int j = 0; j < r.nwave; ++j) CHECK(out.mask(i, j) == expect(i, j));
}

TEST_CASE("Frame pipeline: chunks of bundles give the same frame; the model image holds the flux", "[drivers][pipeline]") {
  const auto& c = edge_case();
  auto options = pipeline_options(c.psf);
  // Fibers 0..49 (the second bundle is dark): one chunk of two bundles, then two chunks of one.
  options.bundles_per_chunk = 2;
  options.model_image = true;
  const auto a = perfex::drivers::extract_frame(perfex::ExecSpace(), c.image, c.psf, c.grid, 0, 50, options);
  options.bundles_per_chunk = 1;
  options.model_image = false;
  const auto b = perfex::drivers::extract_frame(perfex::ExecSpace(), c.image, c.psf, c.grid, 0, 50, options);
  for (int i = 0; i < 50; ++i)
    for (int j = 0; j < a.result.nwave; ++j) {
      CHECK(a.result.flux(i, j) == b.result.flux(i, j));
      CHECK(a.result.ivar(i, j) == b.result.ivar(i, j));
      CHECK(a.result.chi2pix(i, j) == b.result.chi2pix(i, j));
    }
  CHECK(b.model.extent(0) == 0);
  REQUIRE(a.model.extent(0) == static_cast<std::size_t>(c.psf.npix_y));
  REQUIRE(a.model.extent(1) == static_cast<std::size_t>(c.psf.npix_x));
  // The model holds the extracted electrons: the sum over the image is the sum of flux x dw over the
  // extracted bins, less what falls off the CCD (the blue end of this grid).
  double model_sum = 0, flux_sum = 0;
  for (std::size_t y = 0; y < a.model.extent(0); ++y)
    for (std::size_t x = 0; x < a.model.extent(1); ++x) model_sum += a.model(y, x);
  const auto dw = perfex::wavelength_gradient(c.grid);
  const auto spots = perfex::evaluate_spots(perfex::ExecSpace(), c.psf, 0, 25, c.grid);
  const auto yc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.ycorner);
  for (int i = 0; i < 25; ++i)
    for (int j = 0; j < a.result.nwave; ++j)
      if (yc(i, j) >= 0) flux_sum += a.result.flux(i, j) * dw[j];
  INFO("model sum " << model_sum << ", on-CCD flux sum " << flux_sum);
  CHECK(model_sum > 0.98 * flux_sum);
  CHECK(model_sum < 1.05 * flux_sum);
}

TEST_CASE("Frame pipeline: partial bundles at either end, chunk-invariant, each cut as its own bundle",
          "[drivers][pipeline][partial]") {
  const auto& c = edge_case();
  auto options = pipeline_options(c.psf);
  options.extraction.nsubbundles = 3;  // 25 fibers: 8 + 8 + 9; the partial bundles are split likewise
  int total = 0;
  options.progress = [&](const perfex::drivers::FrameProgress& p) { total = p.bundles_total; };
  // Fibers 10..39: bundle 0 from fiber 10 (15 fibers) and bundle 1 up to fiber 39 (15 fibers).
  options.bundles_per_chunk = 1;
  const auto a = perfex::drivers::extract_frame(perfex::ExecSpace(), c.image, c.psf, c.grid, 10, 30, options);
  CHECK(total == 2);
  options.bundles_per_chunk = 2;
  const auto b = perfex::drivers::extract_frame(perfex::ExecSpace(), c.image, c.psf, c.grid, 10, 30, options);
  // The first partial bundle alone, as desispec extracts a bundle's fibers 10..24.
  const auto first = perfex::drivers::extract_frame(perfex::ExecSpace(), c.image, c.psf, c.grid, 10, 15, options);
  REQUIRE(a.result.nspec == 30);

  int differ = 0, differ_alone = 0, no_ivar = 0;
  for (int i = 0; i < 30; ++i)
    for (int j = 0; j < a.result.nwave; ++j) {
      differ += a.result.flux(i, j) != b.result.flux(i, j) || a.result.ivar(i, j) != b.result.ivar(i, j) ||
                a.result.chi2pix(i, j) != b.result.chi2pix(i, j);
      if (i < 15)
        differ_alone += a.result.flux(i, j) != first.result.flux(i, j) || a.result.ivar(i, j) != first.result.ivar(i, j);
      // Bundle 0 is lit: every bin of its fibers well on the CCD (the traces reach row 0 near bin 165) is constrained.
      if (i < 15 && j >= 200) no_ivar += !(a.result.ivar(i, j) > 0.0);
    }
  CHECK(differ == 0);
  CHECK(differ_alone == 0);
  CHECK(no_ivar == 0);
}

TEST_CASE("Frame pipeline: refuses fibers beyond the PSF, a non-linear grid, a bad split, a wrong image shape",
          "[drivers][pipeline]") {
  const auto& c = edge_case();
  const auto options = pipeline_options(c.psf);
  auto expect = [&](perfex::ErrorKind kind, const std::string& needle, auto&& call) {
    try {
      call();
      FAIL("expected a perfex::Error mentioning " << needle);
    } catch (const perfex::Error& e) {
      INFO(e.what());
      CHECK(e.kind() == kind);
      CHECK(std::string(e.what()).find(needle) != std::string::npos);
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
  };
  const auto ex = perfex::ExecSpace();
  expect(perfex::ErrorKind::Data, "the PSF has fibers 0..499",
         [&] { perfex::drivers::extract_frame(ex, c.image, c.psf, c.grid, 475, 50, options); });
  auto bent = c.grid;
  bent.back() += 0.3;
  expect(perfex::ErrorKind::Usage, "linear", [&] { perfex::drivers::extract_frame(ex, c.image, c.psf, bent, 0, 25, options); });
  expect(perfex::ErrorKind::Usage, "at least 2 bins",
         [&] { perfex::drivers::extract_frame(ex, c.image, c.psf, {6000.0}, 0, 25, options); });
  auto bad_options = options;
  bad_options.extraction.nsubbundles = 26;
  expect(perfex::ErrorKind::Usage, "--nsubbundles must be in 1..25",
         [&] { perfex::drivers::extract_frame(ex, c.image, c.psf, c.grid, 0, 25, bad_options); });
  perfex::io::PreprocImage small;
  small.source = "small.fits";
  small.npix_y = 100;
  small.npix_x = 80;
  small.image = perfex::HostView<double**>("image", 100, 80);
  small.ivar = perfex::HostView<double**>("ivar", 100, 80);
  expect(perfex::ErrorKind::Data, "small.fits: the image is 100 x 80",
         [&] { perfex::drivers::extract_frame(ex, small, c.psf, c.grid, 0, 25, options); });
}

TEST_CASE("Barycentric correction: desispec's reference values at Kitt Peak", "[drivers][barycentric]") {
  // Velocity corrections (km/s) at Dec 20 from the table in desispec's heliocentric.py, made with IDL's
  // heliocentric() for the Mayall (-111.59989, 31.96403, 2097 m); desispec checks astropy's barycentric
  // correction against minus these. Heliocentric and barycentric corrections differ by the Sun's motion
  // about the barycentre (<= 0.013 km/s), hence the 0.03 km/s tolerance.
  struct Ref {
    double ra, mjd, idl;
  };
  const Ref refs[] = {{0, 58600, -12.407597}, {126, 58600, 29.426754}, {90, 58700, -19.471222},
                      {216, 58700, 23.702914}, {144, 58800, -29.801014}, {270, 58800, 13.993700}};
  for (const Ref& r : refs) {
    const double v = perfex::drivers::barycentric_velocity_kms(r.ra, 20.0, r.mjd);
    INFO("RA " << r.ra << " MJD " << r.mjd << ": perfex " << v << " km/s, reference " << -r.idl);
    CHECK(std::fabs(v + r.idl) < 0.03);
  }
  // HELIOCOR = 1 + v / c.
  const double v = perfex::drivers::barycentric_velocity_kms(126, 20, 58600);
  CHECK(std::fabs(perfex::drivers::barycentric_correction_factor(126, 20, 58600) - (1 + v / 299792.458)) < 1e-15);
  // From a header: the mid-exposure date, and a data error naming the missing keywords.
  perfex::drivers::PointingHeader h;
  h.ra = 126;
  h.dec = 20;
  h.mjd = 58600;
  h.exptime = 1800;
  CHECK(perfex::drivers::barycentric_correction_factor(h) ==
        perfex::drivers::barycentric_correction_factor(126, 20, 58600 + 900.0 / 86400.0));
  h.ra.reset();
  h.mjd.reset();
  h.where = "preproc.fits[IMAGE]";
  try {
    perfex::drivers::barycentric_correction_factor(h);
    FAIL("expected a data error");
  } catch (const perfex::Error& e) {
    CHECK(e.kind() == perfex::ErrorKind::Data);
    const std::string m = e.what();
    CHECK(m.find("preproc.fits[IMAGE]") != std::string::npos);
    CHECK(m.find("TARGTRA") != std::string::npos);
    CHECK(m.find("MJD-OBS") != std::string::npos);
    CHECK(m.find("TARGTDEC") == std::string::npos);
  }
}
