// The frame pipeline: extracts fibers [specmin, specmin + nspec) of one CCD image bundle by bundle (the
// image and weights uploaded once, spots evaluated per chunk of bundles to bound memory), assembles the
// full FrameResult and its specmask. Reusable by an MPI driver, which would call extract_bundles on its
// share of the bundles and compute the mask on the gathered frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "perfex/core/extract.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/types.hpp"
#include "perfex/io/preproc_io.hpp"

namespace perfex::drivers {

// Progress after each chunk of bundles.
struct FrameProgress {
  int bundles_done = 0;
  int bundles_total = 0;
  double elapsed_s = 0.0;
  // Bytes the pipeline holds in the execution space's memory (the GPU's on a device backend): image and
  // weights, spot cache, solver workspace and model image; bounded by bundles_per_chunk, released at the end.
  std::size_t working_bytes = 0;
};

struct FramePipelineOptions {
  ExtractionOptions extraction;
  SpotOptions spots;  // PSF tails
  // Bundles whose spots are evaluated and extracted together: the spot cache takes about
  // 25 fibers x (nwave + 74) bins x 187 doubles = 90 MB per bundle for a DESI frame. 0 chooses: 1 on host
  // backends, 4 on GPUs (more patches per launch).
  int bundles_per_chunk = 0;
  // Also build the model image: the spots times the extracted (convolved, resolution-applied) flux per bin,
  // gpu_specter's definition (specter's uses the deconvolved flux instead).
  bool model_image = false;
  std::function<void(const FrameProgress&)> progress;  // called after every chunk (may be empty)
};

struct ExtractedFrame {
  FrameResult result;              // float64, on `wavelengths` as given
  HostView<std::uint32_t**> mask;  // specmask bits (frame_mask)
  HostView<double**> model;        // [npix_y][npix_x] when options.model_image, else empty
  double extract_s = 0.0;          // wall time of the extraction (spots + solve + assembly)
};

// The image and weights on the device, for the whole CCD (origin 0, 0).
ImageInput upload_image(const ExecSpace& exec, const io::PreprocImage& image, int ccd_ny, int ccd_nx);

// Extracts fibers [specmin, specmin + nspec) (aligned to bundles) of an uploaded image on the linear grid
// `wavelengths`, bundle chunk by bundle chunk, into one FrameResult; `model`, when not empty ([ccd_ny]
// [ccd_nx], zeroed by the caller), receives the model image of these fibers. Throws perfex::Error: usage
// errors for misaligned fibers or a non-linear grid, data errors for fibers beyond the PSF.
FrameResult extract_bundles(const ExecSpace& exec, const ImageInput& image, const GaussHermitePsf& psf,
                            const std::vector<double>& wavelengths, int specmin, int nspec,
                            const FramePipelineOptions& options, const DeviceView<double**>& model = {});

// The whole frame: checks the image against the PSF's CCD, uploads it once, extracts, and computes the
// specmask over the extracted fibers.
ExtractedFrame extract_frame(const ExecSpace& exec, const io::PreprocImage& image, const GaussHermitePsf& psf,
                             const std::vector<double>& wavelengths, int specmin, int nspec,
                             const FramePipelineOptions& options);

}  // namespace perfex::drivers
