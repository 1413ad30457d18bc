// HDF5 files through the C API: RAII ids, errors naming the file and object, deterministic objects (no
// timestamps), chunked + shuffled + deflated datasets.
#include "hdf5_file.hpp"

#include <H5FDcore.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "perfex/core/error.hpp"
#include "perfex/io/file_checks.hpp"

namespace perfex::io {

namespace {

constexpr unsigned deflate_level = 4;         // gzip level (h5py's default)
constexpr std::size_t chunk_bytes = 1 << 20;  // at most 1 MiB per chunk

// HDF5 prints its error stack on stderr by default; perfex reports one line itself.
void silence_hdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

// HDF5's file drivers describe a failed system call at length ("file write failed: time = ..., filename = ...,
// errno = 28, error message = 'No space left on device', buf = ..."): keep what failed and the cause.
std::string short_reason(const std::string& desc) {
  const auto at = desc.find("errno = ");
  if (at == std::string::npos) return desc;
  const int error = std::atoi(desc.c_str() + at + 8);
  const auto colon = desc.find(':');
  return (colon == std::string::npos || colon > at ? std::string("system call failed") : desc.substr(0, colon)) + ": " +
         file_error_text(error);
}

herr_t innermost(unsigned n, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (n == 0 && e->desc) *out = short_reason(e->desc);
  return 0;
}

Hid property_list(hid_t cls) { return Hid(H5Pcreate(cls), H5Pclose); }

// The string type of attributes: variable-length UTF-8 (h5py reads str).
Hid vlen_string_type() {
  Hid t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

// h5py's boolean: an int8 enum {FALSE = 0, TRUE = 1}.
Hid bool_type() {
  Hid t(H5Tenum_create(H5T_NATIVE_INT8), H5Tclose);
  signed char v = 0;
  H5Tenum_insert(t, "FALSE", &v);
  v = 1;
  H5Tenum_insert(t, "TRUE", &v);
  return t;
}

}  // namespace

std::string hdf5_error_reason() {
  std::string reason;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason;
}

Hdf5File::Hdf5File(const std::string& path, Mode mode) : m_path(path) {
  silence_hdf5();
  if (mode == Mode::Create) {
    Hid fcpl = property_list(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, false);  // the root group
    m_file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    if (m_file < 0) fail("/", "creating the file");
    return;
  }
  check_input_file(path, "an HDF5 file");
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 <= 0) {
    const std::string reason = hdf5_error_reason();
    throw_data_error(path + ": not an HDF5 file" +
                     (reason.empty() ? std::string(" (no HDF5 signature)") : " (" + reason + ")"));
  }
  m_file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (m_file < 0) fail("/", "opening the file (damaged or truncated HDF5 file?)");
}

Hdf5File Hdf5File::open_image(const std::vector<unsigned char>& bytes, const std::string& name) {
  silence_hdf5();
  Hdf5File f;
  f.m_path = name;
  Hid fapl = property_list(H5P_FILE_ACCESS);
  f.check(H5Pset_fapl_core(fapl, 1 << 20, false), "/", "setting up an in-memory file");
  f.check(H5Pset_file_image(fapl, const_cast<unsigned char*>(bytes.data()), bytes.size()), "/",
          "handing over the file image");
  f.m_file = H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl);
  if (f.m_file < 0) f.fail("/", "opening the in-memory file image");
  return f;
}

