// The files a command reads and writes, checked together before any work: no output may be an input or
// another output (io::check_distinct_files: the same inode through links too, or the same name).
#pragma once

#include <string>
#include <vector>

#include "perfex/drivers/exposure.hpp"
#include "perfex/drivers/extract_command.hpp"

namespace perfex::drivers {

// perfex extract: -o and -m against -i, -p and -f, and each other (usage error, exit 2).
void check_extract_files(const ExtractArgs& args);

// perfex extract-exposure: every frame's output (unless the frames go to --hdf5-exposure) and the exposure
// file against every frame's input and PSF, -f, the manifest (a file `source`), and each other (usage
// error, exit 2, naming the frames by their number in `source`).
void check_exposure_files(const std::vector<FrameTask>& tasks, const ExposureArgs& args);

}  // namespace perfex::drivers
