// Exposure files written collectively (PERFEX_HDF5_PARALLEL: a parallel HDF5 and MPI). HDF5 wants every
// object created by all ranks with the same arguments: the rank holding a frame broadcasts its keywords,
// shapes and FIBERMAP columns (a few kB, not the data), every rank creates the group, its attributes and
// datasets, and the data go to the file in collective writes where the holder selects everything and the
// other ranks nothing. The chunking, filters and group names are the serial writer's.
#include "perfex/io/frame_hdf5.hpp"

#include <cstring>
#include <exception>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "perfex/core/error.hpp"

#if defined(PERFEX_HAVE_HDF5_PARALLEL)
#include <hdf5.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "frame_hdf5_internal.hpp"
#include "hdf5_file.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/file_checks.hpp"
#endif

namespace perfex::io {

namespace {
bool g_collective_file_broken = false;
bool g_collective_failure_agreed = false;  // every rank holds the same error (a reservation that failed)
}  // namespace

bool collective_hdf5_file_broken() { return g_collective_file_broken; }
bool collective_hdf5_failure_agreed() { return g_collective_file_broken && g_collective_failure_agreed; }

#if defined(PERFEX_HAVE_HDF5_PARALLEL)

namespace {

// --- what the owner of a frame tells the other ranks: a flat byte string.
class Packer {
 public:
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable<T>::value, "bytes");
    const auto* p = reinterpret_cast<const char*>(&v);
    m_bytes.append(p, sizeof(T));
  }
  void put(const std::string& s) {
    put(static_cast<std::uint64_t>(s.size()));
    m_bytes.append(s);
  }
  template <class T>
  void put(const std::optional<T>& v) {
    put(static_cast<char>(v.has_value()));
    if (v) put(*v);
  }
  void put(const std::vector<std::string>& v) {
    put(static_cast<std::uint64_t>(v.size()));
    for (const auto& s : v) put(s);
  }
  void put(const std::vector<double>& v) {
    put(static_cast<std::uint64_t>(v.size()));
    m_bytes.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
  }
  std::string& bytes() { return m_bytes; }

 private:
  std::string m_bytes;
};

class Unpacker {
 public:
  explicit Unpacker(const std::string& bytes) : m_bytes(bytes) {}
  template <class T>
  void get(T& v) {
    static_assert(std::is_trivially_copyable<T>::value, "bytes");
    take(&v, sizeof(T));
  }
  void get(std::string& s) {
    std::uint64_t n = 0;
    get(n);
    need(n);
    s.assign(m_bytes, m_at, n);
    m_at += n;
  }
  template <class T>
  void get(std::optional<T>& v) {
    char has = 0;
    get(has);
    v.reset();
    if (has) {
      T x{};
      get(x);
      v = x;
    }
  }
  void get(std::vector<std::string>& v) {
    std::uint64_t n = 0;
    get(n);
    v.assign(n, std::string());
    for (auto& s : v) get(s);
  }
  void get(std::vector<double>& v) {
    std::uint64_t n = 0;
    get(n);
    need(n * sizeof(double));
    v.resize(n);
    take(v.data(), n * sizeof(double));
  }

 private:
  void need(std::uint64_t n) const {
    if (m_at + n > m_bytes.size()) throw_data_error("collective HDF5 write: a truncated frame description");
  }
  void take(void* p, std::size_t n) {
    need(n);
    std::memcpy(p, m_bytes.data() + m_at, n);
    m_at += n;
  }
  const std::string& m_bytes;
  std::size_t m_at = 0;
};

static_assert(std::is_trivially_copyable<ExtractionOptions>::value, "ExtractionOptions travels as bytes");

