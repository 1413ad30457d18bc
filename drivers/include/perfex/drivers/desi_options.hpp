// desi_extract_spectra's options that perfex accepts so that desispec's command lines (desi_proc's) run
// unchanged, and its default wavelength grid. The options without meaning for perfex are reported by -v.
#pragma once

#include <string>
#include <vector>

#include "perfex/core/psf.hpp"

namespace CLI {
class App;
}

namespace perfex::drivers {

struct WavelengthOption;

// Options of desi_extract_spectra (desispec 0.70.0) and gpu_specter that do not change perfex's extraction.
struct DesiCompatOptions {
  bool no_gpu = false;       // --no-gpu: desi_proc adds it on CPU nodes; perfex runs on its build's space
  bool gpu = false;          // --gpu (gpu_specter's spex): likewise
  bool use_specter = false;  // --use-specter: specter's default grid (below); perfex's extraction otherwise
};

// Adds --no-scores (no SCORES HDU: `no_scores`), --no-gpu, --gpu and --use-specter to `cmd`.
void add_desi_options(CLI::App& cmd, DesiCompatOptions& desi, bool& no_scores);

// One line per such option given, for -v: what it means for perfex.
std::vector<std::string> desi_option_notes(const DesiCompatOptions& desi, bool no_scores);

// desi_extract_spectra's grid when -w is not given. Its default (gpu_specter) path: numpy.arange(WAVEMIN,
// WAVEMAX + 0.4, 0.8) with WAVEMIN and WAVEMAX of the PSF HDU (the Legendre domain of the PSF table); with
// --use-specter (specter's path): ceil(wmin_all) .. floor(wmax_all) step 0.7, wmin_all the largest wavelength
// of the fibers' traces at row -0.5 and wmax_all the smallest at row NPIX_Y - 0.5 (specter's PSF). Data
// error when specter's range cannot be found (traces that do not cross those rows).
WavelengthOption desi_default_wavelengths(const GaussHermitePsf& psf, const std::string& psf_name, bool use_specter);

}  // namespace perfex::drivers
