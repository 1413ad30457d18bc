// The specmask bits of an extracted frame from pixmask_fraction and chi2pix, written once for every
// execution space: the two sets of medians (one selection per wavelength and per fiber), then the bits.
#include "perfex/core/frame_mask.hpp"

#include <string>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/math.hpp"
#include "perfex/core/profiling.hpp"

namespace perfex {

namespace {

// NaN sorts last, as in numpy (whose median is NaN if any value is NaN; perfex never produces one).
KOKKOS_INLINE_FUNCTION bool median_less(double a, double b) { return a < b || (a == a && b != b); }

KOKKOS_INLINE_FUNCTION void swap_values(double* v, int i, int j) {
  const double t = v[i];
  v[i] = v[j];
  v[j] = t;
}

// numpy.median of v[0, n), reordering v: Wirth's selection of the upper middle value (v[0, k) then hold
// values not above it), and for an even count the mean with the largest of v[0, k). The medians are values
// of the set, so any exact selection gives the same bits.
KOKKOS_INLINE_FUNCTION double median_in_place(double* v, int n) {
  if (n <= 0) return 0.0;
  const int k = n / 2;
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    const double pivot = v[k];
    int i = lo, j = hi;
    do {
      while (median_less(v[i], pivot)) ++i;
      while (median_less(pivot, v[j])) --j;
      if (i <= j) {
        swap_values(v, i, j);
        ++i;
        --j;
      }
    } while (i <= j);
    if (j < k) lo = i;
    if (k < i) hi = j;
  }
  const double upper = v[k];
  if (n % 2 == 1) return upper;
  double lower = v[0];
  for (int i = 1; i < k; ++i)
    if (median_less(lower, v[i])) lower = v[i];
  return 0.5 * (lower + upper);
}

void check_shapes(std::size_t pix_rows, std::size_t pix_columns, std::size_t chi_rows, std::size_t chi_columns) {
  if (chi_rows != pix_rows || chi_columns != pix_columns)
    throw_usage_error("frame_mask: chi2pix is " + std::to_string(chi_rows) + " x " + std::to_string(chi_columns) +
                      ", pixmask_fraction " + std::to_string(pix_rows) + " x " + std::to_string(pix_columns));
}

// The mask of `pixmask` and `chi2` (views the execution space `exec` can read) into `mask`.
template <class Exec, class In, class Out>
void compute_mask(const Exec& exec, const In& pixmask, const In& chi2, const Out& mask, const FrameMaskOptions& o) {
  using Memory = typename Out::memory_space;
  const int nspec = static_cast<int>(pixmask.extent(0));
  const int nwave = static_cast<int>(pixmask.extent(1));
  if (nspec == 0 || nwave == 0) return;
  const auto no_init = [](const char* label) {
    return Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label));
  };
  // Medians over fibers (one per wavelength) and over wavelengths (one per fiber), each selected in its own
  // row of `work`.
  Kokkos::View<double*, Memory> work(no_init("perfex::frame_mask::work"), static_cast<std::size_t>(nspec) * nwave);
  Kokkos::View<double*, Memory> by_wave(no_init("perfex::frame_mask::median_by_wavelength"), nwave);
  Kokkos::View<double*, Memory> by_fiber(no_init("perfex::frame_mask::median_by_fiber"), nspec);
  Kokkos::parallel_for(
      "perfex::frame_mask::median_over_fibers", Kokkos::RangePolicy<Exec>(exec, 0, nwave), KOKKOS_LAMBDA(const int j) {
        double* v = &work(static_cast<std::size_t>(j) * nspec);
        for (int i = 0; i < nspec; ++i) v[i] = chi2(i, j);
        by_wave(j) = median_in_place(v, nspec);
      });
  Kokkos::parallel_for(
      "perfex::frame_mask::median_over_wavelengths", Kokkos::RangePolicy<Exec>(exec, 0, nspec),
      KOKKOS_LAMBDA(const int i) {
        double* v = &work(static_cast<std::size_t>(i) * nwave);
        for (int j = 0; j < nwave; ++j) v[j] = chi2(i, j);
        by_fiber(i) = median_in_place(v, nwave);
      });
  const double somebad = o.somebadpix_fraction;
  const double all_bad = 1.0 - o.allbadpix_tolerance;
  const double k = o.bad2dfit_factor;
  Kokkos::parallel_for(
      "perfex::frame_mask::bits", Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>(exec, {0, 0}, {nspec, nwave}),
      KOKKOS_LAMBDA(const int i, const int j) {
        std::uint32_t bits = 0;
        const double f = pixmask(i, j);
        if (f > somebad) bits |= specmask::somebadpix;
        if (f >= all_bad) bits |= specmask::allbadpix;
        const double x = chi2(i, j);
        if (!math::isfinite(x) || (x > k * by_wave(j) && x > k * by_fiber(i))) bits |= specmask::bad2dfit;
        mask(i, j) = bits;
      });
}

