// Tests of the PSF file reader and writer: exact round trips, the two real DESI PSFs, and malformed files
// (each a data error naming the file, HDU and keyword).
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/psf_io.hpp"
#include "test_support.hpp"

using Catch::Matchers::ContainsSubstring;
using perfex::io::FitsFile;

namespace {

void require_same_series(const perfex::LegendreSeries& a, const perfex::LegendreSeries& b) {
  CHECK(a.wavemin == b.wavemin);
  CHECK(a.wavemax == b.wavemax);
  CHECK(a.nfiber == b.nfiber);
  CHECK(a.ncoef == b.ncoef);
  CHECK(a.coeff == b.coeff);  // bitwise: float64 all the way
}

void require_same_psf(const perfex::GaussHermitePsf& a, const perfex::GaussHermitePsf& b) {
  CHECK(a.nfiber == b.nfiber);
  CHECK(a.npix_x == b.npix_x);
  CHECK(a.npix_y == b.npix_y);
  CHECK(a.hsizex == b.hsizex);
  CHECK(a.hsizey == b.hsizey);
  CHECK(a.ghdegx == b.ghdegx);
  CHECK(a.ghdegy == b.ghdegy);
  CHECK(a.psferr_keyword == b.psferr_keyword);
  CHECK(a.psferror_specex == b.psferror_specex);
  CHECK(a.camera == b.camera);
  CHECK(a.fibermin == b.fibermin);
  require_same_series(a.xtrace, b.xtrace);
  require_same_series(a.ytrace, b.ytrace);
  REQUIRE(a.params.size() == b.params.size());
  for (std::size_t i = 0; i < a.params.size(); ++i) {
    INFO("PSF row " << a.params[i].name);
    CHECK(a.params[i].name == b.params[i].name);
    require_same_series(a.params[i].series, b.params[i].series);
  }
}

perfex::GaussHermitePsf synthetic(const std::string& camera = "r0", std::uint64_t seed = 3, bool tails = false) {
  perfex::SyntheticPsfOptions options;
  options.camera = camera;
  options.seed = seed;
  options.tails = tails;
  return perfex::make_synthetic_psf(options);
}

// Writes `psf` with the unvalidated writer, lets `edit` damage the open file, and returns the path.
std::string write_damaged(const perfex::test::TempDir& dir, const std::string& name, const perfex::GaussHermitePsf& psf,
                          const std::function<void(FitsFile&)>& edit) {
  const std::string path = (dir / name).string();
  FitsFile file(path, FitsFile::Mode::Create);
  perfex::io::write_psf(psf, file);
  edit(file);
  file.close();
  return path;
}

// read_psf(path) must fail with a data error whose message holds every fragment.
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

std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("A synthetic PSF survives a write/read round trip bit for bit", "[io][psf]") {
  perfex::test::TempDir dir;
  for (const std::string camera : {"b", "r0", "z5"}) {
    for (bool tails : {false, true}) {
      INFO("camera " << camera << ", tails " << tails);
      auto psf = synthetic(camera, 11, tails);
      const std::string path = (dir / ("psf-" + camera + (tails ? "-tails" : "") + ".fits")).string();
      perfex::io::write_psf(psf, path, false);
      require_same_psf(psf, perfex::io::read_psf(path));
    }
  }
}

TEST_CASE("Keywords that need 17 digits and optional keywords round trip exactly", "[io][psf]") {
  perfex::test::TempDir dir;
  auto psf = synthetic();
  // Domains that 15 significant digits would not reproduce.
  const double shift = 1.0 / 3.0;
  for (auto* s : {&psf.xtrace, &psf.ytrace}) {
    s->wavemin += shift;
    s->wavemax -= shift;
  }
  for (auto& p : psf.params) {
    p.series.wavemin -= std::nextafter(shift, 1.0);
    p.series.wavemax += 0.1 + 0.2;
  }
  psf.psferr_keyword = 0.1 + 0.2;
  psf.psferror_specex = 0.0;
  psf.fibermin = 500;
  psf.camera = "b1";
  const std::string path = (dir / "psf.fits").string();
  perfex::io::write_psf(psf, path, false);
  const auto back = perfex::io::read_psf(path);
  require_same_psf(psf, back);
  CHECK(back.default_psferr() == 0.1 + 0.2);

  psf.psferr_keyword.reset();
  psf.psferror_specex.reset();
  psf.camera.clear();
  perfex::io::write_psf(psf, path, true);
  require_same_psf(psf, perfex::io::read_psf(path));
}

TEST_CASE("Reading from memory gives the same PSF as reading the file", "[io][psf]") {
  perfex::test::TempDir dir;
  const auto psf = synthetic("z", 5);
  const std::string path = (dir / "psf.fits").string();
  perfex::io::write_psf(psf, path, false);
  const auto bytes = file_bytes(path);
  auto file = FitsFile::open_memory(bytes.data(), bytes.size(), "memory.fits");
  require_same_psf(psf, perfex::io::read_psf(file));
}

TEST_CASE("write_psf keeps an existing file without overwrite and validates what it writes", "[io][psf]") {
  perfex::test::TempDir dir;
  const std::string path = (dir / "psf.fits").string();
  std::ofstream(path) << "keep me";
  auto psf = synthetic();
  try {
    perfex::io::write_psf(psf, path, false);
    FAIL("an existing file must be refused without overwrite");
  } catch (const perfex::Error& e) {
    CHECK(e.exit_code() == 2);
    CHECK_THAT(e.what(), ContainsSubstring("--overwrite"));
  }
  std::ifstream in(path);
  std::string content;
  std::getline(in, content);
  CHECK(content == "keep me");

  psf.hsizex = 0;
  CHECK_THROWS_WITH(perfex::io::write_psf(psf, (dir / "bad.fits").string(), false), ContainsSubstring("HSIZEX"));
  CHECK_FALSE(std::filesystem::exists(dir / "bad.fits"));
}

TEST_CASE("The real PSF psf-r0-00051060 reads as documented", "[io][psf][shared]") {
  PERFEX_REQUIRE_SHARED(path, "data/psf-r0-00051060.fits");
  const auto psf = perfex::io::read_psf(path.string());
  CHECK(psf.nfiber == 500);
  CHECK(psf.npix_x == 4114);
  CHECK(psf.npix_y == 4128);
  CHECK(psf.hsizex == 8);
  CHECK(psf.hsizey == 5);
  CHECK(psf.ghdegx == 6);
  CHECK(psf.ghdegy == 6);
  CHECK(psf.camera == "r0");
  CHECK(psf.fibermin == 0);
  CHECK_FALSE(psf.psferr_keyword.has_value());
  REQUIRE(psf.psferror_specex.has_value());
  CHECK(*psf.psferror_specex == 0.0);
  CHECK(psf.default_psferr() == 0.01);
  CHECK(psf.xtrace.ncoef == 7);
  CHECK(psf.ytrace.ncoef == 7);
  CHECK(psf.xtrace.wavemin == 5543.0);
  CHECK(psf.xtrace.wavemax == 7826.0);
  CHECK(psf.ytrace.wavemax == 7826.0);
  REQUIRE(psf.params.size() == 59);
  CHECK(psf.params.front().name == "GHSIGX");
  CHECK(psf.params.back().name == "CONT");
  for (const auto& p : psf.params) {
    CHECK(p.series.ncoef == 4);  // LEGDEG 3: the COEFF width, whatever LEGDEGX/LEGDEGW say
    CHECK(p.series.wavemin == 5543.0);
    CHECK(p.series.wavemax == 7827.0);
  }
  CHECK(psf.param("TAILAMP").coeff == std::vector<double>(500 * 4, 0.0));
  // The data README: at 6500 A fiber 0 lies near x = 121 and fiber 499 near x = 3943.
  CHECK(std::fabs(psf.xtrace.evaluate(0, 6500.0) - 121.0) < 2.0);
  CHECK(std::fabs(psf.xtrace.evaluate(499, 6500.0) - 3943.0) < 2.0);
  const double gh00 = psf.param("GH-0-0").evaluate(0, 6500.0);
  CHECK(gh00 > 0.9);
  CHECK(gh00 < 1.2);

  // The writer reproduces a real file's content exactly.
  perfex::test::TempDir dir;
  const std::string copy = (dir / "copy.fits").string();
  perfex::io::write_psf(psf, copy, false);
  require_same_psf(psf, perfex::io::read_psf(copy));
}

TEST_CASE("The real PSF psf-r0-00067784 reads as documented", "[io][psf][shared]") {
  PERFEX_REQUIRE_SHARED(path, "data/psf-r0-00067784.fits");
  const auto psf = perfex::io::read_psf(path.string());
  CHECK(psf.nfiber == 500);
  CHECK(psf.npix_x == 4114);
  CHECK(psf.npix_y == 4128);
  CHECK(psf.stamp_nx() == 17);
  CHECK(psf.stamp_ny() == 11);
  CHECK(psf.camera == "r0");
  CHECK(psf.xtrace.ncoef == 7);
  REQUIRE(psf.params.size() == 59);
  for (const auto& p : psf.params) CHECK(p.series.ncoef == 2);  // LEGDEG 1
  // The PSF's wavelength range is its PSF table's domain (XTRACE and YTRACE end 1 A earlier, at 7826).
  CHECK(psf.layout == perfex::PsfLayout::XtraceYtracePsf);
  CHECK(psf.wavemin() == 5543.0);
  CHECK(psf.wavemax() == 7827.0);
  CHECK(psf.xtrace.wavemax == 7826.0);
  CHECK(psf.default_psferr() == 0.01);
}

TEST_CASE("A file that is not FITS is a data error naming it", "[io][psf][errors]") {
  perfex::test::TempDir dir;
  const std::string path = (dir / "text.fits").string();
  std::ofstream(path) << "this is not a FITS file\n";
  require_data_error(path, {"FITS"});
  require_data_error((dir / "missing.fits").string(), {"no such file"});
  std::ofstream(dir / "empty.fits").flush();
  require_data_error((dir / "empty.fits").string(), {});
}

TEST_CASE("Truncated PSF files are data errors, never crashes", "[io][psf][errors]") {
  perfex::test::TempDir dir;
  const std::string good = (dir / "good.fits").string();
  perfex::io::write_psf(synthetic(), good, false);
  const auto bytes = file_bytes(good);
  REQUIRE(bytes.size() > 3 * 2880);
  // Cut inside the first header, inside the XTRACE data, at a block boundary, inside the YTRACE and PSF
  // headers and in the table data.
  const std::string text(bytes.begin(), bytes.end());
  const std::size_t ytrace = text.find("XTENSION= 'IMAGE");
  const std::size_t table = text.find("XTENSION= 'BINTABLE'");
  REQUIRE(ytrace != std::string::npos);
  REQUIRE(table != std::string::npos);
  const std::vector<std::size_t> cuts = {100,         2880 + 17,           2 * 2880,           ytrace, ytrace + 90,
                                         table + 800, table + 2880 + 1000, bytes.size() - 2880};
  for (std::size_t cut : cuts) {
    INFO("truncated to " << cut << " of " << bytes.size() << " bytes");
    const std::string path = (dir / ("cut-" + std::to_string(cut) + ".fits")).string();
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(cut));
    require_data_error(path, {});
    // The same bytes from memory (as the fuzzers read them).
    try {
      auto file = FitsFile::open_memory(bytes.data(), cut, "memory.fits");
      perfex::io::read_psf(file);
      FAIL("a truncated file in memory should fail");
    } catch (const perfex::Error& e) {
      CHECK(e.exit_code() == 1);
      CHECK_THAT(e.what(), ContainsSubstring("memory.fits"));
    }
  }
}

