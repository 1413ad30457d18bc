// Checks of the files a command names, made before anything is read or computed: an input must be a regular
// file perfex may read (a FIFO would block the reader forever, a device never ends), and no output may be the
// same file as an input or as another output (perfex never overwrites what it reads).
#pragma once

#include <string>
#include <vector>

namespace perfex::io {

// Throws a data error (exit 1) naming `path` and the cause unless it is a regular file (symbolic links
// followed) that can be opened for reading: no such file, a directory on the way without search permission
// ("permission denied"), a directory ("is a directory, expected <expected>"), a FIFO, socket or device ("is a
// FIFO (named pipe), not a regular file"), or no read permission. Opens nothing that could block.
void check_input_file(const std::string& path, const std::string& expected = "a file");

// A file named on the command line: the option that names it ("-i/--input", "IN", "manifest line 3 output")
// and its path.
struct NamedFile {
  std::string option;
  std::string path;
};

// Usage error (exit 2) when an output is the same file as an input, or two outputs are the same file: the same
// device and inode (hard links, symbolic links to it, another spelling of the path), or the same name in the
// same directory (outputs that do not exist yet; an output that is a link named like an input). Messages:
// "-o/--output X is the same file as -i/--input Y (perfex never overwrites an input)", "-m/--model and
// -o/--output name the same file (X)". Files that cannot be inspected are left to the readers and writers.
void check_distinct_files(const std::vector<NamedFile>& inputs, const std::vector<NamedFile>& outputs);

// The cause of a failed system call on a file, as a short lower-case phrase ("no such file", "permission
// denied", "no space left on device"): strerror's text for errno `error`, in the style of perfex's messages.
std::string file_error_text(int error);

}  // namespace perfex::io
