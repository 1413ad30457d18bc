// The copies a frame makes, counted through Kokkos Tools' deep-copy callback (Kokkos 3.4's
// Kokkos::Tools::Experimental::set_begin_deep_copy_callback): each finished array reaches the host in
// exactly one copy, no chunk's results travel on their own, and the only other copies are the small
// per-chunk tables of the spots, the plan and the patch statuses. On host backends the finished arrays
// are the device arrays themselves: the copy is a deep_copy between equal pointers, which Kokkos still
// announces, so the same count holds on every backend.
#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "perfex/core/extract_frame.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/simulate.hpp"
#include "perfex/core/synthetic_psf.hpp"

namespace {

struct Copy {
  std::string dst_space, dst_label, src_space, src_label;
  const void* dst = nullptr;
  const void* src = nullptr;
  std::uint64_t bytes = 0;
};

std::vector<Copy>* g_copies = nullptr;

void record_copy(Kokkos::Profiling::SpaceHandle dst_space, const char* dst_label, const void* dst,
                 Kokkos::Profiling::SpaceHandle src_space, const char* src_label, const void* src, uint64_t bytes) {
  if (g_copies) g_copies->push_back({dst_space.name, dst_label, src_space.name, src_label, dst, src, bytes});
}

// Records the deep copies made while it lives.
class CopyRecorder {
 public:
  CopyRecorder() {
    g_copies = &m_copies;
    Kokkos::Tools::Experimental::set_begin_deep_copy_callback(record_copy);
  }
  ~CopyRecorder() {
    Kokkos::Tools::Experimental::set_begin_deep_copy_callback(nullptr);
    g_copies = nullptr;
  }
  const std::vector<Copy>& copies() const { return m_copies; }

