// The per-patch solver against gpu_specter's recorded intermediates (golden patches.fits): three patches
// (interior, lower bundle edge, trimmed last patch) solved from the recorded spots, pixels and weights.
#include <catch2/catch_test_macros.hpp>

#include <cmath>

#include "golden_support.hpp"
#include "perfex/core/extract.hpp"
#include "test_support.hpp"

namespace {

using perfex::test::GoldenArray;
using perfex::test::read_golden;

template <class T>
perfex::DeviceView<T> upload(const perfex::HostView<T>& h) {
  auto d = Kokkos::create_mirror_view_and_copy(perfex::MemSpace(), h);
  return d;
}

void check_patch(const std::filesystem::path& file, const std::string& name) {
  perfex::io::FitsFile f(file.string(), perfex::io::FitsFile::Mode::Read);
  f.move_to(name + "_WAVE");
  const int specmin = static_cast<int>(f.require_key_int("SPECMIN"));
  const int nspecpad = static_cast<int>(f.require_key_int("NSPECPAD"));
  const int coreoff = static_cast<int>(f.require_key_int("COREOFF"));
  const int nkeep = static_cast<int>(f.require_key_int("NKEEP"));
  const int nwavetot = static_cast<int>(f.require_key_int("NWAVETOT"));
  const int ymin = static_cast<int>(f.require_key_int("YMIN")), ymax = static_cast<int>(f.require_key_int("YMAX"));
  const int xmin = static_cast<int>(f.require_key_int("XMIN")), xmax = static_cast<int>(f.require_key_int("XMAX"));
  const double psferr = f.require_key_double("PSFERR");
  const GoldenArray wave = read_golden(f, name + "_WAVE");
  const GoldenArray dwave = read_golden(f, name + "_DWAVE");
  const GoldenArray pixels = read_golden(f, name + "_PIXELS");
  const GoldenArray weights = read_golden(f, name + "_WEIGHTS");
  const GoldenArray spots = read_golden(f, name + "_SPOTS");
  const GoldenArray xcorner = read_golden(f, name + "_XCORNER");
  const GoldenArray ycorner = read_golden(f, name + "_YCORNER");
  const GoldenArray flux = read_golden(f, name + "_FLUX");
  const GoldenArray ivar = read_golden(f, name + "_IVAR");
  const GoldenArray rdiags = read_golden(f, name + "_RDIAGS");
  const GoldenArray pixmask = read_golden(f, name + "_PIXMASKF");
  const GoldenArray chi2pix = read_golden(f, name + "_CHI2PIX");
  const int ny = ymax - ymin, nx = xmax - xmin;
  REQUIRE(pixels.shape == std::vector<long>{ny, nx});

  // A spot cache holding exactly the recorded spots of the padded fibers at the patch's 74 wavelengths.
  perfex::SpotCache cache;
  cache.fiber_begin = specmin;
  cache.nfiber = nspecpad;
  cache.nwave = nwavetot;
  cache.stamp_ny = static_cast<int>(spots.shape[2]);
  cache.stamp_nx = static_cast<int>(spots.shape[3]);
  perfex::HostView<double****> hs("spots", nspecpad, nwavetot, cache.stamp_ny, cache.stamp_nx);
  perfex::HostView<int**> hx("xc", nspecpad, nwavetot), hy("yc", nspecpad, nwavetot);
  for (int i = 0; i < nspecpad; ++i)
    for (int w = 0; w < nwavetot; ++w) {
      hx(i, w) = static_cast<int>(xcorner.at(i, w));
      hy(i, w) = static_cast<int>(ycorner.at(i, w));
      for (int a = 0; a < cache.stamp_ny; ++a)
        for (int b = 0; b < cache.stamp_nx; ++b)
          hs(i, w, a, b) =
              spots.data[((static_cast<long>(i) * nwavetot + w) * cache.stamp_ny + a) * cache.stamp_nx + b];
    }
  cache.spots = upload(hs);
  cache.xcorner = upload(hx);
  cache.ycorner = upload(hy);

  perfex::HostView<double**> himg("img", ny, nx), hw("w", ny, nx);
  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < nx; ++x) {
      himg(y, x) = pixels.at(y, x);
      hw(y, x) = weights.at(y, x);
    }
  perfex::ImageInput input;
  input.image = upload(himg);
  input.weights = upload(hw);
  input.origin_y = ymin;
  input.origin_x = xmin;
  input.ccd_ny = 4128;
  input.ccd_nx = 4114;

  // One patch with the recorded box; every fiber pair and every bin pair may couple (the solver then measures
  // and drops the ~1e-16 coupling of fibers two apart, as for planned patches).
  perfex::ExtractionOptions options;
  options.psferr = psferr;
  perfex::Patch p;
  p.fiber_lo = specmin;
  p.nfiber = nspecpad;
  p.core_fiber_lo = specmin + coreoff;
  p.ncore_fiber = 5;
  p.wave_lo = 0;
  p.nwave = nwavetot;
  p.core_offset = 12;
  p.nkeep = nkeep;
  p.out_wave = 12;
  p.ymin = ymin;
  p.ymax = ymax;
  p.xmin = xmin;
  p.xmax = xmax;
  p.fiber_coupling = nspecpad - 1;
  p.wave_skew = nwavetot - 1;
  p.bandwidth = p.unknowns() - 1;
  perfex::PatchPlan plan;
  plan.patches = {p};
  plan.specmin = p.core_fiber_lo;
  plan.nspec = 5;
  plan.nwave = nwavetot;
  plan.wavepad = 12;
  plan.max_unknowns = p.unknowns();
  plan.max_bandwidth = p.bandwidth;
  plan.max_box_pixels = p.box_pixels();
  plan.max_nfiber = nspecpad;
  plan.max_nwave = nwavetot;
  plan.max_ncore_fiber = p.ncore_fiber;
  plan.max_fiber_coupling = p.fiber_coupling;
  const std::vector<double> grid(wave.data.begin(), wave.data.end());
  const auto r = perfex::extract(perfex::ExecSpace(), input, cache, grid, plan, options);
  const auto mydw = perfex::wavelength_gradient(grid);

  perfex::test::GoldenDeviations dev;
  for (int i = 0; i < 5; ++i)
    for (int k = 0; k < nkeep; ++k) {
      const int j = 12 + k;
      const double conv = mydw[j] / dwave(k);  // our unit conversion used this grid's gradient
      dev.add_bin(r.flux(i, j) * conv, flux.at(i, k), r.ivar(i, j) / (conv * conv), ivar.at(i, k),
                  r.pixmask_fraction(i, j), pixmask.at(i, k), r.chi2pix(i, j), chi2pix.at(i, k));
      for (int d = 0; d < 11; ++d) dev.add_resolution(r.resolution(i, d, j), rdiags.at(i, d, k));
    }
  dev.check(name);
}

}  // namespace

TEST_CASE("Per-patch solve matches gpu_specter's intermediates (golden patches P1, P2, P3)", "[golden][extract]") {
  PERFEX_REQUIRE_SHARED(file, "golden/r0-51060-bundle0/patches.fits");
  for (const char* name : {"P1", "P2", "P3"}) {
    SECTION(name) { check_patch(file, name); }
  }
}
