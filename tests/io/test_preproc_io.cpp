// Tests of the preproc reader and writer (round trips, masks, fibermap copies, bad files) and of the
// simulator's spectra and truth files.
#include <fitsio.h>
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "perfex/core/ccd_mask.hpp"
#include "perfex/core/error.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/preproc_io.hpp"
#include "test_support.hpp"

namespace {

using namespace perfex;
using perfex::io::FitsFile;

// A small preproc image with varied values, mask bits and a five-row fibermap.
io::PreprocImage make_image(int ny, int nx) {
  io::PreprocImage p;
  p.npix_y = ny;
  p.npix_x = nx;
  p.image = HostView<double**>("image", ny, nx);
  p.ivar = HostView<double**>("ivar", ny, nx);
  p.mask = HostView<std::int32_t**>("mask", ny, nx);
  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < nx; ++x) {
      p.image(y, x) = 0.1 * (y * nx + x) - 3.7 + 1.0 / 3.0;
      p.ivar(y, x) = 1.0 / (9.0 + y + 0.5 * x);
    }
  // Pixels (1, 2), (3, 4), (5, 6), (7, 0) of an image of at least 8 x 7 carry mask bits.
  auto set = [&](int y, int x, std::int32_t bits) {
    if (y < ny && x < nx) p.mask(y, x) = bits;
  };
  set(1, 2, ccd_mask::cosmic);
  set(3, 4, ccd_mask::badreadnoise);  // not excluded from extraction
  set(5, 6, ccd_mask::badamp);
  set(7, 0, ccd_mask::hot | ccd_mask::dead);
  p.header.camera = "r3";
  p.header.expid = 51060;
  p.header.night = 20200315;
  p.header.mjd_obs = 58923.3125;
  p.header.exptime = 900.0;
  p.header.flavor = "science";
  io::Fibermap fm;
  for (int i = 0; i < 5; ++i) {
    fm.fiber.push_back(1500 + i);
    fm.targetid.push_back(39627000000000000LL + i);
    fm.objtype.push_back(i == 2 ? "SKY" : "TGT");
    fm.fiberstatus.push_back(i == 4 ? 8 : 0);
  }
  p.fibermap = fm;
  return p;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string data_error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const perfex::Error& e) {
    if (e.kind() != ErrorKind::Data) return std::string("wrong kind: ") + e.what();
    return e.what();
  }
  return "no error";
}

std::vector<float> floats(int n, float v) { return std::vector<float>(static_cast<std::size_t>(n), v); }

}  // namespace

TEST_CASE("Preproc write/read round trip: float32 data, masked ivar, header, fibermap", "[preproc]") {
  perfex::test::TempDir dir;
  const auto path = (dir / "preproc-r3-00051060.fits").string();
  const io::PreprocImage in = make_image(12, 9);
  io::PreprocWriteOptions options;
  options.keywords.push_back({"SIMSEED", 42LL, "a seed"});
  const std::string long_path(150, 'p');
  options.keywords.push_back({"SIMPSF", long_path + "/psf.fits", "a long string"});
  for (bool compress : {true, false}) {
    options.compress_mask = compress;
    options.overwrite = true;
    io::write_preproc(path, in, options);
    const io::PreprocImage out = io::read_preproc(path);
    REQUIRE(out.npix_y == 12);
    REQUIRE(out.npix_x == 9);
    CHECK(out.has_mask);
    CHECK(out.n_invalid == 0);
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 9; ++x) {
        REQUIRE(out.image(y, x) == static_cast<double>(static_cast<float>(in.image(y, x))));
        REQUIRE(out.mask(y, x) == in.mask(y, x));
        const bool excluded = (in.mask(y, x) & ccd_mask::extract) != 0;
        REQUIRE(out.ivar(y, x) == (excluded ? 0.0 : static_cast<double>(static_cast<float>(in.ivar(y, x)))));
      }
    CHECK(out.ivar(3, 4) > 0.0);   // BADREADNOISE alone keeps its weight
    CHECK(out.ivar(5, 6) == 0.0);  // BADAMP does not
    CHECK(out.header.camera == "r3");
    CHECK(out.header.expid == 51060);
    CHECK(out.header.night == 20200315);
    CHECK(out.header.mjd_obs == 58923.3125);
    CHECK(out.header.exptime == 900.0);
    CHECK(out.header.flavor == "science");
    CHECK_FALSE(out.header.ra.has_value());
    REQUIRE(out.fibermap.has_value());
    CHECK(out.fibermap->fiber == in.fibermap->fiber);
    CHECK(out.fibermap->targetid == in.fibermap->targetid);
    CHECK(out.fibermap->objtype == in.fibermap->objtype);
    CHECK(out.fibermap->fiberstatus == in.fibermap->fiberstatus);
    REQUIRE(out.fibermap->raw.has_value());
    CHECK(out.fibermap->raw->nrows == 5);

    FitsFile f(path, FitsFile::Mode::Read);
    f.move_to("IMAGE");
    CHECK(f.image_bitpix() == -32);
    CHECK(f.read_key_int("SIMSEED") == 42);
    char* value = nullptr;
    int status = 0;
    fits_read_key_longstr(static_cast<fitsfile*>(f.raw()), "SIMPSF", &value, nullptr, &status);
    REQUIRE(status == 0);
    CHECK(std::string(value) == long_path + "/psf.fits");
    fits_free_memory(value, &status);
    f.move_to("IVAR");
    CHECK(f.image_bitpix() == -32);
    f.move_to("MASK");
    CHECK(f.image_bitpix() == 16);
    // A tile-compressed MASK is stored as a binary table flagged ZIMAGE.
    CHECK((slurp(path).find("ZIMAGE  =                    T") != std::string::npos) == compress);
  }
}

