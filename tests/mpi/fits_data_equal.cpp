// Test helper: exit 0 when two FITS files have the same HDUs (count and EXTNAME) holding byte-identical
// data sections, whatever their headers say (dates, paths); prints the first difference otherwise.
#include <fitsio.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct Hdu {
  std::string extname;
  long long data_start = 0;
  long long data_end = 0;
};

bool list_hdus(const char* path, std::vector<Hdu>& hdus) {
  fitsfile* f = nullptr;
  int status = 0;
  if (fits_open_file(&f, path, READONLY, &status)) {
    std::fprintf(stderr, "%s: cannot open (CFITSIO status %d)\n", path, status);
    return false;
  }
  int n = 0;
  fits_get_num_hdus(f, &n, &status);
  for (int i = 1; i <= n && status == 0; ++i) {
    int type = 0;
    fits_movabs_hdu(f, i, &type, &status);
    Hdu h;
    char value[FLEN_VALUE] = "";
    int key_status = 0;
    if (fits_read_key(f, TSTRING, "EXTNAME", value, nullptr, &key_status) == 0) h.extname = value;
    long long head = 0;
    fits_get_hduaddrll(f, &head, &h.data_start, &h.data_end, &status);
    hdus.push_back(h);
  }
  fits_close_file(f, &status);
  if (status) std::fprintf(stderr, "%s: CFITSIO status %d\n", path, status);
  return status == 0;
}

std::vector<char> bytes(const char* path, const Hdu& h) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> b(static_cast<std::size_t>(h.data_end - h.data_start));
  in.seekg(h.data_start);
  in.read(b.data(), static_cast<std::streamsize>(b.size()));
  return b;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s A.fits B.fits\n", argv[0]);
    return 2;
  }
  std::vector<Hdu> a, b;
  if (!list_hdus(argv[1], a) || !list_hdus(argv[2], b)) return 2;
  if (a.size() != b.size()) {
    std::printf("%s has %zu HDUs, %s has %zu\n", argv[1], a.size(), argv[2], b.size());
    return 1;
  }
  long long total = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].extname != b[i].extname) {
      std::printf("HDU %zu: EXTNAME %s and %s\n", i, a[i].extname.c_str(), b[i].extname.c_str());
      return 1;
    }
    const std::vector<char> da = bytes(argv[1], a[i]), db = bytes(argv[2], b[i]);
    if (da != db) {
      std::size_t k = 0;
      while (k < da.size() && k < db.size() && da[k] == db[k]) ++k;
      std::printf("HDU %zu (%s): data differ (%zu and %zu bytes, first difference at byte %zu)\n", i,
                  a[i].extname.c_str(), da.size(), db.size(), k);
      return 1;
    }
    total += static_cast<long long>(da.size());
  }
  std::printf("%zu HDUs, %lld data bytes identical\n", a.size(), total);
  return 0;
}
