// Extraction on several MPI ranks: the bundles of one frame dealt on request to the ranks of a group and
// gathered on the group's root (perfex extract under mpiexec, and each frame of perfex extract-exposure).
#pragma once

#include <optional>
#include <string>

#include "perfex/core/extract_frame.hpp"
#include "perfex/drivers/comm.hpp"
#include "perfex/drivers/extraction_job.hpp"

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
// - Every rank runs core's FrameExtractor; its chunks (`bundles per chunk` bundles, those of a one-process
//   run) are the units. A thread of the root hands them out on request while the root extracts units too
//   (dynamic balancing), straight into its frame; the other ranks copy each of theirs out (read_chunk).
//   A unit's extraction is the same call whichever rank makes it, so the data do not depend on the ranks.
// - The root receives the units (write_chunk) and finishes the frame: the specmask over the whole frame,
//   the model image, the copy to the host.
// An error on any rank (unreadable PSF, a failed patch) comes back as the code on every rank, never a hang.
// MPI calls are made by the calling thread, and on the root by the thread that hands out the units while
// the calling thread makes none (MPI_THREAD_SERIALIZED). A caller may read and write files in a thread of
// its own meanwhile (extract-exposure does), as long as that thread makes no MPI call.
FrameOutcome extract_on_group(const Comm& group, const PreparedFrame* root_frame, bool verbose);

}  // namespace perfex::drivers
