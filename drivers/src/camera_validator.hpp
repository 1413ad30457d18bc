// The CLI11 check of a --camera value, shared by `perfex psf synth` and `perfex simulate`. Private to drivers/.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace perfex::drivers {

// b, r or z, optionally followed by the spectrograph digit.
inline const CLI::Validator camera_name(
    [](std::string& value) -> std::string {
      const bool arm = !value.empty() && (value[0] == 'b' || value[0] == 'r' || value[0] == 'z');
      const bool digit = value.size() == 1 || (value.size() == 2 && value[1] >= '0' && value[1] <= '9');
      if (arm && digit) return {};
      return "camera must be b, r or z, optionally followed by a digit (e.g. r0), found '" + value + "'";
    },
    "b|r|z[0-9]", "CAMERA");

}  // namespace perfex::drivers
