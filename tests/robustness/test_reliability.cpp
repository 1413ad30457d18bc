// Reliability (issue 19) below the command line: inputs that are not regular files, outputs that are inputs,
// outputs that replace only regular files and appear as a set, long names, the gzip cap, frames with values
// float32 cannot hold, thread counts and impossible PSF keywords.
#include <fitsio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zlib.h>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "frame_values.hpp"
#include "gunzip.hpp"
#include "perfex/backends/thread_limits.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/frame_mask.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/file_checks.hpp"
#include "perfex/io/frame_io.hpp"
#include "perfex/io/psf_checks.hpp"
#include "perfex/io/psf_io.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using perfex::ErrorKind;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void spill(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// The message and kind of the perfex::Error `f` throws (fails when it throws none).
template <class F>
std::pair<ErrorKind, std::string> error_of(F&& f) {
  try {
    f();
  } catch (const perfex::Error& e) {
    return {e.kind(), e.what()};
  }
  FAIL("no perfex::Error was thrown");
  return {};
}

void make_socket(const fs::path& path) {
  const int s = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(path.string().size() < sizeof(addr.sun_path));
  std::strcpy(addr.sun_path, path.c_str());
  REQUIRE(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  close(s);
}

}  // namespace

TEST_CASE("Inputs: FIFOs, sockets, devices and directories are refused at once, naming what they are",
          "[reliability][inputs]") {
  perfex::test::TempDir dir;
  REQUIRE(mkfifo((dir / "fifo").c_str(), 0644) == 0);
  make_socket(dir / "sock");
  spill(dir / "file.fits", "x");
  using perfex::io::check_input_file;
  CHECK_THAT(error_of([&] { check_input_file((dir / "fifo").string()); }).second, ContainsSubstring("is a FIFO"));
  CHECK_THAT(error_of([&] { check_input_file((dir / "sock").string()); }).second, ContainsSubstring("is a socket"));
  CHECK_THAT(error_of([&] { check_input_file("/dev/zero"); }).second, ContainsSubstring("is a character device"));
  CHECK_THAT(error_of([&] { check_input_file(dir.path().string(), "a FITS file"); }).second,
             ContainsSubstring("is a directory, expected a FITS file"));
  const auto missing = error_of([&] { check_input_file((dir / "absent.fits").string()); });
  CHECK(missing.first == ErrorKind::Data);
  CHECK_THAT(missing.second, ContainsSubstring("absent.fits: no such file"));
  CHECK_NOTHROW(check_input_file((dir / "file.fits").string()));
  // FitsFile goes through the same check: no blocking open of a FIFO.
  CHECK_THAT(error_of([&] { perfex::io::FitsFile((dir / "fifo").string(), perfex::io::FitsFile::Mode::Read); }).second,
             ContainsSubstring("not a regular file"));
}

TEST_CASE("Outputs: an input reached through a hard link, a symbolic link or another spelling is refused",
          "[reliability][outputs]") {
  perfex::test::TempDir dir;
  const fs::path in = dir / "in.fits";
  spill(in, "input");
  fs::create_hard_link(in, dir / "hard.fits");
  fs::create_symlink("in.fits", dir / "soft.fits");
  fs::create_directories(dir / "sub");
  using perfex::io::check_distinct_files;
  const std::vector<perfex::io::NamedFile> inputs = {{"-i/--input", in.string()}};
  for (const fs::path& out : {in, dir / "hard.fits", dir / "soft.fits", dir / "sub" / ".." / "in.fits"}) {
    const auto e = error_of([&] { check_distinct_files(inputs, {{"-o/--output", out.string()}}); });
    CHECK(e.first == ErrorKind::Usage);
    CHECK_THAT(e.second, ContainsSubstring("is the same file as -i/--input"));
  }
  // Two outputs that do not exist yet but are the same name in the same directory.
  const auto twice = error_of([&] {
    check_distinct_files({}, {{"-o/--output", (dir / "x.fits").string()},
                              {"-m/--model", (dir / "sub/../x.fits").string()}});
  });
  CHECK_THAT(twice.second, ContainsSubstring("-m/--model and -o/--output name the same file"));
  CHECK_NOTHROW(check_distinct_files(inputs, {{"-o/--output", (dir / "sub" / "in.fits").string()}}));
  CHECK(slurp(in) == "input");
}

