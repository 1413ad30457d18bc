// The frame pipeline: image upload once, spots and extraction per chunk of bundles, assembly of the
// frame, optional model image, specmask.
#include "perfex/drivers/frame_pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/core.h>
#include <string>
#include <type_traits>
#include <utility>

#include "perfex/core/error.hpp"
#include "perfex/core/frame_mask.hpp"
#include "perfex/core/patch_plan.hpp"
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
         bytes_of(ws.icov) + bytes_of(ws.cinv) + bytes_of(ws.vec) + bytes_of(ws.box) + bytes_of(ws.eig) +
         bytes_of(model);
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
  ExtractionOptions o = options.extraction;
  o.validate();
  if (specmin < 0 || nspec < 1)
    throw_usage_error(fmt::format("--specmin must be >= 0 and --nspec >= 1, got {} and {}", specmin, nspec));
  if (specmin + nspec > psf.nfiber)
    throw_data_error(fmt::format("fibers {}..{} requested, the PSF has fibers 0..{}", specmin, specmin + nspec - 1,
                                 psf.nfiber - 1));
  padded_wavelengths(wavelengths, o);  // usage error unless linear, before the padding rule reads the grid
  // The padding that covers the spots (prepare_extraction sets it, so that the header says it; the same rule).
  if (o.wavepad_bins == 0) o.wavepad_bins = wavelength_padding(psf, wavelengths, o);
  const std::vector<double> padded = padded_wavelengths(wavelengths, o);
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

  // Bundles clipped to the requested fibers (partial at either end); a chunk is whole (clipped) bundles.
  const std::vector<std::pair<int, int>> bundles = bundle_ranges(specmin, nspec, o.bundlesize);
  const int nbundle = static_cast<int>(bundles.size());
  const int chunk = std::max(1, options.bundles_per_chunk > 0 ? options.bundles_per_chunk : default_bundles_per_chunk());
  const auto t0 = std::chrono::steady_clock::now();
  // One spot cache and one solver workspace for every chunk: allocated (and their pages first touched) once,
  // not once per chunk.
  SpotCache spots;
  ExtractWorkspace workspace;
  for (int b = 0; b < nbundle; b += chunk) {
    const int nchunk = std::min(chunk, nbundle - b);
    const int fiber0 = bundles[static_cast<std::size_t>(b)].first;
    const int nfiber = bundles[static_cast<std::size_t>(b + nchunk - 1)].first +
                       bundles[static_cast<std::size_t>(b + nchunk - 1)].second - fiber0;
    evaluate_spots(exec, psf, fiber0, nfiber, padded, spots, options.spots);
    const FrameResult part = extract(exec, image, spots, wavelengths, fiber0, nfiber, o, &workspace);
    const int row0 = fiber0 - specmin;
    for (int i = 0; i < nfiber; ++i)
      for (int j = 0; j < nwave; ++j) {
        frame.flux(row0 + i, j) = part.flux(i, j);
        frame.ivar(row0 + i, j) = part.ivar(i, j);
        frame.chi2pix(row0 + i, j) = part.chi2pix(i, j);
        frame.pixmask_fraction(row0 + i, j) = part.pixmask_fraction(i, j);
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
      p.bundles_done = b + nchunk;
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
  out.extract_s = seconds_since(t0);
  return out;
}

}  // namespace perfex::drivers
