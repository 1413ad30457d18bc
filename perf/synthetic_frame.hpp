// A DESI-like r frame simulated in memory, the input of perf/bench_extract, bench_frame and the GPU check's
// parity reference: the synthetic r0 PSF (seed 1), the built-in spectra and noise (seed 7), cosmic rays.
#pragma once

#include <vector>

#include "perfex/core/psf.hpp"
#include "perfex/core/types.hpp"

namespace perfex::bench {

struct SyntheticFrame {
  GaussHermitePsf psf;
  std::vector<double> grid;  // the extraction grid: wmin..wmax step 0.8
  HostView<double**> image;  // [npix_y][npix_x] electrons, the whole CCD
  HostView<double**> ivar;   // inverse variance, 0 on masked pixels (cosmic rays)
};

// Simulates fibers [fiber_begin, fiber_begin + nfiber) with light on wmin - 32 .. wmax + 80 A (past the padded
// extraction grid, so the padding bins see light too); the same bits for any thread count (simulate_frame).
SyntheticFrame simulate_r_frame(const ExecSpace& exec, int fiber_begin, int nfiber, double wmin, double wmax,
                                int ncosmics);

}  // namespace perfex::bench
