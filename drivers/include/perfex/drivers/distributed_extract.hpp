// Extraction on several MPI ranks: the bundles of one frame dealt on request to the ranks of a group and
// gathered on the group's root (perfex extract under mpiexec, and each frame of perfex extract-exposure).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "perfex/drivers/comm.hpp"
#include "perfex/drivers/extract_command.hpp"
#include "perfex/core/extract_frame.hpp"

namespace perfex::drivers {

// A frame's inputs as the group's root read them: the job, or why it could not be read.
struct PreparedFrame {
  std::optional<ExtractionJob> job;
  int code = 0;         // 0, or the exit code of the error (1 data, 2 usage)
  std::string message;  // the error
};

// prepare_extraction with its errors caught.
PreparedFrame prepare_frame(const ExtractArgs& args);

// A frame's outcome, the same code on every rank of the group; on the root the error message, or the
// extracted frame (result, specmask, model image when asked).
struct FrameOutcome {
  int code = 0;
  std::string message;
  std::optional<ExtractedFrame> extracted;
};

// Extracts one frame with every rank of `group`: a collective call (all ranks call it for the same frames
// in the same order). The root passes the frame it read, the other ranks nullptr.
// - The root broadcasts the setup, the grid and the image; each other rank reads the PSF file itself.
// - The frame is cut into units of `bundles per chunk` bundles, the chunks a one-process run extracts; a
//   thread of the root hands them out on request while the root extracts units too (dynamic balancing).
//   A unit's extraction is the same call whichever rank makes it, so the data do not depend on the ranks.
// - The root gathers the units, computes the specmask over the whole frame and the model image.
// `side_work` runs once on the root while the other ranks start on the units (perfex extract-exposure
// writes the previous frame and reads the next one then); first when the group has one rank. An error on
// any rank (unreadable PSF, a failed patch) comes back as the code on every rank, never a hang.
FrameOutcome extract_on_group(const Comm& group, const PreparedFrame* root_frame, const std::function<void()>& side_work,
                              bool verbose);

// perfex extract on the ranks of `comm`: the root reads, all extract, the root writes; every rank returns
// the same exit code, the root prints the error.
int run_extract_distributed(const Comm& comm, const ExtractArgs& args);

// Runs a collective action; an exception escaping it ends the whole job with MPI_Abort once the stack has
// unwound (this rank's temporary outputs are removed by then), since other ranks may be waiting in a
// collective call for this one. With one rank, the error's exit code is returned.
int run_or_abort(const Comm& world, const std::function<int()>& body);

}  // namespace perfex::drivers
