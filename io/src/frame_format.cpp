// Frame formats: the choice between FITS and HDF5, the FIBERMAP rows as a raw table (what the HDF5 writer
// stores), and, in builds without HDF5, the HDF5 entry points refusing with a usage error.
#include "perfex/io/frame_format.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>

#include "file_names.hpp"
#include "perfex/core/error.hpp"
#include "perfex/io/compressed_output.hpp"
#include "perfex/io/file_checks.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/frame_hdf5.hpp"

namespace perfex::io {

namespace {

bool named_hdf5(const std::string& path) {
  return detail::has_suffix_nocase(path, ".h5") || detail::has_suffix_nocase(path, ".hdf5");
}

void put_be(unsigned char* p, unsigned long long v, int bytes) {
  for (int k = bytes - 1; k >= 0; --k, v >>= 8) p[k] = static_cast<unsigned char>(v & 0xff);
}

// The four columns perfex writes for an in-memory fibermap without a raw table (write_fibermap's layout).
RawTable four_column_table(const Fibermap& fm, long first, long count) {
  std::size_t width = 3;
  for (const auto& s : fm.objtype) width = std::max(width, s.size());
  RawTable t;
  t.extname = "FIBERMAP";
  t.nrows = count;
  t.ncolumns = 4;
  t.names = {"FIBER", "TARGETID", "OBJTYPE", "FIBERSTATUS"};
  t.forms = {"J", "K", std::to_string(width) + "A", "J"};
  t.units = {"", "", "", ""};
  t.row_bytes = static_cast<long>(4 + 8 + width + 4);
  t.rows.assign(static_cast<std::size_t>(t.row_bytes) * static_cast<std::size_t>(count), 0);
  for (long r = 0; r < count; ++r) {
    const auto i = static_cast<std::size_t>(first + r);
    unsigned char* p = t.rows.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(t.row_bytes);
    put_be(p, static_cast<std::uint32_t>(fm.fiber[i]), 4);
    put_be(p + 4, static_cast<unsigned long long>(i < fm.targetid.size() ? fm.targetid[i] : 0), 8);
    if (i < fm.objtype.size()) std::memcpy(p + 12, fm.objtype[i].data(), fm.objtype[i].size());
    put_be(p + 12 + width, static_cast<std::uint32_t>(i < fm.fiberstatus.size() ? fm.fiberstatus[i] : 0), 4);
  }
  return t;
}

RawTable slice(const RawTable& all, long first, long count) {
  RawTable t = all;
  t.nrows = count;
  const auto b = static_cast<std::size_t>(first) * static_cast<std::size_t>(all.row_bytes);
  t.rows.assign(all.rows.begin() + static_cast<long>(b),
                all.rows.begin() + static_cast<long>(b + static_cast<std::size_t>(count) * all.row_bytes));
  return t;
}

}  // namespace

const char* format_name(FrameFormat format) { return format == FrameFormat::Hdf5 ? "HDF5" : "FITS"; }

FrameFormat output_frame_format(const std::string& path, const std::string& format, const std::string& option) {
  FrameFormat f = FrameFormat::Fits;
  if (format == "fits") {
    f = FrameFormat::Fits;
  } else if (format == "hdf5") {
    f = FrameFormat::Hdf5;
  } else if (format.empty()) {
    f = named_hdf5(path) ? FrameFormat::Hdf5 : FrameFormat::Fits;
  } else {
    throw_usage_error("--format '" + format + "': expected fits or hdf5");
  }
  if (f == FrameFormat::Hdf5) {
    require_hdf5(option + " " + path);
    if (output_compression(path, option) != OutputCompression::None)
      throw_usage_error(option + " " + path +
                        ": HDF5 frames are not gzip-compressed as a whole (HDF5 compresses its datasets); name it .h5");
  }
  return f;
}

FrameFormat input_frame_format(const std::string& path) {
  check_input_file(path, "a frame file");  // a FIFO would block the read below
  std::ifstream in(path, std::ios::binary);
  char head[9] = {0};
  if (in) in.read(head, 8);
  const std::streamsize got = in ? 8 : in.gcount();
  if (got >= 8 && std::memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0) return FrameFormat::Hdf5;
  if (got >= 6 && std::memcmp(head, "SIMPLE", 6) == 0) return FrameFormat::Fits;
  if (got >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b)
    return FrameFormat::Fits;
  return named_hdf5(path) ? FrameFormat::Hdf5 : FrameFormat::Fits;
}

Frame read_frame_file(const std::string& path, bool prefer_float64) {
  if (input_frame_format(path) == FrameFormat::Hdf5) {
    require_hdf5(path);
    return read_frame_hdf5(path, "", prefer_float64);
  }
  return read_frame(path, prefer_float64);
}

void write_frame_file(const std::string& path, const Frame& frame, const FibermapSource& fibermap,
                      const FrameWriteOptions& options, const std::string& format, const std::string& option) {
  if (output_frame_format(path, format, option) == FrameFormat::Hdf5)
    write_frame_hdf5(path, frame, fibermap, options);
  else
    write_frame(path, frame, fibermap, options);
}

std::optional<RawTable> fibermap_rows(const FibermapSource& source, long count) {
  const long first = source.first;
  if (source.table) {
    const Fibermap& fm = *source.table;
    if (first < 0 || first + count > fm.size())
      throw_data_error("the fibermap has " + std::to_string(fm.size()) + " rows, the frame needs rows " +
                       std::to_string(first) + ".." + std::to_string(first + count - 1));
    if (fm.raw && fm.raw->nrows == fm.size()) return slice(*fm.raw, first, count);
    return four_column_table(fm, first, count);
  }
  if (source.path.empty()) return std::nullopt;
  FitsFile in(source.path, FitsFile::Mode::Read);
  in.move_to("FIBERMAP");
  std::optional<RawTable> all = read_raw_table(in, "FIBERMAP");
  if (!all)
    throw_data_error(in.where() + ": an ASCII table or variable-length columns cannot be stored in an HDF5 frame");
  if (first < 0 || first + count > all->nrows)
    throw_data_error(in.where() + ": has " + std::to_string(all->nrows) + " rows, the frame needs rows " +
                     std::to_string(first) + ".." + std::to_string(first + count - 1));
  return slice(*all, first, count);
}

Fibermap fibermap_from_table(const RawTable& table) {
  Fibermap fm;
  fm.fiber.assign(static_cast<std::size_t>(table.nrows), 0);  // write_fibermap copies the raw rows
  fm.raw = table;
  return fm;
}

#ifndef PERFEX_HAVE_HDF5
// Builds without HDF5 (PERFEX_ENABLE_HDF5=OFF): the entry points say so.
namespace {
[[noreturn]] void no_hdf5(const std::string& what) {
  throw_usage_error(what +
                    ": this perfex was built without HDF5 (configure with -DPERFEX_ENABLE_HDF5=ON and "
                    "libhdf5-dev installed)");
}
}  // namespace

bool hdf5_available() { return false; }
std::string hdf5_library_version() { return ""; }
void require_hdf5(const std::string& what) { no_hdf5(what); }
void write_frame_hdf5(const std::string& path, const Frame&, const FibermapSource&, const FrameWriteOptions&) {
  no_hdf5(path);
}
Frame read_frame_hdf5(const std::string& path, const std::string&, bool, std::optional<RawTable>*) { no_hdf5(path); }
std::vector<std::string> hdf5_frame_groups(const std::string& path) { no_hdf5(path); }
std::vector<unsigned char> frame_hdf5_image(const Frame&, const std::optional<RawTable>&, bool, const std::string&) {
  no_hdf5("HDF5");
}
Frame frame_from_hdf5_image(const std::vector<unsigned char>&, const std::string& name, std::optional<RawTable>*) {
  no_hdf5(name);
}
struct Hdf5ExposureWriter::Impl {};
Hdf5ExposureWriter::Hdf5ExposureWriter(const std::string& path, bool) { no_hdf5(path); }
Hdf5ExposureWriter::~Hdf5ExposureWriter() = default;
std::string Hdf5ExposureWriter::add(const Frame&, const std::optional<RawTable>&, bool, const std::string&,
                                    const std::string&) {
  no_hdf5("HDF5");
}
int Hdf5ExposureWriter::frames() const { return 0; }
const std::string& Hdf5ExposureWriter::path() const { no_hdf5("HDF5"); }
void Hdf5ExposureWriter::commit() { no_hdf5("HDF5"); }
#endif

}  // namespace perfex::io
