// Bounds check of RICE_1 tile-compressed data before CFITSIO decodes it (CFITSIO's decoder reads past the end
// of a corrupt tile; it checks only after each block of pixels). Private to perfex::io.
#pragma once

#include <cstddef>
#include <string>

namespace perfex::io::detail {

// Follows the reads CFITSIO's Rice decoder makes for a tile of `npix` pixels coded in blocks of `nblock`
// pixels with `bytepix` bytes per pixel (1, 2, else 4), and returns an empty string when every read stays within
// the `size` bytes at `data`, else what went wrong.
std::string rice_tile_problem(const unsigned char* data, std::size_t size, long long npix, int nblock, int bytepix);

}  // namespace perfex::io::detail
