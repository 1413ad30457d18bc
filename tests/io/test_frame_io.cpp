// Frame files: write/read round trip (float32 DESI HDUs, float64 HDUs, uint32 mask, header, fibermap
// rows), refusal to replace an existing file, and the truth-spectra reader.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "frame_fixture.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/version.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/frame_io.hpp"
#include "test_support.hpp"

namespace {

perfex::io::Frame make_frame(int specmin, int nspec, int nwave) {
  return perfex::test::make_test_frame(specmin, nspec, nwave);
}

perfex::io::Fibermap make_fibermap(int n) {
  perfex::io::Fibermap fm;
  for (int i = 0; i < n; ++i) {
    fm.fiber.push_back(1500 + i);
    fm.targetid.push_back(39627000000000000LL + i);
    fm.objtype.push_back(i % 3 == 0 ? "SKY" : "TGT");
    fm.fiberstatus.push_back(i % 7 == 0 ? 4 : 0);
  }
  return fm;
}

}  // namespace

TEST_CASE("Frame files round-trip: float64 HDUs exactly, float32 HDUs to float32 rounding", "[io][frame]") {
  perfex::test::TempDir tmp;
  const auto frame = make_frame(50, 3, 40);
  const auto fibermap = make_fibermap(100);
  perfex::io::FibermapSource source;
  source.table = &fibermap;
  source.first = 50;
  perfex::io::FrameWriteOptions options;
  options.float64 = true;
  const std::string path = (tmp / "frame.fits").string();
  perfex::io::write_frame(path, frame, source, options);

  const auto exact = perfex::io::read_frame(path, true);
  REQUIRE(exact.exact);
  REQUIRE(exact.has_pixmask_fraction);
  const auto& a = frame.data;
  const auto& b = exact.data;
  REQUIRE(b.specmin == 50);
  REQUIRE(b.nspec == 3);
  REQUIRE(b.nwave == 40);
  REQUIRE(b.ndiag == 5);
  CHECK(b.wavelengths == a.wavelengths);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 40; ++j) {
      CHECK(b.flux(i, j) == a.flux(i, j));
      CHECK(b.ivar(i, j) == a.ivar(i, j));
      CHECK(b.chi2pix(i, j) == a.chi2pix(i, j));
      CHECK(b.pixmask_fraction(i, j) == a.pixmask_fraction(i, j));
      CHECK(exact.mask(i, j) == frame.mask(i, j));
      for (int k = 0; k < 11; ++k) CHECK(b.resolution(i, k, j) == a.resolution(i, k, j));
    }
  CHECK(exact.fibermap_rows == 3);
  const auto& h = exact.header;
  CHECK(h.camera == "r3");
  CHECK(h.expid == 1234);
  CHECK(h.night == 20201215);
  CHECK(h.mjd_obs == 59199.25);
  CHECK(h.in_psf == frame.header.in_psf);  // long strings survive (CONTINUE cards)
  CHECK(h.in_img == frame.header.in_img);
  CHECK(h.options.psferr == 0.04);
  CHECK(h.options.regularize == 0.5);
  CHECK(h.options.bundlesize == 25);
  CHECK(h.heliocor == frame.header.heliocor);
  CHECK(h.version == PERFEX_VERSION_STRING);

  // The DESI HDUs: float32, each value the float32 nearest to the float64 one.
  const auto f32 = perfex::io::read_frame(path, false);
  CHECK_FALSE(f32.exact);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 40; ++j) {
      CHECK(f32.data.flux(i, j) == static_cast<double>(static_cast<float>(a.flux(i, j))));
      CHECK(f32.data.ivar(i, j) == static_cast<double>(static_cast<float>(a.ivar(i, j))));
      CHECK(f32.data.chi2pix(i, j) == static_cast<double>(static_cast<float>(a.chi2pix(i, j))));
      CHECK(f32.mask(i, j) == frame.mask(i, j));
    }

  // The FIBERMAP holds rows 50..52 of the input's, and the header the DESI keywords.
  perfex::io::FitsFile f(path, perfex::io::FitsFile::Mode::Read);
  f.move_to_index(0);
  CHECK(f.current_hdu_name() == "FLUX");
  CHECK(f.require_key_string("BUNIT") == "electron/Angstrom");
  CHECK(f.require_key_int("NSPEC") == 3);
  CHECK(f.require_key_int("SPECMIN") == 50);
  CHECK(f.require_key_double("WAVEMIN") == 6000.0);
  CHECK(std::fabs(f.require_key_double("WAVESTEP") - 0.8) < 1e-12);
  for (const char* key :
       {"WAVEMAX", "BUNDLESZ", "NSUBBUN", "NWAVSTEP", "WAVEPADF", "PIXPADF", "REGULARI", "PSFERR", "HELIOCOR"})
    CHECK(f.read_key_string(key).has_value());
  f.move_to("MASK");
  CHECK(f.image_bitpix() == 40);  // ULONG_IMG: int32 with BZERO 2^31
  f.move_to("FIBERMAP");
  CHECK(f.read_column_int("FIBER") == std::vector<long long>{1550, 1551, 1552});
  CHECK(f.read_column_string("OBJTYPE") == std::vector<std::string>{"TGT", "SKY", "TGT"});
  const std::vector<std::string> order = {"FLUX",       "IVAR",         "MASK",      "WAVELENGTH",
                                          "RESOLUTION", "FIBERMAP",     "CHI2PIX",   "FLUX64",
                                          "IVAR64",     "RESOLUTION64", "CHI2PIX64", "PIXMASK_FRACTION"};
  REQUIRE(f.hdu_count() == static_cast<int>(order.size()));
  for (std::size_t k = 0; k < order.size(); ++k) {
    f.move_to_index(static_cast<int>(k));
    CHECK(f.current_hdu_name() == order[k]);
  }
}

