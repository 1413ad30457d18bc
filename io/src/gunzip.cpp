// gzip inputs unpacked by zlib, with a cap on what they may unpack to.
#include "gunzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

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

namespace {

// The unpacked bytes grow under the cap: a small compressed file cannot make perfex allocate past it.
class CappedBuffer {
 public:
  CappedBuffer(std::string path, std::size_t limit) : m_path(std::move(path)), m_limit(limit) {}
  // Room for the next write (at least 1 MiB where the cap allows), checked before growing.
  char* room(std::size_t& size) {
    if (m_bytes.size() - m_used < (std::size_t{1} << 20))
      m_bytes.resize(next_gunzip_buffer_size(m_bytes.size(), m_limit));
    size = std::min<std::size_t>(m_bytes.size() - m_used, 1u << 30);
    return m_bytes.data() + m_used;
  }
  void wrote(std::size_t n) {
    m_used += n;
    if (m_used > m_limit)
      throw_data_error(m_path + ": unpacks to more than " + size_text(m_limit) +
                       ", more than any FITS file perfex reads (a decompression bomb?)");
  }
  std::vector<char> take() {
    m_bytes.resize(m_used);
    return std::move(m_bytes);
  }

 private:
  std::string m_path;
  std::size_t m_limit;
  std::vector<char> m_bytes;
  std::size_t m_used = 0;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
struct InflateEnd {
  void operator()(z_stream* z) const { inflateEnd(z); }
};

}  // namespace

std::vector<char> gunzip(const std::string& path, std::size_t limit) {
  // CFITSIO would unpack the file too, but straight into the memory it parses, where perfex's header walk
  // could not look first. zlib's inflate directly (not gzread): a stream is complete only when every member
  // reached its end marker and checksum (Z_STREAM_END), whatever zlib's gzread/gzclose make of a cut-off one
  // (they differ between zlib versions).
  std::unique_ptr<std::FILE, FileCloser> in(std::fopen(path.c_str(), "rb"));
  if (!in) throw_data_error(path + ": cannot be opened (" + file_error_text(errno) + ")");
  std::vector<unsigned char> input(std::size_t{1} << 20);
  CappedBuffer out(path, limit);
  const auto refill = [&](z_stream& z) {
    const std::size_t got = std::fread(input.data(), 1, input.size(), in.get());
    if (std::ferror(in.get())) throw_data_error(path + ": cannot be read (" + file_error_text(errno) + ")");
    z.next_in = input.data();
    z.avail_in = static_cast<uInt>(got);
    return got > 0;
  };

  z_stream z{};
  if (!refill(z)) return {};
  // Not gzip data at all (no magic bytes): the file as it is, as gzread and CFITSIO read it.
  // (A lone first byte 0x1f is a gzip header cut short.)
  if (z.next_in[0] != 0x1f || (z.avail_in >= 2 && z.next_in[1] != 0x8b)) {
    do {
      std::size_t room = 0;
      char* dst = out.room(room);
      const std::size_t n = std::min<std::size_t>(room, z.avail_in);
      std::memcpy(dst, z.next_in, n);
      out.wrote(n);
      z.next_in += n;
      z.avail_in -= static_cast<uInt>(n);
    } while (z.avail_in > 0 || refill(z));
    return out.take();
  }

  if (inflateInit2(&z, 15 + 16) != Z_OK) throw_data_error(path + ": zlib could not start (out of memory?)");
  std::unique_ptr<z_stream, InflateEnd> end(&z);
  int status = Z_OK;
  for (;;) {
    if (z.avail_in == 0 && !refill(z)) break;
    if (status == Z_STREAM_END) {
      // A member ended: another one may follow (gzip -d reads concatenated members as one stream); anything
      // else after a complete member is ignored, as gzip and zlib's gzread do.
      if (z.next_in[0] != 0x1f) break;
      inflateReset(&z);
    }
    std::size_t room = 0;
    char* dst = out.room(room);
    z.next_out = reinterpret_cast<Bytef*>(dst);
    z.avail_out = static_cast<uInt>(room);
    status = inflate(&z, Z_NO_FLUSH);
    out.wrote(room - z.avail_out);
    if (status == Z_NEED_DICT || status == Z_DATA_ERROR || status == Z_MEM_ERROR || status == Z_STREAM_ERROR)
      throw_data_error(path + ": corrupt gzip data (zlib: " + (z.msg ? z.msg : "error " + std::to_string(status)) +
                       ")");
    // Z_BUF_ERROR: no progress without more input (taken at the top of the loop).
  }
  if (status != Z_STREAM_END)
    throw_data_error(path + ": the gzip data are truncated or corrupt (the stream ends before its end marker)");
  return out.take();
}

}  // namespace perfex::io::detail
