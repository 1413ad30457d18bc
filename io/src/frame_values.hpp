// The values a frame file may hold: finite, and within float32's range for the DESI HDUs. Private to perfex::io.
#pragma once

#include <optional>

#include "perfex/io/frame_io.hpp"

namespace perfex::io::detail {

// nullopt when every value of the frame is finite and float32 holds it (no copy: the frame is written as it
// is). Otherwise a copy in which every bin with a non-finite value, or one beyond float32's range (|x| >
// 3.4e38), in FLUX, IVAR, CHI2PIX, PIXMASK_FRACTION or its RESOLUTION column, is masked: FLUX 0, IVAR 0,
// CHI2PIX 0, the identity resolution (1 on the central diagonal), PIXMASK_FRACTION 1 where it was not finite,
// and specmask bit BAD2DFIT (bit 7, "bad 2D fit": the extraction could not fit that bin with representable
// values; frame_mask sets it for a non-finite chi2pix likewise). A safety net: the input pixel limits
// (core/pixel_limits.hpp) and the bound on --regularize keep extracted values far inside float32's range.
std::optional<Frame> writable_frame(const Frame& frame);

}  // namespace perfex::io::detail
