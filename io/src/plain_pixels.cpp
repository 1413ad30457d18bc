// Big-endian IEEE pixels to doubles, read with pread in chunks (see plain_pixels.hpp).
#include "plain_pixels.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "perfex/core/error.hpp"

namespace perfex::io::detail {

namespace {

std::uint32_t from_big_endian(std::uint32_t v) { return __builtin_bswap32(v); }
std::uint64_t from_big_endian(std::uint64_t v) { return __builtin_bswap64(v); }

// One open descriptor, closed on every path.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void read_plain_pixels(const FitsFile::PlainPixels& src, const std::string& hdu, double* dst, long long begin,
                       long long count) {
  static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE single and double precision");
  const std::string where = src.path + "[" + hdu + "]";
  const Descriptor file{::open(src.path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0)
    throw_data_error(where + ": cannot be opened again to read its pixels (" + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(file.fd, &st) != 0 || static_cast<unsigned long long>(st.st_dev) != src.device ||
      static_cast<unsigned long long>(st.st_ino) != src.inode)
    throw_data_error(where + ": the file was replaced while it was being read (open it again)");
  const int width = src.bitpix == -32 ? 4 : 8;
  constexpr long long chunk_pixels = 1 << 19;  // 2-4 MB per read
  std::vector<unsigned char> buffer(static_cast<std::size_t>(chunk_pixels) * width);
  const long long end = begin + count < src.count ? begin + count : src.count;
  for (long long first = begin; first < end; first += chunk_pixels) {
    const long long n = end - first < chunk_pixels ? end - first : chunk_pixels;
    const std::size_t bytes = static_cast<std::size_t>(n) * width;
    std::size_t done = 0;
    while (done < bytes) {
      const ssize_t got = ::pread(file.fd, buffer.data() + done, bytes - done,
                                  static_cast<off_t>(src.offset + first * width + static_cast<long long>(done)));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0)
        throw_data_error(where + ": reading image data failed (" +
                         (got < 0 ? std::string(std::strerror(errno))
                                  : std::string("the file ends before its pixels do")) +
                         ")");
      done += static_cast<std::size_t>(got);
    }
    double* out = dst + first;
    if (width == 4) {
      for (long long k = 0; k < n; ++k) {
        std::uint32_t bits;
        std::memcpy(&bits, buffer.data() + 4 * k, 4);
        bits = from_big_endian(bits);
        float v;
        std::memcpy(&v, &bits, 4);
        out[k] = static_cast<double>(v);
      }
    } else {
      for (long long k = 0; k < n; ++k) {
        std::uint64_t bits;
        std::memcpy(&bits, buffer.data() + 8 * k, 8);
        bits = from_big_endian(bits);
        std::memcpy(out + k, &bits, 8);
      }
    }
  }
}

}  // namespace perfex::io::detail
