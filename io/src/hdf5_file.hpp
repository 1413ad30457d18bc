// RAII handles for HDF5 ids and a small HDF5 file wrapper, private to perfex::io (not installed; HDF5
// builds only): every HDF5 failure becomes a perfex::Error (data) naming the file, the object and HDF5's own
// reason. Objects are created without timestamps (H5Pset_obj_track_times false), so equal content gives equal files.
#pragma once

#include <hdf5.h>

#include "perfex/io/communicator.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace perfex::io {

// An HDF5 id owned by this object: closed (with its type's close function) on destruction.
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);
  Hid() = default;
  Hid(hid_t id, Closer closer) : m_id(id), m_close(closer) {}
  ~Hid() { reset(); }
  Hid(Hid&& o) noexcept : m_id(o.m_id), m_close(o.m_close) { o.m_id = H5I_INVALID_HID; }
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      reset();
      m_id = o.m_id;
      m_close = o.m_close;
      o.m_id = H5I_INVALID_HID;
    }
    return *this;
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  hid_t get() const { return m_id; }
  operator hid_t() const { return m_id; }  // NOLINT: handles pass straight to the C API
  bool valid() const { return m_id >= 0; }
  void reset() {
    if (m_id >= 0 && m_close) m_close(m_id);
    m_id = H5I_INVALID_HID;
  }

 private:
  hid_t m_id = H5I_INVALID_HID;
  Closer m_close = nullptr;
};

// HDF5's innermost error message of the current error stack ("truncated file: eof = ...", or "" when the
// stack is empty); clears the stack.
std::string hdf5_error_reason();

class Hdf5File {
 public:
  enum class Mode { Read, Create };
  // Read: an existing file (data error naming it when it is missing, not HDF5 or damaged). Create: a new
  // file (truncating), without object timestamps.
  Hdf5File(const std::string& path, Mode mode);
  // An HDF5 file image held in memory (the exposure writer's messages between ranks); `name` names it in
  // messages. Create: an empty in-memory file, whose bytes image() returns.
  static Hdf5File open_image(const std::vector<unsigned char>& bytes, const std::string& name);
  static Hdf5File create_image(const std::string& name);
#ifdef H5_HAVE_PARALLEL
  // A parallel HDF5 build: creates `path` (truncating) collectively on `comm`'s MPI communicator (MPI-IO;
  // every rank calls it, MPI started), without object timestamps. Its datasets are then written with
  // collective transfers (write_dataset: every rank calls it; ranks without data pass nullptr, an empty
  // selection).
  // `name` (the final output, when `path` is its temporary) names the file in messages.
  static Hdf5File create_collective(const std::string& path, const Communicator& comm, const std::string& name = "");
#endif
  bool collective() const { return m_dxpl >= 0; }
  // Forgets the file without closing it (a collective file one rank failed in: closing is collective and
  // the job is being ended).
  void abandon() { m_file = H5I_INVALID_HID; }
  std::vector<unsigned char> image();  // flushes; the whole file's bytes

  const std::string& path() const { return m_path; }
  hid_t id() const { return m_file; }
  void close();  // flushes and closes; throws on failure (the destructor closes silently)

  // "file.h5[/r0/FLUX]"
  std::string where(const std::string& object) const;
  [[noreturn]] void fail(const std::string& object, const std::string& what) const;
  // Throws (naming the object and the operation) when `status` < 0.
  void check(herr_t status, const std::string& object, const std::string& what) const {
    if (status < 0) fail(object, what);
  }
  hid_t checked(hid_t id, const std::string& object, const std::string& what) const {
    if (id < 0) fail(object, what);
    return id;
  }

  // --- groups ("/" is the root)
  Hid create_group(const std::string& name);                         // no timestamps
  Hid open_group(const std::string& name);                           // data error when missing
  bool exists(const std::string& name);                              // a link in the file (every component checked)
  std::vector<std::string> group_members(const std::string& group);  // names, in name order
  void delete_link(const std::string& name);

  // --- datasets: chunked (rows per chunk <= 1 MiB), shuffled and deflated; dims slowest first. A collective
  // file: `data` null on the ranks that write none of it; the data are converted to file_type first (HDF5
  // writes compressed datasets collectively only without type conversion).
  void write_dataset(hid_t parent, const std::string& parent_name, const std::string& name, hid_t file_type,
                     hid_t mem_type, const std::vector<hsize_t>& dims, const void* data);
  // Opens a dataset and checks its shape (dims) against `expected` (any extent where expected is 0);
  // returns the dataset, with the shape in `dims`.
  Hid open_dataset(hid_t parent, const std::string& parent_name, const std::string& name, std::vector<hsize_t>& dims);
  void read_dataset(hid_t dataset, const std::string& object, hid_t mem_type, void* data);

  // --- attributes of an object (a group or a dataset); `object` names it in messages.
  void write_attribute(hid_t obj, const std::string& object, const std::string& key, const std::string& value);
  void write_attribute(hid_t obj, const std::string& object, const std::string& key, double value);
  void write_attribute(hid_t obj, const std::string& object, const std::string& key, long long value);
  void write_attribute_bool(hid_t obj, const std::string& object, const std::string& key, bool value);
  void write_attribute(hid_t obj, const std::string& object, const std::string& key,
                       const std::vector<std::string>& values);
  bool has_attribute(hid_t obj, const std::string& key);
  std::optional<std::string> read_attribute_string(hid_t obj, const std::string& object, const std::string& key);
  std::optional<double> read_attribute_double(hid_t obj, const std::string& object, const std::string& key);
  std::optional<long long> read_attribute_int(hid_t obj, const std::string& object, const std::string& key);
  std::optional<bool> read_attribute_bool(hid_t obj, const std::string& object, const std::string& key);
  std::optional<std::vector<std::string>> read_attribute_strings(hid_t obj, const std::string& object,
                                                                 const std::string& key);

  ~Hdf5File();
  Hdf5File(Hdf5File&&) noexcept;
  Hdf5File& operator=(Hdf5File&&) = delete;
  Hdf5File(const Hdf5File&) = delete;
  Hdf5File& operator=(const Hdf5File&) = delete;

 private:
  Hdf5File() = default;
  hid_t m_file = H5I_INVALID_HID;
  hid_t m_dxpl = H5I_INVALID_HID;  // collective files: the collective transfer property list
  std::string m_path;
};

}  // namespace perfex::io
