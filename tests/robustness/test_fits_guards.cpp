// perfex's checks of FITS bytes before CFITSIO uses them (io/src/fits_header_check.cpp, io/src/rice_check.cpp): valid
// files written by CFITSIO itself always pass, and the corruptions that crash CFITSIO are refused as data errors.
#include <fitsio.h>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/io/fits_file.hpp"
#include "test_support.hpp"

namespace {

using perfex::io::FitsFile;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void spill(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Writes `values` (ny x nx) as a RICE_1 tile-compressed image HDU "IMG" of type `bitpix`, in tiles of
// tile_y x tile_x pixels (0: CFITSIO's default, one row per tile).
void write_rice(const std::string& path, int bitpix, int ny, int nx, const std::vector<double>& values, long tile_y,
                long tile_x) {
  std::filesystem::remove(path);
  int status = 0;
  fitsfile* f = nullptr;
  fits_create_diskfile(&f, path.c_str(), &status);
  fits_create_img(f, BYTE_IMG, 0, nullptr, &status);
  fits_set_compression_type(f, RICE_1, &status);
  if (tile_x > 0) {
    long tile[2] = {tile_x, tile_y};
    fits_set_tile_dim(f, 2, tile, &status);
  }
  long naxes[2] = {nx, ny};
  fits_create_img(f, bitpix, 2, naxes, &status);
  char extname[] = "IMG";
  fits_update_key(f, TSTRING, "EXTNAME", extname, nullptr, &status);
  // Each type written from its own C type (CFITSIO compresses from the native type).
  auto write = [&](auto tag, int datatype) {
    std::vector<decltype(tag)> native(values.begin(), values.end());
    fits_write_img(f, datatype, 1, static_cast<LONGLONG>(native.size()), native.data(), &status);
  };
  if (bitpix == BYTE_IMG)
    write(static_cast<unsigned char>(0), TBYTE);
  else if (bitpix == SHORT_IMG)
    write(static_cast<short>(0), TSHORT);
  else if (bitpix == LONG_IMG)
    write(0, TINT);
  else
    write(0.0f, TFLOAT);
  fits_close_file(f, &status);
  REQUIRE(status == 0);
}

// `bytes` with the 80-byte card that starts with `card_start` replaced by `card` (padded with blanks).
std::string with_card(std::string bytes, const std::string& card_start, const std::string& card) {
  const auto at = bytes.find(card_start);
  REQUIRE(at != std::string::npos);
  bytes.replace(at, 80, card + std::string(80 - card.size(), ' '));
  return bytes;
}

std::string data_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const perfex::Error& e) {
    if (e.kind() != perfex::ErrorKind::Data) return std::string("wrong kind: ") + e.what();
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("Rice tiles written by CFITSIO pass perfex's check and read back exactly", "[robustness][fits]") {
  perfex::test::TempDir dir;
  const std::string path = (dir / "rice.fits").string();
  std::mt19937_64 rng(7);
  const int ny = 37, nx = 53;
  for (int bitpix : {BYTE_IMG, SHORT_IMG, LONG_IMG, FLOAT_IMG}) {
    const double top = bitpix == BYTE_IMG ? 255.0 : bitpix == SHORT_IMG ? 32767.0 : 2.0e9;
    const double bottom = bitpix == BYTE_IMG ? 0.0 : -top;
    for (double spread : {0.0, 3.0, 300.0, 1e12}) {  // constant, low and high entropy, full range
      std::vector<double> values(static_cast<std::size_t>(ny) * nx);
      std::uniform_real_distribution<double> u(-1.0, 1.0);
      for (std::size_t k = 0; k < values.size(); ++k) {
        double v = (bitpix == BYTE_IMG ? 100.0 : 0.0) + spread * u(rng);
        v = std::min(top, std::max(bottom, v));
        values[k] = bitpix == FLOAT_IMG ? v : std::round(v);
      }
      for (long tile : {0L, 5L}) {
        INFO("BITPIX " << bitpix << ", spread " << spread << ", tiles " << (tile ? "5 x 7" : "rows"));
        write_rice(path, bitpix, ny, nx, values, tile, tile ? 7 : 0);
        FitsFile f(path, FitsFile::Mode::Read);
        f.move_to("IMG");
        std::vector<double> back;
        REQUIRE_NOTHROW(back = f.read_image_double());
        REQUIRE(back.size() == values.size());
        if (bitpix != FLOAT_IMG) CHECK(back == values);  // float images are quantized (lossy)
        const std::string bytes = slurp(path);
        FitsFile m = FitsFile::open_memory(bytes.data(), bytes.size(), "rice.fits");
        m.move_to("IMG");
        CHECK_NOTHROW(m.read_image_double());
      }
    }
  }
}

TEST_CASE("Corrupt tile compression is a data error, not a CFITSIO crash", "[robustness][fits]") {
  perfex::test::TempDir dir;
  const std::string path = (dir / "rice.fits").string();
  std::vector<double> values(16 * 20);
  for (std::size_t k = 0; k < values.size(); ++k) values[k] = static_cast<double>((k * 37) % 101);
  write_rice(path, SHORT_IMG, 16, 20, values, 0, 0);
  const std::string good = slurp(path);

  // Header cards CFITSIO divides by (BLOCKSIZE, ZTILE1) or sizes buffers from, edited in the raw bytes.
  auto edited = [&](const std::string& card_start, const std::string& card) {
    return with_card(good, card_start, card);
  };
  const std::string zero_block = edited("ZVAL1   =", "ZVAL1   =                    0 / pixels per block");
  const std::string zero_tile = edited("ZTILE1  =", "ZTILE1  =                    0 / size of tiles");
  const std::string bad_bytepix = edited("ZVAL2   =", "ZVAL2   =                    3 / bytes per pixel");
  // CFITSIO reads a logical by its first character: "T" followed by junk instead of "/ comment" still marks
  // a compressed image (found by the fuzz lane: ZTILE2 = 0 behind such a ZIMAGE card stopped CFITSIO with SIGFPE).
  const std::string junk_zimage = with_card(zero_tile, "ZIMAGE  =",
                                            "ZIMAGE  =                    T \xff\xff"
                                            "extension contains compressed image");
  // "=(" instead of "= " before a value: CFITSIO still reads ZVAL2 and overflowed a buffer converting it
  // (found by the fuzz lane, 2026-12-04).
  const std::string no_indicator = edited("ZVAL2   =", "ZVAL2   =(                   2 / bytes per pixel");
  // CFITSIO takes the Rice block size from ZVAL1 whatever ZNAME1 says (found by the fuzz lane, 2026-12-05).
  const std::string renamed_block = with_card(zero_block, "ZNAME1  =", "ZNAME1  = 'BLOCKSIZ'");
  // ...and swaps ZVAL1 and ZVAL2 when ZVAL1 < 16 and ZVAL2 > 8 (a reversed pair, 0 and 32: 0 bytes per pixel).
  const std::string swapped = with_card(zero_block, "ZVAL2   =", "ZVAL2   =                   32");
  // Cards CFITSIO finds under the name ZVAL1 although their first 8 bytes differ.
  const std::string hierarch = edited("ZVAL1   =", "HIERARCH ZVAL1 = 0");
  const std::string lower_case = edited("ZVAL1   =", "zval1   =                    0");
  const std::string no_blank = edited("ZVAL1   =", "ZVAL1=0 / pixels per block");
  // A value CFITSIO cannot convert to an integer, long enough to overflow its message buffer (ffc2j).
  const std::string junk_zbitpix = edited("ZBITPIX =", "ZBITPIX = abcdefghijklmnopqrstuvwxyz0123456789");
  // What CFITSIO reads as a primary and as a binary table, however unusual.
  std::string nul_simple = zero_block;
  nul_simple[6] = nul_simple[7] = '\0';  // "SIMPLE\0\0": CFITSIO compares the name up to the NUL
  const std::string a3dtable = with_card(zero_block, "XTENSION=", "XTENSION= 'A3DTABLE'");
  // A string whose doubled quote straddles CFITSIO's 70-character value limit: ffpsvc writes past the end of its
  // buffer (found by the fuzz lane in the PSF reader, 2026-12-05).
  const std::string long_quotes = with_card(good, "EXTEND  =", "X='" + std::string(68, 'a') + "''b'");
  // An unquoted 70-character column name: CFITSIO copies it into its 70-byte TTYPEn field (a fortify abort in
  // ffgtbp, found by an exploration run of the PSF fuzzer, 2026-12-05).
  // ZNAXIS1 = 0 and no ZTILE1: CFITSIO's default tile size is ZNAXIS1, and it divides by it (found by an
  // exploration run of the preproc fuzzer, 2026-12-05).
  const std::string empty_untiled = with_card(with_card(good, "ZNAXIS1 =", "ZNAXIS1 =                    0"),
                                              "ZTILE1  =", "ZTILE7  =                   16");
  const std::string long_ttype = with_card(good, "TTYPE1  =", "TTYPE1  = " + std::string(70, 'c'));
  for (const auto& [bytes_case, message_case] :
       {std::pair{zero_block, "keyword ZVAL1 (Rice BLOCKSIZE) must be an integer in 1.."},
        std::pair{no_indicator, "keyword ZVAL2 has a value that cannot be parsed"},
        std::pair{junk_zimage, "keyword ZTILE1 must be an integer in 1..20"},
        std::pair{zero_tile, "keyword ZTILE1 must be an integer in 1..20"},
        std::pair{bad_bytepix, "keyword ZVAL2 (Rice BYTEPIX) must be 1, 2, 4 or 8, found '3'"},
        std::pair{renamed_block, "keyword ZVAL1 (Rice BLOCKSIZE) must be an integer in 1.."},
        std::pair{swapped, "keyword ZVAL1 (Rice BYTEPIX) must be 1, 2, 4 or 8, found '0'"},
        std::pair{hierarch, "keyword ZVAL1 (Rice BLOCKSIZE) must be an integer in 1.."},
        std::pair{lower_case, "keyword ZVAL1 (Rice BLOCKSIZE) must be an integer in 1.."},
        std::pair{no_blank, "keyword ZVAL1 (Rice BLOCKSIZE) must be an integer in 1.."},
        std::pair{junk_zbitpix, "keyword ZBITPIX must be an integer in -64..64"},
        std::pair{nul_simple, "keyword ZVAL1 (Rice BLOCKSIZE) must be an integer in 1.."},
        std::pair{a3dtable, "keyword ZVAL1 (Rice BLOCKSIZE) must be an integer in 1.."},
        std::pair{long_quotes, "bad.fits: HDU 0, header card 4 (X): a string value with doubled quotes at the"},
        std::pair{empty_untiled, "keyword ZTILE1 is missing and ZNAXIS1 is 0"},
        std::pair{long_ttype, "(TTYPE1): a value of 70 characters that is not a quoted string, which CFITSIO"}}) {
    const std::string& bytes = bytes_case;  // named: lambdas capturing structured bindings need C++20
    const std::string message = message_case;
    INFO(message);
    spill(dir / "bad.fits", bytes);
    const std::string from_disk = data_error([&] { FitsFile f((dir / "bad.fits").string(), FitsFile::Mode::Read); });
    const std::string from_memory = data_error([&] { FitsFile::open_memory(bytes.data(), bytes.size(), "bad.fits"); });
    CHECK_THAT(from_disk, Catch::Matchers::ContainsSubstring(message));
    CHECK_THAT(from_memory, Catch::Matchers::ContainsSubstring(message));
  }

  // A reversed pair that CFITSIO reads correctly (ZVAL1 = 2 bytes per pixel, ZVAL2 = 32 pixels per block) is
  // read, with the swapped parameters in the tile check too.
  {
    const std::string reversed = with_card(with_card(good, "ZVAL1   =", "ZVAL1   =                    2"),
                                           "ZVAL2   =", "ZVAL2   =                   32");
    spill(dir / "reversed.fits", reversed);
    FitsFile f((dir / "reversed.fits").string(), FitsFile::Mode::Read);
    f.move_to("IMG");
    CHECK(f.read_image_double() == values);
  }

  // A tile whose Rice stream runs past its end: the first pixel, a block code 0, then only zero bits. Patched in
  // the raw bytes (CFITSIO re-reads a tile it is made to edit).
  {
    int status = 0;
    fitsfile* f = nullptr;
    fits_open_diskfile(&f, path.c_str(), READONLY, &status);
    fits_movnam_hdu(f, ANY_HDU, const_cast<char*>("IMG"), 0, &status);
    int col = 0;
    LONGLONG length = 0, offset = 0, naxis1 = 0, naxis2 = 0, header = 0, data = 0, end = 0;
    fits_get_colnum(f, CASEINSEN, const_cast<char*>("COMPRESSED_DATA"), &col, &status);
    fits_read_descriptll(f, col, 3, &length, &offset, &status);
    fits_read_key(f, TLONGLONG, "NAXIS1", &naxis1, nullptr, &status);
    fits_read_key(f, TLONGLONG, "NAXIS2", &naxis2, nullptr, &status);
    fits_get_hduaddrll(f, &header, &data, &end, &status);
    fits_close_file(f, &status);
    REQUIRE(status == 0);
    std::string bytes = good;
    const auto at = static_cast<std::size_t>(data + naxis1 * naxis2 + offset);
    for (LONGLONG k = 0; k < length; ++k) bytes[at + static_cast<std::size_t>(k)] = k == 2 ? '\x10' : '\0';
    spill(path, bytes);
  }
  FitsFile f(path, FitsFile::Mode::Read);
  f.move_to("IMG");
  CHECK(data_error([&] { f.read_image_double(); }).find("rice.fits[IMG]: compressed tile 3 is corrupt") !=
        std::string::npos);
}

TEST_CASE("The header walk accepts what CFITSIO accepts and names truncated HDUs", "[robustness][fits]") {
  perfex::test::TempDir dir;
  const std::string path = (dir / "img.fits").string();
  std::vector<double> values(16 * 20, 3.0);
  write_rice(path, SHORT_IMG, 16, 20, values, 0, 0);
  const std::string good = slurp(path);
  // Trailing bytes that are not an HDU end the file for CFITSIO; perfex reads the file as well.
  for (const std::string& tail : {std::string(100, '\0'), std::string(2880, ' '), std::string("junk")}) {
    spill(dir / "tail.fits", good + tail);
    FitsFile f((dir / "tail.fits").string(), FitsFile::Mode::Read);
    f.move_to("IMG");
    CHECK(f.read_image_double() == values);
  }
  // Cut inside the compressed HDU's heap, and inside its header.
  spill(dir / "cut.fits", good.substr(0, good.size() - 2880));
  CHECK(data_error([&] {
          FitsFile f((dir / "cut.fits").string(), FitsFile::Mode::Read);
        }).find("cut.fits[IMG]: the file is truncated") != std::string::npos);
  spill(dir / "cut-header.fits", good.substr(0, 2880 + 1000));
  CHECK(data_error([&] {
          FitsFile f((dir / "cut-header.fits").string(), FitsFile::Mode::Read);
        }).find("cut-header.fits: HDU 1 is truncated (its header has no END card)") != std::string::npos);
}

TEST_CASE("A string column whose TDIM is wider than its TFORM is a data error", "[robustness][fits]") {
  // CFITSIO accepts TDIMn = '(50)' for a '1A' column and then writes 50-character strings: perfex must not hand
  // it buffers sized from TFORMn.
  perfex::test::TempDir dir;
  const std::string path = (dir / "tdim.fits").string();
  {
    FitsFile f(path, FitsFile::Mode::Create);
    f.create_table("T", {{"NAME", "1A"}}, 3);
    f.write_column("NAME", std::vector<std::string>{"a", "b", "c"});
    f.write_key("TDIM1", std::string("(50)"));
    f.close();
  }
  FitsFile f(path, FitsFile::Mode::Read);
  f.move_to("T");
  CHECK_THAT(data_error([&] { f.read_column_string("NAME"); }),
             Catch::Matchers::ContainsSubstring("tdim.fits[T]: column NAME has strings of 50 characters (TDIM) in a "
                                                "field of 1 (TFORM)"));
}