Hdf5File Hdf5File::create_image(const std::string& name) {
  silence_hdf5();
  Hdf5File f;
  f.m_path = name;
  Hid fapl = property_list(H5P_FILE_ACCESS);
  f.check(H5Pset_fapl_core(fapl, 1 << 20, false), "/", "setting up an in-memory file");
  Hid fcpl = property_list(H5P_FILE_CREATE);
  H5Pset_obj_track_times(fcpl, false);
  f.m_file = H5Fcreate(name.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
  if (f.m_file < 0) f.fail("/", "creating an in-memory file");
  return f;
}

#ifdef H5_HAVE_PARALLEL
Hdf5File Hdf5File::create_collective(const std::string& path, const Communicator& comm, const std::string& name) {
  silence_hdf5();
  if (comm.mpi_handle() == nullptr) throw_usage_error(path + ": collective HDF5 writes need MPI started");
  Hdf5File f;
  f.m_path = name.empty() ? path : name;
  Hid fapl = property_list(H5P_FILE_ACCESS);
  // hdf5.h includes mpi.h in a parallel build: MPI_Comm is its type (an MPI call is made by HDF5 only).
  const MPI_Comm mpi_comm = *static_cast<const MPI_Comm*>(comm.mpi_handle());
  f.check(H5Pset_fapl_mpio(fapl, mpi_comm, MPI_INFO_NULL), "/", "setting up MPI-IO");
  Hid fcpl = property_list(H5P_FILE_CREATE);
  H5Pset_obj_track_times(fcpl, false);
  f.m_file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
  if (f.m_file < 0) f.fail("/", "creating the file (MPI-IO)");
  f.m_dxpl = H5Pcreate(H5P_DATASET_XFER);
  if (f.m_dxpl < 0) f.fail("/", "creating a transfer property list");
  f.check(H5Pset_dxpl_mpio(f.m_dxpl, H5FD_MPIO_COLLECTIVE), "/", "asking for collective transfers");
  return f;
}
#endif

std::vector<unsigned char> Hdf5File::image() {
  check(H5Fflush(m_file, H5F_SCOPE_GLOBAL), "/", "flushing");
  const ssize_t size = H5Fget_file_image(m_file, nullptr, 0);
  if (size < 0) fail("/", "sizing the file image");
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  if (H5Fget_file_image(m_file, bytes.data(), bytes.size()) < 0) fail("/", "copying the file image");
  return bytes;
}

Hdf5File::~Hdf5File() {
  if (m_file >= 0) {
    H5Fclose(m_file);
    H5Eclear2(H5E_DEFAULT);
  }
  if (m_dxpl >= 0) H5Pclose(m_dxpl);
}

Hdf5File::Hdf5File(Hdf5File&& o) noexcept : m_file(o.m_file), m_dxpl(o.m_dxpl), m_path(std::move(o.m_path)) {
  o.m_file = H5I_INVALID_HID;
  o.m_dxpl = H5I_INVALID_HID;
}

void Hdf5File::close() {
  if (m_file < 0) return;
  const herr_t status = H5Fclose(m_file);
  m_file = H5I_INVALID_HID;
  if (status < 0) fail("/", "closing (flushing) the file");
}

std::string Hdf5File::where(const std::string& object) const {
  return object.empty() || object == "/" ? m_path : m_path + "[" + object + "]";
}

void Hdf5File::fail(const std::string& object, const std::string& what) const {
  const std::string reason = hdf5_error_reason();
  throw_data_error(where(object) + ": " + what + (reason.empty() ? "" : " (HDF5: " + reason + ")"));
}

Hid Hdf5File::create_group(const std::string& name) {
  Hid gcpl = property_list(H5P_GROUP_CREATE);
  H5Pset_obj_track_times(gcpl, false);
  return Hid(checked(H5Gcreate2(m_file, name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), name, "creating the group"),
             H5Gclose);
}

Hid Hdf5File::open_group(const std::string& name) {
  if (!exists(name)) throw_data_error(where(name) + ": no such group");
  return Hid(checked(H5Gopen2(m_file, name.c_str(), H5P_DEFAULT), name, "opening the group"), H5Gclose);
}

bool Hdf5File::exists(const std::string& name) {
  if (name.empty() || name == "/") return true;
  std::string partial;
  std::size_t start = name[0] == '/' ? 1 : 0;
  partial = name[0] == '/' ? "/" : "";
  while (start <= name.size()) {
    const std::size_t slash = std::min(name.find('/', start), name.size());
    partial += name.substr(start, slash - start);
    const htri_t e = H5Lexists(m_file, partial.c_str(), H5P_DEFAULT);
    if (e <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    partial += "/";
    start = slash + 1;
  }
  return true;
}

std::vector<std::string> Hdf5File::group_members(const std::string& group) {
  Hid g = open_group(group);
  H5G_info_t info;
  check(H5Gget_info(g, &info), group, "listing the group");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) fail(group, "listing the group");
    std::string s(static_cast<std::size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, s.data(), s.size(), H5P_DEFAULT);
    s.resize(static_cast<std::size_t>(n));
    names.push_back(s);
  }
  return names;
}

