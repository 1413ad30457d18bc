// CFITSIO wrapper: RAII ownership of a fitsfile* and translation of every status code into a perfex::Error
// that names the file, the HDU and what was being read or written.
#include "perfex/io/fits_file.hpp"

#include <fitsio.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <utility>

#include <sys/stat.h>

#include "fits_header_check.hpp"
#include "gunzip.hpp"
#include "perfex/core/error.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/file_checks.hpp"
#include "rice_check.hpp"

namespace perfex::io {

namespace {
fitsfile* fp(void* p) { return static_cast<fitsfile*>(p); }

std::string status_text(int status) {
  char text[FLEN_STATUS] = {0};
  fits_get_errstatus(status, text);
  fits_clear_errmsg();  // CFITSIO's message stack is not ours to print
  return text;
}

long long element_count(const std::vector<long>& dims) {
  long long n = 1;
  for (long d : dims) n *= d;
  return n;
}

}  // namespace

namespace {
constexpr std::size_t fits_record = detail::fits_block;

// What a file starts with, as CFITSIO's file driver tells plain FITS from the compressed files it unpacks itself
// (file_is_compressed).
enum class FileStart { Fits, Gzip, OtherCompression, Other };
FileStart file_start(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[6] = {0};
  in.read(reinterpret_cast<char*>(magic), sizeof(magic));
  if (std::memcmp(magic, "SIMPLE", 6) == 0) return FileStart::Fits;
  if (magic[0] == 0x1f && magic[1] == 0x8b) return FileStart::Gzip;
  const bool unix_compress = magic[0] == 0x1f && (magic[1] == 0x9d || magic[1] == 0x1e || magic[1] == 0xa0);
  if (unix_compress || std::memcmp(magic, "PK\003\004", 4) == 0) return FileStart::OtherCompression;
  return FileStart::Other;
}

}  // namespace

FitsFile::FitsFile(const std::string& path, Mode mode) : m_path(path) {
  int status = 0;
  fitsfile* f = nullptr;
  if (mode == Mode::Read) {
    // A regular file that can be read: a FIFO or a device would block or never end, a file without permission
    // would look like one that is not FITS.
    check_input_file(path, "a FITS file");
    // Every file is walked before CFITSIO parses it (fits_header_check.hpp): a plain file on disk, a gzip file
    // once unpacked into memory; other compressions are refused rather than unpacked unseen by CFITSIO.
    switch (file_start(path)) {
      case FileStart::Gzip:
        open_checked_memory(detail::gunzip(path));
        return;
      case FileStart::OtherCompression:
        throw_data_error(path +
                         ": cannot be opened as a FITS file (it is compressed with compress, pack or zip; "
                         "perfex reads FITS files plain or gzip-compressed)");
      case FileStart::Other:
        throw_data_error(path + ": cannot be opened as a FITS file (it starts with neither SIMPLE nor a gzip header)");
      case FileStart::Fits: {
        std::ifstream in(path, std::ios::binary);
        detail::check_fits_structure(path, static_cast<unsigned long long>(std::filesystem::file_size(path)),
                                     [&](unsigned long long offset, char* block) {
                                       in.clear();
                                       in.seekg(static_cast<std::streamoff>(offset));
                                       in.read(block, static_cast<std::streamsize>(fits_record));  // short at the end
                                     });
        break;
      }
    }
    // A leading '!' or brackets would be interpreted by CFITSIO's extended file-name syntax; open the
    // path as a plain file name.
    // The file's identity is taken before and after CFITSIO opens it: only when both agree is it the file
    // CFITSIO holds (plain_pixels' readers check it); a file replaced meanwhile leaves m_disk_file unset, and
    // its pixels are then read through CFITSIO alone.
    const auto identity = [&]() -> std::optional<std::pair<unsigned long long, unsigned long long>> {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) return std::nullopt;
      return std::make_pair(static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino));
    };
    const auto before = identity();
    fits_open_diskfile(&f, path.c_str(), READONLY, &status);
    if (status != 0) {
      const std::string text = status_text(status);
      throw_data_error(path + ": cannot be opened as a FITS file (" + text + ")");
    }
    if (before && before == identity()) m_disk_file = before;
  } else {
    fits_create_diskfile(&f, path.c_str(), &status);
    if (status != 0) {
      const std::string text = status_text(status);
      throw_data_error(path + ": cannot be created (" + text + ")");
    }
  }
  m_fptr = f;
  if (mode == Mode::Read) {
    update_hdu_name();
  }
}

