// Helper program of the robustness tests: builds malformed inputs from good ones, checks that a frame holds
// only finite values, compares the data of two FITS files byte for byte, and interrupts a perfex run.
#include <fcntl.h>
#include <fitsio.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <Kokkos_Core.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "perfex/backends/device.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/pixel_limits.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/io/frame_io.hpp"
#include "perfex/io/preproc_io.hpp"
#include "perfex/io/psf_io.hpp"
#include "reliability_tool.hpp"

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error(message); }

// A CFITSIO file opened read-only or created, closed by the destructor; every status is fatal.
class Fits {
 public:
  static Fits open(const std::string& path) {
    Fits f(path);
    fits_open_diskfile(&f.m_f, path.c_str(), READONLY, &f.m_status);
    f.check("opening");
    return f;
  }
  // Replaces `path`; a name ending in .gz is written gzip-compressed.
  static Fits create(const std::string& path) {
    fs::remove(path);
    Fits f(path);
    fits_create_file(&f.m_f, path.c_str(), &f.m_status);
    f.check("creating");
    return f;
  }
  Fits(Fits&& o) noexcept : m_f(o.m_f), m_path(std::move(o.m_path)) { o.m_f = nullptr; }
  ~Fits() {
    int status = 0;
    if (m_f) fits_close_file(m_f, &status);
  }
  void close() {
    fits_close_file(m_f, &m_status);
    m_f = nullptr;
    check("closing");
  }
  fitsfile* get() { return m_f; }
  int& status() { return m_status; }
  void check(const std::string& what) {
    if (m_status == 0) return;
    char text[FLEN_STATUS] = {0};
    fits_get_errstatus(m_status, text);
    fail(m_path + ": " + what + ": CFITSIO status " + std::to_string(m_status) + " (" + text + ")");
  }
  int hdu_count() {
    int n = 0;
    fits_get_num_hdus(m_f, &n, &m_status);
    check("counting HDUs");
    return n;
  }
  // Moves to HDU `index0` (0 = primary) and returns its EXTNAME ("" when none).
  std::string move(int index0) {
    fits_movabs_hdu(m_f, index0 + 1, nullptr, &m_status);
    check("moving to HDU " + std::to_string(index0));
    char name[FLEN_VALUE] = {0};
    int s = 0;
    if (fits_read_key(m_f, TSTRING, "EXTNAME", name, nullptr, &s) != 0) name[0] = 0;
    fits_clear_errmsg();
    return name;
  }
  void move(const std::string& extname) {
    fits_movnam_hdu(m_f, ANY_HDU, const_cast<char*>(extname.c_str()), 0, &m_status);
    check("moving to HDU " + extname);
  }

 private:
  explicit Fits(std::string path) : m_path(std::move(path)) {}
  fitsfile* m_f = nullptr;
  std::string m_path;
  int m_status = 0;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot be read");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void spill(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) fail(path + ": cannot be written");
}

// Writes `bytes` gzip-compressed, whatever they hold (CFITSIO cannot copy the corrupt files written here).
void spill_gzip(const std::string& path, const std::string& bytes) {
  gzFile out = gzopen(path.c_str(), "wb");
  if (!out) fail(path + ": cannot be written");
  const bool written = bytes.empty() || gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())) > 0;
  if (gzclose(out) != Z_OK || !written) fail(path + ": cannot be written");
}

// Copies the HDUs of `src` for which keep(extname, index) holds, in order, into a new file `dst`; edit(out,
// extname) runs after each copy, with the copy as the current HDU.
void copy_hdus(const std::string& src, const std::string& dst, const std::function<bool(const std::string&, int)>& keep,
               const std::function<void(Fits&, const std::string&)>& edit = {}) {
  Fits in = Fits::open(src);
  Fits out = Fits::create(dst);
  const int n = in.hdu_count();
  for (int i = 0; i < n; ++i) {
    const std::string name = in.move(i);
    if (!keep(name, i)) continue;
    fits_copy_hdu(in.get(), out.get(), 0, &out.status());
    out.check("copying HDU " + name);
    if (edit) edit(out, name);
  }
  out.close();
}

auto all_hdus = [](const std::string&, int) { return true; };

void write_key_string(Fits& f, const char* key, const std::string& value) {
  fits_update_key(f.get(), TSTRING, key, const_cast<char*>(value.c_str()), nullptr, &f.status());
  f.check(std::string("writing ") + key);
}

void write_key_double(Fits& f, const char* key, double value) {
  fits_update_key_dbl(f.get(), key, value, -15, nullptr, &f.status());
  f.check(std::string("writing ") + key);
}

// A float image HDU with `dims` (slowest first) filled with `value`, named `extname`.
void add_image(Fits& f, const std::string& extname, std::vector<long> dims, float value) {
  std::vector<long> naxes(dims.rbegin(), dims.rend());
  fits_create_img(f.get(), FLOAT_IMG, static_cast<int>(naxes.size()), naxes.data(), &f.status());
  f.check("creating image " + extname);
  long long n = dims.empty() ? 0 : 1;
  for (long d : dims) n *= d;
  std::vector<float> data(static_cast<std::size_t>(n), value);
  if (n > 0) fits_write_img(f.get(), TFLOAT, 1, n, data.data(), &f.status());
  f.check("writing image " + extname);
  if (!extname.empty()) write_key_string(f, "EXTNAME", extname);
}

// A binary table HDU named `extname` with one float column, `rows` rows.
void add_table(Fits& f, const std::string& extname, long rows) {
  char name[] = "VALUE";
  char form[] = "E";
  char* names[] = {name};
  char* forms[] = {form};
  fits_create_tbl(f.get(), BINARY_TBL, rows, 1, names, forms, nullptr, extname.c_str(), &f.status());
  f.check("creating table " + extname);
}

// Sets pixel (y, x) of the current image HDU to `value`.
void set_pixel(Fits& f, long y, long x, double value) {
  long first[2] = {x + 1, y + 1};
  fits_write_pix(f.get(), TDOUBLE, first, 1, &value, &f.status());
  f.check("writing a pixel");
}