void check_unsolved_shape(std::size_t rows, std::size_t columns, std::size_t mask_rows, std::size_t mask_columns) {
  if (rows != mask_rows || columns != mask_columns)
    throw_usage_error("flag_unsolved: unsolved is " + std::to_string(rows) + " x " + std::to_string(columns) +
                      ", the mask " + std::to_string(mask_rows) + " x " + std::to_string(mask_columns));
}

// mask |= BAD2DFIT where unsolved (views the execution space `exec` can read and write).
template <class Exec, class In, class Out>
void add_unsolved(const Exec& exec, const In& unsolved, const Out& mask) {
  const int nspec = static_cast<int>(mask.extent(0)), nwave = static_cast<int>(mask.extent(1));
  if (nspec == 0 || nwave == 0) return;
  Kokkos::parallel_for(
      "perfex::frame_mask::unsolved", Kokkos::MDRangePolicy<Exec, Kokkos::Rank<2>>(exec, {0, 0}, {nspec, nwave}),
      KOKKOS_LAMBDA(const int i, const int j) {
        if (unsolved(i, j)) mask(i, j) |= specmask::bad2dfit;
      });
}

}  // namespace

double median_of(const double* values, int n, int stride) {
  if (n <= 0) return 0.0;
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = values[static_cast<std::size_t>(i) * stride];
  return median_in_place(v.data(), n);
}

DeviceView<std::uint32_t**> frame_mask(const ExecSpace& exec, const DeviceView<const double**>& pixmask_fraction,
                                       const DeviceView<const double**>& chi2pix, const FrameMaskOptions& options) {
  ScopedRegion region("perfex::frame_mask");
  check_shapes(pixmask_fraction.extent(0), pixmask_fraction.extent(1), chi2pix.extent(0), chi2pix.extent(1));
  DeviceView<std::uint32_t**> mask(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::frame::mask"),
                                   pixmask_fraction.extent(0), pixmask_fraction.extent(1));
  compute_mask(exec, pixmask_fraction, chi2pix, mask, options);
  return mask;
}

HostView<std::uint32_t**> detail::frame_mask_on_host(const double* pixmask_fraction, std::size_t pixmask_rows,
                                                     std::size_t pixmask_columns, const double* chi2pix,
                                                     std::size_t chi2pix_rows, std::size_t chi2pix_columns,
                                                     const FrameMaskOptions& options) {
  ScopedRegion region("perfex::frame_mask");
  check_shapes(pixmask_rows, pixmask_columns, chi2pix_rows, chi2pix_columns);
  using In = Kokkos::View<const double**, Kokkos::LayoutRight, HostSpace, Kokkos::MemoryUnmanaged>;
  HostView<std::uint32_t**> mask(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::frame::mask"), pixmask_rows,
                                 pixmask_columns);
  const HostExecSpace host;
  compute_mask(host, In(pixmask_fraction, pixmask_rows, pixmask_columns), In(chi2pix, chi2pix_rows, chi2pix_columns),
               mask, options);
  host.fence();
  return mask;
}

void flag_unsolved(const ExecSpace& exec, const DeviceView<const std::uint8_t**>& unsolved,
                   const DeviceView<std::uint32_t**>& mask) {
  if (unsolved.extent(0) == 0) return;
  check_unsolved_shape(unsolved.extent(0), unsolved.extent(1), mask.extent(0), mask.extent(1));
  add_unsolved(exec, unsolved, mask);
}

void detail::flag_unsolved_on_host(const std::uint8_t* unsolved, std::size_t rows, std::size_t columns,
                                   std::uint32_t* mask, std::size_t mask_rows, std::size_t mask_columns) {
  if (rows == 0) return;
  check_unsolved_shape(rows, columns, mask_rows, mask_columns);
  using In = Kokkos::View<const std::uint8_t**, Kokkos::LayoutRight, HostSpace, Kokkos::MemoryUnmanaged>;
  using Out = Kokkos::View<std::uint32_t**, Kokkos::LayoutRight, HostSpace, Kokkos::MemoryUnmanaged>;
  const HostExecSpace host;
  add_unsolved(host, In(unsolved, rows, columns), Out(mask, mask_rows, mask_columns));
  host.fence();
}

}  // namespace perfex
