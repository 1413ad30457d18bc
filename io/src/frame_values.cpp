// Frames without inf or NaN in any HDU: bins whose values cannot be written are masked (frame_values.hpp).
#include "frame_values.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <vector>

#include "perfex/core/frame_mask.hpp"
#include "perfex/io/frame_scores_table.hpp"
#include "perfex/io/helper_threads.hpp"

namespace perfex::io::detail {

namespace {

bool writable(double x) { return std::isfinite(x) && std::fabs(x) <= FLT_MAX; }

// A copy of a contiguous host view, made without Kokkos kernels (no initialisation, no parallel deep_copy):
// extract-exposure writes frames in an I/O thread, and Kokkos' host backends launch on their master thread.
template <class View>
View deep_copy_of(const View& v) {
  View copy(Kokkos::view_alloc(Kokkos::WithoutInitializing, v.label()), v.layout());
  std::copy_n(v.data(), v.span(), copy.data());
  return copy;
}

}  // namespace

std::optional<Frame> writable_frame(const Frame& frame) {
  const FrameResult& d = frame.data;
  const int ns = d.nspec, nw = d.nwave, nd = 2 * d.ndiag + 1;
  const bool with_fraction = d.pixmask_fraction.extent(0) == static_cast<std::size_t>(ns) &&
                             d.pixmask_fraction.extent(1) == static_cast<std::size_t>(nw);
  // The scan in parts of consecutive spectra on helper threads; each part's flags (for its rows) are kept only
  // where it found a bin it cannot write.
  std::vector<std::vector<char>> part_bad(4);
  int nparts = 1;
  run_in_parts(static_cast<long long>(ns) * nw * (nd + 4), 1 << 20, 4, [&](int part, int parts) {
    const auto [first, last] = part_range(ns, part, parts);
    std::vector<char>& bad = part_bad[static_cast<std::size_t>(part)];
    if (part == 0) nparts = parts;
    for (int i = static_cast<int>(first); i < static_cast<int>(last); ++i)
      for (int j = 0; j < nw; ++j) {
        bool ok = writable(d.flux(i, j)) && writable(d.ivar(i, j)) && writable(d.chi2pix(i, j)) &&
                  (!with_fraction || writable(d.pixmask_fraction(i, j)));
        for (int k = 0; k < nd && ok; ++k) ok = writable(d.resolution(i, k, j));
        if (ok) continue;
        if (bad.empty()) bad.assign(static_cast<std::size_t>(last - first) * nw, 0);
        bad[static_cast<std::size_t>(i - first) * nw + j] = 1;
      }
  });
  std::vector<char> bad;
  for (int part = 0; part < nparts; ++part) {
    const std::vector<char>& flags = part_bad[static_cast<std::size_t>(part)];
    if (flags.empty()) continue;
    if (bad.empty()) bad.assign(static_cast<std::size_t>(ns) * nw, 0);
    const long long first = part_range(ns, part, nparts).first;
    std::copy(flags.begin(), flags.end(), bad.begin() + static_cast<std::ptrdiff_t>(first * nw));
  }
  if (bad.empty()) return std::nullopt;

  Frame out = frame;  // views are shared: the arrays to change are copied
  FrameResult& c = out.data;
  c.flux = deep_copy_of(d.flux);
  c.ivar = deep_copy_of(d.ivar);
  c.chi2pix = deep_copy_of(d.chi2pix);
  c.resolution = deep_copy_of(d.resolution);
  if (with_fraction) c.pixmask_fraction = deep_copy_of(d.pixmask_fraction);
  out.mask = deep_copy_of(frame.mask);
  for (int i = 0; i < ns; ++i)
    for (int j = 0; j < nw; ++j) {
      if (!bad[static_cast<std::size_t>(i) * nw + j]) continue;
      c.flux(i, j) = 0.0;
      c.ivar(i, j) = 0.0;
      c.chi2pix(i, j) = 0.0;
      for (int k = 0; k < nd; ++k) c.resolution(i, k, j) = k == d.ndiag ? 1.0 : 0.0;
      if (with_fraction && !std::isfinite(c.pixmask_fraction(i, j))) c.pixmask_fraction(i, j) = 1.0;
      out.mask(i, j) |= specmask::bad2dfit;
    }
  // SCORES are desispec's sums over the stored FLUX and IVAR: computed again over the masked bins (the
  // unmasked ones would carry the inf or NaN into the table).
  if (out.scores) out.scores = frame_scores_table(out);
  return out;
}

}  // namespace perfex::io::detail
