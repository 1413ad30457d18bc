// Bounds check of RICE_1 tiles: replays the sequence of byte reads of the Rice decoder (the bit buffer and its
// fill state drive which bytes are read; the decoded values are not needed) and stops at the first read past
// the tile's end, where CFITSIO would read beyond its buffer.
#include "rice_check.hpp"

#include <cstdint>

namespace perfex::io::detail {

namespace {

// Number of significant bits of a byte (0 for 0).
int significant_bits(std::uint32_t b) {
  int n = 0;
  for (; b != 0; b >>= 1) ++n;
  return n;
}

class TileReader {
 public:
  TileReader(const unsigned char* data, std::size_t size) : m_data(data), m_size(size) {}
  bool next(std::uint32_t& byte) {
    if (m_pos >= m_size) return false;
    byte = m_data[m_pos++];
    return true;
  }

 private:
  const unsigned char* m_data;
  std::size_t m_size;
  std::size_t m_pos = 0;
};

}  // namespace

std::string rice_tile_problem(const unsigned char* data, std::size_t size, long long npix, int nblock, int bytepix) {
  if (npix <= 0) return "";
  if (nblock < 1) return "the block size is not positive";
  // Bits of the block code, largest code (high-entropy block) and bits per directly coded pixel.
  const int fsbits = bytepix == 1 ? 3 : bytepix == 2 ? 4 : 5;
  const int fsmax = bytepix == 1 ? 6 : bytepix == 2 ? 14 : 25;
  const int bbits = 1 << fsbits;
  const int first_bytes = bytepix == 1 ? 1 : bytepix == 2 ? 2 : 4;
  const std::string past_end = "the Rice-coded tile ends too early (" + std::to_string(size) + " bytes for " +
                               std::to_string(npix) + " pixels)";
  TileReader in(data, size);
  std::uint32_t byte = 0;
  for (int k = 0; k < first_bytes; ++k)
    if (!in.next(byte)) return past_end;  // the first pixel, uncoded
  std::uint32_t b = 0;
  if (!in.next(b)) return past_end;
  long long nbits = 8;  // bits left in b
  for (long long i = 0; i < npix;) {
    nbits -= fsbits;
    while (nbits < 0) {
      if (!in.next(byte)) return past_end;
      b = (b << 8) | byte;
      nbits += 8;
    }
    const int fs = static_cast<int>(b >> nbits) - 1;
    b &= (1u << nbits) - 1u;
    const long long end = i + nblock < npix ? i + nblock : npix;
    if (fs < 0) {  // a block of zero differences: no bits
      i = end;
    } else if (fs == fsmax) {  // directly coded pixels: bbits each
      for (; i < end; ++i) {
        for (long long k = bbits - nbits - 8; k >= 0; k -= 8)
          if (!in.next(b)) return past_end;
        if (nbits > 0) {
          if (!in.next(b)) return past_end;
          b &= (1u << nbits) - 1u;
        } else {
          b = 0;
        }
      }
    } else {  // Rice codes: a unary count of leading zeros, then fs bits
      for (; i < end; ++i) {
        while (b == 0) {
          nbits += 8;
          if (!in.next(b)) return past_end;
        }
        const long long nzero = nbits - significant_bits(b);
        nbits -= nzero + 1;
        b ^= 1u << nbits;
        nbits -= fs;
        while (nbits < 0) {
          if (!in.next(byte)) return past_end;
          b = (b << 8) | byte;
          nbits += 8;
        }
        b &= (1u << nbits) - 1u;
      }
    }
  }
  return "";
}

}  // namespace perfex::io::detail
