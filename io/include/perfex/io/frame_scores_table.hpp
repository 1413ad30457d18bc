// The SCORES HDU of a frame (desispec's compute_and_append_frame_scores columns) as a binary table kept
// byte for byte, written by the FITS and HDF5 frame writers like the FIBERMAP.
#pragma once

#include <optional>

#include "perfex/core/frame_scores.hpp"
#include "perfex/io/frame_io.hpp"
#include "perfex/io/preproc_io.hpp"

namespace perfex::io {

// One float64 ('D') column per score, TTYPEn commented with desispec's text, EXTNAME SCORES.
RawTable scores_table(const FrameScores& scores);

// The SCORES of a frame as desispec computes them on the frame it reads back: from the float32 values the
// FLUX and IVAR HDUs store (raw_frame_scores); nullopt when no wavelength of the frame lies in its band.
std::optional<RawTable> frame_scores_table(const Frame& frame);

}  // namespace perfex::io
