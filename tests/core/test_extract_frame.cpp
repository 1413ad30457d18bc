// The frame pipeline (core's extract_frame and FrameExtractor) without files: CCD edges (patches whose box
// runs below row 0), chunking invariance, the model image, the pieces the MPI driver uses giving the same
// bits as the whole, a reused pipeline, the mask applied while uploading, and the refusals.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "perfex/core/ccd_mask.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/extract.hpp"
#include "perfex/core/extract_frame.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/frame_mask.hpp"
#include "perfex/core/simulate.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/synthetic_psf.hpp"

namespace {

constexpr double k_photons = 400.0;  // electrons per 0.8 A bin, every fiber, every wavelength

// A synthetic r0 PSF moved 200 rows down, so that the blue end of its domain lies below the CCD, and a
// noisy image of one bundle of flat spectra through it (a second, dark bundle beside it).
struct EdgeCase {
  perfex::GaussHermitePsf psf;
  perfex::HostView<double**> image, ivar;
  perfex::HostView<std::int32_t**> mask;  // scattered COSMIC pixels (excluded) and BADREADNOISE ones (kept)
  std::vector<double> grid;

  perfex::ImageInput input() const {
    perfex::HostImage h;
    h.image = image;
    h.ivar = ivar;
    h.ccd_ny = psf.npix_y;
    h.ccd_nx = psf.npix_x;
    return perfex::upload_image(perfex::ExecSpace(), h);
  }
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
  c->image = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), sim.image);
  c->ivar = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), sim.ivar);
  c->mask = perfex::HostView<std::int32_t**>("mask", sim.npix_y, sim.npix_x);
  for (int y = 0; y < sim.npix_y; ++y)
    for (int x = 0; x < sim.npix_x; ++x) {
      const int k = (31 * y + 17 * x) % 97;
      c->mask(y, x) = k == 0 ? perfex::ccd_mask::cosmic : k == 1 ? perfex::ccd_mask::badreadnoise : 0;
    }
  Kokkos::push_finalize_hook([] { c.reset(); });
  return *c;
}

perfex::FrameOptions frame_options(const perfex::GaussHermitePsf& psf) {
  perfex::FrameOptions o;
  o.extraction.ndiag = psf.hsizey;
  return o;
}

// Every array of two frames holds the same bits.
void check_same_frame(const perfex::ExtractedFrame& a, const perfex::ExtractedFrame& b) {
  auto same = [](const auto& x, const auto& y) {
    // (memcmp of empty arrays, e.g. no model image, would pass it null pointers)
    return x.size() == y.size() &&
           (x.size() == 0 || std::memcmp(x.data(), y.data(), x.size() * sizeof(*x.data())) == 0);
  };
  CHECK(same(a.result.flux, b.result.flux));
  CHECK(same(a.result.ivar, b.result.ivar));
  CHECK(same(a.result.resolution, b.result.resolution));
  CHECK(same(a.result.chi2pix, b.result.chi2pix));
  CHECK(same(a.result.pixmask_fraction, b.result.pixmask_fraction));
  CHECK(same(a.mask, b.mask));
  CHECK(same(a.model, b.model));
}

}  // namespace

TEST_CASE("CCD edges: bins with no pixel get ivar 0, no NaN anywhere, on-CCD bins are unbiased", "[core][edges]") {
  const auto& c = edge_case();
  auto options = frame_options(c.psf);
  int chunks = 0;
  options.progress = [&](const perfex::FrameProgress& p) {
    ++chunks;
    CHECK(p.bundles_done == 1);
    CHECK(p.bundles_total == 1);
    CHECK(p.working_bytes > 0);
  };
  const auto out = perfex::extract_frame(perfex::ExecSpace(), c.input(), c.psf, c.grid, 0, 25, options);
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
  // ivar = 0 alone sets no mask bit; the mask (computed on the device) is the host frame_mask of the
  // extracted arrays.
  const auto expect = perfex::frame_mask(r.pixmask_fraction, r.chi2pix);
  for (int i = 0; i < 25; ++i)
    for (int j = 0; j < r.nwave; ++j) CHECK(out.mask(i, j) == expect(i, j));
}