TEST_CASE("Preproc reader: masks wider than int16, gzip input, memory input", "[preproc]") {
  perfex::test::TempDir dir;
  io::PreprocImage in = make_image(6, 5);
  in.mask(0, 0) = 1 << 20;  // forces an int32 MASK
  in.fibermap.reset();
  const auto path = (dir / "p.fits").string();
  io::write_preproc(path, in, {});
  const io::PreprocImage out = io::read_preproc(path);
  CHECK(out.mask(0, 0) == (1 << 20));
  CHECK(out.ivar(0, 0) > 0.0);  // bit 20 is not an extraction bit
  CHECK_FALSE(out.fibermap.has_value());

  const std::string bytes = slurp(path);
  FitsFile mem = FitsFile::open_memory(bytes.data(), bytes.size(), "memory.fits");
  const io::PreprocImage from_memory = io::read_preproc(mem);
  CHECK(from_memory.source == "memory.fits");
  CHECK(from_memory.image(2, 3) == out.image(2, 3));
  CHECK(from_memory.mask(0, 0) == (1 << 20));

  if (std::system(("gzip -k " + path + " 2>/dev/null").c_str()) != 0) SKIP("gzip is not available");
  const io::PreprocImage gz = io::read_preproc(path + ".gz");
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 5; ++x) {
      REQUIRE(gz.image(y, x) == out.image(y, x));
      REQUIRE(gz.ivar(y, x) == out.ivar(y, x));
      REQUIRE(gz.mask(y, x) == out.mask(y, x));
    }
}

