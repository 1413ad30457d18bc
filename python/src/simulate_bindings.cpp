// perfex.simulate: spectra projected through a PSF onto the CCD with noise and defects, as `perfex simulate`
// does (built-in spectra by default), returned as numpy arrays instead of files.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <fmt/core.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "kokkos_session.hpp"
#include "perfex/core/builtin_spectra.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/simulate.hpp"
#include "perfex/core/synthetic_psf.hpp"

namespace perfex::python {

namespace {

py::dict simulate(const PyPsf& p, const py::handle& wave_obj, const py::handle& photons_obj, int specmin,
                  std::optional<int> nspec_arg, std::uint64_t seed, bool noise, int cosmics, bool defects, bool tails,
                  std::optional<std::array<double, 4>> readnoise) {
  const GaussHermitePsf& psf = p.psf;
  if (specmin < 0) throw_usage_error("-s/--specmin must be >= 0, got " + std::to_string(specmin));
  if (nspec_arg && *nspec_arg < 1) throw_usage_error("-n/--nspec must be >= 1, got " + std::to_string(*nspec_arg));
  if (cosmics < 0) throw_usage_error("--cosmics must be >= 0, got " + std::to_string(cosmics));

  std::vector<double> grid;
  if (!wave_obj.is_none()) {
    grid = to_vector(as_input<double, 1>(wave_obj, "wavelengths"));
  } else {
    if (!photons_obj.is_none()) throw_usage_error("photons: give the wavelengths of its columns too");
    CameraGrid g;
    try {
      g = desi_camera_grid(psf.camera);
    } catch (const perfex::Error&) {
      throw_data_error(fmt::format("{}: the PSF's CAMERA '{}' is not b, r or z (0-9); pass wavelengths", p.source,
                                   psf.camera));
    }
    for (int i = 0; i < g.size(); ++i) grid.push_back(g.at(i));
  }

  ensure_kokkos();
  py::dict d;
  HostView<const double**> photons;
  std::optional<InputArray<double, 2>> photons_in;
  int nspec = 0;
  if (!photons_obj.is_none()) {
    photons_in = as_input<double, 2>(photons_obj, "photons");
    nspec = static_cast<int>(photons_in->shape[0]);
    if (nspec_arg && *nspec_arg != nspec)
      throw_usage_error(fmt::format("nspec {} differs from the {} rows of photons", *nspec_arg, nspec));
    if (specmin + nspec > psf.nfiber)
      throw_data_error(fmt::format("photons: {} spectra from fiber {} do not fit the PSF's {} fibers", nspec, specmin,
                                   psf.nfiber));
    photons = host_view_2d(*photons_in);  // the caller's buffer, read in place
    d["photons"] = photons_obj;
  } else {
    nspec = nspec_arg.value_or(psf.nfiber - specmin);
    if (specmin >= psf.nfiber || specmin + nspec > psf.nfiber)
      throw_data_error(fmt::format("-s/--specmin {} -n/--nspec {}: the PSF has fibers 0..{}", specmin, nspec,
                                   psf.nfiber - 1));
    BuiltinSpectraOptions options;
    options.seed = seed;
    BuiltinSpectra builtin;
    {
      py::gil_scoped_release release;
      builtin = make_builtin_spectra(grid, specmin, nspec, options);
    }
    photons = builtin.photons;
    d["photons"] = to_numpy(builtin.photons);
    d["objtype"] = builtin.objtype;
    d["spectype"] = builtin.spectype;
    d["redshift"] = vector_to_numpy(builtin.redshift);
    d["targetid"] = vector_to_numpy(builtin.targetid);
  }

  SimulationOptions sim;
  sim.seed = seed;
  sim.fiber_begin = specmin;
  sim.noise = noise;
  sim.ncosmics = cosmics;
  sim.defects = defects;
  sim.spots.tails = tails;
  if (readnoise) sim.readnoise = *readnoise;
  SimulatedFrame frame;
  {
    py::gil_scoped_release release;
    const ExecSpace exec;
    frame = simulate_frame(exec, psf, grid, photons, sim);
    exec.fence();
  }
  d["image"] = to_numpy(frame.image);
  d["ivar"] = to_numpy(frame.ivar);
  d["mask"] = to_numpy(frame.mask);
  d["model"] = to_numpy(frame.model);
  d["wavelengths"] = vector_to_numpy(grid);
  d["specmin"] = specmin;
  d["nspec"] = nspec;
  d["readnoise"] = frame.readnoise;
  d["photons_in"] = frame.photons_in;
  d["photons_off_ccd"] = frame.photons_off_ccd;
  py::list defects_list;
  for (const SimulatedDefect& x : frame.defects) {
    py::dict e;
    e["kind"] = defect_kind_name(x.kind);
    e["mask_bit"] = x.mask_bit;
    e["ymin"] = x.ymin;
    e["ymax"] = x.ymax;
    e["xmin"] = x.xmin;
    e["xmax"] = x.xmax;
    e["npix"] = x.npix;
    e["electrons"] = x.electrons;
    defects_list.append(e);
  }
  d["defects"] = defects_list;
  return d;
}

}  // namespace

void bind_simulate(py::module_& m) {
  m.def("simulate", &simulate, py::arg("psf"), py::arg("wavelengths") = py::none(), py::arg("photons") = py::none(),
        py::kw_only(), py::arg("specmin") = 0, py::arg("nspec") = py::none(), py::arg("seed") = 0,
        py::arg("noise") = true, py::arg("cosmics") = 0, py::arg("defects") = false, py::arg("tails") = false,
        py::arg("readnoise") = py::none(),
        R"doc(Simulates a preprocessed CCD frame of the PSF's shape, as `perfex simulate` does.

photons [nspec, nwave] (electrons per wavelength bin, fibers specmin.., on `wavelengths`), or by default
perfex's built-in spectra (sky, emission- and absorption-line objects, 2 sky fibers per bundle) for fibers
specmin..specmin+nspec-1 (default: all from specmin) on `wavelengths` (default: the camera's DESI grid).
Poisson and read noise (readnoise: 4 amplifiers, default 3.0, 2.9, 3.2, 3.1 e-) unless noise=False; cosmics=N
cosmic rays and defects=True (hot column, dead column, bad cluster) set mask bits and ivar 0. Reproducible from
seed for any thread count.

Returns a dict: image, ivar, mask (int32), model (noiseless), wavelengths, photons (the input spectra: the
truth), specmin, nspec, readnoise, photons_in, photons_off_ccd, defects (list of dicts), and for built-in
spectra objtype, spectype, redshift, targetid.)doc");
}

}  // namespace perfex::python
