// The patch plan's rules without files: bundles clipped to the requested fibers, specter's subbundle split,
// padding fibers inside the (clipped) bundle, the band of fibers coupled by overlapping stamps, and the
// wavelength padding that covers the spots.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/patch_plan.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/core/types.hpp"

namespace {

std::vector<int> sizes(const std::vector<std::pair<int, int>>& ranges) {
  std::vector<int> out;
  int next = 0;
  for (const auto& [lo, n] : ranges) {
    CHECK(lo == next);  // contiguous from 0
    next = lo + n;
    out.push_back(n);
  }
  return out;
}

// Corners of a toy geometry: fibers `pitch` px apart, traces rising `rows_per_bin` rows per bin, on the
// padded grid of `nfull` bins.
struct Corners {
  perfex::HostView<int**> x, y;
};
Corners toy_corners(int nfiber, int nfull, double pitch, double rows_per_bin, int hsizex, int hsizey) {
  Corners c{perfex::HostView<int**>("x", nfiber, nfull), perfex::HostView<int**>("y", nfiber, nfull)};
  for (int f = 0; f < nfiber; ++f)
    for (int w = 0; w < nfull; ++w) {
      c.x(f, w) = static_cast<int>(std::floor(100.0 + pitch * f - hsizex + 0.5));
      c.y(f, w) = static_cast<int>(std::floor(500.0 + rows_per_bin * w + 0.05 * f - hsizey + 0.5));
    }
  return c;
}

}  // namespace

TEST_CASE("split_bundle splits a bundle as specter's split_bundle does", "[plan]") {
  // specter's docstring example, and the splits of 25 fibers numpy.array_split and one bubble pass give.
  CHECK(sizes(perfex::split_bundle(10, 3)) == std::vector<int>{3, 3, 4});
  CHECK(sizes(perfex::split_bundle(25, 2)) == std::vector<int>{12, 13});
  CHECK(sizes(perfex::split_bundle(25, 3)) == std::vector<int>{8, 8, 9});
  CHECK(sizes(perfex::split_bundle(25, 4)) == std::vector<int>{6, 6, 6, 7});
  CHECK(sizes(perfex::split_bundle(25, 5)) == std::vector<int>{5, 5, 5, 5, 5});
  CHECK(sizes(perfex::split_bundle(25, 6)) == std::vector<int>{4, 4, 4, 4, 4, 5});
  CHECK(sizes(perfex::split_bundle(25, 7)) == std::vector<int>{4, 4, 4, 3, 3, 3, 4});
  CHECK(sizes(perfex::split_bundle(25, 11)) == std::vector<int>{3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 3});
  CHECK(sizes(perfex::split_bundle(7, 4)) == std::vector<int>{2, 2, 1, 2});
  CHECK(sizes(perfex::split_bundle(25, 25)) == std::vector<int>(25, 1));
  // A partial bundle smaller than the split: single fibers (specter's split would leave empty subbundles).
  CHECK(sizes(perfex::split_bundle(3, 5)) == std::vector<int>{1, 1, 1});
  // The options' bound on a patch's core fibers holds for every bundle size up to bundlesize.
  for (int nsub = 1; nsub <= 25; ++nsub) {
    perfex::ExtractionOptions o;
    o.nsubbundles = nsub;
    for (int n = 1; n <= 25; ++n)
      for (const auto& [lo, size] : perfex::split_bundle(n, nsub)) CHECK(size <= o.fibers_per_subbundle());
  }
}

TEST_CASE("bundle_ranges clips DESI's bundles to the requested fibers", "[plan]") {
  using R = std::vector<std::pair<int, int>>;
  CHECK(perfex::bundle_ranges(0, 50, 25) == R{{0, 25}, {25, 25}});
  CHECK(perfex::bundle_ranges(0, 10, 25) == R{{0, 10}});
  CHECK(perfex::bundle_ranges(5, 20, 25) == R{{5, 20}});
  CHECK(perfex::bundle_ranges(5, 30, 25) == R{{5, 20}, {25, 10}});
  CHECK(perfex::bundle_ranges(24, 2, 25) == R{{24, 1}, {25, 1}});
  CHECK(perfex::bundle_ranges(490, 10, 25) == R{{490, 10}});
  CHECK(perfex::bundle_ranges(3, 60, 10) == R{{3, 7}, {10, 10}, {20, 10}, {30, 10}, {40, 10}, {50, 10}, {60, 3}});
}

