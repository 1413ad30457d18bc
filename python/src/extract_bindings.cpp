// perfex.extract: spectroperfectionism extraction of numpy arrays through core's frame pipeline, the one
// `perfex extract` runs (upload_image, extract_frame), float64 throughout.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <fmt/core.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "kokkos_session.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/extract_frame.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/frame_request.hpp"

namespace perfex::python {

namespace {

std::string shape_text(const std::vector<std::size_t>& s) { return fmt::format("({}, {})", s[0], s[1]); }

py::dict extract(const py::handle& image_obj, const py::handle& ivar_obj, const PyPsf& p, const py::handle& wave_obj,
                 const py::handle& mask_obj, std::pair<int, int> origin, std::optional<std::pair<int, int>> ccd_shape,
                 int specmin, std::optional<int> nspec_arg, int bundlesize, int nsubbundles, int nwavestep,
                 std::optional<double> psferr, double regularize, double wavepad_frac, double pixpad_frac,
                 bool psf_tails, int bundles_per_chunk, bool model) {
  const GaussHermitePsf& psf = p.psf;
  // Arguments first (usage errors), in the order perfex extract checks its options.
  ExtractionOptions options;
  options.bundlesize = bundlesize;
  options.nsubbundles = nsubbundles;
  options.nwavestep = nwavestep;
  options.regularize = regularize;
  options.wavepad_frac = wavepad_frac;
  options.pixpad_frac = pixpad_frac;
  options.psferr = psferr.value_or(psf.default_psferr());
  options.ndiag = psf.hsizey;
  options.validate();
  check_fiber_options(specmin, nspec_arg, bundlesize);
  if (bundles_per_chunk < 0) throw_usage_error("--bundles-per-chunk must be >= 0");

  const auto image = as_input<double, 2>(image_obj, "image");
  const auto ivar = as_input<double, 2>(ivar_obj, "ivar");
  if (ivar.shape != image.shape)
    throw_usage_error("ivar: shape " + shape_text(ivar.shape) + " differs from the image's " + shape_text(image.shape));
  std::optional<InputArray<std::int32_t, 2>> mask;
  if (!mask_obj.is_none()) {
    mask = as_input<std::int32_t, 2>(mask_obj, "mask");
    if (mask->shape != image.shape)
      throw_usage_error("mask: shape " + shape_text(mask->shape) + " differs from the image's " +
                        shape_text(image.shape));
  }
  const auto wave = as_input<double, 1>(wave_obj, "wavelengths");
  const std::vector<double> grid = to_vector(wave);
  if (grid.size() < 2)
    throw_usage_error("wavelengths: the grid has " + std::to_string(grid.size()) + " bin; extraction needs at least 2");
  padded_wavelengths(grid, options);  // usage error unless increasing and linear

  // Where the image lies on the CCD.
  const int ny = static_cast<int>(image.shape[0]), nx = static_cast<int>(image.shape[1]);
  const bool cutout = ccd_shape.has_value() || origin != std::make_pair(0, 0);
  const int ccd_ny = ccd_shape ? ccd_shape->first : psf.npix_y;
  const int ccd_nx = ccd_shape ? ccd_shape->second : psf.npix_x;
  if (ccd_ny < 1 || ccd_nx < 1) throw_usage_error(fmt::format("ccd_shape ({}, {}) must be positive", ccd_ny, ccd_nx));
  if (!cutout && (ny != psf.npix_y || nx != psf.npix_x))
    throw_data_error(
        fmt::format("image: the image is {} x {} pixels (rows x columns), the PSF's CCD is {} x {} "
                    "(NPIX_Y x NPIX_X); pass origin= (and ccd_shape=) for a cutout",
                    ny, nx, psf.npix_y, psf.npix_x));
  if (origin.first < 0 || origin.second < 0 || origin.first + ny > ccd_ny || origin.second + nx > ccd_nx)
    throw_usage_error(
        fmt::format("image: a cutout of {} x {} pixels at origin ({}, {}) does not fit the CCD of "
                    "{} x {} pixels (rows x columns)",
                    ny, nx, origin.first, origin.second, ccd_ny, ccd_nx));

  // The fibers, with perfex extract's default and messages.
  const int nspec = fibers_to_extract(psf, p.source, specmin, nspec_arg, bundlesize);
  check_grid_inside_psf(grid, psf, p.source);

  ensure_kokkos();
  FrameOptions pipeline;
  pipeline.extraction = options;
  pipeline.spots.tails = psf_tails;
  pipeline.bundles_per_chunk = bundles_per_chunk;
  pipeline.model_image = model;
  ExtractedFrame out;
  {
    py::gil_scoped_release release;
    // The numpy buffers as they are (unmanaged views); core applies the mask while uploading.
    HostImage host;
    host.image = host_view_2d(image);
    host.ivar = host_view_2d(ivar);
    if (mask) host.mask = host_view_2d(*mask);
    host.origin_y = origin.first;
    host.origin_x = origin.second;
    host.ccd_ny = ccd_ny;
    host.ccd_nx = ccd_nx;
    const ExecSpace exec;
    const ImageInput input = upload_image(exec, host);
    out = extract_frame(exec, input, psf, grid, specmin, nspec, pipeline);
  }
  py::dict d;
  d["flux"] = to_numpy(out.result.flux);
  d["ivar"] = to_numpy(out.result.ivar);
  d["resolution"] = to_numpy(out.result.resolution);
  d["chi2pix"] = to_numpy(out.result.chi2pix);
  d["pixmask_fraction"] = to_numpy(out.result.pixmask_fraction);
  d["mask"] = to_numpy(out.mask);  // BAD2DFIT on unsolved bins too (core's finish), as perfex extract writes it
  d["unsolved_bins"] = out.result.unsolved_bins;
  d["wavelengths"] = vector_to_numpy(grid);
  d["specmin"] = specmin;
  d["nspec"] = nspec;
  d["ndiag"] = out.result.ndiag;
  d["psferr"] = options.psferr;
  if (model) d["model"] = to_numpy(out.model);
  return d;
}

}  // namespace

void bind_extract(py::module_& m) {
  m.def("extract", &extract, py::arg("image"), py::arg("ivar"), py::arg("psf"), py::arg("wavelengths"),
        py::arg("mask") = py::none(), py::arg("origin") = std::make_pair(0, 0), py::arg("ccd_shape") = py::none(),
        py::arg("specmin") = 0, py::arg("nspec") = py::none(), py::arg("bundlesize") = 25, py::arg("nsubbundles") = 5,
        py::arg("nwavestep") = 50, py::arg("psferr") = py::none(), py::arg("regularize") = 0.0,
        py::arg("wavepad_frac") = 0.2, py::arg("pixpad_frac") = 0.8, py::arg("psf_tails") = false,
        py::arg("bundles_per_chunk") = 0, py::arg("model") = false,
        R"doc(Spectroperfectionism extraction of fibers specmin..specmin+nspec-1 on the linear grid `wavelengths`.

image, ivar: 2-D arrays (float64 C-contiguous arrays are used in place; others are converted once). ivar is the
inverse variance; pixels with ivar <= 0, a non-finite value, or a value or ivar beyond 1e10 (which would overflow
the arithmetic) count as masked. mask (optional, integer): pixels
with any of DESI's extraction bits (0-7, 9) get weight 0, as perfex extract applies a preproc MASK.
origin=(row, column) of image[0, 0] on the CCD and ccd_shape=(NPIX_Y, NPIX_X) (default: the PSF's) extract a
cutout; without them the image must be the whole CCD. The other options are perfex extract's (desispec's
names and defaults); nspec=None means 500, or the PSF's fibers from specmin. psferr=None: the PSF's PSFERR,
else 0.01. The frame goes through the same code as `perfex extract` (bitwise the same float64 results).

Returns a dict of numpy arrays: flux [nspec, nwave] (electrons per Angstrom), ivar, resolution
[nspec, 2 ndiag + 1, nwave] (DESI layout), chi2pix, pixmask_fraction, mask (uint32 specmask bits), and
wavelengths, specmin, nspec, ndiag, psferr, unsolved_bins (bins of patches whose normal matrix could not be
solved: flux, ivar and resolution 0, BAD2DFIT in mask, as perfex extract's summary line counts them), and with model=True the model image [NPIX_Y, NPIX_X] of the
CCD (every spot times the extracted, resolution-convolved flux of its bin: gpu_specter's modelimage). UsageError (a ValueError) for bad arguments, TypeError for a
non-numeric array, DataError when the data cannot satisfy the request (same messages as perfex extract).)doc");

  m.def(
      "linear_wavelengths",
      [](double wmin, double wmax, double dw) { return vector_to_numpy(linear_wavelengths(wmin, wmax, dw)); },
      py::arg("wmin"), py::arg("wmax"), py::arg("dw"),
      "The grid perfex extract -w wmin,wmax,dw uses: numpy.arange(wmin, wmax + dw/2, dw), bit for bit.");
}

}  // namespace perfex::python
