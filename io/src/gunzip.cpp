// gzip inputs unpacked by zlib, with a cap on what they may unpack to.
#include "gunzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>

#include "perfex/core/error.hpp"
#include "perfex/io/file_checks.hpp"

namespace perfex::io::detail {

namespace {
std::string size_text(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 30) && bytes % (std::size_t{1} << 30) == 0)
    return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0)
    return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}
}  // namespace

std::size_t next_gunzip_buffer_size(std::size_t size, std::size_t limit) {
  const std::size_t cap = limit + (std::size_t{2} << 20);
  return std::min(std::max<std::size_t>(size > cap / 2 ? cap : 2 * size, std::size_t{1} << 22), cap);
}

std::vector<char> gunzip(const std::string& path, std::size_t limit) {
  // CFITSIO would unpack the file too, but straight into the memory it parses, where perfex's header walk
  // could not look first.
  gzFile in = gzopen(path.c_str(), "rb");
  if (!in) throw_data_error(path + ": cannot be opened (" + file_error_text(errno) + ")");
  gzbuffer(in, 1 << 20);
  std::vector<char> bytes;
  std::size_t used = 0;
  for (;;) {
    // Checked before growing: the cap bounds what a small compressed file can make perfex allocate.
    if (bytes.size() - used < (std::size_t{1} << 20)) bytes.resize(next_gunzip_buffer_size(bytes.size(), limit));
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(bytes.size() - used, 1u << 30));
    const int got = chunk == 0 ? 0 : gzread(in, bytes.data() + used, chunk);
    if (got < 0) {
      int code = 0;
      std::string text = gzerror(in, &code);
      if (text.rfind(path + ": ", 0) == 0) text.erase(0, path.size() + 2);  // zlib names the file too
      gzclose(in);
      throw_data_error(path + ": corrupt gzip data (zlib: " + text + ")");
    }
    if (got == 0 && chunk != 0) break;
    used += static_cast<std::size_t>(got);
    if (used > limit || chunk == 0) {
      gzclose(in);
      throw_data_error(path + ": unpacks to more than " + size_text(limit) +
                       ", more than any FITS file perfex reads (a decompression bomb?)");
    }
  }
  // zlib reports a stream cut short only at gzclose (Z_BUF_ERROR).
  const int closed = gzclose(in);
  if (closed != Z_OK)
    throw_data_error(path + ": the gzip data are truncated or corrupt (zlib error " + std::to_string(closed) + ")");
  bytes.resize(used);
  return bytes;
}

}  // namespace perfex::io::detail