TEST_CASE("Outputs: only regular files are replaced, with or without --overwrite", "[reliability][outputs]") {
  perfex::test::TempDir dir;
  REQUIRE(mkfifo((dir / "fifo").c_str(), 0644) == 0);
  make_socket(dir / "sock");
  fs::create_symlink("absent.fits", dir / "dangling.fits");
  spill(dir / "target.fits", "target");
  fs::create_symlink("target.fits", dir / "link.fits");
  fs::create_symlink("fifo", dir / "link-to-fifo.fits");
  using perfex::io::check_output_path;
  for (bool overwrite : {false, true}) {
    CHECK_THAT(error_of([&] { check_output_path((dir / "fifo").string(), overwrite, "-o"); }).second,
               ContainsSubstring("is a FIFO (named pipe), not a regular file"));
    CHECK_THAT(error_of([&] { check_output_path((dir / "sock").string(), overwrite, "-o"); }).second,
               ContainsSubstring("is a socket"));
    CHECK_THAT(error_of([&] { check_output_path("/dev/null", overwrite, "-o"); }).second,
               ContainsSubstring("is a character device"));
    CHECK_THAT(error_of([&] { check_output_path((dir / "dangling.fits").string(), overwrite, "-o"); }).second,
               ContainsSubstring("dangling"));
    CHECK_THAT(error_of([&] { check_output_path((dir / "link-to-fifo.fits").string(), overwrite, "-o"); }).second,
               ContainsSubstring("symbolic link to a FIFO"));
    CHECK(error_of([&] { check_output_path((dir / "fifo").string(), overwrite, "-o"); }).first == ErrorKind::Usage);
  }
  CHECK_THAT(error_of([&] { check_output_path((dir / "link.fits").string(), false, "-o"); }).second,
             ContainsSubstring("--overwrite"));
  // With --overwrite, a link to a regular file is replaced by the new file; the file it pointed to is kept.
  {
    perfex::io::AtomicOutput out((dir / "link.fits").string(), true);
    out.write_file("new", 3);
    out.commit();
  }
  CHECK_FALSE(fs::is_symlink(dir / "link.fits"));
  CHECK(slurp(dir / "link.fits") == "new");
  CHECK(slurp(dir / "target.fits") == "target");
  struct stat st {};
  REQUIRE(lstat((dir / "fifo").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  // Other compressions than gzip are not written under a name that says so.
  CHECK_THAT(error_of([&] { check_output_path((dir / "frame.fits.fz").string(), false, "-o"); }).second,
             ContainsSubstring("fpack"));
  CHECK_THAT(error_of([&] { check_output_path((dir / "frame.fits.bz2").string(), false, "-o"); }).second,
             ContainsSubstring("bzip2"));
}

TEST_CASE("Outputs: a long legal name works (its temporary fits NAME_MAX); a longer one is refused at once",
          "[reliability][outputs]") {
  perfex::test::TempDir dir;
  const long name_max = pathconf(dir.path().c_str(), _PC_NAME_MAX);
  REQUIRE(name_max > 20);
  const std::string longest(static_cast<std::size_t>(name_max - 5), 'n');
  const fs::path target = dir / (longest + ".fits");
  {
    perfex::io::AtomicOutput out(target.string(), false);
    CHECK(static_cast<long>(fs::path(out.temp_path()).filename().string().size()) <= name_max);
    out.write_file("data", 4);
    out.commit();
  }
  CHECK(slurp(target) == "data");
  const std::string too_long(static_cast<std::size_t>(name_max + 1), 'n');
  const auto e = error_of([&] { perfex::io::check_output_path((dir / too_long).string(), false, "-o"); });
  CHECK(e.first == ErrorKind::Usage);
  CHECK_THAT(e.second, ContainsSubstring("NAME_MAX"));
  const auto path = error_of([&] { perfex::io::check_output_path(std::string(5000, 'p'), false, "-o"); });
  CHECK_THAT(path.second, ContainsSubstring("a path may have"));
}

TEST_CASE("Outputs: a set appears whole; a rename that fails undoes the others and leaves no temporary",
          "[reliability][outputs]") {
  perfex::test::TempDir dir;
  const fs::path a = dir / "a.fits", b = dir / "b.fits";
  spill(a, "old a");
  spill(b, "old b");
  {
    perfex::io::OutputSet set;
    perfex::io::AtomicOutput out_a(a.string(), true), out_b(b.string(), true);
    out_a.write_file("new a", 5);
    out_b.write_file("new b", 5);
    out_a.commit();  // handed to the set: nothing renamed yet
    out_b.commit();
    CHECK(slurp(a) == "old a");
    set.commit();
  }
  CHECK(slurp(a) == "new a");
  CHECK(slurp(b) == "new b");
  {
    perfex::io::OutputSet set;
    perfex::io::AtomicOutput out_a(a.string(), true), out_b(b.string(), true);
    out_a.write_file("third a", 7);
    out_b.write_file("third b", 7);
    out_a.commit();
    out_b.commit();
    // b's destination becomes a directory before the commit: the set must not be half written.
    fs::remove(b);
    fs::create_directory(b);
    const auto e = error_of([&] { set.commit(); });
    CHECK(e.first == ErrorKind::Data);
    CHECK_THAT(e.second, ContainsSubstring("nothing was written"));
  }
  CHECK(slurp(a) == "new a");  // put back
  CHECK(fs::is_directory(b));
  for (const auto& entry : fs::directory_iterator(dir.path()))
    CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
  // A set left without commit (an error between the outputs) removes what it holds.
  {
    perfex::io::OutputSet set;
    perfex::io::AtomicOutput out((dir / "c.fits").string(), false);
    out.write_file("c", 1);
    out.commit();
  }
  CHECK_FALSE(fs::exists(dir / "c.fits"));
  for (const auto& entry : fs::directory_iterator(dir.path()))
    CHECK(entry.path().filename().string().find(".tmp-") == std::string::npos);
}

TEST_CASE("gunzip: the buffer is capped before it grows, so a small bomb cannot allocate past the limit",
          "[reliability][gzip]") {
  using perfex::io::detail::next_gunzip_buffer_size;
  const std::size_t mib = std::size_t{1} << 20, limit = 8 * mib;
  std::size_t size = 0;
  for (int i = 0; i < 20; ++i) {
    size = next_gunzip_buffer_size(size, limit);
    CHECK(size <= limit + 2 * mib);
  }
  CHECK(size == limit + 2 * mib);
  CHECK(next_gunzip_buffer_size(perfex::io::detail::max_unpacked_bytes, perfex::io::detail::max_unpacked_bytes) ==
        perfex::io::detail::max_unpacked_bytes + 2 * mib);
  // 64 MiB of zeros in ~64 KiB of gzip, read with an 8 MiB limit.
  perfex::test::TempDir dir;
  const fs::path bomb = dir / "bomb.fits.gz";
  gzFile out = gzopen(bomb.c_str(), "wb9");
  const std::vector<char> zeros(mib, 0);
  for (int i = 0; i < 64; ++i) REQUIRE(gzwrite(out, zeros.data(), static_cast<unsigned>(zeros.size())) > 0);
  REQUIRE(gzclose(out) == Z_OK);
  const auto e = error_of([&] { perfex::io::detail::gunzip(bomb.string(), limit); });
  CHECK(e.first == ErrorKind::Data);
  CHECK_THAT(e.second, ContainsSubstring("unpacks to more than 8 MiB"));
  CHECK(perfex::io::detail::gunzip(bomb.string(), 65 * mib).size() == 64 * mib);
}

namespace {
// `data` gzip-compressed (one member).
std::string gzip_bytes(const std::string& data) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
}  // namespace

TEST_CASE("gunzip: a stream cut anywhere is an error, members and plain files are read whole", "[reliability][gzip]") {
  perfex::test::TempDir dir;
  std::string text;
  for (int i = 0; text.size() < 300000; ++i) text += "row " + std::to_string(i * 7919 % 1000) + " of the image; ";
  const std::string packed = gzip_bytes(text);
  const fs::path file = dir / "x.fits.gz";
  write_bytes(file, packed);
  const auto whole = perfex::io::detail::gunzip(file.string());
  CHECK(std::string(whole.begin(), whole.end()) == text);
  // Every cut (every byte near the ends, a stride in between): the header, the deflate data, the CRC and the
  // length trailer each cut short.
  for (std::size_t cut = 1; cut < packed.size(); cut += (cut < 64 || cut + 64 > packed.size()) ? 1 : 97) {
    write_bytes(file, packed.substr(0, cut));
    const auto e = error_of([&] { perfex::io::detail::gunzip(file.string()); });
    INFO("cut at " << cut << " of " << packed.size() << " bytes");
    CHECK(e.first == ErrorKind::Data);
    CHECK_THAT(e.second, ContainsSubstring("x.fits.gz: ") && ContainsSubstring("gzip data"));
  }
  // A corrupt byte in the deflate data or the checksum.
  for (const std::size_t at : {packed.size() / 2, packed.size() - 6}) {
    std::string bad = packed;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    write_bytes(file, bad);
    CHECK(error_of([&] { perfex::io::detail::gunzip(file.string()); }).first == ErrorKind::Data);
  }
  // Two members are one stream (gzip -d); what follows a complete member that is not one is ignored.
  write_bytes(file, packed + gzip_bytes("and more"));
  auto two = perfex::io::detail::gunzip(file.string());
  CHECK(std::string(two.begin(), two.end()) == text + "and more");
  write_bytes(file, packed + std::string(512, '\0'));
  two = perfex::io::detail::gunzip(file.string());
  CHECK(std::string(two.begin(), two.end()) == text);
  // A second member cut short is an error too.
  write_bytes(file, packed + gzip_bytes("and more").substr(0, 15));
  CHECK(error_of([&] { perfex::io::detail::gunzip(file.string()); }).first == ErrorKind::Data);
  // Not gzip data: the bytes as they are; an empty file: none.
  write_bytes(file, "SIMPLE  =                    T");
  const auto plain = perfex::io::detail::gunzip(file.string());
  CHECK(std::string(plain.begin(), plain.end()) == "SIMPLE  =                    T");
  write_bytes(file, "");
  CHECK(perfex::io::detail::gunzip(file.string()).empty());
}

TEST_CASE("Frames scanned in parts: every unwritable bin masked, in every part, and no other",
          "[reliability][values]") {
  // 241 x 400 bins of 11 diagonals: the scan runs in parts on helper threads (io/helper_threads.hpp).
  const int ns = 241, nw = 400, nd = 11;
  perfex::io::Frame frame;
  auto& d = frame.data;
  d.nspec = ns;
  d.nwave = nw;
  d.ndiag = 5;
  d.wavelengths = perfex::linear_wavelengths(6000.0, 6000.0 + 0.8 * (nw - 1), 0.8);
  d.flux = perfex::ResultView<double**>("flux", ns, nw);
  d.ivar = perfex::ResultView<double**>("ivar", ns, nw);
  d.chi2pix = perfex::ResultView<double**>("chi2pix", ns, nw);
  d.pixmask_fraction = perfex::ResultView<double**>("pixmask", ns, nw);
  d.resolution = perfex::ResultView<double***>("resolution", ns, nd, nw);
  frame.mask = perfex::ResultView<std::uint32_t**>("mask", ns, nw);
  for (int i = 0; i < ns; ++i)
    for (int j = 0; j < nw; ++j) {
      d.flux(i, j) = 10.0 + j;
      d.ivar(i, j) = 0.5;
      d.chi2pix(i, j) = 1.0;
      d.resolution(i, 5, j) = 1.0;
    }
  // One bad bin near each end of every quarter of the spectra, each by a different array.
  const std::vector<std::pair<int, int>> bad = {{0, 0}, {59, 399}, {60, 7}, {120, 200}, {121, 1}, {180, 0}, {240, 399}};
  for (std::size_t b = 0; b < bad.size(); ++b) {
    const auto [i, j] = bad[b];
    switch (b % 5) {
      case 0:
        d.flux(i, j) = std::numeric_limits<double>::quiet_NaN();
        break;
      case 1:
        d.ivar(i, j) = HUGE_VAL;
        break;
      case 2:
        d.chi2pix(i, j) = -1e300;
        break;
      case 3:
        d.pixmask_fraction(i, j) = std::numeric_limits<double>::quiet_NaN();
        break;
      default:
        d.resolution(i, 10, j) = 1e39;
        break;
    }
  }
  const std::optional<perfex::io::Frame> masked = perfex::io::detail::writable_frame(frame);
  REQUIRE(masked);
  long flagged = 0;
  for (int i = 0; i < ns; ++i)
    for (int j = 0; j < nw; ++j) flagged += (masked->mask(i, j) & perfex::specmask::bad2dfit) != 0;
  CHECK(flagged == static_cast<long>(bad.size()));
  for (const auto& [i, j] : bad) {
    CHECK((masked->mask(i, j) & perfex::specmask::bad2dfit) != 0);
    CHECK(masked->data.ivar(i, j) == 0.0);
    CHECK(masked->data.flux(i, j) == 0.0);
  }
}

TEST_CASE("Frames: bins float32 cannot hold are masked (IVAR 0, BAD2DFIT), never written as inf or NaN",
          "[reliability][values]") {
  perfex::io::Frame frame;
  auto& d = frame.data;
  d.nspec = 2;
  d.nwave = 4;
  d.ndiag = 1;
  d.wavelengths = {6000, 6001, 6002, 6003};
  d.flux = perfex::ResultView<double**>("flux", 2, 4);
  d.ivar = perfex::ResultView<double**>("ivar", 2, 4);
  d.chi2pix = perfex::ResultView<double**>("chi2pix", 2, 4);
  d.pixmask_fraction = perfex::ResultView<double**>("pixmask", 2, 4);
  d.resolution = perfex::ResultView<double***>("resolution", 2, 3, 4);
  frame.mask = perfex::ResultView<std::uint32_t**>("mask", 2, 4);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) {
      d.flux(i, j) = 10.0 + j;
      d.ivar(i, j) = 0.5;
      d.chi2pix(i, j) = 1.0;
      d.resolution(i, 1, j) = 1.0;
    }
  d.flux(0, 1) = HUGE_VAL;
  d.ivar(1, 2) = 1e39;                                               // beyond float32
  d.resolution(1, 0, 3) = std::numeric_limits<double>::quiet_NaN();  // one diagonal of bin (1, 3)
  const std::optional<perfex::io::Frame> masked = perfex::io::detail::writable_frame(frame);
  REQUIRE(masked);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) {
      const bool bad = (i == 0 && j == 1) || (i == 1 && j == 2) || (i == 1 && j == 3);
      CHECK(((masked->mask(i, j) & perfex::specmask::bad2dfit) != 0) == bad);
      CHECK(masked->data.ivar(i, j) == (bad ? 0.0 : 0.5));
      CHECK(std::isfinite(masked->data.flux(i, j)));
    }
  CHECK(d.flux(0, 1) == HUGE_VAL);  // the caller's frame is left as it was
  // Written and read back: every float32 and float64 value finite.
  perfex::test::TempDir dir;
  const auto path = (dir / "frame.fits").string();
  perfex::io::FrameWriteOptions options;
  options.float64 = true;
  perfex::io::write_frame(path, frame, {}, options);
  for (bool float64 : {false, true}) {
    const perfex::io::Frame back = perfex::io::read_frame(path, float64);
    for (std::size_t k = 0; k < back.data.flux.size(); ++k) CHECK(std::isfinite(back.data.flux.data()[k]));
    for (std::size_t k = 0; k < back.data.ivar.size(); ++k) CHECK(std::isfinite(back.data.ivar.data()[k]));
    for (std::size_t k = 0; k < back.data.resolution.size(); ++k) CHECK(std::isfinite(back.data.resolution.data()[k]));
  }
}

