// RAII handle for a CFITSIO file: every CFITSIO status becomes a perfex::Error naming the file, the HDU
// and the keyword or column involved.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace perfex::io {

class AtomicOutput;

class FitsFile {
 public:
  enum class Mode { Read, Create };
  // Read: opens an existing FITS file, plain or gzip-compressed (unpacked into memory); every HDU's header is
  // checked before CFITSIO parses it (io/src/fits_header_check.hpp).
  // Create: creates a new file at `path` (which must not exist).
  FitsFile(const std::string& path, Mode mode);
  // A new FITS file built in memory for an atomic output: close() hands its bytes to output.write_file(), so
  // that a full disk is met (and reported, naming output.path()) by perfex rather than inside CFITSIO;
  // messages name output.path(). The caller commits `output` after close().
  explicit FitsFile(AtomicOutput& output);
  // Opens a FITS file held in memory (used by the fuzzers); `name` is used in messages. Reads a copy, and
  // refuses a file whose HDUs extend past `size` (truncated) before any data is read.
  static FitsFile open_memory(const void* data, std::size_t size, const std::string& name);
  // Creates an empty FITS file in memory (the zeroed buffer files for AtomicOutput are built in, freed with
  // this FitsFile); `name` is used in messages. For composing headers (the FLUX header an HDF5 frame keeps as cards).
  static FitsFile create_memory(const std::string& name);
  ~FitsFile();
  FitsFile(FitsFile&& other) noexcept;
  FitsFile& operator=(FitsFile&&) = delete;
  FitsFile(const FitsFile&) = delete;
  FitsFile& operator=(const FitsFile&) = delete;

  const std::string& path() const { return m_path; }
  // Context for messages: "file.fits[HDU NAME]".
  std::string where() const;

  // --- HDU navigation
  int hdu_count();
  bool has_hdu(const std::string& extname);
  void move_to(const std::string& extname);  // throws naming the missing HDU
  void move_to_index(int index0);            // 0 = primary
  std::string current_hdu_name() const { return m_hdu; }

  // --- keywords of the current HDU
  std::optional<std::string> read_key_string(const std::string& key);
  std::optional<double> read_key_double(const std::string& key);
  std::optional<long long> read_key_int(const std::string& key);
  double require_key_double(const std::string& key);
  long long require_key_int(const std::string& key);
  std::string require_key_string(const std::string& key);
  void write_key(const std::string& key, const std::string& value, const std::string& comment = "");
  void write_key(const std::string& key, double value, const std::string& comment = "");
  void write_key(const std::string& key, long long value, const std::string& comment = "");
  void write_key(const std::string& key, int value, const std::string& comment = "") {
    write_key(key, static_cast<long long>(value), comment);
  }
  void write_key(const std::string& key, bool value, const std::string& comment = "");
  void write_key(const std::string& key, const char* value, const std::string& comment = "") {
    write_key(key, std::string(value), comment);
  }
  void write_comment(const std::string& text);

  // --- images of the current HDU (row-major: dims = {ny, nx} for 2D, slowest first)
  std::vector<long> image_shape();
  int image_bitpix();  // equivalent BITPIX (accounts for BZERO)
  // For a tile-compressed image HDU: throws a data error unless every ZTILEn lies in 1..ZNAXISn and every
  // tile's compressed bytes lie inside the HDU's heap, so that CFITSIO never sizes a buffer from a corrupt
  // descriptor; nothing for other HDUs. The image readers call it before reading pixels.
  void check_compressed_image();
  // Where the current HDU's pixels lie in the file, for a reader that does not go through CFITSIO (two
  // images of one file read in parallel: CFITSIO's handles of one file are not safe to use concurrently):
  // only for a plain file on disk (not gzip, not in memory) and an uncompressed, unscaled floating-point
  // image (BITPIX -32 or -64, BSCALE 1, BZERO 0); nullopt otherwise.
  struct PlainPixels {
    std::string path;
    long long offset = 0;  // of the first pixel, in bytes
    int bitpix = 0;        // -32 or -64 (big-endian IEEE)
    long long count = 0;   // pixels
    // The file CFITSIO opened (st_dev, st_ino): a reader that opens `path` again checks it is the same file.
    unsigned long long device = 0, inode = 0;
  };
  std::optional<PlainPixels> plain_pixels();
  std::vector<double> read_image_double();
  std::vector<float> read_image_float();
  std::vector<std::int32_t> read_image_int32();
  // Creates an image HDU and writes its data; extname "" keeps the HDU unnamed.
  void write_image(const std::string& extname, const std::vector<long>& dims, const std::vector<double>& data);
  void write_image(const std::string& extname, const std::vector<long>& dims, const std::vector<float>& data);
  void write_image(const std::string& extname, const std::vector<long>& dims, const std::vector<std::int32_t>& data);
  void write_image(const std::string& extname, const std::vector<long>& dims, const std::vector<std::uint32_t>& data);
  void write_image(const std::string& extname, const std::vector<long>& dims, const std::vector<std::int16_t>& data);
  // The same from `count` doubles at `data` (row-major), stored as float32 (`as_float32`, each value rounded
  // to nearest as a C++ cast does) or float64 pixels: CFITSIO converts them chunk by chunk as it writes, with
  // no copy of the array. Values beyond float32's range would become infinities: the caller keeps them in
  // range (write_frame masks such bins first).
  void write_image(const std::string& extname, const std::vector<long>& dims, const double* data, std::size_t count,
                   bool as_float32);

