// The pointing and date keywords of a preprocessed image that the barycentric correction needs, read as
// desispec reads them.
#pragma once

#include <optional>
#include <string>

namespace perfex::io {

// RA from TARGTRA, SKYRA, TELRA or RA (the first present), Dec likewise from TARGTDEC, SKYDEC, TELDEC,
// DEC, the date from MJD-OBS or MJD, and EXPTIME.
struct PointingHeader {
  std::optional<double> ra, dec, mjd, exptime;
  std::string ra_key, dec_key, mjd_key;  // which keywords were used
  std::string where;                     // file[HDU] they were read from
};

// From the image header (the IMAGE HDU, else the primary) when it has TARGTRA or RA, else from the FIBERMAP
// header (early commissioning files). Data errors name the file (missing, not FITS); absent keywords are
// left empty for the caller to report.
PointingHeader read_pointing_header(const std::string& path);

}  // namespace perfex::io
