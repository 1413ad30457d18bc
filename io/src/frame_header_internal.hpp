// The FLUX header of a frame, shared by the FITS writer (frame_io.cpp) and the HDF5 writer, which keeps the
// same header as FITS cards (frame_hdf5.cpp).
#pragma once

#include <string>
#include <vector>

#include "perfex/io/fits_file.hpp"
#include "perfex/io/frame_io.hpp"

namespace perfex::io::detail {

// perfex's own keywords of the frame (BUNIT, CAMERA..., NSPEC, SPECMIN, WAVEMIN..., IN_PSF, IN_IMG, the
// extraction parameters, HELIOCOR, PERFEXV), updated in place when the header already has them (frame_io.cpp).
void write_frame_keywords(FitsFile& file, const Frame& frame);

// The whole FLUX header on the current HDU, as desispec builds it: the propagated cards, perfex's keywords
// (which win), FIBERMIN, ORIG_PSF, the dependency cards, then LONGSTRN when a value needed CONTINUE cards.
void write_flux_header(FitsFile& file, const Frame& frame);

// The same header's non-structural cards, composed in a FITS file in memory.
std::vector<std::string> flux_header_cards(const Frame& frame);

}  // namespace perfex::io::detail
