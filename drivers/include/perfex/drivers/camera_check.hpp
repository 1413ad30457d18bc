// The check that an image is extracted with a PSF of its own camera (an r0 image with a b1 PSF extracts
// without complaint otherwise: the traces of another camera land somewhere on the CCD).
#pragma once

#include <string>

namespace perfex::drivers {

// Whether two CAMERA values name the same camera: blanks and case ignored; the arm (b, r, z) must be the
// same, and the spectrograph digit too when both have one ("r" matches "r0"). An empty value matches
// anything (a file without CAMERA extracts as before).
bool same_camera(const std::string& a, const std::string& b);

// Throws perfex::Error (data) naming both files and cameras when they differ (same_camera), telling which
// option (`override_option`) extracts anyway.
void check_same_camera(const std::string& image_camera, const std::string& image_name, const std::string& psf_camera,
                       const std::string& psf_name, const std::string& override_option);

// The CAMERA keyword of a preproc image's IMAGE HDU (else its primary HDU), "" when absent; data errors as
// the preproc reader's for a missing or unreadable file.
std::string image_camera(const std::string& path);

}  // namespace perfex::drivers