FitsFile FitsFile::open_memory(const void* data, std::size_t size, const std::string& name) {
  std::vector<char> bytes;
  bytes.reserve((size + fits_record - 1) / fits_record * fits_record);  // room for the padding: no second copy
  bytes.assign(static_cast<const char*>(data), static_cast<const char*>(data) + size);
  FitsFile file;
  file.m_path = name;
  file.open_checked_memory(std::move(bytes));
  return file;
}

FitsFile FitsFile::create_memory(const std::string& name) {
  FitsFile file;
  file.m_path = name;
  file.create_in_memory();
  return file;
}

void FitsFile::open_checked_memory(std::vector<char> bytes) {
  // CFITSIO's memory driver does not check reads against the buffer's end (CFITSIO 4.2 reads past it for a
  // truncated file), so it reads the bytes padded with zeros to whole 2880-byte records, and every HDU's
  // declared extent is checked against the real size below before any data can be read. CFITSIO keeps the
  // addresses of the pointer and size it is given: they live on the heap with the bytes.
  const std::size_t size = bytes.size();
  bytes.resize((size + fits_record - 1) / fits_record * fits_record, 0);
  m_memory = std::make_unique<MemoryBuffer>();
  auto& memory = *m_memory;
  memory.bytes = std::move(bytes);
  const int hdus = detail::check_fits_structure(m_path, size, [&](unsigned long long offset, char* block) {
    std::memcpy(block, memory.bytes.data() + offset, fits_record);
  });
  memory.data = memory.bytes.data();
  memory.size = memory.bytes.size();
  int status = 0;
  fitsfile* f = nullptr;
  fits_open_memfile(&f, m_path.c_str(), READONLY, &memory.data, &memory.size, 0, nullptr, &status);
  if (status != 0) {
    const std::string text = status_text(status);
    throw_data_error(m_path + ": cannot be opened as a FITS file (" + text + ")");
  }
  m_fptr = f;
  check_extents(memory.size, hdus);  // CFITSIO's view of the same HDUs, within the padded copy
}

void FitsFile::check_extents(unsigned long long size, int hdus) {
  fitsfile* f = fp(m_fptr);
  int status = 0;
  for (int hdu = 1; hdu <= hdus; ++hdu) {
    fits_movabs_hdu(f, hdu, nullptr, &status);
    if (status == END_OF_FILE && hdu > 1) break;
    if (status != 0) {
      const std::string text = status_text(status);
      throw_data_error(m_path + ": HDU " + std::to_string(hdu - 1) + " cannot be read (" + text + ")");
    }
    LONGLONG header_start = 0, data_start = 0, data_end = 0;
    fits_get_hduaddrll(f, &header_start, &data_start, &data_end, &status);
    check(status, "locating HDU " + std::to_string(hdu - 1));
    if (data_end > static_cast<LONGLONG>(size)) {
      update_hdu_name();
      throw_data_error(where() + ": the file is truncated (this HDU ends at byte " + std::to_string(data_end) +
                       ", the file holds " + std::to_string(size) + ")");
    }
  }
  status = 0;
  fits_clear_errmsg();
  fits_movabs_hdu(f, 1, nullptr, &status);
  check(status, "moving to the primary HDU");
  update_hdu_name();
}

namespace {

// The buffer of a file built in memory, zero wherever CFITSIO has not written. CFITSIO looks for a next HDU in
// the bytes past the last one it wrote; from plain malloc/realloc those bytes are whatever the heap held, in a
// process that writes several files often the headers of an earlier one, which CFITSIO then took for HDUs of
// this file (a frame written after others came out with the earlier frame's WAVELENGTH HDU). So the buffer is
// allocated zeroed and grown by zeroing_realloc, which zeroes what it adds. Its capacity is kept in a header
// before the bytes CFITSIO sees (realloc does not say how much it had).
constexpr std::size_t buffer_header = 16;  // keeps the bytes 16-byte aligned, as malloc's

void* zeroed_buffer(std::size_t size) {
  auto* base = static_cast<char*>(std::calloc(1, buffer_header + size));
  if (!base) return nullptr;
  std::memcpy(base, &size, sizeof size);
  return base + buffer_header;
}

void* zeroing_realloc(void* data, std::size_t size) {
  if (!data) return zeroed_buffer(size);
  char* base = static_cast<char*>(data) - buffer_header;
  std::size_t old = 0;
  std::memcpy(&old, base, sizeof old);
  auto* grown = static_cast<char*>(std::realloc(base, buffer_header + size));
  if (!grown) return nullptr;
  if (size > old) std::memset(grown + buffer_header + old, 0, size - old);
  std::memcpy(grown, &size, sizeof size);
  return grown + buffer_header;
}

void free_buffer(void* data) {
  if (data) std::free(static_cast<char*>(data) - buffer_header);
}

}  // namespace

