// Pieces shared by the PSF readers and writers of io/src/psf_io.cpp (PSFVER 3) and io/src/psf_table_io.cpp
// (the one-table layouts): keyword helpers and the entry points of the one-table layouts.
#pragma once

#include <limits>
#include <string>

#include "perfex/core/error.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/io/fits_file.hpp"

namespace perfex::io::detail {

// Bounds far beyond any real PSF, checked before anything is allocated from sizes a file declares.
constexpr long max_psf_fibers = 100000;
constexpr long max_psf_coefficients = 100;
constexpr long max_psf_param_rows = 10000;

// Keyword strings without padding or the extra quotes some writers leave in (CAMERA = '''r0      ''').
inline std::string normalized(std::string s) {
  auto trim = [](std::string& t) {
    while (!t.empty() && t.back() == ' ') t.pop_back();
    while (!t.empty() && t.front() == ' ') t.erase(t.begin());
  };
  trim(s);
  while (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') {
    s = s.substr(1, s.size() - 2);
    trim(s);
  }
  return s;
}

inline int to_int(FitsFile& f, const std::string& key, long long v) {
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    throw_data_error(f.where() + ": keyword " + key + " is out of range (" + std::to_string(v) + ")");
  return static_cast<int>(v);
}

inline int require_int(FitsFile& f, const std::string& key) { return to_int(f, key, f.require_key_int(key)); }

// The CCD size, stamp half-sizes and Gauss-Hermite degrees every GAUSS-HERMITE layout's header carries.
inline void read_ccd_and_stamp_keywords(FitsFile& f, GaussHermitePsf& psf) {
  psf.npix_x = require_int(f, "NPIX_X");
  psf.npix_y = require_int(f, "NPIX_Y");
  psf.hsizex = require_int(f, "HSIZEX");
  psf.hsizey = require_int(f, "HSIZEY");
  psf.ghdegx = require_int(f, "GHDEGX");
  psf.ghdegy = require_int(f, "GHDEGY");
}

// The PARAM table's row count and COEFF width checked against the PSF's fibers (`fibers_from` names where the
// fiber count came from, for the message); returns the coefficients per fiber.
inline int param_table_coefficients(FitsFile& f, int nfiber, const std::string& fibers_from) {
  const long nrows = f.table_rows();
  if (nrows < 1 || nrows > max_psf_param_rows)
    throw_data_error(f.where() + ": the table has " + std::to_string(nrows) + " rows, expected one per PARAM");
  const long repeat = f.column_repeat("COEFF");
  if (repeat < 1 || repeat % nfiber != 0 || repeat / nfiber > max_psf_coefficients)
    throw_data_error(f.where() + ": column COEFF holds " + std::to_string(repeat) +
                     " values per row, expected nfiber x ncoef with the " + std::to_string(nfiber) + " fibers of " +
                     fibers_from);
  return static_cast<int>(repeat / nfiber);
}

// The one-table layouts (PsfLayout::OneTable, PsfLayout::TwoCores): HDU 1 holds every row, the traces as
// rows X and Y, each row with its own WAVEMIN/WAVEMAX. `type_where` names the HDU whose PSFTYPE/PSFVER chose
// the layout, for the message when HDU 1 is not such a table. Not validated (read_psf does it).
GaussHermitePsf read_one_table_psf(FitsFile& file, PsfLayout layout, const std::string& type_where,
                                   const std::string& type_text);
// Appends the primary HDU and the table of a one-table layout to a freshly created file.
void write_one_table_psf(const GaussHermitePsf& psf, FitsFile& file);

}  // namespace perfex::io::detail
