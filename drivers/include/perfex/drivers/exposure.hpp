// perfex extract-exposure: the frames of an exposure (a manifest, or a directory of DESI files) dealt to
// groups of MPI ranks, the bundles of each frame to the ranks of its group.
#pragma once

#include <string>
#include <vector>

#include "perfex/drivers/extract_command.hpp"

namespace perfex::drivers {

struct FrameTask {
  std::string input;   // preproc image
  std::string psf;     // PSF
  std::string output;  // frame
};

// A manifest: one frame per line, "input psf output" separated by blanks; '#' starts a comment; blank
// lines are skipped. Paths are used as written (relative to the working directory), except that relative
// outputs go under `output_dir` when it is not empty. Throws perfex::Error (data) naming the file and line:
// unreadable file, a line without exactly three fields, no frames, an output named twice.
std::vector<FrameTask> read_manifest(const std::string& path, const std::string& output_dir);

// A directory of DESI files: every preproc-CAMERA-EXPID.fits (or .fits.gz) in `input_dir`, with
// psf-CAMERA-EXPID.fits from `psf_dir` (`input_dir` when empty), written to frame-CAMERA-EXPID.fits in
// `output_dir`; sorted by name. A missing PSF fails that frame only (when it is read). Throws
// perfex::Error (data) when the directory cannot be read or holds no preproc file.
std::vector<FrameTask> list_exposure_directory(const std::string& input_dir, const std::string& psf_dir,
                                               const std::string& output_dir);

// --group-size 0: as many groups as frames while every group keeps a rank, max(1, nranks / nframes).
int default_group_size(int nranks, int nframes);

struct ExposureArgs {
  std::string source;      // a manifest file or a directory
  std::string output_dir;  // directory mode: required; manifest mode: where relative outputs go
  std::string psf_dir;     // directory mode: where the PSFs are (default: the source directory)
  int group_size = 0;      // ranks per frame; 0: default_group_size
  // --hdf5-exposure FILE.h5: every frame into this one HDF5 file, a group per frame (the camera, else the
  // output's name), written by world rank 0 in frame order; the per-frame outputs only name the groups.
  std::string hdf5_exposure;
  ExtractArgs extract;  // options shared by every frame (input, psf, output and model unused)
};

// The usage checks that need no file (exit 2 before Kokkos starts); throws perfex::Error (usage).
void check_exposure_args(const ExposureArgs& args);

// Extracts every frame. Frames whose inputs are bad are reported on stderr (the output, then the reason)
// and skipped; the others are written. Returns 0 when every frame was written, else 1 (the same on every
// rank). An exception outside a frame's handling ends the job with MPI_Abort.
int run_extract_exposure(const ExposureArgs& args);

}  // namespace perfex::drivers
