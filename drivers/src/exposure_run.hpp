// perfex extract-exposure's run over the frames (internal to drivers): groups of ranks, frames dealt
// round-robin, bad frames reported and skipped, the output files or the exposure's HDF5 file.
#pragma once

#include "perfex/drivers/comm.hpp"
#include "perfex/drivers/exposure.hpp"

namespace perfex::drivers {

// Every frame of the exposure on the ranks of `world` (collective). Returns 0 when every frame was
// written, else 1, the same on every rank; errors before any frame are printed by world rank 0 and their
// code returned.
int run_exposure(const Comm& world, const ExposureArgs& args);

}  // namespace perfex::drivers
