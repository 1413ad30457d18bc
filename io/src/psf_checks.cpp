// Impossible PSF keywords and values refused when the file is read; spot evaluation failures explained.
#include "perfex/io/psf_checks.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>
#include <vector>

namespace perfex::io {

namespace {

std::string number_text(double v) {
  char text[40];
  std::snprintf(text, sizeof(text), "%.10g", v);
  return text;
}

// A trace coordinate the kernels take for a CCD position (they refuse |x| >= 1e9, as corners must fit an int).
bool usable_coordinate(double v) { return std::isfinite(v) && std::fabs(v) < 1e9; }

const LegendreSeries* find_param(const GaussHermitePsf& psf, const char* name) {
  for (const NamedSeries& p : psf.params)
    if (p.name == name) return &p.series;
  return nullptr;
}

}  // namespace

void check_psf_keywords(FitsFile& f, PsfLayout layout) {
  const int hdus = f.hdu_count();
  for (int index = 0; index < hdus; ++index) {
    f.move_to_index(index);
    const std::string name = f.current_hdu_name();
    // The one-table layouts keep their keywords in HDU 1, the table (which has no EXTNAME in specter's files).
    const bool table_hdu = index == 1 && layout != PsfLayout::XtraceYtracePsf;
    if (index > 0 && !table_hdu && name != "XTRACE" && name != "YTRACE" && name != "PSF") continue;
    const std::optional<long long> fibermin = f.read_key_int("FIBERMIN");
    const std::optional<long long> fibermax = f.read_key_int("FIBERMAX");
    if (fibermin && (*fibermin < 0 || *fibermin > 1000000))
      throw_data_error(f.where() + ": keyword FIBERMIN must be a fiber index >= 0, found " + std::to_string(*fibermin));
    // The one check of FIBERMAX against FIBERMIN for every layout (the one-table reader counts its fibers from them).
    if (fibermax && *fibermax < fibermin.value_or(0))
      throw_data_error(f.where() + ": keyword FIBERMAX is " + std::to_string(*fibermax) + ", below FIBERMIN " +
                       std::to_string(fibermin.value_or(0)) + " (FIBERMIN..FIBERMAX gives no fibers)");
    if (fibermax && *fibermax > 1000000)
      throw_data_error(f.where() + ": keyword FIBERMAX must be a fiber index >= 0, found " + std::to_string(*fibermax));
    if (fibermax && (name == "XTRACE" || name == "YTRACE")) {
      const std::vector<long> shape = f.image_shape();  // [nfiber, ncoef]; the layout reader checks the rest
      const long long fibers = *fibermax - fibermin.value_or(0) + 1;
      if (shape.size() == 2 && shape[0] != fibers)
        throw_data_error(f.where() + ": keywords FIBERMIN " + std::to_string(fibermin.value_or(0)) + " and FIBERMAX " +
                         std::to_string(*fibermax) + " give " + std::to_string(fibers) + " fibers, the HDU has " +
                         std::to_string(shape[0]));
    }
    if (const std::optional<double> psferr = f.read_key_double("PSFERR");
        psferr && !(std::isfinite(*psferr) && *psferr > 0))
      throw_data_error(f.where() +
                       ": keyword PSFERR must be a finite number > 0 (the fractional PSF model error), "
                       "found " +
                       number_text(*psferr));
  }
  f.move_to_index(0);
}

namespace {

// Where a PSF keeps its traces and its parameters, for messages: PSFVER >= 3 files in HDUs XTRACE, YTRACE and
// PSF, the one-table layouts as rows X, Y, GHSIGX, ... of the table in HDU 1.
std::string trace_place(const GaussHermitePsf& psf, char axis) {
  if (psf.layout == PsfLayout::XtraceYtracePsf) return std::string("HDU ") + axis + "TRACE";
  return std::string("HDU 1 row ") + axis;
}
std::string param_place(const GaussHermitePsf& psf, const char* name) {
  return (psf.layout == PsfLayout::XtraceYtracePsf ? "HDU PSF row " : "HDU 1 row ") + std::string(name);
}

// The sigmas the spot kernels divide by: the Gauss-Hermite core's, and GAUSS-HERMITE2's second core's.
constexpr const char* sigma_names[] = {"GHSIGX", "GHSIGY", "GHSIGX2", "GHSIGY2"};

}  // namespace

void check_psf_values(const GaussHermitePsf& psf, const std::string& source) {
  std::vector<std::pair<const char*, const LegendreSeries*>> sigmas;
  for (const char* name : sigma_names)
    if (const LegendreSeries* series = find_param(psf, name)) sigmas.emplace_back(name, series);
  const LegendreSeries* nsig = find_param(psf, "GHNSIG");  // GAUSS-HERMITE2: the second core's weight
  const double wmin = psf.wavemin(), wmax = psf.wavemax();
  if (!(wmax > wmin)) return;  // validate() says why
  constexpr int samples = 257;
  for (int fiber = 0; fiber < psf.nfiber; ++fiber)
    for (int k = 0; k < samples; ++k) {
      const double w = wmin + (wmax - wmin) * k / (samples - 1);
      // The place, for a message only (formatting it for each of 500 x 257 samples took ~15 ms per PSF).
      const auto at = [&] { return " at fiber " + std::to_string(fiber) + ", wavelength " + number_text(w) + " A"; };
      if (!usable_coordinate(psf.xtrace.evaluate(fiber, w)))
        throw_data_error(source + ": " + trace_place(psf, 'X') +
                         " gives x = " + number_text(psf.xtrace.evaluate(fiber, w)) + at() + " (not a CCD position)");
      if (!usable_coordinate(psf.ytrace.evaluate(fiber, w)))
        throw_data_error(source + ": " + trace_place(psf, 'Y') +
                         " gives y = " + number_text(psf.ytrace.evaluate(fiber, w)) + at() + " (not a CCD position)");
      for (const auto& [name, series] : sigmas) {
        const double s = series->evaluate(fiber, w);
        if (!(std::isfinite(s) && s > 0))
          throw_data_error(source + ": " + param_place(psf, name) + " is " + number_text(s) + at() +
                           " (Gauss-Hermite sigmas must be positive)");
      }
      if (nsig && !std::isfinite(nsig->evaluate(fiber, w)))
        throw_data_error(source + ": " + param_place(psf, "GHNSIG") + " is " + number_text(nsig->evaluate(fiber, w)) +
                         at() + " (not a finite number)");
    }
}

std::string psf_evaluation_problem(const GaussHermitePsf& psf, int fiber, double wavelength) {
  if (fiber < 0 || fiber >= psf.nfiber) return {};
  const double x = psf.xtrace.evaluate(fiber, wavelength), y = psf.ytrace.evaluate(fiber, wavelength);
  if (!usable_coordinate(x))
    return trace_place(psf, 'X') + " gives x = " + number_text(x) + " there (not a CCD position)";
  if (!usable_coordinate(y))
    return trace_place(psf, 'Y') + " gives y = " + number_text(y) + " there (not a CCD position)";
  for (const char* name : sigma_names) {
    const LegendreSeries* series = find_param(psf, name);
    if (!series) continue;
    const double s = series->evaluate(fiber, wavelength);
    if (!(std::isfinite(s) && s > 0))
      return std::string("PARAM ") + name + " is " + number_text(s) + " there (Gauss-Hermite sigmas must be positive)";
  }
  if (const LegendreSeries* nsig = find_param(psf, "GHNSIG"); nsig && !std::isfinite(nsig->evaluate(fiber, wavelength)))
    return "PARAM GHNSIG is " + number_text(nsig->evaluate(fiber, wavelength)) + " there (not a finite number)";
  return {};
}

void rethrow_psf_evaluation_error(const Error& e, const GaussHermitePsf& psf, const std::string& source) {
  const std::string text = e.what();
  const std::string prefix = "PSF evaluation failed at fiber ";
  if (text.rfind(prefix, 0) != 0) throw e;
  // "PSF evaluation failed at fiber F, wavelength W: <the kernel's possible causes>"
  char* end = nullptr;
  const long fiber = std::strtol(text.c_str() + prefix.size(), &end, 10);
  const auto comma = text.find(", wavelength ", prefix.size());
  if (comma == std::string::npos) throw e;
  const double wavelength = std::strtod(text.c_str() + comma + 13, nullptr);
  std::string cause = psf_evaluation_problem(psf, static_cast<int>(fiber), wavelength);
  if (cause.empty())
    cause = "the Gauss-Hermite coefficients give the spot no light (its values sum to zero or less, or overflow)";
  throw_data_error(source + ": the PSF cannot be evaluated at fiber " + std::to_string(fiber) + ", wavelength " +
                   number_text(wavelength) + " A: " + cause);
}

}  // namespace perfex::io
