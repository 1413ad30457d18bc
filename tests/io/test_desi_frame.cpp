// Frames as desispec writes them (issue #20): the propagated input header, FIBERMIN, ORIG_PSF, the dependency
// cards, LONGSTRN, CHECKSUM/DATASUM on every HDU, SCORES (desispec's arithmetic), gzip-compressed outputs and
// the refusal of other compression suffixes, and desispec's shortened file names. desispec itself checks the
// same files in the desispec lane (tests/desispec).
#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>

#include <fitsio.h>
#include <stdlib.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "frame_fixture.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/frame_scores.hpp"
#include "perfex/core/version.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/compressed_output.hpp"
#include "perfex/io/desi_provenance.hpp"
#include "perfex/io/fits_checksum.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/frame_hdf5.hpp"
#include "perfex/io/frame_io.hpp"
#include "perfex/io/frame_scores_table.hpp"
#include "perfex/io/header_cards.hpp"
#include "test_support.hpp"

namespace {

using perfex::io::FitsFile;

// An 80-character card.
std::string card(const std::string& text) { return text + std::string(80 - text.size(), ' '); }

// The long-string value of a keyword of the current HDU.
std::string long_string(FitsFile& f, const char* key) {
  int status = 0;
  char* value = nullptr;
  fits_read_key_longstr(static_cast<fitsfile*>(f.raw()), key, &value, nullptr, &status);
  REQUIRE(status == 0);
  std::string s = value;
  fits_free_memory(value, &status);
  return s;
}

int count_keyword(const std::vector<std::string>& cards, const std::string& key) {
  int n = 0;
  for (const auto& c : cards) n += perfex::io::card_keyword(c) == key;
  return n;
}

bool starts_gzip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char b[2] = {0, 0};
  in.read(reinterpret_cast<char*>(b), 2);
  return b[0] == 0x1f && b[1] == 0x8b;
}

// A frame whose header carries an input image's cards, as perfex extract builds it.
perfex::io::Frame frame_with_input_header() {
  perfex::io::Frame f = perfex::test::make_test_frame(25, 4, 60);
  const std::string long_path(150, 'x');
  f.header.cards = {
      card("TILEID  =                 1234 / tile ID"),
      card("SPECGRPH=                    3 / spectrograph"),
      card("OBSRDNA =                 3.21 / read noise"),
      card("DATE-OBS= '2020-12-16T07:12:00.000' / start"),
      card("PROGRAM = 'dark    '           / program"),
      card("SKYCAMOK=                    T / a logical"),
      card("NSPEC   =                  500 / the preproc's: the extraction's wins"),
      card("BUNIT   = 'electron'           / the preproc's: the extraction's wins"),
      card("FIBASSGN= '" + long_path.substr(0, 67) + "&'"),
      card("CONTINUE  '" + long_path.substr(67, 67) + "&'"),
      card("CONTINUE  '" + long_path.substr(134) + "'"),
      card("DEPNAM00= 'python  '"),
      card("DEPVER00= '3.9.7   '"),
      card("DEPNAM01= 'perfex  '"),
      card("DEPVER01= '0.0.1   '"),
      card("HISTORY preproc: bias subtracted"),
      card("COMMENT a comment of the raw data"),
  };
  f.header.fibermin = 1525;
  f.header.orig_psf = "/global/cfs/cdirs/desi/spectro/redux/daily/exposures/20201215/00001234/psf-r3-00001234.fits";
  f.header.dependencies = {{"perfex", PERFEX_VERSION_STRING}, {"cfitsio", "4.2"}, {"DESI_ROOT", "NOT_SET"}};
  f.scores = perfex::io::frame_scores_table(f);
  return f;
}

}  // namespace