void Hdf5File::delete_link(const std::string& name) {
  check(H5Ldelete(m_file, name.c_str(), H5P_DEFAULT), name, "deleting");
}

void Hdf5File::write_dataset(hid_t parent, const std::string& parent_name, const std::string& name, hid_t file_type,
                             hid_t mem_type, const std::vector<hsize_t>& dims, const void* data) {
  const std::string object = (parent_name == "/" ? "" : parent_name) + "/" + name;
  Hid space(checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), object,
                    "creating the dataspace"),
            H5Sclose);
  Hid dcpl = property_list(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl, false);
  hsize_t total = 1;
  for (hsize_t d : dims) total *= d;
  if (total > 0) {
    // Chunks of whole rows (all but the first dimension), as many rows as fit in chunk_bytes.
    const std::size_t element = H5Tget_size(file_type);
    std::size_t row = element;
    for (std::size_t k = 1; k < dims.size(); ++k) row *= dims[k];
    std::vector<hsize_t> chunk = dims;
    chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(dims[0], chunk_bytes / std::max<std::size_t>(row, 1)));
    check(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), object, "setting the chunk size");
    check(H5Pset_shuffle(dcpl), object, "setting the shuffle filter");
    check(H5Pset_deflate(dcpl, deflate_level), object, "setting the deflate filter");
  }
  Hid ds(checked(H5Dcreate2(parent, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), object,
                 "creating the dataset"),
         H5Dclose);
  if (total == 0) return;
  if (!collective()) {
    check(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), object, "writing the data");
    return;
  }
  // Collective: every rank writes with the file's type as memory type; the rank holding the data converts
  // it first when the types differ (the FIBERMAP's big-endian rows), the others select nothing.
  std::vector<unsigned char> converted;
  if (data && H5Tequal(file_type, mem_type) <= 0) {
    const std::size_t size = std::max(H5Tget_size(file_type), H5Tget_size(mem_type));
    converted.assign(size * static_cast<std::size_t>(total), 0);
    std::memcpy(converted.data(), data, H5Tget_size(mem_type) * static_cast<std::size_t>(total));
    std::vector<unsigned char> background(converted.size(), 0);
    check(H5Tconvert(mem_type, file_type, total, converted.data(), background.data(), H5P_DEFAULT), object,
          "converting the data to the file's type");
    data = converted.data();
  }
  Hid selection(checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), object,
                        "creating the dataspace"),
                H5Sclose);
  if (!data) {
    check(H5Sselect_none(selection), object, "selecting nothing");
    static const unsigned char nothing = 0;
    data = &nothing;
  }
  check(H5Dwrite(ds, file_type, selection, selection, m_dxpl, data), object, "writing the data (collectively)");
}

Hid Hdf5File::open_dataset(hid_t parent, const std::string& parent_name, const std::string& name,
                           std::vector<hsize_t>& dims) {
  const std::string object = (parent_name == "/" ? "" : parent_name) + "/" + name;
  const htri_t e = H5Lexists(parent, name.c_str(), H5P_DEFAULT);
  if (e <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw_data_error(where(object) + ": dataset " + name + " is missing (not a perfex frame?)");
  }
  H5O_info_t info;
  check(H5Oget_info_by_name(parent, name.c_str(), &info, H5P_DEFAULT), object, "inspecting the object");
  if (info.type != H5O_TYPE_DATASET) throw_data_error(where(object) + ": expected a dataset, found another object");
  Hid ds(checked(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), object, "opening the dataset"), H5Dclose);
  Hid space(checked(H5Dget_space(ds), object, "reading the dataspace"), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) fail(object, "reading the dataspace");
  dims.assign(static_cast<std::size_t>(rank), 0);
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return ds;
}

