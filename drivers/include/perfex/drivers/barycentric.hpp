// Barycentric wavelength correction (HELIOCOR) of an exposure, as desi_extract_spectra computes it, with
// ERFA: the observer's velocity relative to the solar-system barycentre projected onto the target.
#pragma once

#include <optional>
#include <string>

#include "perfex/io/pointing_header.hpp"

namespace perfex::drivers {

// Geodetic position of the observatory: the Mayall telescope at Kitt Peak (desispec.heliocentric's).
struct Observatory {
  double longitude_deg = -111.59989;
  double latitude_deg = 31.96403;
  double height_m = 2097.0;
};

// The velocity correction v (km/s) to add to an observed radial velocity to make it barycentric
// (astropy's SkyCoord.radial_velocity_correction(kind='barycentric'), which desispec uses): the
// observer's barycentric velocity (Earth's orbit, ERFA eraEpv00, plus the site's diurnal rotation)
// projected onto the unit vector towards (ra, dec) (ICRS, degrees), at `mjd_utc`. Positive when the
// observer moves towards the target. First order in v/c: it differs from astropy's full relativistic
// computation by ~1e-5 km/s, and by up to ~1 m/s from ignoring UT1 - UTC and polar motion.
double barycentric_velocity_kms(double ra_deg, double dec_deg, double mjd_utc, const Observatory& site = {});

// HELIOCOR = 1 + v / c (desispec's sign convention): observed-frame wavelengths times HELIOCOR are
// barycentric, so a nominal (barycentric) grid is extracted on grid / HELIOCOR.
double barycentric_correction_factor(double ra_deg, double dec_deg, double mjd_utc, const Observatory& site = {});

// The header values the correction needs (io reads them as desispec picks them); the date is the
// exposure's mid-point MJD + EXPTIME / 2 (EXPTIME 0 when absent).
using PointingHeader = io::PointingHeader;

// HELIOCOR from a header; throws perfex::Error (data) naming the missing keywords and where they were
// looked for.
double barycentric_correction_factor(const PointingHeader& header, const Observatory& site = {});

}  // namespace perfex::drivers
