// The frame pipeline: image upload once, spots and extraction per chunk of bundles, assembly of the
// frame, optional model image, specmask.
#include "perfex/drivers/frame_pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/core.h>
#include <string>
#include <type_traits>

#include "perfex/core/error.hpp"
#include "perfex/core/frame_mask.hpp"
#include "perfex/core/profiling.hpp"
#include "perfex/core/simulate.hpp"

namespace perfex::drivers {

namespace {

int default_bundles_per_chunk() {
  // Host backends: one bundle's ~240 patches already keep every thread busy. GPUs: more patches per launch.
  return Kokkos::SpaceAccessibility<HostSpace, MemSpace>::accessible ? 1 : 4;
}

template <class View>
std::size_t bytes_of(const View& v) {
  return v.span() * sizeof(typename View::value_type);
}

std::size_t working_bytes(const ImageInput& image, const SpotCache& spots, const ExtractWorkspace& ws,
                          const DeviceView<double**>& model) {
  return bytes_of(image.image) + bytes_of(image.weights) + bytes_of(spots.spots) + bytes_of(spots.xcorner) +
         bytes_of(spots.ycorner) + bytes_of(spots.xcenter) + bytes_of(spots.ycenter) + bytes_of(spots.wavelengths) +
         ws.bytes() + bytes_of(model);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

ImageInput upload_image(const ExecSpace& exec, const io::PreprocImage& image, int ccd_ny, int ccd_nx) {
  ScopedRegion region("perfex::drivers::upload_image");
  ImageInput input;
  // On host backends the device view is the host view (no copy).
  input.image = Kokkos::create_mirror_view_and_copy(MemSpace(), image.image);
  input.weights = Kokkos::create_mirror_view_and_copy(MemSpace(), image.ivar);
  exec.fence();
  input.origin_y = 0;
  input.origin_x = 0;
  input.ccd_ny = ccd_ny;
  input.ccd_nx = ccd_nx;
  return input;
}

FrameResult extract_bundles(const ExecSpace& exec, const ImageInput& image, const GaussHermitePsf& psf,
                            const std::vector<double>& wavelengths, int specmin, int nspec,
                            const FramePipelineOptions& options, const DeviceView<double**>& model) {
  ScopedRegion region("perfex::drivers::extract_bundles");
  const ExtractionOptions& o = options.extraction;
  o.validate();
  if (specmin < 0 || nspec < 1)
    throw_usage_error(fmt::format("--specmin must be >= 0 and --nspec >= 1, got {} and {}", specmin, nspec));
  if (specmin % o.bundlesize != 0 || nspec % o.bundlesize != 0)
    throw_usage_error(fmt::format("--specmin {} and --nspec {} must be multiples of --bundlesize {}", specmin, nspec,
                                  o.bundlesize));
  if (specmin + nspec > psf.nfiber)
    throw_data_error(fmt::format("fibers {}..{} requested, the PSF has fibers 0..{}", specmin, specmin + nspec - 1,
                                 psf.nfiber - 1));
  const std::vector<double> padded = padded_wavelengths(wavelengths, o);  // usage error unless linear
  const int nwave = static_cast<int>(wavelengths.size());
  const int ndiags = 2 * o.ndiag + 1;
  const bool with_model = model.extent(0) > 0;
  const std::vector<double> dwave = wavelength_gradient(wavelengths);

  FrameResult frame;
  frame.specmin = specmin;
  frame.nspec = nspec;
  frame.nwave = nwave;
  frame.ndiag = o.ndiag;
  frame.wavelengths = wavelengths;
  frame.flux = HostView<double**>("perfex::frame::flux", nspec, nwave);
  frame.ivar = HostView<double**>("perfex::frame::ivar", nspec, nwave);
  frame.resolution = HostView<double***>("perfex::frame::resolution", nspec, ndiags, nwave);
  frame.chi2pix = HostView<double**>("perfex::frame::chi2pix", nspec, nwave);
  frame.pixmask_fraction = HostView<double**>("perfex::frame::pixmask_fraction", nspec, nwave);
  frame.unsolved = HostView<std::uint8_t**>("perfex::frame::unsolved", nspec, nwave);

  const int nbundle = nspec / o.bundlesize;
  const int chunk = std::max(1, options.bundles_per_chunk > 0 ? options.bundles_per_chunk : default_bundles_per_chunk());
  const auto t0 = std::chrono::steady_clock::now();
  // One spot cache and one solver workspace for every chunk: allocated (and their pages first touched) once,
  // not once per chunk.
  SpotCache spots;
  ExtractWorkspace workspace;
  for (int b = 0; b < nbundle; b += chunk) {
    const int fiber0 = specmin + b * o.bundlesize;
    const int nfiber = std::min(chunk, nbundle - b) * o.bundlesize;
    evaluate_spots(exec, psf, fiber0, nfiber, padded, spots, options.spots);
    const FrameResult part = extract(exec, image, spots, wavelengths, fiber0, nfiber, o, &workspace);
    const int row0 = fiber0 - specmin;
    frame.unsolved_bins += part.unsolved_bins;
    for (int i = 0; i < nfiber; ++i)
      for (int j = 0; j < nwave; ++j) {
        frame.flux(row0 + i, j) = part.flux(i, j);
        frame.ivar(row0 + i, j) = part.ivar(i, j);
        frame.chi2pix(row0 + i, j) = part.chi2pix(i, j);
        frame.pixmask_fraction(row0 + i, j) = part.pixmask_fraction(i, j);
        frame.unsolved(row0 + i, j) = part.unsolved(i, j);
        for (int d = 0; d < ndiags; ++d) frame.resolution(row0 + i, d, j) = part.resolution(i, d, j);
      }
    if (with_model) {
      // Electrons per bin on the padded grid: the extracted flux on the requested bins, 0 on the padding.
      HostView<double**> photons("perfex::frame::model_photons", nfiber, padded.size());
      const int pad = o.wavepad();
      for (int i = 0; i < nfiber; ++i)
        for (int j = 0; j < nwave; ++j) photons(i, pad + j) = part.flux(i, j) * dwave[j];
      const auto device_photons = Kokkos::create_mirror_view_and_copy(MemSpace(), photons);
      project_spots(exec, spots, device_photons, model);
      exec.fence();
    }
    if (options.progress) {
      FrameProgress p;
      p.bundles_done = b + nfiber / o.bundlesize;
      p.bundles_total = nbundle;
      p.elapsed_s = seconds_since(t0);
      p.working_bytes = working_bytes(image, spots, workspace, model);
      options.progress(p);
    }
  }
  return frame;
}

ExtractedFrame extract_frame(const ExecSpace& exec, const io::PreprocImage& image, const GaussHermitePsf& psf,
                             const std::vector<double>& wavelengths, int specmin, int nspec,
                             const FramePipelineOptions& options) {
  ScopedRegion region("perfex::drivers::extract_frame");
  if (image.npix_y != psf.npix_y || image.npix_x != psf.npix_x)
    throw_data_error(fmt::format("{}: the image is {} x {} pixels (rows x columns), the PSF's CCD is {} x {} "
                                 "(NPIX_Y x NPIX_X)",
                                 image.source, image.npix_y, image.npix_x, psf.npix_y, psf.npix_x));
  const auto t0 = std::chrono::steady_clock::now();
  const ImageInput input = upload_image(exec, image, psf.npix_y, psf.npix_x);
  ExtractedFrame out;
  DeviceView<double**> model;
  if (options.model_image) model = DeviceView<double**>("perfex::frame::model", psf.npix_y, psf.npix_x);
  out.result = extract_bundles(exec, input, psf, wavelengths, specmin, nspec, options, model);
  if (options.model_image) out.model = Kokkos::create_mirror_view_and_copy(HostSpace(), model);
  out.mask = frame_mask(out.result.pixmask_fraction, out.result.chi2pix);
  flag_unsolved(out.result.unsolved, out.mask);
  out.extract_s = seconds_since(t0);
  return out;
}

}  // namespace perfex::drivers
