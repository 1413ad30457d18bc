// HELIOCOR with ERFA: Earth's barycentric velocity (eraEpv00) plus the site's diurnal velocity (eraPvtob,
// rotated from CIRS to GCRS), projected onto the direction of the target.
#include "perfex/drivers/barycentric.hpp"

#include <erfa.h>
#include <erfam.h>

#include <cmath>
#include <fmt/core.h>

#include "perfex/core/error.hpp"

namespace perfex::drivers {

double barycentric_velocity_kms(double ra_deg, double dec_deg, double mjd_utc, const Observatory& site) {
  if (!(std::isfinite(ra_deg) && std::isfinite(dec_deg) && std::fabs(dec_deg) <= 90.0))
    throw_data_error(fmt::format("barycentric correction: invalid target RA {} / Dec {} (degrees)", ra_deg, dec_deg));
  if (!(std::isfinite(mjd_utc) && mjd_utc > 15020.0 && mjd_utc < 88069.0))  // 1900 .. 2100, eraEpv00's range
    throw_data_error(fmt::format("barycentric correction: MJD {} is outside 1900..2100", mjd_utc));

  // UTC -> TAI -> TT (leap seconds from ERFA's table); TDB - TT (< 2 ms) is negligible here.
  const double utc1 = ERFA_DJM0, utc2 = mjd_utc;
  double tai1 = 0, tai2 = 0, tt1 = 0, tt2 = 0;
  if (eraUtctai(utc1, utc2, &tai1, &tai2) < 0)
    throw_data_error(fmt::format("barycentric correction: MJD {} cannot be converted to TAI", mjd_utc));
  eraTaitt(tai1, tai2, &tt1, &tt2);

  // Earth's barycentric velocity (AU/day, BCRS axes = ICRS).
  double pvh[2][3], pvb[2][3];
  eraEpv00(tt1, tt2, pvh, pvb);
  const double au_per_day = ERFA_DAU / ERFA_DAYSEC / 1000.0;  // km/s
  double v[3];
  for (int k = 0; k < 3; ++k) v[k] = pvb[1][k] * au_per_day;

  // The site's velocity from Earth's rotation (UT1 ~ UTC, no polar motion): CIRS, then GCRS.
  double site_pv[2][3];
  const double era = eraEra00(utc1, utc2);
  eraPvtob(site.longitude_deg * ERFA_DD2R, site.latitude_deg * ERFA_DD2R, site.height_m, 0.0, 0.0, 0.0, era, site_pv);
  double rc2i[3][3], vsite[3];
  eraC2i06a(tt1, tt2, rc2i);
  eraTrxp(rc2i, site_pv[1], vsite);
  for (int k = 0; k < 3; ++k) v[k] += vsite[k] / 1000.0;

  double n[3];
  eraS2c(ra_deg * ERFA_DD2R, dec_deg * ERFA_DD2R, n);
  return eraPdp(v, n);
}

double barycentric_correction_factor(double ra_deg, double dec_deg, double mjd_utc, const Observatory& site) {
  return 1.0 + barycentric_velocity_kms(ra_deg, dec_deg, mjd_utc, site) / (ERFA_CMPS / 1000.0);
}

double barycentric_correction_factor(const PointingHeader& h, const Observatory& site) {
  std::string missing;
  auto need = [&](const std::optional<double>& v, const char* names) {
    if (!v) missing += std::string(missing.empty() ? "" : "; ") + names;
  };
  need(h.ra, "TARGTRA/SKYRA/TELRA/RA");
  need(h.dec, "TARGTDEC/SKYDEC/TELDEC/DEC");
  need(h.mjd, "MJD-OBS/MJD");
  if (!missing.empty())
    throw_data_error(fmt::format("--barycentric-correction: {} lacks the keywords {} (give --heliocor F instead)",
                                 h.where.empty() ? std::string("the input header") : h.where, missing));
  // Each value is checked here, where the keyword that holds it is known: a bad EXPTIME must not be reported
  // as an MJD outside ERFA's range.
  const std::string where = h.where.empty() ? std::string("the input header") : h.where;
  if (!(std::isfinite(*h.ra) && std::fabs(*h.ra) <= 360.0))
    throw_data_error(fmt::format("--barycentric-correction: {}: keyword {} is {}, not a right ascension in degrees",
                                 where, h.ra_key, *h.ra));
  if (!(std::isfinite(*h.dec) && std::fabs(*h.dec) <= 90.0))
    throw_data_error(fmt::format("--barycentric-correction: {}: keyword {} is {}, not a declination in -90..90 degrees",
                                 where, h.dec_key, *h.dec));
  if (!(std::isfinite(*h.mjd) && *h.mjd > 15020.0 && *h.mjd < 88069.0))  // 1900 .. 2100, eraEpv00's range
    throw_data_error(fmt::format("--barycentric-correction: {}: keyword {} is {}, not a date in 1900..2100 (MJD "
                                 "15020..88069)",
                                 where, h.mjd_key, *h.mjd));
  if (h.exptime && !(std::isfinite(*h.exptime) && *h.exptime >= 0.0 && *h.exptime <= 86400.0))
    throw_data_error(fmt::format("--barycentric-correction: {}: keyword EXPTIME is {}, not an exposure time in "
                                 "0..86400 s",
                                 where, *h.exptime));
  const double mid = *h.mjd + h.exptime.value_or(0.0) / 2.0 / 86400.0;
  return barycentric_correction_factor(*h.ra, *h.dec, mid, site);
}

}  // namespace perfex::drivers
