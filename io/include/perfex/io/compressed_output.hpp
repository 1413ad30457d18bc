// Output names with a compression suffix: ".gz" (any case) asks for a gzip-compressed file, which perfex
// writes (DESI's productions name frames frame-CAMERA-EXPID.fits.gz); the other compression suffixes
// (.fz, .bz2, .xz, .Z, .zip, .zst, .lz4, ...) are refused rather than written uncompressed under that name.
#pragma once

#include <string>

namespace perfex::io {

enum class OutputCompression { None, Gzip };

// The compression an output name asks for; usage error naming `option` and `path` for a suffix perfex does
// not write.
OutputCompression output_compression(const std::string& path, const std::string& option);

// Replaces the finished file `temp` (a temporary output) by its gzip-compressed bytes, in place, so that the
// atomic writer then renames it as usual; data errors name `final_path` (the output the user asked for).
void gzip_file_in_place(const std::string& temp, const std::string& final_path);

}  // namespace perfex::io
