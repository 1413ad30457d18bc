// Atomic outputs: write "<dir>/.<name>.tmp-XXXXXX" (gzip-compressed for a .gz name), fsync, rename. Pending temporaries are registered so a
// SIGINT/SIGTERM handler can unlink them before the process exits; while outputs are being renamed into place
// the handler defers the signal, so that a set of outputs is never left half committed, and a signal that
// comes after them neither removes them nor claims it did.
#include "perfex/io/atomic_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>
#include <set>

#include "file_names.hpp"
#include "perfex/core/error.hpp"
#include "perfex/io/compressed_output.hpp"
#include "perfex/io/file_checks.hpp"

namespace perfex::io {

namespace {
namespace fs = std::filesystem;

// --- the signal handler's table of pending temporaries: fixed, read without locks or allocation.
constexpr int max_pending = 64;
constexpr int max_path = PATH_MAX;
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

// --- commits and signals. g_state counts the threads renaming outputs into place; the handler sets
// `exiting` once it owns the process. A signal during a commit is remembered (g_deferred) and acted on when
// the last commit ends; a commit never starts once the handler owns the process.
constexpr unsigned exiting = 1u << 30;
std::atomic<unsigned> g_state{0};
std::atomic<int> g_deferred{0};

[[noreturn]] void remove_pending_and_exit(int sig) {
  int removed = 0;
  for (int i = 0; i < max_pending; ++i)
    if (g_used[i].load() && unlink(g_pending[i]) == 0) ++removed;
  // Only what is true: outputs already renamed into place are complete and stay.
  static const char removed_msg[] = "perfex: interrupted, temporary output removed\n";
  static const char none_msg[] = "perfex: interrupted (no partial output left; outputs already written are complete)\n";
  const char* msg = removed > 0 ? removed_msg : none_msg;
  const std::size_t len = removed > 0 ? sizeof(removed_msg) - 1 : sizeof(none_msg) - 1;
  ssize_t ignored = write(STDERR_FILENO, msg, len);
  (void)ignored;
  _exit(128 + sig);
}

[[noreturn]] void wait_for_exit() {
  for (;;) pause();  // another thread owns the process and ends it
}

extern "C" void cleanup_and_exit(int sig) {
  for (;;) {
    unsigned s = g_state.load();
    if (s & exiting) wait_for_exit();
    if (s != 0) {  // outputs are being renamed: finish that first
      g_deferred.store(sig);
      return;
    }
    if (g_state.compare_exchange_weak(s, exiting)) remove_pending_and_exit(sig);
  }
}

// Signals are deferred while it lives (the renames of a commit).
class CommitGuard {
 public:
  CommitGuard() {
    for (;;) {
      unsigned s = g_state.load();
      if (s & exiting) wait_for_exit();
      if (g_state.compare_exchange_weak(s, s + 1)) return;
    }
  }
  ~CommitGuard() {
    if (g_state.fetch_sub(1) == 1) {
      const int sig = g_deferred.exchange(0);
      if (sig != 0) cleanup_and_exit(sig);
    }
  }
  CommitGuard(const CommitGuard&) = delete;
  CommitGuard& operator=(const CommitGuard&) = delete;
};

thread_local OutputSet* t_open_set = nullptr;

// --- names

fs::path directory_of(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

// NAME_MAX and PATH_MAX of the file system holding `dir` (POSIX's minimums where it cannot be asked).
struct NameLimits {
  long name_max = 255;
  long path_max = 4096;
};
NameLimits name_limits(const fs::path& dir) {
  NameLimits l;
  errno = 0;
  const long name_max = pathconf(dir.c_str(), _PC_NAME_MAX);
  if (name_max > 0) l.name_max = name_max;
  const long path_max = pathconf(dir.c_str(), _PC_PATH_MAX);
  if (path_max > 0) l.path_max = std::min<long>(path_max, max_path);
  return l;
}

constexpr std::size_t random_chars = 6;

// "<prefix><name>.tmp-" shortened so that with the random characters the name fits NAME_MAX and the path
// PATH_MAX (a long but legal output name must not fail for its temporary's name); "" when even "." +
// ".tmp-XXXXXX" does not fit.
std::string temporary_prefix(const fs::path& dir, const std::string& name, const std::string& lead) {
  const NameLimits limits = name_limits(dir);
  const std::string tail = ".tmp-";
  const std::size_t fixed = lead.size() + tail.size() + random_chars;
  const std::size_t dir_chars = dir.string().size() + 1;
  const long room_name = limits.name_max - static_cast<long>(fixed);
  const long room_path = limits.path_max - 1 - static_cast<long>(dir_chars + fixed);
  const long room = std::min(room_name, room_path);
  if (room < 0) return {};
  return lead + name.substr(0, std::min<std::size_t>(name.size(), static_cast<std::size_t>(room))) + tail;
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
    std::string suffix(random_chars, 'x');
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

// Why `path` cannot take an output now ("" when it can): what is there, and whether it may be replaced.
// Checked before any work, and again just before the rename.
std::string destination_problem(const std::string& path, bool overwrite) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return {};  // nothing there (or unreachable: the directory checks say why)
  if (S_ISLNK(st.st_mode)) {
    struct stat target {};
    if (stat(path.c_str(), &target) != 0)
      return "is a symbolic link to a file that does not exist (a dangling link); perfex replaces regular files "
             "only, also with --overwrite";
    if (!S_ISREG(target.st_mode))
      return "is a symbolic link to " + detail::file_kind(target.st_mode) +
             "; perfex replaces regular files only, also with --overwrite";
    if (!overwrite) return "the file exists (a symbolic link; use --overwrite to replace it)";
    return {};
  }
  if (S_ISDIR(st.st_mode)) return "is a directory, expected a file name";
  if (!S_ISREG(st.st_mode))
    return "is " + detail::file_kind(st.st_mode) +
           ", not a regular file; perfex replaces regular files only, also with "
           "--overwrite";
  if (!overwrite) return "the file exists (use --overwrite to replace it)";
  return {};
}

// Flushes a directory's entries (the renames) to disk; best effort.
void sync_directory(const fs::path& dir) {
  const int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
}

// Flushes an existing temporary file to disk (written through temp_path() by another writer).
void sync_file(const std::string& temp, const std::string& path) {
  const int fd = open(temp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_data_error(path + ": the temporary output " + temp + " is missing");
  const int synced = fsync(fd);
  const int error = errno;
  close(fd);
  if (synced != 0 && error != EINVAL && error != EROFS)
    throw_data_error(path + ": cannot be written (" + file_error_text(error) + ")");
}

// The whole content of a temporary output written through temp_path() by another writer.
std::vector<unsigned char> read_temporary(const std::string& temp, const std::string& path) {
  const int fd = open(temp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_data_error(path + ": the temporary output " + temp + " is missing");
  std::vector<unsigned char> content;
  unsigned char buffer[1 << 16];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(fd);
      throw_data_error(path + ": cannot read the temporary output back to compress it (" + file_error_text(error) +
                       ")");
    }
    if (n == 0) break;
    content.insert(content.end(), buffer, buffer + n);
  }
  close(fd);
  return content;
}

// Renames every temporary onto its destination, or none: signals are deferred meanwhile, a destination that
// changed since the checks (now a FIFO, or created by someone else without --overwrite) stops the commit, and
// a failing rename undoes those made before it. Existing destinations are swapped with their temporary
// (RENAME_EXCHANGE), so the old file can be put back; the file systems that cannot swap get a plain rename.
void rename_all(std::vector<OutputSet::Pending>& outputs) {
  enum class Done { None, Created, Swapped, Replaced };
  std::vector<Done> done(outputs.size(), Done::None);
  CommitGuard guard;
  auto undo = [&](std::size_t count) {
    for (std::size_t j = count; j-- > 0;) {
      const OutputSet::Pending& o = outputs[j];
      if (done[j] == Done::Created)
        std::rename(o.path.c_str(), o.temp.c_str());
      else if (done[j] == Done::Swapped)
        renameat2(AT_FDCWD, o.temp.c_str(), AT_FDCWD, o.path.c_str(), RENAME_EXCHANGE);
    }
  };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const OutputSet::Pending& o = outputs[i];
    if (const std::string problem = destination_problem(o.path, o.overwrite); !problem.empty()) {
      undo(i);
      throw_data_error(o.path + ": " + problem + " (changed while perfex ran); nothing was written");
    }
    struct stat st {};
    const bool exists = lstat(o.path.c_str(), &st) == 0;
    int status =
        renameat2(AT_FDCWD, o.temp.c_str(), AT_FDCWD, o.path.c_str(), exists ? RENAME_EXCHANGE : RENAME_NOREPLACE);
    Done how = exists ? Done::Swapped : Done::Created;
    if (status != 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {  // no renameat2 flags here
      status = std::rename(o.temp.c_str(), o.path.c_str());
      how = exists ? Done::Replaced : Done::Created;
    }
    if (status != 0) {
      const int error = errno;
      undo(i);
      throw_data_error(o.path + ": cannot be renamed into place (" +
                       (error == EEXIST ? std::string("a file of that name appeared while perfex ran")
                                        : file_error_text(error)) +
                       "); nothing was written");
    }
    done[i] = how;
  }
  std::set<std::string> dirs;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (done[i] == Done::Swapped) unlink(outputs[i].temp.c_str());  // the replaced file, now under the temporary name
    unregister_pending(outputs[i].slot);
    outputs[i].slot = -1;
    dirs.insert(directory_of(outputs[i].path).string());
  }
  for (const std::string& d : dirs) sync_directory(d);
}

}  // namespace

void check_output_path(const std::string& path, bool overwrite, const std::string& option_name) {
  if (path.empty()) throw_usage_error(option_name + ": an output file name is required");
  output_compression(path, option_name);  // .gz is written compressed; other compression suffixes are refused
  const fs::path dir = directory_of(path);
  const std::string name = fs::path(path).filename().string();
  const NameLimits limits = name_limits(dir);
  if (static_cast<long>(path.size()) >= limits.path_max)
    throw_usage_error(option_name + " " + path.substr(0, 60) + "...: the path has " + std::to_string(path.size()) +
                      " characters, more than the " + std::to_string(limits.path_max - 1) + " a path may have");
  if (static_cast<long>(name.size()) > limits.name_max)
    throw_usage_error(option_name + " " + path + ": the file name has " + std::to_string(name.size()) +
                      " characters, more than the " + std::to_string(limits.name_max) +
                      " the file system allows (NAME_MAX)");
  if (const std::string problem = destination_problem(path, overwrite); !problem.empty())
    throw_usage_error(option_name + " " + path + ": " + problem);
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) {
    const int error = errno;
    if (error == EACCES)
      throw_data_error(option_name + " " + path + ": directory " + dir.string() +
                       " cannot be reached (permission denied: a directory on its path cannot be searched)");
    throw_data_error(option_name + " " + path + ": directory " + dir.string() + " does not exist");
  }
  if (!S_ISDIR(st.st_mode))
    throw_data_error(option_name + " " + path + ": directory " + dir.string() + " does not exist");
  if (access(dir.c_str(), X_OK) != 0)
    throw_data_error(option_name + " " + path + ": directory " + dir.string() +
                     " cannot be entered (permission denied: no search permission)");
  if (access(dir.c_str(), W_OK) != 0)
    throw_data_error(option_name + " " + path + ": directory " + dir.string() + " is not writable");
  // access() says yes to root everywhere: create (and remove) a probe file, so that a directory nobody can write
  // to (a read-only mount, /proc) is refused before any computation rather than when the output is written.
  const std::string prefix = temporary_prefix(dir, "perfex-probe", ".");
  if (prefix.empty())
    throw_usage_error(option_name + " " + path + ": the directory's path is too long for a file in it");
  int slot = -1;
  const std::string probe = reserve_temporary_name(dir, prefix, slot);
  const int error = errno;
  unregister_pending(slot);
  if (probe.empty())
    throw_data_error(option_name + " " + path + ": directory " + dir.string() + " is not writable (" +
                     file_error_text(error) + ")");
}

