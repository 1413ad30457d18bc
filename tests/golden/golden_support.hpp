// Readers of the golden reference files (../shared/golden) for the comparison tests.
#pragma once

#include <string>
#include <vector>

#include "perfex/io/fits_file.hpp"

namespace perfex::test {

struct GoldenArray {
  std::vector<long> shape;
  std::vector<double> data;
  double operator()(long i) const { return data[i]; }
  double at(long i, long j) const { return data[i * shape[1] + j]; }
  double at(long i, long j, long k) const { return data[(i * shape[1] + j) * shape[2] + k]; }
};

inline GoldenArray read_golden(io::FitsFile& f, const std::string& hdu) {
  f.move_to(hdu);
  GoldenArray a;
  a.shape = f.image_shape();
  a.data = f.read_image_double();
  return a;
}

}  // namespace perfex::test
