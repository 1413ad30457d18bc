// libFuzzer target: arbitrary bytes as a PSF file (a CFITSIO memory file) through perfex's PSF reader, then
// what perfex does first with a PSF that reads: domains, traces and parameters evaluated on the host, the CCD
// coverage of the first fibers. perfex::Error is the expected outcome of bad bytes; anything else (another
// exception, a sanitizer report, a crash) is a finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "perfex/core/ccd_coverage.hpp"
#include "perfex/core/error.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/psf_io.hpp"

namespace {

// Host-side uses of a valid PSF, bounded so that one input stays fast whatever nfiber it declares.
double exercise(const perfex::GaussHermitePsf& psf) {
  const double lo = psf.wavemin(), hi = psf.wavemax();
  double sum = 0.0;
  const int nfiber = std::min(psf.nfiber, 5);
  for (int fiber : {0, nfiber - 1, psf.nfiber - 1})
    for (double w : {lo, 0.5 * (lo + hi), hi}) {
      sum += psf.xtrace.evaluate(fiber, w) + psf.ytrace.evaluate(fiber, w);
      for (const auto& p : psf.params) sum += p.series.evaluate(fiber, w);
    }
  sum += psf.param("GHSIGX").evaluate(0, lo);
  if (const auto c = perfex::common_ccd_coverage(psf, 0, nfiber)) sum += c->first + c->second;
  if (psf.nfiber <= 8) sum += static_cast<double>(perfex::default_wavelength_grid(psf, 0.8).size());
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  perfex::fuzz::start_kokkos();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    perfex::io::FitsFile file = perfex::io::FitsFile::open_memory(data, size, "fuzz-psf.fits");
    const perfex::GaussHermitePsf psf = perfex::io::read_psf(file);
    volatile double sink = exercise(psf);
    (void)sink;
  } catch (const perfex::Error&) {
  }
  return 0;
}
