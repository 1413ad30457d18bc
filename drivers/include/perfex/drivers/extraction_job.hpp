// One frame of perfex extract (and of each frame of extract-exposure) from its files to its files: the
// inputs read and checked (io), the image uploaded for core's pipeline, and the frame written (io) with
// the summary line. No MPI here: the drivers that distribute a frame call these on the rank that reads
// and writes.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "perfex/core/extract_frame.hpp"
#include "perfex/core/psf.hpp"
#include "perfex/drivers/extract_command.hpp"
#include "perfex/io/frame_io.hpp"
#include "perfex/io/preproc_io.hpp"

namespace perfex::drivers {

// An extraction's inputs, read and checked.
struct ExtractionJob {
  ExtractArgs args;
  GaussHermitePsf psf;
  io::PreprocImage image;               // its shape is the PSF's CCD
  WavelengthOption requested;           // the nominal grid, written as WAVELENGTH
  std::vector<double> extraction_grid;  // the grid the spectra are extracted on: requested / HELIOCOR
  int specmin = 0;
  int nspec = 0;
  double heliocor = 1.0;
  FrameOptions pipeline;  // psferr and ndiag resolved, tails, bundles per chunk, model; no progress
};

// Checks the arguments, reads the PSF, the header keywords, a separate fibermap and the image; throws
// perfex::Error (usage or data) as perfex extract reports them.
ExtractionJob prepare_extraction(const ExtractArgs& args);

// The job's image (read with its mask applied) on the device: core's upload_image for the whole CCD.
ImageInput upload_job_image(const ExecSpace& exec, const io::PreprocImage& image);

// The frame file's content for `job`: data, specmask and header, and where its FIBERMAP rows come from (the
// input's fibermap, -f's file, or none: a warning on stderr when the input's is too short).
io::Frame frame_of(const ExtractionJob& job, const ExtractedFrame& extracted, io::FibermapSource& fibermap);

// Writes the frame of `job` (io::write_frame_file: FITS, or HDF5 for --format hdf5 / a .h5 name) and its
// model image atomically and prints the summary line ("wrote F: N fibers (...) x M bins (...), extraction
// X s, total Y s, ..."), the total being the time since `t0`.
void write_extraction(const ExtractionJob& job, const ExtractedFrame& extracted,
                      std::chrono::steady_clock::time_point t0);

}  // namespace perfex::drivers
