// Reading and writing GAUSS-HERMITE PSF files in the layouts specter reads: PSFVER >= 3 (HDUs XTRACE,
// YTRACE and the PSF table, DESI's), PSFVER 2 (one table in HDU 1, the traces as rows X and Y) and the
// GAUSS-HERMITE2 type (the same table with a second Gaussian core).
#pragma once

#include <string>

#include "perfex/core/psf.hpp"
#include "perfex/io/fits_file.hpp"

namespace perfex::io {

// Reads and validates a PSF file; PSFTYPE and PSFVER choose the layout (psf.layout). Every problem (not
// FITS, truncated, another PSFTYPE, which is named, an unknown PSFVER, a missing HDU, keyword or PARAM row)
// is a perfex::Error (data) naming the file, the HDU and the keyword.
GaussHermitePsf read_psf(const std::string& path);
// The same from an opened file (e.g. FitsFile::open_memory in the fuzzers); messages use file.path().
GaussHermitePsf read_psf(FitsFile& file);

// Validates `psf` and writes it atomically (temporary file, then rename) in the layout psf.layout names,
// as read_psf reads it: float64 throughout, so a write/read round trip is exact. An existing `path` needs
// `overwrite` (usage error otherwise). PSFVER 3: all PSF-table rows must share one wavelength domain (the
// one-table layouts keep one per row); rows with fewer Legendre coefficients than the longest are padded
// with zeros.
void write_psf(const GaussHermitePsf& psf, const std::string& path, bool overwrite);
// Appends the HDUs to a freshly created file, without validation (tests build malformed files from it).
void write_psf(const GaussHermitePsf& psf, FitsFile& file);

}  // namespace perfex::io
