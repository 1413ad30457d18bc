// Commands of perfex_robustness_tool for the reliability tests (issue 19): special files, a full disk (a small
// tmpfs in a private mount namespace), resource limits, an unprivileged user, interruptions at any moment, and
// inputs with values perfex must mask or refuse.
#include "reliability_tool.hpp"

#include <fcntl.h>
#include <fitsio.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace reliability {

namespace {

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error(message); }

// The arguments after "--": the program to run.
std::vector<std::string> program_after_dashes(const std::vector<std::string>& args, std::size_t& dashes) {
  for (dashes = 0; dashes < args.size(); ++dashes)
    if (args[dashes] == "--") break;
  if (dashes + 1 >= args.size()) fail("no program after --");
  return std::vector<std::string>(args.begin() + static_cast<long>(dashes) + 1, args.end());
}

[[noreturn]] void exec_program(const std::vector<std::string>& program) {
  std::vector<char*> argv;
  for (const auto& a : program) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  std::cerr << "cannot run " << program[0] << ": " << std::strerror(errno) << "\n";
  _exit(127);
}

struct Run {
  int status = 0;
  std::string err;
  double seconds = 0;
};

// Runs `program`, optionally sending `sig` after `delay_s` seconds; collects stderr.
Run run_program(const std::vector<std::string>& program, int sig = 0, double delay_s = 0) {
  int pipe_fd[2];
  if (pipe(pipe_fd) != 0) fail("pipe failed");
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) fail("fork failed");
  if (pid == 0) {
    dup2(pipe_fd[1], STDERR_FILENO);
    close(pipe_fd[0]);
    close(pipe_fd[1]);
    exec_program(program);
  }
  close(pipe_fd[1]);
  fcntl(pipe_fd[0], F_SETFL, O_NONBLOCK);
  Run r;
  bool sent = sig == 0;
  for (;;) {
    pollfd p{pipe_fd[0], POLLIN, 0};
    poll(&p, 1, 1);
    char buffer[4096];
    for (ssize_t n; (n = read(pipe_fd[0], buffer, sizeof(buffer))) > 0;)
      r.err.append(buffer, static_cast<std::size_t>(n));
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!sent && t >= delay_s) {
      kill(pid, sig);
      sent = true;
    }
    if (waitpid(pid, &r.status, WNOHANG) == pid) break;
    if (t > 600) {
      kill(pid, SIGKILL);
      fail("the program ran for 10 minutes");
    }
  }
  fcntl(pipe_fd[0], F_SETFL, 0);
  char buffer[4096];
  for (ssize_t n; (n = read(pipe_fd[0], buffer, sizeof(buffer))) > 0;)
    r.err.append(buffer, static_cast<std::size_t>(n));
  close(pipe_fd[0]);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

std::string status_text(int status) {
  return WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                           : "signal " + std::to_string(WTERMSIG(status));
}

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> names;
  for (std::size_t p = 0, q; p <= text.size(); p = q + 1) {
    q = text.find(',', p);
    if (q == std::string::npos) q = text.size();
    names.push_back(text.substr(p, q - p));
  }
  return names;
}

std::vector<std::string> directory_entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

// A complete output: a FITS file of whole 2880-byte records starting with SIMPLE, or an HDF5 file.
bool complete_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[8] = {0};
  in.read(head, 8);
  const auto size = fs::file_size(path);
  if (std::memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0) return size > 512;
  return std::memcmp(head, "SIMPLE", 6) == 0 && size > 0 && size % 2880 == 0;
}

bool has_temporary(const fs::path& dir) {
  for (const auto& name : directory_entries(dir))
    if (name.find(".tmp-") != std::string::npos) return true;
  return false;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) fail(path + ": cannot be written");
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// make-special DIR PSF PREPROC: a FIFO, a socket, a dangling symbolic link, a link to a regular file, an
// unreadable copy of the PSF (mode 000), a copy inside a directory without search permission (mode 600), copies
// of the PSF and preproc with a hard link and symbolic links to them, and a directory anyone may write to.

