// Uses perfex::drivers from an installed package: runs the command line's `info` (versions of perfex,
// Kokkos, CFITSIO and HDF5, the execution spaces) through perfex::drivers::run_cli.
#include <perfex/drivers/cli.hpp>

int main() {
  char program[] = "consumer";
  char command[] = "info";
  char* argv[] = {program, command, nullptr};
  return perfex::drivers::run_cli(2, argv);
}