// The frame without its arrays: header, shapes, grid, and the FIBERMAP's columns (not its rows).
std::string describe(const Frame& frame, const std::optional<RawTable>& fibermap) {
  Packer p;
  const FrameHeader& h = frame.header;
  p.put(h.camera);
  p.put(h.expid);
  p.put(h.night);
  p.put(h.mjd_obs);
  p.put(h.exptime);
  p.put(h.flavor);
  p.put(h.in_psf);
  p.put(h.in_img);
  p.put(h.wavemin);
  p.put(h.wavemax);
  p.put(h.wavestep);
  p.put(h.options);
  p.put(h.psf_tails);
  p.put(h.heliocor);
  p.put(h.version);
  p.put(h.cards);
  p.put(h.fibermin);
  p.put(h.orig_psf);
  std::vector<std::string> dep_names, dep_versions;
  for (const auto& dep : h.dependencies) {
    dep_names.push_back(dep.first);
    dep_versions.push_back(dep.second);
  }
  p.put(dep_names);
  p.put(dep_versions);
  const FrameResult& d = frame.data;
  p.put(d.specmin);
  p.put(d.nspec);
  p.put(d.nwave);
  p.put(d.ndiag);
  p.put(d.wavelengths);
  auto put_table = [&p](const std::optional<RawTable>& table) {
    p.put(static_cast<char>(table.has_value()));
    if (!table) return;
    const RawTable& t = *table;
    p.put(t.extname);
    p.put(t.nrows);
    p.put(t.row_bytes);
    p.put(t.ncolumns);
    p.put(t.names);
    p.put(t.forms);
    p.put(t.units);
    p.put(t.cards);
    p.put(t.comments);
  };
  put_table(fibermap);
  put_table(frame.scores);
  return std::move(p.bytes());
}

void undescribe(const std::string& bytes, Frame& frame, std::optional<RawTable>& fibermap) {
  Unpacker u(bytes);
  FrameHeader& h = frame.header;
  u.get(h.camera);
  u.get(h.expid);
  u.get(h.night);
  u.get(h.mjd_obs);
  u.get(h.exptime);
  u.get(h.flavor);
  u.get(h.in_psf);
  u.get(h.in_img);
  u.get(h.wavemin);
  u.get(h.wavemax);
  u.get(h.wavestep);
  u.get(h.options);
  u.get(h.psf_tails);
  u.get(h.heliocor);
  u.get(h.version);
  u.get(h.cards);
  u.get(h.fibermin);
  u.get(h.orig_psf);
  std::vector<std::string> dep_names, dep_versions;
  u.get(dep_names);
  u.get(dep_versions);
  h.dependencies.clear();
  for (std::size_t k = 0; k < dep_names.size() && k < dep_versions.size(); ++k)
    h.dependencies.emplace_back(dep_names[k], dep_versions[k]);
  FrameResult& d = frame.data;
  u.get(d.specmin);
  u.get(d.nspec);
  u.get(d.nwave);
  u.get(d.ndiag);
  u.get(d.wavelengths);
  auto get_table = [&u](std::optional<RawTable>& table) {
    char has = 0;
    u.get(has);
    table.reset();
    if (!has) return;
    RawTable t;
    u.get(t.extname);
    u.get(t.nrows);
    u.get(t.row_bytes);
    u.get(t.ncolumns);
    u.get(t.names);
    u.get(t.forms);
    u.get(t.units);
    u.get(t.cards);
    u.get(t.comments);
    table = std::move(t);
  };
  get_table(fibermap);
  get_table(frame.scores);
}

// Rank `root`'s outcome (0, or an Error's exit code and message) thrown on every rank.
void agree(const Communicator& comm, int code, std::string message, int root) {
  comm.broadcast(code, root);
  if (code == 0) return;
  comm.broadcast(message, root);
  throw Error(static_cast<ErrorKind>(code), message);
}

}  // namespace

bool hdf5_parallel_available() { return true; }

