// HELIOCOR with ERFA, as astropy's SkyCoord.radial_velocity_correction (kind 'barycentric'), which desispec
// calls: the observer's barycentric velocity (Earth's orbit, eraEpv00, plus the site's diurnal rotation) and
// the relativistic redshift formula of Wright & Eastman (2014) eq. 28 with the gravitational redshift of the
// Sun, Jupiter, the Moon and the Earth at the site, as astropy evaluates it.
#include "perfex/drivers/barycentric.hpp"

#include <erfa.h>
#include <erfam.h>

#include <fmt/core.h>
#include <cmath>

#include "perfex/core/error.hpp"

namespace perfex::drivers {

namespace {

// astropy.constants (IAU 2015 nominal and CODATA 2018 values), as astropy's gravitational_redshift uses them.
constexpr double speed_of_light = 299792458.0;  // m/s
constexpr double gm_sun = 1.3271244e20;         // m^3/s^2
constexpr double gm_jupiter = 1.2668653e17;
constexpr double gm_earth = 3.986004e14;
constexpr double gm_moon = 6.6743e-11 * 7.34767309e22;  // G times the Moon's mass in astropy's table
// Earth's rotation rate (rad/s) astropy uses for the site's velocity (1.002737909350795 turns per UT1 day).
constexpr double earth_rotation = 7.292115855306589e-5;
constexpr double au_m = ERFA_DAU;                      // ERFA's astronomical unit, metres
constexpr double au_per_day = ERFA_DAU / ERFA_DAYSEC;  // AU/day -> m/s

// (ERFA's C API takes non-const arrays.)
double norm(double v[3]) { return std::sqrt(eraPdp(v, v)); }

double distance_m(double a[3], double b[3]) {
  double d[3];
  eraPmp(a, b, d);
  return norm(d) * au_m;
}

}  // namespace

BarycentricTerms barycentric_terms(double ra_deg, double dec_deg, double mjd_utc, const Observatory& site) {
  if (!(std::isfinite(ra_deg) && std::isfinite(dec_deg) && std::fabs(dec_deg) <= 90.0))
    throw_data_error(fmt::format("barycentric correction: invalid target RA {} / Dec {} (degrees)", ra_deg, dec_deg));
  if (!(std::isfinite(mjd_utc) && mjd_utc > 15020.0 && mjd_utc < 88069.0))  // 1900 .. 2100, eraEpv00's range
    throw_data_error(fmt::format("barycentric correction: MJD {} is outside 1900..2100", mjd_utc));

  // UTC -> TAI -> TT (leap seconds from ERFA's table) -> TDB at the geocentre (astropy's default for a Time
  // without a location), the time scale of the ephemerides.
  const double utc1 = ERFA_DJM0, utc2 = mjd_utc;
  double tai1 = 0, tai2 = 0, tt1 = 0, tt2 = 0;
  if (eraUtctai(utc1, utc2, &tai1, &tai2) < 0)
    throw_data_error(fmt::format("barycentric correction: MJD {} cannot be converted to TAI", mjd_utc));
  eraTaitt(tai1, tai2, &tt1, &tt2);
  const double ut_fraction = mjd_utc - std::floor(mjd_utc);
  const double tdb1 = tt1, tdb2 = tt2 + eraDtdb(tt1, tt2, ut_fraction, 0.0, 0.0, 0.0) / ERFA_DAYSEC;

  // Earth (heliocentric and barycentric, AU and AU/day, ICRS axes), and from it the Sun, Jupiter and the Moon
  // (astropy's 'builtin' ephemeris: eraEpv00, eraPlan94, eraMoon98).
  double earth_helio[2][3], earth_bary[2][3];
  eraEpv00(tdb1, tdb2, earth_helio, earth_bary);
  double sun[3], jupiter_helio[2][3], jupiter[3], moon_geo[2][3], moon[3];
  eraPmp(earth_bary[0], earth_helio[0], sun);
  eraPlan94(tdb1, tdb2, 5, jupiter_helio);
  eraPpp(sun, jupiter_helio[0], jupiter);
  eraMoon98(tdb1, tdb2, moon_geo);
  eraPpp(earth_bary[0], moon_geo[0], moon);

  // The site: WGS84 geodetic -> ITRS (metres), rotated by the Earth rotation angle (UT1 ~ UTC, no polar
  // motion: < 0.03 m/s) into CIRS, its velocity omega x r there, then to GCRS.
  double itrs[3];
  if (eraGd2gc(ERFA_WGS84, site.longitude_deg * ERFA_DD2R, site.latitude_deg * ERFA_DD2R, site.height_m, itrs) != 0)
    throw_data_error("barycentric correction: invalid observatory position");
  double cirs[3];
  double rotation[3][3];
  eraIr(rotation);
  eraRz(-eraEra00(utc1, utc2), rotation);  // TIRS -> CIRS
  eraRxp(rotation, itrs, cirs);
  double omega[3] = {0.0, 0.0, earth_rotation};
  double site_velocity_cirs[3], site_velocity[3], rc2i[3][3];
  eraPxp(omega, cirs, site_velocity_cirs);
  eraC2i06a(tt1, tt2, rc2i);
  eraTrxp(rc2i, site_velocity_cirs, site_velocity);

  BarycentricTerms t;
  double beta[3];
  for (int k = 0; k < 3; ++k) beta[k] = (earth_bary[1][k] * au_per_day + site_velocity[k]) / speed_of_light;
  double n[3];
  eraS2c(ra_deg * ERFA_DD2R, dec_deg * ERFA_DD2R, n);
  t.beta_radial = eraPdp(beta, n);
  t.gamma = 1.0 / std::sqrt(1.0 - eraPdp(beta, beta));
  // Gravitational redshift at the site (m/s, negative): the Sun, Jupiter and the Moon at their distances from
  // the Earth's centre, the Earth at the site's geocentric distance, summed from the smallest term as astropy.
  t.gravitational_redshift_ms = -(gm_earth / norm(itrs) + gm_moon / distance_m(moon, earth_bary[0]) +
                                  gm_jupiter / distance_m(jupiter, earth_bary[0]) +
                                  gm_sun / distance_m(sun, earth_bary[0])) /
                                speed_of_light;
  return t;
}

double BarycentricTerms::redshift_factor() const {
  return gamma * (1.0 + beta_radial) / (1.0 + gravitational_redshift_ms / speed_of_light);
}

double barycentric_velocity_kms(double ra_deg, double dec_deg, double mjd_utc, const Observatory& site) {
  return (barycentric_terms(ra_deg, dec_deg, mjd_utc, site).redshift_factor() - 1.0) * speed_of_light / 1000.0;
}

double barycentric_correction_factor(double ra_deg, double dec_deg, double mjd_utc, const Observatory& site) {
  return barycentric_terms(ra_deg, dec_deg, mjd_utc, site).redshift_factor();
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
    throw_data_error(
        fmt::format("--barycentric-correction: {}: keyword {} is {}, not a date in 1900..2100 (MJD "
                    "15020..88069)",
                    where, h.mjd_key, *h.mjd));
  if (h.exptime && !(std::isfinite(*h.exptime) && *h.exptime >= 0.0 && *h.exptime <= 86400.0))
    throw_data_error(
        fmt::format("--barycentric-correction: {}: keyword EXPTIME is {}, not an exposure time in "
                    "0..86400 s",
                    where, *h.exptime));
  const double mid = *h.mjd + h.exptime.value_or(0.0) / 2.0 / 86400.0;
  return barycentric_correction_factor(*h.ra, *h.dec, mid, site);
}

}  // namespace perfex::drivers
