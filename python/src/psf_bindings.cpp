// perfex.Psf, perfex.read_psf, perfex.synthetic_psf: the GAUSS-HERMITE PSF and its spots.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "kokkos_session.hpp"
#include "perfex/core/ccd_coverage.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/io/psf_io.hpp"

namespace perfex::python {

namespace {

// A trace quantity for one fiber at one wavelength (a float) or at every wavelength of a 1-D array.
py::object evaluate_series(const PyPsf& p, const LegendreSeries& s, int fiber, const py::handle& wavelengths) {
  if (fiber < 0 || fiber >= p.psf.nfiber)
    throw_usage_error("fiber " + std::to_string(fiber) + " is outside the PSF's 0.." +
                      std::to_string(p.psf.nfiber - 1));
  if (py::isinstance<py::float_>(wavelengths) || py::isinstance<py::int_>(wavelengths))
    return py::float_(s.evaluate(fiber, wavelengths.cast<double>()));
  const auto w = as_input<double, 1>(wavelengths, "wavelengths");
  py::array_t<double> out(static_cast<py::ssize_t>(w.shape[0]));
  for (std::size_t i = 0; i < w.shape[0]; ++i) out.mutable_at(i) = s.evaluate(fiber, w.data()[i]);
  return std::move(out);
}

// `layout=` names of synthetic_psf and Psf.layout.
PsfLayout layout_of(const std::string& name) {
  if (name == "psfver3") return PsfLayout::XtraceYtracePsf;
  if (name == "psfver2") return PsfLayout::OneTable;
  if (name == "gauss-hermite2") return PsfLayout::TwoCores;
  throw_usage_error("layout '" + name + "': expected psfver3, psfver2 or gauss-hermite2");
}
std::string layout_name(PsfLayout layout) {
  switch (layout) {
    case PsfLayout::OneTable:
      return "psfver2";
    case PsfLayout::TwoCores:
      return "gauss-hermite2";
    default:
      return "psfver3";
  }
}

// The wavelength where a fiber's trace crosses CCD row(s) `rows` (a float, or an array of the same shape).
py::object wavelength_at(const PyPsf& p, int fiber, const py::handle& rows) {
  if (fiber < 0 || fiber >= p.psf.nfiber)
    throw_usage_error("fiber " + std::to_string(fiber) + " is outside the PSF's 0.." +
                      std::to_string(p.psf.nfiber - 1));
  if (py::isinstance<py::float_>(rows) || py::isinstance<py::int_>(rows))
    return py::float_(p.psf.wavelength_at_row(fiber, rows.cast<double>()));
  const auto y = as_input<double, 1>(rows, "y");
  py::array_t<double> out(static_cast<py::ssize_t>(y.shape[0]));
  for (std::size_t i = 0; i < y.shape[0]; ++i) out.mutable_at(i) = p.psf.wavelength_at_row(fiber, y.data()[i]);
  return std::move(out);
}

py::dict spots(const PyPsf& p, int specmin, int nspec, const py::handle& wavelengths, bool tails) {
  const auto w = as_input<double, 1>(wavelengths, "wavelengths");
  const std::vector<double> grid = to_vector(w);
  ensure_kokkos();
  SpotCache cache;
  {
    py::gil_scoped_release release;
    SpotOptions options;
    options.tails = tails;
    cache = evaluate_spots(ExecSpace(), p.psf, specmin, nspec, grid, options);
    ExecSpace().fence();
  }
  py::dict d;
  d["specmin"] = cache.fiber_begin;
  d["nspec"] = cache.nfiber;
  d["wavelengths"] = to_numpy(cache.wavelengths);
  d["spots"] = to_numpy(cache.spots);
  d["xcorner"] = to_numpy(cache.xcorner);
  d["ycorner"] = to_numpy(cache.ycorner);
  d["xcenter"] = to_numpy(cache.xcenter);
  d["ycenter"] = to_numpy(cache.ycenter);
  return d;
}

}  // namespace

void bind_psf(py::module_& m) {
  py::class_<PyPsf>(m, "Psf",
                    "A GAUSS-HERMITE PSF (PSFVER 3, DESI's, or PSFVER 2) or a GAUSS-HERMITE2 one, read from a file or "
                    "synthetic.")
      .def_property_readonly(
          "layout", [](const PyPsf& p) { return layout_name(p.psf.layout); },
          "'psfver3' (HDUs XTRACE, YTRACE, PSF), 'psfver2' (one table) or 'gauss-hermite2'")
      .def_property_readonly(
          "source", [](const PyPsf& p) { return p.source; }, "the file it was read from")
      .def_property_readonly("nfiber", [](const PyPsf& p) { return p.psf.nfiber; })
      .def_property_readonly(
          "npix_x", [](const PyPsf& p) { return p.psf.npix_x; }, "CCD columns (NPIX_X)")
      .def_property_readonly(
          "npix_y", [](const PyPsf& p) { return p.psf.npix_y; }, "CCD rows (NPIX_Y)")
      .def_property_readonly(
          "ccd_shape", [](const PyPsf& p) { return py::make_tuple(p.psf.npix_y, p.psf.npix_x); },
          "(NPIX_Y, NPIX_X): the shape of the CCD image")
      .def_property_readonly("hsizex", [](const PyPsf& p) { return p.psf.hsizex; })
      .def_property_readonly("hsizey", [](const PyPsf& p) { return p.psf.hsizey; })
      .def_property_readonly("ghdegx", [](const PyPsf& p) { return p.psf.ghdegx; })
      .def_property_readonly("ghdegy", [](const PyPsf& p) { return p.psf.ghdegy; })
      .def_property_readonly("camera", [](const PyPsf& p) { return p.psf.camera; })
      .def_property_readonly(
          "wavemin", [](const PyPsf& p) { return p.psf.wavemin(); },
          "lower end of the PSF's wavelength range, its PSF table's Legendre domain [Angstrom]")
      .def_property_readonly("wavemax", [](const PyPsf& p) { return p.psf.wavemax(); })
      .def_property_readonly(
          "psferr", [](const PyPsf& p) { return p.psf.default_psferr(); },
          "the psferr extraction uses by default: PSFERR, else 0.01")
      .def_property_readonly(
          "params",
          [](const PyPsf& p) {
            std::vector<std::string> names;
            for (const auto& s : p.psf.params) names.push_back(s.name);
            return names;
          },
          "PARAM names of the PSF table, in file order")
      .def(
          "x",
          [](const PyPsf& p, int fiber, const py::handle& w) { return evaluate_series(p, p.psf.xtrace, fiber, w); },
          py::arg("fiber"), py::arg("wavelengths"), "trace column (pixel centres at integers) at these wavelengths")
      .def(
          "y",
          [](const PyPsf& p, int fiber, const py::handle& w) { return evaluate_series(p, p.psf.ytrace, fiber, w); },
          py::arg("fiber"), py::arg("wavelengths"), "trace row at these wavelengths")
      .def("wavelength", &wavelength_at, py::arg("fiber"), py::arg("y"),
           "wavelength at which the fiber's trace crosses CCD row(s) y: the root of y(wavelength) = y, also "
           "beyond the Legendre domain (NaN where the trace never reaches the row)")
      .def(
          "default_wavelengths",
          [](const PyPsf& p, double dw) { return vector_to_numpy(default_wavelength_grid(p.psf, dw)); },
          py::arg("dw") = 0.8,
          "the multiples of dw inside the range every fiber covers on the CCD (perfex extract's default is "
          "desi_extract_spectra's, the PSF's WAVEMIN..WAVEMAX)")
      .def("spots", &spots, py::arg("specmin"), py::arg("nspec"), py::arg("wavelengths"), py::arg("tails") = false,
           "Evaluates fibers specmin..specmin+nspec-1 at every wavelength. Returns a dict: spots "
           "[nspec, nwave, ny, nx] (unit-sum pixel-integrated stamps, clipped at 0), xcorner/ycorner [nspec, nwave] "
           "(spot[iy, ix] lands on pixel (ycorner + iy, xcorner + ix)), xcenter/ycenter (trace positions), "
           "wavelengths, specmin, nspec. tails=True adds specter's tail model.")
      .def(
          "write",
          [](const PyPsf& p, const std::string& path, bool overwrite) { io::write_psf(p.psf, path, overwrite); },
          py::arg("path"), py::arg("overwrite") = false,
          "Writes the PSF file (float64, atomically); UsageError when it exists and overwrite is False.")
      .def("__repr__", [](const PyPsf& p) {
        return "<perfex.Psf " + (p.source.empty() ? std::string("(memory)") : p.source) + ": " +
               std::to_string(p.psf.nfiber) + " fibers, CCD " + std::to_string(p.psf.npix_y) + " x " +
               std::to_string(p.psf.npix_x) + ", camera '" + p.psf.camera + "'>";
      });

  m.def(
      "read_psf",
      [](const std::string& path) {
        PyPsf p;
        {
          py::gil_scoped_release release;
          p.psf = io::read_psf(path);
        }
        p.source = path;
        return p;
      },
      py::arg("path"),
      "Reads and validates a GAUSS-HERMITE (PSFVER 2 or 3) or GAUSS-HERMITE2 PSF file; DataError naming the "
      "file, HDU and keyword otherwise.");

  m.def(
      "synthetic_psf",
      [](const std::string& camera, std::uint64_t seed, bool tails, const std::string& layout) {
        SyntheticPsfOptions o;
        o.camera = camera;
        o.seed = seed;
        o.tails = tails;
        o.layout = layout_of(layout);
        PyPsf p;
        p.psf = make_synthetic_psf(o);
        p.source = "synthetic PSF (camera " + camera + ", seed " + std::to_string(seed) + ")";
        return p;
      },
      py::arg("camera") = "r0", py::arg("seed") = 0, py::arg("tails") = false, py::arg("layout") = "psfver3",
      "The synthetic DESI-like 500-fiber PSF of `perfex psf synth` (camera b, r or z with an optional digit; "
      "layout psfver3, psfver2 or gauss-hermite2).");
}

}  // namespace perfex::python
