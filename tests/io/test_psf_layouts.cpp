// specter's older PSF layouts (GAUSS-HERMITE PSFVER 2, GAUSS-HERMITE2): the golden spots, traces and
// wavelength solutions of ../shared/golden/specter-psf-formats with the bounds of its README; round trips
// of every layout; the same model in two layouts gives the same spots; refusals that name what is refused.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/core/types.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/psf_io.hpp"
#include "test_support.hpp"

using Catch::Matchers::ContainsSubstring;
using perfex::PsfLayout;
using perfex::io::FitsFile;

namespace {

// One row of a spots-<name>.fits SPOTS table.
struct GoldenSpot {
  int fiber = 0;
  double wave = 0, x = 0, y = 0;
  int xcorner = 0, ycorner = 0, ny = 0, nx = 0;
  int full_xcorner = 0, full_ycorner = 0, full_ny = 0, full_nx = 0;
  bool clipped = false, in_domain = false;
  std::vector<double> spot, spot_full, paramval;  // [stamp ny][stamp nx] row-major; [nparam]
};

struct GoldenFile {
  std::vector<GoldenSpot> spots;
  std::vector<double> trace_wave, trace_x, trace_y, yrows, wave_of_y;  // [25], [25 fibers, 25], ..., [25, 10]
  std::vector<long long> wrange_fiber;
  std::vector<double> wmin, wmax;
};

GoldenFile read_golden_spots(const std::string& path, int stamp_ny, int stamp_nx) {
  FitsFile f(path, FitsFile::Mode::Read);
  GoldenFile g;
  f.move_to("SPOTS");
  const long n = f.table_rows();
  auto ints = [&](const char* name) { return f.read_column_int(name); };
  const auto fiber = ints("FIBER"), xc = ints("XCORNER"), yc = ints("YCORNER"), ny = ints("NY"), nx = ints("NX");
  const auto fxc = ints("FULL_XCORNER"), fyc = ints("FULL_YCORNER"), fny = ints("FULL_NY"), fnx = ints("FULL_NX");
  const auto clipped = ints("CLIPPED"), in_domain = ints("INDOMAIN");
  const auto wave = f.read_column_double("WAVE"), x = f.read_column_double("X"), y = f.read_column_double("Y");
  const auto spot = f.read_column_double("SPOT"), spot_full = f.read_column_double("SPOT_FULL");
  const auto paramval = f.read_column_double("PARAMVAL");
  const std::size_t per_spot = static_cast<std::size_t>(stamp_ny) * stamp_nx;
  REQUIRE(spot.size() == per_spot * static_cast<std::size_t>(n));
  const std::size_t nparam = paramval.size() / static_cast<std::size_t>(n);
  for (long i = 0; i < n; ++i) {
    const std::size_t r = static_cast<std::size_t>(i);
    GoldenSpot s;
    s.fiber = static_cast<int>(fiber[r]);
    s.wave = wave[r];
    s.x = x[r];
    s.y = y[r];
    s.xcorner = static_cast<int>(xc[r]);
    s.ycorner = static_cast<int>(yc[r]);
    s.ny = static_cast<int>(ny[r]);
    s.nx = static_cast<int>(nx[r]);
    s.full_xcorner = static_cast<int>(fxc[r]);
    s.full_ycorner = static_cast<int>(fyc[r]);
    s.full_ny = static_cast<int>(fny[r]);
    s.full_nx = static_cast<int>(fnx[r]);
    s.clipped = clipped[r] != 0;
    s.in_domain = in_domain[r] != 0;
    s.spot.assign(spot.begin() + static_cast<long>(r * per_spot), spot.begin() + static_cast<long>((r + 1) * per_spot));
    s.spot_full.assign(spot_full.begin() + static_cast<long>(r * per_spot),
                       spot_full.begin() + static_cast<long>((r + 1) * per_spot));
    s.paramval.assign(paramval.begin() + static_cast<long>(r * nparam),
                      paramval.begin() + static_cast<long>((r + 1) * nparam));
    g.spots.push_back(std::move(s));
  }
  auto image = [&](const char* name) {
    f.move_to(name);
    return f.read_image_double();
  };
  g.trace_wave = image("TRACE_WAVE");
  g.trace_x = image("TRACE_X");
  g.trace_y = image("TRACE_Y");
  g.yrows = image("YROWS");
  g.wave_of_y = image("WAVE_OF_Y");
  f.move_to("WRANGE");
  g.wrange_fiber = f.read_column_int("FIBER");
  g.wmin = f.read_column_double("WMIN");
  g.wmax = f.read_column_double("WMAX");
  return g;
}

// The PSF-table rows in file order (X and Y first, as both files store them).
std::vector<std::string> table_order(const perfex::GaussHermitePsf& psf) {
  std::vector<std::string> names = {"X", "Y"};
  for (const auto& p : psf.params) names.push_back(p.name);
  return names;
}

// Everything the golden README tabulates for one file.
void check_golden_file(const std::string& psf_path, const std::string& spots_path, PsfLayout layout) {
  const auto psf = perfex::io::read_psf(psf_path);
  REQUIRE(psf.layout == layout);
  REQUIRE(psf.nfiber == 25);
  const int ny = psf.stamp_ny(), nx = psf.stamp_nx();
  const auto g = read_golden_spots(spots_path, ny, nx);
  REQUIRE(g.spots.size() == 31);
  const perfex::ExecSpace exec;
  const auto names = table_order(psf);
  double max_dspot = 0, max_dtrace = 0, max_dparam = 0;
  int compared_rows = 0;
  for (const auto& s : g.spots) {
    INFO("fiber " << s.fiber << " at " << s.wave << " A");
    // specter always adds the tails.
    perfex::SpotOptions options;
    options.tails = true;
    const auto cache = perfex::evaluate_spots(exec, psf, s.fiber, 1, {s.wave}, options);
    const auto spot = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.spots);
    const auto xc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.xcorner);
    const auto yc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.ycorner);
    const auto xcen = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.xcenter);
    const auto ycen = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.ycenter);
    max_dtrace = std::max({max_dtrace, std::fabs(xcen(0, 0) - s.x), std::fabs(ycen(0, 0) - s.y)});
    // perfex evaluates whole stamps; the clipped row is compared with specter's whole stamp (FULL_*), the
    // others with SPOT (equal to it there).
    const int want_x = s.clipped ? s.full_xcorner : s.xcorner, want_y = s.clipped ? s.full_ycorner : s.ycorner;
    const int want_ny = s.clipped ? s.full_ny : s.ny, want_nx = s.clipped ? s.full_nx : s.nx;
    const std::vector<double>& want = s.clipped ? s.spot_full : s.spot;
    CHECK(xc(0, 0) == want_x);
    CHECK(yc(0, 0) == want_y);
    CHECK(want_ny == ny);
    CHECK(want_nx == nx);
    double d = 0;
    for (int iy = 0; iy < ny; ++iy)
      for (int ix = 0; ix < nx; ++ix)
        d = std::max(d, std::fabs(spot(0, 0, iy, ix) - want[static_cast<std::size_t>(iy) * nx + ix]));
    INFO("max |d spot| " << d << (s.in_domain ? "" : " (beyond the PSF's domain: every parameter extrapolated)"));
    CHECK(d < 1e-12);  // the README's bound (a float64 evaluation of specter's formulas gets ~1e-15)
    max_dspot = std::max(max_dspot, d);
    ++compared_rows;
    // PARAMVAL: every PSF-table parameter at (fiber, wave), informative 1e-12 relative.
    const auto params = perfex::evaluate_psf_params(exec, psf, s.fiber, 1, {s.wave});
    REQUIRE(s.paramval.size() == names.size());
    for (std::size_t k = 0; k < names.size(); ++k) {
      if (names[k] == "CONT") continue;  // not part of the PSF; not evaluated by perfex
      const double v = params.values(0, 0, params.index(names[k])), ref = s.paramval[k];
      max_dparam = std::max(max_dparam, std::fabs(v - ref) / std::max(1.0, std::fabs(ref)));
    }
  }
  INFO("max |d spot| " << max_dspot << ", max |d x, y| " << max_dtrace << " px, max relative |d param| " << max_dparam);
  CHECK(compared_rows == 31);
  CHECK(max_dtrace < 1e-9);
  CHECK(max_dparam < 1e-12);

  // Traces on the domain (its ends included) and the wavelength at CCD rows: an exact root of Y(lambda) = y is
  // within 2e-3 A of specter's inverse fit (README).
  double dtrace = 0, dwave = 0, drange = 0;
  const std::size_t nw = g.trace_wave.size(), nrow = g.yrows.size();
  for (int f = 0; f < psf.nfiber; ++f) {
    for (std::size_t k = 0; k < nw; ++k) {
      dtrace = std::max(dtrace, std::fabs(psf.xtrace.evaluate(f, g.trace_wave[k]) - g.trace_x[f * nw + k]));
      dtrace = std::max(dtrace, std::fabs(psf.ytrace.evaluate(f, g.trace_wave[k]) - g.trace_y[f * nw + k]));
    }
    for (std::size_t k = 0; k < nrow; ++k)
      dwave = std::max(dwave, std::fabs(psf.wavelength_at_row(f, g.yrows[k]) - g.wave_of_y[f * nrow + k]));
  }
  for (std::size_t i = 0; i < g.wrange_fiber.size(); ++i) {
    const int f = static_cast<int>(g.wrange_fiber[i]);
    drange = std::max({drange, std::fabs(psf.wavelength_at_row(f, -0.5) - g.wmin[i]),
                       std::fabs(psf.wavelength_at_row(f, psf.npix_y - 0.5) - g.wmax[i])});
  }
  INFO("TRACE_X/Y " << dtrace << " px, WAVE_OF_Y " << dwave << " A, WRANGE " << drange << " A");
  CHECK(dtrace < 1e-9);
  CHECK(dwave < 2e-3);
  CHECK(drange < 2e-3);
}

