// The MPI layer: every MPI call of perfex lives in this file; without PERFEX_HAVE_MPI only the
// one-process communicator exists and the session does nothing.
#include "perfex/drivers/comm.hpp"

#include <fmt/core.h>
#include <sched.h>
#include <unistd.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "perfex/core/error.hpp"
#include "perfex/io/atomic_output.hpp"

#if defined(PERFEX_HAVE_MPI)
#include <mpi.h>
#endif

namespace perfex::drivers {

namespace {

bool g_requested = false;                // a command may run under MPI
bool g_forced = false;                   // --mpi
[[maybe_unused]] bool g_active = false;  // MPI_Init done, MPI_Finalize not yet

// Environment variables the common launchers set in every process they start.
[[maybe_unused]] bool launcher_detected() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MV2_COMM_WORLD_SIZE",
                           "PALS_RANKID", "MPI_LOCALNRANKS"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

[[maybe_unused]] bool user_chose_device(int argc, char** argv) {
  for (const char* name : {"KOKKOS_DEVICE_ID", "KOKKOS_NUM_DEVICES", "KOKKOS_RAND_DEVICES"})
    if (std::getenv(name) != nullptr) return true;
  for (int i = 1; i < argc; ++i)
    for (const char* prefix : {"--kokkos-device", "--kokkos-ndevices", "--kokkos-num-devices", "--kokkos-map-device"})
      if (std::strncmp(argv[i], prefix, std::strlen(prefix)) == 0) return true;
  return false;
}

[[maybe_unused]] constexpr std::size_t max_piece = std::size_t(1)
                                                   << 30;  // bytes per MPI call (int counts); MPI builds only

}  // namespace

bool mpi_available() {
#if defined(PERFEX_HAVE_MPI)
  return true;
#else
  return false;
#endif
}

std::string mpi_library_version() {
#if defined(PERFEX_HAVE_MPI)
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string v(text, static_cast<std::size_t>(length));
  const auto end = v.find_first_of("\r\n,");
  return end == std::string::npos ? v : v.substr(0, end);
#else
  return "";
#endif
}

void request_mpi(bool forced) {
  if (forced && !mpi_available())
    throw_usage_error("--mpi: this perfex was built without MPI (configure with -DPERFEX_ENABLE_MPI=ON)");
  g_requested = true;
  g_forced = g_forced || forced;
}

#if defined(PERFEX_HAVE_MPI)

struct Comm::Handle {
  MPI_Comm comm = MPI_COMM_NULL;
  bool owned = false;
  ~Handle() {
    int finalized = 1;
    MPI_Finalized(&finalized);
    if (owned && !finalized && comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  }
};

namespace {
MPI_Comm raw(const std::shared_ptr<Comm::Handle>& h) { return h ? h->comm : MPI_COMM_SELF; }
}  // namespace

const void* Comm::mpi_handle() const { return m_handle ? &m_handle->comm : nullptr; }

Comm Comm::world() {
  Comm c;
  if (!g_active) return c;
  c.m_handle = std::make_shared<Handle>();
  c.m_handle->comm = MPI_COMM_WORLD;
  MPI_Comm_rank(MPI_COMM_WORLD, &c.m_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &c.m_size);
  return c;
}

Comm Comm::split(int color, int key) const {
  if (!m_handle) return Comm();
  Comm c;
  c.m_handle = std::make_shared<Handle>();
  MPI_Comm_split(m_handle->comm, color, key, &c.m_handle->comm);
  c.m_handle->owned = true;
  MPI_Comm_rank(c.m_handle->comm, &c.m_rank);
  MPI_Comm_size(c.m_handle->comm, &c.m_size);
  return c;
}

Comm Comm::split_node() const {
  if (!m_handle) return Comm();
  Comm c;
  c.m_handle = std::make_shared<Handle>();
  MPI_Comm_split_type(m_handle->comm, MPI_COMM_TYPE_SHARED, m_rank, MPI_INFO_NULL, &c.m_handle->comm);
  c.m_handle->owned = true;
  MPI_Comm_rank(c.m_handle->comm, &c.m_rank);
  MPI_Comm_size(c.m_handle->comm, &c.m_size);
  return c;
}

void Comm::broadcast_bytes(void* data, std::size_t bytes, int root) const {
  if (m_size == 1) return;
  auto* p = static_cast<char*>(data);
  for (std::size_t done = 0; done < bytes; done += max_piece) {
    const int n = static_cast<int>(std::min(max_piece, bytes - done));
    MPI_Bcast(p + done, n, MPI_BYTE, root, raw(m_handle));
  }
}

int Comm::allreduce_max(int value) const {
  if (m_size == 1) return value;
  int out = 0;
  MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, raw(m_handle));
  return out;
}

int Comm::allreduce_min(int value) const {
  if (m_size == 1) return value;
  int out = 0;
  MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MIN, raw(m_handle));
  return out;
}

long long Comm::allreduce_sum(long long value) const {
  if (m_size == 1) return value;
  long long out = 0;
  MPI_Allreduce(&value, &out, 1, MPI_LONG_LONG, MPI_SUM, raw(m_handle));
  return out;
}

void Comm::send_bytes(const void* data, std::size_t bytes, int dest, int tag) const {
  if (!m_handle) throw std::logic_error("perfex::drivers::Comm::send_bytes on a one-process communicator");
  const auto* p = static_cast<const char*>(data);
  std::size_t done = 0;
  do {
    const int n = static_cast<int>(std::min(max_piece, bytes - done));
    MPI_Send(p + done, n, MPI_BYTE, dest, tag, m_handle->comm);
    done += static_cast<std::size_t>(n);
  } while (done < bytes);
}

