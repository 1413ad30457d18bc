// Evaluation of a GAUSS-HERMITE PSF on a (fiber range x wavelength grid) into a device-resident spot
// cache: unit-sum pixel-integrated stamps and their lower-left corners, which every later stage indexes.
#pragma once

#include <string>
#include <vector>

#include "perfex/core/psf.hpp"
#include "perfex/core/types.hpp"

namespace perfex {

struct SpotOptions {
  bool tails = false;  // add specter's tail model (gpu_specter drops it)
};

struct SpotCache {
  int fiber_begin = 0;  // first fiber (PSF fiber index) of the cache
  int nfiber = 0;
  int nwave = 0;
  int stamp_ny = 0;
  int stamp_nx = 0;
  DeviceView<double*> wavelengths;  // [nwave]
  DeviceView<double****> spots;     // [fiber][wave][iy][ix], clipped at 0, unit sum
  DeviceView<int**> xcorner;        // [fiber][wave]: spot[iy][ix] lands on pixel (ycorner + iy, xcorner + ix)
  DeviceView<int**> ycorner;
  DeviceView<double**> xcenter;  // [fiber][wave]: trace position (pixel centers at integers)
  DeviceView<double**> ycenter;
};

// Every PSF quantity evaluated on the grid, for inspection and tests (host copy).
struct PsfParamGrid {
  std::vector<std::string> names;            // "X", "Y", "GHSIGX", "GHSIGY", "GH-a-b"..., tail names
  HostView<double***> values;                // [fiber][wave][param]
  int index(const std::string& name) const;  // throws perfex::Error when absent
};

// Evaluates fibers [fiber_begin, fiber_begin + nfiber) at every wavelength (which may lie slightly outside
// the PSF's range, as padding needs). Each Legendre series is evaluated once per (fiber, wavelength).
SpotCache evaluate_spots(const ExecSpace& exec, const GaussHermitePsf& psf, int fiber_begin, int nfiber,
                         const std::vector<double>& wavelengths, const SpotOptions& options = {});

// The same, into `cache`: views whose extents already fit are overwritten in place (as when a caller
// evaluates bundle after bundle), which saves their allocation and first-touch page faults; the others are
// replaced. Copies of the old views share the overwritten data.
void evaluate_spots(const ExecSpace& exec, const GaussHermitePsf& psf, int fiber_begin, int nfiber,
                    const std::vector<double>& wavelengths, SpotCache& cache, const SpotOptions& options = {});

PsfParamGrid evaluate_psf_params(const ExecSpace& exec, const GaussHermitePsf& psf, int fiber_begin, int nfiber,
                                 const std::vector<double>& wavelengths);

}  // namespace perfex
