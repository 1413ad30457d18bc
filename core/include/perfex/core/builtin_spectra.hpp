// Built-in input spectra for the simulator: sky (continuum and night-sky emission lines) on every fiber,
// object continua with emission or absorption lines on target fibers, a few sky-only fibers per bundle.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "perfex/core/types.hpp"

namespace perfex {

struct BuiltinSpectraOptions {
  std::uint64_t seed = 0;
  int bundle_size = 25;    // fibers per bundle (DESI: 25)
  int sky_per_bundle = 2;  // sky-only fibers per bundle, at seeded positions
  double scale = 1.0;      // multiplies every flux (1: a DESI dark-time 900 s exposure, roughly)
};

struct BuiltinSpectra {
  std::vector<double> wavelengths;    // the grid, Angstrom
  HostView<double**> photons;         // [nfiber][nwave] electrons per wavelength bin
  std::vector<int> fiber;             // PSF fiber numbers
  std::vector<std::string> objtype;   // "TGT" or "SKY" (the FIBERMAP's OBJTYPE)
  std::vector<std::string> spectype;  // "SKY", "EMISSION" (star-forming galaxy) or "ABSORPTION" (star / old galaxy)
  std::vector<double> redshift;       // of the object, 0 for sky fibers
  std::vector<long long> targetid;
};

// Photons per bin are bin-integrated: lines are integrated over each bin (edges halfway between grid
// points), continua are densities times the bin width. A fiber's spectrum depends only on (seed, fiber),
// not on which other fibers are simulated. `wavelengths` must be strictly increasing (usage error).
BuiltinSpectra make_builtin_spectra(const std::vector<double>& wavelengths, int fiber_begin, int nfiber,
                                    const BuiltinSpectraOptions& options);

}  // namespace perfex
