// perfex.read_preproc and perfex.read_frame: DESI preproc and frame files into numpy arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "arrays.hpp"
#include "bindings.hpp"
#include "kokkos_session.hpp"
#include "perfex/io/frame_format.hpp"
#include "perfex/io/frame_hdf5.hpp"
#include "perfex/io/frame_io.hpp"
#include "perfex/io/preproc_io.hpp"

namespace perfex::python {

namespace {

template <class T>
py::object optional_value(const std::optional<T>& v) {
  return v ? py::cast(*v) : py::none();
}

py::dict read_preproc(const std::string& path) {
  ensure_kokkos();
  io::PreprocImage p;
  {
    py::gil_scoped_release release;
    p = io::read_preproc(path);
  }
  py::dict d;
  d["image"] = to_numpy(p.image);
  d["ivar"] = to_numpy(p.ivar);
  d["mask"] = to_numpy(p.mask);
  d["has_mask"] = p.has_mask;
  d["n_invalid"] = p.n_invalid;
  d["source"] = p.source;
  py::dict h;
  h["CAMERA"] = p.header.camera;
  h["EXPID"] = optional_value(p.header.expid);
  h["NIGHT"] = optional_value(p.header.night);
  h["MJD-OBS"] = optional_value(p.header.mjd_obs);
  h["EXPTIME"] = optional_value(p.header.exptime);
  h["FLAVOR"] = p.header.flavor;
  h["RA"] = optional_value(p.header.ra);
  h["DEC"] = optional_value(p.header.dec);
  d["header"] = h;
  if (p.fibermap) {
    py::dict f;
    f["FIBER"] = vector_to_numpy(p.fibermap->fiber);
    f["TARGETID"] = vector_to_numpy(p.fibermap->targetid);
    f["OBJTYPE"] = p.fibermap->objtype;
    f["FIBERSTATUS"] = vector_to_numpy(p.fibermap->fiberstatus);
    d["fibermap"] = f;
  } else {
    d["fibermap"] = py::none();
  }
  return d;
}

py::dict read_frame(const std::string& path, bool float64, const std::string& group) {
  ensure_kokkos();
  io::Frame f;
  {
    py::gil_scoped_release release;
    // FITS or HDF5 by content, as perfex compare reads them; a group of an HDF5 exposure file when named.
    f = group.empty() ? io::read_frame_file(path, float64) : io::read_frame_hdf5(path, group, float64);
  }
  py::dict d;
  d["flux"] = to_numpy(f.data.flux);
  d["ivar"] = to_numpy(f.data.ivar);
  d["resolution"] = to_numpy(f.data.resolution);
  d["chi2pix"] = to_numpy(f.data.chi2pix);
  d["pixmask_fraction"] = f.has_pixmask_fraction ? py::object(to_numpy(f.data.pixmask_fraction)) : py::none();
  d["mask"] = to_numpy(f.mask);
  d["wavelengths"] = vector_to_numpy(f.data.wavelengths);
  d["specmin"] = f.data.specmin;
  d["nspec"] = f.data.nspec;
  d["ndiag"] = f.data.ndiag;
  d["float64"] = f.exact;
  d["heliocor"] = f.header.heliocor;
  d["camera"] = f.header.camera;
  return d;
}

}  // namespace

void bind_io(py::module_& m) {
  m.def("read_preproc", &read_preproc, py::arg("path"),
        "Reads a DESI preproc file (.fits or .fits.gz) as perfex extract does. Returns a dict: image, ivar "
        "(float64 [NPIX_Y, NPIX_X]; ivar already 0 where MASK has an extraction bit or a value is not finite, "
        "image 0 there too), mask (int32), has_mask, n_invalid, header (CAMERA, EXPID, NIGHT, MJD-OBS, EXPTIME, "
        "FLAVOR, RA, DEC), fibermap (FIBER, TARGETID, OBJTYPE, FIBERSTATUS, or None), source. DataError "
        "naming the file and HDU when it is missing or malformed.");
  m.def("read_frame", &read_frame, py::arg("path"), py::arg("float64") = true, py::arg("group") = "",
        "Reads a DESI frame file (perfex extract's output), FITS (.fits, .fits.gz) or HDF5 (told apart by "
        "content, as perfex compare does; group= names a frame of an HDF5 exposure file, e.g. 'r0'): the float64 "
        "arrays when present and float64 is True (then the dict's 'float64' is True), else the float32 ones. "
        "Returns flux, ivar, resolution, chi2pix, pixmask_fraction (None without it), mask, wavelengths, "
        "specmin, nspec, ndiag, heliocor, camera.");
}

}  // namespace perfex::python
