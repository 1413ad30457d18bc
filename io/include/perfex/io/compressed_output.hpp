// Output names with a compression suffix: ".gz" (any case) asks for a gzip-compressed file, which perfex
// writes (DESI's productions name frames frame-CAMERA-EXPID.fits.gz); the other compression suffixes
// (.fz, .bz2, .xz, .Z, .zip, .zst, .lz4, ...) are refused rather than written uncompressed under that name.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace perfex::io {

enum class OutputCompression { None, Gzip };

// The compression an output name asks for; usage error naming `option` and `path` for a suffix perfex does
// not write.
OutputCompression output_compression(const std::string& path, const std::string& option);

// The gzip-compressed bytes (one gzip member, level 1) of `size` bytes at `data`: the content of a .gz output,
// which the atomic writer then writes and renames as usual; a failure (out of memory) is a data error naming
// `final_path` (the output the user asked for).
std::vector<unsigned char> gzip_compress(const void* data, std::size_t size, const std::string& final_path);

}  // namespace perfex::io
