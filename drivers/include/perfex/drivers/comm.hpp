// The MPI layer of the perfex program: a communicator wrapper whose size-1 form needs no MPI (so the
// distributed drivers compile and run in builds without it), and the session that starts MPI before
// Kokkos for the commands that ask for it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "perfex/io/communicator.hpp"

namespace perfex::drivers {

// A communicator, io::Communicator's one implementation: every MPI call of perfex is in comm.cpp.
// Default-constructed, or whenever MPI is not running: one process, rank 0, where broadcasts and
// reductions return their input. Point-to-point calls need size() > 1.
class Comm final : public io::Communicator {
 public:
  Comm() = default;
  // MPI_COMM_WORLD when an MpiSession started MPI, else the one-process communicator.
  static Comm world();

  int rank() const override { return m_rank; }
  int size() const override { return m_size; }
  bool uses_mpi() const override { return m_handle != nullptr; }
  const void* mpi_handle() const override;

  // Ranks with the same colour form a new communicator, ordered by key (MPI_Comm_split).
  Comm split(int color, int key) const;
  // The ranks of this communicator that share this node's memory (MPI_Comm_split_type SHARED).
  Comm split_node() const;

  using io::Communicator::broadcast;
  void broadcast_bytes(void* data, std::size_t bytes, int root) const override;
  int allreduce_max(int value) const override;
  int allreduce_min(int value) const override;
  long long allreduce_sum(long long value) const override;

  // Blocking point-to-point messages of known size (split into pieces MPI's int counts can describe).
  void send_bytes(const void* data, std::size_t bytes, int dest, int tag) const;
  void recv_bytes(void* data, std::size_t bytes, int source, int tag) const;
  void send(const std::string& text, int dest, int tag) const;
  void recv(std::string& text, int source, int tag) const;
  // Whether a message with `tag` is waiting, from any rank (its rank in `source`). Non-blocking.
  bool probe(int tag, int& source) const;

  // Ends every process of the job (MPI_Abort); without MPI, std::exit(code).
  [[noreturn]] void abort(int code) const;
  // Waits for another rank's abort to end the job (it reports the error); after a minute, ends it itself.
  [[noreturn]] void wait_for_abort() const;

  struct Handle;  // the MPI communicator (comm.cpp)

 private:
  std::shared_ptr<Handle> m_handle;  // null: the one-process communicator
  int m_rank = 0;
  int m_size = 1;
};

// Commands that can run on several ranks call this from their CLI callback. MPI then starts when the
// process was launched by mpiexec/mpirun/srun (their environment variables) or when `forced` (the
// --mpi flag). Throws perfex::Error (usage) for `forced` in a build without MPI.
void request_mpi(bool forced);

// Whether this build has MPI (PERFEX_ENABLE_MPI), and the MPI library's version line ("" without).
bool mpi_available();
std::string mpi_library_version();

// Brackets Kokkos in run_cli: starts MPI (MPI_THREAD_SERIALIZED) when a command asked for it, chooses the
// GPU of each rank (KOKKOS_DEVICE_ID = node-local rank % devices, unless the user chose one) before
// Kokkos initialises, installs the removal of temporary outputs on SIGTERM (MPI_Abort's signal), and
// finalises MPI on destruction (after Kokkos::finalize). Does nothing otherwise.
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  bool active() const { return m_active; }

 private:
  bool m_active = false;
};

}  // namespace perfex::drivers