// ---------------------------------------------------------------------------------------------------------
// make-inputs DIR PSF PREPROC: malformed and poisoned inputs for perfex extract.

void make_small_preproc(const std::string& path) {
  perfex::io::PreprocImage img;
  img.npix_y = 64;
  img.npix_x = 64;
  img.image = perfex::HostView<double**>("image", 64, 64);
  img.ivar = perfex::HostView<double**>("ivar", 64, 64);
  img.mask = perfex::HostView<std::int32_t**>("mask", 64, 64);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) {
      img.image(y, x) = 10.0 + y;
      img.ivar(y, x) = 0.1;
    }
  perfex::io::Fibermap fm;
  for (int i = 0; i < 5; ++i) {
    fm.fiber.push_back(i);
    fm.targetid.push_back(1000 + i);
    fm.objtype.push_back("TGT");
    fm.fiberstatus.push_back(0);
  }
  img.fibermap = fm;
  img.header.camera = "r0";
  img.header.expid = 7;
  perfex::io::PreprocWriteOptions options;
  options.overwrite = true;
  perfex::io::write_preproc(path, img, options);
}

void make_preproc_variants(const fs::path& dir, const std::string& full) {
  const std::string small = (dir / "small.fits").string();
  make_small_preproc(small);
  const std::string bytes = slurp(small);
  auto out = [&](const char* name) { return (dir / name).string(); };

  spill(out("not-fits.fits"), "SIMPLE? no: this is a text file, not FITS.\n");
  spill(out("empty.fits"), "");
  spill(out("compress.fits.Z"), std::string("\x1f\x9d\x90SIMPLE  =", 13));  // Unix compress: CFITSIO would unpack it
  spill(out("truncated.fits"), bytes.substr(0, bytes.size() / 2));
  spill(out("truncated-header.fits"), bytes.substr(0, 1000));
  {
    Fits gz = Fits::create(out("small.fits.gz"));
    Fits in = Fits::open(small);
    fits_copy_file(in.get(), gz.get(), 1, 1, 1, &gz.status());
    gz.check("copying into small.fits.gz");
    gz.close();
    const std::string g = slurp(out("small.fits.gz"));
    spill(out("truncated.fits.gz"), g.substr(0, g.size() / 2));
    std::string corrupt = g;  // deflate data garbled in the middle: a bad block or a CRC mismatch
    for (std::size_t k = g.size() / 2; k < g.size() / 2 + 64 && k + 8 < g.size(); ++k) corrupt[k] = '\x55';
    spill(out("corrupt.fits.gz"), corrupt);
    fs::remove(out("small.fits.gz"));
  }
  // No IMAGE: an empty primary HDU, then IVAR, MASK, FIBERMAP.
  {
    Fits f = Fits::create(out("no-image.fits"));
    add_image(f, "", {}, 0.0f);
    Fits in = Fits::open(small);
    for (int i = 1; i < in.hdu_count(); ++i) {
      in.move(i);
      fits_copy_hdu(in.get(), f.get(), 0, &f.status());
      f.check("copying");
    }
    f.close();
  }
  // No IMAGE, and a 2D primary HDU that is named IVAR (it must not be taken for the image).
  copy_hdus(small, out("no-image-ivar-primary.fits"), [](const std::string& n, int) { return n != "IMAGE"; });
  copy_hdus(small, out("no-ivar.fits"), [](const std::string& n, int) { return n != "IVAR"; });
  // Shape mismatches and wrong HDU types, HDU by HDU.
  auto replace = [&](const char* name, const std::string& target, const std::function<void(Fits&)>& add) {
    Fits in = Fits::open(small);
    Fits f = Fits::create(out(name));
    for (int i = 0; i < in.hdu_count(); ++i) {
      const std::string extname = in.move(i);
      if (extname == target) {
        add(f);
      } else {
        fits_copy_hdu(in.get(), f.get(), 0, &f.status());
        f.check("copying " + extname);
      }
    }
    f.close();
  };
  replace("ivar-shape.fits", "IVAR", [](Fits& f) { add_image(f, "IVAR", {32, 64}, 0.1f); });
  replace("mask-shape.fits", "MASK", [](Fits& f) { add_image(f, "MASK", {64, 32}, 0.0f); });
  replace("image-3d.fits", "IMAGE", [](Fits& f) { add_image(f, "IMAGE", {2, 64, 64}, 1.0f); });
  replace("image-table.fits", "IMAGE", [](Fits& f) {
    add_image(f, "", {}, 0.0f);  // a table cannot be the primary HDU
    add_table(f, "IMAGE", 64);
  });
  replace("ivar-table.fits", "IVAR", [](Fits& f) { add_table(f, "IVAR", 64); });
  replace("fibermap-image.fits", "FIBERMAP", [](Fits& f) { add_image(f, "FIBERMAP", {5, 4}, 0.0f); });
  // A FIBERMAP whose FIBER column holds strings.
  copy_hdus(small, out("fibermap-fiber-strings.fits"), all_hdus, [](Fits& f, const std::string& name) {
    if (name != "FIBERMAP") return;
    int col = 0;
    fits_get_colnum(f.get(), CASEINSEN, const_cast<char*>("FIBER"), &col, &f.status());
    fits_delete_col(f.get(), col, &f.status());
    fits_insert_col(f.get(), col, const_cast<char*>("FIBER"), const_cast<char*>("8A"), &f.status());
    std::vector<std::string> values(5, "fiber?");
    std::vector<char*> ptrs;
    for (auto& v : values) ptrs.push_back(v.data());
    fits_write_col(f.get(), TSTRING, col, 1, 1, 5, ptrs.data(), &f.status());
    f.check("rewriting FIBER as strings");
  });
  // A tile-compressed MASK whose Rice block size is 0 (CFITSIO divides by it when it moves to the HDU), and
  // one whose first tile is a Rice stream that runs past its end (CFITSIO's decoder would read beyond it).
  {
    // Patched in the raw bytes: CFITSIO itself stops with SIGFPE when it re-reads such a header.
    std::string patched = bytes;
    const auto at = patched.find("ZVAL1   =");
    if (at == std::string::npos) fail("small.fits: no ZVAL1 card in the compressed MASK");
    const std::string card = "ZVAL1   =                    0 / pixels per block";
    patched.replace(at, 80, card + std::string(80 - card.size(), ' '));
    spill(out("mask-blocksize-zero.fits"), patched);
    spill_gzip(out("mask-blocksize-zero.fits.gz"), patched);  // walked once perfex has unpacked it
  }
  {
    // Patched in the raw bytes too: the first tile of MASK becomes its first pixel (2 bytes), a block code 0 (Rice
    // codes with no low bits) and only zero bits after it.
    Fits in = Fits::open(small);
    in.move("MASK");
    int col = 0;
    LONGLONG length = 0, offset = 0, naxis1 = 0, naxis2 = 0, header = 0, data = 0, end = 0;
    fits_get_colnum(in.get(), CASEINSEN, const_cast<char*>("COMPRESSED_DATA"), &col, &in.status());
    fits_read_descriptll(in.get(), col, 1, &length, &offset, &in.status());
    fits_read_key(in.get(), TLONGLONG, "NAXIS1", &naxis1, nullptr, &in.status());
    fits_read_key(in.get(), TLONGLONG, "NAXIS2", &naxis2, nullptr, &in.status());
    fits_get_hduaddrll(in.get(), &header, &data, &end, &in.status());
    in.check("locating the first tile of MASK");
    std::string patched = bytes;
    const auto at = static_cast<std::size_t>(data + naxis1 * naxis2 + offset);
    for (LONGLONG k = 0; k < length; ++k) patched[at + static_cast<std::size_t>(k)] = k == 2 ? '\x10' : '\0';
    spill(out("mask-corrupt-tile.fits"), patched);
  }

  // Header keywords of the wrong type.
  copy_hdus(small, out("expid-string.fits"), all_hdus, [](Fits& f, const std::string& name) {
    if (name == "IMAGE") write_key_string(f, "EXPID", "abc");
  });
  copy_hdus(small, out("mjd-string.fits"), all_hdus, [](Fits& f, const std::string& name) {
    if (name == "IMAGE") write_key_string(f, "MJD-OBS", "yesterday");
  });

  // A full-size image without the pointing keywords the barycentric correction needs (perfex simulate writes them).
  copy_hdus(full, out("no-pointing.fits"), all_hdus, [](Fits& f, const std::string& name) {
    if (name != "IMAGE") return;
    for (const char* key : {"TARGTRA", "TARGTDEC", "SKYRA", "SKYDEC", "TELRA", "TELDEC", "RA", "DEC"}) {
      fits_delete_key(f.get(), key, &f.status());
      if (f.status() == KEY_NO_EXIST) {
        f.status() = 0;
        fits_clear_errmsg();
      }
    }
  });

  // Full-size inputs that must extract: no MASK HDU; NaN, +-inf and negative values in IMAGE and IVAR.
  copy_hdus(full, out("no-mask.fits"), [](const std::string& n, int) { return n != "MASK"; });
  const perfex::GaussHermitePsf psf = perfex::io::read_psf((dir / "psf.fits").string());
  copy_hdus(full, out("poisoned.fits"), all_hdus, [&](Fits& f, const std::string& name) {
    // Trace centres of fibers 0..24 at a few wavelengths of the test grid (6000..6400 A).
    auto at = [&](int fiber, double wave, long dy, long dx, double value) {
      const long x = std::lround(psf.xtrace.evaluate(fiber, wave)) + dx;
      const long y = std::lround(psf.ytrace.evaluate(fiber, wave)) + dy;
      set_pixel(f, y, x, value);
    };
    const double nan = std::nan(""), inf = HUGE_VAL;
    if (name == "IMAGE") {
      at(3, 6100.0, 0, 0, nan);
      at(6, 6150.0, 1, 0, inf);
      at(9, 6200.0, 0, 1, -inf);
      // Fibers 20..24 lose every pixel from 6360 A to the end of the grid (ALLBADPIX bins).
      for (double w = 6360.0; w <= 6410.0; w += 0.2)
        for (int fiber = 20; fiber < 25; ++fiber)
          for (long dx = -6; dx <= 6; ++dx) at(fiber, w, 0, dx, nan);
    } else if (name == "IVAR") {
      at(12, 6050.0, 0, 0, nan);
      at(15, 6250.0, 0, 0, inf);
      at(17, 6300.0, 0, 0, -1.0);
      at(18, 6310.0, 1, 1, -1e30);
    }
  });
}

