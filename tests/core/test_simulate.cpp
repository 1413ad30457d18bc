// Tests of the simulator: photon bookkeeping (on and off the CCD), reproducibility from the seed, noise
// statistics, defects, the counter-based random numbers and the built-in spectra.
#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "perfex/core/builtin_spectra.hpp"
#include "perfex/core/ccd_mask.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/simulate.hpp"
#include "perfex/core/synthetic_psf.hpp"

namespace {

using namespace perfex;

std::vector<double> camera_grid(const std::string& camera, int step = 1) {
  const CameraGrid g = desi_camera_grid(camera);
  std::vector<double> w;
  for (int i = 0; i < g.size(); i += step) w.push_back(g.at(i));
  return w;
}

HostView<double**> constant_photons(int nfiber, int nwave, double value) {
  HostView<double**> p("photons", nfiber, nwave);
  Kokkos::deep_copy(p, value);
  return p;
}

template <class View>
auto host(const View& v) {
  return Kokkos::create_mirror_view_and_copy(HostSpace(), v);
}

template <class A, class B>
bool bitwise_equal(const A& a, const B& b) {
  const auto ha = host(a);
  const auto hb = host(b);
  return ha.size() == hb.size() && std::memcmp(ha.data(), hb.data(), ha.size() * sizeof(*ha.data())) == 0;
}

double sum_of(const DeviceView<double**>& v) {
  const auto h = host(v);
  long double s = 0;
  for (std::size_t i = 0; i < h.size(); ++i) s += h.data()[i];
  return static_cast<double>(s);
}

}  // namespace

TEST_CASE("Noiseless: the image holds the input photons minus the reported part off the CCD", "[simulate]") {
  // A smaller CCD than the PSF's: the upper rows and the first columns of the traces fall off it, so
  // spots lie partly off the CCD (some with their centre off it but their stamp on it).
  GaussHermitePsf psf = make_synthetic_psf({"r0", 3, false});
  const std::vector<double> wave = camera_grid("r0", 2);
  const int nwave = static_cast<int>(wave.size());
  const int nfiber = 30;  // bundle 0 and part of bundle 1
  psf.npix_y = static_cast<int>(psf.ytrace.evaluate(0, 7000.0));
  psf.npix_x = static_cast<int>(psf.xtrace.evaluate(20, 6500.0));

  SimulationOptions options;
  options.noise = false;
  const auto photons = constant_photons(nfiber, nwave, 250.0);
  const SimulatedFrame frame = simulate_frame(ExecSpace(), psf, wave, photons, options);

  REQUIRE(frame.photons_in == Catch::Approx(250.0 * nfiber * nwave).epsilon(1e-15));
  CHECK(frame.photons_off_ccd > 0.3 * frame.photons_in);
  CHECK(frame.photons_off_ccd < 0.9 * frame.photons_in);
  const double on_ccd = sum_of(frame.model);
  // Sums of ~1e6 positive terms in double: rounding is ~1e-16 relative per term, far below 1e-12.
  CHECK(std::fabs(on_ccd - (frame.photons_in - frame.photons_off_ccd)) <= 1e-12 * frame.photons_in);
  CHECK(bitwise_equal(frame.image, frame.model));
  CHECK(frame.defects.empty());
}

TEST_CASE("A spot centred just off the CCD still lands its stamp's on-CCD part", "[simulate]") {
  GaussHermitePsf psf = make_synthetic_psf({"z0", 1, false});
  const double lambda = 9000.0;
  const double yc = psf.ytrace.evaluate(7, lambda);
  psf.npix_y = static_cast<int>(std::floor(yc)) - 1;  // centre 1 to 2 rows above the last row
  SimulationOptions options;
  options.noise = false;
  options.fiber_begin = 7;
  const auto photons = constant_photons(1, 1, 1000.0);
  const SimulatedFrame frame = simulate_frame(ExecSpace(), psf, {lambda}, photons, options);
  const double on_ccd = sum_of(frame.model);
  CHECK(on_ccd > 1.0);
  CHECK(frame.photons_off_ccd > 500.0);
  CHECK(std::fabs(on_ccd + frame.photons_off_ccd - 1000.0) <= 1e-12 * 1000.0);
  // Everything landed on the top rows.
  const auto model = host(frame.model);
  for (int y = 0; y < psf.npix_y - psf.hsizey - 1; ++y)
    for (int x = 0; x < psf.npix_x; ++x) REQUIRE(model(y, x) == 0.0);
}

