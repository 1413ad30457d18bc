// The keywords that say how a frame was extracted (HELIOCOR, PSFERR, the grid, the patch options, the inputs),
// compared between two frame files: perfex compare reports those that differ before any statistic, since
// they explain most differences (another barycentric correction, psferr or PSF).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "perfex/io/frame_io.hpp"

namespace perfex::drivers {

struct FrameKeyword {
  std::string name;
  std::optional<std::string> text;  // as written; nullopt when the file lacks it
  std::optional<double> number;     // numeric keywords
};

// The extraction keywords of the frame file `path` (already read as `frame`), in report order: CAMERA,
// HELIOCOR (absent means 1, as desispec writes it only for a correction), PSFERR, WAVEMIN, WAVEMAX, WAVESTEP,
// BUNDLESZ, NSUBBUN, NWAVSTEP, WAVEPADF, PIXPADF, REGULARI, NDIAG, PSFTAILS, IN_PSF, IN_IMG, PERFEXV. FITS
// files are read as written (a desispec frame lacks perfex's own keywords); HDF5 frames are perfex's, which
// write them all.
std::vector<FrameKeyword> extraction_keywords(const std::string& path, const io::Frame& frame);

struct KeywordDifference {
  std::string name;
  std::string a, b;  // the values, "(absent)" for a missing one
  std::string note;  // e.g. the HELIOCOR difference as a velocity
};
struct KeywordComparison {
  std::vector<KeywordDifference> differ;  // present in both (HELIOCOR: in either) with other values
  std::vector<std::string> only_a, only_b;
  int compared = 0;
};
KeywordComparison compare_keywords(const std::vector<FrameKeyword>& a, const std::vector<FrameKeyword>& b);

}  // namespace perfex::drivers