TEST_CASE("Frame pipeline: chunks of bundles give the same frame; the model image holds the flux", "[core][pipeline]") {
  const auto& c = edge_case();
  auto options = frame_options(c.psf);
  // Fibers 0..49 (the second bundle is dark): one chunk of two bundles, then two chunks of one.
  options.bundles_per_chunk = 2;
  options.model_image = true;
  const auto input = c.input();
  const auto a = perfex::extract_frame(perfex::ExecSpace(), input, c.psf, c.grid, 0, 50, options);
  options.bundles_per_chunk = 1;
  const auto b = perfex::extract_frame(perfex::ExecSpace(), input, c.psf, c.grid, 0, 50, options);
  check_same_frame(a, b);
  options.model_image = false;
  const auto without = perfex::extract_frame(perfex::ExecSpace(), input, c.psf, c.grid, 0, 50, options);
  CHECK(without.model.extent(0) == 0);
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

// The solver drops couplings of fibers further apart than its tiles (one fiber per tile on the first pass)
// only below 1e-10 of iCov's largest diagonal entry, deciding from a cheap bound and, where the bound is above
// that, from the exact sums (PatchSolver::far_strips, far_couplings). With the traces squeezed closer
// together, fibers two (and three) apart overlap strongly, so every patch must be solved again with tiles of
// as many fibers as couple; a frame of the same PSF unsqueezed needs no such pass. Seen from outside: only a
// launch with tiles of several fibers needs more team scratch than the one-fiber tiles (ExtractWorkspace).
// (A bound that let such couplings through fails the 3/4 case; a broken exact fallback the 0.45 case.)
TEST_CASE("Fibers that couple beyond the tiles are solved with wider tiles and never dropped", "[core][pipeline]") {
  auto scratch_after = [](double squeeze) {
    perfex::SyntheticPsfOptions po;
    po.camera = "r0";
    po.seed = 3;
    perfex::GaussHermitePsf psf = perfex::make_synthetic_psf(po);
    auto& xt = psf.xtrace;
    const double x12 = xt.coeff[static_cast<std::size_t>(12) * xt.ncoef];
    for (int f = 0; f < 25; ++f) {
      double& x0 = xt.coeff[static_cast<std::size_t>(f) * xt.ncoef];
      x0 = x12 + squeeze * (x0 - x12);
    }
    const double w0 = std::round((0.5 * (psf.wavemin() + psf.wavemax())) / 0.8) * 0.8;
    const auto grid = perfex::linear_wavelengths(w0, w0 + 0.8 * 149, 0.8);
    perfex::HostView<double**> photons("photons", 25, grid.size());
    Kokkos::deep_copy(photons, k_photons);
    perfex::SimulationOptions so;
    so.seed = 9;
    const auto sim = perfex::simulate_frame(perfex::ExecSpace(), psf, grid, photons, so);
    perfex::HostImage h;
    h.image = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), sim.image);
    h.ivar = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), sim.ivar);
    h.ccd_ny = psf.npix_y;
    h.ccd_nx = psf.npix_x;
    const auto options = frame_options(psf).extraction;
    const auto spots =
        perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 25, perfex::padded_wavelengths(grid, options));
    perfex::ExtractWorkspace workspace;
    const auto r = perfex::extract(perfex::ExecSpace(), perfex::upload_image(perfex::ExecSpace(), h), spots, grid, 0,
                                   25, options, &workspace);
    CHECK(r.unsolved_bins == 0);
    return workspace.team_scratch_bytes;
  };
  // At 3/4 of the spacing the far stamps share a few columns (the bound decides, and is above the threshold);
  // at 0.45 they overlap so widely that the bound's strips do not fit in scratch (the exact sums decide).
  const std::size_t spaced = scratch_after(1.0);
  for (const double squeeze : {0.75, 0.45}) {
    const std::size_t squeezed = scratch_after(squeeze);
    INFO("team scratch per patch: " << spaced << " bytes at the PSF's spacing, " << squeezed << " at " << squeeze
                                    << " of it");
    CHECK(squeezed > 2 * spaced);
  }
}