// The same series: domain, fibers and every coefficient bit for bit, a missing trailing term counting as 0
// (one table shares one COEFF width: shorter rows are padded with zeros and the reader drops trailing zeros).
void require_same_series(const perfex::LegendreSeries& a, const perfex::LegendreSeries& b) {
  CHECK(a.wavemin == b.wavemin);
  CHECK(a.wavemax == b.wavemax);
  REQUIRE(a.nfiber == b.nfiber);
  const int n = std::max(a.ncoef, b.ncoef);
  int differ = 0;
  for (int f = 0; f < a.nfiber; ++f)
    for (int k = 0; k < n; ++k) {
      const double x = k < a.ncoef ? a.at(f, k) : 0.0, y = k < b.ncoef ? b.at(f, k) : 0.0;
      differ += x != y;
    }
  CHECK(differ == 0);
}

void require_same_psf(const perfex::GaussHermitePsf& a, const perfex::GaussHermitePsf& b) {
  CHECK(a.layout == b.layout);
  CHECK(a.nfiber == b.nfiber);
  CHECK(a.npix_x == b.npix_x);
  CHECK(a.npix_y == b.npix_y);
  CHECK(a.hsizex == b.hsizex);
  CHECK(a.hsizey == b.hsizey);
  CHECK(a.ghdegx == b.ghdegx);
  CHECK(a.ghdegy == b.ghdegy);
  CHECK(a.ghdegx2 == b.ghdegx2);
  CHECK(a.ghdegy2 == b.ghdegy2);
  CHECK(a.psferr_keyword == b.psferr_keyword);
  CHECK(a.psferror_specex == b.psferror_specex);
  CHECK(a.camera == b.camera);
  CHECK(a.fibermin == b.fibermin);
  require_same_series(a.xtrace, b.xtrace);
  require_same_series(a.ytrace, b.ytrace);
  REQUIRE(a.params.size() == b.params.size());
  for (std::size_t i = 0; i < a.params.size(); ++i) {
    INFO("row " << a.params[i].name);
    CHECK(a.params[i].name == b.params[i].name);
    require_same_series(a.params[i].series, b.params[i].series);
  }
}

