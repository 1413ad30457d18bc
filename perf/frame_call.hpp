// The frame pipeline exactly as `perfex extract` runs it (core's perfex::extract_frame with the CLI's options
// and its chunking of bundles), for the GPU check's frame benchmark and parity tool (scripts/gpu-check.sh).
// Everything they measure or compare goes through extract_frame_as_cli.
#pragma once

#include <cstdint>
#include <vector>

#include "perfex/core/extract.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/core/types.hpp"

namespace perfex::bench {

struct CliFrame {
  FrameResult result;                // float64, per Angstrom, [nspec][nwave]
  ResultView<std::uint32_t**> mask;  // specmask bits
  ResultView<double**> model;        // [npix_y][npix_x] with model_image, else empty
  double extract_s = 0.0;            // the pipeline's own wall time (upload, spots, solve, assembly)
};

// The extraction options `perfex extract` uses for this PSF without options: the defaults of
// desi_extract_spectra, psferr from the PSF (PSFERR, else 0.01), ndiag = HSIZEY.
ExtractionOptions cli_extraction_options(const GaussHermitePsf& psf);

// Extracts fibers [specmin, specmin + nspec) of a whole-CCD image (psf.npix_y x psf.npix_x; ivar already
// masked, 0 where a pixel is bad) on `wavelengths` as `perfex extract` does: chunks of bundles as the
// backend chooses (--bundles-per-chunk 0), the model image when asked (-m), the specmask.
CliFrame extract_frame_as_cli(const ExecSpace& exec, const HostView<double**>& image, const HostView<double**>& ivar,
                              const GaussHermitePsf& psf, const std::vector<double>& wavelengths, int specmin,
                              int nspec, const ExtractionOptions& options, bool model_image);

}  // namespace perfex::bench
