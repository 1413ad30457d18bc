// extract_frame_as_cli: core's perfex::extract_frame, as perfex extract calls it (drivers/src/cmd_extract.cpp).
#include "frame_call.hpp"

#include "perfex/core/extract_frame.hpp"

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
  const int ny = static_cast<int>(image.extent(0)), nx = static_cast<int>(image.extent(1));
  const ImageInput input = upload_image(exec, HostImage{image, ivar, {}, 0, 0, ny, nx});
  FrameOptions frame_options;
  frame_options.extraction = options;
  frame_options.bundles_per_chunk = 0;  // the CLI's default: the backend chooses
  frame_options.model_image = model_image;
  ExtractedFrame frame = extract_frame(exec, input, psf, wavelengths, specmin, nspec, frame_options);
  return {frame.result, frame.mask, frame.model, frame.extract_s};
}

}  // namespace perfex::bench
