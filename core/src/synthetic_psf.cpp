// A synthetic DESI-like GAUSS-HERMITE PSF built from a seed: geometry and shapes as smooth Legendre
// series with DESI's sizes, so everything downstream can run without PSF files.
#include "perfex/core/synthetic_psf.hpp"

#include <cmath>
#include <random>
#include <vector>

#include "perfex/core/error.hpp"

namespace perfex {

namespace {

constexpr int k_nfiber = 500;
constexpr int k_bundle_size = 25;
constexpr int k_nbundle = k_nfiber / k_bundle_size;
constexpr int k_trace_terms = 6;  // Legendre degree 5
constexpr int k_param_terms = 4;  // Legendre degree 3
constexpr int k_ghdeg = 6;
constexpr int k_ghdeg2 = 3;            // the second core of the TwoCores layout
constexpr double k_fiber_pitch = 7.4;  // pixels between fibers of a bundle (DESI: about 7.3)
constexpr double k_first_fiber_x = 120.0;
constexpr double k_last_fiber_x = 3945.0;
constexpr double k_ccd_center_x = 2057.0;

struct Arm {
  char name = 'r';
  int spectrograph = 0;
};

Arm parse_camera(const std::string& camera) {
  const bool arm_ok = !camera.empty() && (camera[0] == 'b' || camera[0] == 'r' || camera[0] == 'z');
  const bool digit_ok = camera.size() == 1 || (camera.size() == 2 && camera[1] >= '0' && camera[1] <= '9');
  if (!arm_ok || !digit_ok)
    throw_usage_error("synthetic PSF: camera must be b, r or z, optionally followed by a digit (got '" + camera + "')");
  return {camera[0], camera.size() == 2 ? camera[1] - '0' : 0};
}

// Uniform draws from std::mt19937_64's raw 64-bit output (fully specified by the standard), through
// explicit transforms: the same numbers on every platform, unlike std::*_distribution.
class PortableRandom {
 public:
  explicit PortableRandom(std::uint64_t seed) : m_engine(seed) {}
  double uniform() { return static_cast<double>(m_engine() >> 11) * 0x1.0p-53; }  // [0, 1)
  double symmetric() { return 2.0 * uniform() - 1.0; }                            // [-1, 1)

