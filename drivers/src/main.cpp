// perfex: the command-line program.
#include "perfex/drivers/cli.hpp"

int main(int argc, char* argv[]) { return perfex::drivers::run_cli(argc, argv); }