// A plain file's IMAGE and IVAR are read beside CFITSIO (pread, in threads: io/src/plain_pixels.cpp); the
// same bytes opened in memory go through CFITSIO. Both must give the same bits: a float32 IMAGE and a float64
// IVAR of over a million pixels (several read chunks, a partial last one, the validation in threads) with
// NaN, infinities, subnormals, negative and huge values.
TEST_CASE("Preproc reader: IMAGE and IVAR read beside CFITSIO give CFITSIO's values to the bit", "[preproc]") {
  perfex::test::TempDir dir;
  const auto path = (dir / "big.fits").string();
  const int ny = 1031, nx = 1033;
  const int n = ny * nx;
  std::vector<float> image(static_cast<std::size_t>(n));
  std::vector<double> ivar(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) {
    image[static_cast<std::size_t>(k)] = static_cast<float>(std::sin(0.001 * k) * 1000.0 + 0.125 * (k % 7));
    ivar[static_cast<std::size_t>(k)] = 1.0 / (3.0 + (k % 1013));
  }
  const float special_f[] = {std::numeric_limits<float>::quiet_NaN(),
                             std::numeric_limits<float>::infinity(),
                             -std::numeric_limits<float>::infinity(),
                             std::numeric_limits<float>::denorm_min(),
                             -0.0f,
                             std::numeric_limits<float>::max()};
  const double special_d[] = {std::numeric_limits<double>::quiet_NaN(),
                              std::numeric_limits<double>::infinity(),
                              -1.0,
                              std::numeric_limits<double>::denorm_min(),
                              1e300,
                              0.0};
  for (int j = 0; j < 6; ++j) {
    image[static_cast<std::size_t>(1 + 524288 * (j % 2) + 97 * j)] = special_f[j];
    ivar[static_cast<std::size_t>(n - 1 - 131 * j)] = special_d[j];
  }
  {
    FitsFile f(path, FitsFile::Mode::Create);
    f.write_image("IMAGE", {ny, nx}, image);
    f.write_image("IVAR", {ny, nx}, ivar);
    f.close();
  }
  {
    FitsFile f(path, FitsFile::Mode::Read);
    f.move_to("IMAGE");
    REQUIRE(f.plain_pixels());  // the path under test
    f.move_to("IVAR");
    REQUIRE(f.plain_pixels());
  }
  const io::PreprocImage plain = io::read_preproc(path);
  const std::string bytes = slurp(path);
  FitsFile mem = FitsFile::open_memory(bytes.data(), bytes.size(), "memory.fits");
  REQUIRE_FALSE(mem.plain_pixels());
  const io::PreprocImage cfitsio = io::read_preproc(mem);
  CHECK(plain.n_invalid == cfitsio.n_invalid);
  CHECK(plain.n_invalid >= 7);
  CHECK(std::memcmp(plain.image.data(), cfitsio.image.data(), sizeof(double) * n) == 0);
  CHECK(std::memcmp(plain.ivar.data(), cfitsio.ivar.data(), sizeof(double) * n) == 0);
  CHECK(plain.image(0, 1) == cfitsio.image(0, 1));
}

// The threaded reader opens the file again by path: a file put in its place after FitsFile opened it is
// refused (a data error naming the file and HDU), never read as if it were the same.
TEST_CASE("Preproc reader: a file replaced after it was opened is a data error", "[preproc]") {
  perfex::test::TempDir dir;
  const auto path = (dir / "p.fits").string(), other = (dir / "q.fits").string();
  io::PreprocImage in = make_image(8, 7);
  in.fibermap.reset();
  io::write_preproc(path, in, {});
  io::write_preproc(other, in, {});
  FitsFile f(path, FitsFile::Mode::Read);
  std::filesystem::rename(other, path);
  const std::string message = data_error_message([&] { io::read_preproc(f); });
  INFO(message);
  CHECK(message.find(path + "[IMAGE]") != std::string::npos);
  CHECK(message.find("replaced") != std::string::npos);
}

TEST_CASE("Preproc reader: non-finite pixels and negative ivar get weight 0; MASK is optional", "[preproc]") {
  perfex::test::TempDir dir;
  const auto path = (dir / "nan.fits").string();
  {
    FitsFile f(path, FitsFile::Mode::Create);
    std::vector<float> image = floats(12, 5.0f), ivar = floats(12, 0.25f);
    image[1] = std::numeric_limits<float>::quiet_NaN();
    image[2] = std::numeric_limits<float>::infinity();
    ivar[3] = std::numeric_limits<float>::quiet_NaN();
    ivar[4] = -1.0f;
    f.write_image("IMAGE", {3, 4}, image);
    f.write_image("IVAR", {3, 4}, ivar);
    f.close();
  }
  const io::PreprocImage p = io::read_preproc(path);
  CHECK_FALSE(p.has_mask);
  CHECK(p.n_invalid == 4);
  for (int i = 1; i <= 4; ++i) {
    CHECK(p.ivar.data()[i] == 0.0);
    CHECK(p.image.data()[i] == 0.0);
  }
  CHECK(p.ivar.data()[0] == 0.25);
  CHECK(p.image.data()[5] == 5.0);
}

