// Atomic output files: the content goes to a temporary file in the destination's directory, is flushed to
// disk and renamed over the destination only on commit(); an uncommitted output is removed (also on SIGINT/
// SIGTERM). The outputs of one command are committed as a set (OutputSet): all of them appear, or none. An
// output named ".gz" is gzip-compressed (io/compressed_output.hpp) before it is renamed into place; its
// temporary obeys the same rules (short name, regular files only, never an input).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace perfex::io {

class AtomicOutput {
 public:
  // Checks the destination as check_output_path does (usage or data error) and reserves a temporary name
  // beside it, never longer than the file system allows.
  AtomicOutput(const std::string& path, bool overwrite);
  ~AtomicOutput();  // removes the temporary file unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& temp_path() const { return m_temp; }
  const std::string& path() const { return m_path; }
  // Writes `size` bytes as the whole temporary file (created here), flushed to disk and closed, every call
  // checked: a full disk or any other I/O error is a data error naming path() and the cause ("no space left
  // on device"), and the partial temporary is removed. The writers build files in memory (CFITSIO memory
  // files, HDF5's core driver) and hand them over here, so that no library ever meets a failing disk. For a
  // .gz output the bytes are gzip-compressed here, in memory, before they are written.
  void write_file(const void* data, std::size_t size);
  // Flushes the temporary file to disk and renames it onto the destination; while an OutputSet of this thread
  // is open, hands the temporary over to the set instead (renamed by OutputSet::commit). A .gz output whose
  // temporary was filled through temp_path() (not write_file) is gzip-compressed first.
  void commit();

 private:
  std::string m_path;
  std::string m_temp;
  bool m_overwrite = false;
  bool m_gzip = false;     // a .gz name: the content is written gzip-compressed
  bool m_written = false;  // write_file() filled the temporary (compressed if m_gzip)
  bool m_committed = false;
  int m_slot = -1;  // entry in the signal handler's table of pending temporaries
};

// The outputs of one command (a frame and its model, a preproc image and its truth), committed together:
// while the set is open in a thread, AtomicOutput::commit() of that thread only hands its complete temporary
// over; OutputSet::commit() then renames every one of them, SIGINT/SIGTERM deferred meanwhile, and undoes the
// renames already made if one fails. A set destroyed without commit() removes the temporaries it holds.
class OutputSet {
 public:
  OutputSet();  // becomes the open set of this thread (sets do not nest: a usage error)
  ~OutputSet();
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;
  void commit();

  struct Pending {
    std::string temp;
    std::string path;
    bool overwrite = false;
    int slot = -1;
  };

 private:
  std::vector<Pending> m_pending;
  friend class AtomicOutput;
};

// Checks that an output path can be written, so commands can refuse before spending time on a computation.
// Usage errors (exit 2): an empty name, a name or path longer than the file system allows (NAME_MAX,
// PATH_MAX), an existing file without `overwrite`, and, with or without `overwrite`, anything but a regular
// file where the output would go: a directory, FIFO, socket or device, a symbolic link that dangles or points
// to such a file. A symbolic link to a regular file is replaced by the new file (with `overwrite`; the file it
// points to is left untouched). Data errors (exit 1): a missing or unwritable directory.
void check_output_path(const std::string& path, bool overwrite, const std::string& option_name);

// Installs SIGINT/SIGTERM/SIGHUP handlers that remove every pending temporary output and exit(128 + signal:
// 130/143/129; signals that arrive while outputs are renamed into place wait for the renames); SIGXFSZ is
// ignored, so that a file-size limit (ulimit -f) is an I/O error ("file too large") rather than a crash.
void install_signal_cleanup();

}  // namespace perfex::io
