// Test helper for the HDF5 frame tests: makes files the CLI must refuse.
//   hdf5_tool foreign OUT.h5           a valid HDF5 file without a frame (a dataset DATA, a group G)
//   hdf5_tool truncate IN OUT BYTES    the first BYTES bytes of IN (BYTES < 0: the size of IN plus BYTES)
//   hdf5_tool alter FILE.h5 DATASET    adds 1 to the first value of a 2D float dataset, in place
#include <hdf5.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

int main(int argc, char* argv[]) {
  const std::string what = argc > 1 ? argv[1] : "";
  if (what == "foreign" && argc == 3) {
    const hid_t f = H5Fcreate(argv[2], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return 1;
    const hsize_t n = 4;
    const double data[4] = {1, 2, 3, 4};
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t d = H5Dcreate2(f, "DATA", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    const hid_t g = H5Gcreate2(f, "G", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Dclose(d);
    H5Sclose(space);
    return H5Fclose(f) < 0 ? 1 : 0;
  }
  if (what == "truncate" && argc == 5) {
    std::ifstream in(argv[2], std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    long n = std::atol(argv[4]);
    if (n < 0) n += static_cast<long>(bytes.size());
    if (!in.eof() && !in.good()) return 1;
    if (n < 0 || n > static_cast<long>(bytes.size())) return 1;
    std::ofstream out(argv[3], std::ios::binary);
    out.write(bytes.data(), n);
    return out ? 0 : 1;
  }
  if (what == "alter" && argc == 4) {  // adds 1 to the first value of a float dataset, in place
    const hid_t f = H5Fopen(argv[2], H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return 1;
    const hid_t d = H5Dopen2(f, argv[3], H5P_DEFAULT);
    const hid_t space = H5Dget_space(d);
    const hsize_t start[2] = {0, 0}, count[2] = {1, 1};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    const hid_t mem = H5Screate_simple(2, count, nullptr);
    double v = 0;
    H5Dread(d, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, &v);
    v += 1;
    const herr_t status = H5Dwrite(d, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, &v);
    H5Sclose(mem);
    H5Sclose(space);
    H5Dclose(d);
    return H5Fclose(f) < 0 || status < 0 ? 1 : 0;
  }
  std::fprintf(stderr, "usage: %s foreign OUT.h5 | truncate IN OUT BYTES | alter FILE.h5 DATASET\n", argv[0]);
  return 2;
}
