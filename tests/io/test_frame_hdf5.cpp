// HDF5 frames (PERFEX_ENABLE_HDF5): FITS -> HDF5 -> FITS keeps every array, keyword and FIBERMAP byte;
// equal content gives byte-identical files; exposure files; foreign, truncated and non-HDF5 files and
// existing outputs are refused with data / usage errors naming the file.
#include <hdf5.h>

#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "frame_fixture.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/version.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/frame_format.hpp"
#include "perfex/io/frame_hdf5.hpp"
#include "perfex/io/frame_io.hpp"
#include "test_support.hpp"

namespace {

using perfex::io::Frame;
using perfex::io::RawTable;

Frame make_frame(int specmin, int nspec, int nwave, const std::string& camera) {
  return perfex::test::make_test_frame(specmin, nspec, nwave, camera);
}

std::string card(const std::string& key, const std::string& value) {
  std::string c = key;
  c.resize(8, ' ');
  c += "= ";
  std::string v = value;
  if (v.size() < 20) v = std::string(20 - v.size(), ' ') + v;
  c += v;
  return c;
}

// A table with a column of every FITS type perfex stores, the unsigned conventions (TZEROn), a logical,
// bits, complex numbers, vectors and strings, and rows of arbitrary bytes (valid logicals).
RawTable make_table(int nrows) {
  RawTable t;
  t.extname = "FIBERMAP";
  t.names = {"FIBER", "TARGETID", "OBJTYPE", "FLAG", "MASKBITS", "BITS", "FLUXES",
             "RADEC", "SMALL",    "SBYTE",   "CPLX", "MASK32",   "DCPLX"};
  t.forms = {"J", "K", "3A", "L", "I", "12X", "5E", "2D", "B", "B", "C", "J", "M"};
  t.units = {"", "", "", "", "", "", "nanomaggy", "deg", "", "", "", "", ""};
  t.ncolumns = static_cast<int>(t.names.size());
  t.cards = {card("TZERO2", "9223372036854775808"), card("TZERO5", "32768"), card("TZERO10", "-128"),
             card("TZERO12", "2147483648"),         card("TNULL1", "-1"),    card("SURVEY", "'main'")};
  t.row_bytes = 4 + 8 + 3 + 1 + 2 + 2 + 20 + 16 + 1 + 1 + 8 + 4 + 16;
  t.nrows = nrows;
  t.rows.resize(static_cast<std::size_t>(t.row_bytes) * nrows);
  unsigned state = 12345;
  for (auto& b : t.rows) {
    state = state * 1103515245u + 12345u;
    b = static_cast<unsigned char>(state >> 16);
  }
  for (int r = 0; r < nrows; ++r) {
    unsigned char* row = t.rows.data() + static_cast<std::size_t>(r) * t.row_bytes;
    row[15] = r % 3 == 0 ? 'T' : r % 3 == 1 ? 'F' : 0;  // FLAG
    std::memcpy(row + 12, r % 2 ? "SKY" : "TGT", 3);
  }
  return t;
}

std::vector<char> bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void check_same_table(const RawTable& a, const RawTable& b) {
  CHECK(a.nrows == b.nrows);
  CHECK(a.row_bytes == b.row_bytes);
  CHECK(a.names == b.names);
  CHECK(a.forms == b.forms);
  CHECK(a.units == b.units);
  CHECK(a.cards == b.cards);
  CHECK(a.rows == b.rows);
}

void check_same_frame(const Frame& a, const Frame& b) {
  const auto& x = a.data;
  const auto& y = b.data;
  REQUIRE(x.nspec == y.nspec);
  REQUIRE(x.nwave == y.nwave);
  REQUIRE(x.ndiag == y.ndiag);
  CHECK(x.specmin == y.specmin);
  CHECK(x.wavelengths == y.wavelengths);
  CHECK(a.exact == b.exact);
  CHECK(a.has_pixmask_fraction == b.has_pixmask_fraction);
  CHECK(a.fibermap_rows == b.fibermap_rows);
  auto same = [](const auto& u, const auto& v) {
    return u.size() == v.size() && std::memcmp(u.data(), v.data(), u.size() * sizeof(*u.data())) == 0;
  };
  CHECK(same(x.flux, y.flux));
  CHECK(same(x.ivar, y.ivar));
  CHECK(same(x.chi2pix, y.chi2pix));
  CHECK(same(x.resolution, y.resolution));
  CHECK(same(a.mask, b.mask));
  if (a.has_pixmask_fraction) CHECK(same(x.pixmask_fraction, y.pixmask_fraction));
  const auto& h = a.header;
  const auto& k = b.header;
  CHECK(h.camera == k.camera);
  CHECK(h.expid == k.expid);
  CHECK(h.night == k.night);
  CHECK(h.mjd_obs == k.mjd_obs);
  CHECK(h.exptime == k.exptime);
  CHECK(h.flavor == k.flavor);
  CHECK(h.in_psf == k.in_psf);
  CHECK(h.in_img == k.in_img);
  CHECK(h.wavemin == k.wavemin);
  CHECK(h.wavemax == k.wavemax);
  CHECK(h.wavestep == k.wavestep);
  CHECK(h.options.bundlesize == k.options.bundlesize);
  CHECK(h.options.nsubbundles == k.options.nsubbundles);
  CHECK(h.options.nwavestep == k.options.nwavestep);
  CHECK(h.options.wavepad_frac == k.options.wavepad_frac);
  CHECK(h.options.pixpad_frac == k.options.pixpad_frac);
  CHECK(h.options.regularize == k.options.regularize);
  CHECK(h.options.psferr == k.options.psferr);
  CHECK(h.options.ndiag == k.options.ndiag);
  CHECK(h.psf_tails == k.psf_tails);
  CHECK(h.heliocor == k.heliocor);
  CHECK(h.version == k.version);
}

template <class F>
std::string data_error_of(F&& f) {
  try {
    f();
  } catch (const perfex::Error& e) {
    CHECK(e.kind() == perfex::ErrorKind::Data);
    return e.what();
  }
  FAIL("no error");
  return "";
}

}  // namespace

