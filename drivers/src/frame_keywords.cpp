// Extraction keywords of frame files and their differences (perfex compare).
#include "perfex/drivers/frame_keywords.hpp"

#include <fmt/core.h>

#include <cmath>

#include "perfex/io/fits_file.hpp"
#include "perfex/io/frame_format.hpp"

namespace perfex::drivers {

namespace {

enum class Kind { Text, Number, Logical };
struct Spec {
  const char* name;
  Kind kind;
};
const Spec k_keywords[] = {{"CAMERA", Kind::Text},     {"HELIOCOR", Kind::Number},  {"PSFERR", Kind::Number},
                           {"WAVEMIN", Kind::Number},  {"WAVEMAX", Kind::Number},   {"WAVESTEP", Kind::Number},
                           {"BUNDLESZ", Kind::Number}, {"NSUBBUN", Kind::Number},   {"NWAVSTEP", Kind::Number},
                           {"WAVEPADF", Kind::Number}, {"PIXPADF", Kind::Number},   {"REGULARI", Kind::Number},
                           {"NDIAG", Kind::Number},    {"PSFTAILS", Kind::Logical}, {"IN_PSF", Kind::Text},
                           {"IN_IMG", Kind::Text},     {"PERFEXV", Kind::Text}};

FrameKeyword number(const char* name, double v) { return {name, fmt::format("{}", v), v}; }
FrameKeyword text(const char* name, const std::string& v) { return {name, v, std::nullopt}; }

// HDF5 frames are perfex's: every keyword is in the header read back.
std::vector<FrameKeyword> from_header(const io::FrameHeader& h) {
  const ExtractionOptions& o = h.options;
  return {text("CAMERA", h.camera),         number("HELIOCOR", h.heliocor),
          number("PSFERR", o.psferr),       number("WAVEMIN", h.wavemin),
          number("WAVEMAX", h.wavemax),     number("WAVESTEP", h.wavestep),
          number("BUNDLESZ", o.bundlesize), number("NSUBBUN", o.nsubbundles),
          number("NWAVSTEP", o.nwavestep),  number("WAVEPADF", o.wavepad_frac),
          number("PIXPADF", o.pixpad_frac), number("REGULARI", o.regularize),
          number("NDIAG", o.ndiag),         text("PSFTAILS", h.psf_tails ? "T" : "F"),
          text("IN_PSF", h.in_psf),         text("IN_IMG", h.in_img),
          text("PERFEXV", h.version)};
}

}  // namespace

std::vector<FrameKeyword> extraction_keywords(const std::string& path, const io::Frame& frame) {
  if (io::input_frame_format(path) == io::FrameFormat::Hdf5) return from_header(frame.header);
  io::FitsFile f(path, io::FitsFile::Mode::Read);
  f.move_to_index(0);  // FLUX, the primary HDU
  std::vector<FrameKeyword> out;
  for (const Spec& s : k_keywords) {
    FrameKeyword k{s.name, std::nullopt, std::nullopt};
    if (s.kind == Kind::Number) {
      k.number = f.read_key_double(s.name);
      if (k.number) k.text = fmt::format("{}", *k.number);
    } else {
      k.text = f.read_key_string(s.name);
    }
    out.push_back(k);
  }
  return out;
}

KeywordComparison compare_keywords(const std::vector<FrameKeyword>& a, const std::vector<FrameKeyword>& b) {
  KeywordComparison c;
  for (const FrameKeyword& ka : a)
    for (const FrameKeyword& kb : b) {
      if (ka.name != kb.name) continue;
      const bool heliocor = ka.name == "HELIOCOR";  // absent: no correction, HELIOCOR 1
      const bool has_a = ka.text.has_value() || heliocor, has_b = kb.text.has_value() || heliocor;
      if (!has_a || !has_b) {
        if (has_a) c.only_a.push_back(ka.name);
        if (has_b) c.only_b.push_back(kb.name);
        continue;
      }
      ++c.compared;
      if (ka.number || kb.number || heliocor) {
        const double va = ka.number.value_or(1.0), vb = kb.number.value_or(1.0);
        if (va == vb) continue;
        KeywordDifference d{ka.name, ka.text.value_or("1 (absent)"), kb.text.value_or("1 (absent)"), ""};
        if (heliocor) d.note = fmt::format("(A - B) c = {:+.3f} m/s", (va - vb) * 299792458.0);
        c.differ.push_back(d);
      } else if (*ka.text != *kb.text) {
        c.differ.push_back({ka.name, *ka.text, *kb.text, ""});
      }
    }
  return c;
}

}  // namespace perfex::drivers
