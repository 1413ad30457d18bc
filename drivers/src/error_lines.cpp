// One-line error messages for memory exhausted and multi-line exception texts (error_lines.hpp).
#include "perfex/drivers/error_lines.hpp"

#include <Kokkos_Core.hpp>

#include <iostream>
#include <mutex>
#include <new>

namespace perfex::drivers {

namespace {

constexpr const char* kokkos_marker = "Kokkos failed to allocate memory for label \"";

std::mutex g_mutex;
std::string g_failed_label;  // of the last allocation Kokkos reported as failed
std::string g_failed_size;   // "2.3 G", as Kokkos wrote it

// Kokkos' report of a failed allocation: 'Kokkos failed to allocate memory for label "L".  Allocation using
// MemorySpace named "Host" failed with the following error:  Allocation of size 2.3 G failed, ...'.
bool parse_kokkos_report(const std::string& text, std::string& label, std::string& size) {
  const std::string marker = kokkos_marker;
  if (text.rfind(marker, 0) != 0) return false;
  const auto end = text.find('"', marker.size());
  label = text.substr(marker.size(), end == std::string::npos ? 0 : end - marker.size());
  const auto at = text.find("Allocation of size ");
  const auto failed = text.find(" failed", at == std::string::npos ? 0 : at);
  size = at == std::string::npos || failed == std::string::npos ? std::string()
                                                                : text.substr(at + 19, failed - at - 19);
  return true;
}

// Passes std::cerr's text through line by line, except Kokkos' report of a failed allocation.
class FilterBuf : public std::streambuf {
 public:
  explicit FilterBuf(std::streambuf* out) : m_out(out) {}

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    m_line.push_back(static_cast<char>(c));
    if (c == '\n') flush_line();
    return c;
  }
  int sync() override {
    // A partial line that cannot be the start of Kokkos' report goes out now.
    const std::string marker = kokkos_marker;
    if (!m_line.empty() && m_line.compare(0, std::min(m_line.size(), marker.size()), marker, 0,
                                          std::min(m_line.size(), marker.size())) != 0)
      flush_line();
    return m_out->pubsync();
  }

 private:
  void flush_line() {
    if (m_line.rfind(kokkos_marker, 0) == 0) {
      std::lock_guard<std::mutex> lock(g_mutex);
      parse_kokkos_report(m_line, g_failed_label, g_failed_size);
    } else {
      m_out->sputn(m_line.data(), static_cast<std::streamsize>(m_line.size()));
    }
    m_line.clear();
  }

  std::streambuf* m_out;
  std::string m_line;
};

std::string out_of_memory(const std::string& size, const std::string& label) {
  std::string s = "out of memory";
  if (!size.empty()) {
    std::string bytes = size;
    if (!bytes.empty() && (bytes.back() == 'K' || bytes.back() == 'M' || bytes.back() == 'G')) bytes += "B";
    s += ": allocating " + bytes + (label.empty() ? std::string() : " for " + label) + " failed";
  }
  return s +
         " (perfex extract holds the spots of --bundles-per-chunk bundles at once, ~90 MB each for a DESI "
         "frame: a smaller value, or more memory, lets it run)";
}

}  // namespace

AllocationFailureCapture::AllocationFailureCapture() {
  m_previous = std::cerr.rdbuf();
  m_filter = std::make_unique<FilterBuf>(m_previous);
  std::cerr.rdbuf(m_filter.get());
}

AllocationFailureCapture::~AllocationFailureCapture() {
  std::cerr.flush();
  std::cerr.rdbuf(m_previous);
}

std::string error_line(const std::exception& e) {
  // Kokkos' own exception for a failed allocation: RawMemoryAllocationFailure up to Kokkos 4, BadAlloc (with
  // the allocation's label) in Kokkos 5 (the Kokkos 5 check builds against 5.2).
#if KOKKOS_VERSION >= 50000
  if (const auto* bad = dynamic_cast<const Kokkos::Experimental::BadAlloc*>(&e)) {
    const std::size_t bytes = bad->allocation_size();
    const std::string label = bad->label();
#else
  if (const auto* raw = dynamic_cast<const Kokkos::Experimental::RawMemoryAllocationFailure*>(&e)) {
    const std::size_t bytes = raw->attempted_size();
    const std::string label;
#endif
    const double gb = static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0);
    char size[32];
    std::snprintf(size, sizeof(size), "%.3g G", gb);
    return out_of_memory(size, label);
  }
  const std::string text = e.what() ? e.what() : "";
  std::string label, size;
  if (parse_kokkos_report(text, label, size)) return out_of_memory(size, label);  // the report is the message
  const bool kokkos_failure = text.rfind("Memory allocation failure", 0) == 0;    // the report went to std::cerr
  if (kokkos_failure || dynamic_cast<const std::bad_alloc*>(&e)) {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (kokkos_failure || !g_failed_size.empty()) return out_of_memory(g_failed_size, g_failed_label);
    return out_of_memory("", "");
  }
  std::string line;
  for (char c : text) line.push_back(c == '\n' ? ' ' : c);
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

}  // namespace perfex::drivers