 private:
  std::vector<Copy> m_copies;
};

// Fills ("Scalar" or "(none)" as the source) and reads of a single value (the same as the destination)
// are not array copies.
bool is_array_copy(const Copy& c) {
  for (const char* scalar : {"Scalar", "(none)"})
    if (c.src_label == scalar || c.dst_label == scalar) return false;
  return true;
}

// The table a copy moves, by the label of its device side: a host mirror is labelled after its device view
// (with "_mirror" from create_mirror); an unmanaged host buffer has no label.
std::string table_of(const Copy& c) {
  std::string label = c.src_label.empty() ? c.dst_label : c.src_label;
  const std::string suffix = "_mirror";
  if (label.size() > suffix.size() && label.compare(label.size() - suffix.size(), suffix.size(), suffix) == 0)
    label.resize(label.size() - suffix.size());
  return label;
}

struct Case {
  perfex::GaussHermitePsf psf;
  std::vector<double> grid;
  perfex::ImageInput image;
};

Case make_case() {
  Case c;
  c.psf = perfex::make_synthetic_psf({"r0", 3, false});
  c.grid = perfex::linear_wavelengths(6000.0, 6000.0 + 0.8 * 179, 0.8);
  perfex::HostView<double**> photons("photons", 50, c.grid.size());
  Kokkos::deep_copy(photons, 300.0);
  perfex::SimulationOptions so;
  so.seed = 2;
  const auto sim = perfex::simulate_frame(perfex::ExecSpace(), c.psf, c.grid, photons, so);
  c.image.image = sim.image;
  c.image.weights = sim.ivar;
  c.image.ccd_ny = sim.npix_y;
  c.image.ccd_nx = sim.npix_x;
  return c;
}

// Checks the copies of one frame; `plans_made` when the pipeline made its plans during it.
void check_copies(const std::vector<Copy>& copies, const perfex::ExtractedFrame& f, int chunks, bool plans_made) {
  struct Array {
    const char* name;
    const void* data;
    std::uint64_t bytes;
  };
  const auto& r = f.result;
  const Array arrays[] = {{"flux", r.flux.data(), r.flux.span() * sizeof(double)},
                          {"ivar", r.ivar.data(), r.ivar.span() * sizeof(double)},
                          {"resolution", r.resolution.data(), r.resolution.span() * sizeof(double)},
                          {"chi2pix", r.chi2pix.data(), r.chi2pix.span() * sizeof(double)},
                          {"pixmask_fraction", r.pixmask_fraction.data(), r.pixmask_fraction.span() * sizeof(double)},
                          {"unsolved", r.unsolved.data(), r.unsolved.span() * sizeof(std::uint8_t)},
                          {"mask", f.mask.data(), f.mask.span() * sizeof(std::uint32_t)},
                          {"model", f.model.data(), f.model.span() * sizeof(double)}};
  std::map<std::string, int> to_result;  // copies into each finished array
  std::map<std::string, int> others;     // the other array copies, by table
  const std::string device = perfex::MemSpace::name(), result = perfex::ResultSpace::name();
  for (const Copy& c : copies) {
    if (!is_array_copy(c)) continue;
    bool finished = false;
    for (const Array& a : arrays)
      if (c.dst == a.data && c.dst_label == std::string("perfex::frame::") + a.name) {
        INFO("copy into " << a.name << ": " << c.src_label << " (" << c.src_space << ") -> " << c.dst_label << " ("
                          << c.dst_space << "), " << c.bytes << " bytes");
        CHECK(c.src_space == device);
        CHECK(c.dst_space == result);
        CHECK(c.bytes == a.bytes);
        CHECK(c.src_label == std::string("perfex::frame::") + a.name);
        ++to_result[a.name];
        finished = true;
      }
    if (finished) continue;
    // No other copy moves a frame's arrays, or part of them (a chunk's results on their own).
    for (const Array& a : arrays) {
      const std::string label = std::string("perfex::frame::") + a.name;
      INFO("copy " << c.src_label << " -> " << c.dst_label);
      CHECK(c.src_label != label);
      CHECK(c.dst_label != label);
    }
    ++others[table_of(c)];
  }
  for (const Array& a : arrays) {
    INFO(a.name);
    CHECK(to_result[a.name] == 1);
  }
  // The rest, at most one copy of each per chunk: the spot evaluation's inputs going to the device (its
  // grid, the PSF's coefficients...) and the patch statuses coming back; while the plans are made, each
  // chunk's patch table (to the device) and spot corners (to the host, on device backends). Never the spot
  // cache itself.
  const auto spot_input = [](const std::string& label) {
    if (label.rfind("perfex::spots::", 0) != 0) return false;
    for (const char* cache : {"spots", "xcorner", "ycorner", "xcenter", "ycenter"})
      if (label == std::string("perfex::spots::") + cache) return false;
    return true;
  };
  for (const auto& [label, n] : others) {
    INFO(label << ": " << n << " copies, " << chunks << " chunks, plans made: " << plans_made);
    if (spot_input(label) || label == "perfex::extract::status")
      CHECK(n <= chunks);
    else if (plans_made && (label == "perfex::frame::patches" || label == "perfex::spots::xcorner" ||
                            label == "perfex::spots::ycorner"))
      CHECK(n <= chunks);
    else if (plans_made && label.rfind("perfex::extract::pole_", 0) == 0)
      CHECK(n == 1);  // the decorrelation's constant pole table, into the workspace once
    else
      FAIL("unexpected copy from " << label);
  }
}

}  // namespace

TEST_CASE("One frame copies each finished array to the host once (Kokkos Tools deep-copy count)",
          "[core][pipeline][tools]") {
  const Case c = make_case();
  perfex::FrameOptions options;
  options.extraction.ndiag = c.psf.hsizey;
  options.bundles_per_chunk = 1;
  options.model_image = true;
  perfex::FrameExtractor pipeline(perfex::ExecSpace(), c.psf, c.grid, 0, 50, options);
  REQUIRE(pipeline.chunks() == 2);
  {
    CopyRecorder recorder;
    const auto first = pipeline.extract(c.image);  // the plans are made
    INFO("first frame: " << recorder.copies().size() << " deep copies");
    check_copies(recorder.copies(), first, pipeline.chunks(), true);
  }
  {
    CopyRecorder recorder;
    const auto second = pipeline.extract(c.image);  // plans and patch tables reused
    INFO("second frame: " << recorder.copies().size() << " deep copies");
    check_copies(recorder.copies(), second, pipeline.chunks(), false);
  }
}
