// FITS checksums (CHECKSUM/DATASUM), as astropy's writeto(checksum=True) gives desispec's files.
#include "perfex/io/fits_checksum.hpp"

#include <fitsio.h>

#include <algorithm>
#include <string>

namespace perfex::io {

namespace {
fitsfile* fp(FitsFile& f) { return static_cast<fitsfile*>(f.raw()); }
}  // namespace

void write_checksums(FitsFile& f) {
  // CFITSIO's HDU count leaves out a last HDU without data (a table of 0 rows) until the file is flushed.
  int current = 0;
  fits_get_hdu_num(fp(f), &current);
  const int n = std::max(f.hdu_count(), current);
  for (int i = 0; i < n; ++i) {
    f.move_to_index(i);
    // fits_write_chksum dates the comments of the keywords it creates, and of a DATASUM it changes: written
    // first with fixed comments (and the right DATASUM), they keep them, so that equal content gives equal
    // files (the simulator's outputs are compared byte for byte across thread counts).
    int status = 0;
    unsigned long datasum = 0, hdusum = 0;
    fits_get_chksum(fp(f), &datasum, &hdusum, &status);
    f.check(status, "computing the checksums");
    const std::string data_text = std::to_string(datasum);
    fits_update_key(fp(f), TSTRING, "CHECKSUM", const_cast<char*>("0000000000000000"), "HDU checksum", &status);
    fits_update_key(fp(f), TSTRING, "DATASUM", const_cast<char*>(data_text.c_str()), "data unit checksum", &status);
    fits_write_chksum(fp(f), &status);
    f.check(status, "writing CHECKSUM and DATASUM");
  }
}

std::string verify_checksums(FitsFile& f) {
  const int n = f.hdu_count();
  for (int i = 0; i < n; ++i) {
    f.move_to_index(i);
    int status = 0, data_ok = 0, hdu_ok = 0;
    fits_verify_chksum(fp(f), &data_ok, &hdu_ok, &status);
    f.check(status, "verifying CHECKSUM and DATASUM");
    if (data_ok == -1) return f.where() + ": DATASUM does not match the data";
    if (hdu_ok == -1) return f.where() + ": CHECKSUM does not match the HDU";
    if (data_ok != 1 || hdu_ok != 1) return f.where() + ": no CHECKSUM/DATASUM";
  }
  return "";
}

}  // namespace perfex::io
