// The GAUSS-HERMITE PSF model (PSFVER 3, as fitted by specex): Legendre series of traces and shape
// parameters, plain host data that io/ fills from files and core/ evaluates into spots.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace perfex {

// One quantity for every fiber, as a Legendre series in the reduced wavelength
// w = 2 (lambda - wavemin) / (wavemax - wavemin) - 1 over that HDU's own domain.
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

struct GaussHermitePsf {
  int nfiber = 0;
  int npix_x = 0;  // CCD columns (fiber direction)
  int npix_y = 0;  // CCD rows (wavelength direction)
  int hsizex = 0;  // stamp half sizes: stamps are (2 hsizey + 1) x (2 hsizex + 1)
  int hsizey = 0;
  int ghdegx = 0;  // Gauss-Hermite degrees
  int ghdegy = 0;
  LegendreSeries xtrace;
  LegendreSeries ytrace;
  std::vector<NamedSeries> params;  // rows of the PSF table, in file order
  std::optional<double> psferr_keyword;  // PSFERR, which the references read
  std::optional<double> psferror_specex;  // PSFERROR, which specex writes; reported, not used
  std::string camera;
  int fibermin = 0;

  int stamp_nx() const { return 2 * hsizex + 1; }
  int stamp_ny() const { return 2 * hsizey + 1; }
  // The fractional PSF model error used in chi2pix when the user gives none: PSFERR, else 0.01.
  double default_psferr() const { return psferr_keyword.value_or(0.01); }

  bool has_param(const std::string& name) const;
  // Throws perfex::Error (data) naming the missing PARAM.
  const LegendreSeries& param(const std::string& name) const;
  // Wavelength range covered by every series (the intersection of the HDU domains).
  double wavemin() const;
  double wavemax() const;
  // Checks sizes and required parameters; throws perfex::Error (data) with `source` (e.g. a file name)
  // in the message.
  void validate(const std::string& source) const;
};

// Name of the Gauss-Hermite coefficient row of degree a in x and b in y ("GH-a-b").
std::string gh_param_name(int a, int b);

}  // namespace perfex
