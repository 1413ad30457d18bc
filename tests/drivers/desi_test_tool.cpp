// Helper of the desi_proc command-line tests (tests/drivers/desi_proc_line.cmake):
//   set-keys FILE KEY=NUMBER...   writes number keywords into FILE's IMAGE HDU (else its primary HDU), in place
//   heliocor FRAME                prints the frame's HELIOCOR; exit 1 when it is absent or 1
#include <fitsio.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

int fail(const std::string& what, int status) {
  char text[FLEN_STATUS] = {0};
  fits_get_errstatus(status, text);
  std::fprintf(stderr, "desi_test_tool: %s: %s\n", what.c_str(), text);
  return 1;
}

int set_keys(int argc, char* argv[]) {
  fitsfile* f = nullptr;
  int status = 0;
  if (fits_open_file(&f, argv[2], READWRITE, &status)) return fail(argv[2], status);
  if (fits_movnam_hdu(f, ANY_HDU, const_cast<char*>("IMAGE"), 0, &status)) {
    status = 0;
    fits_movabs_hdu(f, 1, nullptr, &status);
  }
  for (int i = 3; i < argc; ++i) {
    const std::string kv = argv[i];
    const auto eq = kv.find('=');
    if (eq == std::string::npos) return fail(kv, BAD_KEYCHAR);
    const std::string key = kv.substr(0, eq);
    double value = std::strtod(kv.c_str() + eq + 1, nullptr);
    fits_update_key(f, TDOUBLE, key.c_str(), &value, nullptr, &status);
  }
  fits_close_file(f, &status);
  return status ? fail(argv[2], status) : 0;
}

int heliocor(const char* path) {
  fitsfile* f = nullptr;
  int status = 0;
  double value = 0;
  if (fits_open_file(&f, path, READONLY, &status)) return fail(path, status);
  fits_read_key(f, TDOUBLE, "HELIOCOR", &value, nullptr, &status);
  int close_status = 0;
  fits_close_file(f, &close_status);
  if (status) return fail(std::string(path) + " HELIOCOR", status);
  std::printf("HELIOCOR %.12f\n", value);
  return value != 1.0 ? 0 : 1;
}

}  // namespace

int main(int argc, char* argv[]) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "set-keys" && argc >= 3) return set_keys(argc, argv);
  if (command == "heliocor" && argc == 3) return heliocor(argv[2]);
  std::fprintf(stderr, "usage: desi_test_tool set-keys FILE KEY=NUMBER... | heliocor FRAME\n");
  return 2;
}
