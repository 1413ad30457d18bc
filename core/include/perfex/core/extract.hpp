// Spectroperfectionism extraction of a frame (or a part of it) through the library API: image, weights
// and a spot cache in; flux, decorrelated inverse variance, resolution diagonals, chi2pix and
// pixmask_fraction out. float64 throughout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "perfex/core/extract_options.hpp"
#include "perfex/core/patch_plan.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/types.hpp"

namespace perfex {

// The pixels: a full frame or a cutout of it. `weights` is the inverse variance with masked pixels
// already set to 0; pixels outside the cutout, off the CCD, or with non-finite value or weight count as
// masked.
struct ImageInput {
  DeviceView<const double**> image;    // [ny][nx]
  DeviceView<const double**> weights;  // [ny][nx]
  int origin_y = 0;                    // full-CCD row of image(0, 0)
  int origin_x = 0;                    // full-CCD column of image(0, 0)
  int ccd_ny = 0;                      // full CCD rows (NPIX_Y)
  int ccd_nx = 0;                      // full CCD columns (NPIX_X)
};

// An extraction's results on the host (ResultView: page-locked memory where the backend has it).
struct FrameResult {
  int specmin = 0;
  int nspec = 0;
  int nwave = 0;
  int ndiag = 0;
  std::vector<double> wavelengths;        // the requested grid
  ResultView<double**> flux;              // [nspec][nwave], electrons per Angstrom
  ResultView<double**> ivar;              // [nspec][nwave], per Angstrom^-2; 0 where no pixel constrains the bin
  ResultView<double***> resolution;       // [nspec][2 ndiag + 1][nwave], DESI layout
  ResultView<double**> chi2pix;           // [nspec][nwave]
  ResultView<double**> pixmask_fraction;  // [nspec][nwave]
  // Bins of patches whose normal matrix could not be solved, even again with the stronger prior (README,
  // "Degenerate patches"): flux, ivar and resolution 0, chi2pix 0; the frame's specmask flags them BAD2DFIT.
  ResultView<std::uint8_t**> unsolved;  // [nspec][nwave]: 1 for such a bin
  long unsolved_bins = 0;               // bins with unsolved 1
};

// Memory of the patch solver: one slot per patch of a launch (the backend's patch batch) for the results the
// decorrelation reads (the core fibers' C_bb blocks and the patch's vectors: ~0.23 MB per DESI patch, ~30 MB on
// host backends); the patch's pixels and fiber tiles live in Kokkos team scratch (~1.1 MB per team in flight),
// the decorrelation's algebra in its own team scratch. Give successive extract() calls (a frame's bundles) the
// same workspace so that it is allocated, and its pages first touched, once instead of once per call; it grows
// when a call needs more. Without one, each call allocates its own.
struct ExtractWorkspace {
  DeviceView<double**> cblocks;  // [slot][...]: see core/src/patch_solver.hpp (PatchWorkspace)
  DeviceView<double**> vec;
  DeviceView<double**> tile_pool;  // fiber tiles too large for team scratch (only for such patches)
  DeviceView<int*> pole_first;     // the decorrelation's pole table (linalg/inverse_sqrt_poles.hpp), uploaded once
  DeviceView<double*> pole_shift;
  DeviceView<double*> pole_weight;
  std::size_t team_scratch_bytes = 0;  // per team of the patch solver, largest launch so far
  std::size_t concurrent_teams = 0;    // teams the execution space runs at once in that launch
  // Bytes held: the slots and the pole table, plus the solver's team scratch of the teams in flight (progress
  // reports).
  std::size_t bytes() const;
};

// Extracts fibers [specmin, specmin + nspec) on the requested grid `wavelengths` (linear). `spots` must be
// evaluated on padded_wavelengths(wavelengths, options) for (at least) the bundles of those fibers. One
// piece of a frame (the golden tests, the benchmarks of one bundle); a whole frame, with its spot chunks,
// specmask and model image, is extract_frame (extract_frame.hpp).
FrameResult extract(const ExecSpace& exec, const ImageInput& input, const SpotCache& spots,
                    const std::vector<double>& wavelengths, int specmin, int nspec, const ExtractionOptions& options,
                    ExtractWorkspace* workspace = nullptr);

// The same with a plan made by the caller (benchmarks and tests inspect or reuse it).
FrameResult extract(const ExecSpace& exec, const ImageInput& input, const SpotCache& spots,
                    const std::vector<double>& wavelengths, const PatchPlan& plan, const ExtractionOptions& options,
                    ExtractWorkspace* workspace = nullptr);

}  // namespace perfex
