// The barycentric correction's keywords of a preprocessed image (IMAGE header, else FIBERMAP header).
#include "perfex/io/pointing_header.hpp"

#include <initializer_list>

#include "perfex/io/fits_file.hpp"

namespace perfex::io {

namespace {

// Moves to the HDU whose header holds the pointing: the image's when it has TARGTRA or RA, else the
// FIBERMAP's when that has them, else back to the image's.
void move_to_pointing_hdu(FitsFile& f) {
  if (f.has_hdu("IMAGE"))
    f.move_to("IMAGE");
  else
    f.move_to_index(0);
  auto has_target = [&] { return f.read_key_double("TARGTRA") || f.read_key_double("RA"); };
  if (has_target() || !f.has_hdu("FIBERMAP")) return;
  const std::string image_hdu = f.current_hdu_name();
  f.move_to("FIBERMAP");
  if (has_target()) return;
  if (image_hdu.rfind("HDU ", 0) == 0)
    f.move_to_index(0);
  else
    f.move_to(image_hdu);
}

}  // namespace

PointingHeader read_pointing_header(const std::string& path) {
  FitsFile f(path, FitsFile::Mode::Read);
  move_to_pointing_hdu(f);
  PointingHeader h;
  h.where = f.where();
  auto pick = [&](std::initializer_list<const char*> keys, std::string& used) -> std::optional<double> {
    for (const char* k : keys)
      if (auto v = f.read_key_double(k)) {
        used = k;
        return v;
      }
    return std::nullopt;
  };
  h.ra = pick({"TARGTRA", "SKYRA", "TELRA", "RA"}, h.ra_key);
  h.dec = pick({"TARGTDEC", "SKYDEC", "TELDEC", "DEC"}, h.dec_key);
  h.mjd = pick({"MJD-OBS", "MJD"}, h.mjd_key);
  h.exptime = f.read_key_double("EXPTIME");
  return h;
}

}  // namespace perfex::io