TEST_CASE("Preproc reader: missing HDUs and shape mismatches are data errors naming the HDU", "[preproc]") {
  perfex::test::TempDir dir;
  const auto no_ivar = (dir / "no-ivar.fits").string();
  {
    FitsFile f(no_ivar, FitsFile::Mode::Create);
    f.write_image("IMAGE", {3, 4}, floats(12, 1.0f));
    f.write_image("MASK", {3, 4}, std::vector<std::int16_t>(12, 0));
    f.close();
  }
  std::string msg = data_error_message([&] { io::read_preproc(no_ivar); });
  INFO(msg);
  CHECK(msg.find("no-ivar.fits") != std::string::npos);
  CHECK(msg.find("HDU IVAR is missing") != std::string::npos);

  const auto bad_ivar = (dir / "bad-ivar.fits").string();
  {
    FitsFile f(bad_ivar, FitsFile::Mode::Create);
    f.write_image("IMAGE", {3, 4}, floats(12, 1.0f));
    f.write_image("IVAR", {4, 3}, floats(12, 1.0f));
    f.close();
  }
  msg = data_error_message([&] { io::read_preproc(bad_ivar); });
  INFO(msg);
  CHECK(msg.find("HDU IVAR has shape 4 x 3 but HDU IMAGE has 3 x 4") != std::string::npos);

  const auto bad_mask = (dir / "bad-mask.fits").string();
  {
    FitsFile f(bad_mask, FitsFile::Mode::Create);
    f.write_image("IMAGE", {3, 4}, floats(12, 1.0f));
    f.write_image("IVAR", {3, 4}, floats(12, 1.0f));
    f.write_image("MASK", {3, 5}, std::vector<std::int16_t>(15, 0));
    f.close();
  }
  msg = data_error_message([&] { io::read_preproc(bad_mask); });
  INFO(msg);
  CHECK(msg.find("HDU MASK has shape 3 x 5") != std::string::npos);

  const auto no_image = (dir / "no-image.fits").string();
  {
    FitsFile f(no_image, FitsFile::Mode::Create);
    f.write_image("", {0}, std::vector<float>{});
    f.write_image("IVAR", {3, 4}, floats(12, 1.0f));
    f.close();
  }
  msg = data_error_message([&] { io::read_preproc(no_image); });
  INFO(msg);
  CHECK(msg.find("HDU IMAGE is missing") != std::string::npos);

  const auto cube = (dir / "cube.fits").string();
  {
    FitsFile f(cube, FitsFile::Mode::Create);
    f.write_image("IMAGE", {2, 3, 4}, floats(24, 1.0f));
    f.close();
  }
  msg = data_error_message([&] { io::read_preproc(cube); });
  INFO(msg);
  CHECK(msg.find("HDU IMAGE must be a 2D image, found 2 x 3 x 4") != std::string::npos);

  msg = data_error_message([&] { io::read_preproc((dir / "absent.fits").string()); });
  CHECK(msg.find("no such file") != std::string::npos);
}

TEST_CASE("Preproc writer refuses to replace a file without overwrite, leaving it untouched", "[preproc]") {
  perfex::test::TempDir dir;
  const auto path = dir / "exists.fits";
  { std::ofstream(path) << "precious"; }
  try {
    io::write_preproc(path.string(), make_image(4, 4), {});
    FAIL("an existing file was replaced");
  } catch (const perfex::Error& e) {
    CHECK(e.kind() == ErrorKind::Usage);
  }
  CHECK(slurp(path) == "precious");
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("Fibermap rows are copied byte for byte, every column kept", "[preproc]") {
  perfex::test::TempDir dir;
  const auto src = (dir / "src.fits").string();
  {
    FitsFile f(src, FitsFile::Mode::Create);
    f.write_image("IMAGE", {2, 2}, floats(4, 1.0f));
    f.write_image("IVAR", {2, 2}, floats(4, 1.0f));
    f.create_table("FIBERMAP", {{"FIBER", "J"}, {"OBJTYPE", "3A"}, {"FLUX_G", "E"}, {"POS", "2D"}, {"NOTE", "12A"}}, 4);
    f.write_column("FIBER", std::vector<std::int32_t>{10, 11, 12, 13});
    f.write_column("OBJTYPE", std::vector<std::string>{"TGT", "SKY", "TGT", "TGT"});
    f.write_column("FLUX_G", std::vector<double>{1.5, 2.5, 3.5, 4.5});
    f.write_column("POS", std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7});
    f.write_column("NOTE", std::vector<std::string>{"a", "bb", "ccc", "dddd"});
    f.write_key("TUNIT3", "nanomaggy", "");
    f.write_key("SURVEY", "main", "a table keyword");
    f.close();
  }
  const io::PreprocImage p = io::read_preproc(src);
  REQUIRE(p.fibermap.has_value());
  CHECK(p.fibermap->fiber == std::vector<std::int32_t>{10, 11, 12, 13});
  CHECK(p.fibermap->targetid == std::vector<long long>{0, 0, 0, 0});  // absent column
  CHECK(p.fibermap->objtype[1] == "SKY");

  const auto dst = (dir / "dst.fits").string();
  {
    FitsFile f(dst, FitsFile::Mode::Create);
    f.write_image("FLUX", {1}, floats(1, 0.0f));
    io::write_fibermap(f, *p.fibermap, 1, 2);
    f.close();
  }
  FitsFile f(dst, FitsFile::Mode::Read);
  f.move_to("FIBERMAP");
  CHECK(f.table_rows() == 2);
  CHECK(f.read_column_int("FIBER") == std::vector<long long>{11, 12});
  CHECK(f.read_column_string("OBJTYPE") == std::vector<std::string>{"SKY", "TGT"});
  CHECK(f.read_column_double("FLUX_G") == std::vector<double>{2.5, 3.5});
  CHECK(f.read_column_double("POS") == std::vector<double>{2, 3, 4, 5});
  CHECK(f.read_column_string("NOTE") == std::vector<std::string>{"bb", "ccc"});
  CHECK(f.read_key_string("TUNIT3") == "nanomaggy");
  CHECK(f.read_key_string("SURVEY") == "main");
  CHECK_THROWS_AS(io::write_fibermap(f, *p.fibermap, 3, 2), perfex::Error);
}

