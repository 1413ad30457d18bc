// Uses perfex::io from an installed package: writes the synthetic PSF to a FITS file (CFITSIO) and reads it
// back; the round trip is exact. Usage: consumer DIRECTORY
#include <perfex/core/error.hpp>
#include <perfex/core/synthetic_psf.hpp>
#include <perfex/core/version.hpp>
#include <perfex/io/psf_io.hpp>

#include <cstdio>
#include <string>

int main(int argc, char* argv[]) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer DIRECTORY\n");
    return 2;
  }
  try {
    const std::string path = std::string(argv[1]) + "/psf-consumer.fits";
    const perfex::GaussHermitePsf psf = perfex::make_synthetic_psf({"b1", 3, false});
    perfex::io::write_psf(psf, path, true);
    const perfex::GaussHermitePsf back = perfex::io::read_psf(path);
    const bool same = back.nfiber == psf.nfiber && back.camera == psf.camera && back.xtrace.coeff == psf.xtrace.coeff &&
                      back.ytrace.coeff == psf.ytrace.coeff && back.params.size() == psf.params.size();
    std::printf("perfex %s: wrote and read %s: %d fibers, camera %s, %s\n", PERFEX_VERSION_STRING, path.c_str(),
                back.nfiber, back.camera.c_str(), same ? "identical" : "DIFFERENT");
    return same ? 0 : 1;
  } catch (const perfex::Error& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