TEST_CASE("Same seed, same data; batching does not change a bit; other seeds differ", "[simulate]") {
  const GaussHermitePsf psf = make_synthetic_psf({"b0", 5, false});
  const std::vector<double> wave = camera_grid("b0", 3);
  BuiltinSpectraOptions so;
  so.seed = 11;
  const BuiltinSpectra spectra = make_builtin_spectra(wave, 40, 35, so);

  SimulationOptions options;
  options.seed = 11;
  options.fiber_begin = 40;
  options.ncosmics = 200;
  options.defects = true;
  const SimulatedFrame a = simulate_frame(ExecSpace(), psf, wave, spectra.photons, options);
  const SimulatedFrame b = simulate_frame(ExecSpace(), psf, wave, spectra.photons, options);
  options.fibers_per_batch = 6;  // other fiber batches: each pixel still sums its spots in the same order
  const SimulatedFrame c = simulate_frame(ExecSpace(), psf, wave, spectra.photons, options);
  for (const SimulatedFrame* other : {&b, &c}) {
    CHECK(bitwise_equal(a.model, other->model));
    CHECK(bitwise_equal(a.image, other->image));
    CHECK(bitwise_equal(a.ivar, other->ivar));
    CHECK(bitwise_equal(a.mask, other->mask));
    CHECK(a.photons_off_ccd == other->photons_off_ccd);
  }
  options.seed = 12;
  const SimulatedFrame d = simulate_frame(ExecSpace(), psf, wave, spectra.photons, options);
  CHECK(bitwise_equal(a.model, d.model));  // same spectra: the noiseless model does not depend on the seed
  CHECK_FALSE(bitwise_equal(a.image, d.image));
  CHECK_FALSE(bitwise_equal(a.mask, d.mask));
}

TEST_CASE("Noise pulls (image - model) sqrt(ivar) have mean 0 and std 1 over a full frame", "[simulate][slow]") {
  const GaussHermitePsf psf = make_synthetic_psf({"r0", 0, false});
  const std::vector<double> wave = camera_grid("r0");
  BuiltinSpectraOptions so;
  so.seed = 5;
  const BuiltinSpectra spectra = make_builtin_spectra(wave, 0, psf.nfiber, so);
  SimulationOptions options;
  options.seed = 5;
  const SimulatedFrame frame = simulate_frame(ExecSpace(), psf, wave, spectra.photons, options);
  const auto image = host(frame.image);
  const auto model = host(frame.model);
  const auto ivar = host(frame.ivar);
  long double s1 = 0, s2 = 0;
  long double bright1 = 0, bright2 = 0;
  long n = 0, nbright = 0;
  for (int y = 0; y < frame.npix_y; ++y)
    for (int x = 0; x < frame.npix_x; ++x) {
      const double pull = (image(y, x) - model(y, x)) * std::sqrt(ivar(y, x));
      s1 += pull;
      s2 += pull * pull;
      ++n;
      if (model(y, x) > 10.0) {  // Poisson-dominated pixels (through the PTRS branch)
        bright1 += pull;
        bright2 += pull * pull;
        ++nbright;
      }
    }
  const double mean = static_cast<double>(s1 / n);
  const double std = std::sqrt(static_cast<double>(s2 / n) - mean * mean);
  INFO("pixels " << n << ", mean pull " << mean << ", std " << std);
  // 17M pixels: the statistical error of the std is ~2e-4; the acceptance is 1%.
  CHECK(std::fabs(std - 1.0) < 0.01);
  CHECK(std::fabs(mean) < 0.01);
  REQUIRE(nbright > 100000);
  const double bmean = static_cast<double>(bright1 / nbright);
  const double bstd = std::sqrt(static_cast<double>(bright2 / nbright) - bmean * bmean);
  INFO("bright pixels " << nbright << ", mean pull " << bmean << ", std " << bstd);
  CHECK(std::fabs(bstd - 1.0) < 0.01);
  CHECK(std::fabs(bmean) < 0.01);
  CHECK(frame.photons_in > 1e7);
}

