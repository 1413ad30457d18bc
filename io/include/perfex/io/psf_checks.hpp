// Checks of a GAUSS-HERMITE PSF beyond its layout, made when the file is read, so that an impossible PSF is a
// data error naming the file, the HDU and the keyword or PARAM at fault rather than a failure deep inside an
// extraction; and the explanation, naming the file and the one cause, of a spot the kernels could not evaluate.
#pragma once

#include <string>
#include <utility>

#include "perfex/core/error.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/io/fits_file.hpp"

namespace perfex::io {

// The header keywords of every HDU of the file that has them (the primary, XTRACE, YTRACE, PSF, and HDU 1, the
// table, of the one-table `layout`s): FIBERMIN an integer >= 0, FIBERMAX >= FIBERMIN and, in an image HDU of
// one row per fiber, FIBERMAX - FIBERMIN + 1 rows; PSFERR a finite number > 0 (the file's value, used as
// --psferr's default: a bad one is the file's fault, not the option's). Data errors "file.fits[PSF]: keyword
// FIBERMAX is 3, below FIBERMIN 10 (...)". Leaves the HDU position where it was not guaranteed: call it after
// the type keywords chose the layout, before the layout is read.
void check_psf_keywords(FitsFile& file, PsfLayout layout);

// The PSF's traces and Gauss-Hermite sigmas on its wavelength domain (every fiber, 257 wavelengths): the traces
// finite and on a CCD-sized scale, GHSIGX and GHSIGY finite and > 0, as the spot kernels need them. Data error
// naming `source`, the PARAM or HDU, the fiber and the wavelength.
void check_psf_values(const GaussHermitePsf& psf, const std::string& source);

// Why the spot of `fiber` (index in the PSF) at `wavelength` cannot be evaluated, in one phrase ("PARAM GHSIGX
// is -0.31 there (Gauss-Hermite sigmas must be positive)"), found by evaluating the PSF on the host as the
// kernels do; "" when the trace and sigmas are fine (then the spot's light sums to nothing).
std::string psf_evaluation_problem(const GaussHermitePsf& psf, int fiber, double wavelength);

// Runs `body`; a failed spot evaluation it throws ("PSF evaluation failed at fiber F, wavelength W: ...", from
// core's spot kernels, which know neither the file nor which of their checks failed) comes out as a data
// error naming `source` and the one cause: "psf.fits: the PSF cannot be evaluated at fiber 7, wavelength
// 6001.6 A: PARAM GHSIGX is -0.31 there (Gauss-Hermite sigmas must be positive)".
[[noreturn]] void rethrow_psf_evaluation_error(const Error& e, const GaussHermitePsf& psf, const std::string& source);
template <class Body>
auto naming_psf_errors(const GaussHermitePsf& psf, const std::string& source, Body&& body) {
  try {
    return std::forward<Body>(body)();
  } catch (const Error& e) {
    rethrow_psf_evaluation_error(e, psf, source);
  }
}

}  // namespace perfex::io
