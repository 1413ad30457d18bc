// Atomic output files: data are written to a temporary file in the destination's directory, flushed and
// renamed over the destination only on commit(); an uncommitted output is removed (also on SIGINT/SIGTERM).
#pragma once

#include <string>

namespace perfex::io {

class AtomicOutput {
 public:
  // Fails (usage error) if `path` exists and !overwrite, or (data error) if its directory is not writable.
  AtomicOutput(const std::string& path, bool overwrite);
  ~AtomicOutput();  // removes the temporary file unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& temp_path() const { return m_temp; }
  const std::string& path() const { return m_path; }
  void commit();  // fsync + rename onto the destination (gzip-compressed first for a .gz name)

 private:
  std::string m_path;
  std::string m_temp;
  bool m_committed = false;
  int m_slot = -1;  // entry in the signal handler's table of pending temporaries
};

// Checks that an output path can be written (exists => needs overwrite; directory exists and is writable),
// so commands can refuse before spending time on a computation.
void check_output_path(const std::string& path, bool overwrite, const std::string& option_name);

// Installs SIGINT/SIGTERM handlers that remove every pending temporary output and exit(130/143).
void install_signal_cleanup();

}  // namespace perfex::io
