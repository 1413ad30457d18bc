// The GPU check's parity tool (scripts/gpu-check.sh): the frame pipeline as `perfex extract` runs it
// (perf/frame_call.hpp), on one build (the GPU's) against reference outputs written by another (a CPU's).
//
//   perfex_frame_parity reference FILE [--smoke]
//     simulates the synthetic DESI r frame (perf/synthetic_frame.hpp), cuts out the pixels that fibers
//     250..299 on 6000..6799.2 A reach (--smoke: fibers 250..274 on 100 bins) as float32 IMAGE and IVAR, as
//     a preproc file holds them, extracts them (with the model image) from the cutout placed on an
//     otherwise masked CCD, and writes input and outputs to FILE.
//   perfex_frame_parity check FILE [--json OUT.json] [--tolerance T]
//     extracts the same input on this build's execution space and compares every output with FILE's:
//     |this - reference| <= T max(|reference|, 1e-3 max|reference over the array|) for FLUX, IVAR,
//     RESOLUTION, CHI2PIX, PIXMASK_FRACTION and the model image (T = 1e-8 by default; the floor keeps bins
//     near zero, where only absolute agreement means anything, from dominating), the same specmask bits,
//     and ivar = 0 on the same bins. Also counts the frame's deep copies by direction (Kokkos Tools).
// Exit codes: 0 agreement, 1 a difference or an unusable FILE, 2 usage.
#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "copy_count.hpp"
#include "frame_call.hpp"
#include "perfex/backends/device.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/core/version.hpp"
#include "synthetic_frame.hpp"

namespace {

using perfex::HostView;
using perfex::ResultView;

perfex::bench::Copies g_copies;  // of the last extract()

constexpr const char* k_magic = "PERFEX-FRAME-PARITY 1";

// What the reference holds: the settings, the input cutout and the outputs.
struct Reference {
  std::map<std::string, std::string> meta;
  int specmin = 0, nspec = 0, y0 = 0, x0 = 0, ny = 0, nx = 0;
  std::vector<double> grid;
  std::vector<float> image, ivar;                     // [ny][nx] of the cutout
  std::map<std::string, std::vector<double>> arrays;  // flux, ivar, resolution, chi2pix, pixmask_fraction, model
  std::vector<std::uint32_t> mask;
};

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error(message); }

// FNV-1a over the PSF's numbers, so that a check finds out when its synthetic PSF is not the reference's.
std::uint64_t psf_checksum(const perfex::GaussHermitePsf& psf) {
  std::uint64_t h = 1469598103934665603ULL;
  auto add = [&h](const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ULL;
  };
  auto series = [&](const perfex::LegendreSeries& s) {
    add(&s.wavemin, sizeof s.wavemin);
    add(&s.wavemax, sizeof s.wavemax);
    add(s.coeff.data(), s.coeff.size() * sizeof(double));
  };
  const int dims[] = {psf.nfiber, psf.npix_x, psf.npix_y, psf.hsizex, psf.hsizey, psf.ghdegx, psf.ghdegy};
  add(dims, sizeof dims);
  series(psf.xtrace);
  series(psf.ytrace);
  for (const auto& p : psf.params) series(p.series);
  return h;
}

template <class T>
void write_section(std::ostream& out, const std::string& name, const std::vector<T>& v) {
  out << name << ' ' << v.size() << '\n';
  out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  out << '\n';
}

template <class T>
std::vector<T> read_section(std::istream& in, const std::string& name, const std::string& path) {
  std::string line;
  if (!std::getline(in, line)) fail(path + ": truncated before section " + name);
  std::istringstream header(line);
  std::string found;
  std::size_t n = 0;
  if (!(header >> found >> n) || found != name) fail(path + ": expected section " + name + ", found '" + line + "'");
  std::vector<T> v(n);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(T)));
  if (!in || in.get() != '\n') fail(path + ": section " + name + " is truncated");
  return v;
}

template <class View>
std::vector<double> flatten(const View& v) {
  std::vector<double> out(v.data(), v.data() + v.span());
  return out;
}

