// Preproc images (IMAGE, IVAR, MASK, FIBERMAP) read for extraction and written by the simulator, the
// simulator's input spectra and truth files, and byte-for-byte copies of fibermap rows.
#include "perfex/io/preproc_io.hpp"

#include <fitsio.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "perfex/core/ccd_mask.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/pixel_limits.hpp"
#include "perfex/core/simulate.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/fits_checksum.hpp"
#include "perfex/io/header_cards.hpp"
#include "perfex/io/helper_threads.hpp"
#include "plain_pixels.hpp"

namespace perfex::io {

namespace {

fitsfile* fp(FitsFile& f) { return static_cast<fitsfile*>(f.raw()); }

// Largest image perfex reads (4 x a DESI frame would be 68M pixels): bounds allocations for bad headers.
constexpr long long k_max_pixels = 1LL << 28;
// Largest fibermap kept byte for byte.
constexpr long long k_max_table_bytes = 1LL << 28;

std::string number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", v);
  return text;
}

std::string shape_text(const std::vector<long>& shape) {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? " x " : "") + std::to_string(shape[i]);
  return shape.empty() ? "no data" : s;
}

// The current HDU's 2D shape {rows, columns}; data error when it is not a non-empty 2D image.
std::vector<long> require_2d(FitsFile& f, const std::string& hdu) {
  const auto shape = f.image_shape();
  if (shape.size() != 2 || shape[0] < 1 || shape[1] < 1)
    throw_data_error(f.path() + ": HDU " + hdu + " must be a 2D image, found " + shape_text(shape));
  if (static_cast<long long>(shape[0]) * shape[1] > k_max_pixels)
    throw_data_error(f.path() + ": HDU " + hdu + " is too large (" + shape_text(shape) + ")");
  return shape;
}

void require_same_shape(FitsFile& f, const std::string& hdu, const std::vector<long>& shape,
                        const std::vector<long>& image_shape) {
  if (shape != image_shape)
    throw_data_error(f.path() + ": HDU " + hdu + " has shape " + shape_text(shape) + " but HDU IMAGE has " +
                     shape_text(image_shape));
}

// Reads the current image HDU (any BITPIX, compressed or not) straight into `dst`.
void read_image_into(FitsFile& f, int datatype, void* dst, long long n) {
  f.check_compressed_image();
  int status = 0, anynul = 0;
  fits_read_img(fp(f), datatype, 1, n, nullptr, dst, &anynul, &status);
  f.check(status, "reading image data");
}

// Strings go through the long-string convention (CONTINUE cards), so file paths are never truncated.
void write_keyword(FitsFile& f, const HeaderKeyword& k) {
  if (const auto* text = std::get_if<std::string>(&k.value)) {
    int status = 0;
    fits_update_key_longstr(fp(f), k.key.c_str(), text->c_str(), k.comment.c_str(), &status);
    f.check(status, "writing keyword " + k.key);
    return;
  }
  std::visit([&](const auto& v) { f.write_key(k.key, v, k.comment); }, k.value);
}