TEST_CASE("Thread counts: 1..512 run; 0, 513 and more, or text, are refused naming the source",
          "[reliability][threads]") {
  using perfex::backends::thread_count_problem;
  for (const char* ok : {"1", "2", "64", "500", "512"}) CHECK(thread_count_problem("--kokkos-threads", ok).empty());
  for (const char* bad : {"0", "513", "600", "1000", "abc", "", "-1", "99999999999"})
    CHECK_THAT(thread_count_problem("--kokkos-threads", bad), ContainsSubstring("--kokkos-threads="));
  CHECK(thread_count_problem("OMP_NUM_THREADS", "8,2", true).empty());
  CHECK_THAT(thread_count_problem("OMP_NUM_THREADS", "1000,2", true), ContainsSubstring("OMP_NUM_THREADS=1000,2"));
}

TEST_CASE("PSF: impossible keywords and sigmas are the file's data errors; evaluation failures name one cause",
          "[reliability][psf]") {
  perfex::GaussHermitePsf psf = perfex::make_synthetic_psf(perfex::SyntheticPsfOptions{});
  CHECK(perfex::io::psf_evaluation_problem(psf, 3, 6000.0).empty());
  for (auto& p : psf.params)
    if (p.name == "GHSIGY")
      for (int k = 0; k < p.series.ncoef; ++k)
        p.series.coeff[static_cast<std::size_t>(3 * p.series.ncoef + k)] = k ? 0 : -1.0;
  CHECK_THAT(perfex::io::psf_evaluation_problem(psf, 3, 6000.0), ContainsSubstring("PARAM GHSIGY is -1 there"));
  CHECK(perfex::io::psf_evaluation_problem(psf, 4, 6000.0).empty());
  const auto read = error_of([&] { perfex::io::check_psf_values(psf, "psf.fits"); });
  CHECK(read.first == ErrorKind::Data);
  CHECK_THAT(read.second, ContainsSubstring("psf.fits: HDU PSF row GHSIGY is -1 at fiber 3"));
  const perfex::Error kernel(ErrorKind::Data,
                             "PSF evaluation failed at fiber 3, wavelength 6000: non-positive "
                             "Gauss-Hermite sigma, non-finite trace or an empty spot");
  const auto named = error_of([&] { perfex::io::rethrow_psf_evaluation_error(kernel, psf, "psf.fits"); });
  CHECK(named.second ==
        "psf.fits: the PSF cannot be evaluated at fiber 3, wavelength 6000 A: PARAM GHSIGY is -1 there (Gauss-Hermite "
        "sigmas must be positive)");
}
