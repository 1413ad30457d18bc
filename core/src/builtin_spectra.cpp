// Built-in simulator inputs: a smooth sky continuum with night-sky emission lines (Hg, O I, Na I, OH) on
// every fiber, plus emission-line or absorption-line objects at random redshifts on target fibers.
#include "perfex/core/builtin_spectra.hpp"

#include <algorithm>
#include <cmath>

#include "perfex/core/error.hpp"
#include "perfex/core/simulate.hpp"

namespace perfex {

namespace {

struct Line {
  double wavelength;  // Angstrom (vacuum-ish; the simulation only needs plausible positions)
  double strength;    // sky: electrons per line; objects: relative flux or depth
};

// Bright night-sky lines: mercury street lights, [O I] 5577/6300/6364, Na D, and the OH Meinel bands that
// dominate the red and near-infrared. Electrons per line in a dark 900 s exposure, roughly.
const Line k_sky_lines[] = {
    {4047.7, 60},   {4358.3, 250},  {5460.7, 300},  {5577.3, 2500}, {5891.6, 500},  {5897.6, 400},  {6300.3, 1200},
    {6363.8, 400},  {6498.7, 150},  {6553.6, 200},  {6604.3, 150},  {6863.9, 600},  {6923.2, 500},  {7276.4, 600},
    {7316.3, 1200}, {7340.9, 1200}, {7369.2, 500},  {7401.7, 600},  {7750.6, 1300}, {7794.1, 1300}, {7821.5, 1500},
    {7853.2, 900},  {7913.7, 1700}, {7964.7, 1500}, {7993.3, 2000}, {8344.6, 3000}, {8399.2, 2500}, {8430.2, 2500},
    {8465.4, 1800}, {8504.6, 1500}, {8827.1, 4000}, {8885.8, 3500}, {8919.6, 1800}, {8943.4, 2200}, {8988.4, 2500},
    {9375.9, 3500}, {9439.7, 3500}, {9476.9, 2000}, {9522.2, 2500}, {9793.4, 2500}, {9802.8, 2000},
};

// Rest-frame lines of star-forming galaxies: [O II], H-beta, [O III], H-alpha, [N II], [S II].
const Line k_emission_lines[] = {
    {3727.09, 0.45}, {3729.88, 0.6}, {4862.68, 0.35}, {4960.30, 0.25}, {5008.24, 0.75},
    {6564.61, 1.0},  {6585.27, 0.3}, {6718.29, 0.15}, {6732.67, 0.12},
};

// Rest-frame absorption lines of stars and old galaxies: Ca II K/H, Balmer, G band, Mg b, Na D, Ca triplet.
const Line k_absorption_lines[] = {
    {3934.78, 0.5}, {3969.59, 0.45}, {4102.89, 0.25}, {4305.6, 0.2},  {4341.68, 0.25}, {4862.68, 0.25},
    {5176.7, 0.2},  {5895.6, 0.2},   {6564.61, 0.3},  {8500.4, 0.15}, {8544.4, 0.2},   {8664.5, 0.18},
};

// Electrons of a Gaussian line (total `flux`, centre `mu`, width `sigma`) inside [lo, hi].
double integrated_line(double flux, double mu, double sigma, double lo, double hi) {
  const double s = 1.0 / (std::sqrt(2.0) * sigma);
  return 0.5 * flux * (std::erf((hi - mu) * s) - std::erf((lo - mu) * s));
}

// Sky continuum density, electrons per Angstrom: rising to the red with a gentle modulation.
double sky_continuum(double lambda) { return 4.0 + 8.0 * (lambda - 3600.0) / 6200.0 + 1.5 * std::sin(lambda / 270.0); }

double log_uniform(CounterRng& rng, double lo, double hi) { return lo * std::pow(hi / lo, rng.uniform()); }

}  // namespace

BuiltinSpectra make_builtin_spectra(const std::vector<double>& wavelengths, int fiber_begin, int nfiber,
                                    const BuiltinSpectraOptions& options) {
  const int nwave = static_cast<int>(wavelengths.size());
  if (nwave < 1) throw_usage_error("built-in spectra: the wavelength grid is empty");
  for (int i = 0; i < nwave; ++i)
    if (!std::isfinite(wavelengths[i]) || (i > 0 && !(wavelengths[i] > wavelengths[i - 1])))
      throw_usage_error("built-in spectra: wavelengths must be finite and strictly increasing");
  if (fiber_begin < 0 || nfiber < 0) throw_usage_error("built-in spectra: negative fiber range");
  if (options.bundle_size < 1 || options.sky_per_bundle < 0 || options.sky_per_bundle > options.bundle_size)
    throw_usage_error("built-in spectra: need 0 <= sky fibers per bundle <= bundle size");

  BuiltinSpectra out;
  out.wavelengths = wavelengths;
  out.photons = HostView<double**>("perfex::simulate::builtin_photons", nfiber, nwave);

  // Bin edges halfway between grid points; the end bins are symmetric about their centre.
  std::vector<double> edges(nwave + 1);
  for (int i = 1; i < nwave; ++i) edges[i] = 0.5 * (wavelengths[i - 1] + wavelengths[i]);
  const double first = nwave > 1 ? wavelengths[1] - wavelengths[0] : 0.8;
  const double last = nwave > 1 ? wavelengths[nwave - 1] - wavelengths[nwave - 2] : 0.8;
  edges[0] = wavelengths[0] - 0.5 * first;
  edges[nwave] = wavelengths[nwave - 1] + 0.5 * last;

  // The sky: the same on every fiber up to a throughput factor; line strengths vary with the seed.
  std::vector<double> sky(nwave);
  for (int i = 0; i < nwave; ++i) sky[i] = sky_continuum(wavelengths[i]) * (edges[i + 1] - edges[i]);
  int line_index = 0;
  for (const Line& line : k_sky_lines) {
    CounterRng rng(options.seed, CounterRng::sky_lines, static_cast<std::uint64_t>(line_index++));
    const double flux = line.strength * (0.7 + 0.6 * rng.uniform());
    const double sigma = 0.25;  // intrinsically unresolved: the PSF sets the observed width
    for (int i = 0; i < nwave; ++i) {
      if (edges[i + 1] < line.wavelength - 8 * sigma || edges[i] > line.wavelength + 8 * sigma) continue;
      sky[i] += integrated_line(flux, line.wavelength, sigma, edges[i], edges[i + 1]);
    }
  }

  for (int k = 0; k < nfiber; ++k) {
    const int fiber = fiber_begin + k;
    const int bundle = fiber / options.bundle_size;
    // Sky fibers of this bundle: sky_per_bundle distinct positions drawn from the bundle's own stream.
    bool is_sky = false;
    {
      CounterRng rng(options.seed, CounterRng::sky_fibers, static_cast<std::uint64_t>(bundle));
      std::vector<int> chosen;
      while (static_cast<int>(chosen.size()) < options.sky_per_bundle) {
        const int pos = static_cast<int>(rng.below(options.bundle_size));
        if (std::find(chosen.begin(), chosen.end(), pos) == chosen.end()) chosen.push_back(pos);
      }
      is_sky = std::find(chosen.begin(), chosen.end(), fiber % options.bundle_size) != chosen.end();
    }

    CounterRng rng(options.seed, CounterRng::spectra, static_cast<std::uint64_t>(fiber));
    const double throughput = 1.0 + 0.03 * rng.normal();
    std::vector<double> spec(nwave);
    for (int i = 0; i < nwave; ++i) spec[i] = throughput * sky[i];

    std::string spectype = "SKY";
    double z = 0.0;
    if (!is_sky) {
      const bool emission = rng.uniform() < 0.5;
      spectype = emission ? "EMISSION" : "ABSORPTION";
      z = emission ? 1.6 * rng.uniform() : (rng.uniform() < 0.4 ? 1e-4 * rng.normal() : 0.6 * rng.uniform());
      const double amplitude = emission ? log_uniform(rng, 0.3, 5.0) : log_uniform(rng, 2.0, 60.0);
      const double slope = emission ? -1.5 + 1.5 * rng.uniform() : -0.5 + 2.5 * rng.uniform();
      const double break_depth = emission ? 0.0 : 0.2 + 0.4 * rng.uniform();  // the 4000 A break
      const double line_flux = emission ? log_uniform(rng, 100.0, 3000.0) : 0.0;
      const double width = emission ? 0.8 + 1.5 * rng.uniform() : 1.5 + 3.5 * rng.uniform();  // sigma, rest frame
      const Line* begin_line = emission ? std::begin(k_emission_lines) : std::begin(k_absorption_lines);
      const Line* end_line = emission ? std::end(k_emission_lines) : std::end(k_absorption_lines);
      std::vector<double> strength;
      for (const Line* l = begin_line; l != end_line; ++l)
        strength.push_back(l->strength * (0.6 + 0.8 * rng.uniform()));
      const double sigma = width * (1.0 + z);
      for (int i = 0; i < nwave; ++i) {
        const double lambda = wavelengths[i];
        const double binw = edges[i + 1] - edges[i];
        const double rest = lambda / (1.0 + z);
        double cont = amplitude * std::pow(lambda / 6000.0, slope);
        if (break_depth > 0.0) cont *= 1.0 - break_depth * 0.5 * (1.0 - std::tanh((rest - 4000.0) / 30.0));
        double value = cont * binw;
        if (emission) {
          for (std::size_t j = 0; j < strength.size(); ++j) {
            const double mu = begin_line[j].wavelength * (1.0 + z);
            if (edges[i + 1] < mu - 8 * sigma || edges[i] > mu + 8 * sigma) continue;
            value += integrated_line(line_flux * strength[j], mu, sigma, edges[i], edges[i + 1]);
          }
        } else {
          double absorbed = 0.0;
          for (std::size_t j = 0; j < strength.size(); ++j) {
            const double d = (lambda - begin_line[j].wavelength * (1.0 + z)) / sigma;
            if (std::fabs(d) < 8.0) absorbed += strength[j] * std::exp(-0.5 * d * d);
          }
          value *= std::max(0.0, 1.0 - absorbed);
        }
        spec[i] += throughput * value;
      }
    }
    for (int i = 0; i < nwave; ++i) out.photons(k, i) = std::max(0.0, options.scale * spec[i]);
    out.fiber.push_back(fiber);
    out.objtype.push_back(is_sky ? "SKY" : "TGT");
    out.spectype.push_back(spectype);
    out.redshift.push_back(z);
    out.targetid.push_back(39600000000000000LL +
                           static_cast<long long>(CounterRng::mix(options.seed * 1000003ULL + fiber) %
                                                  1000000000000ULL));
  }
  return out;
}

}  // namespace perfex