perfex::GaussHermitePsf synthetic(PsfLayout layout, bool tails, std::uint64_t seed = 5) {
  perfex::SyntheticPsfOptions o;
  o.camera = "z3";
  o.seed = seed;
  o.tails = tails;
  o.layout = layout;
  return perfex::make_synthetic_psf(o);
}

std::string write_damaged(const perfex::test::TempDir& dir, const std::string& name, const perfex::GaussHermitePsf& psf,
                          const std::function<void(FitsFile&)>& edit) {
  const std::string path = (dir / name).string();
  FitsFile file(path, FitsFile::Mode::Create);
  perfex::io::write_psf(psf, file);
  edit(file);
  file.close();
  return path;
}

void require_data_error(const std::string& path, const std::vector<std::string>& fragments) {
  try {
    perfex::io::read_psf(path);
    FAIL("reading " << path << " should fail");
  } catch (const perfex::Error& e) {
    INFO(e.what());
    CHECK(e.exit_code() == 1);
    CHECK_THAT(e.what(), ContainsSubstring(path));
    for (const auto& f : fragments) CHECK_THAT(e.what(), ContainsSubstring(f));
  }
}

}  // namespace

TEST_CASE("specter's GAUSS-HERMITE PSFVER 2 file: golden spots, traces and wavelengths", "[io][psf][golden][shared]") {
  PERFEX_REQUIRE_SHARED(dir, "golden/specter-psf-formats");
  check_golden_file((dir / "psf-gausshermite.fits").string(), (dir / "spots-gausshermite.fits").string(),
                    PsfLayout::OneTable);
}