  // --- binary tables of the current HDU
  long table_rows();
  int column_number(const std::string& name);  // throws naming the column
  std::optional<int> find_column(const std::string& name);
  long column_repeat(const std::string& name);  // elements per row
  std::vector<std::string> read_column_string(const std::string& name);
  std::vector<double> read_column_double(const std::string& name);  // all rows x repeat, row-major
  std::vector<long long> read_column_int(const std::string& name);
  // Creates a binary-table HDU of `nrows` rows with columns {name, TFORM} ("8A", "2000D", "J").
  void create_table(const std::string& extname, const std::vector<std::pair<std::string, std::string>>& columns,
                    long nrows);
  // Writes a whole column: one value per row, or rows x repeat values row-major for vector columns.
  void write_column(const std::string& name, const std::vector<std::string>& values);
  void write_column(const std::string& name, const std::vector<double>& values);
  void write_column(const std::string& name, const std::vector<std::int32_t>& values);
  // TDIMn of a vector column (dims slowest first, as numpy shapes).
  void write_column_dims(const std::string& name, const std::vector<long>& dims);

  // --- editing (files opened with Mode::Create)
  void delete_key(const std::string& key);  // throws naming the keyword when absent
  void delete_current_hdu();                // moves to the following HDU (or the previous one at the end)

  // Raw CFITSIO pointer for operations not wrapped here (table copies); status handling is the caller's.
  void* raw() { return m_fptr; }
  // A file being built in memory (FitsFile(AtomicOutput&)): CFITSIO's buffers written into it, then its bytes
  // (the address is valid until the next write) and the buffer's size, zero past what CFITSIO wrote. nullopt for
  // other files.
  std::optional<std::pair<const unsigned char*, std::size_t>> flushed_memory();
  // Throws a perfex::Error for a CFITSIO status, with `what` naming the operation/keyword.
  [[noreturn]] void fail(int status, const std::string& what) const;
  void check(int status, const std::string& what) const {
    if (status != 0) fail(status, what);
  }
  void
  close();  // flushes and closes (an in-memory file: writes it out); throws on failure (destructor closes silently)

 private:
  FitsFile() = default;
  void update_hdu_name();
  // Refuses a file whose first `hdus` HDUs, as CFITSIO reads their headers, extend past `size` bytes (truncated),
  // naming the first such HDU; leaves the primary HDU current.
  void check_extents(unsigned long long size, int hdus);
  // Walks the FITS file held in `bytes`, then opens it as a CFITSIO memory file kept in m_memory.
  void open_checked_memory(std::vector<char> bytes);
  // Opens an empty CFITSIO memory file on a buffer kept in m_created, zero wherever CFITSIO has not written
  // (fits_file.cpp, zeroing_realloc): every file perfex builds in memory.
  void create_in_memory();
  // The RICE_1 tiles of the current compressed image HDU, replayed by detail::rice_tile_problem.
  void check_rice_tiles();

  // A memory file: a padded copy of the bytes, and its address and size, to which CFITSIO keeps pointers for
  // the file's lifetime; on the heap, where moving the FitsFile does not move them.
  struct MemoryBuffer {
    std::vector<char> bytes;
    void* data = nullptr;
    std::size_t size = 0;
  };

  // The growing buffer of a file built in memory (FitsFile(AtomicOutput&)), realloc'ed by CFITSIO.
  struct CreatedBuffer {
    void* data = nullptr;
    std::size_t size = 0;
    ~CreatedBuffer();
  };

  void* m_fptr = nullptr;  // fitsfile*
  std::unique_ptr<MemoryBuffer> m_memory;
  std::unique_ptr<CreatedBuffer> m_created;
  AtomicOutput* m_output = nullptr;
  std::optional<std::pair<unsigned long long, unsigned long long>>
      m_disk_file;  // (st_dev, st_ino) when opened from disk
  std::string m_path;
  std::string m_hdu;
};

}  // namespace perfex::io
