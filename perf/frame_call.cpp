// extract_frame_as_cli: today drivers::extract_frame, which the CLI calls (drivers/src/cmd_extract.cpp).
#include "frame_call.hpp"

#include "perfex/drivers/frame_pipeline.hpp"
#include "perfex/io/preproc_io.hpp"

namespace perfex::bench {

ExtractionOptions cli_extraction_options(const GaussHermitePsf& psf) {
  ExtractionOptions options;
  options.psferr = psf.default_psferr();
  options.ndiag = psf.hsizey;
  return options;
}

CliFrame extract_frame_as_cli(const ExecSpace& exec, const HostView<double**>& image, const HostView<double**>& ivar,
                              const GaussHermitePsf& psf, const std::vector<double>& wavelengths, int specmin,
                              int nspec, const ExtractionOptions& options, bool model_image) {
  io::PreprocImage preproc;
  preproc.source = "in-memory image";
  preproc.npix_y = static_cast<int>(image.extent(0));
  preproc.npix_x = static_cast<int>(image.extent(1));
  preproc.image = image;
  preproc.ivar = ivar;
  drivers::FramePipelineOptions pipeline;
  pipeline.extraction = options;
  pipeline.bundles_per_chunk = 0;  // the CLI's default: the backend chooses
  pipeline.model_image = model_image;
  drivers::ExtractedFrame frame = drivers::extract_frame(exec, preproc, psf, wavelengths, specmin, nspec, pipeline);
  return {frame.result, frame.mask, frame.model, frame.extract_s};
}

}  // namespace perfex::bench
