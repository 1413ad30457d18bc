// gzip-compressed FITS files unpacked by perfex (zlib) into memory, where the header walk checks them before
// CFITSIO parses them. Private to perfex::io.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace perfex::io::detail {

// Four times the largest image perfex reads (2^28 pixels of 8 bytes) and its companions: beyond that, not a
// frame but a decompression bomb.
constexpr std::size_t max_unpacked_bytes = std::size_t{16} << 30;

// The size the unpacking buffer grows to when it holds `size` bytes and is nearly full: doubled (at least
// 4 MiB), but never beyond `limit` plus 2 MiB, the room for the read that proves the data exceed the limit.
std::size_t next_gunzip_buffer_size(std::size_t size, std::size_t limit);

// The bytes of a gzip-compressed file. Concatenated gzip members are read as one stream (as gzip -d does);
// corrupt or truncated data, or more than `limit` bytes unpacked, are data errors naming the file. The buffer
// never grows beyond next_gunzip_buffer_size's bound, whatever the file holds.
std::vector<char> gunzip(const std::string& path, std::size_t limit = max_unpacked_bytes);

}  // namespace perfex::io::detail