bool is_indexed_key(const std::string& name, const char* prefix) {
  const std::size_t n = std::strlen(prefix);
  if (name.size() <= n || name.compare(0, n, prefix) != 0) return false;
  return std::all_of(name.begin() + static_cast<long>(n), name.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// Cards that fits_create_tbl writes itself, or that would be wrong for a copy.
bool is_structural_card(const std::string& name) {
  static const char* const fixed[] = {"XTENSION", "BITPIX",  "NAXIS",    "NAXIS1",  "NAXIS2", "PCOUNT", "GCOUNT",
                                      "TFIELDS",  "EXTNAME", "CHECKSUM", "DATASUM", "THEAP",  "END",    ""};
  for (const char* k : fixed)
    if (name == k) return true;
  return is_indexed_key(name, "TTYPE") || is_indexed_key(name, "TFORM") || is_indexed_key(name, "TUNIT");
}

// The current binary-table HDU byte for byte, or nullopt for tables that cannot be copied that way
// (ASCII tables, variable-length array columns).
std::optional<RawTable> raw_table(FitsFile& f, const std::string& extname) {
  int status = 0, hdutype = 0;
  fits_get_hdu_type(fp(f), &hdutype, &status);
  f.check(status, "reading the HDU type");
  if (hdutype != BINARY_TBL) return std::nullopt;
  RawTable t;
  t.extname = extname;
  t.nrows = f.table_rows();
  fits_get_num_cols(fp(f), &t.ncolumns, &status);
  f.check(status, "reading TFIELDS");
  t.row_bytes = static_cast<long>(f.require_key_int("NAXIS1"));
  for (int c = 1; c <= t.ncolumns; ++c) {
    const std::string n = std::to_string(c);
    t.names.push_back(f.read_key_string("TTYPE" + n).value_or("COL" + n));
    t.forms.push_back(f.require_key_string("TFORM" + n));
    t.units.push_back(f.read_key_string("TUNIT" + n).value_or(""));
    {
      char value[FLEN_VALUE] = {0}, comment[FLEN_COMMENT] = {0};
      int s = 0;
      fits_read_keyword(fp(f), ("TTYPE" + n).c_str(), value, comment, &s);
      if (s != 0) fits_clear_errmsg();
      t.comments.emplace_back(s == 0 ? comment : "");
    }
    const std::string& form = t.forms.back();
    if (form.find_first_of("PpQq") != std::string::npos) return std::nullopt;
  }
  if (t.row_bytes < 0 || t.nrows < 0 || static_cast<long long>(t.row_bytes) * t.nrows > k_max_table_bytes)
    throw_data_error(f.where() + ": the table is too large to keep (" + std::to_string(t.nrows) + " rows of " +
                     std::to_string(t.row_bytes) + " bytes)");
  int nkeys = 0, more = 0;
  fits_get_hdrspace(fp(f), &nkeys, &more, &status);
  f.check(status, "reading the header size");
  for (int i = 1; i <= nkeys; ++i) {
    char card[FLEN_CARD] = {0};
    fits_read_record(fp(f), i, card, &status);
    f.check(status, "reading header card " + std::to_string(i));
    char name[FLEN_KEYWORD] = {0};
    int length = 0;
    fits_get_keyname(card, name, &length, &status);
    if (status != 0) {  // an unparsable card: not worth failing the read for
      status = 0;
      fits_clear_errmsg();
      continue;
    }
    if (is_structural_card(name)) continue;
    t.cards.emplace_back(card);
  }
  t.rows.resize(static_cast<std::size_t>(t.row_bytes) * static_cast<std::size_t>(t.nrows));
  if (!t.rows.empty()) {
    fits_read_tblbytes(fp(f), 1, 1, static_cast<LONGLONG>(t.rows.size()), t.rows.data(), &status);
    f.check(status, "reading the table rows");
  }
  return t;
}

Fibermap read_fibermap(FitsFile& f) {
  f.move_to("FIBERMAP");
  Fibermap fm;
  fm.raw = raw_table(f, "FIBERMAP");
  const long n = f.table_rows();
  auto int_column = [&](const std::string& name, long long fallback) {
    std::vector<long long> v;
    if (f.find_column(name)) {
      if (f.column_repeat(name) != 1) throw_data_error(f.where() + ": column " + name + " must hold one value per row");
      v = f.read_column_int(name);
    } else {
      v.assign(static_cast<std::size_t>(n), fallback);
      for (long i = 0; i < n && fallback < 0; ++i) v[static_cast<std::size_t>(i)] = i;  // FIBER: row number
    }
    return v;
  };
  for (long long v : int_column("FIBER", -1)) fm.fiber.push_back(static_cast<std::int32_t>(v));
  fm.targetid = int_column("TARGETID", 0);
  for (long long v : int_column("FIBERSTATUS", 0)) fm.fiberstatus.push_back(static_cast<std::int32_t>(v));
  if (f.find_column("OBJTYPE")) fm.objtype = f.read_column_string("OBJTYPE");
  return fm;
}

// sum over [0, n) of count(begin, end) on contiguous ranges, in up to four threads (the process's CPUs).
template <class Count>
long long parallel_count(long long n, const Count& count) {
  std::vector<long long> counts(4, 0);
  run_in_parts(n, 1 << 20, 4, [&](int k, int parts) {
    const auto [begin, end] = part_range(n, k, parts);
    counts[static_cast<std::size_t>(k)] = count(begin, end);
  });
  long long total = 0;
  for (long long c : counts) total += c;
  return total;
}

template <class T>
std::vector<T> converted(const HostView<double**>& v) {
  std::vector<T> out(v.size());
  std::size_t k = 0;
  for (std::size_t y = 0; y < v.extent(0); ++y)
    for (std::size_t x = 0; x < v.extent(1); ++x) out[k++] = static_cast<T>(v(y, x));
  return out;
}

void set_compression(FitsFile& f, int type) {
  int status = 0;
  fits_set_compression_type(fp(f), type, &status);
  f.check(status, "setting the tile compression");
}

}  // namespace

std::optional<RawTable> read_raw_table(FitsFile& f, const std::string& extname) { return raw_table(f, extname); }

PreprocImage read_preproc(const std::string& path) {
  FitsFile f(path, FitsFile::Mode::Read);
  return read_preproc(f);
}

PreprocImage read_preproc(FitsFile& f) {
  PreprocImage out;
  out.source = f.path();

  // IMAGE: by name, else a 2D primary array (older files leave the primary unnamed).
  const bool named_image = f.has_hdu("IMAGE");
  const auto image_hdu = [&] {
    if (named_image)
      f.move_to("IMAGE");
    else
      f.move_to_index(0);
  };
  image_hdu();
  if (!named_image) {
    // Only an unnamed (or PRIMARY) primary array stands for IMAGE: a primary named IVAR is not the image.
    const std::string primary = f.current_hdu_name();
    const bool unnamed = primary == "HDU 0" || primary == "PRIMARY";
    if (!unnamed || f.image_shape().size() != 2) throw_data_error(f.path() + ": HDU IMAGE is missing");
  }
  const auto shape = require_2d(f, "IMAGE");
  out.npix_y = static_cast<int>(shape[0]);
  out.npix_x = static_cast<int>(shape[1]);
  const long long npix = static_cast<long long>(shape[0]) * shape[1];

  PreprocHeader& h = out.header;
  h.camera = f.read_key_string("CAMERA").value_or("");
  h.expid = f.read_key_int("EXPID");
  h.night = f.read_key_int("NIGHT");
  h.mjd_obs = f.read_key_double("MJD-OBS");
  h.exptime = f.read_key_double("EXPTIME");
  h.flavor = f.read_key_string("FLAVOR").value_or(f.read_key_string("OBSTYPE").value_or(""));
  h.ra = f.read_key_double("RA");
  if (!h.ra) h.ra = f.read_key_double("TELRA");
  h.dec = f.read_key_double("DEC");
  if (!h.dec) h.dec = f.read_key_double("TELDEC");
  h.fibermin = f.read_key_int("FIBERMIN");
  h.cards = read_header_cards(f);

  // IMAGE and IVAR of a plain file are read in threads of their own (pread, FitsFile::plain_pixels) while
  // CFITSIO reads MASK and FIBERMAP on this thread; other files (gzip, tile-compressed or integer images)
  // through CFITSIO here. Every view is allocated without Kokkos' initialisation kernel, so that the reader
  // also runs off Kokkos' master thread (extract-exposure reads the next frame in an I/O thread).
  const std::optional<FitsFile::PlainPixels> plain_image = f.plain_pixels();
  out.image = HostView<double**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::preproc::image"), out.npix_y,
                                 out.npix_x);
  f.move_to("IVAR");
  require_same_shape(f, "IVAR", f.image_shape(), shape);
  const std::optional<FitsFile::PlainPixels> plain_ivar = f.plain_pixels();
  out.ivar = HostView<double**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::preproc::ivar"), out.npix_y,
                                out.npix_x);
  out.mask = HostView<std::int32_t**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::preproc::mask"),
                                      out.npix_y, out.npix_x);
  {
    // Each plain HDU in two halves (with CFITSIO's MASK, five threads on two cores finish together: one
    // reader per HDU left a thread alone at the end).
    HelperThreads readers;
    const int halves = process_cpu_count() > 1 ? 2 : 1;
    auto read_in_halves = [&](const FitsFile::PlainPixels& src, const char* hdu, double* dst) {
      for (int k = 0; k < halves; ++k)
        readers.run([&src, hdu, dst, k, halves, npix] {
          const auto [first, last] = part_range(npix, k, halves);
          detail::read_plain_pixels(src, hdu, dst, first, last - first);
        });
    };
    if (plain_image) read_in_halves(*plain_image, "IMAGE", out.image.data());
    if (plain_ivar) read_in_halves(*plain_ivar, "IVAR", out.ivar.data());
    if (!plain_ivar) read_image_into(f, TDOUBLE, out.ivar.data(), npix);  // (f is at IVAR)
    if (!plain_image) {
      image_hdu();
      read_image_into(f, TDOUBLE, out.image.data(), npix);
    }
    if (f.has_hdu("MASK")) {
      f.move_to("MASK");
      require_same_shape(f, "MASK", f.image_shape(), shape);
      read_image_into(f, TINT, out.mask.data(), npix);
      out.has_mask = true;
    } else {
      std::fill_n(out.mask.data(), npix, 0);
    }
    if (f.has_hdu("FIBERMAP")) out.fibermap = read_fibermap(f);
    readers.join();  // rethrows a reader's error
  }

  // Weights extraction can use: masked pixels get ivar 0; non-finite values, negative ivar and values or ivar
  // beyond what the arithmetic holds (core/pixel_limits.hpp) get ivar 0 and image 0, so nothing downstream
  // multiplies a NaN or an overflowing value by a zero weight. In parallel over rows of pixels.
  double* img = out.image.data();
  double* iv = out.ivar.data();
  const std::int32_t* m = out.mask.data();
  out.n_invalid = parallel_count(npix, [&](long long begin, long long end) {
    long long invalid = 0;
    for (long long p = begin; p < end; ++p) {
      if (!usable_pixel(img[p], iv[p])) {
        ++invalid;
        img[p] = 0.0;
        iv[p] = 0.0;
      } else if (ccd_mask::excludes(m[p])) {  // (stored only where it changes: half the pass's memory traffic)
        iv[p] = 0.0;
      }
    }
    return invalid;
  });
  return out;
}