TEST_CASE("Frame header: the input's cards propagated, the extraction's keywords win, provenance added",
          "[io][frame][desi]") {
  perfex::test::TempDir tmp;
  const auto frame = frame_with_input_header();
  const std::string path = (tmp / "frame.fits").string();
  perfex::io::write_frame(path, frame, {}, {});

  FitsFile f(path, FitsFile::Mode::Read);
  f.move_to("FLUX");
  CHECK(f.read_key_int("TILEID") == 1234);
  CHECK(f.read_key_int("SPECGRPH") == 3);
  CHECK(f.read_key_double("OBSRDNA") == 3.21);
  CHECK(f.read_key_string("DATE-OBS") == "2020-12-16T07:12:00.000");
  CHECK(f.read_key_string("SKYCAMOK") == "T");
  CHECK(long_string(f, "FIBASSGN") == std::string(150, 'x'));
  CHECK(f.read_key_string("LONGSTRN") == "OGIP 1.0");  // CONTINUE cards are declared
  // The extraction's values win over the input's.
  CHECK(f.read_key_int("NSPEC") == 4);
  CHECK(f.read_key_string("BUNIT") == "electron/Angstrom");
  CHECK(f.read_key_int("FIBERMIN") == 1525);
  CHECK(long_string(f, "ORIG_PSF") == frame.header.orig_psf);
  CHECK(f.read_key_string("PERFEXV") == PERFEX_VERSION_STRING);
  // desiutil's setdep: an entry of the same name is updated in place, new ones take the next numbers.
  CHECK(f.read_key_string("DEPNAM00") == "python");
  CHECK(f.read_key_string("DEPVER00") == "3.9.7");
  CHECK(f.read_key_string("DEPNAM01") == "perfex");
  CHECK(f.read_key_string("DEPVER01") == PERFEX_VERSION_STRING);
  CHECK(f.read_key_string("DEPNAM02") == "cfitsio");
  CHECK(f.read_key_string("DEPNAM03") == "DESI_ROOT");
  CHECK(f.read_key_string("DEPVER03") == "NOT_SET");
  CHECK(!f.read_key_string("DEPNAM04"));
  const auto cards = perfex::io::read_header_cards(f);
  CHECK(count_keyword(cards, "HISTORY") == 1);
  CHECK(count_keyword(cards, "NSPEC") == 1);
  auto count_text = [&cards](const std::string& text) {
    int n = 0;
    for (const auto& c : cards) n += c.find(text) != std::string::npos;
    return n;
  };
  CHECK(count_text("a comment of the raw data") == 1);
  CHECK(count_text("Flexible Image Transport System") == 0);  // CFITSIO's boilerplate comments are not copied
  CHECK(count_text("HEASARC convention") == 1);               // LONGSTRN's explanation, once
  CHECK(count_keyword(cards, "CHECKSUM") == 0);               // structural: not in the cards

  SECTION("read_frame returns the cards; writing them again gives the same header (perfex convert)") {
    const auto back = perfex::io::read_frame(path);
    REQUIRE(back.scores);
    CHECK(back.header.fibermin == 1525);
    CHECK(back.header.orig_psf == frame.header.orig_psf);
    const std::string again = (tmp / "again.fits").string();
    perfex::io::write_frame(again, back, {}, {});
    FitsFile g(again, FitsFile::Mode::Read);
    g.move_to("FLUX");
    CHECK(perfex::io::read_header_cards(g) == cards);
  }
}

