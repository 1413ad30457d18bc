#pragma once
// Small helpers on file names and file kinds shared by io's writers and readers (not installed).
#include <sys/stat.h>

#include <string>

namespace perfex::io::detail {

// True when `name` ends with `suffix`, compared without regard to ASCII case (".FITS.GZ" is ".fits.gz").
bool has_suffix_nocase(const std::string& name, const std::string& suffix);

// What a name that is not a regular file refers to, for messages: "a FIFO (named pipe)", "a directory", ...
std::string file_kind(mode_t mode);

}  // namespace perfex::io::detail
