// Atomic outputs: write to "<dir>/.<name>.tmp-XXXXXX", fsync, rename. Pending temporaries are registered
// so a SIGINT/SIGTERM handler can unlink them before the process exits.
#include "perfex/io/atomic_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>

#include "perfex/core/error.hpp"
#include "perfex/io/compressed_output.hpp"

namespace perfex::io {

namespace {
namespace fs = std::filesystem;

// A fixed table that a signal handler may read without locks or allocation.
constexpr int max_pending = 64;
constexpr int max_path = 4096;
char g_pending[max_pending][max_path];
std::atomic<bool> g_used[max_pending];

int register_pending(const std::string& path) {
  if (path.size() + 1 > max_path) return -1;
  for (int i = 0; i < max_pending; ++i) {
    bool expected = false;
    if (g_used[i].compare_exchange_strong(expected, true)) {
      std::memcpy(g_pending[i], path.c_str(), path.size() + 1);
      return i;
    }
  }
  return -1;
}

void unregister_pending(int slot) {
  if (slot >= 0) g_used[slot].store(false);
}

extern "C" void cleanup_and_exit(int sig) {
  for (int i = 0; i < max_pending; ++i)
    if (g_used[i].load()) unlink(g_pending[i]);
  const char msg[] = "perfex: interrupted, temporary output removed\n";
  ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
  (void)ignored;
  _exit(128 + sig);
}

// Finds a new file name "<dir>/<prefix>XXXXXX", registered for the signal handler *before* the file is
// created (O_EXCL: unique), checks that it can be created, and removes it again: an interruption at any
// moment leaves nothing behind (mkstemp would create the file before it could be registered). Returns the
// name, registered in `slot` (the caller unregisters it); on failure an empty name, with errno set.
std::string reserve_temporary_name(const fs::path& dir, const std::string& prefix, int& slot) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng(std::random_device{}() ^ (static_cast<std::uint64_t>(getpid()) << 32) ^
                                   static_cast<std::uint64_t>(std::time(nullptr)));
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string suffix(6, 'x');
    for (char& c : suffix) c = alphabet[rng() % (sizeof(alphabet) - 1)];
    const std::string name = (dir / (prefix + suffix)).string();
    slot = register_pending(name);
    const int fd = open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      close(fd);
      unlink(name.c_str());
      return name;
    }
    const int error = errno;
    unregister_pending(slot);
    slot = -1;
    errno = error;
    if (error != EEXIST) return {};
  }
  errno = EEXIST;
  return {};
}

fs::path directory_of(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

}  // namespace

void check_output_path(const std::string& path, bool overwrite, const std::string& option_name) {
  if (path.empty()) throw_usage_error(option_name + ": an output file name is required");
  output_compression(path, option_name);  // .gz is written compressed; other compression suffixes are refused
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw_usage_error(option_name + " " + path + ": is a directory, expected a file name");
  if (fs::exists(path, ec) && !overwrite)
    throw_usage_error(option_name + " " + path + ": the file exists (use --overwrite to replace it)");
  const fs::path dir = directory_of(path);
  if (!fs::is_directory(dir, ec))
    throw_data_error(option_name + " " + path + ": directory " + dir.string() + " does not exist");
  if (access(dir.c_str(), W_OK) != 0)
    throw_data_error(option_name + " " + path + ": directory " + dir.string() + " is not writable");
  // access() says yes to root everywhere: create (and remove) a probe file, so that a directory nobody can write
  // to (a read-only mount, /proc) is refused before any computation rather than when the output is written.
  int slot = -1;
  const std::string probe = reserve_temporary_name(dir, ".perfex-probe.tmp-", slot);
  const int error = errno;
  unregister_pending(slot);
  if (probe.empty())
    throw_data_error(option_name + " " + path + ": directory " + dir.string() + " is not writable (" +
                     std::strerror(error) + ")");
}

AtomicOutput::AtomicOutput(const std::string& path, bool overwrite) : m_path(path) {
  check_output_path(path, overwrite, "output");
  const fs::path dir = directory_of(path);
  // The writers (CFITSIO, HDF5) create the file themselves: hand them a name that does not exist yet, which
  // they create and commit() renames into place.
  m_temp = reserve_temporary_name(dir, "." + fs::path(path).filename().string() + ".tmp-", m_slot);
  if (m_temp.empty())
    throw_data_error(path + ": cannot create a temporary file in " + dir.string() + " (" + std::strerror(errno) + ")");
}

AtomicOutput::~AtomicOutput() {
  if (!m_committed) {
    std::error_code ec;
    fs::remove(m_temp, ec);
  }
  unregister_pending(m_slot);
}

void AtomicOutput::commit() {
  if (output_compression(m_path, "output") == OutputCompression::Gzip) gzip_file_in_place(m_temp, m_path);
  const int fd = open(m_temp.c_str(), O_RDONLY);
  if (fd < 0) throw_data_error(m_path + ": the temporary output " + m_temp + " is missing");
  fsync(fd);
  close(fd);
  if (std::rename(m_temp.c_str(), m_path.c_str()) != 0)
    throw_data_error(m_path + ": cannot rename the temporary output into place (" + std::strerror(errno) + ")");
  m_committed = true;
  const int dfd = open(directory_of(m_path).c_str(), O_RDONLY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
}

void install_signal_cleanup() {
  struct sigaction sa {};
  sa.sa_handler = cleanup_and_exit;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction previous {};
    sigaction(sig, nullptr, &previous);
    if (previous.sa_handler == SIG_IGN) continue;  // ignored by the parent (nohup, background jobs): keep it so
    sigaction(sig, &sa, nullptr);
  }
}

}  // namespace perfex::io
