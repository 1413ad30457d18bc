// The extension module perfex._perfex: exceptions, the Kokkos session, and the bindings of each part.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <Kokkos_Core.hpp>
#include <exception>
#include <optional>

#include "bindings.hpp"
#include "kokkos_session.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/types.hpp"
#include "perfex/core/version.hpp"

namespace py = pybind11;

namespace {

// perfex.Error (base), perfex.UsageError (also a ValueError: bad arguments, exit code 2 in the CLI) and
// perfex.DataError (unreadable or invalid input, exit code 1). Messages are the CLI's.
PyObject* g_error = nullptr;
PyObject* g_usage_error = nullptr;
PyObject* g_data_error = nullptr;

PyObject* new_exception(py::module_& m, const char* name, PyObject* bases, const char* doc, int exit_code) {
  const std::string qualified = std::string("perfex.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  if (!type) throw py::error_already_set();
  if (exit_code > 0) py::setattr(type, "exit_code", py::int_(exit_code));
  m.add_object(name, py::handle(type));
  return type;
}

}  // namespace

PYBIND11_MODULE(PERFEX_PYTHON_MODULE_NAME, m) {
  m.doc() = "perfex: spectroperfectionism extraction (C++17 + Kokkos) for DESI-like spectrographs";
  m.attr("__version__") = PERFEX_VERSION_STRING;

  g_error = new_exception(m, "Error", PyExc_Exception, "Any error perfex reports (the perfex program's messages).", 0);
  {
    py::tuple bases = py::make_tuple(py::handle(g_error), py::handle(PyExc_ValueError));
    g_usage_error = new_exception(m, "UsageError", bases.ptr(),
                                  "Bad or inconsistent arguments (the perfex program's exit code 2).", 2);
  }
  g_data_error = new_exception(m, "DataError", g_error,
                               "Unreadable or invalid input, or a request the data cannot satisfy (exit code 1).", 1);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const perfex::Error& e) {
      PyErr_SetString(e.kind() == perfex::ErrorKind::Usage ? g_usage_error : g_data_error, e.what());
    }
  });

  m.def("initialize", &perfex::python::initialize_kokkos, py::arg("num_threads") = py::none(),
        "Initialise Kokkos with this many host threads (default: OMP_NUM_THREADS or all cores). Optional: "
        "every perfex function initialises Kokkos on first use. UsageError when Kokkos already runs.");
  m.def("is_initialized", &perfex::python::kokkos_running, "Whether Kokkos runs.");
  m.def(
      "kokkos_info",
      [] {
        perfex::python::ensure_kokkos();
        py::dict d;
        d["execution_space"] = perfex::ExecSpace::name();
        d["concurrency"] = perfex::ExecSpace().concurrency();
        d["kokkos_version"] = KOKKOS_VERSION;
        d["perfex_version"] = PERFEX_VERSION_STRING;
        return d;
      },
      "Kokkos' default execution space and its concurrency (initialises Kokkos).");
  m.def("_finalize_at_exit", &perfex::python::finalize_at_exit,
        "Registered with atexit: finalises Kokkos once no array owning Kokkos memory is left.");
  m.def("_live_kokkos_arrays", &perfex::python::live_kokkos_arrays,
        "Number of numpy arrays alive that own Kokkos memory (tests).");

  perfex::python::bind_psf(m);
  perfex::python::bind_io(m);
  perfex::python::bind_extract(m);
  perfex::python::bind_simulate(m);
  perfex::python::bind_desi(m);

  py::module_::import("atexit").attr("register")(m.attr("_finalize_at_exit"));
}