TEST_CASE("Malformed PSF files name the HDU and keyword at fault", "[io][psf][errors]") {
  perfex::test::TempDir dir;
  const auto psf = synthetic();

  SECTION("missing HDU YTRACE") {
    const auto path = write_damaged(dir, "no-ytrace.fits", psf, [](FitsFile& f) {
      f.move_to("YTRACE");
      f.delete_current_hdu();
    });
    require_data_error(path, {"HDU YTRACE", "missing"});
  }
  SECTION("missing HDU PSF") {
    const auto path = write_damaged(dir, "no-psf.fits", psf, [](FitsFile& f) {
      f.move_to("PSF");
      f.delete_current_hdu();
    });
    require_data_error(path, {"HDU PSF", "missing"});
  }
  SECTION("another PSFTYPE") {
    const auto path = write_damaged(dir, "spotgrid.fits", psf, [](FitsFile& f) {
      f.move_to("XTRACE");
      f.write_key("PSFTYPE", "SPOTGRID");
    });
    require_data_error(path, {"[XTRACE]", "PSFTYPE", "SPOTGRID"});
  }
  SECTION("PSFVER 2 (the older GAUSS-HERMITE layout)") {
    const auto path = write_damaged(dir, "psfver2.fits", psf, [](FitsFile& f) {
      f.move_to("XTRACE");
      f.write_key("PSFVER", 2);
      f.move_to("PSF");
      f.write_key("PSFVER", "2");
    });
    require_data_error(path, {"PSFVER is 2", ">= 3"});
  }
  SECTION("PSFVER 2 as a string in PSF only") {
    const auto path = write_damaged(dir, "psfver2-psf.fits", psf, [](FitsFile& f) {
      f.move_to("XTRACE");
      f.delete_key("PSFVER");
      f.move_to("PSF");
      f.write_key("PSFVER", "2");
    });
    require_data_error(path, {"[PSF]", "PSFVER is 2"});
  }
  SECTION("no PSFTYPE anywhere") {
    const auto path = write_damaged(dir, "untyped.fits", psf, [](FitsFile& f) {
      f.move_to("XTRACE");
      f.delete_key("PSFTYPE");
      f.move_to("PSF");
      f.delete_key("PSFTYPE");
    });
    require_data_error(path, {"PSFTYPE", "missing"});
  }
  SECTION("missing PARAM row GH-3-2") {
    auto damaged = psf;
    damaged.params.erase(std::remove_if(damaged.params.begin(), damaged.params.end(),
                                        [](const perfex::NamedSeries& p) { return p.name == "GH-3-2"; }),
                         damaged.params.end());
    REQUIRE(damaged.params.size() + 1 == psf.params.size());
    const auto path = write_damaged(dir, "no-gh32.fits", damaged, [](FitsFile&) {});
    require_data_error(path, {"HDU PSF", "GH-3-2"});
  }
  SECTION("missing keyword HSIZEX") {
    const auto path = write_damaged(dir, "no-hsizex.fits", psf, [](FitsFile& f) {
      f.move_to("PSF");
      f.delete_key("HSIZEX");
    });
    require_data_error(path, {"[PSF]", "keyword HSIZEX", "missing"});
  }
  SECTION("missing keyword WAVEMIN of YTRACE") {
    const auto path = write_damaged(dir, "no-wavemin.fits", psf, [](FitsFile& f) {
      f.move_to("YTRACE");
      f.delete_key("WAVEMIN");
    });
    require_data_error(path, {"[YTRACE]", "keyword WAVEMIN"});
  }
  SECTION("a keyword that is not a number") {
    const auto path = write_damaged(dir, "text-npix.fits", psf, [](FitsFile& f) {
      f.move_to("PSF");
      f.write_key("NPIX_Y", "many");
    });
    require_data_error(path, {"[PSF]", "NPIX_Y", "many"});
  }
  SECTION("a PSF table row named twice") {
    auto damaged = psf;
    damaged.params.push_back(damaged.params.front());
    const auto path = write_damaged(dir, "twice.fits", damaged, [](FitsFile&) {});
    require_data_error(path, {"[PSF]", "GHSIGX", "more than once"});
  }
  SECTION("traces of different fiber counts") {
    auto damaged = psf;
    damaged.ytrace.nfiber -= 1;
    damaged.ytrace.coeff.resize(damaged.ytrace.coeff.size() - static_cast<std::size_t>(damaged.ytrace.ncoef));
    const auto path = write_damaged(dir, "short-ytrace.fits", damaged, [](FitsFile&) {});
    require_data_error(path, {"YTRACE", std::to_string(psf.nfiber - 1)});
  }
}

TEST_CASE("PSFVER as a string in PSF and absent from XTRACE is accepted", "[io][psf]") {
  perfex::test::TempDir dir;
  const auto psf = synthetic();
  const auto path = write_damaged(dir, "psfver-string.fits", psf, [](FitsFile& f) {
    f.move_to("XTRACE");
    f.delete_key("PSFVER");
  });
  require_same_psf(psf, perfex::io::read_psf(path));
}