namespace {
struct WriterState {
  const Communicator* comm = nullptr;  // every collective call goes through it
  std::string path;
  std::unique_ptr<AtomicOutput> out;  // world rank 0
  std::optional<Hdf5File> file;
  std::set<std::string> names;
  int frames = 0;
  int rank = 0;
  int size = 1;
  bool failed = false;  // a collective call threw on this rank: never close collectively again
  bool committed = false;
  long long reserved = 0;  // bytes of the temporary file allocated on disk ahead of HDF5's writes
};

// HDF5 does not survive a write that fails (a full disk): the file stays open in the library, whose clean-up
// at MPI_Finalize then crashes. So rank 0 allocates the disk space of each frame (an upper bound of its
// datasets) before the collective writes, and a full disk comes out here, on every rank, before HDF5 writes:
// the file is abandoned unclosed, its temporary removed, and the job ended (collective_hdf5_file_broken()).
constexpr long long metadata_slack = 4LL << 20;  // superblock, groups, attributes, chunk indexes at close

long long frame_bytes_bound(const Frame& f, const std::optional<RawTable>& fibermap, bool float64) {
  const long long bins = static_cast<long long>(f.data.nspec) * f.data.nwave;
  const long long nd = 2LL * f.data.ndiag + 1;
  long long raw = bins * (4 * 4 + 4 * nd) + 8LL * f.data.nwave;  // FLUX IVAR CHI2PIX MASK, RESOLUTION, WAVELENGTH
  if (float64) raw += bins * (8 * 4 + 8 * nd);                   // FLUX64 IVAR64 CHI2PIX64 PIXMASK_FRACTION, RES64
  if (fibermap) raw += static_cast<long long>(fibermap->row_bytes) * fibermap->nrows;
  return raw + raw / 20 + (256LL << 10);  // deflate's worst case adds < 0.1 %; chunk indexes, attributes
}

void mark_broken(WriterState& m) {
  m.failed = true;
  g_collective_file_broken = true;
  if (m.file) m.file->abandon();  // never closed: its flush would fail again
}

// Extends the space allocated to the temporary file by `bytes` (rank 0 allocates; every rank learns the
// outcome): a data error naming the exposure file and the cause on every rank when the disk cannot hold it.
void reserve(WriterState& m, long long bytes) {
  int error = 0;
  if (m.rank == 0) {
    const int fd = open(m.out->temp_path().c_str(), O_WRONLY | O_CLOEXEC);
    error = fd < 0 ? errno : posix_fallocate(fd, static_cast<off_t>(m.reserved), static_cast<off_t>(bytes));
    if (error == EINVAL || error == EOPNOTSUPP) error = 0;  // a file system that cannot allocate ahead
    if (fd >= 0 && close(fd) != 0 && error == 0) error = errno;
  }
  m.comm->broadcast(error, 0);
  if (error != 0) {
    mark_broken(m);
    g_collective_failure_agreed = true;
    throw_data_error(m.path + ": cannot be written (" + file_error_text(error) + "); nothing was written");
  }
  m.reserved += bytes;
}

}  // namespace

struct Hdf5CollectiveExposureWriter::Impl : WriterState {};

Hdf5CollectiveExposureWriter::Hdf5CollectiveExposureWriter(const std::string& path, bool overwrite,
                                                           const Communicator& comm)
    : m_impl(std::make_unique<Impl>()) {
  Impl& m = *m_impl;
  if (!comm.uses_mpi()) throw_usage_error(path + ": collective HDF5 writes need MPI started (run under mpiexec)");
  m.comm = &comm;
  m.path = path;
  m.rank = comm.rank();
  m.size = comm.size();
  // Rank 0 checks the target and picks the temporary file; every rank learns its name (or the error).
  int code = 0;
  std::string text;
  if (m.rank == 0) {
    try {
      m.out = std::make_unique<AtomicOutput>(path, overwrite);
      text = m.out->temp_path();
    } catch (const Error& e) {
      code = e.exit_code();
      text = e.what();
    }
  }
  comm.broadcast(code, 0);
  comm.broadcast(text, 0);
  if (code != 0) throw Error(static_cast<ErrorKind>(code), text);
  std::string reason;
  try {
    m.file.emplace(Hdf5File::create_collective(text, comm, path));
  } catch (const Error& e) {
    reason = e.what();
  }
  if (comm.allreduce_min(reason.empty() ? 1 : 0) == 0) {
    if (m.file) m.file->abandon();  // some ranks failed: no collective close
    m.file.reset();
    throw_data_error(reason.empty() ? path + ": creating the file failed on another rank" : reason);
  }
  reserve(m, metadata_slack);
  try {
    detail::write_exposure_attributes(*m.file);
  } catch (...) {
    mark_broken(m);
    throw;
  }
}

Hdf5CollectiveExposureWriter::~Hdf5CollectiveExposureWriter() {
  Impl& m = *m_impl;
  if (m.file) {
    // Uncommitted: close on every rank (collective), unless a collective call failed on this rank or an
    // exception is unwinding it (another rank's failure, a crash): the other ranks may then be waiting
    // elsewhere, and the job is being ended (MPI_Abort). Rank 0's AtomicOutput then removes the temporary.
    if ((m.failed || std::uncaught_exceptions() > 0) && m.size > 1) m.file->abandon();
    try {
      m.file->close();
    } catch (const Error&) {
    }
    m.file.reset();
  }
}