TEST_CASE("Frame pipeline in pieces: chunks extracted elsewhere, out of order, give the same bits",
          "[core][pipeline]") {
  const auto& c = edge_case();
  auto options = frame_options(c.psf);
  options.bundles_per_chunk = 1;
  options.model_image = true;
  const auto input = c.input();
  const auto whole = perfex::extract_frame(perfex::ExecSpace(), input, c.psf, c.grid, 0, 50, options);

  // As the MPI driver runs it: a "root" that extracts chunk 1 itself and receives chunk 0 from a "rank"
  // holding one chunk at a time; the model image then takes both chunks, in order, in finish().
  perfex::FrameExtractor root(perfex::ExecSpace(), c.psf, c.grid, 0, 50, options);
  perfex::FrameExtractor rank(perfex::ExecSpace(), c.psf, c.grid, 0, 50, options);
  REQUIRE(root.chunks() == 2);
  CHECK(root.chunk_fiber_begin(1) == 25);
  CHECK(root.chunk_fibers(1) == 25);
  root.begin(input);
  rank.begin(input, perfex::FrameStorage::OneChunk);
  root.extract_chunk(1);
  rank.extract_chunk(0);
  std::vector<double> values(rank.chunk_values(0));
  CHECK(values.size() == 25u * c.grid.size() * (5 + 2 * c.psf.hsizey + 1));  // 5 planes: unsolved too
  rank.read_chunk(0, values.data());
  CHECK_THROWS_AS(root.finish(), perfex::Error);  // chunk 0 is missing
  root.write_chunk(0, values.data());
  check_same_frame(whole, root.finish());
  CHECK(whole.result.unsolved_bins == 0);

  // The unsolved plane travels with a chunk's values (0 or 1 after the four double planes): bins a rank's
  // solver could not solve reach the root's frame, its count and its specmask's BAD2DFIT.
  const std::size_t nw = c.grid.size(), plane = 25u * nw;
  std::vector<double> flagged = values;
  for (int j = 10; j < 20; ++j) {
    const std::size_t k = 3 * nw + static_cast<std::size_t>(j);  // fiber 3, bin j
    flagged[k] = flagged[plane + k] = 0.0;                       // flux and ivar 0, as the solver leaves them
    flagged[4 * plane + k] = 1.0;
  }
  perfex::FrameExtractor with_unsolved(perfex::ExecSpace(), c.psf, c.grid, 0, 50, options);
  with_unsolved.begin(input);
  with_unsolved.extract_chunk(1);
  with_unsolved.write_chunk(0, flagged.data());
  const auto f = with_unsolved.finish();
  CHECK(f.result.unsolved_bins == 10);
  int wrong = 0, unflagged = 0;
  for (int i = 0; i < 50; ++i)
    for (std::size_t j = 0; j < nw; ++j) {
      const bool expected = i == 3 && j >= 10 && j < 20;
      wrong += (f.result.unsolved(i, j) != 0) != expected;
      unflagged += expected && (f.mask(i, j) & perfex::specmask::bad2dfit) == 0;
    }
  CHECK(wrong == 0);
  CHECK(unflagged == 0);

  // The same pipeline again (plans and workspace reused, fresh arrays): the same frame, and the first
  // results are not overwritten.
  const double first_flux = whole.result.flux(3, 150);
  perfex::FrameExtractor again(perfex::ExecSpace(), c.psf, c.grid, 0, 50, options);
  const auto one = again.extract(input);
  const auto two = again.extract(input);
  check_same_frame(whole, one);
  check_same_frame(one, two);
  CHECK(one.result.flux.data() != two.result.flux.data());
  CHECK(whole.result.flux(3, 150) == first_flux);
}

