// perfex extract-exposure's frame lists: manifests (comments, blank lines, output directory, errors naming
// the line), directories of DESI names, and the default group size. No MPI and no extraction.
#include <catch2/catch_test_macros.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/drivers/exposure.hpp"
#include "test_support.hpp"

using perfex::drivers::FrameTask;

namespace {

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// The message of the perfex::Error (data) that `f` throws.
template <class F>
std::string data_error(F&& f) {
  try {
    f();
  } catch (const perfex::Error& e) {
    CHECK(e.kind() == perfex::ErrorKind::Data);
    return e.what();
  }
  FAIL("expected a perfex::Error");
  return "";
}

}  // namespace

TEST_CASE("manifest: one frame per line, comments and blank lines skipped", "[drivers][exposure]") {
  perfex::test::TempDir dir;
  write_text(dir / "m.txt",
             "# input psf output\n"
             "a.fits  psf-a.fits\tframe-a.fits\n"
             "\n"
             "   # an indented comment\n"
             "/abs/b.fits psf-b.fits /abs/out/frame-b.fits  # trailing comment\n");
  const std::vector<FrameTask> plain = perfex::drivers::read_manifest((dir / "m.txt").string(), "");
  REQUIRE(plain.size() == 2);
  CHECK(plain[0].input == "a.fits");
  CHECK(plain[0].psf == "psf-a.fits");
  CHECK(plain[0].output == "frame-a.fits");
  CHECK(plain[1].output == "/abs/out/frame-b.fits");
  // --output-dir places the relative outputs only.
  const std::vector<FrameTask> placed = perfex::drivers::read_manifest((dir / "m.txt").string(), "outdir");
  CHECK(placed[0].output == "outdir/frame-a.fits");
  CHECK(placed[0].input == "a.fits");
  CHECK(placed[1].output == "/abs/out/frame-b.fits");
}

TEST_CASE("manifest: errors name the file and the line", "[drivers][exposure]") {
  perfex::test::TempDir dir;
  write_text(dir / "two-fields.txt", "# header\na.fits b.fits c.fits\nd.fits e.fits\n");
  CHECK(data_error([&] {
          perfex::drivers::read_manifest((dir / "two-fields.txt").string(), "");
        }).find("two-fields.txt:3: expected three fields") != std::string::npos);
  write_text(dir / "empty.txt", "# nothing\n\n");
  CHECK(data_error([&] { perfex::drivers::read_manifest((dir / "empty.txt").string(), ""); }).find("no frame") !=
        std::string::npos);
  write_text(dir / "twice.txt", "a.fits p.fits out/f.fits\nb.fits p.fits out/./f.fits\n");
  CHECK(data_error([&] { perfex::drivers::read_manifest((dir / "twice.txt").string(), ""); }).find("named twice") !=
        std::string::npos);
  CHECK(data_error([&] {
          perfex::drivers::read_manifest((dir / "absent.txt").string(), "");
        }).find("cannot read the manifest") != std::string::npos);
}

TEST_CASE("directory: DESI names give the PSF and frame names, sorted", "[drivers][exposure]") {
  perfex::test::TempDir dir;
  for (const char* name : {"preproc-z1-00012345.fits", "preproc-b0-00012345.fits.gz", "preproc-r0-00012345.fits",
                           "preproc-notes.txt", "psf-r0-00012345.fits", "frame-r0-00012345.fits"})
    write_text(dir / name, "");
  const auto tasks = perfex::drivers::list_exposure_directory(dir.path().string(), "/psfs", "/out");
  REQUIRE(tasks.size() == 3);
  CHECK(tasks[0].input == (dir / "preproc-b0-00012345.fits.gz").string());
  CHECK(tasks[0].psf == "/psfs/psf-b0-00012345.fits");
  CHECK(tasks[0].output == "/out/frame-b0-00012345.fits");
  CHECK(tasks[1].output == "/out/frame-r0-00012345.fits");
  CHECK(tasks[2].output == "/out/frame-z1-00012345.fits");
  // The PSFs default to the input directory.
  CHECK(perfex::drivers::list_exposure_directory(dir.path().string(), "", "/out")[1].psf ==
        (dir / "psf-r0-00012345.fits").string());
  perfex::test::TempDir empty;
  CHECK(data_error([&] {
          perfex::drivers::list_exposure_directory(empty.path().string(), "", "/out");
        }).find("no preproc-CAMERA-EXPID.fits files") != std::string::npos);
}

TEST_CASE("default group size: every frame its group while ranks allow", "[drivers][exposure]") {
  CHECK(perfex::drivers::default_group_size(1, 30) == 1);
  CHECK(perfex::drivers::default_group_size(4, 30) == 1);
  CHECK(perfex::drivers::default_group_size(64, 30) == 2);
  CHECK(perfex::drivers::default_group_size(128, 30) == 4);
  CHECK(perfex::drivers::default_group_size(8, 3) == 2);
}