void Hdf5File::read_dataset(hid_t dataset, const std::string& object, hid_t mem_type, void* data) {
  check(H5Dread(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), object,
        "reading the data (damaged or truncated file?)");
}

// --- attributes

namespace {

Hid scalar_space() { return Hid(H5Screate(H5S_SCALAR), H5Sclose); }

}  // namespace

void Hdf5File::write_attribute(hid_t obj, const std::string& object, const std::string& key, const std::string& value) {
  Hid type = vlen_string_type();
  Hid space = scalar_space();
  Hid a(checked(H5Acreate2(obj, key.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), object,
                "creating attribute " + key),
        H5Aclose);
  const char* p = value.c_str();
  check(H5Awrite(a, type, &p), object, "writing attribute " + key);
}

void Hdf5File::write_attribute(hid_t obj, const std::string& object, const std::string& key, double value) {
  Hid space = scalar_space();
  Hid a(checked(H5Acreate2(obj, key.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT), object,
                "creating attribute " + key),
        H5Aclose);
  check(H5Awrite(a, H5T_NATIVE_DOUBLE, &value), object, "writing attribute " + key);
}

void Hdf5File::write_attribute(hid_t obj, const std::string& object, const std::string& key, long long value) {
  Hid space = scalar_space();
  Hid a(checked(H5Acreate2(obj, key.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT), object,
                "creating attribute " + key),
        H5Aclose);
  check(H5Awrite(a, H5T_NATIVE_LLONG, &value), object, "writing attribute " + key);
}

void Hdf5File::write_attribute_bool(hid_t obj, const std::string& object, const std::string& key, bool value) {
  Hid type = bool_type();
  Hid space = scalar_space();
  Hid a(checked(H5Acreate2(obj, key.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), object,
                "creating attribute " + key),
        H5Aclose);
  const signed char v = value ? 1 : 0;
  check(H5Awrite(a, type, &v), object, "writing attribute " + key);
}

void Hdf5File::write_attribute(hid_t obj, const std::string& object, const std::string& key,
                               const std::vector<std::string>& values) {
  Hid type = vlen_string_type();
  const hsize_t n = values.size();
  Hid space(n > 0 ? H5Screate_simple(1, &n, nullptr) : H5Screate(H5S_NULL), H5Sclose);
  Hid a(checked(H5Acreate2(obj, key.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), object,
                "creating attribute " + key),
        H5Aclose);
  if (n == 0) return;
  std::vector<const char*> p;
  for (const auto& s : values) p.push_back(s.c_str());
  check(H5Awrite(a, type, p.data()), object, "writing attribute " + key);
}

bool Hdf5File::has_attribute(hid_t obj, const std::string& key) {
  const htri_t e = H5Aexists(obj, key.c_str());
  if (e < 0) H5Eclear2(H5E_DEFAULT);
  return e > 0;
}

namespace {

// Opens attribute `key` of `obj` and checks its class and that it holds one value (scalar or 1 element).
Hid open_scalar_attribute(Hdf5File& f, hid_t obj, const std::string& object, const std::string& key, H5T_class_t cls,
                          const char* expected) {
  Hid a(f.checked(H5Aopen(obj, key.c_str(), H5P_DEFAULT), object, "opening attribute " + key), H5Aclose);
  Hid type(f.checked(H5Aget_type(a), object, "reading the type of attribute " + key), H5Tclose);
  Hid space(f.checked(H5Aget_space(a), object, "reading attribute " + key), H5Sclose);
  const H5T_class_t c = H5Tget_class(type);
  const bool class_ok = c == cls || (cls == H5T_FLOAT && c == H5T_INTEGER) || (cls == H5T_ENUM && c == H5T_INTEGER);
  if (!class_ok || H5Sget_simple_extent_npoints(space) != 1)
    throw_data_error(f.where(object) + ": attribute " + key + " must be one " + expected);
  return a;
}

}  // namespace