int make_special(const std::vector<std::string>& args) {
  if (args.size() != 3) fail("usage: make-special DIR PSF PREPROC");
  const fs::path dir = args[0];
  fs::create_directories(dir);
  for (const auto& name : directory_entries(dir)) {
    std::error_code ec;
    fs::permissions(dir / name, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir / name);
  }
  if (mkfifo((dir / "fifo").c_str(), 0644) != 0) fail("mkfifo failed: " + std::string(std::strerror(errno)));
  {
    const int s = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = (dir / "socket").string();
    if (path.size() >= sizeof(addr.sun_path)) fail("socket path too long: " + path);
    std::strcpy(addr.sun_path, path.c_str());
    if (s < 0 || bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      fail("socket failed: " + std::string(std::strerror(errno)));
    close(s);  // the socket file stays
  }
  fs::create_symlink("absent-target.fits", dir / "dangling.fits");
  write_file((dir / "regular.txt").string(), "the target of a symbolic link, which must survive\n");
  fs::create_symlink("regular.txt", dir / "link-to-regular.fits");
  fs::copy_file(args[1], dir / "unreadable.fits");
  fs::permissions(dir / "unreadable.fits", fs::perms::none);
  fs::create_directories(dir / "locked");
  fs::copy_file(args[1], dir / "locked" / "psf.fits");
  fs::permissions(dir / "locked", fs::perms::owner_read | fs::perms::owner_write);
  // Copies of the inputs (never the shared ones: a test that failed to protect them must not break the others),
  // a hard link and symbolic links to them.
  fs::copy_file(args[1], dir / "psf.fits");
  fs::copy_file(args[2], dir / "pre.fits");
  fs::create_hard_link(dir / "pre.fits", dir / "pre-hard.fits");
  fs::create_symlink("pre.fits", dir / "pre-soft.fits");
  fs::create_symlink("psf.fits", dir / "psf-soft.fits");
  // A directory any user may write into (the unprivileged runs' outputs).
  fs::create_directories(dir / "open");
  fs::permissions(dir / "open", fs::perms::all | fs::perms::sticky_bit);
  std::cout << "wrote the special files to " << dir.string() << "\n";
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// full-disk KB DIR MESSAGE_REGEX -- PROGRAM ARGS: runs the program with a tmpfs of KB kilobytes mounted at DIR
// (a private mount namespace; a user namespace too when not root) and checks that it exits 1 with one stderr
// line matching the regex, leaving DIR empty. Exit 77 (skipped) where no tmpfs can be mounted.

namespace {
bool write_proc(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY);
  if (fd < 0) return false;
  const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}
}  // namespace

int full_disk(std::vector<std::string> args) {
  // --mpi: mpiexec adds its own report; stderr must hold exactly one "perfex: error" line, matching.
  const bool mpi = !args.empty() && args[0] == "--mpi";
  if (mpi) args.erase(args.begin());
  std::size_t dashes = 0;
  const auto program = program_after_dashes(args, dashes);
  if (dashes != 3) fail("usage: full-disk [--mpi] KB DIR MESSAGE_REGEX -- PROGRAM ARGS...");
  const std::string kb = args[0];
  const fs::path dir = args[1];
  const std::regex expected(args[2]);
  fs::create_directories(dir);
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  const int flags = CLONE_NEWNS | (uid != 0 ? CLONE_NEWUSER : 0);
  if (unshare(flags) != 0) {
    std::cout << "full-disk: skipping: cannot make a private mount namespace (" << std::strerror(errno) << ")\n";
    return 77;
  }
  if (uid != 0 && !(write_proc("/proc/self/setgroups", "deny") &&
                    write_proc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") &&
                    write_proc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1"))) {
    std::cout << "full-disk: skipping: cannot map the user into its namespace\n";
    return 77;
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + kb + "k,mode=0777").c_str()) != 0) {
    std::cout << "full-disk: skipping: cannot mount a tmpfs at " << dir.string() << " (" << std::strerror(errno)
              << ")\n";
    return 77;
  }
  const Run r = run_program(program);
  std::cerr << r.err;
  const auto left = directory_entries(dir);
  if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 1)
    fail("expected exit 1 on a full disk, got " + status_text(r.status));
  std::string line = r.err;
  if (mpi) {
    std::vector<std::string> errors;
    std::size_t p = 0;
    for (std::size_t q; (q = r.err.find("perfex: error", p)) != std::string::npos; p = q + 1)
      errors.push_back(r.err.substr(q, r.err.find('\n', q) - q));
    if (errors.size() != 1) fail("expected one 'perfex: error' line, got:\n" + r.err);
    line = errors[0];
  }
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (line.find('\n') != std::string::npos) fail("expected one line on stderr, got:\n" + r.err);
  if (!std::regex_search(line, expected)) fail("stderr does not match '" + args[2] + "': " + line);
  if (!left.empty()) {
    std::string names;
    for (const auto& n : left) names += " " + n;
    fail(dir.string() + " is not empty after the failure:" + names);
  }
  std::cout << "full disk (" << kb << " KiB): exit 1, '" << line << "', " << dir.string() << " left empty\n";
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// limit as|fsize KB -- PROGRAM ARGS: runs the program under an address-space or file-size limit (exec).

int limit(const std::vector<std::string>& args) {
  std::size_t dashes = 0;
  const auto program = program_after_dashes(args, dashes);
  if (dashes != 2 || (args[0] != "as" && args[0] != "fsize")) fail("usage: limit as|fsize KB -- PROGRAM ARGS...");
  const rlim_t bytes = static_cast<rlim_t>(std::stoull(args[1])) * 1024;
  rlimit l{bytes, bytes};
  if (setrlimit(args[0] == "as" ? RLIMIT_AS : RLIMIT_FSIZE, &l) != 0) fail("setrlimit failed");
  exec_program(program);
}

// ---------------------------------------------------------------------------------------------------------
// as-user -- PROGRAM ARGS: runs the program as user and group nobody (65534) when started as root (so that
// file permissions apply), as the caller otherwise.

