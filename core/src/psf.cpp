// Host-side helpers of the GAUSS-HERMITE PSF model: lookup by PARAM name, validation, domains.
#include "perfex/core/psf.hpp"

#include <algorithm>
#include <cmath>

#include "perfex/core/error.hpp"

namespace perfex {

double LegendreSeries::evaluate(int fiber, double wavelength) const {
  const double w = reduced_wavelength(wavelength);
  double p_prev = 1.0, p = w;
  double sum = at(fiber, 0);
  if (ncoef > 1) sum += at(fiber, 1) * w;
  for (int k = 2; k < ncoef; ++k) {
    const double p_next = ((2.0 * k - 1.0) * w * p - (k - 1.0) * p_prev) / k;
    p_prev = p;
    p = p_next;
    sum += at(fiber, k) * p;
  }
  return sum;
}

std::string gh_param_name(int a, int b) { return "GH-" + std::to_string(a) + "-" + std::to_string(b); }

bool GaussHermitePsf::has_param(const std::string& name) const {
  return std::any_of(params.begin(), params.end(), [&](const NamedSeries& p) { return p.name == name; });
}

const LegendreSeries& GaussHermitePsf::param(const std::string& name) const {
  for (const auto& p : params)
    if (p.name == name) return p.series;
  throw_data_error("PSF: PARAM row '" + name + "' is missing from the PSF table");
}

double GaussHermitePsf::wavemin() const {
  double w = std::max(xtrace.wavemin, ytrace.wavemin);
  for (const auto& p : params) w = std::max(w, p.series.wavemin);
  return w;
}

double GaussHermitePsf::wavemax() const {
  double w = std::min(xtrace.wavemax, ytrace.wavemax);
  for (const auto& p : params) w = std::min(w, p.series.wavemax);
  return w;
}

namespace {
void validate_series(const LegendreSeries& s, int nfiber, const std::string& what, const std::string& source) {
  if (s.nfiber != nfiber)
    throw_data_error(source + ": " + what + " has " + std::to_string(s.nfiber) + " fibers, expected " +
                     std::to_string(nfiber));
  if (s.ncoef < 1 || s.coeff.size() != static_cast<std::size_t>(s.nfiber) * s.ncoef)
    throw_data_error(source + ": " + what + " has an inconsistent number of Legendre coefficients");
  if (!(std::isfinite(s.wavemin) && std::isfinite(s.wavemax) && s.wavemax > s.wavemin))
    throw_data_error(source + ": " + what + " needs WAVEMIN < WAVEMAX, found " + std::to_string(s.wavemin) +
                     " and " + std::to_string(s.wavemax));
  for (double c : s.coeff)
    if (!std::isfinite(c)) throw_data_error(source + ": " + what + " has non-finite Legendre coefficients");
}
}  // namespace

void GaussHermitePsf::validate(const std::string& source) const {
  if (nfiber < 1) throw_data_error(source + ": the PSF has no fibers");
  if (npix_x < 1 || npix_y < 1)
    throw_data_error(source + ": keywords NPIX_X/NPIX_Y must be positive, found " + std::to_string(npix_x) +
                     " x " + std::to_string(npix_y));
  if (hsizex < 1 || hsizex > 64 || hsizey < 1 || hsizey > 64)
    throw_data_error(source + ": keywords HSIZEX/HSIZEY must be in 1..64, found " + std::to_string(hsizex) +
                     " and " + std::to_string(hsizey));
  if (ghdegx < 0 || ghdegx > 20 || ghdegy < 0 || ghdegy > 20)
    throw_data_error(source + ": keywords GHDEGX/GHDEGY must be in 0..20, found " + std::to_string(ghdegx) +
                     " and " + std::to_string(ghdegy));
  validate_series(xtrace, nfiber, "HDU XTRACE", source);
  validate_series(ytrace, nfiber, "HDU YTRACE", source);
  std::vector<std::string> required = {"GHSIGX", "GHSIGY"};
  for (int a = 0; a <= ghdegx; ++a)
    for (int b = 0; b <= ghdegy; ++b) required.push_back(gh_param_name(a, b));
  for (const auto& name : required)
    if (!has_param(name)) throw_data_error(source + ": HDU PSF has no PARAM row '" + name + "'");
  for (const auto& p : params) validate_series(p.series, nfiber, "HDU PSF row " + p.name, source);
}

}  // namespace perfex
