// libFuzzer target: arbitrary bytes as a preprocessed image (a CFITSIO memory file) through perfex's preproc
// reader (IMAGE, IVAR, MASK, FIBERMAP, header keywords), then a pass over what it returns. perfex::Error is
// the expected outcome of bad bytes; anything else (another exception, a sanitizer report, a crash) is a
// finding.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "perfex/core/error.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/preproc_io.hpp"

namespace {

// perfex reads images of up to 2^28 pixels by design (io/src/preproc_io.cpp), more than the fuzzer's memory
// limit when a tile-compressed IMAGE declares them in a few bytes: the harness skips inputs whose IMAGE
// declares more than 2^22 pixels (a bound of the harness, not of perfex).
bool declares_huge_image(perfex::io::FitsFile& file) {
  if (file.has_hdu("IMAGE"))
    file.move_to("IMAGE");
  else
    file.move_to_index(0);
  double pixels = 1.0;  // a product of up to 999 axes: no integer overflow
  for (long n : file.image_shape()) pixels *= static_cast<double>(std::max(n, 0L));
  file.move_to_index(0);
  return pixels > static_cast<double>(1LL << 22);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  perfex::fuzz::start_kokkos();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    perfex::io::FitsFile file = perfex::io::FitsFile::open_memory(data, size, "fuzz-preproc.fits");
    if (declares_huge_image(file)) return 0;
    const perfex::io::PreprocImage image = perfex::io::read_preproc(file);
    // The reader promises finite pixels and non-negative weights: check it on every pixel.
    double sum = 0.0;
    for (int y = 0; y < image.npix_y; ++y)
      for (int x = 0; x < image.npix_x; ++x) {
        const double v = image.image(y, x), w = image.ivar(y, x);
        if (!std::isfinite(v) || !std::isfinite(w) || w < 0.0) __builtin_trap();
        sum += v * w + image.mask(y, x);
      }
    if (image.fibermap) {
      const auto& fm = *image.fibermap;
      if (fm.targetid.size() != fm.fiber.size() || fm.fiberstatus.size() != fm.fiber.size()) __builtin_trap();
      for (long i = 0; i < fm.size(); ++i) sum += fm.fiber[static_cast<std::size_t>(i)];
    }
    volatile double sink = sum;
    (void)sink;
  } catch (const perfex::Error&) {
  }
  return 0;
}
