// Frames as HDF5: the FITS frame's arrays and keywords in one group, the FIBERMAP binary table as a compound
// dataset (one member per column, converted from and back to FITS' big-endian rows exactly), single files
// and exposure files of one group per frame.
#include "perfex/io/frame_hdf5.hpp"

#include <hdf5.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "frame_hdf5_internal.hpp"
#include "frame_header_internal.hpp"
#include "frame_values.hpp"
#include "hdf5_file.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/version.hpp"
#include "perfex/io/atomic_output.hpp"

namespace perfex::io {

namespace {

using detail::exposure_marker;
using detail::format_key;
using detail::frame_marker;
constexpr long long max_values = 1LL << 30;  // bounds allocations for damaged shapes

std::string child(const std::string& group, const std::string& name) {
  return (group == "/" ? "" : group) + "/" + name;
}

// ---------------------------------------------------------------------------------------------------------
// FIBERMAP: FITS binary-table columns as compound members.

struct Column {
  std::string name;
  std::string form;
  char code = 0;
  long repeat = 1;
  std::size_t bytes = 0;    // in a row
  std::size_t element = 1;  // bytes per value
  bool flip_sign = false;   // unsigned convention (TZEROn = 2^(bits-1), or -128 for B): stored as unsigned
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

// The value of card `key` in `cards` ("KEY     = value / comment"), or "".
std::string card_value(const std::vector<std::string>& cards, const std::string& key) {
  for (const std::string& c : cards) {
    if (c.size() < 10 || c[8] != '=' || trim(c.substr(0, 8)) != key) continue;
    std::string v = c.substr(10);
    const auto slash = v.find('/');
    if (slash != std::string::npos) v.erase(slash);
    return trim(v);
  }
  return "";
}

std::vector<Column> table_columns(const RawTable& t, const std::string& where) {
  std::vector<Column> cols;
  std::size_t total = 0;
  for (int c = 0; c < t.ncolumns; ++c) {
    Column col;
    col.name = t.names[static_cast<std::size_t>(c)];
    col.form = t.forms[static_cast<std::size_t>(c)];
    const std::string f = trim(col.form);
    std::size_t k = 0;
    while (k < f.size() && std::isdigit(static_cast<unsigned char>(f[k]))) ++k;
    col.repeat = k > 0 ? std::atol(f.substr(0, k).c_str()) : 1;
    if (k >= f.size()) throw_data_error(where + ": column " + col.name + " has TFORM '" + col.form + "'");
    col.code = static_cast<char>(std::toupper(static_cast<unsigned char>(f[k])));
    switch (col.code) {
      case 'L':
      case 'B':
      case 'A':
        col.element = 1;
        break;
      case 'X':
        col.element = 1;
        break;
      case 'I':
        col.element = 2;
        break;
      case 'J':
      case 'E':
      case 'C':
        col.element = 4;
        break;
      case 'K':
      case 'D':
      case 'M':
        col.element = 8;
        break;
      default:
        throw_data_error(where + ": column " + col.name + " (TFORM " + col.form + ") cannot be stored in HDF5");
    }
    if (col.code == 'X')
      col.bytes = static_cast<std::size_t>((col.repeat + 7) / 8);
    else
      col.bytes = static_cast<std::size_t>(col.repeat) * col.element * (col.code == 'C' || col.code == 'M' ? 2 : 1);
    if (col.bytes == 0) throw_data_error(where + ": column " + col.name + " (TFORM " + col.form + ") holds no data");
    const std::string n = std::to_string(c + 1);
    const std::string zero = card_value(t.cards, "TZERO" + n), scale = card_value(t.cards, "TSCAL" + n);
    if (!zero.empty() && (scale.empty() || std::strtod(scale.c_str(), nullptr) == 1.0)) {
      const double z = std::strtod(zero.c_str(), nullptr);
      col.flip_sign = (col.code == 'B' && z == -128.0) || (col.code == 'I' && z == 32768.0) ||
                      (col.code == 'J' && z == 2147483648.0) || (col.code == 'K' && z == 9223372036854775808.0);
    }
    total += col.bytes;
    cols.push_back(col);
  }
  if (cols.empty()) throw_data_error(where + ": the table has no columns");
  if (t.row_bytes >= 0 && static_cast<long>(total) != t.row_bytes)
    throw_data_error(where + ": the columns add up to " + std::to_string(total) + " bytes per row, the table has " +
                     std::to_string(t.row_bytes));
  return cols;
}

Hid copy_type(hid_t t) { return Hid(H5Tcopy(t), H5Tclose); }

// The type of one column's values, big-endian (the FITS rows in memory) or little-endian (the file).
Hid column_type(const Column& c, bool big_endian) {
  Hid base;
  switch (c.code) {
    case 'A': {
      base = copy_type(H5T_C_S1);
      H5Tset_size(base, static_cast<std::size_t>(c.repeat));
      H5Tset_strpad(base, H5T_STR_NULLPAD);
      return base;
    }
    case 'L': {  // FITS logicals: 'T', 'F' or 0 (undefined)
      base = Hid(H5Tenum_create(H5T_STD_I8LE), H5Tclose);
      signed char v = 'F';
      H5Tenum_insert(base, "FALSE", &v);
      v = 'T';
      H5Tenum_insert(base, "TRUE", &v);
      v = 0;
      H5Tenum_insert(base, "UNDEFINED", &v);
      break;
    }
    case 'X':
      base = copy_type(H5T_STD_U8LE);
      break;
    case 'B':
      base = copy_type(c.flip_sign ? H5T_STD_I8LE : H5T_STD_U8LE);
      break;
    case 'I':
      base = copy_type(c.flip_sign ? (big_endian ? H5T_STD_U16BE : H5T_STD_U16LE)
                                   : (big_endian ? H5T_STD_I16BE : H5T_STD_I16LE));
      break;
    case 'J':
      base = copy_type(c.flip_sign ? (big_endian ? H5T_STD_U32BE : H5T_STD_U32LE)
                                   : (big_endian ? H5T_STD_I32BE : H5T_STD_I32LE));
      break;
    case 'K':
      base = copy_type(c.flip_sign ? (big_endian ? H5T_STD_U64BE : H5T_STD_U64LE)
                                   : (big_endian ? H5T_STD_I64BE : H5T_STD_I64LE));
      break;
    case 'E':
    case 'C':
      base = copy_type(big_endian ? H5T_IEEE_F32BE : H5T_IEEE_F32LE);
      break;
    default:
      base = copy_type(big_endian ? H5T_IEEE_F64BE : H5T_IEEE_F64LE);
      break;  // D, M
  }
  const hsize_t n = c.code == 'X' ? c.bytes : static_cast<hsize_t>(c.repeat) * (c.code == 'C' || c.code == 'M' ? 2 : 1);
  if (n == 1) return base;
  return Hid(H5Tarray_create2(base, 1, &n), H5Tclose);
}

Hid compound_type(Hdf5File& f, const std::string& object, const std::vector<Column>& cols, std::size_t row_bytes,
                  bool big_endian) {
  Hid t(f.checked(H5Tcreate(H5T_COMPOUND, row_bytes), object, "creating the FIBERMAP type"), H5Tclose);
  std::size_t offset = 0;
  for (const Column& c : cols) {
    Hid m = column_type(c, big_endian);
    f.check(H5Tinsert(t, c.name.c_str(), offset, m), object, "adding column " + c.name + " (duplicate name?)");
    offset += c.bytes;
  }
  return t;
}

// The unsigned conventions: FITS stores v - 2^(bits-1); flipping the top bit gives v (and back).
void flip_signs(std::vector<unsigned char>& rows, const std::vector<Column>& cols, std::size_t row_bytes) {
  std::size_t offset = 0;
  for (const Column& c : cols) {
    if (c.flip_sign)
      for (std::size_t r = 0; r * row_bytes < rows.size(); ++r)
        for (long k = 0; k < c.repeat; ++k)
          rows[r * row_bytes + offset + static_cast<std::size_t>(k) * c.element] ^= 0x80;
    offset += c.bytes;
  }
}

// A binary table (FIBERMAP, SCORES) as the compound dataset `name`, with its TFORM, TUNIT, FITS_CARDS and (when
// it has any) TCOMMENT attributes.
void write_table_dataset(Hdf5File& f, hid_t group, const std::string& group_name, const std::string& name,
                         const RawTable& t, bool with_data) {
  const std::string object = child(group_name, name);
  const auto cols = table_columns(t, f.where(object));
  const auto row_bytes = static_cast<std::size_t>(t.row_bytes);
  Hid mem = compound_type(f, object, cols, row_bytes, true);
  Hid file = compound_type(f, object, cols, row_bytes, false);
  std::vector<unsigned char> rows = with_data ? t.rows : std::vector<unsigned char>();
  flip_signs(rows, cols, row_bytes);
  f.write_dataset(group, group_name, name, file, mem, {static_cast<hsize_t>(t.nrows)},
                  with_data ? rows.data() : nullptr);
  Hid ds(f.checked(H5Dopen2(group, name.c_str(), H5P_DEFAULT), object, "opening the dataset"), H5Dclose);
  f.write_attribute(ds, object, "TFORM", t.forms);
  f.write_attribute(ds, object, "TUNIT", t.units);
  f.write_attribute(ds, object, "FITS_CARDS", t.cards);
  if (!t.comments.empty()) f.write_attribute(ds, object, "TCOMMENT", t.comments);
}

RawTable read_table_dataset(Hdf5File& f, hid_t group, const std::string& group_name, const std::string& name) {
  const std::string object = child(group_name, name);
  std::vector<hsize_t> dims;
  Hid ds = f.open_dataset(group, group_name, name, dims);
  Hid ftype(f.checked(H5Dget_type(ds), object, "reading the type"), H5Tclose);
  if (dims.size() != 1 || H5Tget_class(ftype) != H5T_COMPOUND)
    throw_data_error(f.where(object) + ": expected a 1D compound dataset (a table)");
  RawTable t;
  t.extname = name;
  t.nrows = static_cast<long>(dims[0]);
  auto forms = f.read_attribute_strings(ds, object, "TFORM");
  if (!forms) throw_data_error(f.where(object) + ": attribute TFORM is missing (not written by perfex?)");
  t.forms = *forms;
  t.ncolumns = static_cast<int>(t.forms.size());
  if (H5Tget_nmembers(ftype) != t.ncolumns)
    throw_data_error(f.where(object) + ": " + std::to_string(H5Tget_nmembers(ftype)) + " columns but " +
                     std::to_string(t.ncolumns) + " TFORM values");
  for (int c = 0; c < t.ncolumns; ++c) {
    char* name = H5Tget_member_name(ftype, static_cast<unsigned>(c));
    if (!name) f.fail(object, "reading the column names");
    t.names.emplace_back(name);
    H5free_memory(name);
  }
  t.units = f.read_attribute_strings(ds, object, "TUNIT").value_or(std::vector<std::string>());
  t.units.resize(t.names.size());
  t.cards = f.read_attribute_strings(ds, object, "FITS_CARDS").value_or(std::vector<std::string>());
  t.comments = f.read_attribute_strings(ds, object, "TCOMMENT").value_or(std::vector<std::string>());
  t.row_bytes = -1;  // from the columns
  std::size_t row_bytes = 0;
  for (const Column& c : table_columns(t, f.where(object))) row_bytes += c.bytes;
  t.row_bytes = static_cast<long>(row_bytes);
  const auto cols = table_columns(t, f.where(object));
  if (static_cast<long long>(t.nrows) * t.row_bytes > max_values)
    throw_data_error(f.where(object) + ": the table is too large (" + std::to_string(t.nrows) + " rows)");
  Hid mem = compound_type(f, object, cols, row_bytes, true);
  t.rows.assign(row_bytes * static_cast<std::size_t>(t.nrows), 0);
  if (t.nrows > 0) f.read_dataset(ds, object, mem, t.rows.data());
  flip_signs(t.rows, cols, row_bytes);
  return t;
}

// ---------------------------------------------------------------------------------------------------------
// The frame group.

template <class T, class View>
std::vector<T> flatten(const View& v) {
  std::vector<T> out(v.size());
  const auto* p = v.data();
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = static_cast<T>(p[k]);
  return out;
}

void write_header_attributes(Hdf5File& f, hid_t g, const std::string& object, const Frame& frame) {
  const FrameHeader& h = frame.header;
  const FrameResult& d = frame.data;
  f.write_attribute(g, object, format_key, std::string(frame_marker));
  if (!h.camera.empty()) f.write_attribute(g, object, "CAMERA", h.camera);
  if (h.expid) f.write_attribute(g, object, "EXPID", *h.expid);
  if (h.night) f.write_attribute(g, object, "NIGHT", *h.night);
  if (h.mjd_obs) f.write_attribute(g, object, "MJD-OBS", *h.mjd_obs);
  if (h.exptime) f.write_attribute(g, object, "EXPTIME", *h.exptime);
  if (!h.flavor.empty()) f.write_attribute(g, object, "FLAVOR", h.flavor);
  f.write_attribute(g, object, "NSPEC", static_cast<long long>(d.nspec));
  f.write_attribute(g, object, "SPECMIN", static_cast<long long>(d.specmin));
  f.write_attribute(g, object, "SPECMAX", static_cast<long long>(d.specmin + d.nspec - 1));
  const double step = d.nwave > 1 ? (d.wavelengths.back() - d.wavelengths.front()) / (d.nwave - 1) : 0.0;
  f.write_attribute(g, object, "WAVEMIN", std::isnan(h.wavemin) ? d.wavelengths.front() : h.wavemin);
  f.write_attribute(g, object, "WAVEMAX", std::isnan(h.wavemax) ? d.wavelengths.back() : h.wavemax);
  f.write_attribute(g, object, "WAVESTEP", std::isnan(h.wavestep) ? step : h.wavestep);
  f.write_attribute(g, object, "IN_PSF", h.in_psf);
  f.write_attribute(g, object, "IN_IMG", h.in_img);
  const ExtractionOptions& o = h.options;
  f.write_attribute(g, object, "BUNDLESZ", static_cast<long long>(o.bundlesize));
  f.write_attribute(g, object, "NSUBBUN", static_cast<long long>(o.nsubbundles));
  f.write_attribute(g, object, "NWAVSTEP", static_cast<long long>(o.nwavestep));
  f.write_attribute(g, object, "WAVEPADF", o.wavepad_frac);
  f.write_attribute(g, object, "WAVEPADT", static_cast<long long>(o.wavepad()));
  f.write_attribute(g, object, "PIXPADF", o.pixpad_frac);
  f.write_attribute(g, object, "REGULARI", o.regularize);
  f.write_attribute(g, object, "PSFERR", o.psferr);
  f.write_attribute(g, object, "NDIAG", static_cast<long long>(o.ndiag));
  f.write_attribute_bool(g, object, "PSFTAILS", h.psf_tails);
  f.write_attribute(g, object, "HELIOCOR", h.heliocor);
  f.write_attribute(g, object, "PERFEXV", h.version.empty() ? std::string(PERFEX_VERSION_STRING) : h.version);
  if (h.fibermin) f.write_attribute(g, object, "FIBERMIN", *h.fibermin);
  if (!h.orig_psf.empty()) f.write_attribute(g, object, "ORIG_PSF", h.orig_psf);
  // The whole FLUX header as the FITS writer composes it (propagated input header, dependency cards...):
  // perfex convert writes it back to FITS unchanged.
  f.write_attribute(g, object, "FITS_CARDS", detail::flux_header_cards(frame));
}

// Writes a dataset and its attributes (key, text) / NDIAG.
void write_array(Hdf5File& f, hid_t g, const std::string& group, const std::string& name, hid_t file_type,
                 hid_t mem_type, const std::vector<hsize_t>& dims, const void* data, const char* key = nullptr,
                 const std::string& text = "") {
  f.write_dataset(g, group, name, file_type, mem_type, dims, data);
  if (!key) return;
  const std::string object = child(group, name);
  Hid ds(f.checked(H5Dopen2(g, name.c_str(), H5P_DEFAULT), object, "opening the dataset"), H5Dclose);
  f.write_attribute(ds, object, key, text);
}

}  // namespace

void detail::check_frame_for_hdf5(const Frame& frame, const std::optional<RawTable>& fibermap, bool float64,
                                  const std::string& fibermap_where) {
  check_frame_shapes(frame, "write_frame_hdf5");
  const FrameResult& d = frame.data;
  if (float64 && (d.pixmask_fraction.extent(0) != static_cast<std::size_t>(d.nspec) ||
                  d.pixmask_fraction.extent(1) != static_cast<std::size_t>(d.nwave)))
    throw_usage_error("write_frame_hdf5: --float64 needs the pixmask_fraction of every bin");
  if (fibermap) table_columns(*fibermap, fibermap_where);
}

void detail::write_frame_group(Hdf5File& f, const std::string& group, const Frame& input,
                               const std::optional<RawTable>& fibermap, bool float64, bool with_data) {
  if (with_data) check_frame_shapes(input, "write_frame_hdf5");
  std::optional<Frame> masked;
  if (with_data) masked = writable_frame(input);  // no inf or NaN in any dataset
  const Frame& frame = masked ? *masked : input;
  const FrameResult& d = frame.data;
  const auto ns = static_cast<hsize_t>(d.nspec), nw = static_cast<hsize_t>(d.nwave),
             nd = static_cast<hsize_t>(2 * d.ndiag + 1);
  if (with_data && float64 && (d.pixmask_fraction.extent(0) != ns || d.pixmask_fraction.extent(1) != nw))
    throw_usage_error("write_frame_hdf5: --float64 needs the pixmask_fraction of every bin");
  // The data of the frame's arrays (float32 copies made here), or nothing (with_data false).
  auto as_float = [&](const auto& view) { return with_data ? flatten<float>(view) : std::vector<float>(); };
  auto ptr = [&](const auto* p) -> const void* { return with_data ? p : nullptr; };
  Hid g = group == "/" ? Hid(f.checked(H5Gopen2(f.id(), "/", H5P_DEFAULT), "/", "opening the root group"), H5Gclose)
                       : f.create_group(group);
  write_header_attributes(f, g, group, frame);
  const hid_t f32 = H5T_IEEE_F32LE, f64 = H5T_IEEE_F64LE, mf = H5T_NATIVE_FLOAT, md = H5T_NATIVE_DOUBLE;
  write_array(f, g, group, "FLUX", f32, mf, {ns, nw}, ptr(as_float(d.flux).data()), "BUNIT", "electron/Angstrom");
  write_array(f, g, group, "IVAR", f32, mf, {ns, nw}, ptr(as_float(d.ivar).data()), "BUNIT", "Angstrom2/electron2");
  write_array(f, g, group, "MASK", H5T_STD_U32LE, H5T_NATIVE_UINT32, {ns, nw}, ptr(frame.mask.data()), "COMMENT",
              "specmask bits (desispec.maskbits.specmask): SOMEBADPIX 0, ALLBADPIX 1, BAD2DFIT 7");
  write_array(f, g, group, "WAVELENGTH", f64, md, {nw}, ptr(d.wavelengths.data()), "BUNIT", "Angstrom");
  write_array(f, g, group, "RESOLUTION", f32, mf, {ns, nd, nw}, ptr(as_float(d.resolution).data()));
  {
    const std::string object = child(group, "RESOLUTION");
    Hid ds(f.checked(H5Dopen2(g, "RESOLUTION", H5P_DEFAULT), object, "opening the dataset"), H5Dclose);
    f.write_attribute(ds, object, "NDIAG", static_cast<long long>(d.ndiag));
  }
  if (fibermap) write_table_dataset(f, g, group, "FIBERMAP", *fibermap, with_data);
  write_array(f, g, group, "CHI2PIX", f32, mf, {ns, nw}, ptr(as_float(d.chi2pix).data()));
  if (frame.scores) write_table_dataset(f, g, group, "SCORES", *frame.scores, with_data);
  if (float64) {
    write_array(f, g, group, "FLUX64", f64, md, {ns, nw}, ptr(d.flux.data()), "BUNIT", "electron/Angstrom");
    write_array(f, g, group, "IVAR64", f64, md, {ns, nw}, ptr(d.ivar.data()), "BUNIT", "Angstrom2/electron2");
    write_array(f, g, group, "RESOLUTION64", f64, md, {ns, nd, nw}, ptr(d.resolution.data()));
    write_array(f, g, group, "CHI2PIX64", f64, md, {ns, nw}, ptr(d.chi2pix.data()));
    write_array(f, g, group, "PIXMASK_FRACTION", f64, md, {ns, nw}, ptr(d.pixmask_fraction.data()), "COMMENT",
                "PSF-weighted fraction of masked pixels of each bin");
  }
}

void detail::write_exposure_attributes(Hdf5File& f) {
  Hid root(f.checked(H5Gopen2(f.id(), "/", H5P_DEFAULT), "/", "opening the root group"), H5Gclose);
  f.write_attribute(root, "/", format_key, std::string(exposure_marker));
  f.write_attribute(root, "/", "PERFEXV", std::string(PERFEX_VERSION_STRING));
}

std::string detail::exposure_group_name(const std::string& name, const std::string& fallback,
                                        const std::set<std::string>& used, int frames) {
  auto usable = [&](const std::string& n) {
    return !n.empty() && n.find('/') == std::string::npos && n != "." && !used.count(n);
  };
  std::string group = usable(name) ? name : usable(fallback) ? fallback : "";
  for (int k = frames; group.empty(); ++k)
    if (usable("frame-" + std::to_string(k))) group = "frame-" + std::to_string(k);
  return group;
}

namespace {

bool has_link(hid_t g, const char* name) {
  const htri_t e = H5Lexists(g, name, H5P_DEFAULT);
  if (e < 0) H5Eclear2(H5E_DEFAULT);
  return e > 0;
}

// Reads a float or integer dataset of shape `expected` into `out` (converted to `mem_type`).
void read_array(Hdf5File& f, hid_t g, const std::string& group, const std::string& name,
                const std::vector<hsize_t>& expected, hid_t mem_type, H5T_class_t cls, void* out) {
  const std::string object = child(group, name);
  std::vector<hsize_t> dims;
  Hid ds = f.open_dataset(g, group, name, dims);
  if (dims != expected) {
    auto text = [](const std::vector<hsize_t>& v) {
      std::string s;
      for (std::size_t i = 0; i < v.size(); ++i) s += (i ? " x " : "") + std::to_string(v[i]);
      return v.empty() ? std::string("a scalar") : s;
    };
    throw_data_error(f.where(object) + ": expected shape " + text(expected) + ", found " + text(dims));
  }
  Hid type(f.checked(H5Dget_type(ds), object, "reading the type"), H5Tclose);
  if (H5Tget_class(type) != cls)
    throw_data_error(f.where(object) + ": expected " + (cls == H5T_FLOAT ? "floating-point" : "integer") + " values");
  f.read_dataset(ds, object, mem_type, out);
}

Frame read_frame_group(Hdf5File& f, const std::string& group_in, bool prefer_float64,
                       std::optional<RawTable>* fibermap) {
  const std::string group = group_in.empty() ? "/" : group_in;
  Hid g = f.open_group(group);
  const auto marker = f.read_attribute_string(g, group, format_key);
  if (!marker || *marker != frame_marker) {
    if (marker && *marker == exposure_marker) {
      std::string names;
      for (const auto& n : f.group_members(group)) names += (names.empty() ? "" : ", ") + n;
      throw_data_error(f.where(group) + ": an exposure file of frames " + names +
                       ": choose one (perfex convert --group NAME)");
    }
    throw_data_error(f.where(group) + ": not a perfex HDF5 frame (no attribute " + format_key +
                     " = \"frame\"; a file written by another program?)");
  }
  Frame frame;
  FrameResult& d = frame.data;
  std::vector<hsize_t> dims;
  { Hid ds = f.open_dataset(g, group, "FLUX", dims); }
  if (dims.size() != 2 || dims[0] < 1 || dims[1] < 1 || dims[0] * dims[1] > static_cast<hsize_t>(max_values))
    throw_data_error(f.where(child(group, "FLUX")) + ": expected a 2D array [nspec, nwave]");
  d.nspec = static_cast<int>(dims[0]);
  d.nwave = static_cast<int>(dims[1]);
  const std::vector<hsize_t> s2 = dims;

  FrameHeader& h = frame.header;
  h.camera = f.read_attribute_string(g, group, "CAMERA").value_or("");
  h.expid = f.read_attribute_int(g, group, "EXPID");
  h.night = f.read_attribute_int(g, group, "NIGHT");
  h.mjd_obs = f.read_attribute_double(g, group, "MJD-OBS");
  h.exptime = f.read_attribute_double(g, group, "EXPTIME");
  h.flavor = f.read_attribute_string(g, group, "FLAVOR").value_or("");
  h.in_psf = f.read_attribute_string(g, group, "IN_PSF").value_or("");
  h.in_img = f.read_attribute_string(g, group, "IN_IMG").value_or("");
  d.specmin = static_cast<int>(f.read_attribute_int(g, group, "SPECMIN").value_or(0));
  ExtractionOptions& o = h.options;
  o.bundlesize = static_cast<int>(f.read_attribute_int(g, group, "BUNDLESZ").value_or(o.bundlesize));
  o.nsubbundles = static_cast<int>(f.read_attribute_int(g, group, "NSUBBUN").value_or(o.nsubbundles));
  o.nwavestep = static_cast<int>(f.read_attribute_int(g, group, "NWAVSTEP").value_or(o.nwavestep));
  o.wavepad_frac = f.read_attribute_double(g, group, "WAVEPADF").value_or(o.wavepad_frac);
  if (auto pad = f.read_attribute_int(g, group, "WAVEPADT"))
    o.wavepad_bins = static_cast<int>(*pad);  // the padding used
  o.pixpad_frac = f.read_attribute_double(g, group, "PIXPADF").value_or(o.pixpad_frac);
  o.regularize = f.read_attribute_double(g, group, "REGULARI").value_or(o.regularize);
  o.psferr = f.read_attribute_double(g, group, "PSFERR").value_or(o.psferr);
  h.psf_tails = f.read_attribute_bool(g, group, "PSFTAILS").value_or(false);
  h.heliocor = f.read_attribute_double(g, group, "HELIOCOR").value_or(1.0);
  h.wavemin = f.read_attribute_double(g, group, "WAVEMIN").value_or(h.wavemin);
  h.wavemax = f.read_attribute_double(g, group, "WAVEMAX").value_or(h.wavemax);
  h.wavestep = f.read_attribute_double(g, group, "WAVESTEP").value_or(h.wavestep);
  h.version = f.read_attribute_string(g, group, "PERFEXV").value_or("");
  h.fibermin = f.read_attribute_int(g, group, "FIBERMIN");
  h.orig_psf = f.read_attribute_string(g, group, "ORIG_PSF").value_or("");
  h.cards = f.read_attribute_strings(g, group, "FITS_CARDS").value_or(std::vector<std::string>());

  const bool exact = prefer_float64 && has_link(g, "FLUX64");
  frame.exact = exact;
  const hid_t md = H5T_NATIVE_DOUBLE;
  auto view2 = [&](const char* label) { return ResultView<double**>(std::string(label), d.nspec, d.nwave); };
  d.flux = view2("perfex::frame::flux");
  read_array(f, g, group, exact ? "FLUX64" : "FLUX", s2, md, H5T_FLOAT, d.flux.data());
  d.ivar = view2("perfex::frame::ivar");
  read_array(f, g, group, exact ? "IVAR64" : "IVAR", s2, md, H5T_FLOAT, d.ivar.data());
  frame.mask = ResultView<std::uint32_t**>("perfex::frame::mask", d.nspec, d.nwave);
  read_array(f, g, group, "MASK", s2, H5T_NATIVE_UINT32, H5T_INTEGER, frame.mask.data());
  d.wavelengths.assign(static_cast<std::size_t>(d.nwave), 0.0);
  read_array(f, g, group, "WAVELENGTH", {dims[1]}, md, H5T_FLOAT, d.wavelengths.data());

  const char* res = exact && has_link(g, "RESOLUTION64") ? "RESOLUTION64" : "RESOLUTION";
  std::vector<hsize_t> rdims;
  { Hid ds = f.open_dataset(g, group, res, rdims); }
  if (rdims.size() != 3 || rdims[0] != dims[0] || rdims[2] != dims[1] || rdims[1] % 2 != 1 || rdims[1] > 1001)
    throw_data_error(f.where(child(group, res)) + ": expected shape " + std::to_string(d.nspec) +
                     " x (2 ndiag + 1) x " + std::to_string(d.nwave));
  d.ndiag = static_cast<int>(rdims[1] / 2);
  o.ndiag = d.ndiag;
  d.resolution = ResultView<double***>("perfex::frame::resolution", d.nspec, rdims[1], d.nwave);
  read_array(f, g, group, res, rdims, md, H5T_FLOAT, d.resolution.data());

  d.chi2pix = view2("perfex::frame::chi2pix");
  const char* chi2 = exact && has_link(g, "CHI2PIX64") ? "CHI2PIX64" : "CHI2PIX";
  if (has_link(g, chi2)) read_array(f, g, group, chi2, s2, md, H5T_FLOAT, d.chi2pix.data());
  frame.has_pixmask_fraction = has_link(g, "PIXMASK_FRACTION");
  if (frame.has_pixmask_fraction) {
    d.pixmask_fraction = view2("perfex::frame::pixmask_fraction");
    read_array(f, g, group, "PIXMASK_FRACTION", s2, md, H5T_FLOAT, d.pixmask_fraction.data());
  }
  if (has_link(g, "FIBERMAP")) {
    RawTable t = read_table_dataset(f, g, group, "FIBERMAP");
    frame.fibermap_rows = t.nrows;
    if (fibermap) *fibermap = std::move(t);
  } else if (fibermap) {
    fibermap->reset();
  }
  if (has_link(g, "SCORES")) frame.scores = read_table_dataset(f, g, group, "SCORES");
  return frame;
}

}  // namespace

long long detail::hdf5_end_of_file(const std::string& path, std::string& reason) {
  try {
    Hdf5File f(path, Hdf5File::Mode::Read);
    haddr_t eoa = 0;
    f.check(H5Fget_eoa(f.id(), &eoa), "/", "reading the end of allocation");
    return static_cast<long long>(eoa);
  } catch (const Error& e) {
    reason = e.what();
    return 0;
  }
}

bool hdf5_available() { return true; }
std::string hdf5_library_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}
void require_hdf5(const std::string&) {}

void write_frame_hdf5(const std::string& path, const Frame& frame, const FibermapSource& fibermap,
                      const FrameWriteOptions& options) {
  check_frame_shapes(frame, "write_frame_hdf5");
  const std::optional<RawTable> table = fibermap_rows(fibermap, frame.data.nspec);
  AtomicOutput out(path, options.overwrite);
  // Built in memory (HDF5's core driver) and written out by perfex: HDF5 never meets a full disk, which it
  // does not survive (a failed flush leaves the file open in the library, and its close at exit crashes).
  const std::vector<unsigned char> image = frame_hdf5_image(frame, table, options.float64, path);
  out.write_file(image.data(), image.size());
  out.commit();
}

Frame read_frame_hdf5(const std::string& path, const std::string& group, bool prefer_float64,
                      std::optional<RawTable>* fibermap) {
  Hdf5File f(path, Hdf5File::Mode::Read);
  return read_frame_group(f, group, prefer_float64, fibermap);
}

std::vector<std::string> hdf5_frame_groups(const std::string& path) {
  Hdf5File f(path, Hdf5File::Mode::Read);
  Hid root = f.open_group("/");
  if (f.read_attribute_string(root, "/", format_key).value_or("") != exposure_marker) return {};
  return f.group_members("/");
}

std::vector<unsigned char> frame_hdf5_image(const Frame& frame, const std::optional<RawTable>& fibermap, bool float64,
                                            const std::string& name) {
  Hdf5File f = Hdf5File::create_image(name);
  detail::write_frame_group(f, "/", frame, fibermap, float64);
  return f.image();
}

Frame frame_from_hdf5_image(const std::vector<unsigned char>& image, const std::string& name,
                            std::optional<RawTable>* fibermap) {
  Hdf5File f = Hdf5File::open_image(image, name);
  return read_frame_group(f, "/", true, fibermap);
}

struct Hdf5ExposureWriter::Impl {
  AtomicOutput out;
  Hdf5File file;
  std::set<std::string> names;
  int frames = 0;
  // The exposure file grows in memory (HDF5's core driver) and is written out by commit(): about 50 MB a
  // frame on world rank 0, the price of never letting HDF5 meet a full disk.
  Impl(const std::string& path, bool overwrite) : out(path, overwrite), file(Hdf5File::create_image(path)) {
    detail::write_exposure_attributes(file);
  }
};

Hdf5ExposureWriter::Hdf5ExposureWriter(const std::string& path, bool overwrite)
    : m_impl(std::make_unique<Impl>(path, overwrite)) {}
Hdf5ExposureWriter::~Hdf5ExposureWriter() = default;

std::string Hdf5ExposureWriter::add(const Frame& frame, const std::optional<RawTable>& fibermap, bool float64,
                                    const std::string& name, const std::string& fallback) {
  const std::string group = detail::exposure_group_name(name, fallback, m_impl->names, m_impl->frames);
  try {
    detail::write_frame_group(m_impl->file, group, frame, fibermap, float64);
  } catch (...) {
    if (m_impl->file.exists(group)) {
      H5Ldelete(m_impl->file.id(), group.c_str(), H5P_DEFAULT);
      H5Eclear2(H5E_DEFAULT);
    }
    throw;
  }
  m_impl->names.insert(group);
  ++m_impl->frames;
  return group;
}

int Hdf5ExposureWriter::frames() const { return m_impl->frames; }
const std::string& Hdf5ExposureWriter::path() const { return m_impl->out.path(); }

void Hdf5ExposureWriter::commit() {
  {
    const std::vector<unsigned char> image = m_impl->file.image();
    m_impl->file.close();
    m_impl->out.write_file(image.data(), image.size());
  }
  m_impl->out.commit();
}

}  // namespace perfex::io