// The pixel box every spot of fibers [specmin, specmin + nspec) on the padded grid touches, with a margin,
// inside the CCD: [y0, y0 + ny) x [x0, x0 + nx).
void cutout_box(const perfex::GaussHermitePsf& psf, const std::vector<double>& grid, int specmin, int nspec,
                Reference& ref) {
  const auto padded = perfex::padded_wavelengths(grid, perfex::bench::cli_extraction_options(psf));
  const auto spots = perfex::evaluate_spots(perfex::ExecSpace(), psf, specmin, nspec, padded);
  const auto xc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.xcorner);
  const auto yc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.ycorner);
  int ymin = psf.npix_y, ymax = 0, xmin = psf.npix_x, xmax = 0;
  for (std::size_t i = 0; i < xc.span(); ++i) {
    ymin = std::min(ymin, yc.data()[i]);
    ymax = std::max(ymax, yc.data()[i] + spots.stamp_ny);
    xmin = std::min(xmin, xc.data()[i]);
    xmax = std::max(xmax, xc.data()[i] + spots.stamp_nx);
  }
  const int margin = 4;
  ref.y0 = std::max(0, ymin - margin);
  ref.x0 = std::max(0, xmin - margin);
  ref.ny = std::min(psf.npix_y, ymax + margin) - ref.y0;
  ref.nx = std::min(psf.npix_x, xmax + margin) - ref.x0;
}

// The whole CCD with the cutout placed at (y0, x0); pixels outside it are masked (ivar 0).
void place_cutout(const Reference& ref, int npix_y, int npix_x, HostView<double**>& image, HostView<double**>& ivar) {
  image = HostView<double**>("perfex::parity::image", npix_y, npix_x);
  ivar = HostView<double**>("perfex::parity::ivar", npix_y, npix_x);
  for (int y = 0; y < ref.ny; ++y)
    for (int x = 0; x < ref.nx; ++x) {
      image(ref.y0 + y, ref.x0 + x) = ref.image[static_cast<std::size_t>(y) * ref.nx + x];
      ivar(ref.y0 + y, ref.x0 + x) = ref.ivar[static_cast<std::size_t>(y) * ref.nx + x];
    }
}

// The frame of `ref`'s input, extracted as the CLI does, with the model image; counts its deep copies.
perfex::bench::CliFrame extract(const Reference& ref, const perfex::GaussHermitePsf& psf) {
  HostView<double**> image, ivar;
  place_cutout(ref, psf.npix_y, psf.npix_x, image, ivar);
  const auto options = perfex::bench::cli_extraction_options(psf);
  perfex::bench::CopyCount count;
  auto frame = perfex::bench::extract_frame_as_cli(perfex::ExecSpace(), image, ivar, psf, ref.grid, ref.specmin,
                                                   ref.nspec, options, true);
  Kokkos::fence();
  g_copies = count.copies();
  return frame;
}

std::vector<double> model_in_cutout(const Reference& ref, const ResultView<double**>& model) {
  std::vector<double> out(static_cast<std::size_t>(ref.ny) * ref.nx);
  for (int y = 0; y < ref.ny; ++y)
    for (int x = 0; x < ref.nx; ++x) out[static_cast<std::size_t>(y) * ref.nx + x] = model(ref.y0 + y, ref.x0 + x);
  return out;
}

std::map<std::string, std::vector<double>> outputs_of(const Reference& ref, const perfex::bench::CliFrame& f) {
  return {{"flux", flatten(f.result.flux)},
          {"ivar", flatten(f.result.ivar)},
          {"resolution", flatten(f.result.resolution)},
          {"chi2pix", flatten(f.result.chi2pix)},
          {"pixmask_fraction", flatten(f.result.pixmask_fraction)},
          {"model", model_in_cutout(ref, f.model)}};
}
const char* const k_arrays[] = {"flux", "ivar", "resolution", "chi2pix", "pixmask_fraction", "model"};

