// Must NOT compile in a CUDA build with PERFEX_CUDA_STRICT: a kernel (a KOKKOS_INLINE_FUNCTION functor run
// on the device) calls a host-only function, which nvcc by itself only warns about. With
// -DPERFEX_COMPILE_FAIL_CONTROL the same program calls a device-safe function instead and must compile,
// so the failing build fails for this reason and not another.
#include <Kokkos_Core.hpp>

#include "perfex/core/math.hpp"

namespace {

double host_only_scale(double x) { return 2.0 * x; }  // no KOKKOS_INLINE_FUNCTION: host code only

struct Scale {
  Kokkos::View<double*> v;
  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
#if defined(PERFEX_COMPILE_FAIL_CONTROL)
    v(i) = perfex::math::sqrt(v(i));
#else
    v(i) = host_only_scale(v(i));
#endif
  }
};

}  // namespace

int main(int argc, char* argv[]) {
  Kokkos::ScopeGuard guard(argc, argv);
  Kokkos::View<double*> v("v", 8);
  Kokkos::parallel_for("host_call_in_kernel", v.extent(0), Scale{v});
  Kokkos::fence();
  return 0;
}
