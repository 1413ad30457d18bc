// `perfex convert IN OUT`: a frame file from FITS to HDF5 or back (or to the same format), keeping every
// array and keyword: the float32 arrays, the float64 ones when present, the FIBERMAP rows byte for byte.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "perfex/core/error.hpp"
#include "perfex/drivers/cli.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/file_checks.hpp"
#include "perfex/io/frame_format.hpp"
#include "perfex/io/frame_hdf5.hpp"
#include "perfex/io/frame_io.hpp"

namespace perfex::drivers {

namespace {

struct ConvertArgs {
  std::string input;
  std::string output;
  std::string format;  // of the output: fits, hdf5, or "" (by OUT's extension)
  std::string group;   // HDF5 input: the frame group of an exposure file
  bool overwrite = false;
};

void check_convert_args(const ConvertArgs& a) {
  if (a.input.empty()) throw_usage_error("IN: a frame file is required");
  io::output_frame_format(a.output, a.format, "OUT");
  io::check_output_path(a.output, a.overwrite, "OUT");
  io::check_distinct_files({{"IN", a.input}}, {{"OUT", a.output}});
}

bool same_float(double a, float b) {
  const float x = static_cast<float>(a);
  return std::memcmp(&x, &b, sizeof(float)) == 0 || (x != x && b != b);
}

// A FITS frame with float64 HDUs: its float32 HDUs must be those values in float32, as perfex writes them
// (the converted file stores the float32 arrays from the float64 ones).
template <class View>
void check_float32_of_float64(const View& exact, const View& f32, const std::string& path, const char* hdu) {
  const auto* a = exact.data();
  const auto* b = f32.data();
  for (std::size_t k = 0; k < exact.size(); ++k)
    if (!same_float(a[k], static_cast<float>(b[k])))
      throw_data_error(
          fmt::format("{}[{}]: value {} is not {}64's value {} in float32: the file cannot be converted "
                      "exactly",
                      path, hdu, k, hdu, a[k]));
}

int run_convert(const ConvertArgs& a) {
  const io::FrameFormat in_format = io::input_frame_format(a.input);
  const io::FrameFormat out_format = io::output_frame_format(a.output, a.format, "OUT");
  io::Frame frame;
  std::optional<io::RawTable> fibermap;
  auto read = [&](bool prefer_float64, std::optional<io::RawTable>* table) {
    if (in_format == io::FrameFormat::Hdf5) return io::read_frame_hdf5(a.input, a.group, prefer_float64, table);
    return io::read_frame(a.input, prefer_float64);
  };
  if (in_format == io::FrameFormat::Hdf5)
    io::require_hdf5("IN " + a.input);
  else if (!a.group.empty())
    throw_usage_error("--group applies to HDF5 inputs; " + a.input + " is FITS");
  frame = read(true, &fibermap);
  if (frame.exact) {  // the float32 arrays are written from the float64 ones: they must agree
    const io::Frame f32 = read(false, nullptr);
    check_float32_of_float64(frame.data.flux, f32.data.flux, a.input, "FLUX");
    check_float32_of_float64(frame.data.ivar, f32.data.ivar, a.input, "IVAR");
    check_float32_of_float64(frame.data.chi2pix, f32.data.chi2pix, a.input, "CHI2PIX");
    check_float32_of_float64(frame.data.resolution, f32.data.resolution, a.input, "RESOLUTION");
  }
  if (in_format == io::FrameFormat::Fits && frame.fibermap_rows >= 0) {
    io::FibermapSource source;
    source.path = a.input;
    fibermap = io::fibermap_rows(source, frame.fibermap_rows);
  }
  if (fibermap && fibermap->nrows != frame.data.nspec)
    throw_data_error(fmt::format("{}: the FIBERMAP has {} rows for {} spectra; perfex frames have one row per spectrum",
                                 a.input, fibermap->nrows, frame.data.nspec));
  if (frame.exact && !frame.has_pixmask_fraction)
    throw_data_error(a.input + ": has FLUX64 but no PIXMASK_FRACTION (perfex writes both)");

  io::Fibermap table;
  io::FibermapSource source;
  if (fibermap) {
    table = io::fibermap_from_table(*fibermap);
    source.table = &table;
  }
  io::FrameWriteOptions options;
  options.overwrite = a.overwrite;
  options.float64 = frame.exact;
  if (out_format == io::FrameFormat::Hdf5)
    io::write_frame_hdf5(a.output, frame, source, options);
  else
    io::write_frame(a.output, frame, source, options);
  fmt::print("converted {} ({}) to {} ({}): {} fibers x {} bins{}{}\n", a.input, io::format_name(in_format), a.output,
             io::format_name(out_format), frame.data.nspec, frame.data.nwave, frame.exact ? ", float64 arrays" : "",
             fibermap ? ", FIBERMAP" : "");
  return 0;
}

}  // namespace

void add_convert_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<ConvertArgs>();
  auto* cmd =
      app.add_subcommand("convert", "Convert a frame file between FITS and HDF5 (every array and keyword kept)");
  cmd->add_option("IN", args->input, "input frame (FITS or HDF5, recognised by its content)")->required();
  cmd->add_option("OUT", args->output,
                  "output frame (HDF5 for a .h5 or .hdf5 name, else FITS, gzip-compressed for a .gz name)")
      ->required();
  cmd->add_option("--format", args->format, "output format: fits or hdf5 (default: by OUT's extension)");
  cmd->add_option("--group", args->group, "HDF5 input: the frame group of an exposure file (e.g. r0)");
  cmd->add_flag("--overwrite", args->overwrite, "replace an existing OUT");
  cmd->callback([&action, args] {
    check_convert_args(*args);  // usage errors before any file is read
    action = [args] { return run_convert(*args); };
  });
}

}  // namespace perfex::drivers
