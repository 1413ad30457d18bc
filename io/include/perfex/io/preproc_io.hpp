// DESI preprocessed CCD images (preproc-CAMERA-EXPID.fits: IMAGE, IVAR, MASK, FIBERMAP), the reader the
// extraction uses and the writer the simulator uses; also the simulator's spectra input and truth files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "perfex/core/simulate.hpp"
#include "perfex/core/types.hpp"
#include "perfex/io/fits_file.hpp"

namespace perfex::io {

// Header keywords of the IMAGE HDU that later stages use (absent keywords stay empty).
struct PreprocHeader {
  std::string camera;  // b0..z9
  std::optional<long long> expid;
  std::optional<long long> night;
  std::optional<double> mjd_obs;
  std::optional<double> exptime;
  std::string flavor;                 // FLAVOR, else OBSTYPE
  std::optional<double> ra;           // RA, else TELRA
  std::optional<double> dec;          // DEC, else TELDEC
  std::optional<long long> fibermin;  // FIBERMIN: the fiber of the fibermap's first row
  // Every card of the IMAGE header but the structural ones (header_cards.hpp), in file order: what an
  // extraction propagates into the frame's FLUX header, as desispec does.
  std::vector<std::string> cards;
};

// A keyword to write: string, real, integer or logical.
struct HeaderKeyword {
  std::string key;
  std::variant<std::string, double, long long, bool> value;
  std::string comment;
};

// A binary table kept byte for byte: its header cards (column definitions TTYPEn/TFORMn/TUNITn/TZEROn/...
// and any others, without the structural NAXISn/PCOUNT/GCOUNT/TFIELDS/EXTNAME) and its raw rows in FITS
// (big-endian) layout, so any subset of rows can be written to another file unchanged.
struct RawTable {
  std::string extname;
  long nrows = 0;
  long row_bytes = 0;  // NAXIS1
  int ncolumns = 0;
  std::vector<std::string> names;     // TTYPEn
  std::vector<std::string> forms;     // TFORMn
  std::vector<std::string> units;     // TUNITn ("" when absent)
  std::vector<std::string> comments;  // TTYPEn comments ("" when absent; may be shorter than names)
  std::vector<std::string> cards;     // other header cards, 80 characters each, in file order
  std::vector<unsigned char> rows;    // nrows * row_bytes
};

// The fibermap: the columns perfex uses, plus the whole table when it was read from a file.
struct Fibermap {
  std::vector<std::int32_t> fiber;
  std::vector<long long> targetid;
  std::vector<std::string> objtype;       // "TGT", "SKY", ... (empty when the column is absent)
  std::vector<std::int32_t> fiberstatus;  // 0 = good (zeros when the column is absent)
  std::optional<RawTable> raw;
  long size() const { return static_cast<long>(fiber.size()); }
};

struct PreprocImage {
  std::string source;        // file the image was read from (messages)
  int npix_y = 0;            // rows
  int npix_x = 0;            // columns
  HostView<double**> image;  // electrons
  // Inverse variance with the mask applied: ivar * ((mask & ccd_mask::extract) == 0). Pixels whose image
  // or ivar is not finite, or whose ivar is negative, get ivar 0 and image 0 (counted in n_invalid).
  HostView<double**> ivar;
  HostView<std::int32_t**> mask;  // as in the file (zeros when there is no MASK HDU)
  bool has_mask = false;
  long long n_invalid = 0;
  // READNOISE (electrons rms per pixel): written when allocated (the simulator's), not read.
  HostView<double**> readnoise;
  PreprocHeader header;
  std::optional<Fibermap> fibermap;
};

// Reads a preproc file (".fits.gz" too; MASK may be tile-compressed). Data errors name the file and HDU:
// a missing IMAGE or IVAR HDU, IMAGE/IVAR/MASK of different shapes, non-2D images, unreadable data.
PreprocImage read_preproc(const std::string& path);
// The same from an opened file (e.g. FitsFile::open_memory in the fuzzers); messages use file.path().
PreprocImage read_preproc(FitsFile& file);

struct PreprocWriteOptions {
  bool overwrite = false;
  bool compress_mask = true;            // MASK as a RICE tile-compressed int16 HDU, as DESI writes it
  std::vector<HeaderKeyword> keywords;  // extra keywords for the IMAGE header
};

// Writes IMAGE (float32, primary HDU with EXTNAME IMAGE: the header's cards, then its keywords and
// options.keywords), IVAR (float32, written as given), READNOISE (float32, when the image has one), MASK
// (int16) and FIBERMAP (when present: the raw table if any, else the columns FIBER,
// TARGETID, OBJTYPE, FIBERSTATUS), then CHECKSUM/DATASUM on every HDU, atomically: temporary file, then rename. An existing `path` needs
// options.overwrite (usage error otherwise).
void write_preproc(const std::string& path, const PreprocImage& data, const PreprocWriteOptions& options);
// Appends the HDUs to a freshly created file (tests build malformed files from it).
void write_preproc(FitsFile& file, const PreprocImage& data, const PreprocWriteOptions& options);

// The current HDU of `file` as a raw table (header cards and rows byte for byte), or nullopt when it is not
// a binary table that can be kept so (ASCII tables, variable-length array columns).
std::optional<RawTable> read_raw_table(FitsFile& file, const std::string& extname);

// Appends rows [first, first + count) of a raw table as a binary-table HDU named `extname` (default: the
// table's own): its columns, header cards and TTYPEn comments, the rows byte for byte.
void write_raw_table(FitsFile& file, const RawTable& table, long first, long count, const std::string& extname = "");

// Rows of the FIBERMAP HDU of a file (-f/--fibermap), without reading them; data error when the file or
// the HDU is missing.
long read_fibermap_rows(const std::string& path);

// Appends rows [first, first + count) of `fibermap` as a FIBERMAP table: the raw table's rows byte for
// byte when it has one, else the four columns.
void write_fibermap(FitsFile& file, const Fibermap& fibermap, long first, long count);

// ---------------------------------------------------------------------------------------------------------
// Simulator inputs and truth.

// Input spectra: HDU PHOTONS float [nfiber, nwave] (electrons per bin) and WAVELENGTH [nwave] (Angstrom,
// strictly increasing). Photons must be finite and >= 0.
struct PhotonSpectra {
  std::vector<double> wavelengths;
  HostView<double**> photons;
};
PhotonSpectra read_photon_spectra(const std::string& path);
void write_photon_spectra(const std::string& path, const PhotonSpectra& spectra, bool overwrite);

struct SimulationTruth {
  std::vector<double> wavelengths;
  HostView<const double**> photons;  // [nfiber][nwave], fiber 0 of the PSF first
  std::vector<std::int32_t> fiber;
  std::vector<std::string> objtype;   // TGT / SKY
  std::vector<std::string> spectype;  // SKY / EMISSION / ABSORPTION / INPUT
  std::vector<double> redshift;
  std::vector<long long> targetid;
  std::vector<SimulatedDefect> defects;
  std::vector<HeaderKeyword> keywords;  // seed, inputs, photon totals... (on the WAVELENGTH HDU)
};
// HDUs WAVELENGTH (float64 [nwave]), PHOTONS (float64 [nfiber, nwave]), FIBERTYPE (table FIBER, TARGETID,
// OBJTYPE, SPECTYPE, REDSHIFT), DEFECTS (table KIND, MASKBIT, YMIN, YMAX, XMIN, XMAX, NPIX, ELECTRONS),
// written atomically.
void write_simulation_truth(const std::string& path, const SimulationTruth& truth, bool overwrite);
// Appends the same HDUs to a freshly created file.
void write_simulation_truth(FitsFile& file, const SimulationTruth& truth);

}  // namespace perfex::io
