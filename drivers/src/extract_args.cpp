// perfex extract's arguments: the checks that need no file (usage errors, exit 2), shared with
// extract-exposure.
#include <fmt/core.h>

#include <cmath>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/frame_request.hpp"
#include "perfex/drivers/command_files.hpp"
#include "perfex/drivers/extract_command.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/frame_format.hpp"

namespace perfex::drivers {

namespace {

double parse_number(const std::string& text, const std::string& option, const std::string& whole) {
  std::string t = text;
  t.erase(0, t.find_first_not_of(" \t"));
  t.erase(t.find_last_not_of(" \t") + 1);
  try {
    std::size_t used = 0;
    const double v = std::stod(t, &used);
    if (used == t.size() && !t.empty()) return v;
  } catch (const std::exception&) {
  }
  throw_usage_error(option + " '" + whole + "': expected three numbers wmin,wmax,dw (e.g. 5760,7620,0.8)");
}

}  // namespace

WavelengthOption parse_wavelength_option(const std::string& value) {
  const std::string option = "-w/--wavelength";
  std::vector<std::string> parts;
  std::stringstream ss(value);
  for (std::string item; std::getline(ss, item, ',');) parts.push_back(item);
  if (parts.size() != 3 || value.back() == ',')
    throw_usage_error(option + " '" + value + "': expected three numbers wmin,wmax,dw (e.g. 5760,7620,0.8)");
  const double wmin = parse_number(parts[0], option, value);
  const double wmax = parse_number(parts[1], option, value);
  const double dw = parse_number(parts[2], option, value);
  if (!(std::isfinite(wmin) && std::isfinite(wmax) && std::isfinite(dw)) || !(wmin > 0))
    throw_usage_error(option + " '" + value + "': wmin, wmax and dw must be finite and wmin positive");
  if (!(dw > 0)) throw_usage_error(option + " '" + value + "': the step dw must be positive");
  if (wmax < wmin) throw_usage_error(option + " '" + value + "': wmax is below wmin (the grid would be empty)");
  WavelengthOption w{wmin, wmax, dw, linear_wavelengths(wmin, wmax, dw)};
  if (w.grid.size() < 2)
    throw_usage_error(option + " '" + value + "': the grid has " + std::to_string(w.grid.size()) +
                      " bin; extraction needs at least 2");
  // A step below the resolution of doubles at wmin would give a grid that is not linear (or not increasing).
  if (!(std::fabs((w.grid[1] - w.grid[0]) - dw) <= 1e-6 * dw))
    throw_usage_error(option + " '" + value + "': the step dw is too small for wmin (the grid would not be linear)");
  return w;
}

void check_extract_args(const ExtractArgs& a) {
  if (a.decorrelate_fibers)
    throw_usage_error(
        "--decorrelate-fibers is not supported: decorrelating neighbouring fibers biases the fluxes and DESI advises "
        "against it; perfex decorrelates each fiber's wavelengths only, as gpu_specter does");
  if (a.input.empty()) throw_usage_error("-i/--input is required");
  if (a.psf.empty()) throw_usage_error("-p/--psf is required");
  if (!a.wavelength.empty()) parse_wavelength_option(a.wavelength);
  ExtractionOptions o = a.options;
  if (a.psferr) o.psferr = *a.psferr;
  o.validate();
  check_fiber_options(a.specmin, a.nspec, o.bundlesize);
  if (a.barycentric && a.heliocor) throw_usage_error("--barycentric-correction and --heliocor are exclusive: give one");
  if (a.heliocor && !(std::isfinite(*a.heliocor) && *a.heliocor > 0.9 && *a.heliocor < 1.1))
    throw_usage_error(fmt::format("--heliocor {} must be a factor close to 1 (1 + v/c)", *a.heliocor));
  if (a.bundles_per_chunk < 0) throw_usage_error("--bundles-per-chunk must be >= 0");
  if (!a.no_output) {
    io::output_frame_format(a.output, a.format, "-o/--output");  // --format, and HDF5 in this build
    io::check_output_path(a.output, a.overwrite, "-o/--output");
  }
  if (!a.model.empty()) {
    if (a.model == a.output) throw_usage_error("-m/--model and -o/--output name the same file");
    io::check_output_path(a.model, a.overwrite, "-m/--model");
  }
  check_extract_files(a);  // no output is an input or the other output (links included)
}

}  // namespace perfex::drivers