FitsFile::FitsFile(AtomicOutput& output) : m_output(&output), m_path(output.path()) { create_in_memory(); }

void FitsFile::create_in_memory() {
  m_created = std::make_unique<CreatedBuffer>();
  constexpr std::size_t initial = 2880 * 16;
  m_created->data = zeroed_buffer(initial);
  if (!m_created->data) throw std::bad_alloc();
  m_created->size = initial;
  int status = 0;
  fitsfile* f = nullptr;
  // Grows by 1 MiB steps (realloc moves pages, it does not copy them). CFITSIO also truncates the buffer to the
  // file's end at every new HDU, so each step beyond the end is freed and then faulted and zeroed again by the
  // next HDU: 16 MiB steps did that to ~220 MB for a frame's 14 HDUs (~60 ms), 1 MiB steps to ~14 MB.
  fits_create_memfile(&f, &m_created->data, &m_created->size, std::size_t{1} << 20, zeroing_realloc, &status);
  if (status != 0) {
    const std::string text = status_text(status);
    throw_data_error(m_path + ": cannot be created in memory (" + text + ")");
  }
  m_fptr = f;
}

FitsFile::CreatedBuffer::~CreatedBuffer() { free_buffer(data); }

std::optional<std::pair<const unsigned char*, std::size_t>> FitsFile::flushed_memory() {
  if (!m_created || !m_fptr) return std::nullopt;
  int status = 0;
  fits_flush_buffer(fp(m_fptr), 0, &status);
  check(status, "flushing the file built in memory");
  return std::make_pair(static_cast<const unsigned char*>(m_created->data), m_created->size);
}

FitsFile::FitsFile(FitsFile&& other) noexcept
    : m_fptr(std::exchange(other.m_fptr, nullptr)),
      m_memory(std::move(other.m_memory)),
      m_created(std::move(other.m_created)),
      m_output(std::exchange(other.m_output, nullptr)),
      m_path(std::move(other.m_path)),
      m_hdu(std::move(other.m_hdu)) {}

FitsFile::~FitsFile() {
  if (m_fptr) {
    int status = 0;
    fits_close_file(fp(m_fptr), &status);
    fits_clear_errmsg();
  }
}

void FitsFile::close() {
  if (!m_fptr) return;
  int status = 0;
  std::size_t size = 0;
  if (m_output) {
    // The file's length: the end of its last HDU, padding included (the buffer grows by larger steps).
    int hdus = 0;
    LONGLONG header = 0, data = 0, end = 0;
    fits_flush_file(fp(m_fptr), &status);
    fits_get_num_hdus(fp(m_fptr), &hdus, &status);
    if (hdus > 0) fits_movabs_hdu(fp(m_fptr), hdus, nullptr, &status);
    fits_get_hduaddrll(fp(m_fptr), &header, &data, &end, &status);
    if (status == 0) size = static_cast<std::size_t>(end);
  }
  const int before = status;
  fits_close_file(fp(m_fptr), &status);
  m_fptr = nullptr;
  if (status != 0) fail(status, before != 0 ? "finishing the file" : "closing the file");
  if (m_output) {
    if (size > m_created->size) throw_data_error(m_path + ": the in-memory FITS file is shorter than its HDUs");
    m_output->write_file(m_created->data, size);
    m_created.reset();
  }
}

std::string FitsFile::where() const { return m_hdu.empty() ? m_path : m_path + "[" + m_hdu + "]"; }

void FitsFile::fail(int status, const std::string& what) const {
  const std::string text = status_text(status);
  throw_data_error(where() + ": " + what + " failed (" + text + ")");
}

void FitsFile::update_hdu_name() {
  int status = 0;
  char value[FLEN_VALUE] = {0};
  int hdu = 0;
  fits_get_hdu_num(fp(m_fptr), &hdu);
  if (fits_read_key(fp(m_fptr), TSTRING, "EXTNAME", value, nullptr, &status) == 0) {
    m_hdu = value;
  } else {
    fits_clear_errmsg();
    m_hdu = "HDU " + std::to_string(hdu - 1);
  }
}

int FitsFile::hdu_count() {
  int status = 0, n = 0;
  fits_get_num_hdus(fp(m_fptr), &n, &status);
  check(status, "counting HDUs");
  return n;
}

bool FitsFile::has_hdu(const std::string& extname) {
  int current = 0;
  fits_get_hdu_num(fp(m_fptr), &current);
  int status = 0;
  fits_movnam_hdu(fp(m_fptr), ANY_HDU, const_cast<char*>(extname.c_str()), 0, &status);
  const bool found = status == 0;
  fits_clear_errmsg();
  status = 0;
  fits_movabs_hdu(fp(m_fptr), current, nullptr, &status);
  fits_clear_errmsg();
  return found;
}