long read_fibermap_rows(const std::string& path) {
  FitsFile f(path, FitsFile::Mode::Read);
  f.move_to("FIBERMAP");
  return f.table_rows();
}

void write_raw_table(FitsFile& f, const RawTable& t, long first, long count, const std::string& extname) {
  const std::string what = extname.empty() ? t.extname : extname;
  if (first < 0 || count < 0 || first + count > t.nrows)
    throw_usage_error("table " + what + " rows " + std::to_string(first) + ".." + std::to_string(first + count - 1) +
                      " are outside its " + std::to_string(t.nrows) + " rows");
  {
    std::vector<char*> names, forms, units;
    for (int c = 0; c < t.ncolumns; ++c) {
      names.push_back(const_cast<char*>(t.names[c].c_str()));
      forms.push_back(const_cast<char*>(t.forms[c].c_str()));
      units.push_back(const_cast<char*>(t.units[c].c_str()));
    }
    int status = 0;
    fits_create_tbl(fp(f), BINARY_TBL, count, t.ncolumns, names.data(), forms.data(), units.data(), what.c_str(),
                    &status);
    f.check(status, "creating table HDU " + what);
    for (const std::string& card : t.cards) {
      fits_write_record(fp(f), card.c_str(), &status);
      f.check(status, "copying a " + what + " header card");
    }
    fits_set_hdustruc(fp(f), &status);  // re-read the column scalings (TZEROn...) just written
    f.check(status, "reading back the " + what + " header");
    if (f.require_key_int("NAXIS1") != t.row_bytes)
      throw_data_error(f.where() + ": the copied " + what + " columns do not add up to the original row width");
    if (count > 0) {
      fits_write_tblbytes(fp(f), 1, 1, static_cast<LONGLONG>(count) * t.row_bytes,
                          const_cast<unsigned char*>(t.rows.data()) + static_cast<std::size_t>(first) * t.row_bytes,
                          &status);
      f.check(status, "writing the " + what + " rows");
    }
  }
  for (std::size_t c = 0; c < t.comments.size() && c < static_cast<std::size_t>(t.ncolumns); ++c) {
    if (t.comments[c].empty()) continue;
    int status = 0;
    fits_modify_comment(fp(f), ("TTYPE" + std::to_string(c + 1)).c_str(), t.comments[c].c_str(), &status);
    f.check(status, "writing the comment of column " + t.names[c]);
  }
}

