// The shared Catch2 main: initialises Kokkos once for every test of the executable, and keeps Kokkos'
// own messages out of Catch2's test discovery (which parses stdout).
#include <Kokkos_Core.hpp>
#include <catch2/catch_session.hpp>

#include <cstring>

int main(int argc, char* argv[]) {
  bool listing = false;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--list", 6) == 0) listing = true;
  if (listing) {
    // Discovery needs no Kokkos: list without initialising, so nothing else reaches stdout.
    return Catch::Session().run(argc, argv);
  }
  Kokkos::ScopeGuard kokkos(argc, argv);
  return Catch::Session().run(argc, argv);
}