TEST_CASE("HDF5 frames: FITS -> HDF5 -> FITS keeps every array, keyword and FIBERMAP byte", "[io][hdf5]") {
  REQUIRE(perfex::io::hdf5_available());
  perfex::test::TempDir tmp;
  for (const bool float64 : {true, false}) {
    const Frame frame = make_frame(50, 3, 40, "r3");
    const perfex::io::Fibermap fibermap = perfex::io::fibermap_from_table(make_table(60));
    perfex::io::FibermapSource source;
    source.table = &fibermap;
    source.first = 50;
    perfex::io::FrameWriteOptions options;
    options.float64 = float64;
    const std::string tag = float64 ? "64" : "32";
    const std::string fits = (tmp / ("frame" + tag + ".fits")).string();
    perfex::io::write_frame(fits, frame, source, options);

    // FITS -> HDF5 (what perfex convert does).
    const Frame from_fits = perfex::io::read_frame(fits, true);
    perfex::io::FibermapSource fits_rows;
    fits_rows.path = fits;
    const auto table = perfex::io::fibermap_rows(fits_rows, from_fits.fibermap_rows);
    REQUIRE(table);
    REQUIRE(table->nrows == 3);
    CHECK(std::vector<unsigned char>(table->rows.begin(), table->rows.end()) ==
          std::vector<unsigned char>(fibermap.raw->rows.begin() + 50 * fibermap.raw->row_bytes,
                                     fibermap.raw->rows.begin() + 53 * fibermap.raw->row_bytes));
    const perfex::io::Fibermap fm = perfex::io::fibermap_from_table(*table);
    perfex::io::FibermapSource h5_source;
    h5_source.table = &fm;
    const std::string h5 = (tmp / ("frame" + tag + ".h5")).string();
    perfex::io::write_frame_hdf5(h5, from_fits, h5_source, options);
    CHECK(perfex::io::input_frame_format(h5) == perfex::io::FrameFormat::Hdf5);

    std::optional<RawTable> h5_table;
    const Frame from_h5 = perfex::io::read_frame_hdf5(h5, "", true, &h5_table);
    check_same_frame(from_fits, from_h5);
    REQUIRE(h5_table);
    check_same_table(*table, *h5_table);
    // The float32 arrays too.
    check_same_frame(perfex::io::read_frame(fits, false), perfex::io::read_frame_hdf5(h5, "", false));

    // HDF5 -> FITS: the very same file.
    const perfex::io::Fibermap back = perfex::io::fibermap_from_table(*h5_table);
    perfex::io::FibermapSource back_source;
    back_source.table = &back;
    const std::string fits2 = (tmp / ("back" + tag + ".fits")).string();
    perfex::io::write_frame(fits2, from_h5, back_source, options);
    CHECK(bytes_of(fits) == bytes_of(fits2));

    // Equal content, equal bytes.
    const std::string h5b = (tmp / ("again" + tag + ".h5")).string();
    perfex::io::write_frame_hdf5(h5b, from_h5, back_source, options);
    CHECK(bytes_of(h5) == bytes_of(h5b));
  }
}

