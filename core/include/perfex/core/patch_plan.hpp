// The patch plan: plain host data saying which fibers, wavelength bins and CCD pixels every patch solves.
// All padding and edge rules live here; the kernels only execute the plan.
#pragma once

#include <vector>

#include "perfex/core/extract_options.hpp"
#include "perfex/core/types.hpp"

namespace perfex {

struct Patch {
  int fiber_lo = 0;       // first padded fiber (PSF fiber index)
  int nfiber = 0;         // padded fibers: the core plus one neighbour on each side inside the bundle
  int core_fiber_lo = 0;  // first core fiber
  int ncore_fiber = 0;
  int wave_lo = 0;        // first padded bin, index into the padded grid
  int nwave = 0;          // padded bins (nwavestep + 2 wavepad)
  int core_offset = 0;    // first core bin relative to wave_lo (= wavepad)
  int nkeep = 0;          // core bins that exist on the requested grid (the last patch is trimmed)
  int out_wave = 0;       // index on the requested grid of the first kept bin
  int ymin = 0, ymax = 0; // pixel box rows [ymin, ymax), full-CCD coordinates
  int xmin = 0, xmax = 0; // pixel box columns [xmin, xmax)
  // Coupling of the unknowns through overlapping stamps (inside the box), which the solver's fiber tiles follow:
  int fiber_coupling = 0;  // largest fiber distance d whose stamps overlap (1 for DESI neighbours; wider or
                           // taller stamps can reach d = 2); 0 when no two fibers overlap
  int wave_skew = 0;       // largest a - c over overlapping pairs (fiber f + d, bin a) and (fiber f, bin c), d >= 1
                           // (>= 0): the coupling block of fibers f + 1 and f is zero for c < a - wave_skew
  int bandwidth = 0;       // lower bandwidth of iCov in fiber-major order over every overlapping pair

  KOKKOS_INLINE_FUNCTION int unknowns() const { return nfiber * nwave; }
  KOKKOS_INLINE_FUNCTION int box_pixels() const { return (ymax - ymin) * (xmax - xmin); }
};

struct PatchPlan {
  std::vector<Patch> patches;
  int specmin = 0;    // first extracted fiber
  int nspec = 0;      // extracted fibers
  int nwave = 0;      // bins of the requested grid
  int wavepad = 0;
  int max_unknowns = 0;
  int max_bandwidth = 0;
  int max_box_pixels = 0;
  int max_nfiber = 0;
  int max_nwave = 0;
  int max_ncore_fiber = 0;
  int max_fiber_coupling = 0;
};

// Builds the plan for fibers [specmin, specmin + nspec) on a requested grid of `nwave` bins, from the spot
// corners evaluated on the padded grid (see padded_wavelengths) for fibers [cache_fiber_begin, ...).
// specmin and nspec must be aligned to bundles; the corner tables must cover the bundles involved.
PatchPlan plan_patches(const HostView<const int**>& xcorner, const HostView<const int**>& ycorner,
                       int cache_fiber_begin, int stamp_ny, int stamp_nx, int specmin, int nspec, int nwave,
                       const ExtractionOptions& options);

}  // namespace perfex
