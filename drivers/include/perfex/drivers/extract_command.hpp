// `perfex extract`: its arguments (desi_extract_spectra's names and defaults) and the action, callable
// without the command line (tests, a future MPI driver).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "perfex/core/extract_options.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/drivers/frame_pipeline.hpp"
#include "perfex/io/frame_io.hpp"
#include "perfex/io/preproc_io.hpp"

namespace perfex::drivers {

struct ExtractArgs {
  std::string input;     // -i: preproc image
  std::string psf;       // -p: PSF
  std::string output;    // -o: frame
  std::string format;    // --format fits|hdf5; "" by -o's extension (.h5, .hdf5: HDF5)
  bool no_output = false;  // the caller writes the frame itself (extract-exposure --hdf5-exposure): -o unchecked
  std::string fibermap;  // -f: FIBERMAP HDU of another file (default: the input's, if any)
  std::string model;     // -m: model image
  std::string wavelength;  // -w: "wmin,wmax,dw"; empty: the range every fiber covers on the CCD, step 0.8
  int specmin = 0;
  std::optional<int> nspec;  // default 500, or the PSF's fibers from specmin if fewer
  ExtractionOptions options;  // regularize, bundlesize, nsubbundles, nwavestep, wavepad/pixpad fractions
  std::optional<double> psferr;  // default: the PSF's PSFERR keyword, else 0.01
  bool barycentric = false;      // --barycentric-correction
  std::optional<double> heliocor;  // --heliocor F
  bool decorrelate_fibers = false;  // refused
  bool psf_tails = false;
  bool overwrite = false;
  bool float64 = false;
  bool verbose = false;
  int bundles_per_chunk = 0;  // 0: the backend's default
  bool mpi = false;  // --mpi: start MPI even when no launcher is detected
};

// The checks that need no file, in the order perfex extract makes them; throws perfex::Error (usage).
void check_extract_args(const ExtractArgs& args);

// The fiber options (--specmin, --nspec) before any file is read: usage errors. Any first fiber and count
// are accepted: the bundles of --bundlesize fibers at either end may be partial.
void check_fiber_options(int specmin, std::optional<int> nspec, int bundlesize);
// The fibers to extract from the PSF `psf_name`: nspec, or by default 500 or the PSF's fibers from specmin;
// data errors when the PSF lacks them.
int fibers_to_extract(const GaussHermitePsf& psf, const std::string& psf_name, int specmin, std::optional<int> nspec,
                      int bundlesize);
// The extraction grid must lie inside the PSF's wavelength range (GaussHermitePsf::wavemin/wavemax), its bins
// at most half a bin beyond it (numpy.arange's last bin may exceed wmax by up to dw/2); `note` follows the
// grid in the message. A data error naming `psf_name`, saying whether the grid lies outside the range or
// extends beyond it, and by how much, otherwise.
void check_grid_inside_psf(const std::vector<double>& grid, const GaussHermitePsf& psf, const std::string& psf_name,
                           const std::string& note = "");

struct WavelengthOption {
  double wmin = 0, wmax = 0, dw = 0;
  std::vector<double> grid;  // numpy.arange(wmin, wmax + dw/2, dw)
};
// -w "wmin,wmax,dw"; throws perfex::Error (usage) for an unparsable value, dw <= 0, wmax < wmin or fewer
// than 2 bins.
WavelengthOption parse_wavelength_option(const std::string& value);

// Runs the extraction and writes the frame (and the model image); returns 0, throws perfex::Error. Under
// MPI with more than one rank, the ranks share the bundles (run_extract_distributed).
int run_extract(const ExtractArgs& args);

// An extraction's inputs, read and checked: what run_extract does before extracting (the MPI drivers do it
// on the rank that reads, and extract on all).
struct ExtractionJob {
  ExtractArgs args;
  GaussHermitePsf psf;
  io::PreprocImage image;               // its shape is the PSF's CCD
  WavelengthOption requested;           // the nominal grid, written as WAVELENGTH
  std::vector<double> extraction_grid;  // the grid the spectra are extracted on: requested / HELIOCOR
  int specmin = 0;
  int nspec = 0;
  double heliocor = 1.0;
  FramePipelineOptions pipeline;  // psferr and ndiag resolved, tails, bundles per chunk, model; no progress
};

// Checks the arguments, reads the PSF, the header keywords, a separate fibermap and the image; throws
// perfex::Error (usage or data) as perfex extract reports them.
ExtractionJob prepare_extraction(const ExtractArgs& args);

// The frame file's content for `job`: data, specmask and header, and where its FIBERMAP rows come from (the
// input's fibermap, -f's file, or none: a warning on stderr when the input's is too short).
io::Frame frame_of(const ExtractionJob& job, const ExtractedFrame& extracted, io::FibermapSource& fibermap);

// Writes the frame of `job` (FITS, or HDF5 for --format hdf5 / a .h5 name) and its model image atomically and prints the "wrote" line, with the time
// since `t0`.
void write_extraction(const ExtractionJob& job, const ExtractedFrame& extracted,
                      std::chrono::steady_clock::time_point t0);

}  // namespace perfex::drivers