TEST_CASE("Defects are flagged in MASK with IVAR 0; dead pixels read 0; hot ones carry their level", "[simulate]") {
  const GaussHermitePsf psf = make_synthetic_psf({"r0", 2, false});
  const std::vector<double> wave = camera_grid("r0", 4);
  SimulationOptions options;
  options.seed = 99;
  options.ncosmics = 500;
  options.defects = true;
  options.fiber_begin = 100;
  const auto photons = constant_photons(50, static_cast<int>(wave.size()), 50.0);
  const SimulatedFrame frame = simulate_frame(ExecSpace(), psf, wave, photons, options);
  const auto image = host(frame.image);
  const auto ivar = host(frame.ivar);
  const auto mask = host(frame.mask);

  int ncosmic = 0, nhot = 0, ndead = 0, nbad = 0;
  for (const SimulatedDefect& d : frame.defects) {
    REQUIRE(d.ymin >= 0);
    REQUIRE(d.ymax < frame.npix_y);
    REQUIRE(d.xmin >= 0);
    REQUIRE(d.xmax < frame.npix_x);
    REQUIRE(d.npix >= 1);
    switch (d.kind) {
      case DefectKind::Cosmic:
        ++ncosmic;
        CHECK(d.mask_bit == ccd_mask::cosmic);
        CHECK(d.electrons > 0.0);
        break;
      case DefectKind::HotColumn:
        ++nhot;
        CHECK(d.xmin == d.xmax);
        for (int y = d.ymin; y <= d.ymax; ++y) REQUIRE((mask(y, d.xmin) & ccd_mask::hot) != 0);
        break;
      case DefectKind::DeadColumn:
        ++ndead;
        for (int y = d.ymin; y <= d.ymax; ++y) {
          REQUIRE((mask(y, d.xmin) & ccd_mask::dead) != 0);
          REQUIRE(image(y, d.xmin) == 0.0);
        }
        break;
      case DefectKind::BadCluster:
        ++nbad;
        CHECK(d.npix == 9);
        for (int y = d.ymin; y <= d.ymax; ++y)
          for (int x = d.xmin; x <= d.xmax; ++x) REQUIRE((mask(y, x) & ccd_mask::bad) != 0);
        break;
    }
  }
  CHECK(ncosmic >= 490);  // a hit near a corner may fall entirely off the CCD
  CHECK(nhot == 1);
  CHECK(ndead == 1);
  CHECK(nbad == 1);
  long nmasked = 0, bits_cosmic = 0;
  for (int y = 0; y < frame.npix_y; ++y)
    for (int x = 0; x < frame.npix_x; ++x) {
      if (mask(y, x) != 0) {
        ++nmasked;
        REQUIRE(ivar(y, x) == 0.0);
      } else {
        REQUIRE(ivar(y, x) > 0.0);
      }
      if (mask(y, x) & ccd_mask::cosmic) ++bits_cosmic;
    }
  CHECK(bits_cosmic >= ncosmic);
  CHECK(nmasked > frame.npix_y / 2);
}

TEST_CASE("Counter-based Poisson and normal deviates have the right moments", "[simulate][rng]") {
  const int n = 200000;
  for (double mu : {0.05, 0.7, 3.0, 9.99, 10.0, 37.5, 1000.0, 2.5e6}) {
    long double s1 = 0, s2 = 0;
    long zeros = 0;
    for (int i = 0; i < n; ++i) {
      CounterRng rng(7, CounterRng::noise, static_cast<std::uint64_t>(i));
      const double k = rng.poisson(mu);
      REQUIRE(k >= 0.0);
      REQUIRE(k == std::floor(k));
      s1 += k;
      s2 += k * k;
      zeros += k == 0.0;
    }
    const double mean = static_cast<double>(s1 / n);
    const double var = static_cast<double>(s2 / n) - mean * mean;
    INFO("mu " << mu << ": mean " << mean << ", variance " << var);
    // 5 sigma bounds: sd(mean) = sqrt(mu / n), sd(var) ~ mu sqrt((2 + 1 / mu) / n).
    CHECK(std::fabs(mean - mu) < 5.0 * std::sqrt(mu / n));
    CHECK(std::fabs(var - mu) < 5.0 * mu * std::sqrt((2.0 + 1.0 / mu) / n));
    if (mu < 5.0) {
      const double p0 = std::exp(-mu);
      CHECK(std::fabs(static_cast<double>(zeros) / n - p0) < 5.0 * std::sqrt(p0 * (1 - p0) / n));
    }
  }
  long double s1 = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    CounterRng rng(8, CounterRng::noise, static_cast<std::uint64_t>(i));
    const double g = rng.normal();
    s1 += g;
    s2 += g * g;
  }
  CHECK(std::fabs(static_cast<double>(s1 / n)) < 5.0 / std::sqrt(n));
  CHECK(std::fabs(static_cast<double>(s2 / n) - 1.0) < 5.0 * std::sqrt(2.0 / n));
  CHECK(CounterRng(1, 1, 1).poisson(0.0) == 0.0);
  CHECK(CounterRng(1, 1, 1).poisson(-3.0) == 0.0);
  // Streams are keyed: same key, same draws; another index, other draws.
  CHECK(CounterRng(3, CounterRng::noise, 42).next() == CounterRng(3, CounterRng::noise, 42).next());
  CHECK(CounterRng(3, CounterRng::noise, 42).next() != CounterRng(3, CounterRng::noise, 43).next());
  CHECK(CounterRng(3, CounterRng::noise, 42).next() != CounterRng(4, CounterRng::noise, 42).next());
}