void write_fibermap(FitsFile& f, const Fibermap& fm, long first, long count) {
  if (first < 0 || count < 0 || first + count > fm.size())
    throw_usage_error("fibermap rows " + std::to_string(first) + ".." + std::to_string(first + count - 1) +
                      " are outside its " + std::to_string(fm.size()) + " rows");
  if (fm.raw && fm.raw->nrows == fm.size()) {
    write_raw_table(f, *fm.raw, first, count, "FIBERMAP");
    return;
  }
  std::size_t width = 3;
  for (const auto& s : fm.objtype) width = std::max(width, s.size());
  f.create_table("FIBERMAP",
                 {{"FIBER", "J"}, {"TARGETID", "K"}, {"OBJTYPE", std::to_string(width) + "A"}, {"FIBERSTATUS", "J"}},
                 count);
  if (count == 0) return;
  const auto b = static_cast<std::size_t>(first), e = static_cast<std::size_t>(first + count);
  f.write_column("FIBER", std::vector<std::int32_t>(fm.fiber.begin() + b, fm.fiber.begin() + e));
  std::vector<LONGLONG> targetid(static_cast<std::size_t>(count), 0);
  for (std::size_t i = b; i < e && i < fm.targetid.size(); ++i) targetid[i - b] = fm.targetid[i];
  int status = 0;
  fits_write_col(fp(f), TLONGLONG, f.column_number("TARGETID"), 1, 1, count, targetid.data(), &status);
  f.check(status, "writing column TARGETID");
  std::vector<std::string> objtype(static_cast<std::size_t>(count));
  for (std::size_t i = b; i < e && i < fm.objtype.size(); ++i) objtype[i - b] = fm.objtype[i];
  f.write_column("OBJTYPE", objtype);
  std::vector<std::int32_t> status_col(static_cast<std::size_t>(count), 0);
  for (std::size_t i = b; i < e && i < fm.fiberstatus.size(); ++i) status_col[i - b] = fm.fiberstatus[i];
  f.write_column("FIBERSTATUS", status_col);
}

