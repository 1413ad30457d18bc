// CHECKSUM and DATASUM (the FITS checksum convention) on every HDU of a file being written.
#pragma once

#include "perfex/io/fits_file.hpp"

namespace perfex::io {

// Writes CHECKSUM and DATASUM into every HDU of `file`, computed by CFITSIO over the HDU as it stands: call it
// last, after every keyword and all data are written (a later change invalidates them). Leaves the last HDU
// current.
void write_checksums(FitsFile& file);

// CFITSIO's verification of every HDU's CHECKSUM and DATASUM: "" when each is present and correct, else a
// message naming the first HDU that fails and how.
std::string verify_checksums(FitsFile& file);

}  // namespace perfex::io