TEST_CASE("upload_image applies the CCD mask, as io::read_preproc does", "[core][pipeline]") {
  const auto& c = edge_case();
  const auto options = frame_options(c.psf);
  // The mask applied on the host (the reader's rule) vs by upload_image on the device.
  perfex::HostView<double**> masked("masked", c.ivar.extent(0), c.ivar.extent(1));
  int excluded = 0, kept = 0;
  for (std::size_t y = 0; y < c.ivar.extent(0); ++y)
    for (std::size_t x = 0; x < c.ivar.extent(1); ++x) {
      masked(y, x) = perfex::ccd_mask::extraction_weight(c.ivar(y, x), c.mask(y, x));
      excluded += masked(y, x) == 0.0 && c.ivar(y, x) != 0.0;
      kept += c.mask(y, x) != 0 && masked(y, x) != 0.0;
    }
  REQUIRE(excluded > 1000);
  REQUIRE(kept > 1000);
  perfex::HostImage h;
  h.image = c.image;
  h.ivar = masked;
  h.ccd_ny = c.psf.npix_y;
  h.ccd_nx = c.psf.npix_x;
  const auto a = perfex::extract_frame(perfex::ExecSpace(), perfex::upload_image(perfex::ExecSpace(), h), c.psf, c.grid,
                                       0, 25, options);
  h.ivar = c.ivar;
  h.mask = c.mask;
  const auto b = perfex::extract_frame(perfex::ExecSpace(), perfex::upload_image(perfex::ExecSpace(), h), c.psf, c.grid,
                                       0, 25, options);
  check_same_frame(a, b);
  // A cutout that does not fit its CCD, a mask of another shape: usage errors.
  h.origin_y = 1;
  CHECK_THROWS_AS(perfex::upload_image(perfex::ExecSpace(), h), perfex::Error);
  h.origin_y = 0;
  h.mask = perfex::HostView<const std::int32_t**>(c.mask.data(), 10, 10);
  CHECK_THROWS_AS(perfex::upload_image(perfex::ExecSpace(), h), perfex::Error);
}

TEST_CASE("upload_image: unusable pixels get weight 0, contiguous and padded arrays alike", "[core][pipeline]") {
  // Every pixel limit of perfex/core/pixel_limits.hpp, scattered over a small CCD, seen through contiguous
  // views (the flat count) and through padded ones (the first nx columns of wider rows: the 2D count).
  static constexpr int ny = 7, nx = 9, padded = nx + 5;
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  perfex::HostView<double**> wide_image("image", ny, padded), wide_ivar("ivar", ny, padded);
  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < padded; ++x) {
      wide_image(y, x) = 10.0 + y + 0.1 * x;
      wide_ivar(y, x) = 0.5 + 0.01 * (y + x);
    }
  struct Bad {
    int y, x;
    double value, ivar;
  };
  const std::vector<Bad> bad = {{1, 2, nan, 1.0},  {2, 4, inf, 1.0}, {3, 6, -2e10, 1.0},
                                {4, 8, 1.0, 2e10}, {5, 0, 1.0, inf}, {6, 2, 1.0, nan}};
  for (const Bad& b : bad) {
    wide_image(b.y, b.x) = b.value;
    wide_ivar(b.y, b.x) = b.ivar;
  }
  const auto first_columns = [](const perfex::HostView<double**>& v) -> perfex::HostView<const double**> {
    return Kokkos::subview(v, Kokkos::ALL(), std::make_pair(0, nx));
  };
  perfex::HostView<double**> image("image", ny, nx), ivar("ivar", ny, nx);
  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < nx; ++x) {
      image(y, x) = wide_image(y, x);
      ivar(y, x) = wide_ivar(y, x);
    }
  const auto weights_of = [&](const perfex::HostView<const double**>& img, const perfex::HostView<const double**>& iv) {
    perfex::HostImage h;
    h.image = img;
    h.ivar = iv;
    h.ccd_ny = ny;
    h.ccd_nx = nx;
    const auto input = perfex::upload_image(perfex::ExecSpace(), h);
    return Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), input.weights);
  };
  const auto check = [&](const auto& w) {
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x) {
        const bool unusable = std::any_of(bad.begin(), bad.end(), [&](const Bad& b) { return b.y == y && b.x == x; });
        INFO("pixel (" << y << ", " << x << ")");
        CHECK(w(y, x) == (unusable ? 0.0 : wide_ivar(y, x)));
      }
  };
  REQUIRE_FALSE(first_columns(wide_image).span_is_contiguous());
  check(weights_of(image, ivar));
  check(weights_of(first_columns(wide_image), first_columns(wide_ivar)));
}

