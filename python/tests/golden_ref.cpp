// The C++ API's extraction of the golden bundle (r0-51060-bundle0), written as .npy files for the Python
// tests to compare with perfex.extract bit for bit: the same steps as tests/golden/test_extract_golden.cpp
// (cutout image, weights = IVAR where MASK == 0, spots for fibers 0..24 on the padded grid, core extract).
// Usage: perfex_py_golden_ref SHARED_DIR OUTPUT_DIR
#include <Kokkos_Core.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/extract.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/psf_io.hpp"

namespace {

// numpy's .npy format, version 1.0, little-endian float64, C order.
void write_npy(const std::string& path, const double* data, const std::vector<long>& shape) {
  std::string dims;
  long n = 1;
  for (long s : shape) {
    dims += std::to_string(s) + ", ";
    n *= s;
  }
  if (shape.size() > 1) dims.resize(dims.size() - 1);  // "(a, b)", but "(a,)" for one dimension
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + dims + "), }";
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  const unsigned short len = static_cast<unsigned short>(header.size());
  const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  f.write(len_bytes, 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(double)));
  if (!f) throw perfex::Error(perfex::ErrorKind::Data, "cannot write " + path);
}

template <class View>
void write_view(const std::string& path, const View& v) {
  std::vector<long> shape;
  for (unsigned r = 0; r < View::rank; ++r) shape.push_back(static_cast<long>(v.extent(r)));
  write_npy(path, v.data(), shape);
}

int run(const std::string& shared, const std::string& out) {
  const std::string dir = shared + "/golden/r0-51060-bundle0";
  perfex::io::FitsFile in(dir + "/input.fits", perfex::io::FitsFile::Mode::Read);
  in.move_to("IMAGE");
  const double origin[2] = {static_cast<double>(in.require_key_int("CUT_Y0")),
                            static_cast<double>(in.require_key_int("CUT_X0"))};
  auto read = [&](const char* hdu) {
    in.move_to(hdu);
    return std::make_pair(in.image_shape(), in.read_image_double());
  };
  const auto [shape, image] = read("IMAGE");
  const auto ivar = read("IVAR").second;
  const auto mask = read("MASK").second;
  const auto wave = read("WAVELENGTH").second;
  const long ny = shape[0], nx = shape[1];
  perfex::HostView<double**> himg("image", ny, nx), hw("weights", ny, nx);
  for (long y = 0; y < ny; ++y)
    for (long x = 0; x < nx; ++x) {
      himg(y, x) = image[y * nx + x];
      hw(y, x) = mask[y * nx + x] == 0 ? ivar[y * nx + x] : 0.0;
    }
  const auto psf = perfex::io::read_psf(shared + "/data/psf-r0-00051060.fits");
  perfex::ImageInput input;
  input.image = Kokkos::create_mirror_view_and_copy(perfex::MemSpace(), himg);
  input.weights = Kokkos::create_mirror_view_and_copy(perfex::MemSpace(), hw);
  input.origin_y = static_cast<int>(origin[0]);
  input.origin_x = static_cast<int>(origin[1]);
  input.ccd_ny = psf.npix_y;
  input.ccd_nx = psf.npix_x;
  perfex::ExtractionOptions options;
  options.psferr = psf.default_psferr();
  options.ndiag = psf.hsizey;
  const std::vector<double> grid(wave.begin(), wave.end());
  const auto padded = perfex::padded_wavelengths(grid, options);
  const auto spots = perfex::evaluate_spots(perfex::ExecSpace(), psf, 0, 25, padded);
  const perfex::FrameResult r = perfex::extract(perfex::ExecSpace(), input, spots, grid, 0, 25, options);

  write_view(out + "/image.npy", himg);
  write_view(out + "/weights.npy", hw);
  write_npy(out + "/wavelengths.npy", grid.data(), {static_cast<long>(grid.size())});
  write_npy(out + "/origin.npy", origin, {2});
  write_view(out + "/flux.npy", r.flux);
  write_view(out + "/ivar.npy", r.ivar);
  write_view(out + "/resolution.npy", r.resolution);
  write_view(out + "/chi2pix.npy", r.chi2pix);
  write_view(out + "/pixmask_fraction.npy", r.pixmask_fraction);
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: perfex_py_golden_ref SHARED_DIR OUTPUT_DIR\n");
    return 2;
  }
  Kokkos::initialize(argc, argv);
  int code = 0;
  try {
    code = run(argv[1], argv[2]);
  } catch (const perfex::Error& e) {
    std::fprintf(stderr, "perfex_py_golden_ref: error: %s\n", e.what());
    code = e.exit_code();
  }
  Kokkos::finalize();
  return code;
}