TEST_CASE("HDF5 frames: an in-memory fibermap without a raw table gets perfex's four columns", "[io][hdf5]") {
  perfex::test::TempDir tmp;
  perfex::io::Fibermap fm;
  for (int i = 0; i < 5; ++i) {
    fm.fiber.push_back(i);
    fm.targetid.push_back(1000 + i);
    fm.objtype.push_back(i % 2 ? "SKY" : "TGT");
    fm.fiberstatus.push_back(i == 3 ? 4 : 0);
  }
  perfex::io::FibermapSource source;
  source.table = &fm;
  source.first = 1;
  const Frame frame = make_frame(1, 3, 20, "b1");
  const std::string fits = (tmp / "f.fits").string(), h5 = (tmp / "f.h5").string();
  perfex::io::write_frame(fits, frame, source, {});
  perfex::io::write_frame_hdf5(h5, frame, source, {});
  perfex::io::FibermapSource fits_rows;
  fits_rows.path = fits;
  std::optional<RawTable> h5_table;
  perfex::io::read_frame_hdf5(h5, "", true, &h5_table);
  REQUIRE(h5_table);
  const auto fits_table = perfex::io::fibermap_rows(fits_rows, 3);
  CHECK(h5_table->rows == fits_table->rows);
  CHECK(h5_table->forms == fits_table->forms);
  CHECK(h5_table->names == fits_table->names);
}

