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

// The terms of astropy's barycentric redshift (SkyCoord.radial_velocity_correction(kind='barycentric'),
// which desispec.heliocentric calls with the Mayall as location) for a target at (ra, dec) (ICRS, degrees)
// observed at `mjd_utc`: beta_radial = v.n / c with v the observer's barycentric velocity (Earth's orbit, ERFA
// eraEpv00 at TDB, plus the site's diurnal rotation) and n the direction of the target; gamma = 1 / sqrt(1 -
// |v/c|^2); the gravitational redshift of the Sun, Jupiter, the Moon and the Earth at the site (m/s, < 0).
// Ignores UT1 - UTC and polar motion, which move the site's velocity by < 0.03 m/s.
struct BarycentricTerms {
  double beta_radial = 0.0;
  double gamma = 1.0;
  double gravitational_redshift_ms = 0.0;
  // 1 + z_b = gamma (1 + beta_radial) / (1 + gravitational_redshift / c) (Wright & Eastman 2014, eq. 28).
  double redshift_factor() const;
};
BarycentricTerms barycentric_terms(double ra_deg, double dec_deg, double mjd_utc, const Observatory& site = {});

// The velocity correction v = c z_b (km/s) to add to an observed radial velocity to make it barycentric, as
// astropy computes it (within 0.03 m/s: UT1 - UTC and polar motion are ignored). Positive when the observer
// moves towards the target.
double barycentric_velocity_kms(double ra_deg, double dec_deg, double mjd_utc, const Observatory& site = {});

// HELIOCOR = 1 + v / c = 1 + z_b (desispec's barycentric_velocity_multiplicative_corr): observed-frame
// wavelengths times HELIOCOR are barycentric, so a nominal (barycentric) grid is extracted on grid / HELIOCOR.
double barycentric_correction_factor(double ra_deg, double dec_deg, double mjd_utc, const Observatory& site = {});

// The header values the correction needs (io reads them as desispec picks them); the date is the
// exposure's mid-point MJD + EXPTIME / 2 (EXPTIME 0 when absent).
using PointingHeader = io::PointingHeader;

// HELIOCOR from a header; throws perfex::Error (data) naming the missing keywords and where they were
// looked for.
double barycentric_correction_factor(const PointingHeader& header, const Observatory& site = {});

}  // namespace perfex::drivers