TEST_CASE("Files built in memory one after another never take the heap's old bytes for HDUs", "[io][frame]") {
  // A long process (extract-exposure, the Python module) writes many files; each is built in a memory buffer
  // whose bytes past the last HDU written were once the heap's, often a previous file's headers, which
  // CFITSIO would read as further HDUs of this one. Frames of changing shapes, each read back at once.
  perfex::test::TempDir tmp;
  const std::vector<std::pair<int, int>> shapes = {{3, 40}, {2, 12}, {5, 7}, {1, 30}, {4, 9}, {3, 40}, {2, 12}};
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    const auto [nspec, nwave] = shapes[k];
    INFO("frame " << k << ": " << nspec << " x " << nwave);
    const auto frame = make_frame(10, nspec, nwave);
    const std::string path = (tmp / ("frame-" + std::to_string(k) + ".fits")).string();
    perfex::io::FrameWriteOptions options;
    options.float64 = true;
    perfex::io::write_frame(path, frame, perfex::io::FibermapSource(), options);
    const auto back = perfex::io::read_frame(path, true);
    REQUIRE(back.data.nspec == nspec);
    REQUIRE(back.data.nwave == nwave);
    for (int i = 0; i < nspec; ++i)
      for (int j = 0; j < nwave; ++j) {
        CHECK(back.data.flux(i, j) == frame.data.flux(i, j));
        CHECK(back.mask(i, j) == frame.mask(i, j));
      }
  }
}

TEST_CASE("Frame files: FIBERMAP rows copied from another file; none without a fibermap", "[io][frame]") {
  perfex::test::TempDir tmp;
  const auto frame = make_frame(0, 2, 12);
  // A file with a 10-row FIBERMAP, written through a first frame.
  const auto fibermap = make_fibermap(10);
  perfex::io::FibermapSource all;
  all.table = &fibermap;
  auto big = make_frame(0, 10, 12);
  const std::string fm_path = (tmp / "fibermap.fits").string();
  perfex::io::write_frame(fm_path, big, all, {});

  perfex::io::FibermapSource from_file;
  from_file.path = fm_path;
  from_file.first = 4;
  const std::string path = (tmp / "frame.fits").string();
  perfex::io::write_frame(path, frame, from_file, {});
  perfex::io::FitsFile f(path, perfex::io::FitsFile::Mode::Read);
  f.move_to("FIBERMAP");
  CHECK(f.read_column_int("FIBER") == std::vector<long long>{1504, 1505});
  CHECK_FALSE(f.has_hdu("FLUX64"));

  // Rows beyond the file's: a data error, and no output.
  from_file.first = 9;
  const std::string bad = (tmp / "bad.fits").string();
  try {
    perfex::io::write_frame(bad, frame, from_file, {});
    FAIL("expected a data error");
  } catch (const perfex::Error& e) {
    CHECK(e.kind() == perfex::ErrorKind::Data);
    CHECK(std::string(e.what()).find("rows") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(bad));

  const std::string none = (tmp / "none.fits").string();
  perfex::io::write_frame(none, frame, {}, {});
  const auto back = perfex::io::read_frame(none);
  CHECK(back.fibermap_rows == -1);
  CHECK_FALSE(back.exact);
  CHECK_FALSE(back.has_pixmask_fraction);
}

TEST_CASE("Frame files: an existing file is replaced only with overwrite", "[io][frame]") {
  perfex::test::TempDir tmp;
  const std::string path = (tmp / "frame.fits").string();
  {
    std::ofstream out(path);
    out << "precious";
  }
  const auto frame = make_frame(0, 2, 12);
  try {
    perfex::io::write_frame(path, frame, {}, {});
    FAIL("expected a usage error");
  } catch (const perfex::Error& e) {
    CHECK(e.kind() == perfex::ErrorKind::Usage);
    CHECK(std::string(e.what()).find("--overwrite") != std::string::npos);
  }
  std::ifstream in(path);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "precious");
  perfex::io::FrameWriteOptions options;
  options.overwrite = true;
  perfex::io::write_frame(path, frame, {}, options);
  CHECK(perfex::io::read_frame(path).data.nspec == 2);
}

TEST_CASE("read_frame names the missing HDU and refuses inconsistent shapes", "[io][frame]") {
  perfex::test::TempDir tmp;
  const std::string path = (tmp / "frame.fits").string();
  {
    perfex::io::FitsFile f(path, perfex::io::FitsFile::Mode::Create);
    f.write_image("FLUX", {2, 5}, std::vector<float>(10, 1.0f));
    f.write_image("IVAR", {2, 4}, std::vector<float>(8, 1.0f));
    f.close();
  }
  try {
    perfex::io::read_frame(path);
    FAIL("expected a data error");
  } catch (const perfex::Error& e) {
    CHECK(e.kind() == perfex::ErrorKind::Data);
    CHECK(std::string(e.what()).find("IVAR") != std::string::npos);
  }
  const std::string path2 = (tmp / "frame2.fits").string();
  {
    perfex::io::FitsFile f(path2, perfex::io::FitsFile::Mode::Create);
    f.write_image("FLUX", {2, 5}, std::vector<float>(10, 1.0f));
    f.write_image("IVAR", {2, 5}, std::vector<float>(10, 1.0f));
    f.close();
  }
  try {
    perfex::io::read_frame(path2);
    FAIL("expected a data error");
  } catch (const perfex::Error& e) {
    CHECK(std::string(e.what()).find("MASK is missing") != std::string::npos);
  }
}
