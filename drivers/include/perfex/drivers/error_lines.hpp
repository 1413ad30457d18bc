// One-line messages for failures that do not come as perfex::Error: memory exhausted (Kokkos prints its own
// lines on std::cerr, then throws "Memory allocation failure" with a traceback note), and exceptions whose text
// spans lines.
#pragma once

#include <exception>
#include <memory>
#include <streambuf>
#include <string>

namespace perfex::drivers {

// While alive, the text Kokkos writes on std::cerr about an allocation it could not make ("Kokkos failed to
// allocate memory for label ...") is held back and remembered for error_line(); every other line on
// std::cerr passes through unchanged.
class AllocationFailureCapture {
 public:
  AllocationFailureCapture();
  ~AllocationFailureCapture();
  AllocationFailureCapture(const AllocationFailureCapture&) = delete;
  AllocationFailureCapture& operator=(const AllocationFailureCapture&) = delete;

 private:
  std::streambuf* m_previous = nullptr;
  std::unique_ptr<std::streambuf> m_filter;
};

// The message for an exception in one line: for memory exhausted, "out of memory: allocating 2.3 GB for
// perfex::spots::spots failed (...)" with the size, the allocation and what shrinks it (--bundles-per-chunk:
// the bundles whose spots are held at once); otherwise the exception's text, its lines joined.
std::string error_line(const std::exception& e);

}  // namespace perfex::drivers
