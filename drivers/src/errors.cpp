// Exceptions to exit codes and messages, in one place.
#include "perfex/drivers/errors.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <new>
#include <stdexcept>

#include "perfex/core/error.hpp"
#include "perfex/drivers/comm.hpp"

namespace perfex::drivers {

Failure failure_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return {e.exit_code(), e.what()};
  } catch (const std::bad_alloc&) {
    return {1, "out of memory"};
  } catch (const std::exception& e) {
    return {1, e.what()};
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
  // The stack has unwound: this rank's pending outputs are removed.
  if (world.size() == 1) {
    print_error(failure.message);
    return failure.code;
  }
  fmt::print(stderr, "perfex: error on rank {} of {}: {}; ending the job\n", world.rank(), world.size(),
             failure.message);
  std::fflush(stderr);
  world.abort(failure.code);
}

}  // namespace perfex::drivers