TEST_CASE("specter's GAUSS-HERMITE2 file: golden spots, traces and wavelengths", "[io][psf][golden][shared]") {
  PERFEX_REQUIRE_SHARED(dir, "golden/specter-psf-formats");
  check_golden_file((dir / "psf-gausshermite2.fits").string(), (dir / "spots-gausshermite2.fits").string(),
                    PsfLayout::TwoCores);
}

TEST_CASE("The golden files read as the README describes them", "[io][psf][shared]") {
  PERFEX_REQUIRE_SHARED(dir, "golden/specter-psf-formats");
  const auto gh = perfex::io::read_psf((dir / "psf-gausshermite.fits").string());
  CHECK(gh.stamp_nx() == 29);
  CHECK(gh.stamp_ny() == 17);
  CHECK(gh.ghdegx == 8);
  CHECK(gh.camera.empty());
  CHECK(gh.default_psferr() == 0.01);  // no PSFERR; PSFERROR 0.0 is not read
  CHECK(gh.wavemin() == 5564.0);
  CHECK(gh.wavemax() == 7805.0);
  const auto gh2 = perfex::io::read_psf((dir / "psf-gausshermite2.fits").string());
  CHECK(gh2.stamp_nx() == 20);
  CHECK(gh2.stamp_ny() == 20);
  CHECK(gh2.ghdegx2 == 3);
  CHECK(gh2.ghdegy2 == 3);
  CHECK(gh2.camera == "r2");
  CHECK(gh2.default_psferr() == 0.01);  // PSFERROR 0.05 is not read
  CHECK(gh2.wavemin() == 5460.0);
  CHECK(gh2.wavemax() == 10140.0);
  CHECK(gh2.has_param("GH2-3-3"));
  CHECK_FALSE(gh2.has_param("X"));  // the traces are xtrace/ytrace
}