void Comm::recv_bytes(void* data, std::size_t bytes, int source, int tag) const {
  if (!m_handle) throw std::logic_error("perfex::drivers::Comm::recv_bytes on a one-process communicator");
  auto* p = static_cast<char*>(data);
  std::size_t done = 0;
  do {
    const int n = static_cast<int>(std::min(max_piece, bytes - done));
    MPI_Recv(p + done, n, MPI_BYTE, source, tag, m_handle->comm, MPI_STATUS_IGNORE);
    done += static_cast<std::size_t>(n);
  } while (done < bytes);
}

bool Comm::probe(int tag, int& source) const {
  if (!m_handle) return false;
  int flag = 0;
  MPI_Status status;
  MPI_Iprobe(MPI_ANY_SOURCE, tag, m_handle->comm, &flag, &status);
  if (flag) source = status.MPI_SOURCE;
  return flag != 0;
}

void Comm::abort(int code) const {
  if (g_active) MPI_Abort(m_handle ? m_handle->comm : MPI_COMM_WORLD, code);
  std::exit(code);
}

MpiSession::MpiSession(int& argc, char**& argv) {
  if (!g_requested || !(g_forced || launcher_detected())) return;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  m_active = g_active = true;
  const Comm world = Comm::world();
  if (provided < MPI_THREAD_SERIALIZED) {
    // The group root answers work requests from a second thread while its main thread computes.
    if (world.is_root())
      fmt::print(stderr,
                 "perfex: error: the MPI library provides thread level {}, perfex needs MPI_THREAD_SERIALIZED\n",
                 provided);
    world.abort(1);
  }
  // MPI_Abort ends the other ranks with SIGTERM: remove their temporary outputs then.
  io::install_signal_cleanup();
  const Comm node = world.split_node();
#if defined(KOKKOS_ENABLE_CUDA) && KOKKOS_VERSION < 40000
  // Kokkos 3 maps ranks to GPUs only from Open MPI's, MVAPICH's and Slurm's variables; the node-local rank
  // covers every launcher. Kokkos 4 does this itself (--kokkos-map-device-id-by=mpi_rank).
  if (!user_chose_device(argc, argv)) {
    const int ndevices = static_cast<int>(Kokkos::Cuda::detect_device_count());
    if (ndevices > 0) setenv("KOKKOS_DEVICE_ID", std::to_string(node.rank() % ndevices).c_str(), 1);
  }
#endif
  // OMP_PROC_BIND=spread/true pins the threads of every rank to the same first cores unless the launcher
  // bound each rank to its own cores (an oversubscribed mpirun binds nothing).
  const char* bind = std::getenv("OMP_PROC_BIND");
  cpu_set_t mask;
  CPU_ZERO(&mask);
  const bool unbound = sched_getaffinity(0, sizeof(mask), &mask) == 0 &&
                       CPU_COUNT(&mask) >= static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  const int unbound_ranks = node.allreduce_sum(unbound ? 1 : 0);
  if (node.is_root() && node.size() > 1 && unbound_ranks > 1 && bind != nullptr && std::strcmp(bind, "false") != 0 &&
      std::strcmp(bind, "FALSE") != 0)
    fmt::print(stderr,
               "perfex: warning: {} ranks on this node are not bound to cores and OMP_PROC_BIND={} pins the threads of "
               "every rank to the same cores: bind the ranks (mpirun --bind-to core --map-by slot:PE=N, srun "
               "--cpu-bind=cores) or set OMP_PROC_BIND=false\n",
               unbound_ranks, bind);
}

MpiSession::~MpiSession() {
  if (!m_active) return;
  g_active = false;
  int finalized = 1;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

#else  // no MPI: the one-process communicator

struct Comm::Handle {};

Comm Comm::world() { return Comm(); }
const void* Comm::mpi_handle() const { return nullptr; }
Comm Comm::split(int, int) const { return Comm(); }
Comm Comm::split_node() const { return Comm(); }
void Comm::broadcast_bytes(void*, std::size_t, int) const {}
int Comm::allreduce_max(int value) const { return value; }
int Comm::allreduce_min(int value) const { return value; }
long long Comm::allreduce_sum(long long value) const { return value; }
void Comm::send_bytes(const void*, std::size_t, int, int) const {
  throw std::logic_error("perfex::drivers::Comm::send_bytes: perfex was built without MPI");
}
void Comm::recv_bytes(void*, std::size_t, int, int) const {
  throw std::logic_error("perfex::drivers::Comm::recv_bytes: perfex was built without MPI");
}
bool Comm::probe(int, int&) const { return false; }
void Comm::abort(int code) const { std::exit(code); }

MpiSession::MpiSession(int&, char**&) {}
MpiSession::~MpiSession() = default;

#endif

void Comm::wait_for_abort() const {
  // The rank that reports the error calls MPI_Abort; the launcher then ends this one. Never for ever.
  for (int i = 0; i < 600; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  abort(1);
}

void Comm::send(const std::string& text, int dest, int tag) const {
  const unsigned long long n = text.size();
  send_bytes(&n, sizeof(n), dest, tag);
  if (n > 0) send_bytes(text.data(), text.size(), dest, tag);
}

void Comm::recv(std::string& text, int source, int tag) const {
  unsigned long long n = 0;
  recv_bytes(&n, sizeof(n), source, tag);
  text.resize(static_cast<std::size_t>(n));
  if (n > 0) recv_bytes(text.data(), text.size(), source, tag);
}

}  // namespace perfex::drivers
