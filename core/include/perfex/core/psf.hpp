// The GAUSS-HERMITE PSF model as fitted by specex: Legendre series of traces and shape parameters, plain
// host data that io/ fills from files (three layouts, below) and core/ evaluates into spots.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace perfex {

// One quantity for every fiber, as a Legendre series in the reduced wavelength
// w = 2 (lambda - wavemin) / (wavemax - wavemin) - 1 over that HDU's (or table row's) own domain.
struct LegendreSeries {
  double wavemin = 0.0;
  double wavemax = 0.0;
  int nfiber = 0;
  int ncoef = 0;
  std::vector<double> coeff;  // [nfiber][ncoef], row-major

  double at(int fiber, int k) const { return coeff[static_cast<std::size_t>(fiber) * ncoef + k]; }
  double reduced_wavelength(double wavelength) const {
    return 2.0 * (wavelength - wavemin) / (wavemax - wavemin) - 1.0;
  }
  // Host evaluation for tools and tests; kernels evaluate the polynomials once per (fiber, wavelength).
  double evaluate(int fiber, double wavelength) const;
};

struct NamedSeries {
  std::string name;  // PARAM value: GHSIGX, GHSIGY, GH-a-b, TAILAMP, ...
  LegendreSeries series;
};

// The file layouts perfex reads. The first two hold the same model in different places; the third adds a
// second Gaussian core and uses even-sized stamps (specter's GaussHermite2PSF).
enum class PsfLayout {
  XtraceYtracePsf,  // PSFTYPE GAUSS-HERMITE, PSFVER >= 3 (DESI): HDUs XTRACE, YTRACE and the PSF table
  OneTable,         // PSFTYPE GAUSS-HERMITE, PSFVER 1 or 2: one table in HDU 1, the traces as rows X and Y
  TwoCores,         // PSFTYPE GAUSS-HERMITE2: one table like PSFVER 2, plus GHNSIG, GHSIGX2, GHSIGY2, GH2-a-b
};

// "GAUSS-HERMITE PSFVER 3 (HDUs XTRACE, YTRACE, PSF)" and the like, for messages and `psf info`.
std::string layout_description(PsfLayout layout);

struct GaussHermitePsf {
  PsfLayout layout = PsfLayout::XtraceYtracePsf;
  int nfiber = 0;
  int npix_x = 0;  // CCD columns (fiber direction)
  int npix_y = 0;  // CCD rows (wavelength direction)
  int hsizex = 0;  // stamp half sizes: stamps are (2 hsizey + 1) x (2 hsizex + 1), 2 hsizey x 2 hsizex for TwoCores
  int hsizey = 0;
  int ghdegx = 0;  // Gauss-Hermite degrees
  int ghdegy = 0;
  int ghdegx2 = -1;  // degrees of the second core (GHDEGX2, GHDEGY2), TwoCores only; -1 otherwise
  int ghdegy2 = -1;
  LegendreSeries xtrace;
  LegendreSeries ytrace;
  std::vector<NamedSeries> params;        // the other rows of the PSF table, in file order
  std::optional<double> psferr_keyword;   // PSFERR, which the references read
  std::optional<double> psferror_specex;  // PSFERROR, which specex writes; reported, not used
  std::string camera;
  int fibermin = 0;

  bool two_cores() const { return layout == PsfLayout::TwoCores; }
  int stamp_nx() const { return two_cores() ? 2 * hsizex : 2 * hsizex + 1; }
  int stamp_ny() const { return two_cores() ? 2 * hsizey : 2 * hsizey + 1; }
  // A stamp's first column is floor(x - hsizex + corner_shift()), its first row likewise: centred on the
  // pixel nearest the trace for the odd stamps (0.5), floor(x) - hsizex for GAUSS-HERMITE2's even ones (0).
  double corner_shift() const { return two_cores() ? 0.0 : 0.5; }
  // The fractional PSF model error used in chi2pix when the user gives none: PSFERR, else 0.01.
  double default_psferr() const { return psferr_keyword.value_or(0.01); }

  bool has_param(const std::string& name) const;
  // Throws perfex::Error (data) naming the missing PARAM.
  const LegendreSeries& param(const std::string& name) const;
  // The PSF's wavelength range: the Legendre domain of its PSF table (the spot-shape rows; for the one-table
  // layouts the traces too), which specex writes as the PSF's WAVEMIN/WAVEMAX. Trace HDUs with a slightly
  // narrower domain (5543..7826 against 7827 in DESI's files) are evaluated by their series there.
  double wavemin() const;
  double wavemax() const;
  // The wavelength at which fiber `fiber`'s trace crosses CCD row `row` (pixel centres at integers): the
  // root of Y(lambda) = row, searched over the domain widened by its own length on both sides (the
  // series extrapolate, as specter's inverse does). NaN where the trace never reaches that row there.
  double wavelength_at_row(int fiber, double row) const;
  // Checks sizes and required parameters; throws perfex::Error (data) with `source` (e.g. a file name)
  // in the message.
  void validate(const std::string& source) const;
};

// Name of the Gauss-Hermite coefficient row of degree a in x and b in y ("GH-a-b"), and of the second
// core's ("GH2-a-b").
std::string gh_param_name(int a, int b);
std::string gh2_param_name(int a, int b);

}  // namespace perfex
