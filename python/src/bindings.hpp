// The parts of the perfex Python module, one function per source file.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "perfex/core/psf.hpp"

namespace perfex::python {

namespace py = pybind11;

// A PSF as Python sees it: the model and the file it came from (messages name it).
struct PyPsf {
  GaussHermitePsf psf;
  std::string source;
};

void bind_psf(py::module_& m);       // Psf, read_psf, synthetic_psf
void bind_io(py::module_& m);        // read_preproc, read_frame
void bind_extract(py::module_& m);   // extract, linear_wavelengths
void bind_simulate(py::module_& m);  // simulate
void bind_desi(py::module_& m);      // what perfex.desi needs (_run_extract_command, ...)

}  // namespace perfex::python