Hdf5CollectiveExposureWriter::Added Hdf5CollectiveExposureWriter::add(int owner, const Frame* frame,
                                                                      const std::optional<RawTable>& fibermap,
                                                                      bool float64, const std::string& fallback) {
  Impl& m = *m_impl;
  Added added;
  if (!m.file) throw_data_error(m.path + ": the exposure file is closed");
  const bool mine = m.rank == owner;
  // The owner checks its frame and describes it; the others learn whether there is one, then what it is.
  int status = 0;
  std::string description;
  if (mine) {
    if (!frame) {
      status = 1;
    } else {
      try {
        const std::string group = detail::exposure_group_name(frame->header.camera, fallback, m.names, m.frames);
        detail::check_frame_for_hdf5(*frame, fibermap, float64, m.path + "[/" + group + "/FIBERMAP]");
        description = describe(*frame, fibermap);
      } catch (const Error& e) {
        status = 1;
        added.refused = e.what();
      }
    }
  }
  m.comm->broadcast(status, owner);
  if (status != 0) return added;
  m.comm->broadcast(description, owner);
  Frame shell;
  std::optional<RawTable> columns;
  if (!mine) undescribe(description, shell, columns);
  const Frame& f = mine ? *frame : shell;
  const std::string group = detail::exposure_group_name(f.header.camera, fallback, m.names, m.frames);
  reserve(m, frame_bytes_bound(f, mine ? fibermap : columns, float64));
  try {
    detail::write_frame_group(*m.file, group, f, mine ? fibermap : columns, float64, mine);
  } catch (...) {
    mark_broken(m);  // HDF5 failed inside a collective write: the job ends (run_or_abort)
    throw;
  }
  m.names.insert(group);
  ++m.frames;
  added.group = group;
  added.nspec = f.data.nspec;
  added.specmin = f.data.specmin;
  added.nwave = f.data.nwave;
  return added;
}

int Hdf5CollectiveExposureWriter::frames() const { return m_impl->frames; }
const std::string& Hdf5CollectiveExposureWriter::path() const { return m_impl->path; }

void Hdf5CollectiveExposureWriter::commit() {
  Impl& m = *m_impl;
  if (!m.file) throw_data_error(m.path + ": the exposure file is closed");
  std::string reason;
  try {
    m.file->close();
  } catch (const Error& e) {
    reason = e.what();
    g_collective_file_broken = true;
  }
  m.file.reset();
  // The space allocated ahead beyond what HDF5 used: HDF5 sets the file's size to its end of allocation
  // only when that moved since the last time; cut the rest here.
  if (m.rank == 0 && reason.empty()) {
    std::string eof_reason;
    const long long end = detail::hdf5_end_of_file(m.out->temp_path(), eof_reason);
    std::error_code ec;
    if (end > 0 && std::filesystem::file_size(m.out->temp_path(), ec) > static_cast<std::uintmax_t>(end) && !ec &&
        truncate(m.out->temp_path().c_str(), static_cast<off_t>(end)) != 0)
      reason = m.path + ": cannot be written (" + file_error_text(errno) + ")";
    else if (end <= 0)
      reason = m.path + ": " + eof_reason;
  }
  // Every rank has closed (flushed) its part before rank 0 renames the file.
  if (m.comm->allreduce_min(reason.empty() ? 1 : 0) == 0) {
    if (m.rank == 0 && reason.empty()) reason = m.path + ": closing the file failed on another rank";
    agree(*m.comm, m.rank == 0 ? 1 : 0, reason, 0);
  }
  int code = 0;
  if (m.rank == 0) {
    try {
      m.out->commit();
    } catch (const Error& e) {
      code = e.exit_code();
      reason = e.what();
    }
  }
  agree(*m.comm, code, reason, 0);
  m.committed = true;
}

#else  // a serial HDF5, or none

bool hdf5_parallel_available() { return false; }

struct Hdf5CollectiveExposureWriter::Impl {};
Hdf5CollectiveExposureWriter::Hdf5CollectiveExposureWriter(const std::string& path, bool, const Communicator&) {
  throw_usage_error(path +
                    ": this perfex was built without collective HDF5 writes (configure with "
                    "-DPERFEX_HDF5_PARALLEL=ON and libhdf5-openmpi-dev installed)");
}
Hdf5CollectiveExposureWriter::~Hdf5CollectiveExposureWriter() = default;
Hdf5CollectiveExposureWriter::Added Hdf5CollectiveExposureWriter::add(int, const Frame*, const std::optional<RawTable>&,
                                                                      bool, const std::string&) {
  throw_usage_error("collective HDF5 writes are not built");
}
int Hdf5CollectiveExposureWriter::frames() const { return 0; }
const std::string& Hdf5CollectiveExposureWriter::path() const {
  throw_usage_error("collective HDF5 writes are not built");
}
void Hdf5CollectiveExposureWriter::commit() { throw_usage_error("collective HDF5 writes are not built"); }

#endif

}  // namespace perfex::io