int write_reference(const std::string& path, bool smoke) {
  Reference ref;
  ref.specmin = 250;
  ref.nspec = smoke ? 25 : 50;
  const double wmin = 6000.0, wmax = wmin + 0.8 * (smoke ? 99 : 999);
  // Light in the fibers around the extracted ones too (their spots reach the cutout's edges).
  const auto sim = perfex::bench::simulate_r_frame(perfex::ExecSpace(), ref.specmin - 25, ref.nspec + 50, wmin, wmax,
                                                   smoke ? 200 : 3000);
  ref.grid = sim.grid;
  cutout_box(sim.psf, ref.grid, ref.specmin, ref.nspec, ref);
  ref.image.resize(static_cast<std::size_t>(ref.ny) * ref.nx);
  ref.ivar.resize(ref.image.size());
  for (int y = 0; y < ref.ny; ++y)
    for (int x = 0; x < ref.nx; ++x) {
      // float32, as a preproc file stores them: both builds then read exactly the same input.
      ref.image[static_cast<std::size_t>(y) * ref.nx + x] = static_cast<float>(sim.image(ref.y0 + y, ref.x0 + x));
      ref.ivar[static_cast<std::size_t>(y) * ref.nx + x] = static_cast<float>(sim.ivar(ref.y0 + y, ref.x0 + x));
    }
  // Bad pixels on the traces whatever the cosmic rays hit: a 3 x 3 cluster in the middle of the cutout and
  // a column segment of 40 pixels a quarter across, so that pixmask_fraction and the specmask have work.
  auto mask_pixel = [&ref](int y, int x) { ref.ivar[static_cast<std::size_t>(y) * ref.nx + x] = 0.0f; };
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx) mask_pixel(ref.ny / 2 + dy, ref.nx / 2 + dx);
  for (int y = ref.ny / 3; y < std::min(ref.ny, ref.ny / 3 + 40); ++y) mask_pixel(y, ref.nx / 4);
  const auto frame = extract(ref, sim.psf);

  std::ofstream out(path, std::ios::binary);
  if (!out) fail(path + ": cannot be written");
  out << k_magic << '\n';
  char checksum[32];
  std::snprintf(checksum, sizeof checksum, "%016llx", static_cast<unsigned long long>(psf_checksum(sim.psf)));
  out << "perfex " << PERFEX_VERSION_STRING << '\n'
      << "execution_space " << perfex::ExecSpace::name() << '\n'
      << "psf synthetic r0 seed 1 checksum " << checksum << '\n'
      << "fibers " << ref.specmin << ' ' << ref.nspec << '\n'
      << "cutout " << ref.y0 << ' ' << ref.x0 << ' ' << ref.ny << ' ' << ref.nx << '\n'
      << "extract_s " << frame.extract_s << '\n'
      << "END\n";
  write_section(out, "grid", ref.grid);
  write_section(out, "image", ref.image);
  write_section(out, "ivar_in", ref.ivar);
  for (const auto& [name, values] : outputs_of(ref, frame)) write_section(out, name, values);
  std::vector<std::uint32_t> mask(frame.mask.data(), frame.mask.data() + frame.mask.span());
  write_section(out, "mask", mask);
  out.close();
  if (!out) fail(path + ": writing failed");
  std::printf(
      "wrote %s: fibers %d..%d, %zu bins %.1f..%.1f A, cutout %d x %d pixels at (%d, %d), extracted on %s "
      "in %.2f s\n",
      path.c_str(), ref.specmin, ref.specmin + ref.nspec - 1, ref.grid.size(), ref.grid.front(), ref.grid.back(),
      ref.ny, ref.nx, ref.y0, ref.x0, perfex::ExecSpace::name(), frame.extract_s);
  return 0;
}

Reference read_reference(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path + ": cannot be read (write it with `perfex_frame_parity reference " + path + "`)");
  Reference ref;
  std::string line;
  if (!std::getline(in, line) || line != k_magic) fail(path + ": not a frame parity reference (no '" + k_magic + "')");
  while (std::getline(in, line) && line != "END") {
    const auto space = line.find(' ');
    ref.meta[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
  }
  if (line != "END") fail(path + ": truncated header");
  if (std::sscanf(ref.meta["fibers"].c_str(), "%d %d", &ref.specmin, &ref.nspec) != 2 ||
      std::sscanf(ref.meta["cutout"].c_str(), "%d %d %d %d", &ref.y0, &ref.x0, &ref.ny, &ref.nx) != 4 ||
      ref.nspec < 1 || ref.ny < 1 || ref.nx < 1)
    fail(path + ": header lines 'fibers' and 'cutout' missing or malformed");
  ref.grid = read_section<double>(in, "grid", path);
  ref.image = read_section<float>(in, "image", path);
  ref.ivar = read_section<float>(in, "ivar_in", path);
  if (ref.image.size() != static_cast<std::size_t>(ref.ny) * ref.nx || ref.ivar.size() != ref.image.size())
    fail(path + ": the input cutout does not have the header's shape");
  for (const auto& name : {"chi2pix", "flux", "ivar", "model", "pixmask_fraction", "resolution"})
    ref.arrays[name] = read_section<double>(in, name, path);
  ref.mask = read_section<std::uint32_t>(in, "mask", path);
  return ref;
}

struct Difference {
  double max_rel = 0.0, max_abs = 0.0;
  std::size_t at = 0;  // flat index of max_rel
};

