// FITS checksums (CHECKSUM/DATASUM), as astropy's writeto(checksum=True) gives desispec's files.
#include "perfex/io/fits_checksum.hpp"

#include <fitsio.h>

#include <string>

namespace perfex::io {

namespace {
fitsfile* fp(FitsFile& f) { return static_cast<fitsfile*>(f.raw()); }
}  // namespace

void write_checksums(FitsFile& f) {
  const int n = f.hdu_count();
  for (int i = 0; i < n; ++i) {
    f.move_to_index(i);
    int status = 0;
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
