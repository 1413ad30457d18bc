// Which format a frame file is written in or read from: FITS (DESI's data model) or HDF5 (frame_hdf5.hpp).
#pragma once

#include <string>

#include "perfex/io/frame_io.hpp"

namespace perfex::io {

enum class FrameFormat { Fits, Hdf5 };

// The format of an output: `format` "fits" or "hdf5" (--format), or "" for the file name's extension
// (.h5 and .hdf5 are HDF5, anything else FITS). Usage errors: another --format value, or HDF5 in a build
// without it (naming `option`).
FrameFormat output_frame_format(const std::string& path, const std::string& format, const std::string& option);

// The format of an existing file: HDF5 when it carries HDF5's signature, FITS when it starts like FITS or
// gzip, else by its extension (so that a damaged .h5 file gets the HDF5 reader's message).
FrameFormat input_frame_format(const std::string& path);

const char* format_name(FrameFormat format);

// read_frame or read_frame_hdf5 (the root group), by input_frame_format; HDF5 in a build without it is a
// usage error.
Frame read_frame_file(const std::string& path, bool prefer_float64 = true);

// write_frame or write_frame_hdf5, by output_frame_format(path, format, option): FITS, or HDF5 for
// format "hdf5" or a .h5/.hdf5 name; atomic, an existing file kept unless options.overwrite.
void write_frame_file(const std::string& path, const Frame& frame, const FibermapSource& fibermap,
                      const FrameWriteOptions& options, const std::string& format = "",
                      const std::string& option = "-o/--output");

}  // namespace perfex::io
