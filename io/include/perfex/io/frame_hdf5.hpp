// DESI frames as HDF5 (PERFEX_ENABLE_HDF5): the same content as the FITS frame (frame_io.hpp), one group
// per frame. In a frame group: datasets FLUX, IVAR, RESOLUTION, CHI2PIX (float32), MASK (uint32),
// WAVELENGTH (float64), FIBERMAP (compound, one member per FITS column), and with --float64 FLUX64, IVAR64,
// RESOLUTION64, CHI2PIX64, PIXMASK_FRACTION (float64); the FITS FLUX header keywords are attributes of the
// group (PERFEX_FORMAT = "frame" marks it), BUNIT/NDIAG/COMMENT attributes of the datasets. Datasets are
// chunked, shuffled and deflated; no object timestamps, so equal content gives equal files.
// Builds without HDF5 keep these declarations: the readers, writers and require_hdf5 then throw a usage
// error saying so (hdf5_available() is false).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "perfex/io/communicator.hpp"
#include "perfex/io/frame_io.hpp"
#include "perfex/io/preproc_io.hpp"

namespace perfex::io {

// Whether this build writes and reads HDF5 (PERFEX_ENABLE_HDF5), and whether it writes exposure files
// collectively (PERFEX_HDF5_PARALLEL: a parallel HDF5, Hdf5CollectiveExposureWriter).
bool hdf5_available();
bool hdf5_parallel_available();
// Whether a collective exposure file failed in a way HDF5 does not recover from (a write that failed, or a
// disk that could not hold the next frame): the file is left unclosed, and the process must end without
// MPI_Finalize, whose HDF5 clean-up would crash on it (drivers end the job with MPI_Abort, also on one rank).
bool collective_hdf5_file_broken();
// Whether that failure is the same error on every rank (disk space that could not be allocated): world rank 0
// reports it and ends the job, the other ranks wait for the end.
bool collective_hdf5_failure_agreed();
// The HDF5 library's version ("1.10.8"; "" without HDF5).
std::string hdf5_library_version();
// Throws a usage error naming `what` (an option, a file) when the build has no HDF5.
void require_hdf5(const std::string& what);

// The FIBERMAP rows a frame gets, as a raw table: rows [first, first + count) of the source (an in-memory
// fibermap, its raw table when it has one, or the FIBERMAP HDU of a FITS file); nullopt when the source
// names none. Data errors as write_frame's.
std::optional<RawTable> fibermap_rows(const FibermapSource& source, long count);
// A fibermap holding `table` byte for byte (write_fibermap copies it).
Fibermap fibermap_from_table(const RawTable& table);

// Writes the frame as an HDF5 file (the root group is the frame), atomically (temporary file, then
// rename); an existing `path` needs options.overwrite (usage error), as write_frame.
void write_frame_hdf5(const std::string& path, const Frame& frame, const FibermapSource& fibermap,
                      const FrameWriteOptions& options);

// Reads a frame group ("" or "/": the root; an exposure file's camera group, e.g. "r0"): the float64
// datasets when present (prefer_float64), else the float32 ones; the FIBERMAP, when present and asked
// for, into *fibermap. Data errors name the file and object: not HDF5, truncated or damaged, a group that
// is not a perfex frame (foreign file), missing datasets, inconsistent shapes.
Frame read_frame_hdf5(const std::string& path, const std::string& group = "", bool prefer_float64 = true,
                      std::optional<RawTable>* fibermap = nullptr);

// The frame groups of an exposure file (written by perfex extract-exposure --hdf5-exposure), in name
// order; empty for a single-frame file.
std::vector<std::string> hdf5_frame_groups(const std::string& path);

// A frame as an in-memory HDF5 file image (root group = the frame): how a group's root hands a finished
// frame to the writing rank, and how write_frame_hdf5 builds its file before writing it out; `name` names it in
// messages. frame_from_hdf5_image reads it back.
std::vector<unsigned char> frame_hdf5_image(const Frame& frame, const std::optional<RawTable>& fibermap, bool float64,
                                            const std::string& name = "frame-image.h5");
Frame frame_from_hdf5_image(const std::vector<unsigned char>& image, const std::string& name,
                            std::optional<RawTable>* fibermap);

// An exposure file: one group per frame, written by one process, atomically (temporary file until
// commit(); dropped, with nothing left, when destroyed uncommitted).
class Hdf5ExposureWriter {
 public:
  Hdf5ExposureWriter(const std::string& path, bool overwrite);
  ~Hdf5ExposureWriter();
  Hdf5ExposureWriter(const Hdf5ExposureWriter&) = delete;
  Hdf5ExposureWriter& operator=(const Hdf5ExposureWriter&) = delete;

  // Adds a frame group named `name` (the camera) or, when that is empty or taken, `fallback` (e.g. the
  // manifest's output name), else "frame-N"; returns the name used. A failed write removes the group and
  // throws (data error).
  std::string add(const Frame& frame, const std::optional<RawTable>& fibermap, bool float64, const std::string& name,
                  const std::string& fallback);
  int frames() const;
  const std::string& path() const;
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// An exposure file written collectively by every rank of `comm` (PERFEX_HDF5_PARALLEL builds, MPI started;
// perfex passes MPI_COMM_WORLD's): the layout and group names of Hdf5ExposureWriter's. Every member is collective: all world ranks
// call it, in the same order, with the same arguments except the frame, which only its owner holds. World
// rank 0 picks the temporary file beside the target and broadcasts its name; the ranks open it with MPI-IO;
// commit() closes it on every rank, then rank 0 renames it onto the target. Uncommitted, the temporary is
// removed. Builds without a parallel HDF5: the constructor throws a usage error.
class Hdf5CollectiveExposureWriter {
 public:
  // Usage error (existing target without `overwrite`, a communicator without MPI) or data error, the same on
  // every rank. `comm` carries every collective call and must outlive the writer.
  Hdf5CollectiveExposureWriter(const std::string& path, bool overwrite, const Communicator& comm);
  ~Hdf5CollectiveExposureWriter();
  Hdf5CollectiveExposureWriter(const Hdf5CollectiveExposureWriter&) = delete;
  Hdf5CollectiveExposureWriter& operator=(const Hdf5CollectiveExposureWriter&) = delete;

  struct Added {
    std::string group;    // the group written (every rank); empty when the owner had no frame or refused it
    std::string refused;  // on the owner: why its frame was refused before anything was written
    int nspec = 0, specmin = 0, nwave = 0;
  };
  // World rank `owner` holds `frame` (null there: no frame, e.g. its extraction failed; ignored elsewhere)
  // and its FIBERMAP rows. The owner checks the frame and broadcasts its keywords and shapes; every rank
  // creates the group (named as Hdf5ExposureWriter::add names it, from the frame's CAMERA) and its datasets;
  // the owner's data are written collectively, the other ranks taking part with empty selections. An HDF5
  // failure while writing throws (data error) on the ranks it hits: the file is then unusable and the job
  // must end (the other ranks may be waiting in a collective call).
  Added add(int owner, const Frame* frame, const std::optional<RawTable>& fibermap, bool float64,
            const std::string& fallback);
  int frames() const;
  const std::string& path() const;
  // Closes the file on every rank, then rank 0 renames it onto the target; errors thrown on every rank.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace perfex::io