TEST_CASE("Built-in spectra: sky fibers per bundle, sky lines everywhere, reproducible per fiber", "[simulate]") {
  const std::vector<double> wave = camera_grid("z0");
  BuiltinSpectraOptions options;
  options.seed = 21;
  const BuiltinSpectra all = make_builtin_spectra(wave, 0, 100, options);
  const BuiltinSpectra part = make_builtin_spectra(wave, 30, 20, options);
  REQUIRE(all.photons.extent(0) == 100);
  for (int b = 0; b < 4; ++b) {
    int nsky = 0;
    for (int f = 25 * b; f < 25 * b + 25; ++f) nsky += all.objtype[f] == "SKY";
    CHECK(nsky == options.sky_per_bundle);
  }
  for (int f = 0; f < 20; ++f) {
    CHECK(part.objtype[f] == all.objtype[30 + f]);
    CHECK(part.targetid[f] == all.targetid[30 + f]);
    for (std::size_t i = 0; i < wave.size(); ++i) REQUIRE(part.photons(f, i) == all.photons(30 + f, i));
  }
  bool emission = false, absorption = false;
  for (int f = 0; f < 100; ++f) {
    emission |= all.spectype[f] == "EMISSION";
    absorption |= all.spectype[f] == "ABSORPTION";
    for (std::size_t i = 0; i < wave.size(); ++i) REQUIRE((std::isfinite(all.photons(f, i)) && all.photons(f, i) >= 0));
  }
  CHECK(emission);
  CHECK(absorption);
  // The OH line at 8827.1 A stands out of the continuum on a sky fiber.
  int sky = 0;
  while (all.objtype[sky] != "SKY") ++sky;
  const auto at = [&](double lambda) { return static_cast<std::size_t>(std::lround((lambda - wave.front()) / 0.8)); };
  double peak = 0;
  for (std::size_t i = at(8826.0); i <= at(8828.0); ++i) peak = std::max(peak, all.photons(sky, i));
  CHECK(peak > 20.0 * all.photons(sky, at(8700.0)));
  options.seed = 22;
  const BuiltinSpectra other = make_builtin_spectra(wave, 0, 100, options);
  CHECK(other.photons(0, 100) != all.photons(0, 100));
}

TEST_CASE("Inconsistent simulation requests are usage errors", "[simulate]") {
  const GaussHermitePsf psf = make_synthetic_psf({"r0", 0, false});
  const std::vector<double> wave = {6000.0, 6000.8};
  SimulationOptions options;
  options.fiber_begin = 499;
  const auto two = constant_photons(2, 2, 1.0);
  CHECK_THROWS_AS(simulate_frame(ExecSpace(), psf, wave, two, options), perfex::Error);
  options.fiber_begin = 0;
  CHECK_THROWS_AS(simulate_frame(ExecSpace(), psf, {6000.0}, two, options), perfex::Error);
  auto bad = constant_photons(2, 2, 1.0);
  bad(1, 1) = -1.0;
  try {
    simulate_frame(ExecSpace(), psf, wave, bad, options);
    FAIL("negative photons accepted");
  } catch (const perfex::Error& e) {
    CHECK(e.kind() == ErrorKind::Usage);
    CHECK(std::string(e.what()).find("fiber 1") != std::string::npos);
  }
}
