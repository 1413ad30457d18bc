// CAMERA of the image against CAMERA of the PSF.
#include "perfex/drivers/camera_check.hpp"

#include <fmt/core.h>

#include <cctype>

#include "perfex/core/error.hpp"
#include "perfex/io/fits_file.hpp"

namespace perfex::drivers {

namespace {

// Lower case, without blanks and the quotes some writers leave inside the value ('''r0      ''').
std::string normalized(const std::string& value) {
  std::string s;
  for (char c : value)
    if (!std::isspace(static_cast<unsigned char>(c)) && c != '\'')
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

bool same_camera(const std::string& a, const std::string& b) {
  const std::string x = normalized(a), y = normalized(b);
  if (x.empty() || y.empty() || x == y) return true;
  // "r" (an arm without its spectrograph, as `perfex psf synth --camera r` writes) matches r0..r9.
  if (x.size() == 1 || y.size() == 1) return x[0] == y[0];
  return false;
}

void check_same_camera(const std::string& image_camera, const std::string& image_name, const std::string& psf_camera,
                       const std::string& psf_name, const std::string& override_option) {
  if (same_camera(image_camera, psf_camera)) return;
  throw_data_error(
      fmt::format("the image {} is camera {} (CAMERA), the PSF {} is camera {}: extract each image with "
                  "its own camera's PSF ({} extracts anyway)",
                  image_name, normalized(image_camera), psf_name, normalized(psf_camera), override_option));
}

std::string image_camera(const std::string& path) {
  io::FitsFile f(path, io::FitsFile::Mode::Read);
  if (f.has_hdu("IMAGE"))
    f.move_to("IMAGE");
  else
    f.move_to_index(0);
  return f.read_key_string("CAMERA").value_or("");
}

}  // namespace perfex::drivers
