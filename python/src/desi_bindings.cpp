// What perfex.desi (python/perfex/desi/) needs from the C++ side: perfex extract's command line run in this
// process (perfex.desi.main), the barycentric correction, the camera check and the PSF keywords gpu_specter's
// PSF dictionary exposes. The DESI layer itself is Python, on top of the module's public functions.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings.hpp"
#include "kokkos_session.hpp"
#include "perfex/drivers/barycentric.hpp"
#include "perfex/drivers/camera_check.hpp"
#include "perfex/drivers/desi_options.hpp"
#include "perfex/drivers/extract_command.hpp"
#include "perfex/drivers/extract_command_line.hpp"

namespace perfex::python {

namespace {

// gpu_specter.io.read_psf(path)['PSF'].meta and the trace HDUs' domains, from perfex's reading of the file.
py::dict psf_keywords(const PyPsf& p) {
  const GaussHermitePsf& psf = p.psf;
  const drivers::WavelengthOption table = drivers::desi_default_wavelengths(psf, p.source, false);
  py::dict meta;
  meta["PSFTYPE"] = "GAUSS-HERMITE";
  meta["WAVEMIN"] = table.wmin;
  meta["WAVEMAX"] = table.wmax;
  meta["NPIX_X"] = psf.npix_x;
  meta["NPIX_Y"] = psf.npix_y;
  meta["HSIZEX"] = psf.hsizex;
  meta["HSIZEY"] = psf.hsizey;
  meta["GHDEGX"] = psf.ghdegx;
  meta["GHDEGY"] = psf.ghdegy;
  meta["FIBERMIN"] = psf.fibermin;
  if (psf.psferr_keyword) meta["PSFERR"] = *psf.psferr_keyword;
  if (psf.psferror_specex) meta["PSFERROR"] = *psf.psferror_specex;
  if (!psf.camera.empty()) meta["CAMERA"] = psf.camera;
  py::dict traces;
  traces["XTRACE"] = py::make_tuple(psf.xtrace.wavemin, psf.xtrace.wavemax);
  traces["YTRACE"] = py::make_tuple(psf.ytrace.wavemin, psf.ytrace.wavemax);
  py::dict d;
  d["PSF"] = meta;
  d["traces"] = traces;
  return d;
}

}  // namespace

void bind_desi(py::module_& m) {
  m.def(
      "_run_extract_command",
      [](const std::vector<std::string>& args) {
        ensure_kokkos();
        py::gil_scoped_release release;
        return drivers::run_extract_command_line(args);
      },
      py::arg("args"),
      "Runs `perfex extract ARGS...` in this process (the program's parser, checks, messages and writer); "
      "returns 0 or raises UsageError / DataError.");
  m.def(
      "_barycentric_correction_factor",
      [](double ra, double dec, double mjd) { return drivers::barycentric_correction_factor(ra, dec, mjd); },
      py::arg("ra"), py::arg("dec"), py::arg("mjd"));
  m.def(
      "_barycentric_velocity_kms",
      [](double ra, double dec, double mjd) { return drivers::barycentric_velocity_kms(ra, dec, mjd); }, py::arg("ra"),
      py::arg("dec"), py::arg("mjd"));
  m.def("_check_same_camera", &drivers::check_same_camera, py::arg("image_camera"), py::arg("image_name"),
        py::arg("psf_camera"), py::arg("psf_name"), py::arg("override_option"));
  m.def("_psf_keywords", &psf_keywords, py::arg("psf"));
  m.def(
      "_desi_default_wavelengths",
      [](const PyPsf& p, bool use_specter) {
        const auto w = drivers::desi_default_wavelengths(p.psf, p.source, use_specter);
        return py::make_tuple(w.wmin, w.wmax, w.dw);
      },
      py::arg("psf"), py::arg("use_specter") = false);
}

}  // namespace perfex::python