Difference compare(const std::vector<double>& got, const std::vector<double>& want) {
  double scale = 0.0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  const double floor = 1e-3 * scale;
  Difference d;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double diff = std::fabs(got[i] - want[i]);
    const double denom = std::max(std::fabs(want[i]), floor);
    const double rel = diff == 0.0 ? 0.0 : (denom > 0.0 ? diff / denom : INFINITY);
    if (!(rel <= d.max_rel)) {  // also catches NaN
      d.max_rel = std::isnan(rel) ? INFINITY : rel;
      d.at = i;
    }
    d.max_abs = std::max(d.max_abs, diff);
  }
  return d;
}

// "(fiber F, bin W)" or "(pixel y, x)" for a flat index of an array.
std::string where(const std::string& name, std::size_t i, const Reference& ref, int ndiags) {
  const std::size_t nwave = ref.grid.size();
  char buf[96];
  if (name == "model")
    std::snprintf(buf, sizeof buf, "pixel (%zu, %zu)", ref.y0 + i / ref.nx, ref.x0 + i % ref.nx);
  else if (name == "resolution")
    std::snprintf(buf, sizeof buf, "fiber %zu, diagonal %zu, bin %zu", ref.specmin + i / (ndiags * nwave),
                  (i / nwave) % ndiags, i % nwave);
  else
    std::snprintf(buf, sizeof buf, "fiber %zu, bin %zu", ref.specmin + i / nwave, i % nwave);
  return buf;
}

int check(const std::string& path, const std::string& json_path, double tolerance, const std::string& perturb) {
  Reference ref = read_reference(path);
  const auto psf = perfex::make_synthetic_psf({"r0", 1, false});
  char checksum[32];
  std::snprintf(checksum, sizeof checksum, "%016llx", static_cast<unsigned long long>(psf_checksum(psf)));
  if (ref.meta["psf"] != std::string("synthetic r0 seed 1 checksum ") + checksum)
    fail(path + ": made with another synthetic PSF ('" + ref.meta["psf"] + "'; this build's checksum is " + checksum +
         "): regenerate the reference with this version");
  // The tool's own test (--perturb A,B,...): the largest value of each array named changed by 1e-6.
  std::istringstream names(perturb);
  for (std::string name; std::getline(names, name, ',');) {
    auto it = ref.arrays.find(name);
    if (it == ref.arrays.end()) fail("--perturb: no array '" + name + "'");
    auto& v = it->second;
    const auto big =
        std::max_element(v.begin(), v.end(), [](double a, double b) { return std::fabs(a) < std::fabs(b); });
    *big = *big == 0.0 ? 1e-6 : *big * (1.0 + 1e-6);
  }
  const auto frame = extract(ref, psf);
  const auto got = outputs_of(ref, frame);
  const int ndiags = 2 * frame.result.ndiag + 1;

  bool ok = true;
  std::ostringstream json;
  json << "{\n  \"reference\": \"" << path << "\",\n  \"reference_execution_space\": \"" << ref.meta["execution_space"]
       << "\",\n  \"execution_space\": \"" << perfex::ExecSpace::name()
       << "\",\n  \"concurrency\": " << perfex::ExecSpace().concurrency() << ",\n  \"fibers\": [" << ref.specmin << ", "
       << ref.specmin + ref.nspec - 1 << "],\n  \"bins\": " << ref.grid.size() << ",\n  \"tolerance\": " << tolerance
       << ",\n  \"extract_s\": " << frame.extract_s << ",\n  \"reference_extract_s\": " << ref.meta["extract_s"]
       << ",\n  \"deep_copies\": "
       << "{\"device_to_host\": " << g_copies.to_host << ", \"device_to_host_MB\": " << g_copies.bytes_to_host / 1e6
       << ", \"host_to_device\": " << g_copies.to_device
       << ", \"host_to_device_MB\": " << g_copies.bytes_to_device / 1e6 << ", \"within_a_space\": " << g_copies.within
       << "},\n  \"arrays\": {";
  std::printf("frame parity: %s vs the reference of %s (%s): fibers %d..%d, %zu bins, tolerance %.1e relative\n",
              perfex::ExecSpace::name(), ref.meta["execution_space"].c_str(), path.c_str(), ref.specmin,
              ref.specmin + ref.nspec - 1, ref.grid.size(), tolerance);
  std::printf("  %-17s %12s %12s  %s\n", "array", "max rel", "max abs", "where (max rel)");
  const char* sep = "\n";
  for (const char* name : k_arrays) {
    const auto& want = ref.arrays.at(name);
    const auto& have = got.at(name);
    if (have.size() != want.size())
      fail(path + ": array " + name + " has " + std::to_string(want.size()) + " values, this build's " +
           std::to_string(have.size()));
    const Difference d = compare(have, want);
    const bool pass = d.max_rel <= tolerance;
    ok = ok && pass;
    const std::string at = d.max_rel > 0 ? where(name, d.at, ref, ndiags) : "-";
    std::printf("  %-17s %12.3e %12.3e  %s%s\n", name, d.max_rel, d.max_abs, at.c_str(), pass ? "" : "  OUTSIDE");
    json << sep << "    \"" << name << "\": {\"max_rel\": " << (std::isfinite(d.max_rel) ? d.max_rel : 1e308)
         << ", \"max_abs\": " << d.max_abs << ", \"where\": \"" << at << "\", \"within\": " << (pass ? "true" : "false")
         << "}";
    sep = ",\n";
  }
  // Bins masked (ivar 0) and specmask bits must agree exactly.
  long zero_mismatch = 0, mask_mismatch = 0;
  const auto& want_ivar = ref.arrays.at("ivar");
  const auto& have_ivar = got.at("ivar");
  for (std::size_t i = 0; i < want_ivar.size(); ++i) zero_mismatch += (want_ivar[i] == 0.0) != (have_ivar[i] == 0.0);
  for (std::size_t i = 0; i < ref.mask.size(); ++i) mask_mismatch += ref.mask[i] != frame.mask.data()[i];
  ok = ok && zero_mismatch == 0 && mask_mismatch == 0;
  std::printf("  bins with ivar 0 in one frame only: %ld; bins with other specmask bits: %ld\n", zero_mismatch,
              mask_mismatch);
  std::printf(
      "  deep copies of the frame: %ld device->host (%.1f MB), %ld host->device (%.1f MB), %ld within a space\n",
      g_copies.to_host, g_copies.bytes_to_host / 1e6, g_copies.to_device, g_copies.bytes_to_device / 1e6,
      g_copies.within);
  std::printf("frame parity: %s (extraction %.2f s here, %s s on the reference's %s)\n", ok ? "AGREE" : "DIFFER",
              frame.extract_s, ref.meta["extract_s"].c_str(), ref.meta["execution_space"].c_str());
  json << "\n  },\n  \"ivar_zero_mismatches\": " << zero_mismatch << ",\n  \"specmask_mismatches\": " << mask_mismatch
       << ",\n  \"agree\": " << (ok ? "true" : "false") << "\n}\n";
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << json.str();
    if (!out) fail(json_path + ": cannot be written");
  }
  return ok ? 0 : 1;
}

