// perfex extract's refusals through run_extract, without shared material: every bad input or option gives a
// one-line perfex::Error of the right kind (usage before any file is read, data otherwise) and no output.
#include <catch2/catch_test_macros.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/drivers/extract_command.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/preproc_io.hpp"
#include "perfex/io/psf_io.hpp"
#include "test_support.hpp"

namespace {

// Runs perfex extract and checks the error kind, the message and that no output file appeared.
void expect_error(const perfex::drivers::ExtractArgs& a, perfex::ErrorKind kind, const std::string& needle) {
  try {
    perfex::drivers::run_extract(a);
    FAIL("expected a perfex::Error mentioning " << needle);
  } catch (const perfex::Error& e) {
    INFO(e.what());
    CHECK(e.kind() == kind);
    CHECK(std::string(e.what()).find(needle) != std::string::npos);
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(a.output));
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(a.output).parent_path()))
    CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
}

}  // namespace

TEST_CASE("perfex extract: bad inputs give a one-line error of the right kind and no output", "[drivers][errors]") {
  perfex::test::TempDir tmp;
  using K = perfex::ErrorKind;
  const std::string psf = (tmp / "psf.fits").string();
  perfex::io::write_psf(perfex::make_synthetic_psf({}), psf, false);

  // A preproc without IVAR, and one whose shape is not the PSF's CCD (and without pointing keywords).
  const std::string no_ivar = (tmp / "no-ivar.fits").string();
  {
    perfex::io::FitsFile f(no_ivar, perfex::io::FitsFile::Mode::Create);
    f.write_image("IMAGE", {40, 30}, std::vector<float>(1200, 1.0f));
    f.close();
  }
  const std::string small = (tmp / "small.fits").string();
  {
    perfex::io::PreprocImage img;
    img.npix_y = 40;
    img.npix_x = 30;
    img.image = perfex::HostView<double**>("image", 40, 30);
    img.ivar = perfex::HostView<double**>("ivar", 40, 30);
    img.mask = perfex::HostView<std::int32_t**>("mask", 40, 30);
    perfex::io::write_preproc(small, img, {});
  }
  perfex::drivers::ExtractArgs a;
  a.input = small;
  a.psf = psf;
  a.output = (tmp / "out.fits").string();
  a.wavelength = "6500,6660,0.8";
  a.nspec = 25;
  auto with = [&](auto change) {
    auto b = a;
    change(b);
    return b;
  };
  expect_error(with([&](auto& b) { b.input = no_ivar; }), K::Data, "HDU IVAR is missing");
  expect_error(a, K::Data, "the image is 40 x 30");
  expect_error(with([&](auto& b) { b.input = (tmp / "absent.fits").string(); }), K::Data, "absent.fits: no such file");
  expect_error(with([&](auto& b) { b.psf = no_ivar; }), K::Data, "no-ivar.fits");
  expect_error(with([&](auto& b) { b.wavelength = "3000,3200,0.8"; }), K::Data, "outside the wavelength range");
  expect_error(with([&](auto& b) { b.specmin = 500; }), K::Data, "has fibers 0..499");
  expect_error(with([&](auto& b) {
                 b.specmin = 475;
                 b.nspec = 50;
               }),
               K::Data, "has fibers 0..499");
  expect_error(with([&](auto& b) { b.fibermap = small; }), K::Data, "FIBERMAP is missing");
  expect_error(with([&](auto& b) { b.barycentric = true; }), K::Data,
               "small.fits[IMAGE] lacks the keywords TARGTRA/SKYRA/TELRA/RA; TARGTDEC/SKYDEC/TELDEC/DEC; MJD-OBS/MJD");

  // Usage errors come before any file is read: here the input and the PSF do not even exist.
  auto u = with([&](auto& b) {
    b.input = (tmp / "absent-input.fits").string();
    b.psf = (tmp / "absent-psf.fits").string();
  });
  auto uwith = [&](auto change) {
    auto b = u;
    change(b);
    return b;
  };
  expect_error(uwith([&](auto& b) { b.specmin = -1; }), K::Usage, "--specmin must be >= 0, got -1");
  expect_error(uwith([&](auto& b) { b.nspec = 0; }), K::Usage, "--nspec must be >= 1, got 0");
  expect_error(uwith([&](auto& b) { b.options.nsubbundles = 26; }), K::Usage, "--nsubbundles must be in 1..25, got 26");
  expect_error(uwith([&](auto& b) { b.options.nsubbundles = 0; }), K::Usage, "--nsubbundles must be in 1..25, got 0");
  expect_error(uwith([&](auto& b) { b.options.pixpad_frac = 2; }), K::Usage, "--pixpad-frac");
  expect_error(uwith([&](auto& b) { b.psferr = -1.0; }), K::Usage, "--psferr");
  expect_error(uwith([&](auto& b) { b.wavelength = "6500,6400,0.8"; }), K::Usage, "wmax is below wmin");
  expect_error(uwith([&](auto& b) { b.wavelength = "6500,6600,0"; }), K::Usage, "dw must be positive");
  expect_error(uwith([&](auto& b) { b.wavelength = "6500,6600"; }), K::Usage, "expected three numbers");
  expect_error(uwith([&](auto& b) { b.wavelength = "6500,abc,0.8"; }), K::Usage, "expected three numbers");
  expect_error(uwith([&](auto& b) { b.wavelength = "6500,6500,0.8"; }), K::Usage, "at least 2");
  expect_error(uwith([&](auto& b) { b.decorrelate_fibers = true; }), K::Usage, "advises against");
  expect_error(uwith([&](auto& b) {
                 b.barycentric = true;
                 b.heliocor = 1.0001;
               }),
               K::Usage, "exclusive");
  expect_error(uwith([&](auto& b) { b.heliocor = 2.0; }), K::Usage, "--heliocor");

  // An existing output is refused (usage) and left untouched.
  {
    std::ofstream out(a.output);
    out << "keep me";
  }
  try {
    perfex::drivers::run_extract(u);
    FAIL("expected a usage error");
  } catch (const perfex::Error& e) {
    CHECK(e.kind() == K::Usage);
    CHECK(std::string(e.what()).find("--overwrite") != std::string::npos);
  }
  std::ifstream in(a.output);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "keep me");
}
