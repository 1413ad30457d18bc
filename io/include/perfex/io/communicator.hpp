// The communicator interface: the collective operations perfex needs, declared here where the lowest user
// (io's collective HDF5 writer) can take it, implemented once over MPI by the driver's communicator
// (drivers::Comm), so that every MPI call perfex makes goes through that one class.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

namespace perfex::io {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool is_root() const { return rank() == 0; }
  // Whether this is an MPI communicator (MPI started), even of one rank.
  virtual bool uses_mpi() const = 0;
  // The MPI communicator, as a pointer to its MPI_Comm, for libraries that take one (MPI-IO in HDF5);
  // nullptr when MPI is not running.
  virtual const void* mpi_handle() const = 0;

  virtual void broadcast_bytes(void* data, std::size_t bytes, int root) const = 0;
  virtual int allreduce_max(int value) const = 0;
  virtual int allreduce_min(int value) const = 0;
  virtual long long allreduce_sum(long long value) const = 0;

  // Broadcasts built on broadcast_bytes (no-ops on one rank).
  template <class T>
  void broadcast(T& value, int root) const {
    static_assert(std::is_trivially_copyable<T>::value, "broadcast copies bytes");
    broadcast_bytes(&value, sizeof(T), root);
  }
  void broadcast(std::string& text, int root) const;
  void broadcast(std::vector<double>& values, int root) const;
  void broadcast(std::vector<std::string>& texts, int root) const;

 protected:
  Communicator() = default;
  Communicator(const Communicator&) = default;
  Communicator& operator=(const Communicator&) = default;
};

}  // namespace perfex::io
