// The FLUX header of a frame as desispec writes it: desi_extract_spectra copies the whole preproc IMAGE header
// (astropy drops and rewrites the structural keywords), adds the extraction's keywords, FIBERMIN (the frame's
// first fiber), ORIG_PSF and desiutil's dependency cards.
#include <fitsio.h>

#include "frame_header_internal.hpp"
#include "perfex/io/desi_provenance.hpp"
#include "perfex/io/header_cards.hpp"

namespace perfex::io::detail {

void write_flux_header(FitsFile& f, const Frame& frame) {
  const FrameHeader& h = frame.header;
  write_header_cards(f, h.cards);
  write_frame_keywords(f, frame);
  if (h.fibermin) f.write_key("FIBERMIN", *h.fibermin, "first fiber of the frame");
  if (!h.orig_psf.empty()) update_long_string(f, "ORIG_PSF", h.orig_psf, "PSF the input PSF was derived from");
  set_dependencies(f, h.dependencies);
  declare_long_strings(f);
}

std::vector<std::string> flux_header_cards(const Frame& frame) {
  FitsFile f = FitsFile::create_memory("the FLUX header");
  int status = 0;
  fits_create_img(static_cast<fitsfile*>(f.raw()), FLOAT_IMG, 0, nullptr, &status);
  f.check(status, "creating an empty HDU");
  write_flux_header(f, frame);
  return read_header_cards(f);
}

}  // namespace perfex::io::detail
