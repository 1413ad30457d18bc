// The patch plan (gpu_specter's divide and conquer scheme): bundles clipped to the requested fibers,
// subbundles split as specter splits them, one neighbour fiber of padding inside the bundle, wavelength
// padding that covers the spots, and the integer pixel box rules.
#include "perfex/core/patch_plan.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "perfex/core/error.hpp"

namespace perfex {

namespace {

struct Extent {
  int xmin = INT_MAX, xmax = INT_MIN, ymin = INT_MAX, ymax = INT_MIN;
};

// Pixel extent of the stamps of fibers [f0, f0 + nf) (cache indices) at padded bins [w0, w0 + nw).
Extent stamp_extent(const HostView<const int**>& xc, const HostView<const int**>& yc, int f0, int nf, int w0, int nw,
                    int stamp_ny, int stamp_nx) {
  Extent e;
  for (int f = f0; f < f0 + nf; ++f)
    for (int w = w0; w < w0 + nw; ++w) {
      e.xmin = std::min(e.xmin, xc(f, w));
      e.xmax = std::max(e.xmax, xc(f, w) + stamp_nx);
      e.ymin = std::min(e.ymin, yc(f, w));
      e.ymax = std::max(e.ymax, yc(f, w) + stamp_ny);
    }
  return e;
}

bool stamps_overlap(const HostView<const int**>& xc, const HostView<const int**>& yc, int f1, int w1, int f2, int w2,
                    int stamp_ny, int stamp_nx) {
  return std::abs(xc(f1, w1) - xc(f2, w2)) < stamp_nx && std::abs(yc(f1, w1) - yc(f2, w2)) < stamp_ny;
}

// How the unknowns of a patch couple: two unknowns couple when their stamps overlap (the pixel box does not
// clip this test: a pair whose overlap lies outside the box is counted, which only widens the result).
// Within a fiber every pair of bins may couple. Fibers d apart are scanned for every d; stamps of fibers two
// apart do overlap for DESI spots (their wings share 2-3 columns), where the solver finds the coupling
// negligible and keeps its tridiagonal tiles (see fiber_tiles.hpp).
struct Coupling {
  int fiber_coupling = 0;
  int wave_skew = 0;
  int bandwidth = 0;
};

// Smallest bin b of fiber `lo` whose stamp overlaps that of bin a of fiber `hi`, or -1. Candidates are scanned
// from `from`; with `sorted` corners (rows ascending with wavelength) the scan stops above bin a's stamp.
int first_overlap(const HostView<const int**>& xc, const HostView<const int**>& yc, int hi, int a, int lo, int w0,
                  int nw, int from, bool sorted, int stamp_ny, int stamp_nx) {
  for (int b = from; b < nw; ++b) {
    if (sorted && yc(lo, w0 + b) >= yc(hi, w0 + a) + stamp_ny) break;
    if (stamps_overlap(xc, yc, hi, w0 + a, lo, w0 + b, stamp_ny, stamp_nx)) return b;
  }
  return -1;
}

Coupling patch_coupling(const HostView<const int**>& xc, const HostView<const int**>& yc, int f0, int nf, int w0,
                        int nw, int stamp_ny, int stamp_nx) {
  Coupling c;
  c.bandwidth = nw - 1;
  for (int d = 1; d < nf; ++d)
    for (int f = f0; f + d < f0 + nf; ++f) {
      // Column ranges of the two fibers' stamps over the patch: most fiber pairs are rejected here.
      int xlo1 = INT_MAX, xhi1 = INT_MIN, xlo2 = INT_MAX, xhi2 = INT_MIN;
      bool y_sorted = true;
      for (int w = w0; w < w0 + nw; ++w) {
        xlo1 = std::min(xlo1, xc(f, w));
        xhi1 = std::max(xhi1, xc(f, w));
        xlo2 = std::min(xlo2, xc(f + d, w));
        xhi2 = std::max(xhi2, xc(f + d, w));
        if (w > w0 && (yc(f, w) < yc(f, w - 1) || yc(f + d, w) < yc(f + d, w - 1))) y_sorted = false;
      }
      if (xlo2 - xhi1 >= stamp_nx || xlo1 - xhi2 >= stamp_nx) continue;
      // With rows ascending in wavelength (both fibers), bins of fiber f entirely below bin a's stamp stay
      // below for a + 1.
      int from = 0;
      for (int a = 0; a < nw; ++a) {
        if (y_sorted)
          while (from < nw && yc(f, w0 + from) + stamp_ny <= yc(f + d, w0 + a)) ++from;
        const int b = first_overlap(xc, yc, f + d, a, f, w0, nw, y_sorted ? from : 0, y_sorted, stamp_ny, stamp_nx);
        if (b < 0) continue;
        c.fiber_coupling = std::max(c.fiber_coupling, d);
        c.wave_skew = std::max(c.wave_skew, a - b);
        c.bandwidth = std::max(c.bandwidth, d * nw + a - b);
      }
    }
  return c;
}

}  // namespace

std::vector<std::pair<int, int>> bundle_ranges(int specmin, int nspec, int bundlesize) {
  std::vector<std::pair<int, int>> out;
  for (int lo = specmin; lo < specmin + nspec;) {
    const int bundle_end = (lo / bundlesize + 1) * bundlesize;
    const int hi = std::min(bundle_end, specmin + nspec);
    out.emplace_back(lo, hi - lo);
    lo = hi;
  }
  return out;
}

std::vector<std::pair<int, int>> split_bundle(int nfiber, int nsubbundles) {
  const int n = std::max(1, std::min(nsubbundles, nfiber));
  std::vector<int> size(static_cast<std::size_t>(n), nfiber / n);
  for (int i = 0; i < nfiber % n; ++i) ++size[static_cast<std::size_t>(i)];
  // specter's one bubble pass: moves the last of the larger subbundles to the end.
  for (int i = 0; i + 1 < n; ++i)
    if (size[static_cast<std::size_t>(i)] > size[static_cast<std::size_t>(i) + 1])
      std::swap(size[static_cast<std::size_t>(i)], size[static_cast<std::size_t>(i) + 1]);
  std::vector<std::pair<int, int>> out;
  int lo = 0;
  for (int s : size) {
    out.emplace_back(lo, s);
    lo += s;
  }
  return out;
}

int wavelength_padding(const GaussHermitePsf& psf, const std::vector<double>& grid, const ExtractionOptions& options) {
  options.validate();
  const int reference = options.wavepad();
  const int nwave = static_cast<int>(grid.size());
  if (nwave < 2 || psf.nfiber < 1) return reference;
  const int cap = 4 * std::max(reference, options.reference_wavepad());
  const double dw = grid[1] - grid[0];
  // Trace rows on the grid extended by the largest padding and the last core's overhang: y[f][i - first].
  const int first = -(cap + 1), last = nwave + options.nwavestep + cap;
  const int n = last - first + 1;
  // Evaluated when first needed (NaN until then): the checks below read the bins next to the cores' ends,
  // ~1/10 of them, and a frame's every bin took ~20 ms of the start of perfex extract.
  std::vector<double> y(static_cast<std::size_t>(psf.nfiber) * n, std::numeric_limits<double>::quiet_NaN());
  const auto row = [&](int f, int i) {
    double& v = y[static_cast<std::size_t>(f) * n + (i - first)];
    if (std::isnan(v)) v = psf.ytrace.evaluate(f, grid[0] + i * dw);
    return v;
  };
  // Rows increase with wavelength in DESI's PSFs; a PSF whose rows decrease is handled by flipping them.
  const int mid = psf.nfiber / 2;
  const double flip = row(mid, last) < row(mid, first) ? -1.0 : 1.0;
  auto at = [&](int f, int i) { return flip * row(f, i); };
  // A window: the padded fibers of the largest subbundle anywhere in a bundle (partial bundles have no
  // larger ones), so every patch's fibers lie in some window.
  const int window = options.fibers_per_subbundle() + 2;
  const double margin = psf.stamp_ny() + 1.0;  // a stamp's rows, plus one for the corners' rounding
  int pad = reference;
  for (int b0 = 0; b0 < psf.nfiber; b0 += options.bundlesize) {
    const int b1 = std::min(psf.nfiber, b0 + options.bundlesize);
    const int w = std::min(window, b1 - b0);
    for (int s = b0; s + w <= b1; ++s)
      for (int c0 = 0; c0 < nwave; c0 += options.nwavestep) {
        const int top = c0 + options.nwavestep - 1;
        double hi = -INFINITY, lo = INFINITY;  // the core's highest row at its top bin, lowest at its bottom one
        for (int f = s; f < s + w; ++f) {
          hi = std::max(hi, at(f, top));
          lo = std::min(lo, at(f, c0));
        }
        // The first bins beyond a padding of `pad` bins must have every stamp clear of the core's rows.
        auto clear = [&](int k) {
          for (int f = s; f < s + w; ++f)
            if (at(f, top + 1 + k) < hi + margin || at(f, c0 - 1 - k) > lo - margin) return false;
          return true;
        };
        while (pad < cap && !clear(pad)) ++pad;
      }
  }
  return pad;
}

PatchPlan plan_patches(const HostView<const int**>& xcorner, const HostView<const int**>& ycorner,
                       int cache_fiber_begin, int stamp_ny, int stamp_nx, int specmin, int nspec, int nwave,
                       const ExtractionOptions& options) {
  options.validate();
  const int bundlesize = options.bundlesize;
  if (specmin < 0 || nspec < 1)
    throw_usage_error("--specmin must be >= 0 and --nspec >= 1, got " + std::to_string(specmin) + " and " +
                      std::to_string(nspec));
  const int cache_nfiber = static_cast<int>(xcorner.extent(0));
  if (specmin < cache_fiber_begin || specmin + nspec > cache_fiber_begin + cache_nfiber)
    throw_data_error("fibers " + std::to_string(specmin) + ".." + std::to_string(specmin + nspec - 1) +
                     " are not all in the spot cache (fibers " + std::to_string(cache_fiber_begin) + ".." +
                     std::to_string(cache_fiber_begin + cache_nfiber - 1) + ")");
  const int pad = options.wavepad();
  const int nfull = static_cast<int>(xcorner.extent(1));
  if (nfull != nwave + 2 * pad + options.nwavestep)
    throw_data_error("the spot cache has " + std::to_string(nfull) + " wavelengths; the padded grid needs " +
                     std::to_string(nwave + 2 * pad + options.nwavestep));

  PatchPlan plan;
  plan.specmin = specmin;
  plan.nspec = nspec;
  plan.nwave = nwave;
  plan.wavepad = pad;
  const int nw = options.patch_nwave();
  for (const auto& [bundle_lo, bundle_n] : bundle_ranges(specmin, nspec, bundlesize)) {
    for (const auto& [sub_lo, per_patch] : split_bundle(bundle_n, options.nsubbundles)) {
      const int core_lo = bundle_lo + sub_lo;
      // One neighbour on each side, only inside the (clipped) bundle: bundles do not couple, and fibers that
      // were not requested are not modelled (as specter's extraction of a partial bundle).
      const int fiber_lo = core_lo == bundle_lo ? core_lo : core_lo - 1;
      const int fiber_hi = core_lo + per_patch == bundle_lo + bundle_n ? core_lo + per_patch : core_lo + per_patch + 1;
      for (int iwave = pad; iwave - pad < nwave; iwave += options.nwavestep) {
        Patch p;
        p.fiber_lo = fiber_lo;
        p.nfiber = fiber_hi - fiber_lo;
        p.core_fiber_lo = core_lo;
        p.ncore_fiber = per_patch;
        p.wave_lo = iwave - pad;
        p.nwave = nw;
        p.core_offset = pad;
        p.out_wave = iwave - pad;
        p.nkeep = std::min(options.nwavestep, nwave - (iwave - pad));
        const int f0 = fiber_lo - cache_fiber_begin;
        const Extent all = stamp_extent(xcorner, ycorner, f0, p.nfiber, p.wave_lo, nw, stamp_ny, stamp_nx);
        const Extent core = stamp_extent(xcorner, ycorner, f0, p.nfiber, iwave, options.nwavestep, stamp_ny, stamp_nx);
        // Rows: keep (1 - pixpad_frac) of the padding below the core rows and pixpad_frac above, with the
        // references' truncating conversions (in double, 1 - 0.8 is 0.19999999999999996).
        const int ypadlo = static_cast<int>((core.ymin - all.ymin) * (1.0 - options.pixpad_frac));
        const int ypadhi = static_cast<int>((core.ymax - all.ymin) + (all.ymax - core.ymax) * options.pixpad_frac);
        p.ymin = all.ymin + ypadlo;
        p.ymax = all.ymin + ypadhi;
        p.xmin = all.xmin;
        p.xmax = all.xmax;
        const Coupling coupling = patch_coupling(xcorner, ycorner, f0, p.nfiber, p.wave_lo, nw, stamp_ny, stamp_nx);
        p.fiber_coupling = coupling.fiber_coupling;
        p.wave_skew = coupling.wave_skew;
        p.bandwidth = coupling.bandwidth;
        plan.max_unknowns = std::max(plan.max_unknowns, p.unknowns());
        plan.max_bandwidth = std::max(plan.max_bandwidth, p.bandwidth);
        plan.max_box_pixels = std::max(plan.max_box_pixels, p.box_pixels());
        plan.max_nfiber = std::max(plan.max_nfiber, p.nfiber);
        plan.max_nwave = std::max(plan.max_nwave, p.nwave);
        plan.max_ncore_fiber = std::max(plan.max_ncore_fiber, p.ncore_fiber);
        plan.max_fiber_coupling = std::max(plan.max_fiber_coupling, p.fiber_coupling);
        plan.patches.push_back(p);
      }
    }
  }
  return plan;
}

}  // namespace perfex