AtomicOutput::AtomicOutput(const std::string& path, bool overwrite) : m_path(path), m_overwrite(overwrite) {
  check_output_path(path, overwrite, "output");
  m_gzip = output_compression(path, "output") == OutputCompression::Gzip;
  const fs::path dir = directory_of(path);
  // The name the writer fills and commit() renames into place; created only when the content is written.
  const std::string prefix = temporary_prefix(dir, fs::path(path).filename().string(), ".");
  if (prefix.empty()) throw_usage_error(path + ": the path is too long for a temporary file beside it");
  m_temp = reserve_temporary_name(dir, prefix, m_slot);
  if (m_temp.empty())
    throw_data_error(path + ": cannot create a temporary file in " + dir.string() + " (" + file_error_text(errno) +
                     ")");
}

AtomicOutput::~AtomicOutput() {
  if (!m_committed) unlink(m_temp.c_str());
  if (!m_committed) unregister_pending(m_slot);
}

void AtomicOutput::write_file(const void* data, std::size_t size) {
  std::vector<unsigned char> compressed;
  if (m_gzip) {  // the whole file compressed in memory, then written like any other content
    compressed = gzip_compress(data, size, m_path);
    data = compressed.data();
    size = compressed.size();
  }
  const int fd = open(m_temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    throw_data_error(m_path + ": cannot create a temporary file in " + directory_of(m_path).string() + " (" +
                     file_error_text(errno) + ")");
  const char* p = static_cast<const char*>(data);
  std::size_t left = size;
  int error = 0;
  while (left > 0) {
    const ssize_t n = write(fd, p, std::min<std::size_t>(left, std::size_t{1} << 30));
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    if (n == 0) {  // cannot happen for a regular file; do not loop forever
      error = EIO;
      break;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  // Delayed allocation and network file systems report a full disk at fsync or close.
  if (error == 0 && fsync(fd) != 0 && errno != EINVAL) error = errno;
  if (close(fd) != 0 && error == 0 && errno != EINTR) error = errno;
  if (error != 0) {
    unlink(m_temp.c_str());
    throw_data_error(m_path + ": cannot be written (" + file_error_text(error) + "); nothing was written");
  }
  m_written = true;
}

void AtomicOutput::commit() {
  if (m_committed) return;
  // A .gz output filled through temp_path() by another writer is still plain: compress it now, through
  // write_file's checked writes.
  if (m_gzip && !m_written) {
    const std::vector<unsigned char> plain = read_temporary(m_temp, m_path);
    write_file(plain.data(), plain.size());
  }
  sync_file(m_temp, m_path);
  OutputSet::Pending pending{m_temp, m_path, m_overwrite, m_slot};
  if (t_open_set) {  // renamed with the other outputs of the set
    t_open_set->m_pending.push_back(pending);
    m_committed = true;
    return;
  }
  std::vector<OutputSet::Pending> one{pending};
  rename_all(one);
  m_committed = true;
}

OutputSet::OutputSet() {
  if (t_open_set) throw_usage_error("OutputSet: an output set is already open in this thread");
  t_open_set = this;
}

OutputSet::~OutputSet() {
  if (t_open_set == this) t_open_set = nullptr;
  for (const Pending& p : m_pending) {
    if (p.slot < 0) continue;  // committed
    unlink(p.temp.c_str());
    unregister_pending(p.slot);
  }
}

void OutputSet::commit() {
  if (t_open_set == this) t_open_set = nullptr;
  rename_all(m_pending);
}

void install_signal_cleanup() {
  struct sigaction sa {};
  sa.sa_handler = cleanup_and_exit;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {  // SIGHUP: the terminal or the ssh session went away
    struct sigaction previous {};
    sigaction(sig, nullptr, &previous);
    if (previous.sa_handler == SIG_IGN) continue;  // ignored by the parent (nohup, background jobs): keep it so
    sigaction(sig, &sa, nullptr);
  }
  std::signal(SIGXFSZ, SIG_IGN);  // a file-size limit: write() fails with EFBIG instead of killing perfex
}

}  // namespace perfex::io