TEST_CASE("Photon spectra files: round trip and validation naming the HDU", "[preproc][simulate]") {
  perfex::test::TempDir dir;
  io::PhotonSpectra s;
  s.wavelengths = {5000.0, 5000.8, 5001.6};
  s.photons = HostView<double**>("p", 2, 3);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) s.photons(i, j) = 10.0 * i + j + 0.125;
  const auto path = (dir / "spectra.fits").string();
  io::write_photon_spectra(path, s, false);
  const io::PhotonSpectra r = io::read_photon_spectra(path);
  CHECK(r.wavelengths == s.wavelengths);
  REQUIRE(r.photons.extent(0) == 2);
  CHECK(r.photons(1, 2) == s.photons(1, 2));

  s.photons(1, 1) = -1.0;
  io::write_photon_spectra(path, s, true);
  std::string msg = data_error_message([&] { io::read_photon_spectra(path); });
  CHECK(msg.find("[PHOTONS]") != std::string::npos);
  s.photons(1, 1) = 1.0;
  s.wavelengths = {5000.0, 4999.0, 5001.6};
  io::write_photon_spectra(path, s, true);
  msg = data_error_message([&] { io::read_photon_spectra(path); });
  CHECK(msg.find("[WAVELENGTH]") != std::string::npos);
}

TEST_CASE("Simulation truth files hold the photons, the fiber types and the defects", "[preproc][simulate]") {
  perfex::test::TempDir dir;
  io::SimulationTruth t;
  t.wavelengths = {6000.0, 6000.8};
  HostView<double**> photons("p", 3, 2);
  photons(2, 1) = 7.0;
  t.photons = photons;
  t.fiber = {0, 1, 2};
  t.objtype = {"TGT", "SKY", "TGT"};
  t.spectype = {"EMISSION", "SKY", "ABSORPTION"};
  t.redshift = {0.5, 0.0, 0.1};
  t.targetid = {5, 6, 7};
  SimulatedDefect d;
  d.kind = DefectKind::HotColumn;
  d.mask_bit = ccd_mask::hot;
  d.ymin = 10;
  d.ymax = 99;
  d.xmin = d.xmax = 40;
  d.npix = 90;
  d.electrons = 321.0;
  t.defects = {d};
  t.keywords = {{"SIMSEED", 3LL, ""}};
  const auto path = (dir / "truth.fits").string();
  io::write_simulation_truth(path, t, false);
  FitsFile f(path, FitsFile::Mode::Read);
  f.move_to("WAVELENGTH");
  CHECK(f.read_image_double() == t.wavelengths);
  CHECK(f.read_key_int("SIMSEED") == 3);
  f.move_to("PHOTONS");
  CHECK(f.image_shape() == std::vector<long>{3, 2});
  CHECK(f.read_image_double()[5] == 7.0);
  f.move_to("FIBERTYPE");
  CHECK(f.read_column_string("SPECTYPE") == t.spectype);
  CHECK(f.read_column_int("TARGETID") == std::vector<long long>{5, 6, 7});
  f.move_to("DEFECTS");
  CHECK(f.read_column_string("KIND") == std::vector<std::string>{"HOTCOL"});
  CHECK(f.read_column_int("XMIN") == std::vector<long long>{40});
  CHECK(f.read_column_double("ELECTRONS") == std::vector<double>{321.0});
}
