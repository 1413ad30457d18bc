// Helpers shared by the tests: locating ../shared, skipping when it is absent, temporary directories.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace perfex::test {

// ../shared beside the project root, or $PERFEX_SHARED_DIR; empty when absent.
std::optional<std::filesystem::path> shared_dir();
// Path of a file under shared/, or nullopt (with a Catch2 SKIP message) when it is missing.
std::optional<std::filesystem::path> shared_file(const std::string& relative);

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

 private:
  std::filesystem::path m_path;
};

}  // namespace perfex::test

// Skips the current test with a clear message when a shared/ file is absent.
#define PERFEX_REQUIRE_SHARED(var, relative)                                                               \
  const auto var##_opt = perfex::test::shared_file(relative);                                              \
  if (!var##_opt) SKIP("shared material absent: " relative " (set PERFEX_SHARED_DIR or place ../shared)"); \
  const std::filesystem::path var = *var##_opt