void write_preproc(FitsFile& f, const PreprocImage& data, const PreprocWriteOptions& options) {
  const std::vector<long> dims = {data.npix_y, data.npix_x};
  auto check_view = [&](std::size_t ny, std::size_t nx, const char* what) {
    if (ny != static_cast<std::size_t>(data.npix_y) || nx != static_cast<std::size_t>(data.npix_x))
      throw_usage_error(std::string("write_preproc: ") + what + " is " + std::to_string(ny) + " x " +
                        std::to_string(nx) + ", the image " + std::to_string(data.npix_y) + " x " +
                        std::to_string(data.npix_x));
  };
  check_view(data.image.extent(0), data.image.extent(1), "IMAGE");
  check_view(data.ivar.extent(0), data.ivar.extent(1), "IVAR");
  check_view(data.mask.extent(0), data.mask.extent(1), "MASK");

  f.write_image("IMAGE", dims, converted<float>(data.image));
  const PreprocHeader& h = data.header;
  write_header_cards(f, h.cards);  // a read image's header first; the keywords below win
  if (!h.camera.empty()) f.write_key("CAMERA", h.camera, "camera (b, r or z and the spectrograph)");
  if (h.expid) f.write_key("EXPID", *h.expid, "exposure ID");
  if (h.night) f.write_key("NIGHT", *h.night, "night of the observation (YYYYMMDD)");
  if (h.mjd_obs) f.write_key("MJD-OBS", *h.mjd_obs, "modified Julian date of the exposure start");
  if (h.exptime) f.write_key("EXPTIME", *h.exptime, "exposure time [s]");
  if (!h.flavor.empty()) f.write_key("FLAVOR", h.flavor, "exposure type");
  if (h.ra) f.write_key("RA", *h.ra, "[deg]");
  if (h.dec) f.write_key("DEC", *h.dec, "[deg]");
  if (h.fibermin) f.write_key("FIBERMIN", *h.fibermin, "fiber of the fibermap's first row");
  f.write_key("BUNIT", "electron", "");
  for (const HeaderKeyword& k : options.keywords) write_keyword(f, k);
  declare_long_strings(f);

  f.write_image("IVAR", dims, converted<float>(data.ivar));
  f.write_key("BUNIT", "electron-2", "");
  // Before the tile-compressed MASK: CFITSIO 4.2 refuses a float image created after a compressed one.
  if (data.readnoise.extent(0) > 0) {
    check_view(data.readnoise.extent(0), data.readnoise.extent(1), "READNOISE");
    f.write_image("READNOISE", dims, converted<float>(data.readnoise));
    f.write_key("BUNIT", "electron", "read noise rms of each pixel's amplifier");
  }

  std::int32_t lo = 0, hi = 0;
  const std::int32_t* m = data.mask.data();
  for (std::size_t p = 0; p < data.mask.size(); ++p) {
    lo = std::min(lo, m[p]);
    hi = std::max(hi, m[p]);
  }
  if (options.compress_mask) set_compression(f, RICE_1);
  if (lo >= std::numeric_limits<std::int16_t>::min() && hi <= std::numeric_limits<std::int16_t>::max()) {
    std::vector<std::int16_t> mask16(m, m + data.mask.size());
    f.write_image("MASK", dims, mask16);
  } else {
    f.write_image("MASK", dims, std::vector<std::int32_t>(m, m + data.mask.size()));
  }
  if (options.compress_mask) set_compression(f, NOCOMPRESS);

  if (data.fibermap) write_fibermap(f, *data.fibermap, 0, data.fibermap->size());
  write_checksums(f);
}

