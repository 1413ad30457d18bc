// The patch plan: plain host data saying which fibers, wavelength bins and CCD pixels every patch solves.
// All padding and edge rules live here; the kernels only execute the plan.
#pragma once

#include <utility>
#include <vector>

#include "perfex/core/extract_options.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/core/types.hpp"

namespace perfex {

struct Patch {
  int fiber_lo = 0;       // first padded fiber (PSF fiber index)
  int nfiber = 0;         // padded fibers: the core plus one neighbour on each side inside the bundle
  int core_fiber_lo = 0;  // first core fiber
  int ncore_fiber = 0;
  int wave_lo = 0;         // first padded bin, index into the padded grid
  int nwave = 0;           // padded bins (nwavestep + 2 wavepad)
  int core_offset = 0;     // first core bin relative to wave_lo (= wavepad)
  int nkeep = 0;           // core bins that exist on the requested grid (the last patch is trimmed)
  int out_wave = 0;        // index on the requested grid of the first kept bin
  int ymin = 0, ymax = 0;  // pixel box rows [ymin, ymax), full-CCD coordinates
  int xmin = 0, xmax = 0;  // pixel box columns [xmin, xmax)
  // Coupling of the unknowns through overlapping stamps, measured from the spot corners whatever the PSF's
  // layout; the solver's fiber tiles follow it (core/src/fiber_tiles.hpp): tiles of one fiber, and when the
  // couplings of fibers further apart are not negligible in the patch's normal matrix, tiles of
  // fiber_coupling fibers (GAUSS-HERMITE2's second core reaches the fibers two away):
  int fiber_coupling = 0;  // largest fiber distance d whose stamps overlap (2 for DESI spots, whose wings meet
                           // two fibers apart; 0 when no two fibers overlap)
  int wave_skew = 0;       // largest a - c over overlapping pairs (fiber f + d, bin a) and (fiber f, bin c), d >= 1
                           // (>= 0): the coupling block of fibers f + 1 and f is zero for c < a - wave_skew
  int bandwidth = 0;       // lower bandwidth of iCov in fiber-major order over every overlapping pair

  KOKKOS_INLINE_FUNCTION int unknowns() const { return nfiber * nwave; }
  KOKKOS_INLINE_FUNCTION int box_pixels() const { return (ymax - ymin) * (xmax - xmin); }
};

struct PatchPlan {
  std::vector<Patch> patches;
  int specmin = 0;  // first extracted fiber
  int nspec = 0;    // extracted fibers
  int nwave = 0;    // bins of the requested grid
  int wavepad = 0;
  int max_unknowns = 0;
  int max_bandwidth = 0;
  int max_box_pixels = 0;
  int max_nfiber = 0;
  int max_nwave = 0;
  int max_ncore_fiber = 0;     // the largest subbundle (uneven splits, partial bundles): size workspaces from it
  int max_fiber_coupling = 0;  // the largest Patch::fiber_coupling
};

// The bundles of an extraction of fibers [specmin, specmin + nspec): DESI's bundles of `bundlesize` fibers
// (fibers [k bundlesize, (k + 1) bundlesize) of the PSF) clipped to the requested fibers, so a first or last
// bundle may be partial, as desispec's extraction cuts them. {first fiber, fibers} in fiber order.
std::vector<std::pair<int, int>> bundle_ranges(int specmin, int nspec, int bundlesize);

// specter's split of a bundle of `nfiber` fibers into `nsubbundles` core ranges (specter's split_bundle):
// numpy.array_split sizes (the first nfiber % n one larger), the larger ones moved towards the end by one
// bubble pass; e.g. 25 in 2: 12 + 13; 25 in 3: 8 + 8 + 9; 25 in 4: 6 + 6 + 6 + 7. A bundle smaller than
// nsubbundles is split into single fibers. {first fiber relative to the bundle, fibers}.
std::vector<std::pair<int, int>> split_bundle(int nfiber, int nsubbundles);

// The wavelength padding (bins on each side of a patch's core) for extracting `grid` with `psf`: the
// reference's 10 + int(10 wavepad_frac) (gpu_specter's rule, wavepad_bins when set), extended where the
// spots are taller than that padding, so that no spot of a bin beyond the padding reaches the rows of the
// core's spots, for any patch's fibers (every window of a padded subbundle's size in every bundle of the
// PSF), at every core edge of the grid, with a row's margin for the stamps' integer corners. Capped at 4x
// the reference (a grid far finer than the PSF's resolution). Depends only on (psf, grid, options), not on
// which fibers are extracted, so every chunk, rank and front end of a frame gets the same padding.
int wavelength_padding(const GaussHermitePsf& psf, const std::vector<double>& grid, const ExtractionOptions& options);

// Builds the plan for fibers [specmin, specmin + nspec) on a requested grid of `nwave` bins, from the spot
// corners evaluated on the padded grid (see padded_wavelengths) for fibers [cache_fiber_begin, ...).
// Bundles as bundle_ranges, subbundles as split_bundle; the corner tables must cover the fibers involved.
// Every patch records how its stamps overlap (Patch::fiber_coupling, wave_skew, bandwidth), for any layout.
PatchPlan plan_patches(const HostView<const int**>& xcorner, const HostView<const int**>& ycorner,
                       int cache_fiber_begin, int stamp_ny, int stamp_nx, int specmin, int nspec, int nwave,
                       const ExtractionOptions& options);

}  // namespace perfex