std::optional<std::string> Hdf5File::read_attribute_string(hid_t obj, const std::string& object,
                                                           const std::string& key) {
  if (!has_attribute(obj, key)) return std::nullopt;
  auto v = read_attribute_strings(obj, object, key);
  if (!v || v->size() != 1) throw_data_error(where(object) + ": attribute " + key + " must be one string");
  return (*v)[0];
}

std::optional<std::vector<std::string>> Hdf5File::read_attribute_strings(hid_t obj, const std::string& object,
                                                                         const std::string& key) {
  if (!has_attribute(obj, key)) return std::nullopt;
  Hid a(checked(H5Aopen(obj, key.c_str(), H5P_DEFAULT), object, "opening attribute " + key), H5Aclose);
  Hid type(checked(H5Aget_type(a), object, "reading the type of attribute " + key), H5Tclose);
  if (H5Tget_class(type) != H5T_STRING) throw_data_error(where(object) + ": attribute " + key + " must be a string");
  Hid space(checked(H5Aget_space(a), object, "reading attribute " + key), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) fail(object, "reading attribute " + key);
  std::vector<std::string> out;
  if (n == 0) return out;
  if (H5Tis_variable_str(type) > 0) {
    Hid mem = vlen_string_type();
    std::vector<char*> p(static_cast<std::size_t>(n), nullptr);
    check(H5Aread(a, mem, p.data()), object, "reading attribute " + key);
    for (char* s : p) out.emplace_back(s ? s : "");
    Hid mspace(H5Screate_simple(1, std::vector<hsize_t>{static_cast<hsize_t>(n)}.data(), nullptr), H5Sclose);
    H5Dvlen_reclaim(mem, mspace, H5P_DEFAULT, p.data());
  } else {
    const std::size_t size = H5Tget_size(type);
    Hid mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem, size);
    std::vector<char> buf(size * static_cast<std::size_t>(n));
    check(H5Aread(a, mem, buf.data()), object, "reading attribute " + key);
    for (hssize_t i = 0; i < n; ++i) {
      const char* s = buf.data() + static_cast<std::size_t>(i) * size;
      out.emplace_back(s, strnlen(s, size));
    }
  }
  return out;
}

std::optional<double> Hdf5File::read_attribute_double(hid_t obj, const std::string& object, const std::string& key) {
  if (!has_attribute(obj, key)) return std::nullopt;
  Hid a = open_scalar_attribute(*this, obj, object, key, H5T_FLOAT, "number");
  double v = 0;
  check(H5Aread(a, H5T_NATIVE_DOUBLE, &v), object, "reading attribute " + key);
  return v;
}

std::optional<long long> Hdf5File::read_attribute_int(hid_t obj, const std::string& object, const std::string& key) {
  if (!has_attribute(obj, key)) return std::nullopt;
  Hid a = open_scalar_attribute(*this, obj, object, key, H5T_INTEGER, "integer");
  long long v = 0;
  check(H5Aread(a, H5T_NATIVE_LLONG, &v), object, "reading attribute " + key);
  return v;
}

std::optional<bool> Hdf5File::read_attribute_bool(hid_t obj, const std::string& object, const std::string& key) {
  if (!has_attribute(obj, key)) return std::nullopt;
  Hid a = open_scalar_attribute(*this, obj, object, key, H5T_ENUM, "boolean");
  Hid type = bool_type();
  Hid file_type(H5Aget_type(a), H5Tclose);
  signed char v = 0;
  check(H5Aread(a, H5Tget_class(file_type) == H5T_ENUM ? type.get() : H5T_NATIVE_SCHAR, &v), object,
        "reading attribute " + key);
  return v != 0;
}

}  // namespace perfex::io
