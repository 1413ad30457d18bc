// CHECKSUM and DATASUM (the FITS checksum convention) on every HDU of a file being written.
#pragma once

#include "perfex/io/fits_file.hpp"

namespace perfex::io {

// Writes CHECKSUM and DATASUM into every HDU of `file`, computed over the HDU as it stands: call it last, after
// every keyword and all data are written (a later change invalidates them). A file built in memory is summed
// from its bytes (each data unit once, in parts on helper threads), others by CFITSIO; the keywords and their
// bytes are CFITSIO's either way (fits_write_chksum, with fixed comments). Leaves the last HDU current.
void write_checksums(FitsFile& file);

// CFITSIO's verification of every HDU's CHECKSUM and DATASUM: "" when each is present and correct, else a
// message naming the first HDU that fails and how.
std::string verify_checksums(FitsFile& file);

}  // namespace perfex::io