TEST_CASE("Frame files carry CHECKSUM and DATASUM on every HDU, and SCORES after CHI2PIX", "[io][frame][desi]") {
  perfex::test::TempDir tmp;
  const auto frame = frame_with_input_header();
  perfex::io::Fibermap fm;
  for (int i = 0; i < 40; ++i) {
    fm.fiber.push_back(1500 + i);
    fm.targetid.push_back(i);
    fm.objtype.push_back("TGT");
    fm.fiberstatus.push_back(0);
  }
  perfex::io::FibermapSource source;
  source.table = &fm;
  source.first = 25;
  CHECK(perfex::io::fibermap_first_fiber(source, 4) == 1525);
  perfex::io::FrameWriteOptions options;
  options.float64 = true;
  const std::string path = (tmp / "frame.fits").string();
  perfex::io::write_frame(path, frame, source, options);
  FitsFile f(path, FitsFile::Mode::Read);
  CHECK(perfex::io::verify_checksums(f).empty());
  std::vector<std::string> names;
  for (int i = 0; i < f.hdu_count(); ++i) {
    f.move_to_index(i);
    names.push_back(f.current_hdu_name());
  }
  CHECK(names == std::vector<std::string>{"FLUX", "IVAR", "MASK", "WAVELENGTH", "RESOLUTION", "FIBERMAP", "CHI2PIX",
                                          "SCORES", "FLUX64", "IVAR64", "RESOLUTION64", "CHI2PIX64",
                                          "PIXMASK_FRACTION"});
  f.move_to("SCORES");
  CHECK(f.read_key_string("TTYPE1") == "SUM_RAW_COUNT_R");  // 6000..6047 A: desispec's r band
}

TEST_CASE("Checksums on every HDU, an empty last table included", "[io][checksum]") {
  perfex::test::TempDir tmp;
  const std::string path = (tmp / "t.fits").string();
  {
    FitsFile f(path, FitsFile::Mode::Create);
    f.write_image("A", {2, 3}, std::vector<float>(6, 1.5f));
    f.create_table("EMPTY", {{"X", "J"}}, 0);
    perfex::io::write_checksums(f);
    f.close();
  }
  FitsFile f(path, FitsFile::Mode::Read);
  CHECK(f.hdu_count() == 2);
  CHECK(perfex::io::verify_checksums(f).empty());
  f.move_to("EMPTY");
  CHECK(f.read_key_string("DATASUM") == "0");
}

TEST_CASE("SCORES: desispec's compute_frame_scores for a raw frame", "[core][scores]") {
  // 5 bins, two of them in r's 5800..7600 range at the end of a grid that averages to r.
  const std::vector<double> wave = {5798.0, 5799.0, 5800.0, 5802.0, 7700.0};
  perfex::HostView<double**> flux("flux", 2, 5), ivar("ivar", 2, 5);
  const double f0[5] = {1, 2, 3, 5, 8}, f1[5] = {-1, 4, -2, 6, 100};
  const double i0[5] = {1, 1, 4, 9, 1}, i1[5] = {1, 1, -4, 16, 1};
  for (int j = 0; j < 5; ++j) {
    flux(0, j) = f0[j];
    flux(1, j) = f1[j];
    ivar(0, j) = i0[j];
    ivar(1, j) = i1[j];
  }
  const auto s = perfex::raw_frame_scores(wave, flux, ivar);
  REQUIRE(s);
  CHECK(s->band == 'r');
  REQUIRE(s->columns.size() == 3);
  CHECK(s->columns[0].name == "SUM_RAW_COUNT_R");
  CHECK(s->columns[0].comment == "sum counts in wave. range 5800,7600A");
  CHECK(s->columns[1].name == "MEDIAN_RAW_COUNT_R");
  CHECK(s->columns[2].name == "MEDIAN_RAW_SNR_R");
  // numpy.gradient: (5802 - 5799) / 2 = 1.5 at 5800, (7700 - 5800) / 2 = 950 at 5802.
  CHECK(s->columns[0].values == std::vector<double>{3 + 5, -2 + 6});
  CHECK(s->columns[1].values[0] == (3 / 1.5 + 5 / 950.0) / 2);  // even count: mean of the two middle values
  CHECK(s->columns[1].values[1] == (-2 / 1.5 + 6 / 950.0) / 2);
  CHECK(s->columns[2].values[0] == (2 * 3 / std::sqrt(1.5) + 3 * 5 / std::sqrt(950.0)) / 2);
  CHECK(s->columns[2].values[1] == (0.0 + 4 * 6 / std::sqrt(950.0)) / 2);  // negative ivar counts as 0

  SECTION("a frame large enough to be scored in parts: the same values as in one pass") {
    perfex::io::Frame big = perfex::test::make_test_frame(0, 311, 1201);
    big.data.wavelengths = perfex::linear_wavelengths(6000.0, 6000.0 + 0.8 * 1200, 0.8);
    const auto table = perfex::io::frame_scores_table(big);  // 373 k bins: split over the helper threads
    REQUIRE(table);
    perfex::HostView<double**> f32("f32", 311, 1201), i32("i32", 311, 1201);
    for (int i = 0; i < 311; ++i)
      for (int j = 0; j < 1201; ++j) {
        f32(i, j) = static_cast<float>(big.data.flux(i, j));
        i32(i, j) = static_cast<float>(big.data.ivar(i, j));
      }
    const auto whole = perfex::raw_frame_scores(big.data.wavelengths, f32, i32);
    REQUIRE(whole);
    CHECK(table->rows == perfex::io::scores_table(*whole).rows);
    CHECK(table->nrows == 311);
  }
  SECTION("bands from the mean wavelength") {
    CHECK(perfex::frame_score_band({3600.0, 5800.0}).band == 'b');
    CHECK(perfex::frame_score_band({7600.0, 7601.0}).band == 'z');
    CHECK(perfex::frame_score_band({5801.0, 7599.0}).band == 'r');
  }
  SECTION("a grid outside its band has no scores (desispec raises ValueError)") {
    perfex::HostView<double**> a("a", 1, 3), b("b", 1, 3);
    CHECK(!perfex::raw_frame_scores({3600.0, 3700.0, 3800.0}, a, b));
  }
  SECTION("the SCORES table: float64 columns, big-endian rows, comments") {
    const auto t = perfex::io::scores_table(*s);
    CHECK(t.extname == "SCORES");
    CHECK(t.forms == std::vector<std::string>{"D", "D", "D"});
    CHECK(t.comments[2] == "median SNR/sqrt(A) in wave. range 5800,7600A");
    CHECK(t.nrows == 2);
    CHECK(t.row_bytes == 24);
  }
}

