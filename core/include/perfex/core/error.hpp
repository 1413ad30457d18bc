// perfex::Error: the one error type of perfex, carrying the exit code the CLI reports.
#pragma once

#include <stdexcept>
#include <string>

namespace perfex {

// Exit codes fixed for every command: 0 success, 1 data error, 2 usage error.
enum class ErrorKind { Data = 1, Usage = 2 };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), m_kind(kind) {}
  ErrorKind kind() const noexcept { return m_kind; }
  int exit_code() const noexcept { return static_cast<int>(m_kind); }

 private:
  ErrorKind m_kind;
};

// Unreadable or invalid input, or a request the data cannot satisfy.
[[noreturn]] inline void throw_data_error(const std::string& message) { throw Error(ErrorKind::Data, message); }
// Bad or inconsistent options, detected before any file is read.
[[noreturn]] inline void throw_usage_error(const std::string& message) { throw Error(ErrorKind::Usage, message); }

}  // namespace perfex