int as_user(const std::vector<std::string>& args) {
  std::size_t dashes = 0;
  const auto program = program_after_dashes(args, dashes);
  if (dashes != 0) fail("usage: as-user -- PROGRAM ARGS...");
  if (geteuid() == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
      fail("cannot become user nobody: " + std::string(std::strerror(errno)));
    if (setuid(0) == 0) fail("the privileges were not dropped");
  }
  exec_program(program);
}

// ---------------------------------------------------------------------------------------------------------
// interrupt-sweep TERM|INT N OUTDIR NAMES -- PROGRAM ARGS: times one clean run, then interrupts N runs at
// moments spread over that time. Every run must end with all of NAMES complete in OUTDIR (exit 0, or 128 +
// signal without claiming to have removed anything) or none of them (exit 128 + signal, "interrupted"), and
// never with a temporary file left.

int interrupt_sweep(const std::vector<std::string>& args) {
  std::size_t dashes = 0;
  const auto program = program_after_dashes(args, dashes);
  if (dashes != 4) fail("usage: interrupt-sweep TERM|INT N OUTDIR NAMES -- PROGRAM ARGS...");
  const int sig = args[0] == "TERM" ? SIGTERM : args[0] == "INT" ? SIGINT : args[0] == "HUP" ? SIGHUP : 0;
  if (sig == 0) fail("unknown signal " + args[0]);
  const int n = std::stoi(args[1]);
  const fs::path outdir = args[2];
  const auto names = split_names(args[3]);
  auto clean = [&] {
    fs::create_directories(outdir);
    for (const auto& e : fs::directory_iterator(outdir)) fs::remove_all(e.path());
  };
  clean();
  const Run reference = run_program(program);
  if (!WIFEXITED(reference.status) || WEXITSTATUS(reference.status) != 0)
    fail("the uninterrupted run failed (" + status_text(reference.status) + "): " + reference.err);
  int none = 0, all = 0, after = 0;
  for (int k = 0; k < n; ++k) {
    clean();
    const double at = reference.seconds * (k + 0.5) / n;
    const Run r = run_program(program, sig, at);
    int present = 0;
    for (const auto& name : names)
      if (fs::exists(outdir / name)) {
        if (!complete_file(outdir / name)) fail("run " + std::to_string(k) + ": " + name + " is incomplete");
        ++present;
      }
    const std::string what = "run " + std::to_string(k) + " (signal at " + std::to_string(at) + " s, " +
                             status_text(r.status) + ")";
    if (has_temporary(outdir)) fail(what + ": a temporary file was left in " + outdir.string());
    const bool signalled = WIFEXITED(r.status) && WEXITSTATUS(r.status) == 128 + sig;
    const bool success = WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
    // Killed by the signal itself: it came before perfex installed its handlers (while it started), when no
    // output can be pending.
    const bool killed = WIFSIGNALED(r.status) && WTERMSIG(r.status) == sig;
    if (present == 0) {
      if (!signalled && !killed) fail(what + ": no output and no interruption; stderr:\n" + r.err);
      if (signalled && r.err.find("interrupted") == std::string::npos) fail(what + ": no 'interrupted' message");
      ++none;
    } else if (present == static_cast<int>(names.size())) {
      if (!success && !signalled) fail(what + ": stderr:\n" + r.err);
      if (signalled && r.err.find("temporary output removed") != std::string::npos)
        fail(what + ": every output is in place, yet perfex says it removed its temporary output");
      ++(signalled ? after : all);
    } else {
      fail(what + ": only " + std::to_string(present) + " of " + std::to_string(names.size()) +
           " outputs exist (a set must appear whole or not at all)");
    }
  }
  std::cout << n << " interruptions over " << reference.seconds << " s: " << none << " left nothing, " << after
            << " came after the commit (outputs kept, nothing claimed), " << all << " finished\n";
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// check-preproc FILE: IMAGE and IVAR hold only finite values, IVAR >= 0.

int check_preproc(const std::vector<std::string>& args) {
  if (args.size() != 1) fail("usage: check-preproc FILE");
  fitsfile* f = nullptr;
  int status = 0;
  fits_open_diskfile(&f, args[0].c_str(), READONLY, &status);
  long bad = 0, total = 0;
  for (const char* hdu : {"IMAGE", "IVAR"}) {
    fits_movnam_hdu(f, IMAGE_HDU, const_cast<char*>(hdu), 0, &status);
    long naxes[2] = {0, 0};
    fits_get_img_size(f, 2, naxes, &status);
    std::vector<double> v(static_cast<std::size_t>(naxes[0] * naxes[1]));
    int anynul = 0;
    fits_read_img(f, TDOUBLE, 1, static_cast<LONGLONG>(v.size()), nullptr, v.data(), &anynul, &status);
    for (double x : v) bad += !std::isfinite(x) || (hdu[1] == 'V' && x < 0);
    total += static_cast<long>(v.size());
  }
  fits_close_file(f, &status);
  if (status != 0) fail(args[0] + ": CFITSIO status " + std::to_string(status));
  if (bad > 0) fail(args[0] + ": " + std::to_string(bad) + " non-finite (or negative IVAR) pixels");
  std::cout << args[0] << ": " << total << " IMAGE and IVAR pixels, all finite\n";
  return 0;
}

}  // namespace reliability
