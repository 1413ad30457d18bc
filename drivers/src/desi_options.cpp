// desi_extract_spectra's inert options and default grid (desispec/scripts/extract.py, desispec 0.70.0).
#include "perfex/drivers/desi_options.hpp"

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "perfex/core/error.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/types.hpp"
#include "perfex/drivers/extract_command.hpp"

namespace perfex::drivers {

void add_desi_options(CLI::App& cmd, DesiCompatOptions& desi, bool& no_scores) {
  cmd.add_flag("--no-scores", no_scores, "do not compute the SCORES HDU (desi_extract_spectra's option)");
  cmd.add_flag("--no-gpu", desi.no_gpu,
               "accepted for desi_extract_spectra (desi_proc's CPU nodes); perfex runs on its build's execution space");
  cmd.add_flag("--gpu", desi.gpu,
               "accepted for gpu_specter's command line; perfex runs on its build's execution space");
  cmd.add_flag("--use-specter", desi.use_specter,
               "specter's default grid when -w is not given (ceil(wmin_all)..floor(wmax_all) step 0.7); the "
               "extraction is perfex's");
}

std::vector<std::string> desi_option_notes(const DesiCompatOptions& desi, bool no_scores) {
  std::vector<std::string> notes;
  const std::string space = ExecSpace::name();
  if (desi.no_gpu)
    notes.push_back(
        fmt::format("--no-gpu: accepted (desi_extract_spectra's); perfex runs on {}, its build's "
                    "execution space, whatever this option says",
                    space));
  if (desi.gpu)
    notes.push_back(fmt::format("--gpu: accepted (gpu_specter's); perfex runs on {}, its build's execution space",
                                space));
  if (desi.use_specter)
    notes.push_back(
        "--use-specter: specter's default grid applies when -w is not given; the extraction is "
        "perfex's (gpu_specter's algorithm; --psf-tails adds the PSF tails specter evaluates)");
  if (no_scores) notes.push_back("--no-scores: the frame gets no SCORES HDU");
  return notes;
}

WavelengthOption desi_default_wavelengths(const GaussHermitePsf& psf, const std::string& psf_name, bool use_specter) {
  WavelengthOption w;
  if (!use_specter) {
    // gpu_specter's read_psf(...)['PSF'].meta['WAVEMIN'/'WAVEMAX']: the PSF table's domain (the PSF's range).
    w.wmin = psf.wavemin();
    w.wmax = psf.wavemax();
    w.dw = 0.8;
  } else {
    double wmin_all = -std::numeric_limits<double>::infinity(), wmax_all = std::numeric_limits<double>::infinity();
    for (int f = 0; f < psf.nfiber; ++f) {
      const double lo = psf.wavelength_at_row(f, -0.5);
      const double hi = psf.wavelength_at_row(f, psf.npix_y - 0.5);
      if (std::isnan(lo) || std::isnan(hi))
        throw_data_error(
            fmt::format("{}: the trace of fiber {} does not cross CCD rows -0.5 and {} (specter's "
                        "default grid for --use-specter): give -w/--wavelength",
                        psf_name, f, psf.npix_y - 0.5));
      wmin_all = std::max(wmin_all, lo);
      wmax_all = std::min(wmax_all, hi);
    }
    w.wmin = std::ceil(wmin_all);
    w.wmax = std::floor(wmax_all);
    w.dw = 0.7;
  }
  w.grid = linear_wavelengths(w.wmin, w.wmax, w.dw);
  if (w.grid.size() < 2)
    throw_data_error(
        fmt::format("{}: the default grid {}..{} A step {} has fewer than 2 bins: give "
                    "-w/--wavelength",
                    psf_name, w.wmin, w.wmax, w.dw));
  return w;
}

}  // namespace perfex::drivers