 private:
  std::mt19937_64 m_engine;
};

LegendreSeries make_series(double wavemin, double wavemax, int ncoef) {
  LegendreSeries s;
  s.wavemin = wavemin;
  s.wavemax = wavemax;
  s.nfiber = k_nfiber;
  s.ncoef = ncoef;
  s.coeff.assign(static_cast<std::size_t>(k_nfiber) * ncoef, 0.0);
  return s;
}

double& coef(LegendreSeries& s, int fiber, int k) { return s.coeff[static_cast<std::size_t>(fiber) * s.ncoef + k]; }

}  // namespace

int CameraGrid::size() const { return static_cast<int>(std::lround((wavemax - wavemin) / dwave)) + 1; }

CameraGrid desi_camera_grid(const std::string& camera) {
  switch (parse_camera(camera).name) {
    case 'b':
      return {3600.0, 5800.0, 0.8};
    case 'r':
      return {5760.0, 7620.0, 0.8};
    default:
      return {7520.0, 9824.0, 0.8};
  }
}

GaussHermitePsf make_synthetic_psf(const SyntheticPsfOptions& options) {
  const Arm arm = parse_camera(options.camera);
  // PSF domain a little wider than the DESI grid, like specex's fits.
  double wavemin = 7400.0, wavemax = 9950.0;
  if (arm.name == 'b') {
    wavemin = 3550.0;
    wavemax = 5900.0;
  } else if (arm.name == 'r') {
    wavemin = 5550.0;
    wavemax = 7850.0;
  }
  // Mix the arm into the seed so b, r and z of one seed differ.
  PortableRandom rng(options.seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(arm.name));

  GaussHermitePsf psf;
  psf.nfiber = k_nfiber;
  psf.npix_x = 4114;
  psf.npix_y = 4128;
  const bool two_cores = options.layout == PsfLayout::TwoCores;
  psf.layout = options.layout;
  psf.hsizex = two_cores ? 10 : 8;
  psf.hsizey = two_cores ? 10 : 5;
  psf.ghdegx = k_ghdeg;
  psf.ghdegy = k_ghdeg;
  psf.ghdegx2 = two_cores ? k_ghdeg2 : -1;
  psf.ghdegy2 = two_cores ? k_ghdeg2 : -1;
  psf.camera = std::string(1, arm.name) + std::to_string(arm.spectrograph);
  psf.fibermin = k_nfiber * arm.spectrograph;
  psf.psferr_keyword = arm.name == 'b' ? 0.04 : 0.01;
  psf.psferror_specex = 0.0;
  // The trace HDUs and the PSF table have their own domains, 1 A apart as in specex's files.
  psf.xtrace = make_series(wavemin, wavemax, k_trace_terms);
  psf.ytrace = make_series(wavemin, wavemax, k_trace_terms);
  // (The one-table layouts: one domain for every row.)
  const bool one_domain = options.layout != PsfLayout::XtraceYtracePsf;
  const double pmin = one_domain ? wavemin : wavemin - 1.0, pmax = one_domain ? wavemax : wavemax + 1.0;

  // Fiber positions at mid wavelength: bundles of 25 at 7.4 px, about 14 px between bundles.
  const double bundle_pitch = (k_last_fiber_x - k_first_fiber_x - (k_bundle_size - 1) * k_fiber_pitch) /
                              (k_nbundle - 1);
  std::vector<double> x0(k_nfiber), field(k_nfiber), jitter(k_nfiber);
  for (int b = 0; b < k_nbundle; ++b) {
    const double bundle_offset = 0.8 * rng.symmetric();
    for (int j = 0; j < k_bundle_size; ++j) {
      const int i = b * k_bundle_size + j;
      x0[i] = k_first_fiber_x + b * bundle_pitch + j * k_fiber_pitch + bundle_offset + 0.2 * rng.symmetric();
      field[i] = (x0[i] - k_ccd_center_x) / k_ccd_center_x;  // -1 .. 1 across the CCD
      jitter[i] = rng.symmetric();
    }
  }
  // Global smooth shape terms, drawn once so every fiber varies smoothly with position.
  const double ycurv = 4.0 + rng.symmetric();
  for (int i = 0; i < k_nfiber; ++i) {
    const double s = field[i], r = jitter[i];
    // x: magnification change with wavelength (c1) and a bow that grows toward the CCD edges (c2).
    const double c2 = 1.5 * s, c4 = 0.1 * r;
    coef(psf.xtrace, i, 1) = 2.0 * s + 0.2 * r;
    coef(psf.xtrace, i, 2) = c2;
    coef(psf.xtrace, i, 3) = 0.3 * s * r;
    coef(psf.xtrace, i, 4) = c4;
    coef(psf.xtrace, i, 5) = 0.05 * r;
    coef(psf.xtrace, i, 0) = x0[i] + 0.5 * c2 - 0.375 * c4;  // x(w = 0) = x0
    // y: rows about -54 .. 4182 over the domain, slightly nonlinear, lines curving across the fibers.
    coef(psf.ytrace, i, 0) = 2085.0 + ycurv * s * s + 0.5 * r;
    coef(psf.ytrace, i, 1) = 2115.0 + 3.0 * s * s;
    coef(psf.ytrace, i, 2) = -20.0 + 2.0 * s;
    coef(psf.ytrace, i, 3) = 3.0;
    coef(psf.ytrace, i, 4) = -1.0;
    coef(psf.ytrace, i, 5) = 0.3 + 0.1 * r;
  }

  // Rows are added by reference below: reserve them all so no push_back moves earlier ones.
  psf.params.reserve(2 + (k_ghdeg + 1) * (k_ghdeg + 1) + 3 + (k_ghdeg2 + 1) * (k_ghdeg2 + 1) + 5 + 3);
  auto add_param = [&](const std::string& name) -> LegendreSeries& {
    psf.params.push_back({name, make_series(pmin, pmax, k_param_terms)});
    return psf.params.back().series;
  };
  {
    LegendreSeries& sx = add_param("GHSIGX");
    for (int i = 0; i < k_nfiber; ++i) {  // 1.03 .. 1.27 px
      const double s = field[i], r = jitter[i];
      coef(sx, i, 0) = 1.12 + 0.06 * s * s + 0.01 * r;
      coef(sx, i, 1) = 0.05;
      coef(sx, i, 2) = 0.03 * s * s;
      coef(sx, i, 3) = 0.005 * r;
    }
  }
  {
    LegendreSeries& sy = add_param("GHSIGY");
    for (int i = 0; i < k_nfiber; ++i) {  // 1.01 .. 1.27 px
      const double s = field[i], r = jitter[i];
      coef(sy, i, 0) = 1.10 + 0.08 * s * s + 0.01 * r;
      coef(sy, i, 1) = -0.04;
      coef(sy, i, 2) = 0.04 * s;
      coef(sy, i, 3) = 0.005 * r;
    }
  }
  // GH-a-b, a the x degree: GH-0-0 is a series whose constant term is 1 (about 0.94 .. 1.06); the others
  // are small (|value| < 0.05), smooth in fiber and wavelength.
  for (int a = 0; a <= k_ghdeg; ++a)
    for (int b = 0; b <= k_ghdeg; ++b) {
      LegendreSeries& gh = add_param(gh_param_name(a, b));
      double amp[k_param_terms];
      if (a == 0 && b == 0) {
        amp[0] = 1.0;
        amp[1] = 0.04;
        amp[2] = -0.02;
        amp[3] = 0.005 * rng.symmetric();
      } else {
        amp[0] = 0.02 * rng.symmetric();
        amp[1] = 0.008 * rng.symmetric();
        amp[2] = 0.005 * rng.symmetric();
        amp[3] = 0.002 * rng.symmetric();
      }
      const double tilt = 0.3 * rng.symmetric();
      for (int i = 0; i < k_nfiber; ++i) {
        const double scale = 1.0 + tilt * field[i];
        for (int k = 0; k < k_param_terms; ++k) coef(gh, i, k) = (a == 0 && b == 0 && k == 0) ? 1.0 : amp[k] * scale;
      }
    }
  if (two_cores) {
    // GAUSS-HERMITE2: the first core cut at GHNSIG sigmas, a wide second core of sigma 3 px (as in specter's
    // test file) with about a fifth of the light: GH2-0-0 about 0.2, the others small.
    for (const char* name : {"GHNSIG", "GHSIGX2", "GHSIGY2"}) {
      LegendreSeries& s = add_param(name);
      for (int i = 0; i < k_nfiber; ++i) coef(s, i, 0) = name[2] == 'N' ? 3.5 : 3.0 + 0.1 * field[i];
    }
    for (int a = 0; a <= k_ghdeg2; ++a)
      for (int b = 0; b <= k_ghdeg2; ++b) {
        LegendreSeries& gh = add_param(gh2_param_name(a, b));
        const double amp0 = (a == 0 && b == 0) ? 0.2 : 0.03 * rng.symmetric();
        const double amp1 = 0.01 * rng.symmetric();
        for (int i = 0; i < k_nfiber; ++i) {
          coef(gh, i, 0) = amp0 * (1.0 + 0.1 * field[i]);
          coef(gh, i, 1) = amp1;
        }
      }
  }
  // Tails like specter's model; TAILAMP = 0 (as in DESI's files) unless requested.
  {
    LegendreSeries& amp = add_param("TAILAMP");
    LegendreSeries& core = add_param("TAILCORE");
    LegendreSeries& xsca = add_param("TAILXSCA");
    LegendreSeries& ysca = add_param("TAILYSCA");
    LegendreSeries& inde = add_param("TAILINDE");
    for (int i = 0; i < k_nfiber; ++i) {
      const double s = field[i];
      if (options.tails) {  // 0.003 .. 0.01
        coef(amp, i, 0) = 0.0065 + 0.002 * s;
        coef(amp, i, 1) = 0.001;
      }
      coef(core, i, 0) = 2.0 + 0.1 * s;
      coef(xsca, i, 0) = 1.0;
      coef(ysca, i, 0) = 1.0 + 0.05 * s;
      coef(inde, i, 0) = 1.5;
    }
  }
  // Bookkeeping rows of specex's files, not part of the PSF.
  {
    LegendreSeries& bundle = add_param("BUNDLE");
    for (int i = 0; i < k_nfiber; ++i) coef(bundle, i, 0) = i / k_bundle_size;
    add_param("STATUS");
    add_param("CONT");
  }
  psf.validate("synthetic PSF " + psf.camera);
  return psf;
}

}  // namespace perfex
