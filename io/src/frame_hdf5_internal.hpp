// Shared by the HDF5 frame writers (frame_hdf5.cpp, frame_hdf5_parallel.cpp); not installed.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "hdf5_file.hpp"
#include "perfex/io/frame_hdf5.hpp"

namespace perfex::io::detail {

inline constexpr const char* format_key = "PERFEX_FORMAT";
inline constexpr const char* frame_marker = "frame";
inline constexpr const char* exposure_marker = "exposure";

// Checks, before anything is written, what write_frame_group would refuse: the frame's shapes (and the
// pixmask fraction for float64) and the FIBERMAP's columns (`fibermap_where` names the dataset in messages).
// Throws perfex::Error.
void check_frame_for_hdf5(const Frame& frame, const std::optional<RawTable>& fibermap, bool float64,
                          const std::string& fibermap_where);

// Writes `frame` as group `group` ("/" the root): attributes, then the datasets in the FITS HDU order.
// with_data false (a collective file's ranks that do not hold the frame): the same objects and attributes,
// created from the header, the shapes (data.nspec, nwave, ndiag, specmin, wavelengths) and the FIBERMAP's
// columns (its rows may be empty), and no data of their own (empty selections).
void write_frame_group(Hdf5File& f, const std::string& group, const Frame& frame,
                       const std::optional<RawTable>& fibermap, bool float64, bool with_data = true);

// The exposure file's root attributes (PERFEX_FORMAT = "exposure", PERFEXV).
void write_exposure_attributes(Hdf5File& f);

// The group name of the next frame of an exposure: `name` (the camera), else `fallback`, else "frame-N"
// (N from `frames` up), the first one that is a valid name not in `used`.
std::string exposure_group_name(const std::string& name, const std::string& fallback, const std::set<std::string>& used,
                                int frames);

// The end of the data of a closed HDF5 file (HDF5's end of allocation, read from the file), where a file
// written with disk space allocated ahead is cut; 0 with `reason` when the file cannot be read.
long long hdf5_end_of_file(const std::string& path, std::string& reason);

}  // namespace perfex::io::detail
