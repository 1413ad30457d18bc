// Pixels of an uncompressed floating-point image read straight from the file (FitsFile::plain_pixels says
// where), without CFITSIO: so that read_preproc reads IMAGE and IVAR in threads of their own while CFITSIO
// reads MASK. Internal to io.
#pragma once

#include "perfex/io/fits_file.hpp"

namespace perfex::io::detail {

// Reads pixels [first, first + count) of the src.count into dst[first...] as doubles (the values CFITSIO's
// fits_read_img gives for them, NaN included): parts of one image can be read in threads of their own. Throws
// a data error naming the file and `hdu` when the file cannot be read to its end.
void read_plain_pixels(const FitsFile::PlainPixels& src, const std::string& hdu, double* dst, long long first,
                       long long count);

}  // namespace perfex::io::detail