void write_preproc(const std::string& path, const PreprocImage& data, const PreprocWriteOptions& options) {
  AtomicOutput out(path, options.overwrite);
  {
    FitsFile f(out);
    write_preproc(f, data, options);
    f.close();
  }
  out.commit();
}

PhotonSpectra read_photon_spectra(const std::string& path) {
  FitsFile f(path, FitsFile::Mode::Read);
  PhotonSpectra out;
  f.move_to("PHOTONS");
  const auto shape = require_2d(f, "PHOTONS");
  const int nfiber = static_cast<int>(shape[0]), nwave = static_cast<int>(shape[1]);
  out.photons = HostView<double**>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::simulate::photons_in"),
                                   nfiber, nwave);
  read_image_into(f, TDOUBLE, out.photons.data(), static_cast<long long>(nfiber) * nwave);
  for (int i = 0; i < nfiber; ++i)
    for (int j = 0; j < nwave; ++j)
      if (!(std::isfinite(out.photons(i, j)) && out.photons(i, j) >= 0.0 && out.photons(i, j) <= max_photons_per_bin))
        throw_data_error(f.where() + ": photons must be finite and >= 0 and <= 1e15 electrons per bin, row " +
                         std::to_string(i) + " column " + std::to_string(j) + " has " + number_text(out.photons(i, j)));
  f.move_to("WAVELENGTH");
  const auto wshape = f.image_shape();
  if (wshape.size() != 1 || wshape[0] != nwave)
    throw_data_error(f.where() + ": expected " + std::to_string(nwave) +
                     " wavelengths (the columns of HDU PHOTONS), found " + shape_text(wshape));
  out.wavelengths = f.read_image_double();
  for (int j = 0; j < nwave; ++j)
    if (!std::isfinite(out.wavelengths[j]) || (j > 0 && !(out.wavelengths[j] > out.wavelengths[j - 1])))
      throw_data_error(f.where() + ": wavelengths must be finite and strictly increasing (at index " +
                       std::to_string(j) + ")");
  return out;
}

void write_photon_spectra(const std::string& path, const PhotonSpectra& spectra, bool overwrite) {
  const long nfiber = static_cast<long>(spectra.photons.extent(0)),
             nwave = static_cast<long>(spectra.photons.extent(1));
  if (static_cast<std::size_t>(nwave) != spectra.wavelengths.size())
    throw_usage_error("write_photon_spectra: " + std::to_string(nwave) + " photon columns but " +
                      std::to_string(spectra.wavelengths.size()) + " wavelengths");
  AtomicOutput out(path, overwrite);
  {
    FitsFile f(out);
    f.write_image("PHOTONS", {nfiber, nwave}, converted<double>(spectra.photons));
    f.write_key("BUNIT", "electron", "electrons per wavelength bin");
    f.write_image("WAVELENGTH", {nwave}, spectra.wavelengths);
    f.write_key("BUNIT", "Angstrom", "");
    f.close();
  }
  out.commit();
}