void FitsFile::move_to(const std::string& extname) {
  int status = 0;
  fits_movnam_hdu(fp(m_fptr), ANY_HDU, const_cast<char*>(extname.c_str()), 0, &status);
  if (status == BAD_HDU_NUM) {
    fits_clear_errmsg();
    throw_data_error(m_path + ": HDU " + extname + " is missing");
  }
  if (status != 0) {
    const std::string text = status_text(status);
    throw_data_error(m_path + ": cannot read HDU " + extname + " (" + text + ")");
  }
  m_hdu = extname;
}

void FitsFile::move_to_index(int index0) {
  int status = 0;
  fits_movabs_hdu(fp(m_fptr), index0 + 1, nullptr, &status);
  if (status != 0) {
    const std::string text = status_text(status);
    throw_data_error(m_path + ": HDU " + std::to_string(index0) + " cannot be read (" + text + ")");
  }
  update_hdu_name();
}

std::optional<std::string> FitsFile::read_key_string(const std::string& key) {
  int status = 0;
  char value[FLEN_VALUE] = {0};
  fits_read_key(fp(m_fptr), TSTRING, key.c_str(), value, nullptr, &status);
  if (status == KEY_NO_EXIST) {
    fits_clear_errmsg();
    return std::nullopt;
  }
  check(status, "reading keyword " + key);
  return std::string(value);
}

std::optional<double> FitsFile::read_key_double(const std::string& key) {
  int status = 0;
  double value = 0;
  fits_read_key(fp(m_fptr), TDOUBLE, key.c_str(), &value, nullptr, &status);
  if (status == KEY_NO_EXIST) {
    fits_clear_errmsg();
    return std::nullopt;
  }
  if (status != 0) {
    fits_clear_errmsg();
    throw_data_error(where() + ": keyword " + key + " is not a number");
  }
  return value;
}

std::optional<long long> FitsFile::read_key_int(const std::string& key) {
  auto s = read_key_string(key);
  if (!s) return std::nullopt;
  // Accept integers written as numbers or as strings ('3'), as real PSF files do.
  std::string t = *s;
  while (!t.empty() && (t.back() == ' ')) t.pop_back();
  while (!t.empty() && (t.front() == ' ')) t.erase(t.begin());
  try {
    std::size_t used = 0;
    const double v = std::stod(t, &used);
    if (used == t.size() && std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15)
      return static_cast<long long>(v);
  } catch (const std::exception&) {
  }
  throw_data_error(where() + ": keyword " + key + " must be an integer, found '" + t + "'");
}

double FitsFile::require_key_double(const std::string& key) {
  auto v = read_key_double(key);
  if (!v) throw_data_error(where() + ": keyword " + key + " is missing");
  return *v;
}

long long FitsFile::require_key_int(const std::string& key) {
  auto v = read_key_int(key);
  if (!v) throw_data_error(where() + ": keyword " + key + " is missing");
  return *v;
}

std::string FitsFile::require_key_string(const std::string& key) {
  auto v = read_key_string(key);
  if (!v) throw_data_error(where() + ": keyword " + key + " is missing");
  return *v;
}

void FitsFile::write_key(const std::string& key, const std::string& value, const std::string& comment) {
  int status = 0;
  fits_update_key(fp(m_fptr), TSTRING, key.c_str(), const_cast<char*>(value.c_str()),
                  comment.empty() ? nullptr : comment.c_str(), &status);
  check(status, "writing keyword " + key);
}

