// gzip-compressed outputs: the writers produce a plain FITS temporary file, which is compressed in place
// before the atomic rename (CFITSIO and astropy read .fits.gz files by their content).
#include "perfex/io/compressed_output.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <vector>

#include "perfex/core/error.hpp"

namespace perfex::io {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

[[noreturn]] void io_error(const std::string& final_path, const std::string& what, int error) {
  throw_data_error(final_path + ": " + what + " (" + std::strerror(error) + ")");
}

}  // namespace

OutputCompression output_compression(const std::string& path, const std::string& option) {
  const std::string p = lower(path);
  if (ends_with(p, ".gz")) return OutputCompression::Gzip;
  static const char* const refused[] = {".fz",  ".bz2", ".bz", ".xz",  ".z",   ".zip",  ".zst", ".zstd", ".lz",
                                        ".lz4", ".lzma", ".lzo", ".7z", ".tgz", ".tbz2", ".txz", ".br",  ".sz"};
  for (const char* suffix : refused)
    if (ends_with(p, suffix))
      throw_usage_error(option + " " + path + ": perfex does not write " + path.substr(path.size() - std::strlen(suffix)) +
                        " files; name the output .fits (plain) or .fits.gz (gzip-compressed)");
  return OutputCompression::None;
}

void gzip_file_in_place(const std::string& temp, const std::string& final_path) {
  // Read the whole file, then rewrite it compressed: no second temporary name is needed, and an interruption
  // leaves only the temporary (removed by the atomic writer).
  const int in = open(temp.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) io_error(final_path, "cannot read the temporary output to compress it", errno);
  std::vector<unsigned char> plain;
  unsigned char buffer[1 << 16];
  for (;;) {
    const ssize_t n = read(in, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(in);
      io_error(final_path, "cannot read the temporary output to compress it", error);
    }
    if (n == 0) break;
    plain.insert(plain.end(), buffer, buffer + n);
  }
  close(in);

  const int out = open(temp.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (out < 0) io_error(final_path, "cannot rewrite the temporary output compressed", errno);
  // Level 1: float data compress about as well as at level 6 (2% less here), 1.5 times faster.
  gzFile gz = gzdopen(out, "wb1");
  if (!gz) {
    close(out);
    throw_data_error(final_path + ": cannot start the gzip stream (out of memory)");
  }
  std::size_t done = 0;
  while (done < plain.size()) {
    const unsigned piece = static_cast<unsigned>(std::min<std::size_t>(plain.size() - done, 1u << 30));
    errno = 0;
    if (gzwrite(gz, plain.data() + done, piece) != static_cast<int>(piece)) {
      int zerr = 0;
      const std::string why = errno != 0 ? std::strerror(errno) : gzerror(gz, &zerr);
      gzclose(gz);
      throw_data_error(final_path + ": writing the gzip-compressed output failed (" + why + ")");
    }
    done += piece;
  }
  errno = 0;
  if (gzclose(gz) != Z_OK)
    throw_data_error(final_path + ": finishing the gzip-compressed output failed (" +
                     (errno != 0 ? std::strerror(errno) : "zlib error") + ")");
}

}  // namespace perfex::io
