// Exceptions to exit codes and messages, in one place.
#include "perfex/drivers/errors.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <new>
#include <stdexcept>

#include "perfex/core/error.hpp"
#include "perfex/drivers/comm.hpp"
#include "perfex/drivers/error_lines.hpp"
#include "perfex/io/frame_hdf5.hpp"

namespace perfex::drivers {

Failure failure_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return {e.exit_code(), e.what()};
  } catch (const std::exception& e) {
    return {1, error_line(e)};  // one line, also for memory exhausted (Kokkos' report, its size and label)
  } catch (...) {
    return {1, "unknown exception"};
  }
}

Failure run_caught(const std::function<void()>& work) {
  try {
    work();
    return {};
  } catch (...) {
    return failure_of(std::current_exception());
  }
}

void print_error(const std::string& message) {
  fmt::print(stderr, "perfex: error: {}\n", message);
  std::fflush(stderr);
}

int run_or_abort(const Comm& world, const std::function<int()>& body) {
  Failure failure;
  try {
    return body();
  } catch (...) {
    failure = failure_of(std::current_exception());
  }
  // The stack has unwound: this rank's pending outputs are removed. A collective HDF5 file that failed ends
  // the job also on one rank: MPI_Finalize would crash in HDF5's clean-up of it.
  if (world.size() == 1 && !io::collective_hdf5_file_broken()) {
    print_error(failure.message);
    return failure.code;
  }
  if (io::collective_hdf5_failure_agreed() && !world.is_root()) world.wait_for_abort();  // rank 0 reports it
  fmt::print(stderr, "perfex: error on rank {} of {}: {}; ending the job\n", world.rank(), world.size(),
             failure.message);
  std::fflush(stderr);
  world.abort(failure.code);
}

}  // namespace perfex::drivers
