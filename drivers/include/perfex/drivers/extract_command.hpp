// `perfex extract`: its arguments (desi_extract_spectra's names and defaults), their checks, and the
// action, callable without the command line (tests). The frame's inputs and output: extraction_job.hpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "perfex/core/extract_options.hpp"
#include "perfex/drivers/desi_options.hpp"

namespace perfex::drivers {

struct ExtractArgs {
  std::string input;       // -i: preproc image
  std::string psf;         // -p: PSF
  std::string output;      // -o: frame
  std::string format;      // --format fits|hdf5; "" by -o's extension (.h5, .hdf5: HDF5)
  bool no_output = false;  // the caller writes the frame itself (extract-exposure --hdf5-exposure): -o unchecked
  std::string fibermap;    // -f: FIBERMAP HDU of another file (default: the input's, if any)
  std::string model;       // -m: model image
  std::string wavelength;  // -w: "wmin,wmax,dw"; empty: desi_extract_spectra's default (desi_default_wavelengths)
  int specmin = 0;
  std::optional<int> nspec;         // default 500, or the PSF's fibers from specmin if fewer
  ExtractionOptions options;        // regularize, bundlesize, nsubbundles, nwavestep, wavepad/pixpad fractions
  std::optional<double> psferr;     // default: the PSF's PSFERR keyword, else 0.01
  bool barycentric = false;         // --barycentric-correction
  std::optional<double> heliocor;   // --heliocor F
  bool decorrelate_fibers = false;  // refused
  bool psf_tails = false;
  bool overwrite = false;
  bool float64 = false;
  bool verbose = false;
  int bundles_per_chunk = 0;  // 0: the backend's default
  bool mpi = false;           // --mpi: start MPI even when no launcher is detected
  bool no_scores = false;     // --no-scores: no SCORES HDU (desi_extract_spectra's option; the writer honours it)
  bool allow_camera_mismatch = false;  // --allow-camera-mismatch: extract with a PSF of another CAMERA
  DesiCompatOptions desi;              // --no-gpu, --gpu, --use-specter: accepted, reported by -v
};

// The checks that need no file, in the order perfex extract makes them; throws perfex::Error (usage).
void check_extract_args(const ExtractArgs& args);

struct WavelengthOption {
  double wmin = 0, wmax = 0, dw = 0;
  std::vector<double> grid;  // numpy.arange(wmin, wmax + dw/2, dw)
};
// -w "wmin,wmax,dw"; throws perfex::Error (usage) for an unparsable value, dw <= 0, wmax < wmin or fewer
// than 2 bins.
WavelengthOption parse_wavelength_option(const std::string& value);

// Runs the extraction and writes the frame (and the model image); returns 0, throws perfex::Error. Under
// MPI with more than one rank, the ranks share the bundles (extract_on_group), and every rank returns the
// same exit code, the root printing the error.
int run_extract(const ExtractArgs& args);

}  // namespace perfex::drivers
