// A synthetic DESI-like GAUSS-HERMITE PSF (500 fibers, smooth traces and shapes) built from a seed, for
// tests, benchmarks and simulations that must not depend on PSF files.
#pragma once

#include <cstdint>
#include <string>

#include "perfex/core/psf.hpp"

namespace perfex {

struct SyntheticPsfOptions {
  std::string camera = "r0";  // arm 'b', 'r' or 'z', optionally followed by the spectrograph digit
  std::uint64_t seed = 0;
  bool tails = false;  // TAILAMP > 0 (specter-like tails); otherwise the tail rows exist with TAILAMP = 0
  // The file layout. OneTable: the same model as XtraceYtracePsf, every row on the traces' domain (specter
  // applies one domain to every row of such a table). TwoCores: GAUSS-HERMITE2, 20 x 20 stamps, a second
  // core of degree 3 with sigma 3 px holding ~20% of the light, the first core cut at 3.5 sigma.
  PsfLayout layout = PsfLayout::XtraceYtracePsf;
};

// DESI's default extraction grid of an arm (desi_extract_spectra): b 3600..5800, r 5760..7620,
// z 7520..9824 Angstrom, step 0.8 (both ends included).
struct CameraGrid {
  double wavemin = 0.0;
  double wavemax = 0.0;
  double dwave = 0.0;
  int size() const;
  double at(int i) const { return wavemin + i * dwave; }
};

// `camera` as in SyntheticPsfOptions; throws perfex::Error (usage) for anything else.
CameraGrid desi_camera_grid(const std::string& camera);

// Deterministic for a given (camera, seed) on every platform: the random draws use std::mt19937_64's
// raw output with explicit transforms. Its domain covers the camera's DESI grid plus padding; every
// trace stays on the CCD over it. Passes GaussHermitePsf::validate.
GaussHermitePsf make_synthetic_psf(const SyntheticPsfOptions& options);

}  // namespace perfex
