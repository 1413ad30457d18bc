// Writes the fuzzers' seed corpus with perfex's own writers: small PSFs (5 fibers of the synthetic PSF) and
// small preprocessed images (compressed and plain masks, with and without a fibermap).
// Usage: perfex_fuzz_corpus DIR  ->  DIR/psf/*.fits, DIR/preproc/*.fits
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>

#include "fuzz_support.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/io/preproc_io.hpp"
#include "perfex/io/psf_io.hpp"

namespace fs = std::filesystem;

namespace {

// The first `nfiber` fibers of the synthetic PSF of `camera`.
perfex::GaussHermitePsf small_psf(const std::string& camera, bool tails, int nfiber) {
  perfex::SyntheticPsfOptions options;
  options.camera = camera;
  options.seed = 3;
  options.tails = tails;
  perfex::GaussHermitePsf psf = perfex::make_synthetic_psf(options);
  auto trim = [nfiber](perfex::LegendreSeries& s) {
    s.nfiber = nfiber;
    s.coeff.resize(static_cast<std::size_t>(nfiber) * static_cast<std::size_t>(s.ncoef));
  };
  psf.nfiber = nfiber;
  trim(psf.xtrace);
  trim(psf.ytrace);
  for (auto& p : psf.params) trim(p.series);
  return psf;
}

perfex::io::PreprocImage small_image(int ny, int nx, bool fibermap, std::int32_t mask_bits) {
  perfex::io::PreprocImage img;
  img.npix_y = ny;
  img.npix_x = nx;
  img.image = perfex::HostView<double**>("image", ny, nx);
  img.ivar = perfex::HostView<double**>("ivar", ny, nx);
  img.mask = perfex::HostView<std::int32_t**>("mask", ny, nx);
  for (int y = 0; y < ny; ++y)
    for (int x = 0; x < nx; ++x) {
      img.image(y, x) = 0.5 * ((y * 7 + x * 3) % 23) - 2.0;
      img.ivar(y, x) = 1.0 / (4.0 + (x + y) % 5);
      img.mask(y, x) = (x + 2 * y) % 17 == 0 ? mask_bits : 0;
    }
  img.header.camera = "b1";
  img.header.expid = 1234;
  img.header.night = 20240101;
  img.header.mjd_obs = 60310.25;
  img.header.exptime = 900.0;
  img.header.flavor = "science";
  img.header.ra = 150.0;
  img.header.dec = 2.0;
  if (fibermap) {
    perfex::io::Fibermap fm;
    for (int i = 0; i < 5; ++i) {
      fm.fiber.push_back(500 + i);
      fm.targetid.push_back(39600000000000000LL + i);
      fm.objtype.push_back(i == 1 ? "SKY" : "TGT");
      fm.fiberstatus.push_back(i == 3 ? 2 : 0);
    }
    img.fibermap = fm;
  }
  return img;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2) {
    std::cerr << "usage: perfex_fuzz_corpus DIR\n";
    return 2;
  }
  perfex::fuzz::start_kokkos();
  try {
    const fs::path dir = argv[1];
    fs::create_directories(dir / "psf");
    fs::create_directories(dir / "preproc");
    perfex::io::write_psf(small_psf("r0", false, 5), (dir / "psf" / "psf-r-5fibers.fits").string(), true);
    perfex::io::write_psf(small_psf("b3", true, 5), (dir / "psf" / "psf-b-5fibers-tails.fits").string(), true);
    perfex::io::write_psf(small_psf("z9", false, 1), (dir / "psf" / "psf-z-1fiber.fits").string(), true);
    perfex::io::PreprocWriteOptions compressed;
    compressed.overwrite = true;
    compressed.keywords = {{"TARGTRA", 150.5, "target RA"}, {"OBSTYPE", std::string("SCIENCE"), ""}};
    perfex::io::write_preproc((dir / "preproc" / "preproc-64x64.fits").string(), small_image(64, 64, true, 1 | 8),
                              compressed);
    perfex::io::PreprocWriteOptions plain;
    plain.overwrite = true;
    plain.compress_mask = false;
    perfex::io::write_preproc((dir / "preproc" / "preproc-16x24-int32mask.fits").string(),
                              small_image(16, 24, false, 1 << 20), plain);
    perfex::io::write_preproc((dir / "preproc" / "preproc-8x8-plain.fits").string(), small_image(8, 8, true, 2), plain);
    std::cout << "wrote the seed corpus to " << dir.string() << "\n";
  } catch (const perfex::Error& e) {
    std::cerr << "perfex_fuzz_corpus: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
