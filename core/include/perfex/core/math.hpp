// Math functions usable in kernels on every backend, for both Kokkos 3.4 (Kokkos::Experimental) and
// Kokkos >= 3.7 (where they moved to namespace Kokkos).
#pragma once

#include <Kokkos_Core.hpp>

namespace perfex::math {
#if KOKKOS_VERSION >= 30700
using Kokkos::exp;
using Kokkos::fabs;
using Kokkos::floor;
using Kokkos::isfinite;
using Kokkos::pow;
using Kokkos::sqrt;
#else
using Kokkos::Experimental::exp;
using Kokkos::Experimental::fabs;
using Kokkos::Experimental::floor;
using Kokkos::Experimental::isfinite;
using Kokkos::Experimental::pow;
using Kokkos::Experimental::sqrt;
#endif
}  // namespace perfex::math
