// A small frame for the frame writers' tests (FITS and HDF5): values float32 cannot hold exactly, every
// class of mask bit pattern, and every header keyword set.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "perfex/core/extract_options.hpp"
#include "perfex/io/frame_io.hpp"

namespace perfex::test {

inline io::Frame make_test_frame(int specmin, int nspec, int nwave, const std::string& camera = "r3") {
  io::Frame f;
  auto& d = f.data;
  d.specmin = specmin;
  d.nspec = nspec;
  d.nwave = nwave;
  d.ndiag = 5;
  d.wavelengths = linear_wavelengths(6000.0, 6000.0 + 0.8 * (nwave - 1), 0.8);
  d.flux = ResultView<double**>("flux", nspec, nwave);
  d.ivar = ResultView<double**>("ivar", nspec, nwave);
  d.chi2pix = ResultView<double**>("chi2pix", nspec, nwave);
  d.pixmask_fraction = ResultView<double**>("pixmask", nspec, nwave);
  d.resolution = ResultView<double***>("res", nspec, 11, nwave);
  f.mask = ResultView<std::uint32_t**>("mask", nspec, nwave);
  for (int i = 0; i < nspec; ++i)
    for (int j = 0; j < nwave; ++j) {
      d.flux(i, j) = 100.0 / 3.0 * (i + 1) + std::sin(j);
      d.ivar(i, j) = (j == 3) ? 0.0 : 1.0 / (7.0 + i + j);
      d.chi2pix(i, j) = 1.0 + 0.1 * std::cos(i * j);
      d.pixmask_fraction(i, j) = (i + j) % 5 / 4.0;
      for (int k = 0; k < 11; ++k) d.resolution(i, k, j) = std::exp(-0.5 * (k - 5) * (k - 5)) / (2.5 + 0.01 * i);
      f.mask(i, j) = static_cast<std::uint32_t>((i * 31 + j) % 4);
    }
  f.mask(0, 0) = 0x80000001u;  // the top bit survives the int32 + BZERO storage
  f.mask(nspec - 1, nwave - 1) = 0xFFFFFFFFu;
  auto& h = f.header;
  h.camera = camera;
  h.expid = 1234;
  h.night = 20201215;
  h.mjd_obs = 59199.25;
  h.exptime = 900.0;
  h.flavor = "science";
  h.in_psf = "/a/rather/long/path/that/does/not/fit/on/one/header/card/psf-r3-00001234.fits";
  h.in_img = "preproc-r3-00001234.fits";
  h.options.psferr = 0.04;
  h.options.regularize = 0.5;
  h.psf_tails = true;
  h.heliocor = 1.0000123456789;
  h.wavemin = 6000.0;
  h.wavemax = 6000.0 + 0.8 * (nwave - 1);
  h.wavestep = 0.8;
  return f;
}

}  // namespace perfex::test