TEST_CASE("HDF5 exposure files: one group per frame, repeated cameras named by the fallback", "[io][hdf5]") {
  perfex::test::TempDir tmp;
  const std::string path = (tmp / "exposure.h5").string();
  const Frame a = make_frame(0, 2, 30, "r0"), b = make_frame(0, 2, 30, "r0"), c = make_frame(0, 2, 30, "");
  const auto table = std::optional<RawTable>(make_table(2));
  {
    perfex::io::Hdf5ExposureWriter w(path, false);
    CHECK(w.add(a, table, false, "r0", "frame-r0-1") == "r0");
    CHECK(w.add(b, std::nullopt, true, "r0", "frame-r0-2") == "frame-r0-2");
    CHECK(w.add(c, table, false, "", "frame-r0-2") == "frame-2");
    CHECK(w.frames() == 3);
    w.commit();
  }
  CHECK(perfex::io::hdf5_frame_groups(path) == std::vector<std::string>{"frame-2", "frame-r0-2", "r0"});
  std::optional<RawTable> t;
  const Frame ra = perfex::io::read_frame_hdf5(path, "r0", true, &t);
  CHECK(ra.header.camera == "r0");
  REQUIRE(t);
  check_same_table(*table, *t);
  const Frame rb = perfex::io::read_frame_hdf5(path, "frame-r0-2", true, &t);
  CHECK(rb.exact);
  CHECK_FALSE(t);
  CHECK(rb.fibermap_rows == -1);
  const std::string msg = data_error_of([&] { perfex::io::read_frame_hdf5(path); });
  CHECK(msg.find("an exposure file of frames frame-2, frame-r0-2, r0") != std::string::npos);
  CHECK(data_error_of([&] { perfex::io::read_frame_hdf5(path, "b9"); }).find("no such group") != std::string::npos);

  // An uncommitted exposure leaves nothing behind.
  const std::string dropped = (tmp / "dropped.h5").string();
  {
    perfex::io::Hdf5ExposureWriter w(dropped, false);
    w.add(a, table, false, "r0", "x");
  }
  CHECK_FALSE(std::filesystem::exists(dropped));
  CHECK(std::distance(std::filesystem::directory_iterator(tmp.path()), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("HDF5 frames: foreign, truncated and non-HDF5 files are data errors naming the file", "[io][hdf5]") {
  perfex::test::TempDir tmp;
  const Frame frame = make_frame(0, 4, 50, "z2");
  const std::string good = (tmp / "good.h5").string();
  perfex::io::write_frame_hdf5(good, frame, {}, {});

  // A valid HDF5 file written by someone else.
  const std::string foreign = (tmp / "foreign.h5").string();
  {
    const hid_t f = H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t n = 3;
    const hid_t s = H5Screate_simple(1, &n, nullptr);
    const hid_t d = H5Dcreate2(f, "FLUX", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d);
    H5Sclose(s);
    H5Fclose(f);
  }
  std::string m = data_error_of([&] { perfex::io::read_frame_hdf5(foreign); });
  CHECK(m.find(foreign) != std::string::npos);
  CHECK(m.find("not a perfex HDF5 frame") != std::string::npos);

  // Truncated: the superblock says more bytes than there are.
  const auto bytes = bytes_of(good);
  for (const std::size_t keep : {bytes.size() / 2, std::size_t(600), std::size_t(10)}) {
    const std::string cut = (tmp / ("cut" + std::to_string(keep) + ".h5")).string();
    std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
    m = data_error_of([&] { perfex::io::read_frame_hdf5(cut); });
    CHECK(m.find(cut) != std::string::npos);
    CHECK((m.find("truncated") != std::string::npos || m.find("not an HDF5 file") != std::string::npos));
  }
  // Not HDF5 at all, and missing.
  const std::string text = (tmp / "text.h5").string();
  std::ofstream(text) << "not an HDF5 file\n";
  CHECK(data_error_of([&] { perfex::io::read_frame_hdf5(text); }).find("text.h5: not an HDF5 file") !=
        std::string::npos);
  CHECK(data_error_of([&] { perfex::io::read_frame_hdf5((tmp / "none.h5").string()); }).find("no such file") !=
        std::string::npos);

  // A frame group missing a dataset.
  const std::string partial = (tmp / "partial.h5").string();
  std::filesystem::copy_file(good, partial);
  {
    const hid_t f = H5Fopen(partial.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "RESOLUTION", H5P_DEFAULT);
    H5Fclose(f);
  }
  m = data_error_of([&] { perfex::io::read_frame_hdf5(partial); });
  CHECK(m.find("partial.h5[/RESOLUTION]: dataset RESOLUTION is missing") != std::string::npos);
}

TEST_CASE("HDF5 frames: an existing output needs overwrite and is left untouched", "[io][hdf5]") {
  perfex::test::TempDir tmp;
  const std::string path = (tmp / "frame.h5").string();
  std::ofstream(path) << "keep me\n";
  const Frame frame = make_frame(0, 2, 20, "r0");
  try {
    perfex::io::write_frame_hdf5(path, frame, {}, {});
    FAIL("no error");
  } catch (const perfex::Error& e) {
    CHECK(e.kind() == perfex::ErrorKind::Usage);
    CHECK(std::string(e.what()).find("--overwrite") != std::string::npos);
  }
  CHECK(bytes_of(path) == std::vector<char>{'k', 'e', 'e', 'p', ' ', 'm', 'e', '\n'});
  perfex::io::FrameWriteOptions options;
  options.overwrite = true;
  perfex::io::write_frame_hdf5(path, frame, {}, options);
  CHECK(perfex::io::read_frame_hdf5(path).data.nspec == 2);
  CHECK(std::distance(std::filesystem::directory_iterator(tmp.path()), std::filesystem::directory_iterator()) == 1);
}
