// DESI specmask bits of an extracted frame (SOMEBADPIX, ALLBADPIX, BAD2DFIT) from its pixmask_fraction
// and chi2pix: file-free, over the fibers and wavelengths that were extracted; computed where the arrays
// are (on the execution space for the frame pipeline, on the host for tools and tests) by the same code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "perfex/core/types.hpp"

namespace perfex {

namespace specmask {
constexpr std::uint32_t somebadpix = 1u << 0;  // more than half of the bin's PSF weight on masked pixels
constexpr std::uint32_t allbadpix = 1u << 1;   // all of it on masked pixels
constexpr std::uint32_t bad2dfit = 1u << 7;    // chi2pix far above its typical value at this fiber and wavelength
}  // namespace specmask

struct FrameMaskOptions {
  double somebadpix_fraction = 0.5;  // SOMEBADPIX where pixmask_fraction > this
  // ALLBADPIX where pixmask_fraction == 1. The fraction is a sum of spot values in another order than the
  // spot's normalisation, so "1" is taken as >= 1 - allbadpix_tolerance (rounding only).
  double allbadpix_tolerance = 1e-12;
  double bad2dfit_factor = 5.0;  // BAD2DFIT where chi2pix > factor x both medians
};

// The specmask of every bin [nspec][nwave]:
// - SOMEBADPIX (bit 0) where pixmask_fraction > 0.5;
// - ALLBADPIX (bit 1) where pixmask_fraction == 1 (to rounding, see FrameMaskOptions);
// - BAD2DFIT (bit 7) where chi2pix > 5 x its median over the fibers at that wavelength AND > 5 x its median
//   over the wavelengths of that fiber. Medians are numpy's (mean of the two middle values for an even
//   count) over every extracted bin, ivar = 0 bins included, so the bit depends on what was extracted.
// ivar == 0 alone sets no bit. Non-finite chi2pix (never produced by perfex) sets BAD2DFIT.
// On the execution space, for arrays there (the frame pipeline); kernels launched on `exec`.
DeviceView<std::uint32_t**> frame_mask(const ExecSpace& exec, const DeviceView<const double**>& pixmask_fraction,
                                       const DeviceView<const double**>& chi2pix, const FrameMaskOptions& options = {});

namespace detail {
// The host version over row-major arrays of the given shapes (usage error when they differ).
HostView<std::uint32_t**> frame_mask_on_host(const double* pixmask_fraction, std::size_t pixmask_rows,
                                             std::size_t pixmask_columns, const double* chi2pix,
                                             std::size_t chi2pix_rows, std::size_t chi2pix_columns,
                                             const FrameMaskOptions& options);
}  // namespace detail

// The same for host arrays (HostView, ResultView: any contiguous row-major host view), on the host.
template <class PixmaskView, class Chi2View>
HostView<std::uint32_t**> frame_mask(const PixmaskView& pixmask_fraction, const Chi2View& chi2pix,
                                     const FrameMaskOptions& options = {}) {
  static_assert(Kokkos::SpaceAccessibility<HostSpace, typename PixmaskView::memory_space>::accessible &&
                    Kokkos::SpaceAccessibility<HostSpace, typename Chi2View::memory_space>::accessible,
                "frame_mask(pixmask, chi2pix): host arrays; frame_mask(exec, ...) for arrays on the device");
  static_assert(std::is_same<typename PixmaskView::array_layout, Kokkos::LayoutRight>::value &&
                    std::is_same<typename Chi2View::array_layout, Kokkos::LayoutRight>::value,
                "frame_mask: row-major arrays");
  return detail::frame_mask_on_host(pixmask_fraction.data(), pixmask_fraction.extent(0), pixmask_fraction.extent(1),
                                    chi2pix.data(), chi2pix.extent(0), chi2pix.extent(1), options);
}

// BAD2DFIT also on the bins of patches the solver could not solve (FrameResult::unsolved, ivar 0): the 2D
// extraction fit failed there. `unsolved` may be empty (no bin flagged); otherwise a usage error when its
// shape differs from the mask's. On the execution space, for arrays there (the frame pipeline's finish).
void flag_unsolved(const ExecSpace& exec, const DeviceView<const std::uint8_t**>& unsolved,
                   const DeviceView<std::uint32_t**>& mask);

namespace detail {
void flag_unsolved_on_host(const std::uint8_t* unsolved, std::size_t rows, std::size_t columns, std::uint32_t* mask,
                           std::size_t mask_rows, std::size_t mask_columns);
}  // namespace detail

// The same for host arrays (HostView, ResultView: any contiguous row-major host view), on the host.
template <class UnsolvedView, class MaskView>
void flag_unsolved(const UnsolvedView& unsolved, const MaskView& mask) {
  static_assert(Kokkos::SpaceAccessibility<HostSpace, typename UnsolvedView::memory_space>::accessible &&
                    Kokkos::SpaceAccessibility<HostSpace, typename MaskView::memory_space>::accessible,
                "flag_unsolved(unsolved, mask): host arrays; flag_unsolved(exec, ...) for arrays on the device");
  static_assert(std::is_same<typename UnsolvedView::array_layout, Kokkos::LayoutRight>::value &&
                    std::is_same<typename MaskView::array_layout, Kokkos::LayoutRight>::value,
                "flag_unsolved: row-major arrays");
  detail::flag_unsolved_on_host(unsolved.data(), unsolved.extent(0), unsolved.extent(1), mask.data(), mask.extent(0),
                                mask.extent(1));
}

// numpy.median of `n` values read with a stride (a copy is partially sorted); 0 for n == 0.
double median_of(const double* values, int n, int stride = 1);

}  // namespace perfex