TEST_CASE("Frame pipeline: partial bundles at either end, chunk-invariant, each cut as its own bundle",
          "[core][pipeline][partial]") {
  const auto& c = edge_case();
  auto options = frame_options(c.psf);
  options.extraction.nsubbundles = 3;  // 25 fibers: 8 + 8 + 9; the partial bundles are split likewise
  int total = 0;
  options.progress = [&](const perfex::FrameProgress& p) { total = p.bundles_total; };
  const auto input = c.input();
  // Fibers 10..39: bundle 0 from fiber 10 (15 fibers) and bundle 1 up to fiber 39 (15 fibers).
  options.bundles_per_chunk = 1;
  const auto a = perfex::extract_frame(perfex::ExecSpace(), input, c.psf, c.grid, 10, 30, options);
  CHECK(total == 2);
  options.bundles_per_chunk = 2;
  const auto b = perfex::extract_frame(perfex::ExecSpace(), input, c.psf, c.grid, 10, 30, options);
  check_same_frame(a, b);
  // The first partial bundle alone, as desispec extracts a bundle's fibers 10..24: the same values.
  const auto first = perfex::extract_frame(perfex::ExecSpace(), input, c.psf, c.grid, 10, 15, options);
  REQUIRE(a.result.nspec == 30);
  int differ_alone = 0, no_ivar = 0;
  for (int i = 0; i < 15; ++i)
    for (int j = 0; j < a.result.nwave; ++j) {
      differ_alone += a.result.flux(i, j) != first.result.flux(i, j) || a.result.ivar(i, j) != first.result.ivar(i, j);
      // Bundle 0 is lit: every bin of its fibers well on the CCD (the traces reach row 0 near bin 165) is
      // constrained.
      if (j >= 200) no_ivar += !(a.result.ivar(i, j) > 0.0);
    }
  CHECK(differ_alone == 0);
  CHECK(no_ivar == 0);

  // In pieces, as the MPI driver runs it: chunks of 5 (fibers 20..24) and 25 fibers; a process holding one
  // chunk at a time sizes its arrays for the largest chunk, not the first.
  options.bundles_per_chunk = 1;
  options.progress = nullptr;
  const auto whole = perfex::extract_frame(perfex::ExecSpace(), input, c.psf, c.grid, 20, 30, options);
  perfex::FrameExtractor root(perfex::ExecSpace(), c.psf, c.grid, 20, 30, options);
  perfex::FrameExtractor rank(perfex::ExecSpace(), c.psf, c.grid, 20, 30, options);
  REQUIRE(root.chunks() == 2);
  CHECK(root.chunk_fiber_begin(0) == 20);
  CHECK(root.chunk_fibers(0) == 5);
  CHECK(root.chunk_fiber_begin(1) == 25);
  CHECK(root.chunk_fibers(1) == 25);
  root.begin(input);
  rank.begin(input, perfex::FrameStorage::OneChunk);
  root.extract_chunk(0);
  rank.extract_chunk(1);
  std::vector<double> values(rank.chunk_values(1));
  rank.read_chunk(1, values.data());
  root.write_chunk(1, values.data());
  check_same_frame(whole, root.finish());
}

TEST_CASE("Frame pipeline: refuses fibers beyond the PSF, a non-linear grid, bad options", "[core][pipeline]") {
  const auto& c = edge_case();
  const auto options = frame_options(c.psf);
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
  const auto input = c.input();
  expect(perfex::ErrorKind::Data, "the PSF has fibers 0..499",
         [&] { perfex::extract_frame(ex, input, c.psf, c.grid, 475, 50, options); });
  auto bent = c.grid;
  bent.back() += 0.3;
  expect(perfex::ErrorKind::Usage, "linear", [&] { perfex::extract_frame(ex, input, c.psf, bent, 0, 25, options); });
  expect(perfex::ErrorKind::Usage, "at least 2 bins",
         [&] { perfex::extract_frame(ex, input, c.psf, {6000.0}, 0, 25, options); });
  auto bad_options = options;
  bad_options.extraction.nsubbundles = 26;
  expect(perfex::ErrorKind::Usage, "--nsubbundles must be in 1..25",
         [&] { perfex::extract_frame(ex, input, c.psf, c.grid, 0, 25, bad_options); });
  bad_options = options;
  bad_options.bundles_per_chunk = -1;
  expect(perfex::ErrorKind::Usage, "--bundles-per-chunk",
         [&] { perfex::extract_frame(ex, input, c.psf, c.grid, 0, 25, bad_options); });
  perfex::FrameExtractor fx(ex, c.psf, c.grid, 0, 25, options);
  expect(perfex::ErrorKind::Usage, "before begin", [&] { fx.extract_chunk(0); });
  fx.begin(input);
  expect(perfex::ErrorKind::Usage, "chunk 1 of 1", [&] { fx.extract_chunk(1); });
}
