// Validation of extraction options and the wavelength-grid rules (padding, bin widths).
#include "perfex/core/extract_options.hpp"

#include <cmath>
#include <cstdio>
#include <string>

#include "perfex/core/error.hpp"

namespace perfex {

namespace {
// "1e+20", "0.5", "-1": a number as the user may have written it (std::to_string prints 1e20 with 21 digits).
std::string number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", v);
  return text;
}
}  // namespace

void ExtractionOptions::validate() const {
  if (bundlesize < 1) throw_usage_error("--bundlesize must be positive, got " + std::to_string(bundlesize));
  if (nsubbundles < 1 || nsubbundles > bundlesize)
    throw_usage_error("--nsubbundles must be in 1.." + std::to_string(bundlesize) + ", got " +
                      std::to_string(nsubbundles));
  // A patch's normal matrix grows as nwavestep^2 and its decorrelation as nwavestep^3 (DESI uses 50): beyond 1000
  // a patch takes minutes and gigabytes, and its padding reaches far outside any PSF's wavelength domain.
  if (nwavestep < 1 || nwavestep > 1000)
    throw_usage_error("--nwavestep must be in 1..1000, got " + std::to_string(nwavestep));
  if (!(wavepad_frac >= 0.0 && wavepad_frac <= 10.0))
    throw_usage_error("--wavepad-frac must be in [0, 10], got " + std::to_string(wavepad_frac));
  if (!(pixpad_frac >= 0.0 && pixpad_frac <= 1.0))
    throw_usage_error("--pixpad-frac must be in [0, 1], got " + std::to_string(pixpad_frac));
  // alpha = regularize adds alpha^2 to iCov's diagonal. alpha = 1e8 adds 1e16, more than a DESI pixel's
  // contribution to that diagonal (about its inverse variance, <= 1) times double's 1/eps: the data no longer
  // enter the solution at all, and the bins' IVAR (~alpha^2) heads for float32's limit (1e20 gave inf).
  if (!(regularize >= 0.0 && regularize <= max_regularize))
    throw_usage_error(
        "--regularize must be a finite number >= 0 and <= 1e8 (alpha^2 is added to the normal "
        "matrix; beyond 1e8 it swamps the data in double precision), got " +
        number_text(regularize));
  if (!(psferr > 0.0) || !std::isfinite(psferr))
    throw_usage_error("--psferr must be a finite number > 0, got " + std::to_string(psferr));
  if (ndiag < 0 || ndiag > 64) throw_usage_error("ndiag must be in 0..64, got " + std::to_string(ndiag));
  if (wavepad_bins < 0 || wavepad_bins > 10000)
    throw_usage_error("the wavelength padding must be in 0..10000 bins, got " + std::to_string(wavepad_bins));
}

std::vector<double> linear_wavelengths(double wmin, double wmax, double dw) {
  if (!(std::isfinite(wmin) && std::isfinite(wmax) && std::isfinite(dw)))
    throw_usage_error("--wavelength: wmin, wmax and dw must be finite numbers");
  if (!(dw > 0)) throw_usage_error("--wavelength: the step dw must be positive");
  if (!(wmax >= wmin)) throw_usage_error("--wavelength: wmax must not be below wmin (the grid would be empty)");
  // numpy.arange(wmin, wmax + dw/2, dw): ceil((stop - start) / step) elements, value start + i * delta with
  // numpy's delta = (start + step) - start (not step itself: 6500 + 200 x 0.8 gives 6660.00000000003638).
  const double count = std::ceil((wmax + dw / 2 - wmin) / dw);
  if (count > 1e6) throw_usage_error("--wavelength: more than a million bins requested");
  std::vector<double> w(static_cast<std::size_t>(count));
  const double delta = (wmin + dw) - wmin;
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = wmin + static_cast<double>(i) * delta;
  return w;
}

std::vector<double> padded_wavelengths(const std::vector<double>& wavelengths, const ExtractionOptions& options) {
  if (wavelengths.size() < 2) throw_usage_error("the wavelength grid needs at least 2 bins");
  const double dw = wavelengths[1] - wavelengths[0];
  if (!(dw > 0)) throw_usage_error("the wavelength grid must increase");
  for (std::size_t i = 1; i < wavelengths.size(); ++i) {
    const double step = wavelengths[i] - wavelengths[i - 1];
    if (std::fabs(step - dw) > 1e-6 * dw)
      throw_usage_error("the wavelength grid must be linear (uniform step); bin " + std::to_string(i) + " has step " +
                        std::to_string(step) + " instead of " + std::to_string(dw));
  }
  const int pad = options.wavepad();
  const int nwave = static_cast<int>(wavelengths.size());
  std::vector<double> full;
  full.reserve(static_cast<std::size_t>(nwave + 2 * pad + options.nwavestep));
  // The references' arithmetic, so the padded bins have the same values to the last bit:
  // below: (arange(pad) dw - ((pad - 1) dw + dw)) + wmin; above: wave[-1] + (1 + j) dw.
  for (int i = 0; i < pad; ++i) full.push_back((i * dw - ((pad - 1) * dw + dw)) + wavelengths[0]);
  full.insert(full.end(), wavelengths.begin(), wavelengths.end());
  for (int j = 0; j < pad + options.nwavestep; ++j) full.push_back(wavelengths[nwave - 1] + (1.0 + j) * dw);
  return full;
}

std::vector<double> wavelength_gradient(const std::vector<double>& w) {
  const std::size_t n = w.size();
  std::vector<double> g(n, 0.0);
  if (n < 2) return g;
  g[0] = w[1] - w[0];
  g[n - 1] = w[n - 1] - w[n - 2];
  for (std::size_t i = 1; i + 1 < n; ++i) g[i] = (w[i + 1] - w[i - 1]) / 2.0;
  return g;
}

}  // namespace perfex
