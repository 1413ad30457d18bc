// Inputs that are regular, readable files; outputs that are none of the inputs nor each other.
#include "perfex/io/file_checks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "file_names.hpp"
#include "perfex/core/error.hpp"

namespace perfex::io {

namespace {
namespace fs = std::filesystem;

// One way of telling two files apart: a device and inode, or (name non-empty) a directory's device and inode
// and a name in it.
struct FileKey {
  dev_t dev = 0;
  ino_t ino = 0;
  std::string name;
  bool operator==(const FileKey& o) const { return dev == o.dev && ino == o.ino && name == o.name; }
};

std::vector<FileKey> keys_of(const std::string& path) {
  std::vector<FileKey> keys;
  if (path.empty()) return keys;
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) keys.push_back({st.st_dev, st.st_ino, {}});
  const fs::path p(path);
  const std::string name = p.filename().string();
  if (name.empty() || name == "." || name == "..") return keys;
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  if (stat(dir.c_str(), &st) == 0) keys.push_back({st.st_dev, st.st_ino, name});
  return keys;
}

bool share_a_key(const std::vector<FileKey>& a, const std::vector<FileKey>& b) {
  for (const FileKey& x : a)
    for (const FileKey& y : b)
      if (x == y) return true;
  return false;
}

}  // namespace

std::string file_error_text(int error) {
  if (error == ENOENT) return "no such file";
  if (error == EACCES) return "permission denied";
  std::string text = std::strerror(error);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

void check_input_file(const std::string& path, const std::string& expected) {
  if (path.empty()) throw_data_error("an input file name is empty");
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    const int error = errno;
    if (error == EACCES) {
      // stat needs search permission on every directory of the path, not read permission on the file.
      throw_data_error(path + ": permission denied (a directory on its path cannot be searched)");
    }
    throw_data_error(path + ": " + file_error_text(error));
  }
  if (S_ISDIR(st.st_mode)) throw_data_error(path + ": is a directory, expected " + expected);
  if (!S_ISREG(st.st_mode))
    throw_data_error(path + ": is " + detail::file_kind(st.st_mode) +
                     ", not a regular file (perfex reads regular files only)");
  // Regular: opening cannot block. This is where a file without read permission is found (root reads any).
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw_data_error(path + ": cannot be opened for reading (" + file_error_text(errno) + ")");
  close(fd);
}

void check_distinct_files(const std::vector<NamedFile>& inputs, const std::vector<NamedFile>& outputs) {
  std::vector<std::vector<FileKey>> in_keys, out_keys;
  for (const NamedFile& f : inputs) in_keys.push_back(keys_of(f.path));
  for (const NamedFile& f : outputs) out_keys.push_back(keys_of(f.path));
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    for (std::size_t i = 0; i < inputs.size(); ++i)
      if (share_a_key(out_keys[o], in_keys[i]))
        throw_usage_error(outputs[o].option + " " + outputs[o].path + " is the same file as " + inputs[i].option + " " +
                          inputs[i].path + " (perfex never overwrites an input)");
    for (std::size_t p = 0; p < o; ++p)
      if (share_a_key(out_keys[o], out_keys[p]))
        throw_usage_error(outputs[o].option + " and " + outputs[p].option + " name the same file (" + outputs[o].path +
                          (outputs[o].path == outputs[p].path ? "" : ", " + outputs[p].path) + ")");
  }
}

}  // namespace perfex::io
