// numpy <-> Kokkos host views without needless copies.
// - Out: a Kokkos view becomes a numpy array that shares its memory (a host view as it is, a device view
//   after one copy to the host; the frame pipeline's results, host memory already, as they are); the array
//   keeps the view alive through a capsule, and the Kokkos session counts such arrays so that Kokkos is
//   finalised only after the last one is gone.
// - In: a C-contiguous float64 (int32...) numpy array is wrapped as an unmanaged Kokkos host view of its
//   buffer; anything else (another dtype, strides, a list) is converted once. The returned holder keeps the
//   buffer alive while the view is used.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "kokkos_session.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/types.hpp"

namespace perfex::python {

namespace py = pybind11;

template <class HostViewType>
void delete_view_holder(void* p) {
  delete static_cast<HostViewType*>(p);
  release_kokkos_array();
}

// `view` itself when the host can read it (HostSpace, or the pipeline's page-locked results), else a host
// copy of it.
template <class ViewType>
auto host_readable(const ViewType& view) {
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename ViewType::memory_space>::accessible)
    return view;
  else
    return Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), view);
}

// A numpy array sharing the memory of `view` (copied to the host first when it lives on a device).
template <class ViewType>
py::array to_numpy(const ViewType& view) {
  auto host = host_readable(view);
  using HostViewType = decltype(host);
  using T = typename HostViewType::non_const_value_type;
  constexpr int rank = static_cast<int>(HostViewType::rank);
  std::vector<py::ssize_t> shape(rank), strides(rank);
  for (int r = 0; r < rank; ++r) {
    shape[r] = static_cast<py::ssize_t>(host.extent(r));
    strides[r] = static_cast<py::ssize_t>(host.stride(r) * sizeof(T));
  }
  auto* holder = new HostViewType(host);
  retain_kokkos_array();
  py::capsule owner(holder, &delete_view_holder<HostViewType>);
  return py::array_t<T>(shape, strides, const_cast<T*>(holder->data()), owner);
}

// A numpy array owning a copy of a std::vector (small host data: grids, per-fiber values).
template <class T>
py::array_t<T> vector_to_numpy(const std::vector<T>& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

// A numpy input: `array` is the array actually read (the caller's own when it was C-contiguous with the
// right dtype, else a converted copy); `view` an unmanaged host view of it.
template <class T, int Rank>
struct InputArray {
  py::array_t<T, py::array::c_style | py::array::forcecast> array;
  std::vector<std::size_t> shape;
  const T* data() const { return array.data(); }
};

// Converts `obj` to a C-contiguous array of T with `rank` dimensions: TypeError for a dtype that is not a
// real number (float or integer; bool too for integer T), perfex usage error (ValueError) for the rank.
template <class T, int Rank>
InputArray<T, Rank> as_input(const py::handle& obj, const std::string& name) {
  if (obj.is_none()) throw py::type_error(name + ": expected an array, got None");
  py::array probe = py::array::ensure(obj);
  if (!probe)
    throw py::type_error(name + ": expected an array of numbers, got " + std::string(py::str(obj.get_type())));
  const char kind = probe.dtype().kind();
  const bool ok = std::is_floating_point_v<T> ? (kind == 'f' || kind == 'i' || kind == 'u')
                                              : (kind == 'i' || kind == 'u' || kind == 'b');
  if (!ok)
    throw py::type_error(name + ": expected " +
                         (std::is_floating_point_v<T> ? "a real (float or integer)" : "an integer") +
                         " array, got dtype " + std::string(py::str(probe.dtype())));
  if (probe.ndim() != Rank)
    throw_usage_error(name + ": expected a " + std::to_string(Rank) + "-D array, got " + std::to_string(probe.ndim()) +
                      "-D of shape " +
                      std::string(py::str(
                          py::tuple(py::cast(std::vector<py::ssize_t>(probe.shape(), probe.shape() + probe.ndim()))))));
  InputArray<T, Rank> in;
  in.array = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(probe);
  if (!in.array) throw py::type_error(name + ": cannot convert to " + std::string(py::str(py::dtype::of<T>())));
  for (int r = 0; r < Rank; ++r) in.shape.push_back(static_cast<std::size_t>(in.array.shape(r)));
  return in;
}

// Unmanaged Kokkos host views of an input's buffer.
template <class T>
HostView<const T**> host_view_2d(const InputArray<T, 2>& in) {
  return HostView<const T**>(in.data(), in.shape[0], in.shape[1]);
}

template <class T>
std::vector<T> to_vector(const InputArray<T, 1>& in) {
  return std::vector<T>(in.data(), in.data() + in.shape[0]);
}

}  // namespace perfex::python