TEST_CASE("plan_patches: partial bundles and uneven splits tile the requested fibers once", "[plan]") {
  const int nwave = 120;
  perfex::ExtractionOptions o;
  const int nfull = nwave + 2 * o.wavepad() + o.nwavestep;
  const auto c = toy_corners(60, nfull, 7.4, 1.7, 8, 5);
  for (int nsub : {1, 2, 3, 4, 5, 6, 7, 13, 25})
    for (const auto& [specmin, nspec] : std::vector<std::pair<int, int>>{{0, 50}, {5, 20}, {7, 40}, {24, 2}, {3, 1}}) {
      INFO("nsubbundles " << nsub << ", fibers " << specmin << ".." << specmin + nspec - 1);
      o.nsubbundles = nsub;
      const auto plan = perfex::plan_patches(c.x, c.y, 0, 11, 17, specmin, nspec, nwave, o);
      std::vector<int> covered(static_cast<std::size_t>(nspec), 0);
      int max_core = 0;
      for (const auto& p : plan.patches) {
        if (p.out_wave != 0) continue;  // one wavelength step is enough
        max_core = std::max(max_core, p.ncore_fiber);
        for (int f = p.core_fiber_lo; f < p.core_fiber_lo + p.ncore_fiber; ++f)
          ++covered[static_cast<std::size_t>(f - specmin)];
        // Padding fibers: one neighbour each side, inside the requested fibers and inside DESI's bundle.
        const int bundle_lo = std::max(specmin, p.core_fiber_lo / 25 * 25);
        const int bundle_hi = std::min(specmin + nspec, (p.core_fiber_lo / 25 + 1) * 25);
        CHECK(p.fiber_lo == std::max(bundle_lo, p.core_fiber_lo - 1));
        CHECK(p.fiber_lo + p.nfiber == std::min(bundle_hi, p.core_fiber_lo + p.ncore_fiber + 1));
        CHECK(p.core_fiber_lo + p.ncore_fiber <= bundle_hi);
      }
      CHECK(covered == std::vector<int>(static_cast<std::size_t>(nspec), 1));
      CHECK(plan.max_ncore_fiber == max_core);
      CHECK(max_core <= o.fibers_per_subbundle());
    }
}

TEST_CASE("plan_patches measures how far apart fibers have overlapping stamps, whatever the layout", "[plan]") {
  // One rule for every PSF layout: the plan records the largest fiber distance whose stamps overlap (the
  // solver then measures those couplings and widens its fiber tiles when they matter).
  perfex::ExtractionOptions o;
  const int nwave = 60, nfull = nwave + 2 * o.wavepad() + o.nwavestep;
  const int nw = o.patch_nwave();
  struct Geometry {
    double pitch;
    int stamp_ny, stamp_nx;
    int coupling;  // expected fiber_coupling of patches with at least 3 fibers
  };
  // GAUSS-HERMITE2-like: 20-px stamps, fibers 6.8 px apart: two apart overlap, three apart (20.4 px) do not.
  // DESI-like: 11 x 17 stamps, fibers 7.4 px apart: two apart overlap (14.8 px), as DESI's wings do.
  // Fibers 10 px apart with 17-px stamps: neighbours only. 30 px apart: no fibers overlap.
  for (const Geometry g :
       {Geometry{6.8, 20, 20, 2}, Geometry{7.4, 11, 17, 2}, Geometry{10.0, 11, 17, 1}, Geometry{30.0, 11, 17, 0}}) {
    INFO("pitch " << g.pitch << ", stamps " << g.stamp_ny << " x " << g.stamp_nx);
    const auto c = toy_corners(25, nfull, g.pitch, 1.75, g.stamp_nx / 2, g.stamp_ny / 2);
    const auto plan = perfex::plan_patches(c.x, c.y, 0, g.stamp_ny, g.stamp_nx, 0, 25, nwave, o);
    REQUIRE(!plan.patches.empty());
    for (const perfex::Patch& p : plan.patches) {
      CHECK(p.nfiber >= 3);
      CHECK(p.fiber_coupling == g.coupling);
      CHECK(p.wave_skew >= 0);
      CHECK(p.wave_skew < nw);
      CHECK(p.bandwidth >= std::max(g.coupling * nw, nw - 1));  // fibers `coupling` apart inside the band
      CHECK(p.bandwidth < (g.coupling + 1) * nw);               // farther ones not
    }
    CHECK(plan.max_fiber_coupling == g.coupling);
  }
}

TEST_CASE("wavelength_padding: the reference's 12 bins where they cover the spots, more where spots are taller",
          "[plan]") {
  perfex::ExtractionOptions o;
  // DESI-like r PSF, 11-row stamps, ~1.8 rows per 0.8 A bin: 12 bins cover them.
  const auto r = perfex::make_synthetic_psf({});
  const auto grid = perfex::linear_wavelengths(5760, 7620, 0.8);
  CHECK(perfex::wavelength_padding(r, grid, o) == 12);
  // GAUSS-HERMITE2: 20-row stamps. With 2.0 A bins (~4.5 rows) 12 bins are plenty; with 0.4 A bins (~0.9 row)
  // the spot spans ~22 bins: the padding grows to cover it.
  perfex::SyntheticPsfOptions gh2;
  gh2.layout = perfex::PsfLayout::TwoCores;
  const auto two = perfex::make_synthetic_psf(gh2);
  CHECK(perfex::wavelength_padding(two, perfex::linear_wavelengths(5760, 7620, 2.0), o) == 12);
  const int fine = perfex::wavelength_padding(two, perfex::linear_wavelengths(6000, 6400, 0.4), o);
  INFO("GAUSS-HERMITE2 at 0.4 A: " << fine << " bins");
  CHECK(fine > 22);
  CHECK(fine < 30);
  // A larger --wavepad-frac is kept; a grid far finer than the PSF's resolution is capped at 4x the reference.
  o.wavepad_frac = 1.0;
  CHECK(perfex::wavelength_padding(r, grid, o) == 20);
  o.wavepad_frac = 0.2;
  CHECK(perfex::wavelength_padding(r, perfex::linear_wavelengths(6000, 6010, 0.01), o) == 48);
  // The whole bundle in each patch (--nsubbundles 1): the traces' tilt across 27 fibers adds rows to cover.
  o.nsubbundles = 1;
  CHECK(perfex::wavelength_padding(r, grid, o) >= 12);
}
