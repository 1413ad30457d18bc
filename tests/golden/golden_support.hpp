// Readers of the golden reference files (../shared/golden) for the comparison tests.
#pragma once

#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "perfex/io/fits_file.hpp"

namespace perfex::test {

struct GoldenArray {
  std::vector<long> shape;
  std::vector<double> data;
  double operator()(long i) const { return data[i]; }
  double at(long i, long j) const { return data[i * shape[1] + j]; }
  double at(long i, long j, long k) const { return data[(i * shape[1] + j) * shape[2] + k]; }
};

inline GoldenArray read_golden(io::FitsFile& f, const std::string& hdu) {
  f.move_to(hdu);
  GoldenArray a;
  a.shape = f.image_shape();
  a.data = f.read_image_double();
  return a;
}

// The largest deviations of an extraction from gpu_specter's, bin by bin, and the golden README's float64
// bounds for them (reachable: the reference moves by ~1e-11 with another BLAS).
struct GoldenDeviations {
  double flux = 0, ivar = 0, resolution = 0, pixmask = 0, chi2pix = 0;

  // One bin: ours, then the reference's (flux and ivar in the same units).
  void add_bin(double fl, double ref_fl, double iv, double ref_iv, double pm, double ref_pm, double c2, double ref_c2) {
    flux = std::max(flux, std::fabs(fl - ref_fl) * std::sqrt(ref_iv));
    ivar = std::max(ivar, std::fabs(iv - ref_iv) / ref_iv);
    pixmask = std::max(pixmask, std::fabs(pm - ref_pm));
    chi2pix = std::max(chi2pix, std::fabs(c2 - ref_c2));
  }
  void add_resolution(double r, double ref_r) { resolution = std::max(resolution, std::fabs(r - ref_r)); }

  // A template: as a plain inline member, this function sends CUDA 13's cudafe++ (the cuda lane) into a loop
  // that ran for more than 10 minutes; as a template it compiles in seconds.
  template <class Label>
  void check(const Label& what) const {
    INFO(what << ": max |dflux| sqrt(ivar) " << flux << ", |divar|/ivar " << ivar << ", |dR| " << resolution
              << ", |dpixmask| " << pixmask << ", |dchi2pix| " << chi2pix);
    CHECK(flux < 1e-6);
    CHECK(ivar < 1e-8);
    CHECK(resolution < 1e-10);
    CHECK(pixmask < 1e-12);
    CHECK(chi2pix < 1e-8);
  }
};

// Checks an extraction (FLUX, IVAR, RESOLUTION, PIXMASK_FRACTION, CHI2PIX of `r`, a FrameResult) against
// gpu_specter's expected-gpu_specter.fits.
template <class Result>
void check_against_gpu_specter(const Result& r, const std::string& expected_path) {
  io::FitsFile f(expected_path, io::FitsFile::Mode::Read);
  const GoldenArray flux = read_golden(f, "FLUX"), ivar = read_golden(f, "IVAR");
  const GoldenArray res = read_golden(f, "RESOLUTION"), pixmask = read_golden(f, "PIXMASK_FRACTION");
  const GoldenArray chi2 = read_golden(f, "CHI2PIX");
  REQUIRE(flux.shape == std::vector<long>{r.nspec, r.nwave});
  GoldenDeviations dev;
  for (int i = 0; i < r.nspec; ++i)
    for (int j = 0; j < r.nwave; ++j) {
      dev.add_bin(r.flux(i, j), flux.at(i, j), r.ivar(i, j), ivar.at(i, j), r.pixmask_fraction(i, j), pixmask.at(i, j),
                  r.chi2pix(i, j), chi2.at(i, j));
      for (int d = 0; d < 2 * r.ndiag + 1; ++d) dev.add_resolution(r.resolution(i, d, j), res.at(i, d, j));
    }
  dev.check(expected_path);
}

}  // namespace perfex::test
