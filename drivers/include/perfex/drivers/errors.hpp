// The one mapping from what a command throws to perfex's exit code and one-line message (README: 0
// success, 1 data error, 2 usage error), used by the command line, the MPI drivers and the exposure loop.
#pragma once

#include <exception>
#include <functional>
#include <string>

namespace perfex::drivers {

class Comm;

// A command's or a frame's outcome: 0 and no message, or the exit code and the one-line message.
struct Failure {
  int code = 0;
  std::string message;
  explicit operator bool() const { return code != 0; }
};

// perfex::Error: its kind's code and message; memory exhausted: 1, "out of memory: allocating SIZE for LABEL
// failed (...)" (error_lines.hpp); another exception: 1 and its what() in one line; anything else: 1,
// "unknown exception".
Failure failure_of(const std::exception_ptr& error);

// Runs `work`, returning its failure (code 0 when it returned).
Failure run_caught(const std::function<void()>& work);

// "perfex: error: MESSAGE" on stderr.
void print_error(const std::string& message);

// Runs a collective action on the ranks of `world`; an exception escaping it ends the whole job with
// MPI_Abort once the stack has unwound (this rank's temporary outputs are removed by then), since other
// ranks may be waiting in a collective call for this one. With one rank, the error is printed and its
// exit code returned.
int run_or_abort(const Comm& world, const std::function<int()>& body);

}  // namespace perfex::drivers