TEST_CASE("A .fits.gz output is gzip-compressed, atomic, and reads back the same", "[io][frame][gzip]") {
  perfex::test::TempDir tmp;
  const auto frame = frame_with_input_header();
  const std::string plain = (tmp / "frame.fits").string(), gz = (tmp / "frame.fits.gz").string();
  perfex::io::write_frame(plain, frame, {}, {});
  perfex::io::write_frame(gz, frame, {}, {});
  CHECK(starts_gzip(gz));
  CHECK(!starts_gzip(plain));
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) files += e.is_regular_file();
  CHECK(files == 2);  // no temporary left
  const auto a = perfex::io::read_frame(plain), b = perfex::io::read_frame(gz);
  for (int i = 0; i < a.data.nspec; ++i)
    for (int j = 0; j < a.data.nwave; ++j) CHECK(a.data.flux(i, j) == b.data.flux(i, j));
  CHECK(a.header.cards == b.header.cards);
  FitsFile f(gz, FitsFile::Mode::Read);
  CHECK(perfex::io::verify_checksums(f).empty());
  // An existing .gz is kept without --overwrite.
  CHECK_THROWS_AS(perfex::io::write_frame(gz, frame, {}, {}), perfex::Error);
}

TEST_CASE("Compression suffixes other than .gz are refused as usage errors", "[io][gzip]") {
  using perfex::io::OutputCompression;
  CHECK(perfex::io::output_compression("frame.fits", "-o") == OutputCompression::None);
  CHECK(perfex::io::output_compression("frame.fits.gz", "-o") == OutputCompression::Gzip);
  CHECK(perfex::io::output_compression("FRAME.FITS.GZ", "-o") == OutputCompression::Gzip);
  for (const char* name : {"frame.fits.fz", "frame.fits.bz2", "frame.fits.xz", "frame.fits.Z", "frame.fits.zip",
                           "frame.fits.zst", "frame.fits.lz4"}) {
    try {
      perfex::io::output_compression(name, "-o/--output");
      FAIL("accepted " << name);
    } catch (const perfex::Error& e) {
      CHECK(e.kind() == perfex::ErrorKind::Usage);
      CHECK(std::string(e.what()).find(name) != std::string::npos);
    }
  }
  perfex::test::TempDir tmp;
  CHECK_THROWS_AS(perfex::io::check_output_path((tmp / "x.fits.bz2").string(), false, "-o"), perfex::Error);
}

