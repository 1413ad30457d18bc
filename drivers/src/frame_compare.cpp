// Frame comparisons: pulls between two frames, and against the truth through the resolution matrices.
#include "perfex/drivers/frame_compare.hpp"

#include <fmt/core.h>
#include <algorithm>
#include <cmath>
#include <limits>

#include "perfex/core/error.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/frame_mask.hpp"

namespace perfex::drivers {

namespace {

bool somebad(const io::Frame& f, int i, int j) { return (f.mask(i, j) & specmask::somebadpix) != 0; }

}  // namespace

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double pos = q / 100.0 * static_cast<double>(v.size() - 1);
  const auto i = static_cast<std::size_t>(std::floor(pos));
  const double f = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

FrameComparison compare_frames(const io::Frame& A, const io::Frame& B, const FiberRange* range) {
  const FrameResult& a = A.data;
  const FrameResult& b = B.data;
  if (a.nwave != b.nwave) throw_data_error(fmt::format("the frames have {} and {} wavelength bins", a.nwave, b.nwave));
  for (int j = 0; j < a.nwave; ++j)
    if (std::fabs(a.wavelengths[j] - b.wavelengths[j]) > 1e-6)
      throw_data_error(fmt::format("the frames' wavelength grids differ at bin {} ({} and {} A)", j, a.wavelengths[j],
                                   b.wavelengths[j]));
  FrameComparison c;
  c.fibers.lo = std::max(a.specmin, b.specmin);
  c.fibers.hi = std::min(a.specmin + a.nspec, b.specmin + b.nspec);
  if (range) {
    c.fibers.lo = std::max(c.fibers.lo, range->lo);
    c.fibers.hi = std::min(c.fibers.hi, range->hi);
  }
  if (c.fibers.hi <= c.fibers.lo) throw_data_error("the frames have no fiber in common (within the requested fibers)");
  const int nd = std::min(a.ndiag, b.ndiag);
  for (int fiber = c.fibers.lo; fiber < c.fibers.hi; ++fiber) {
    const int ia = fiber - a.specmin, ib = fiber - b.specmin;
    for (int j = 0; j < a.nwave; ++j) {
      ++c.bins;
      const double va = a.ivar(ia, j), vb = b.ivar(ib, j);
      if ((va > 0) != (vb > 0)) ++c.ivar_zero_one;
      if (!(va > 0) && !(vb > 0)) ++c.ivar_zero_both;
      const std::uint32_t ma = A.mask(ia, j), mb = B.mask(ib, j);
      if (ma != mb) {
        ++c.mask_differ;
        const std::uint32_t x = ma ^ mb;
        c.bit_differ[0] += (x & specmask::somebadpix) != 0;
        c.bit_differ[1] += (x & specmask::allbadpix) != 0;
        c.bit_differ[2] += (x & specmask::bad2dfit) != 0;
      }
      for (int d = -nd; d <= nd; ++d)
        c.max_dresolution =
            std::max(c.max_dresolution, std::fabs(a.resolution(ia, a.ndiag + d, j) - b.resolution(ib, b.ndiag + d, j)));
      c.max_dchi2pix = std::max(c.max_dchi2pix, std::fabs(a.chi2pix(ia, j) - b.chi2pix(ib, j)));
      if (A.has_pixmask_fraction && B.has_pixmask_fraction)
        c.max_dpixmask = std::max(c.max_dpixmask, std::fabs(a.pixmask_fraction(ia, j) - b.pixmask_fraction(ib, j)));
      const bool good = va > 0 && vb > 0 && a.chi2pix(ia, j) < 100 && b.chi2pix(ib, j) < 100 && !somebad(A, ia, j) &&
                        !somebad(B, ib, j);
      if (!good) continue;
      c.pulls.push_back(std::fabs(a.flux(ia, j) - b.flux(ib, j)) / std::sqrt(1.0 / va + 1.0 / vb));
      c.max_relative_divar = std::max(c.max_relative_divar, std::fabs(va - vb) / std::max(va, vb));
    }
  }
  return c;
}

std::vector<double> convolved_truth(const io::Frame& frame, const io::TruthSpectra& truth, int fiber,
                                    bool* grids_matched) {
  const FrameResult& d = frame.data;
  const auto it = std::find(truth.fiber.begin(), truth.fiber.end(), fiber);
  if (it == truth.fiber.end()) throw_data_error(fmt::format("the truth has no spectrum for fiber {}", fiber));
  const auto row = static_cast<std::size_t>(it - truth.fiber.begin());
  // The grid the spectra were extracted on, and its bin widths (the per-Angstrom conversion).
  std::vector<double> wave = d.wavelengths;
  for (double& w : wave) w /= frame.header.heliocor;
  const std::vector<double> dwave = wavelength_gradient(wave);
  const std::vector<double>& tw = truth.wavelengths;
  const std::vector<double> tgrad = wavelength_gradient(tw);
  const std::size_t nt = tw.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();

  std::vector<double> t(wave.size(), nan);
  bool matched = true;
  for (std::size_t j = 0; j < wave.size(); ++j) {
    const double tol = 1e-6 * dwave[j];
    const auto k = static_cast<std::size_t>(std::lower_bound(tw.begin(), tw.end(), wave[j] - tol) - tw.begin());
    if (k < nt && std::fabs(tw[k] - wave[j]) <= tol) {
      t[j] = truth.photons(row, k) / dwave[j];
    } else if (k > 0 && k < nt) {
      matched = false;
      const double f0 = truth.photons(row, k - 1) / tgrad[k - 1], f1 = truth.photons(row, k) / tgrad[k];
      t[j] = f0 + (f1 - f0) * (wave[j] - tw[k - 1]) / (tw[k] - tw[k - 1]);
    }
  }
  if (grids_matched) *grids_matched = matched;

  const int i = fiber - d.specmin;
  const int nd = d.ndiag;
  std::vector<double> rt(wave.size(), nan);
  for (int k = nd; k + nd < d.nwave; ++k) {
    double s = 0;
    for (int j = k - nd; j <= k + nd; ++j) s += d.resolution(i, k - j + nd, j) * t[j];
    rt[k] = s;  // NaN when a truth value is missing
  }
  return rt;
}

TruthPulls truth_pulls(const io::Frame& frame, const io::TruthSpectra& truth, const FiberRange* range) {
  const FrameResult& d = frame.data;
  int lo = d.specmin, hi = d.specmin + d.nspec;
  if (range) {
    lo = std::max(lo, range->lo);
    hi = std::min(hi, range->hi);
  }
  if (hi <= lo) throw_data_error("the frame has no fiber within the requested fibers");
  TruthPulls p;
  long good = 0, covered = 0;  // bins with ivar > 0 and no SOMEBADPIX; bins with a complete R truth
  for (int fiber = lo; fiber < hi; ++fiber) {
    bool matched = true;
    const std::vector<double> rt = convolved_truth(frame, truth, fiber, &matched);
    p.grids_matched = p.grids_matched && matched;
    ++p.fibers;
    const int i = fiber - d.specmin;
    for (int k = 0; k < d.nwave; ++k) {
      const bool usable = d.ivar(i, k) > 0 && !somebad(frame, i, k);
      good += usable;
      covered += std::isfinite(rt[k]);
      if (!usable || !std::isfinite(rt[k])) continue;
      p.pulls.push_back((d.flux(i, k) - rt[k]) * std::sqrt(d.ivar(i, k)));
    }
  }
  // No bin to compare: a statistic of nothing would read as a perfect match.
  if (p.pulls.empty())
    throw_data_error(fmt::format(
        "no bin to compare: of fibers {}..{} x {} bins ({:.2f}..{:.2f} A, observed frame {:.2f}..{:.2f} A), {} have "
        "ivar > 0 and no SOMEBADPIX and {} a complete R truth (truth: {:.2f}..{:.2f} A; >= {} bins from the ends), "
        "none both",
        lo, hi - 1, d.nwave, d.wavelengths.front(), d.wavelengths.back(), d.wavelengths.front() / frame.header.heliocor,
        d.wavelengths.back() / frame.header.heliocor, good, covered, truth.wavelengths.front(),
        truth.wavelengths.back(), d.ndiag));
  const double n = static_cast<double>(p.pulls.size());
  if (n > 0) {
    for (double x : p.pulls) p.mean += x;
    p.mean /= n;
    double var = 0;
    for (double x : p.pulls) var += (x - p.mean) * (x - p.mean);
    p.sd = std::sqrt(var / n);
  }
  return p;
}

}  // namespace perfex::drivers
