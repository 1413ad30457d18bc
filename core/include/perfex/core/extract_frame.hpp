// The frame pipeline, file-free: one CCD image to a finished frame on the execution space, the entry point
// every front end calls (perfex extract, extract-exposure, the MPI driver, the Python module, the
// benchmarks and the GPU check).
//
//   ImageInput image = upload_image(exec, HostImage{image, ivar, mask, 0, 0, npix_y, npix_x});
//   ExtractedFrame frame = extract_frame(exec, image, psf, wavelengths, specmin, nspec, options);
//
// extract_frame runs, all on `exec`: the chunk loop over bundles (FrameOptions::bundles_per_chunk, the
// backend's default when 0); per chunk the spot cache (one cache reused by every chunk), the patch plan
// (made once per PSF, grid and fibers from the chunk's spot corners, kept on the device with its patch
// table), the patch solves written straight into the frame's arrays (allocated once per frame) and the
// per-Angstrom conversion; the model image as the chunks go (when asked); then the specmask over the
// whole frame, and one copy of each finished array to the host (ResultView: page-locked memory where the
// backend has it). Options are validated once, when the pipeline is set up.
//
// FrameExtractor is the same pipeline in pieces, kept between frames (a later frame with the same PSF,
// grid and fibers reuses the plans and the workspace) and cut at chunk boundaries for drivers that share
// a frame's chunks among processes (MPI): extract_chunk on any process, read_chunk / write_chunk to move a
// chunk's values, finish on the process that holds the whole frame. A chunk's values do not depend on
// which process extracts it, so the frame is bitwise the same for any split.
//
// Errors: perfex::Error, usage (negative fibers, a grid that is not linear or has fewer than 2 bins,
// invalid options) or data (fibers beyond the PSF, a PSF that cannot be evaluated, a patch too large for the
// backend's team scratch). A patch whose normal matrix cannot be solved does not fail the frame: its bins
// are reported in FrameResult::unsolved / unsolved_bins and flagged BAD2DFIT in the specmask. Nothing is
// printed; progress goes to FrameOptions::progress.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "perfex/core/extract.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/types.hpp"