void write_simulation_truth(FitsFile& f, const SimulationTruth& truth) {
  const long nfiber = static_cast<long>(truth.photons.extent(0)), nwave = static_cast<long>(truth.photons.extent(1));
  if (static_cast<std::size_t>(nwave) != truth.wavelengths.size())
    throw_usage_error("write_simulation_truth: " + std::to_string(nwave) + " photon columns but " +
                      std::to_string(truth.wavelengths.size()) + " wavelengths");
  const auto n = static_cast<std::size_t>(nfiber);
  if (truth.fiber.size() != n || truth.objtype.size() != n || truth.spectype.size() != n ||
      truth.redshift.size() != n || truth.targetid.size() != n)
    throw_usage_error("write_simulation_truth: the fiber table needs one row per fiber");
  {
    f.write_image("WAVELENGTH", {nwave}, truth.wavelengths);
    f.write_key("BUNIT", "Angstrom", "");
    for (const HeaderKeyword& k : truth.keywords) write_keyword(f, k);

    std::vector<double> photons(n * static_cast<std::size_t>(nwave));
    for (long i = 0; i < nfiber; ++i)
      for (long j = 0; j < nwave; ++j) photons[static_cast<std::size_t>(i * nwave + j)] = truth.photons(i, j);
    f.write_image("PHOTONS", {nfiber, nwave}, photons);
    f.write_key("BUNIT", "electron", "electrons per wavelength bin");

    std::size_t width = 3;
    for (const auto& s : truth.spectype) width = std::max(width, s.size());
    f.create_table("FIBERTYPE",
                   {{"FIBER", "J"},
                    {"TARGETID", "K"},
                    {"OBJTYPE", "3A"},
                    {"SPECTYPE", std::to_string(width) + "A"},
                    {"REDSHIFT", "D"}},
                   nfiber);
    if (nfiber > 0) {
      f.write_column("FIBER", truth.fiber);
      std::vector<LONGLONG> targetid(truth.targetid.begin(), truth.targetid.end());
      int status = 0;
      fits_write_col(fp(f), TLONGLONG, f.column_number("TARGETID"), 1, 1, nfiber, targetid.data(), &status);
      f.check(status, "writing column TARGETID");
      f.write_column("OBJTYPE", truth.objtype);
      f.write_column("SPECTYPE", truth.spectype);
      f.write_column("REDSHIFT", truth.redshift);
    }

    const auto nd = truth.defects.size();
    f.create_table("DEFECTS",
                   {{"KIND", "8A"},
                    {"MASKBIT", "J"},
                    {"YMIN", "J"},
                    {"YMAX", "J"},
                    {"XMIN", "J"},
                    {"XMAX", "J"},
                    {"NPIX", "J"},
                    {"ELECTRONS", "D"}},
                   static_cast<long>(nd));
    f.write_comment("Pixel boxes are inclusive; ELECTRONS: total (COSMIC), per pixel (HOTCOL).");
    if (nd > 0) {
      std::vector<std::string> kind;
      std::vector<std::int32_t> bit, ymin, ymax, xmin, xmax, npix;
      std::vector<double> electrons;
      for (const SimulatedDefect& d : truth.defects) {
        kind.emplace_back(defect_kind_name(d.kind));
        bit.push_back(d.mask_bit);
        ymin.push_back(d.ymin);
        ymax.push_back(d.ymax);
        xmin.push_back(d.xmin);
        xmax.push_back(d.xmax);
        npix.push_back(d.npix);
        electrons.push_back(d.electrons);
      }
      f.write_column("KIND", kind);
      f.write_column("MASKBIT", bit);
      f.write_column("YMIN", ymin);
      f.write_column("YMAX", ymax);
      f.write_column("XMIN", xmin);
      f.write_column("XMAX", xmax);
      f.write_column("NPIX", npix);
      f.write_column("ELECTRONS", electrons);
    }
  }
  write_checksums(f);
}

void write_simulation_truth(const std::string& path, const SimulationTruth& truth, bool overwrite) {
  AtomicOutput out(path, overwrite);
  {
    FitsFile f(out);
    write_simulation_truth(f, truth);
    f.close();
  }
  out.commit();
}

}  // namespace perfex::io