TEST_CASE("Every layout survives a write/read round trip bit for bit", "[io][psf]") {
  perfex::test::TempDir dir;
  for (PsfLayout layout : {PsfLayout::XtraceYtracePsf, PsfLayout::OneTable, PsfLayout::TwoCores})
    for (bool tails : {false, true}) {
      INFO(perfex::layout_description(layout) << ", tails " << tails);
      const auto psf = synthetic(layout, tails);
      const std::string path =
          (dir / ("psf-" + std::to_string(static_cast<int>(layout)) + (tails ? "-t" : "") + ".fits")).string();
      perfex::io::write_psf(psf, path, false);
      require_same_psf(psf, perfex::io::read_psf(path));
    }
}

TEST_CASE("The same model in the PSFVER 3 and PSFVER 2 layouts gives the same spots bit for bit", "[io][psf]") {
  perfex::test::TempDir dir;
  const auto v3 = synthetic(PsfLayout::XtraceYtracePsf, true);
  auto v2 = v3;
  v2.layout = PsfLayout::OneTable;  // per-row domains keep the traces' and the table's own domains
  const std::string path = (dir / "psf-v2.fits").string();
  perfex::io::write_psf(v2, path, false);
  const auto read = perfex::io::read_psf(path);
  REQUIRE(read.layout == PsfLayout::OneTable);
  const std::vector<double> waves = {7520.0, 8000.4, 9000.0, 9823.2};
  const perfex::ExecSpace exec;
  for (bool tails : {false, true}) {
    perfex::SpotOptions o;
    o.tails = tails;
    const auto a = perfex::evaluate_spots(exec, v3, 240, 20, waves, o);
    const auto b = perfex::evaluate_spots(exec, read, 240, 20, waves, o);
    const auto sa = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), a.spots);
    const auto sb = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), b.spots);
    const auto ya = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), a.ycorner);
    const auto yb = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), b.ycorner);
    REQUIRE(sa.size() == sb.size());
    CHECK(std::equal(sa.data(), sa.data() + sa.size(), sb.data()));
    CHECK(std::equal(ya.data(), ya.data() + ya.size(), yb.data()));
  }
}

TEST_CASE("GAUSS-HERMITE2 spots: even stamps from floor(x) - HSIZEX, unit sum, the first core cut", "[io][psf]") {
  const auto psf = synthetic(PsfLayout::TwoCores, false);
  REQUIRE(psf.stamp_nx() == 20);
  const std::vector<double> waves = {7600.0, 8123.4, 9500.0};
  const perfex::ExecSpace exec;
  const auto cache = perfex::evaluate_spots(exec, psf, 100, 3, waves);
  const auto s = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.spots);
  const auto xc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.xcorner);
  const auto yc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.ycorner);
  const auto xcen = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.xcenter);
  const auto ycen = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), cache.ycenter);
  for (int f = 0; f < 3; ++f)
    for (int w = 0; w < 3; ++w) {
      CHECK(xc(f, w) == static_cast<int>(std::floor(xcen(f, w))) - psf.hsizex);
      CHECK(yc(f, w) == static_cast<int>(std::floor(ycen(f, w))) - psf.hsizey);
      double sum = 0, min = 1;
      for (int iy = 0; iy < 20; ++iy)
        for (int ix = 0; ix < 20; ++ix) {
          sum += s(f, w, iy, ix);
          min = std::min(min, s(f, w, iy, ix));
        }
      CHECK(std::fabs(sum - 1.0) < 1e-12);
      CHECK(min >= 0.0);
      // 6 px beside the centre, beyond the first core's 3.5-sigma cut (sigma ~1.1 px, exp(-15) there), the
      // second core (sigma 3 px, ~20% of the light) still gives ~5e-4.
      CHECK(s(f, w, 10, 16) > 1e-4);
      CHECK(s(f, w, 10, 4) > 1e-4);
    }
}

