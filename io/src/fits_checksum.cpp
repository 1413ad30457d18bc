// FITS checksums (CHECKSUM/DATASUM), as astropy's writeto(checksum=True) gives desispec's files.
#include "perfex/io/fits_checksum.hpp"

#include <fitsio.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "perfex/io/helper_threads.hpp"

namespace perfex::io {

namespace {

fitsfile* fp(FitsFile& f) { return static_cast<fitsfile*>(f.raw()); }

// The convention's 32-bit ones' complement sum: big-endian words added with end-around carry. Accumulated in 64
// bits and folded once: 0 only when every word is 0, otherwise the representative in [1, 2^32 - 1], as
// CFITSIO's ffcsum gives it (it folds per 2880-byte record; the folded value is the same).
std::uint64_t fold(std::uint64_t s) {
  while (s >> 32) s = (s & 0xFFFFFFFFu) + (s >> 32);
  return s;
}

// Sum of the words of bytes [begin, end) of `data` (offsets multiples of 4; bytes past `size` are zeros,
// which add nothing: the fill CFITSIO has not written yet is zero for images and binary tables).
std::uint64_t ones_sum(const unsigned char* data, std::size_t size, long long begin, long long end) {
  const long long stop = std::min<long long>(end, static_cast<long long>(size));
  if (stop <= begin) return 0;
  const long long words = (stop - begin) / 4;
  std::vector<std::uint64_t> parts(4, 0);
  run_in_parts(words, 1 << 20, 4, [&](int k, int nparts) {
    const auto [w0, w1] = part_range(words, k, nparts);
    std::uint64_t s = 0;
    for (long long w = w0; w < w1; ++w) {  // FITS words are big-endian (on x86, one load and a bswap)
      const unsigned char* b = data + begin + 4 * w;
      s += (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
    }
    parts[static_cast<std::size_t>(k)] = s;
  });
  std::uint64_t s = 0;
  for (std::uint64_t p : parts) s = fold(s + fold(p));
  const long long tail = (stop - begin) % 4;  // a word cut by the buffer's end: the rest is zero
  if (tail > 0) {
    std::uint64_t last = 0;
    for (long long k = 0; k < 4; ++k) last = (last << 8) | (k < tail ? data[stop - tail + k] : 0u);
    s = fold(s + last);
  }
  return s;
}

// The keywords are written first with fixed comments, so that equal content gives equal files (the simulator's
// outputs are compared byte for byte across thread counts): CFITSIO dates the comments of keywords it creates.
void write_placeholders(FitsFile& f, const std::string& datasum) {
  int status = 0;
  fits_update_key(fp(f), TSTRING, "CHECKSUM", const_cast<char*>("0000000000000000"), "HDU checksum", &status);
  fits_update_key(fp(f), TSTRING, "DATASUM", const_cast<char*>(datasum.c_str()), "data unit checksum", &status);
  f.check(status, "writing CHECKSUM and DATASUM");
}

// CFITSIO's own route (files not built in memory, ASCII tables): it sums every data unit twice.
void write_checksums_cfitsio(FitsFile& f, int n) {
  for (int i = 0; i < n; ++i) {
    f.move_to_index(i);
    int status = 0;
    unsigned long datasum = 0, hdusum = 0;
    fits_get_chksum(fp(f), &datasum, &hdusum, &status);
    f.check(status, "computing the checksums");
    write_placeholders(f, std::to_string(datasum));
    fits_write_chksum(fp(f), &status);
    f.check(status, "writing CHECKSUM and DATASUM");
  }
}

}  // namespace

void write_checksums(FitsFile& f) {
  // CFITSIO's HDU count leaves out a last HDU without data (a table of 0 rows) until the file is flushed.
  int current = 0;
  fits_get_hdu_num(fp(f), &current);
  const int n = std::max(f.hdu_count(), current);
  bool ascii = false;
  for (int i = 0; i < n && !ascii; ++i) {
    f.move_to_index(i);
    int type = 0, status = 0;
    fits_get_hdu_type(fp(f), &type, &status);
    ascii = status != 0 || type == ASCII_TBL;  // (blank-filled data units: CFITSIO's route)
  }
  if (ascii || !f.flushed_memory()) {
    write_checksums_cfitsio(f, n);
    return;
  }
  // A file built in memory: each data unit summed once, over its bytes, in parts on helper threads; then the
  // header with its final DATASUM and a zero CHECKSUM, as CFITSIO's fits_write_chksum does it (same bytes).
  for (int i = 0; i < n; ++i) {  // first the keywords everywhere: the headers reach their final size
    f.move_to_index(i);
    write_placeholders(f, "0");
  }
  for (int i = 0; i < n; ++i) {
    f.move_to_index(i);
    int status = 0;
    LONGLONG head = 0, data = 0, end = 0;
    fits_get_hduaddrll(fp(f), &head, &data, &end, &status);
    f.check(status, "locating the HDU for its checksums");
    auto bytes = *f.flushed_memory();
    const std::uint64_t datasum = ones_sum(bytes.first, bytes.second, data, end);
    write_placeholders(f, std::to_string(datasum));
    fits_set_hdustruc(fp(f), &status);  // END and the header's fill rewritten (as fits_write_chksum does)
    f.check(status, "writing CHECKSUM and DATASUM");
    bytes = *f.flushed_memory();
    const std::uint64_t sum = fold(datasum + ones_sum(bytes.first, bytes.second, head, data));
    char ascii_sum[17] = {};
    fits_encode_chksum(static_cast<unsigned long>(sum), 1, ascii_sum);  // the complement, ASCII-encoded
    fits_update_key(fp(f), TSTRING, "CHECKSUM", ascii_sum, "HDU checksum", &status);
    f.check(status, "writing CHECKSUM and DATASUM");
  }
}

std::string verify_checksums(FitsFile& f) {
  const int n = f.hdu_count();
  for (int i = 0; i < n; ++i) {
    f.move_to_index(i);
    int status = 0, data_ok = 0, hdu_ok = 0;
    fits_verify_chksum(fp(f), &data_ok, &hdu_ok, &status);
    f.check(status, "verifying CHECKSUM and DATASUM");
    if (data_ok == -1) return f.where() + ": DATASUM does not match the data";
    if (hdu_ok == -1) return f.where() + ": CHECKSUM does not match the HDU";
    if (data_ok != 1 || hdu_ok != 1) return f.where() + ": no CHECKSUM/DATASUM";
  }
  return "";
}

}  // namespace perfex::io