void FitsFile::write_key(const std::string& key, double value, const std::string& comment) {
  // The fewest significant digits (15 to 17) that read back as the same double: exact round trips,
  // without noise digits on values such as 0.01.
  int digits = 15;
  for (; digits < 17; ++digits) {
    char text[40];
    std::snprintf(text, sizeof(text), "%.*G", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  int status = 0;
  fits_update_key_dbl(fp(m_fptr), key.c_str(), value, -digits, comment.empty() ? nullptr : comment.c_str(), &status);
  check(status, "writing keyword " + key);
}

void FitsFile::write_key(const std::string& key, long long value, const std::string& comment) {
  int status = 0;
  LONGLONG v = value;
  fits_update_key(fp(m_fptr), TLONGLONG, key.c_str(), &v, comment.empty() ? nullptr : comment.c_str(), &status);
  check(status, "writing keyword " + key);
}

void FitsFile::write_key(const std::string& key, bool value, const std::string& comment) {
  int status = 0;
  int v = value ? 1 : 0;
  fits_update_key(fp(m_fptr), TLOGICAL, key.c_str(), &v, comment.empty() ? nullptr : comment.c_str(), &status);
  check(status, "writing keyword " + key);
}

void FitsFile::write_comment(const std::string& text) {
  int status = 0;
  fits_write_comment(fp(m_fptr), text.c_str(), &status);
  check(status, "writing a comment");
}

std::vector<long> FitsFile::image_shape() {
  int status = 0, hdutype = 0;
  fits_get_hdu_type(fp(m_fptr), &hdutype, &status);
  check(status, "reading the HDU type");
  if (hdutype != IMAGE_HDU) throw_data_error(where() + ": expected an image HDU, found a table");
  int naxis = 0;
  fits_get_img_dim(fp(m_fptr), &naxis, &status);
  check(status, "reading NAXIS");
  std::vector<long> naxes(static_cast<std::size_t>(naxis));
  if (naxis > 0) fits_get_img_size(fp(m_fptr), naxis, naxes.data(), &status);
  check(status, "reading the image size");
  return std::vector<long>(naxes.rbegin(), naxes.rend());  // slowest axis first
}

int FitsFile::image_bitpix() {
  int status = 0, bitpix = 0;
  fits_get_img_equivtype(fp(m_fptr), &bitpix, &status);
  check(status, "reading BITPIX");
  return bitpix;
}

std::optional<FitsFile::PlainPixels> FitsFile::plain_pixels() {
  if (!m_disk_file) return std::nullopt;  // only set for a plain file opened from disk (not gzip, not memory)
  fitsfile* f = fp(m_fptr);
  int status = 0, hdutype = 0;
  fits_get_hdu_type(f, &hdutype, &status);
  if (status != 0 || hdutype != IMAGE_HDU || fits_is_compressed_image(f, &status)) {
    fits_clear_errmsg();
    return std::nullopt;
  }
  int bitpix = 0, naxis = 0;
  fits_get_img_type(f, &bitpix, &status);
  fits_get_img_dim(f, &naxis, &status);
  if (status != 0 || (bitpix != FLOAT_IMG && bitpix != DOUBLE_IMG) || naxis < 1) {
    fits_clear_errmsg();
    return std::nullopt;
  }
  if (read_key_double("BSCALE").value_or(1.0) != 1.0 || read_key_double("BZERO").value_or(0.0) != 0.0)
    return std::nullopt;
  long long count = 1;
  for (long v : image_shape()) count *= v;
  LONGLONG header = 0, data = 0, end = 0;
  fits_get_hduaddrll(f, &header, &data, &end, &status);
  if (status != 0 || end - data < count * (bitpix == FLOAT_IMG ? 4 : 8)) {
    fits_clear_errmsg();
    return std::nullopt;
  }
  return PlainPixels{m_path, static_cast<long long>(data), bitpix, count, m_disk_file->first, m_disk_file->second};
}

void FitsFile::check_compressed_image() {
  fitsfile* f = fp(m_fptr);
  int status = 0;
  if (!fits_is_compressed_image(f, &status)) {
    fits_clear_errmsg();
    return;
  }
  const long long znaxis = require_key_int("ZNAXIS");
  if (znaxis < 1 || znaxis > 999)
    throw_data_error(where() + ": keyword ZNAXIS is out of range (" + std::to_string(znaxis) + ")");
  for (long long i = 1; i <= znaxis; ++i) {
    const std::string n = std::to_string(i);
    const long long size = require_key_int("ZNAXIS" + n);
    const long long tile = read_key_int("ZTILE" + n).value_or(i == 1 ? size : 1);
    if (tile < 1 || tile > std::max(size, 1LL))
      throw_data_error(where() + ": keyword ZTILE" + n + " is " + std::to_string(tile) + ", expected 1..ZNAXIS" + n +
                       " (" + std::to_string(size) + ")");
  }
  // Variable-length columns (the compressed tiles): every descriptor inside the heap.
  const long long row_bytes = require_key_int("NAXIS1"), rows = require_key_int("NAXIS2");
  const long long pcount = require_key_int("PCOUNT");
  const long long heap_start = read_key_int("THEAP").value_or(row_bytes * rows);
  const long long heap_end = row_bytes * rows + pcount;
  int ncols = 0;
  fits_get_num_cols(f, &ncols, &status);
  check(status, "reading TFIELDS");
  for (int c = 1; c <= ncols; ++c) {
    int typecode = 0;
    LONGLONG repeat = 0, width = 0;
    fits_get_coltypell(f, c, &typecode, &repeat, &width, &status);
    check(status, "reading the type of column " + std::to_string(c));
    if (typecode >= 0) continue;  // not a variable-length array
    for (LONGLONG row = 1; row <= rows; ++row) {
      LONGLONG length = 0, offset = 0;
      fits_read_descriptll(f, c, row, &length, &offset, &status);
      check(status, "reading the descriptor of compressed tile " + std::to_string(row));
      const long long bytes = static_cast<long long>(length) * std::max<long long>(width, 1);
      if (offset < 0 || length < 0 || length > heap_end || heap_start + offset + bytes > heap_end)
        throw_data_error(where() + ": compressed tile " + std::to_string(row) + " (" + std::to_string(bytes) +
                         " bytes at heap offset " + std::to_string(offset) + ") lies outside the heap of " +
                         std::to_string(heap_end - heap_start) + " bytes (corrupt or truncated file)");
    }
  }
  check_rice_tiles();
}

void FitsFile::check_rice_tiles() {
  fitsfile* f = fp(m_fptr);
  // The tile grid and the decoder's parameters exactly as CFITSIO parsed them when it moved to this HDU (its
  // FITSfile structure, public in fitsio.h): the Rice parameters are ZVAL1/ZVAL2 by position, possibly swapped,
  // whatever ZNAME1/ZNAME2 say, and the replay below must use the values the decoder will.
  const auto column = find_column("COMPRESSED_DATA");  // (a CFITSIO call: makes this HDU the one in f->Fptr)
  const FITSfile& parsed = *f->Fptr;
  if (!column || parsed.compress_type != RICE_1) return;
  const long long znaxis = parsed.zndim;
  std::vector<long long> size, tile, count;
  long long tiles = 1;
  for (long long i = 0; i < znaxis; ++i) {
    size.push_back(parsed.znaxis[i]);
    tile.push_back(parsed.tilesize[i]);
    if (tile.back() < 1) throw_data_error(where() + ": keyword ZTILE" + std::to_string(i + 1) + " is not positive");
    count.push_back(size.back() <= 0 ? 0 : (size.back() + tile.back() - 1) / tile.back());
    tiles *= count.back();
  }
  const int nblock = parsed.rice_blocksize, bytepix = parsed.rice_bytepix;
  const long long rows = require_key_int("NAXIS2");
  std::vector<unsigned char> bytes;
  int status = 0;
  for (long long row = 1; row <= std::min(rows, tiles); ++row) {
    long long npix = 1;
    for (long long t = row - 1, i = 0; i < znaxis; ++i) {
      const long long index = t % count[static_cast<std::size_t>(i)];
      t /= count[static_cast<std::size_t>(i)];
      npix *= std::min(tile[static_cast<std::size_t>(i)],
                       size[static_cast<std::size_t>(i)] - index * tile[static_cast<std::size_t>(i)]);
    }
    LONGLONG length = 0, offset = 0;
    fits_read_descriptll(f, *column, row, &length, &offset, &status);
    check(status, "reading the descriptor of compressed tile " + std::to_string(row));
    if (length == 0) continue;  // stored elsewhere (GZIP_COMPRESSED_DATA, UNCOMPRESSED_DATA)
    bytes.resize(static_cast<std::size_t>(length));
    int anynul = 0;
    fits_read_col(f, TBYTE, *column, row, 1, length, nullptr, bytes.data(), &anynul, &status);
    check(status, "reading compressed tile " + std::to_string(row));
    const std::string problem = detail::rice_tile_problem(bytes.data(), bytes.size(), npix, nblock, bytepix);
    if (!problem.empty())
      throw_data_error(where() + ": compressed tile " + std::to_string(row) + " is corrupt: " + problem);
  }
}

namespace {
template <class T>
std::vector<T> read_image_as(FitsFile& f, int datatype) {
  const auto dims = f.image_shape();
  const long long n = dims.empty() ? 0 : element_count(dims);
  std::vector<T> data(static_cast<std::size_t>(n));
  if (n == 0) return data;
  f.check_compressed_image();
  int status = 0, anynul = 0;
  fits_read_img(fp(f.raw()), datatype, 1, n, nullptr, data.data(), &anynul, &status);
  f.check(status, "reading image data");
  return data;
}

template <class T>
void write_image_as(FitsFile& f, const std::string& extname, const std::vector<long>& dims, const T* data,
                    std::size_t count, int bitpix, int datatype) {
  if (static_cast<long long>(count) != element_count(dims))
    throw std::logic_error("write_image: data size does not match the dimensions");
  std::vector<long> naxes(dims.rbegin(), dims.rend());
  int status = 0;
  fits_create_img(fp(f.raw()), bitpix, static_cast<int>(naxes.size()), naxes.data(), &status);
  f.check(status, "creating image HDU " + extname);
  if (!extname.empty()) f.write_key("EXTNAME", extname);
  if (count > 0) {
    fits_write_img(fp(f.raw()), datatype, 1, static_cast<LONGLONG>(count), const_cast<T*>(data), &status);
    f.check(status, "writing image HDU " + extname);
  }
}
template <class T>
void write_image_as(FitsFile& f, const std::string& extname, const std::vector<long>& dims, const std::vector<T>& data,
                    int bitpix, int datatype) {
  write_image_as(f, extname, dims, data.data(), data.size(), bitpix, datatype);
}
}  // namespace

std::vector<double> FitsFile::read_image_double() { return read_image_as<double>(*this, TDOUBLE); }
std::vector<float> FitsFile::read_image_float() { return read_image_as<float>(*this, TFLOAT); }
std::vector<std::int32_t> FitsFile::read_image_int32() { return read_image_as<std::int32_t>(*this, TINT); }

void FitsFile::write_image(const std::string& extname, const std::vector<long>& dims, const std::vector<double>& data) {
  write_image_as(*this, extname, dims, data, DOUBLE_IMG, TDOUBLE);
  m_hdu = extname;
}
void FitsFile::write_image(const std::string& extname, const std::vector<long>& dims, const double* data,
                           std::size_t count, bool as_float32) {
  write_image_as(*this, extname, dims, data, count, as_float32 ? FLOAT_IMG : DOUBLE_IMG, TDOUBLE);
  m_hdu = extname;
}
void FitsFile::write_image(const std::string& extname, const std::vector<long>& dims, const std::vector<float>& data) {
  write_image_as(*this, extname, dims, data, FLOAT_IMG, TFLOAT);
  m_hdu = extname;
}
void FitsFile::write_image(const std::string& extname, const std::vector<long>& dims,
                           const std::vector<std::int32_t>& data) {
  write_image_as(*this, extname, dims, data, LONG_IMG, TINT);
  m_hdu = extname;
}
void FitsFile::write_image(const std::string& extname, const std::vector<long>& dims,
                           const std::vector<std::uint32_t>& data) {
  write_image_as(*this, extname, dims, data, ULONG_IMG, TUINT);  // int32 with BZERO = 2^31
  m_hdu = extname;
}
void FitsFile::write_image(const std::string& extname, const std::vector<long>& dims,
                           const std::vector<std::int16_t>& data) {
  write_image_as(*this, extname, dims, data, SHORT_IMG, TSHORT);
  m_hdu = extname;
}

long FitsFile::table_rows() {
  int status = 0, hdutype = 0;
  fits_get_hdu_type(fp(m_fptr), &hdutype, &status);
  check(status, "reading the HDU type");
  if (hdutype == IMAGE_HDU) throw_data_error(where() + ": expected a binary table, found an image");
  long n = 0;
  fits_get_num_rows(fp(m_fptr), &n, &status);
  check(status, "reading NAXIS2");
  return n;
}

std::optional<int> FitsFile::find_column(const std::string& name) {
  int status = 0, col = 0;
  fits_get_colnum(fp(m_fptr), CASEINSEN, const_cast<char*>(name.c_str()), &col, &status);
  fits_clear_errmsg();
  if (status != 0) return std::nullopt;
  return col;
}

int FitsFile::column_number(const std::string& name) {
  auto c = find_column(name);
  if (!c) throw_data_error(where() + ": column " + name + " is missing");
  return *c;
}

long FitsFile::column_repeat(const std::string& name) {
  const int col = column_number(name);
  int status = 0, typecode = 0;
  long repeat = 0, width = 0;
  fits_get_eqcoltype(fp(m_fptr), col, &typecode, &repeat, &width, &status);
  check(status, "reading the type of column " + name);
  return repeat;
}

std::vector<std::string> FitsFile::read_column_string(const std::string& name) {
  const int col = column_number(name);
  const long nrows = table_rows();
  int status = 0, typecode = 0, dispwidth = 0;
  long repeat = 0, width = 0;
  fits_get_eqcoltype(fp(m_fptr), col, &typecode, &repeat, &width, &status);
  check(status, "reading the type of column " + name);
  if (typecode != TSTRING) throw_data_error(where() + ": column " + name + " must hold strings");
  fits_get_col_display_width(fp(m_fptr), col, &dispwidth, &status);
  check(status, "reading the width of column " + name);
  // CFITSIO writes each string with the column's unit width and a NUL; a TDIMn can make that width exceed the
  // TFORMn repeat count when the repeat is 1 (CFITSIO accepts it), which no valid table does.
  const long unit_width = fp(m_fptr)->Fptr->tableptr[col - 1].twidth;
  if (unit_width > std::max<long>(repeat, 1))
    throw_data_error(where() + ": column " + name + " has strings of " + std::to_string(unit_width) +
                     " characters (TDIM) in a field of " + std::to_string(repeat) + " (TFORM)");
  const std::size_t len = static_cast<std::size_t>(std::max<long>({repeat, static_cast<long>(dispwidth), unit_width})) +
                          1;
  std::vector<std::vector<char>> buffers(static_cast<std::size_t>(nrows), std::vector<char>(len, 0));
  std::vector<char*> ptrs;
  for (auto& b : buffers) ptrs.push_back(b.data());
  int anynul = 0;
  if (nrows > 0) fits_read_col(fp(m_fptr), TSTRING, col, 1, 1, nrows, nullptr, ptrs.data(), &anynul, &status);
  check(status, "reading column " + name);
  std::vector<std::string> out;
  for (auto& b : buffers) {
    std::string s(b.data());
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out.push_back(s);
  }
  return out;
}

std::vector<double> FitsFile::read_column_double(const std::string& name) {
  const long repeat = column_repeat(name);
  const int col = column_number(name);
  const long nrows = table_rows();
  std::vector<double> out(static_cast<std::size_t>(nrows) * static_cast<std::size_t>(repeat));
  int status = 0, anynul = 0;
  if (!out.empty())
    fits_read_col(fp(m_fptr), TDOUBLE, col, 1, 1, static_cast<LONGLONG>(out.size()), nullptr, out.data(), &anynul,
                  &status);
  check(status, "reading column " + name);
  return out;
}

std::vector<long long> FitsFile::read_column_int(const std::string& name) {
  const long repeat = column_repeat(name);
  const int col = column_number(name);
  const long nrows = table_rows();
  std::vector<LONGLONG> raw(static_cast<std::size_t>(nrows) * static_cast<std::size_t>(repeat));
  int status = 0, anynul = 0;
  if (!raw.empty())
    fits_read_col(fp(m_fptr), TLONGLONG, col, 1, 1, static_cast<LONGLONG>(raw.size()), nullptr, raw.data(), &anynul,
                  &status);
  check(status, "reading column " + name);
  return std::vector<long long>(raw.begin(), raw.end());
}

void FitsFile::create_table(const std::string& extname, const std::vector<std::pair<std::string, std::string>>& columns,
                            long nrows) {
  std::vector<char*> names, forms;
  for (const auto& c : columns) {
    names.push_back(const_cast<char*>(c.first.c_str()));
    forms.push_back(const_cast<char*>(c.second.c_str()));
  }
  int status = 0;
  fits_create_tbl(fp(m_fptr), BINARY_TBL, nrows, static_cast<int>(columns.size()), names.data(), forms.data(), nullptr,
                  extname.empty() ? nullptr : extname.c_str(), &status);
  check(status, "creating table HDU " + extname);
  m_hdu = extname;
}

void FitsFile::write_column(const std::string& name, const std::vector<std::string>& values) {
  const int col = column_number(name);
  std::vector<char*> ptrs;
  for (const auto& v : values) ptrs.push_back(const_cast<char*>(v.c_str()));
  int status = 0;
  if (!values.empty())
    fits_write_col(fp(m_fptr), TSTRING, col, 1, 1, static_cast<LONGLONG>(values.size()), ptrs.data(), &status);
  check(status, "writing column " + name);
}

void FitsFile::write_column(const std::string& name, const std::vector<double>& values) {
  const int col = column_number(name);
  int status = 0;
  if (!values.empty())
    fits_write_col(fp(m_fptr), TDOUBLE, col, 1, 1, static_cast<LONGLONG>(values.size()),
                   const_cast<double*>(values.data()), &status);
  check(status, "writing column " + name);
}

void FitsFile::write_column(const std::string& name, const std::vector<std::int32_t>& values) {
  const int col = column_number(name);
  int status = 0;
  if (!values.empty())
    fits_write_col(fp(m_fptr), TINT, col, 1, 1, static_cast<LONGLONG>(values.size()),
                   const_cast<std::int32_t*>(values.data()), &status);
  check(status, "writing column " + name);
}

void FitsFile::write_column_dims(const std::string& name, const std::vector<long>& dims) {
  const int col = column_number(name);
  std::vector<long> naxes(dims.rbegin(), dims.rend());
  int status = 0;
  fits_write_tdim(fp(m_fptr), col, static_cast<int>(naxes.size()), naxes.data(), &status);
  check(status, "writing the dimensions of column " + name);
}

void FitsFile::delete_key(const std::string& key) {
  int status = 0;
  fits_delete_key(fp(m_fptr), key.c_str(), &status);
  check(status, "deleting keyword " + key);
}

void FitsFile::delete_current_hdu() {
  int status = 0;
  fits_delete_hdu(fp(m_fptr), nullptr, &status);
  check(status, "deleting the HDU");
  update_hdu_name();
}

}  // namespace perfex::io