TEST_CASE("PSF types perfex does not read are refused by name", "[io][psf][errors]") {
  perfex::test::TempDir dir;
  const auto v3 = synthetic(PsfLayout::XtraceYtracePsf, false);
  const auto v2 = synthetic(PsfLayout::OneTable, false);
  for (const std::string type : {"SPOTGRID", "MONOSPOT", "PCA-PIX"}) {
    SECTION(type) {
      const auto path = write_damaged(dir, type + ".fits", v2, [&](FitsFile& f) {
        f.move_to_index(0);
        f.write_key("PSFTYPE", type);
        f.move_to_index(1);
        f.write_key("PSFTYPE", type);
      });
      require_data_error(path, {"PSFTYPE is '" + type + "'", "specter's", "perfex does not read",
                                "GAUSS-HERMITE (PSFVER 2 or >= 3) and GAUSS-HERMITE2"});
    }
  }
  SECTION("PSFVER 0") {
    const auto path = write_damaged(dir, "psfver0.fits", v2, [](FitsFile& f) {
      f.move_to_index(0);
      f.write_key("PSFVER", "0");
      f.move_to_index(1);
      f.write_key("PSFVER", "0");
    });
    require_data_error(path, {"PSFVER is 0", "PSFVER 1-2", ">= 3"});
  }
  SECTION("a PSFVER that is not a number") {
    const auto path = write_damaged(dir, "psfver-text.fits", v2, [](FitsFile& f) {
      f.move_to_index(0);
      f.write_key("PSFVER", "two");
    });
    require_data_error(path, {"PSFVER is 'two'", "version number"});
  }
  SECTION("HDUs that disagree on PSFTYPE") {
    const auto path = write_damaged(dir, "mixed-type.fits", v2, [](FitsFile& f) {
      f.move_to_index(1);
      f.write_key("PSFTYPE", "GAUSS-HERMITE2");
    });
    require_data_error(path, {"PSFTYPE is 'GAUSS-HERMITE2' but 'GAUSS-HERMITE'"});
  }
  SECTION("PSFVER 2 on a file with XTRACE, YTRACE and PSF HDUs") {
    const auto path = write_damaged(dir, "v3-says-2.fits", v3, [](FitsFile& f) {
      f.move_to("XTRACE");
      f.write_key("PSFVER", 2);
      f.move_to("PSF");
      f.write_key("PSFVER", "2");
    });
    require_data_error(path, {"[XTRACE]", "PSFVER is 2", "one-table", "HDU 1 (YTRACE) is an image"});
  }
  SECTION("GAUSS-HERMITE2 without its second core") {
    auto damaged = synthetic(PsfLayout::TwoCores, false);
    damaged.params.erase(std::remove_if(damaged.params.begin(), damaged.params.end(),
                                        [](const perfex::NamedSeries& p) { return p.name == "GH2-1-2"; }),
                         damaged.params.end());
    const auto path = write_damaged(dir, "no-gh2.fits", damaged, [](FitsFile&) {});
    require_data_error(path, {"PSF table", "GH2-1-2"});
  }
  SECTION("GAUSS-HERMITE2 without GHDEGX2") {
    const auto path = write_damaged(dir, "no-ghdegx2.fits", synthetic(PsfLayout::TwoCores, false), [](FitsFile& f) {
      f.move_to_index(1);
      f.delete_key("GHDEGX2");
    });
    require_data_error(path, {"keyword GHDEGX2", "missing"});
  }
  SECTION("a one-table file without the trace row Y") {
    auto damaged = v2;
    damaged.ytrace = damaged.xtrace;  // the writer writes X and Y from the traces: rename Y afterwards
    const auto path = write_damaged(dir, "no-y.fits", damaged, [&](FitsFile& f) {
      f.move_to_index(1);
      f.write_column("PARAM", [&] {
        std::vector<std::string> names = {"X", "YY"};
        for (const auto& p : v2.params) names.push_back(p.name);
        return names;
      }());
    });
    require_data_error(path, {"no PARAM row 'Y'"});
  }
  SECTION("FIBERMAX below FIBERMIN") {
    const auto path = write_damaged(dir, "fibermax.fits", v2, [](FitsFile& f) {
      f.move_to_index(1);
      f.write_key("FIBERMAX", -3);
    });
    require_data_error(path, {"FIBERMIN", "FIBERMAX", "no fibers"});
  }
}