int usage(const char* message) {
  std::fprintf(stderr,
               "perfex_frame_parity: %s\nusage: perfex_frame_parity reference FILE [--smoke]\n"
               "       perfex_frame_parity check FILE [--json OUT.json] [--tolerance T]\n",
               message);
  return 2;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 3) return usage("a command (reference or check) and a FILE are needed");
  const std::string command = argv[1], path = argv[2];
  bool smoke = false;
  std::string json, perturb;
  double tolerance = 1e-8;
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--smoke" && command == "reference") {
      smoke = true;
    } else if (a == "--json" && command == "check" && i + 1 < argc) {
      json = argv[++i];
    } else if (a == "--tolerance" && command == "check" && i + 1 < argc) {
      char* end = nullptr;
      tolerance = std::strtod(argv[++i], &end);
      if (*end != '\0' || !(tolerance > 0)) return usage("--tolerance needs a positive number");
    } else if (a == "--perturb" && command == "check" && i + 1 < argc) {
      perturb = argv[++i];
    } else if (a.rfind("--kokkos", 0) != 0) {
      return usage(("unknown argument '" + a + "'").c_str());
    }
  }
  if (command != "reference" && command != "check") return usage(("unknown command '" + command + "'").c_str());
  if (const std::string missing = perfex::backends::missing_device(); !missing.empty()) {
    std::fprintf(stderr, "perfex_frame_parity: %s\n", missing.c_str());
    return 1;
  }
  perfex::backends::record_openmp_binding();
  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    return command == "reference" ? write_reference(path, smoke) : check(path, json, tolerance, perturb);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "perfex_frame_parity: %s\n", e.what());
    return 1;
  }
}