namespace perfex {

// An image on the host, as read from a file or handed over by Python: the whole CCD, or a cutout of it.
struct HostImage {
  HostView<const double**> image;  // [ny][nx] electrons
  HostView<const double**> ivar;   // [ny][nx] inverse variance
  // Optional [ny][nx] CCD mask bits: pixels with any of ccd_mask::extract get weight 0. Leave it empty when
  // `ivar` already has the mask applied (io::read_preproc).
  HostView<const std::int32_t**> mask;
  int origin_y = 0;  // full-CCD row and column of image(0, 0)
  int origin_x = 0;
  int ccd_ny = 0;  // the full CCD (NPIX_Y, NPIX_X)
  int ccd_nx = 0;
  // True when every pixel with ivar > 0 is already usable (perfex/core/pixel_limits.hpp), as io::read_preproc
  // leaves them: upload_image then skips its scan of the whole image (~90 ms per r frame on one core).
  bool pixels_validated = false;
};

// The image and its weights on the device, once per frame (on host backends the arrays themselves unless a
// mask has to be applied). Usage errors for arrays of different shapes, a cutout outside the CCD.
ImageInput upload_image(const ExecSpace& exec, const HostImage& host);

// Progress after each chunk of bundles.
struct FrameProgress {
  int bundles_done = 0;
  int bundles_total = 0;
  double elapsed_s = 0.0;
  // Bytes the pipeline holds in the execution space's memory (the GPU's on a device backend): image and
  // weights, spot cache, solver workspace, the frame's arrays and model image; bounded by bundles_per_chunk.
  std::size_t working_bytes = 0;
};

struct FrameOptions {
  ExtractionOptions extraction;  // psferr and ndiag as the caller resolved them (perfex extract: the PSF's)
  SpotOptions spots;             // PSF tails
  // Bundles whose spots are evaluated and extracted together: the spot cache takes about 25 fibers x
  // (nwave + 74) bins x 187 doubles = 90 MB per bundle for a DESI frame. 0: the backend's choice
  // (backends::FramePolicy: 1 on host backends, 4 on GPUs).
  int bundles_per_chunk = 0;
  // Also build the model image: the spots times the extracted (convolved, resolution-applied) flux per bin,
  // gpu_specter's definition (specter's uses the deconvolved flux instead).
  bool model_image = false;
  std::function<void(const FrameProgress&)> progress;  // after every chunk of extract() (may be empty)
};

struct ExtractedFrame {
  FrameResult result;                // float64, on the grid given (result.wavelengths)
  ResultView<std::uint32_t**> mask;  // [nspec][nwave] specmask bits (frame_mask)
  ResultView<double**> model;        // [ccd_ny][ccd_nx] when options.model_image, else empty
  double extract_s = 0.0;            // wall time from begin() to the end of finish()
};

// Where a FrameExtractor keeps a frame's arrays: the whole frame (extract, or the process that will call
// finish), or one chunk at a time (a process that extracts chunks for another one).
enum class FrameStorage { WholeFrame, OneChunk };

class FrameExtractor {
 public:
  // Fibers [specmin, specmin + nspec) (any: the bundles at either end may be partial) on the linear grid
  // `wavelengths`. Validates everything that needs no image; keeps copies of the PSF and the grid; chooses the
  // wavelength padding (wavelength_padding) unless options.extraction.wavepad_bins is set.
  FrameExtractor(const ExecSpace& exec, const GaussHermitePsf& psf, const std::vector<double>& wavelengths, int specmin,
                 int nspec, const FrameOptions& options);
  ~FrameExtractor();
  FrameExtractor(FrameExtractor&&) noexcept;
  FrameExtractor& operator=(FrameExtractor&&) noexcept;

  // The whole frame: begin, every chunk in order (progress after each), finish.
  ExtractedFrame extract(const ImageInput& image);

  int specmin() const;
  int nspec() const;
  int nwave() const;
  int chunks() const;
  int chunk_fiber_begin(int chunk) const;
  int chunk_fibers(int chunk) const;
  // Doubles read_chunk writes: per fiber, nwave values of flux, ivar, chi2pix, pixmask_fraction, unsolved
  // (0 or 1), then (2 ndiag + 1) nwave of resolution (the layout of read_chunk).
  std::size_t chunk_values(int chunk) const;

  // A frame in pieces. begin() allocates the frame's arrays (zeroed) for `image`; extract_chunk() fills a
  // chunk's rows (any order; the model image takes a chunk's flux right away when it is the next in order,
  // otherwise in finish()); read_chunk() copies them to `values` (chunk_values doubles, flux plane, ivar,
  // chi2pix, pixmask_fraction, unsolved, then resolution), write_chunk() the other way (WholeFrame
  // storage), for chunks extracted elsewhere; finish() (WholeFrame storage, every chunk extracted or
  // written) projects the model of the chunks not yet projected, computes the specmask (BAD2DFIT also on
  // unsolved bins), copies the finished arrays to the host, once each, and counts the unsolved bins.
  void begin(const ImageInput& image, FrameStorage storage = FrameStorage::WholeFrame);
  void extract_chunk(int chunk);
  void read_chunk(int chunk, double* values) const;
  void write_chunk(int chunk, const double* values);
  ExtractedFrame finish();

  // What the pipeline holds in the execution space's memory now (FrameProgress::working_bytes).
  std::size_t working_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// The whole frame in one call: FrameExtractor(exec, psf, wavelengths, specmin, nspec, options).extract(image).
ExtractedFrame extract_frame(const ExecSpace& exec, const ImageInput& image, const GaussHermitePsf& psf,
                             const std::vector<double>& wavelengths, int specmin, int nspec,
                             const FrameOptions& options);

}  // namespace perfex
