// Tests of atomic outputs: nothing appears before commit, existing files are kept without overwrite.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <filesystem>
#include <fstream>

#include "perfex/core/error.hpp"
#include "perfex/io/atomic_output.hpp"
#include "test_support.hpp"

using Catch::Matchers::ContainsSubstring;

TEST_CASE("An uncommitted output leaves nothing behind", "[io][atomic]") {
  perfex::test::TempDir dir;
  const auto target = (dir / "out.fits").string();
  {
    perfex::io::AtomicOutput out(target, false);
    std::ofstream(out.temp_path()) << "partial";
    CHECK(std::filesystem::exists(out.temp_path()));
  }
  CHECK_FALSE(std::filesystem::exists(target));
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("A committed output replaces only with overwrite", "[io][atomic]") {
  perfex::test::TempDir dir;
  const auto target = (dir / "out.fits").string();
  std::ofstream(target) << "old";
  try {
    perfex::io::AtomicOutput out(target, false);
    FAIL("an existing output must be refused without overwrite");
  } catch (const perfex::Error& e) {
    CHECK(e.exit_code() == 2);
    CHECK_THAT(e.what(), ContainsSubstring("--overwrite"));
  }
  {
    perfex::io::AtomicOutput out(target, true);
    std::ofstream(out.temp_path()) << "new";
    out.commit();
  }
  std::ifstream in(target);
  std::string content;
  in >> content;
  CHECK(content == "new");
}

TEST_CASE("An output in a missing directory is a data error naming it", "[io][atomic]") {
  perfex::test::TempDir dir;
  const auto target = (dir / "missing" / "out.fits").string();
  CHECK_THROWS_WITH(perfex::io::AtomicOutput(target, false), ContainsSubstring("does not exist"));
}
