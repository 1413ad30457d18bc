// Host-side helpers of the GAUSS-HERMITE PSF model: lookup by PARAM name, validation, domains, the
// wavelength at a CCD row.
#include "perfex/core/psf.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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

std::string layout_description(PsfLayout layout) {
  switch (layout) {
    case PsfLayout::XtraceYtracePsf:
      return "GAUSS-HERMITE PSFVER 3 (HDUs XTRACE, YTRACE, PSF)";
    case PsfLayout::OneTable:
      return "GAUSS-HERMITE PSFVER 2 (one table; traces as rows X, Y)";
    case PsfLayout::TwoCores:
      return "GAUSS-HERMITE2 (one table; two Gaussian cores, even stamps)";
  }
  return "unknown";
}

std::string gh_param_name(int a, int b) { return "GH-" + std::to_string(a) + "-" + std::to_string(b); }
std::string gh2_param_name(int a, int b) { return "GH2-" + std::to_string(a) + "-" + std::to_string(b); }

bool GaussHermitePsf::has_param(const std::string& name) const {
  return std::any_of(params.begin(), params.end(), [&](const NamedSeries& p) { return p.name == name; });
}

const LegendreSeries& GaussHermitePsf::param(const std::string& name) const {
  for (const auto& p : params)
    if (p.name == name) return p.series;
  throw_data_error("PSF: PARAM row '" + name + "' is missing from the PSF table");
}

double GaussHermitePsf::wavemin() const {
  double w = -std::numeric_limits<double>::infinity();
  for (const auto& p : params) w = std::max(w, p.series.wavemin);
  if (layout != PsfLayout::XtraceYtracePsf || params.empty()) w = std::max({w, xtrace.wavemin, ytrace.wavemin});
  return w;
}

double GaussHermitePsf::wavemax() const {
  double w = std::numeric_limits<double>::infinity();
  for (const auto& p : params) w = std::min(w, p.series.wavemax);
  if (layout != PsfLayout::XtraceYtracePsf || params.empty()) w = std::min({w, xtrace.wavemax, ytrace.wavemax});
  return w;
}

double GaussHermitePsf::wavelength_at_row(int fiber, double row) const {
  if (fiber < 0 || fiber >= nfiber || !std::isfinite(row)) return std::numeric_limits<double>::quiet_NaN();
  const double span = ytrace.wavemax - ytrace.wavemin;
  const double lo = ytrace.wavemin - span, hi = ytrace.wavemax + span, centre = 0.5 * (ytrace.wavemin + ytrace.wavemax);
  auto f = [&](double w) { return ytrace.evaluate(fiber, w) - row; };
  // Brackets of a sign change on a fine grid; the one nearest the domain's centre (traces are monotonic
  // there, an extrapolation far outside may turn back).
  constexpr int samples = 1024;
  double best_a = 0, best_b = 0, best_distance = std::numeric_limits<double>::infinity();
  double prev_w = lo, prev_f = f(lo);
  for (int i = 1; i <= samples; ++i) {
    const double w = lo + (hi - lo) * i / samples, fw = f(w);
    if ((prev_f <= 0.0 && fw >= 0.0) || (prev_f >= 0.0 && fw <= 0.0)) {
      const double distance = std::fabs(0.5 * (prev_w + w) - centre);
      if (distance < best_distance) {
        best_distance = distance;
        best_a = prev_w;
        best_b = w;
      }
    }
    prev_w = w;
    prev_f = fw;
  }
  if (!std::isfinite(best_distance)) return std::numeric_limits<double>::quiet_NaN();
  double fa = f(best_a);
  for (int it = 0; it < 200 && best_b - best_a > 0.0; ++it) {
    const double mid = 0.5 * (best_a + best_b);
    if (mid <= best_a || mid >= best_b) break;
    const double fm = f(mid);
    if ((fa <= 0.0) == (fm <= 0.0)) {
      best_a = mid;
      fa = fm;
    } else {
      best_b = mid;
    }
  }
  return 0.5 * (best_a + best_b);
}

namespace {
void validate_series(const LegendreSeries& s, int nfiber, const std::string& what, const std::string& source) {
  if (s.nfiber != nfiber)
    throw_data_error(source + ": " + what + " has " + std::to_string(s.nfiber) + " fibers, expected " +
                     std::to_string(nfiber));
  if (s.ncoef < 1 || s.coeff.size() != static_cast<std::size_t>(s.nfiber) * s.ncoef)
    throw_data_error(source + ": " + what + " has an inconsistent number of Legendre coefficients");
  if (!(std::isfinite(s.wavemin) && std::isfinite(s.wavemax) && s.wavemax > s.wavemin))
    throw_data_error(source + ": " + what + " needs WAVEMIN < WAVEMAX, found " + std::to_string(s.wavemin) + " and " +
                     std::to_string(s.wavemax));
  for (double c : s.coeff)
    if (!std::isfinite(c)) throw_data_error(source + ": " + what + " has non-finite Legendre coefficients");
}
}  // namespace

void GaussHermitePsf::validate(const std::string& source) const {
  const bool tables = layout != PsfLayout::XtraceYtracePsf;
  const std::string table = tables ? "the PSF table" : "HDU PSF";
  if (nfiber < 1) throw_data_error(source + ": the PSF has no fibers");
  if (npix_x < 1 || npix_y < 1)
    throw_data_error(source + ": keywords NPIX_X/NPIX_Y must be positive, found " + std::to_string(npix_x) + " x " +
                     std::to_string(npix_y));
  if (hsizex < 1 || hsizex > 64 || hsizey < 1 || hsizey > 64)
    throw_data_error(source + ": keywords HSIZEX/HSIZEY must be in 1..64, found " + std::to_string(hsizex) + " and " +
                     std::to_string(hsizey));
  if (ghdegx < 0 || ghdegx > 20 || ghdegy < 0 || ghdegy > 20)
    throw_data_error(source + ": keywords GHDEGX/GHDEGY must be in 0..20, found " + std::to_string(ghdegx) + " and " +
                     std::to_string(ghdegy));
  if (two_cores() && (ghdegx2 < 0 || ghdegx2 > 20 || ghdegy2 < 0 || ghdegy2 > 20))
    throw_data_error(source + ": keywords GHDEGX2/GHDEGY2 must be in 0..20, found " + std::to_string(ghdegx2) +
                     " and " + std::to_string(ghdegy2));
  validate_series(xtrace, nfiber, tables ? "PSF table row X" : "HDU XTRACE", source);
  validate_series(ytrace, nfiber, tables ? "PSF table row Y" : "HDU YTRACE", source);
  std::vector<std::string> required = {"GHSIGX", "GHSIGY"};
  for (int a = 0; a <= ghdegx; ++a)
    for (int b = 0; b <= ghdegy; ++b) required.push_back(gh_param_name(a, b));
  if (two_cores()) {
    for (const char* name : {"GHNSIG", "GHSIGX2", "GHSIGY2"}) required.push_back(name);
    for (int a = 0; a <= ghdegx2; ++a)
      for (int b = 0; b <= ghdegy2; ++b) required.push_back(gh2_param_name(a, b));
  }
  for (const auto& name : required)
    if (!has_param(name)) throw_data_error(source + ": " + table + " has no PARAM row '" + name + "'");
  for (const auto& p : params) validate_series(p.series, nfiber, table + " row " + p.name, source);
}

}  // namespace perfex
