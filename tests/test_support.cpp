// Test helpers: shared/ lookup and temporary directories.
#include "test_support.hpp"

#include <cstdlib>
#include <random>

namespace perfex::test {

std::optional<std::filesystem::path> shared_dir() {
  if (const char* env = std::getenv("PERFEX_SHARED_DIR"); env && *env) {
    if (std::filesystem::is_directory(env)) return std::filesystem::path(env);
    return std::nullopt;
  }
  std::filesystem::path p(PERFEX_DEFAULT_SHARED_DIR);
  if (std::filesystem::is_directory(p)) return p;
  return std::nullopt;
}

std::optional<std::filesystem::path> shared_file(const std::string& relative) {
  auto dir = shared_dir();
  if (!dir) return std::nullopt;
  auto p = *dir / relative;
  if (!std::filesystem::exists(p)) return std::nullopt;
  return p;
}

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto p = std::filesystem::temp_directory_path() / ("perfex-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(p)) {
      m_path = p;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

}  // namespace perfex::test