TEST_CASE("IN_PSF/IN_IMG shortened as desispec.io.shorten_filename does", "[io][desi]") {
  struct Env {
    const char* name;
    std::optional<std::string> old;
    Env(const char* n, const char* v) : name(n) {
      if (const char* o = std::getenv(n)) old = o;
      if (v)
        setenv(n, v, 1);
      else
        unsetenv(n);
    }
    ~Env() {
      if (old)
        setenv(name, old->c_str(), 1);
      else
        unsetenv(name);
    }
  };
  Env calib("DESI_SPECTRO_CALIB", "/calib"), redux("DESI_SPECTRO_REDUX", "/redux"), prod("SPECPROD", "daily"),
      root("DESI_ROOT", nullptr), ro("DESI_ROOT_READONLY", nullptr);
  CHECK(perfex::io::shorten_desi_filename("/calib/spec/sm4/psf.fits") == "SPCALIB/spec/sm4/psf.fits");
  CHECK(perfex::io::shorten_desi_filename("/redux/daily/preproc/preproc-r0.fits") ==
        "SPECPROD/preproc/preproc-r0.fits");
  CHECK(perfex::io::shorten_desi_filename("/redux/dailyX/a.fits") ==
        "SPECPRODX/a.fits");  // desispec's plain prefix test
  CHECK(perfex::io::shorten_desi_filename("relative/psf.fits") == "relative/psf.fits");
  Env no_prod("SPECPROD", nullptr);
  CHECK(perfex::io::shorten_desi_filename("/redux/daily/a.fits") == "/redux/daily/a.fits");
  const auto deps = perfex::io::perfex_dependencies();
  REQUIRE(deps.size() >= 11);
  CHECK(deps[0] == perfex::io::Dependency{"perfex", PERFEX_VERSION_STRING});
  bool calib_seen = false;
  for (const auto& d : deps) calib_seen = calib_seen || d == perfex::io::Dependency{"DESI_SPECTRO_CALIB", "/calib"};
  CHECK(calib_seen);
}

TEST_CASE("HDF5 frames keep the FLUX header's cards and SCORES; back to FITS gives the same header",
          "[io][frame][hdf5][desi]") {
  if (!perfex::io::hdf5_available()) SKIP("built without HDF5");
  perfex::test::TempDir tmp;
  const auto frame = frame_with_input_header();
  const std::string fits_path = (tmp / "frame.fits").string(), h5 = (tmp / "frame.h5").string(),
                    back = (tmp / "back.fits").string();
  perfex::io::write_frame(fits_path, frame, {}, {});
  perfex::io::write_frame_hdf5(h5, perfex::io::read_frame(fits_path), {}, {});
  const auto from_h5 = perfex::io::read_frame_hdf5(h5);
  REQUIRE(from_h5.scores);
  CHECK(from_h5.scores->rows == frame.scores->rows);
  CHECK(from_h5.scores->comments == frame.scores->comments);
  CHECK(from_h5.header.fibermin == 1525);
  CHECK(from_h5.header.orig_psf == frame.header.orig_psf);
  perfex::io::write_frame(back, from_h5, {}, {});
  FitsFile a(fits_path, FitsFile::Mode::Read), b(back, FitsFile::Mode::Read);
  a.move_to("FLUX");
  b.move_to("FLUX");
  CHECK(perfex::io::read_header_cards(a) == perfex::io::read_header_cards(b));
  CHECK(perfex::io::verify_checksums(b).empty());
}