void make_psf_variants(const fs::path& dir, const std::string& psf) {
  auto out = [&](const char* name) { return (dir / name).string(); };
  fs::copy_file(psf, dir / "psf.fits", fs::copy_options::overwrite_existing);
  const std::string bytes = slurp(psf);
  spill(out("psf-not-fits.fits"), "GAUSS-HERMITE? no: a text file.\n");
  spill(out("psf-truncated.fits"), bytes.substr(0, bytes.size() / 2));
  auto for_type_hdus = [](const std::function<void(Fits&)>& change) {
    return [change](Fits& f, const std::string& name) {
      if (name == "XTRACE" || name == "PSF") change(f);
    };
  };
  copy_hdus(psf, out("psf-other-type.fits"), all_hdus,
            for_type_hdus([](Fits& f) { write_key_string(f, "PSFTYPE", "SPECTER"); }));
  copy_hdus(psf, out("psf-old-version.fits"), all_hdus, for_type_hdus([](Fits& f) {
              fits_update_key_lng(f.get(), "PSFVER", 2, nullptr, &f.status());
              f.check("writing PSFVER");
            }));
  copy_hdus(psf, out("psf-no-ytrace.fits"), [](const std::string& n, int) { return n != "YTRACE"; });
  copy_hdus(psf, out("psf-no-npix-y.fits"), all_hdus, [](Fits& f, const std::string& name) {
    if (name != "PSF") return;
    fits_delete_key(f.get(), "NPIX_Y", &f.status());
    f.check("deleting NPIX_Y");
  });
  copy_hdus(psf, out("psf-nan-coeff.fits"), all_hdus, [](Fits& f, const std::string& name) {
    if (name == "XTRACE") set_pixel(f, 7, 1, std::nan(""));
  });
  copy_hdus(psf, out("psf-bad-domain.fits"), all_hdus, [](Fits& f, const std::string& name) {
    if (name == "YTRACE") write_key_double(f, "WAVEMAX", 1000.0);
  });
  // PSF table with COEFF as a string column of the same width.
  copy_hdus(psf, out("psf-coeff-strings.fits"), all_hdus, [](Fits& f, const std::string& name) {
    if (name != "PSF") return;
    int col = 0;
    long rows = 0;
    fits_get_colnum(f.get(), CASEINSEN, const_cast<char*>("COEFF"), &col, &f.status());
    fits_get_num_rows(f.get(), &rows, &f.status());
    fits_delete_col(f.get(), col, &f.status());
    fits_insert_col(f.get(), col, const_cast<char*>("COEFF"), const_cast<char*>("500A"), &f.status());
    std::vector<std::string> values(static_cast<std::size_t>(rows), "1.0 2.0 3.0");
    std::vector<char*> ptrs;
    for (auto& v : values) ptrs.push_back(v.data());
    fits_write_col(f.get(), TSTRING, col, 1, 1, rows, ptrs.data(), &f.status());
    f.check("rewriting COEFF as strings");
  });
  // XTRACE as a binary table.
  {
    Fits in = Fits::open(psf);
    Fits f = Fits::create(out("psf-xtrace-table.fits"));
    for (int i = 0; i < in.hdu_count(); ++i) {
      const std::string name = in.move(i);
      if (name == "XTRACE") {
        add_image(f, "", {}, 0.0f);
        add_table(f, "XTRACE", 500);
        write_key_string(f, "PSFTYPE", "GAUSS-HERMITE");
      } else {
        fits_copy_hdu(in.get(), f.get(), 0, &f.status());
        f.check("copying " + name);
      }
    }
    f.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// make-reliability-inputs DIR PSF PREPROC: PSFs with impossible keywords or sigmas, images with values perfex must
// mask, spectra it must refuse, a header whose EXPTIME is no exposure time.

// Rewrites the COEFF row of PARAM `param` in the PSF table: edit(coeff, nfiber, ncoef).
void edit_psf_param(Fits& f, const std::string& param,
                    const std::function<void(std::vector<double>&, long, long)>& edit) {
  int pcol = 0, ccol = 0, typecode = 0;
  long rows = 0, repeat = 0, width = 0;
  fits_get_colnum(f.get(), CASEINSEN, const_cast<char*>("PARAM"), &pcol, &f.status());
  fits_get_colnum(f.get(), CASEINSEN, const_cast<char*>("COEFF"), &ccol, &f.status());
  fits_get_num_rows(f.get(), &rows, &f.status());
  fits_get_coltype(f.get(), ccol, &typecode, &repeat, &width, &f.status());
  f.check("reading the PSF table");
  long nfiber = 0;
  fits_read_key(f.get(), TLONG, "FIBERMAX", &nfiber, nullptr, &f.status());
  f.check("reading FIBERMAX");
  nfiber += 1;
  for (long row = 1; row <= rows; ++row) {
    char name[81] = {0};
    char* names[] = {name};
    int anynul = 0;
    fits_read_col(f.get(), TSTRING, pcol, row, 1, 1, nullptr, names, &anynul, &f.status());
    std::string n = name;
    while (!n.empty() && n.back() == ' ') n.pop_back();
    if (n != param) continue;
    std::vector<double> coeff(static_cast<std::size_t>(repeat));
    fits_read_col(f.get(), TDOUBLE, ccol, row, 1, repeat, nullptr, coeff.data(), &anynul, &f.status());
    edit(coeff, nfiber, repeat / nfiber);
    fits_write_col(f.get(), TDOUBLE, ccol, row, 1, repeat, coeff.data(), &f.status());
    f.check("rewriting PARAM " + param);
    return;
  }
  fail("no PARAM " + param + " in the PSF table");
}

void make_reliability_inputs(const fs::path& dir, const std::string& psf, const std::string& full) {
  auto out = [&](const char* name) { return (dir / name).string(); };
  auto psf_hdu = [](const char* which, const std::function<void(Fits&)>& change) {
    return [which, change](Fits& f, const std::string& name) {
      if (name == which) change(f);
    };
  };
  auto key_long = [](Fits& f, const char* key, long value) {
    fits_update_key_lng(f.get(), key, value, nullptr, &f.status());
    f.check(std::string("writing ") + key);
  };
  copy_hdus(psf, out("psf-psferr-negative.fits"), all_hdus,
            psf_hdu("PSF", [](Fits& f) { write_key_double(f, "PSFERR", -0.5); }));
  copy_hdus(psf, out("psf-psferr-zero.fits"), all_hdus,
            psf_hdu("PSF", [](Fits& f) { write_key_double(f, "PSFERR", 0.0); }));
  copy_hdus(psf, out("psf-fibermax-below.fits"), all_hdus, psf_hdu("XTRACE", [&](Fits& f) {
              key_long(f, "FIBERMIN", 10);
              key_long(f, "FIBERMAX", 3);
            }));
  copy_hdus(psf, out("psf-fibermin-negative.fits"), all_hdus,
            psf_hdu("PSF", [&](Fits& f) { key_long(f, "FIBERMIN", -5); }));
  copy_hdus(psf, out("psf-fibermax-count.fits"), all_hdus,
            psf_hdu("YTRACE", [&](Fits& f) { key_long(f, "FIBERMAX", 99); }));
  // GHSIGX negative for fiber 7 over the whole domain: refused when the file is read.
  copy_hdus(psf, out("psf-negative-sigma.fits"), all_hdus, psf_hdu("PSF", [](Fits& f) {
              edit_psf_param(f, "GHSIGX", [](std::vector<double>& c, long, long ncoef) {
                for (long k = 0; k < ncoef; ++k) c[static_cast<std::size_t>(7 * ncoef + k)] = k == 0 ? -0.5 : 0.0;
              });
            }));
  // GHSIGX = 0.505 - 0.5 x (x the reduced wavelength): positive on the domain, negative just past its red end,
  // where an extraction's padding bins go: the spot kernels fail there.
  copy_hdus(psf, out("psf-sigma-edge.fits"), all_hdus, psf_hdu("PSF", [](Fits& f) {
              edit_psf_param(f, "GHSIGX", [](std::vector<double>& c, long nfiber, long ncoef) {
                for (long i = 0; i < nfiber; ++i)
                  for (long k = 0; k < ncoef; ++k)
                    c[static_cast<std::size_t>(i * ncoef + k)] = k == 0 ? 0.505 : k == 1 ? -0.5 : 0.0;
              });
            }));

  const perfex::GaussHermitePsf model = perfex::io::read_psf(psf);
  auto at = [&](Fits& f, int fiber, double wave, double value) {
    const long x = std::lround(model.xtrace.evaluate(fiber, wave));
    const long y = std::lround(model.ytrace.evaluate(fiber, wave));
    set_pixel(f, y, x, value);
  };
  // Two pixels at +-1e30 with normal weights (they once gave fluxes of 2e30 across a patch), pixels near
  // float32's largest value, and one pixel with IVAR 1e20: all must be masked, the frame finite and sane.
  copy_hdus(full, out("huge-pixels.fits"), all_hdus, [&](Fits& f, const std::string& name) {
    if (name != "IMAGE") return;
    at(f, 5, 6200.0, 1e30);
    at(f, 6, 6210.0, -1e30);
  });
  copy_hdus(full, out("float32-max-pixels.fits"), all_hdus, [&](Fits& f, const std::string& name) {
    if (name != "IMAGE") return;
    for (double w = 6100.0; w < 6110.0; w += 1.0) at(f, 10, w, 3.3e38);
  });
  copy_hdus(full, out("ivar-huge.fits"), all_hdus, [&](Fits& f, const std::string& name) {
    if (name == "IVAR") at(f, 12, 6300.0, 1e20);
  });
  // IMAGE as int16 with BZERO 1e38: every pixel ~1e38, all masked; the frame must still be finite.
  {
    Fits in = Fits::open(full);
    Fits f = Fits::create(out("int16-bzero.fits"));
    for (int i = 0; i < in.hdu_count(); ++i) {
      const std::string extname = in.move(i);
      if (extname != "IMAGE") {
        fits_copy_hdu(in.get(), f.get(), 0, &f.status());
        f.check("copying " + extname);
        continue;
      }
      long naxes[2] = {0, 0};
      fits_get_img_size(in.get(), 2, naxes, &in.status());
      in.check("reading the IMAGE size");
      fits_create_img(f.get(), SHORT_IMG, 2, naxes, &f.status());
      write_key_string(f, "EXTNAME", "IMAGE");
      write_key_double(f, "BSCALE", 1.0);
      write_key_double(f, "BZERO", 1e38);
      fits_set_bscale(f.get(), 1.0, 0.0, &f.status());
      std::vector<short> zeros(static_cast<std::size_t>(naxes[0] * naxes[1]), 0);
      fits_write_img(f.get(), TSHORT, 1, static_cast<LONGLONG>(zeros.size()), zeros.data(), &f.status());
      f.check("writing the int16 IMAGE");
    }
    f.close();
  }
  // A target and a date, and an EXPTIME that is no exposure time.
  copy_hdus(full, out("exptime-bad.fits"), all_hdus, [&](Fits& f, const std::string& name) {
    if (name != "IMAGE") return;
    write_key_double(f, "TARGTRA", 150.0);
    write_key_double(f, "TARGTDEC", 30.0);
    write_key_double(f, "EXPTIME", 1e30);
  });
  // Input spectra for perfex simulate --spectra: one bin of 1e300 photons (refused), one of 1e15 (the largest
  // accepted: the pixels must come out finite).
  for (const auto& [name, value] : {std::pair{"spectra-huge.fits", 1e300}, std::pair{"spectra-1e15.fits", 1e15}}) {
    Fits f = Fits::create(out(name));
    add_image(f, "", {}, 0.0f);
    const long nfiber = 25, nwave = 501;
    std::vector<long> naxes = {nwave, nfiber};
    fits_create_img(f.get(), DOUBLE_IMG, 2, naxes.data(), &f.status());
    std::vector<double> photons(static_cast<std::size_t>(nfiber * nwave), 100.0);
    photons[static_cast<std::size_t>(3 * nwave + 250)] = value;
    fits_write_img(f.get(), TDOUBLE, 1, static_cast<LONGLONG>(photons.size()), photons.data(), &f.status());
    write_key_string(f, "EXTNAME", "PHOTONS");
    long n = nwave;
    fits_create_img(f.get(), DOUBLE_IMG, 1, &n, &f.status());
    std::vector<double> wave(static_cast<std::size_t>(nwave));
    for (long j = 0; j < nwave; ++j) wave[static_cast<std::size_t>(j)] = 6000.0 + 0.8 * static_cast<double>(j);
    fits_write_img(f.get(), TDOUBLE, 1, nwave, wave.data(), &f.status());
    write_key_string(f, "EXTNAME", "WAVELENGTH");
    f.check(std::string("writing ") + name);
    f.close();
  }
}

int make_inputs(const std::vector<std::string>& args) {
  if (args.size() != 3) fail("usage: make-inputs DIR PSF PREPROC");
  const fs::path dir = args[0];
  fs::create_directories(dir);
  make_psf_variants(dir, args[1]);
  make_preproc_variants(dir, args[2]);
  make_reliability_inputs(dir, args[1], args[2]);
  std::cout << "wrote the robustness inputs to " << dir.string() << "\n";
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// check-frame FRAME: every value of the float32 and (when present) float64 HDUs is finite, ivar >= 0, and
// some bins were constrained.

template <class View>
long count_bad(const View& v, bool non_negative) {
  long bad = 0;
  const auto* p = v.data();
  for (std::size_t k = 0; k < v.size(); ++k)
    if (!std::isfinite(p[k]) || (non_negative && p[k] < 0)) ++bad;
  return bad;
}

int check_frame(std::vector<std::string> args) {
  // --allow-unconstrained: every bin may have ivar 0 (an image whose pixels are all masked); --max-abs-flux X:
  // no flux beyond X (poisoned pixels must not leak into the fluxes).
  bool allow_unconstrained = false;
  double max_abs_flux = HUGE_VAL;
  for (std::size_t i = 0; i < args.size();) {
    if (args[i] == "--allow-unconstrained") {
      allow_unconstrained = true;
      args.erase(args.begin() + static_cast<long>(i));
    } else if (args[i] == "--max-abs-flux" && i + 1 < args.size()) {
      max_abs_flux = std::stod(args[i + 1]);
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
    } else {
      ++i;
    }
  }
  if (args.size() != 1) fail("usage: check-frame [--allow-unconstrained] [--max-abs-flux X] FRAME");
  for (bool float64 : {false, true}) {
    const perfex::io::Frame frame = perfex::io::read_frame(args[0], float64);
    if (float64 && !frame.exact) continue;
    const auto& d = frame.data;
    const char* kind = frame.exact ? "float64" : "float32";
    const long bad = count_bad(d.flux, false) + count_bad(d.ivar, true) + count_bad(d.resolution, false) +
                     count_bad(d.chi2pix, true);
    if (bad > 0)
      fail(args[0] + ": " + std::to_string(bad) + " non-finite (or negative ivar/chi2pix) values in the " + kind +
           " HDUs");
    for (std::size_t k = 0; k < d.flux.size(); ++k)
      if (std::fabs(d.flux.data()[k]) > max_abs_flux)
        fail(args[0] + ": a flux of " + std::to_string(d.flux.data()[k]) + " in the " + kind + " HDUs, beyond " +
             std::to_string(max_abs_flux));
    long constrained = 0;
    for (std::size_t k = 0; k < d.ivar.size(); ++k) constrained += d.ivar.data()[k] > 0;
    if (!allow_unconstrained && constrained * 2 < static_cast<long>(d.ivar.size()))
      fail(args[0] + ": only " + std::to_string(constrained) + " of " + std::to_string(d.ivar.size()) +
           " bins have ivar > 0");
    long masked = 0;
    for (std::size_t k = 0; k < frame.mask.size(); ++k) masked += frame.mask.data()[k] != 0;
    std::cout << args[0] << " (" << kind << "): " << d.nspec << " x " << d.nwave << " bins, all finite, " << constrained
              << " with ivar > 0, " << masked << " masked\n";
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// make-degenerate DIR PSF PREPROC: inputs whose normal matrices are singular in some patches (issue #19):
// psf-duplicate-fiber.fits, where fiber 2 is a copy of fiber 3 moved by 1e-6 pixel in x; and two inputs
// that no longer degenerate any patch since pixels heavier than perfex::max_pixel_ivar are masked
// (core/pixel_limits.hpp): preproc-huge-ivar.fits, where one pixel on fiber 12's trace at 6200 A has IVAR 1e20,
// and preproc-max-ivar.fits, where it has the largest IVAR extraction uses.

int make_degenerate(const std::vector<std::string>& args) {
  if (args.size() != 3) fail("usage: make-degenerate DIR PSF PREPROC");
  const fs::path dir = args[0];
  fs::create_directories(dir);
  perfex::GaussHermitePsf psf = perfex::io::read_psf(args[1]);
  auto duplicate = [](perfex::LegendreSeries& s, int to, int from) {
    for (int k = 0; k < s.ncoef; ++k) s.coeff[static_cast<std::size_t>(to) * s.ncoef + k] = s.at(from, k);
  };
  duplicate(psf.xtrace, 2, 3);
  duplicate(psf.ytrace, 2, 3);
  for (auto& p : psf.params) duplicate(p.series, 2, 3);
  psf.xtrace.coeff[static_cast<std::size_t>(2) * psf.xtrace.ncoef] += 1e-6;  // P_0 = 1: the trace moves by 1e-6
  perfex::io::write_psf(psf, (dir / "psf-duplicate-fiber.fits").string(), true);

  perfex::io::PreprocImage image = perfex::io::read_preproc(args[2]);
  const perfex::GaussHermitePsf original = perfex::io::read_psf(args[1]);
  const long y = std::lround(original.ytrace.evaluate(12, 6200.0));
  const long x = std::lround(original.xtrace.evaluate(12, 6200.0));
  image.mask(y, x) = 0;
  perfex::io::PreprocWriteOptions options;
  options.overwrite = true;
  for (const auto& [name, ivar] :
       {std::pair{"preproc-huge-ivar.fits", 1e20}, std::pair{"preproc-max-ivar.fits", perfex::max_pixel_ivar}}) {
    image.ivar(y, x) = ivar;
    perfex::io::write_preproc((dir / name).string(), image, options);
    std::cout << "wrote " << (dir / name).string() << " (IVAR " << ivar << " at y " << y << ", x " << x << ")\n";
  }
  std::cout << "wrote " << (dir / "psf-duplicate-fiber.fits").string() << "\n";
  return 0;
}

// check-unsolved FRAME REFERENCE LO HI [all]: FRAME completed with finite values (float32 and float64 HDUs);
// its unsolved bins (ivar 0 and BAD2DFIT where REFERENCE, the same input without the defect, has ivar > 0;
// REFERENCE "-" when there is none) exist, lie in fibers LO..HI only and have flux 0, and with `all` every
// bin of those fibers is unsolved; every other fiber keeps ivar > 0 wherever REFERENCE has it.

int check_unsolved(const std::vector<std::string>& args) {
  if (args.size() != 4 && !(args.size() == 5 && args[4] == "all"))
    fail("usage: check-unsolved FRAME REFERENCE LO HI [all]");
  for (bool float64 : {false, true}) {
    const perfex::io::Frame f = perfex::io::read_frame(args[0], float64);
    const auto& v = f.data;
    if (count_bad(v.flux, false) + count_bad(v.ivar, true) + count_bad(v.resolution, false) +
            count_bad(v.chi2pix, true) >
        0)
      fail(args[0] + ": non-finite (or negative ivar/chi2pix) values in the " + (float64 ? "float64" : "float32") +
           " HDUs");
  }
  const perfex::io::Frame frame = perfex::io::read_frame(args[0], true);
  const bool with_reference = args[1] != "-";
  perfex::io::Frame reference;
  if (with_reference) reference = perfex::io::read_frame(args[1], true);
  const int lo = std::stoi(args[2]), hi = std::stoi(args[3]);
  const bool all = args.size() == 5;
  const auto& d = frame.data;
  constexpr std::uint32_t bad2dfit = 1u << 7;
  long unsolved = 0, lost = 0, misplaced = 0, missing = 0, nonzero_flux = 0;
  for (int i = 0; i < d.nspec; ++i) {
    const int fiber = d.specmin + i;
    const bool affected = fiber >= lo && fiber <= hi;
    for (int j = 0; j < d.nwave; ++j) {
      const bool had = !with_reference || reference.data.ivar(i, j) > 0.0;
      const bool is_unsolved = had && d.ivar(i, j) == 0.0 && (frame.mask(i, j) & bad2dfit) != 0;
      if (is_unsolved) {
        ++unsolved;
        if (!affected) ++misplaced;
        if (d.flux(i, j) != 0.0) ++nonzero_flux;
      } else if (affected && all && had) {
        ++missing;
      }
      if (!affected && had && !(d.ivar(i, j) > 0.0)) ++lost;
    }
  }
  std::cout << args[0] << ": " << unsolved << " unsolved bins (fibers " << lo << ".." << hi << "), " << misplaced
            << " elsewhere, " << missing << " of those fibers' bins not unsolved, " << lost
            << " bins of other fibers lost their ivar\n";
  if (unsolved == 0) fail(args[0] + ": no unsolved bin");
  if (misplaced > 0 || lost > 0 || nonzero_flux > 0 || missing > 0)
    fail(args[0] + ": unsolved bins outside fibers " + args[2] + ".." + args[3] +
         ", lost ivar, non-zero flux or solved bins");
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// same-data A B: the same HDUs (EXTNAMEs, in order) with byte-identical data units; headers may differ.

int same_data(const std::vector<std::string>& args) {
  if (args.size() != 2) fail("usage: same-data A B");
  Fits a = Fits::open(args[0]);
  Fits b = Fits::open(args[1]);
  const std::string bytes_a = slurp(args[0]), bytes_b = slurp(args[1]);
  const int n = a.hdu_count();
  if (b.hdu_count() != n)
    fail(args[0] + " has " + std::to_string(n) + " HDUs, " + args[1] + " " + std::to_string(b.hdu_count()));
  for (int i = 0; i < n; ++i) {
    const std::string name_a = a.move(i), name_b = b.move(i);
    if (name_a != name_b) fail("HDU " + std::to_string(i) + " is " + name_a + " in A and " + name_b + " in B");
    LONGLONG ha = 0, da = 0, ea = 0, hb = 0, db = 0, eb = 0;
    fits_get_hduaddrll(a.get(), &ha, &da, &ea, &a.status());
    fits_get_hduaddrll(b.get(), &hb, &db, &eb, &b.status());
    a.check("locating HDU");
    b.check("locating HDU");
    const std::string_view data_a(bytes_a.data() + da, static_cast<std::size_t>(ea - da));
    const std::string_view data_b(bytes_b.data() + db, static_cast<std::size_t>(eb - db));
    if (data_a != data_b) {
      std::size_t k = 0;
      while (k < data_a.size() && k < data_b.size() && data_a[k] == data_b[k]) ++k;
      fail("HDU " + std::to_string(i) + " (" + name_a + ") differs: " + std::to_string(data_a.size()) + " vs " +
           std::to_string(data_b.size()) + " data bytes, first difference at byte " + std::to_string(k));
    }
    std::cout << "HDU " << i << " (" << (name_a.empty() ? "primary" : name_a) << "): " << data_a.size()
              << " data bytes identical\n";
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// interrupt SIGNAL WHEN OUTDIR NAMES -- PROGRAM ARGS...: runs the program, sends SIGNAL (TERM or INT) once
// WHEN holds ("progress": a "bundle" progress line on stderr; "temp": a temporary ".NAME.tmp-*" of the first
// of NAMES exists in OUTDIR), and checks the exit status 128 + SIGNAL, the message, and that OUTDIR holds
// none of NAMES (comma-separated) and no temporary file.

bool has_temporary(const fs::path& dir, const std::string& name) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if (f.find(".tmp-") != std::string::npos && (name.empty() || f.rfind("." + name + ".tmp-", 0) == 0)) return true;
  }
  return false;
}

int interrupt(const std::vector<std::string>& args) {
  if (args.size() < 6 || args[4] != "--")
    fail("usage: interrupt TERM|INT progress|temp OUTDIR NAMES -- PROGRAM ARGS...");
  const int sig = args[0] == "TERM" ? SIGTERM : args[0] == "INT" ? SIGINT : args[0] == "HUP" ? SIGHUP : 0;
  if (sig == 0) fail("unknown signal " + args[0]);
  const std::string when = args[1];
  const fs::path outdir = args[2];
  std::vector<std::string> names;
  for (std::size_t p = 0, q; p <= args[3].size(); p = q + 1) {
    q = args[3].find(',', p);
    if (q == std::string::npos) q = args[3].size();
    names.push_back(args[3].substr(p, q - p));
  }
  fs::create_directories(outdir);
  for (const auto& e : fs::directory_iterator(outdir)) fs::remove_all(e.path());

  int pipe_fd[2];
  if (pipe(pipe_fd) != 0) fail("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) fail("fork failed");
  if (pid == 0) {
    dup2(pipe_fd[1], STDERR_FILENO);
    close(pipe_fd[0]);
    close(pipe_fd[1]);
    std::vector<char*> argv;
    for (std::size_t i = 5; i < args.size(); ++i) argv.push_back(const_cast<char*>(args[i].c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fd[1]);
  fcntl(pipe_fd[0], F_SETFL, O_NONBLOCK);
  std::string err;
  auto drain = [&] {
    char buffer[4096];
    for (ssize_t n; (n = read(pipe_fd[0], buffer, sizeof(buffer))) > 0;)
      err.append(buffer, static_cast<std::size_t>(n));
  };
  const auto start = std::chrono::steady_clock::now();
  bool sent = false;
  int status = 0;
  while (!sent) {
    pollfd p{pipe_fd[0], POLLIN, 0};
    poll(&p, 1, 1);  // 1 ms: a temporary file of a large output lives far longer
    drain();
    bool ready = false;
    if (when == "progress") {
      ready = err.find(": bundle ") != std::string::npos;
    } else if (when == "outputs") {  // every output in place: the commit point is passed
      ready = true;
      for (const auto& name : names) ready = ready && fs::exists(outdir / name);
    } else {
      ready = has_temporary(outdir, names[0]);
    }
    if (ready) {
      kill(pid, sig);
      sent = true;
      break;
    }
    if (waitpid(pid, &status, WNOHANG) == pid) {
      drain();
      fail("the program ended (status " + std::to_string(status) + ") before the interruption point '" + when +
           "'; stderr:\n" + err);
    }
    if (std::chrono::steady_clock::now() - start > std::chrono::minutes(10)) {
      kill(pid, SIGKILL);
      fail("the interruption point '" + when + "' was not reached in 10 minutes");
    }
  }
  const double at = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  waitpid(pid, &status, 0);
  fcntl(pipe_fd[0], F_SETFL, 0);
  drain();
  close(pipe_fd[0]);
  std::cerr << err;
  if (when == "outputs") {
    // After the commit: the outputs stay, complete, and perfex either finished (exit 0) or says it was
    // interrupted without claiming to have removed anything.
    const bool finished = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    const bool signalled = WIFEXITED(status) && WEXITSTATUS(status) == 128 + sig;
    if (!finished && !signalled) fail("expected exit 0 or " + std::to_string(128 + sig) + " after the commit");
    if (signalled && err.find("temporary output removed") != std::string::npos)
      fail("the outputs are in place, yet perfex says it removed its temporary output");
    for (const auto& name : names)
      if (!fs::exists(outdir / name)) fail((outdir / name).string() + " was removed after the commit");
    if (has_temporary(outdir, "")) fail(outdir.string() + " holds a temporary file");
    std::cout << "SIG" << args[0] << " after the commit (" << at << " s): " << (finished ? "exit 0" : "interrupted")
              << ", every output kept, nothing claimed removed\n";
    return 0;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 128 + sig)
    fail("expected exit status " + std::to_string(128 + sig) + " after signal " + args[0] + " at " +
         std::to_string(at) + " s, got " +
         (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                            : "signal " + std::to_string(WTERMSIG(status))));
  if (err.find("interrupted") == std::string::npos) fail("no 'interrupted' message on stderr");
  for (const auto& name : names)
    if (fs::exists(outdir / name)) fail((outdir / name).string() + " exists after the interruption");
  if (has_temporary(outdir, "")) fail(outdir.string() + " holds a temporary file after the interruption");
  std::cout << "SIG" << args[0] << " at " << at << " s: exit " << 128 + sig << ", " << outdir.string()
            << " holds no output and no temporary file\n";
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 2) {
    std::cerr << "usage: perfex_robustness_tool make-inputs|make-degenerate|check-frame|check-unsolved|check-preproc|"
                 "same-data|interrupt|interrupt-sweep|make-special|full-disk|limit|as-user ...\n";
    return 2;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  // No Kokkos: fork-safe and fast (full-disk needs a single thread for its namespaces).
  const std::map<std::string, int (*)(const std::vector<std::string>&)> plain = {
      {"interrupt", interrupt},
      {"same-data", same_data},
      {"interrupt-sweep", reliability::interrupt_sweep},
      {"make-special", reliability::make_special},
      {"full-disk", [](const std::vector<std::string>& a) { return reliability::full_disk(a); }},
      {"limit", reliability::limit},
      {"as-user", reliability::as_user},
      {"check-preproc", reliability::check_preproc}};
  if (const auto it = plain.find(command); it != plain.end()) {
    int rc = 1;
    try {
      rc = it->second(args);
    } catch (const std::exception& e) {
      std::cerr << "perfex_robustness_tool " << command << ": " << e.what() << "\n";
    }
    // These steps read what an earlier step made with the perfex program; in a CUDA build without a GPU that
    // step skipped, so a failure here is a skip too (the device is only asked after the command, which may fork).
    if (rc != 0)
      if (const std::string missing = perfex::backends::missing_device(); !missing.empty()) {
        std::cout << "perfex_robustness_tool " << command << ": " << missing << ": skipping\n";
        return 0;
      }
    return rc;
  }
  // A CUDA build without a GPU (CI): say so, ctest marks the test skipped (cmake/PerfexCuda.cmake).
  if (const std::string missing = perfex::backends::missing_device(); !missing.empty()) {
    std::cout << "perfex_robustness_tool " << command << ": " << missing << ": skipping\n";
    return 0;
  }
  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    if (command == "make-inputs") return make_inputs(args);
    if (command == "check-frame") return check_frame(args);
    if (command == "make-degenerate") return make_degenerate(args);
    if (command == "check-unsolved") return check_unsolved(args);
    std::cerr << "unknown command " << command << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "perfex_robustness_tool " << command << ": " << e.what() << "\n";
    return 1;
  }
}
