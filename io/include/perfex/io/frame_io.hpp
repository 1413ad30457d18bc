// DESI frame files (frame-CAMERA-EXPID.fits: FLUX, IVAR, MASK, WAVELENGTH, RESOLUTION, FIBERMAP, CHI2PIX,
// and optional float64 HDUs for exact comparisons): the writer perfex extract uses and the reader of
// perfex compare, perfex pulls and the tests; also the simulation-truth spectra the pulls compare with.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "perfex/core/extract.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/types.hpp"
#include "perfex/io/preproc_io.hpp"

namespace perfex::io {

// What the frame's FLUX header records besides the data.
struct FrameHeader {
  // From the input image.
  std::string camera;
  std::optional<long long> expid;
  std::optional<long long> night;
  std::optional<double> mjd_obs;
  std::optional<double> exptime;
  std::string flavor;
  // Provenance and parameters.
  std::string in_psf;  // IN_PSF
  std::string in_img;  // IN_IMG
  // The grid as requested (-w wmin,wmax,dw), written as WAVEMIN, WAVEMAX, WAVESTEP; NaN: from the
  // wavelengths (first, last, mean step).
  double wavemin = std::numeric_limits<double>::quiet_NaN();
  double wavemax = std::numeric_limits<double>::quiet_NaN();
  double wavestep = std::numeric_limits<double>::quiet_NaN();
  ExtractionOptions options;  // BUNDLESZ NSUBBUN NWAVSTEP WAVEPADF WAVEPADT PIXPADF REGULARI PSFERR NDIAG
  bool psf_tails = false;     // PSFTAILS
  // Wavelength multiplicative barycentric correction: the spectra were extracted on WAVELENGTH / HELIOCOR
  // (1 when no correction was applied).
  double heliocor = 1.0;
  std::string version;  // PERFEXV (the writer fills it; the reader returns the file's)
  // The input image's header as desispec propagates it into FLUX: every card but the structural ones, written
  // first, so that the keywords above (and below) win; read_frame returns every non-structural FLUX card.
  std::vector<std::string> cards;
  std::optional<long long> fibermin;  // FIBERMIN: the frame's first fiber (written when set)
  std::string orig_psf;               // ORIG_PSF: the input PSF's own IN_PSF (written when not empty)
  // DEPNAMnn/DEPVERnn entries set on the FLUX header as desiutil's setdep does (after the cards).
  std::vector<std::pair<std::string, std::string>> dependencies;
};

// A frame in memory. `data` holds the float64 values; data.wavelengths is the grid written as WAVELENGTH
// (the nominal grid when a barycentric correction was applied).
struct Frame {
  FrameResult data;
  ResultView<std::uint32_t**> mask;  // [nspec][nwave] specmask bits
  FrameHeader header;
  // SCORES (desispec's compute_and_append_frame_scores columns, frame_scores_table.hpp), written after CHIPIX
  // when present; read_frame returns the file's.
  std::optional<RawTable> scores;
  // Set by read_frame: whether flux, ivar, resolution and chi2pix came from the float64 HDUs, and whether
  // the file held PIXMASK_FRACTION (data.pixmask_fraction is empty otherwise) and a FIBERMAP.
  bool exact = false;
  bool has_pixmask_fraction = false;
  long fibermap_rows = -1;  // -1: no FIBERMAP HDU
};

// Where the FIBERMAP HDU's rows come from: rows [first, first + nspec) of an in-memory fibermap (the input
// image's), or of the FIBERMAP HDU of a file (-f/--fibermap), copied byte for byte. Neither: no FIBERMAP.
struct FibermapSource {
  const Fibermap* table = nullptr;
  std::string path;
  long first = 0;
};

// The smallest FIBER of rows [first, first + count) of the fibermap (desispec's FIBERMIN of a frame with a
// fibermap); nullopt without a fibermap or a FIBER column.
std::optional<long long> fibermap_first_fiber(const FibermapSource& source, long count);

struct FrameWriteOptions {
  bool overwrite = false;
  // Also write FLUX64, IVAR64, RESOLUTION64, CHI2PIX64 and PIXMASK_FRACTION (float64) after the DESI HDUs,
  // which stay float32 as DESI's data model has them.
  bool float64 = false;
};

// Refuses (usage error naming `writer`) a frame whose arrays do not all have its nspec x nwave shape (and
// 2 ndiag + 1 resolution diagonals): a programming error of the caller, checked before anything is written.
void check_frame_shapes(const Frame& frame, const std::string& writer);

// Writes the frame atomically (temporary file, then rename; gzip-compressed for a .gz name). HDUs in order:
// FLUX (primary, float32 [nspec, nwave], BUNIT electron/Angstrom: header.cards, then every keyword of
// `frame.header`, FIBERMIN, ORIG_PSF, the dependency cards and LONGSTRN), IVAR (float32), MASK (uint32: int32
// with BZERO 2^31), WAVELENGTH (float64), RESOLUTION (float32 [nspec, 2 ndiag + 1, nwave]), FIBERMAP (when
// `fibermap` names one), CHI2PIX (float32), SCORES (when the frame has them), then the float64 HDUs if asked;
// CHECKSUM and DATASUM on every HDU. An existing `path` needs options.overwrite (usage error); a fibermap
// with too few rows is a data error.
void write_frame(const std::string& path, const Frame& frame, const FibermapSource& fibermap,
                 const FrameWriteOptions& options);

// Reads a frame file: the float64 HDUs when present (prefer_float64), else the float32 ones. Data errors
// name the file and HDU (missing HDU, inconsistent shapes).
Frame read_frame(const std::string& path, bool prefer_float64 = true);

// Writes a model image (float32 [npix_y, npix_x], primary HDU with EXTNAME MODEL, BUNIT electron) with
// the frame's header keywords, atomically.
void write_model_image(const std::string& path, const ResultView<const double**>& model, const FrameHeader& header,
                       bool overwrite);

// Simulation truth for pulls: photons per bin [nfiber][nwave] on `wavelengths`, row r belonging to fiber
// fiber[r]. Reads perfex simulate's truth files (HDUs WAVELENGTH, PHOTONS, FIBERTYPE) and the golden
// cases' (WAVE, PHOT); without a FIBER column row r is fiber r.
struct TruthSpectra {
  std::vector<double> wavelengths;
  HostView<double**> photons;
  std::vector<int> fiber;
};
TruthSpectra read_truth_spectra(const std::string& path);

}  // namespace perfex::io
