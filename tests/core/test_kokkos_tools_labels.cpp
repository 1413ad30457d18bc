// Kokkos Tools callbacks over core's entry points: every kernel perfex launches is named "perfex::..."
// and runs on perfex::ExecSpace, every allocation it makes is labelled "perfex::...", every profiling
// region is "perfex::...", so that a Kokkos Tools profile reads like the architecture (kernels Kokkos
// launches itself, such as view initialisation and fills, are named "Kokkos::...").
#include <catch2/catch_test_macros.hpp>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "perfex/core/builtin_spectra.hpp"
#include "perfex/core/detail/extract_phases.hpp"
#include "perfex/core/extract.hpp"
#include "perfex/core/extract_frame.hpp"
#include "perfex/core/frame_mask.hpp"
#include "perfex/core/patch_plan.hpp"
#include "perfex/core/simulate.hpp"
#include "perfex/core/spots.hpp"
#include "perfex/core/synthetic_psf.hpp"

namespace {

// What the callbacks saw while a Recording was alive.
struct Events {
  std::vector<std::pair<std::string, std::uint32_t>> kernels;  // name, device id
  std::vector<std::string> allocations;                        // label (memory space in brackets)
  std::vector<std::string> regions;
};
Events g_events;

void on_kernel(const char* name, std::uint32_t device_id, std::uint64_t* kernel_id) {
  g_events.kernels.emplace_back(name, device_id);
  *kernel_id = g_events.kernels.size();
}
void on_kernel_end(std::uint64_t) {}
void on_allocate(Kokkos_Profiling_SpaceHandle space, const char* label, const void*, std::uint64_t) {
  g_events.allocations.push_back(std::string(label) + " [" + space.name + "]");
}
void on_region(const char* name) { g_events.regions.emplace_back(name); }

// Installs the callbacks for its lifetime (Kokkos then treats a tool as loaded), restoring the previous set.
class Recording {
 public:
  Recording() : m_previous(Kokkos::Tools::Experimental::get_callbacks()) {
    Kokkos::fence();
    g_events = Events();
    namespace kt = Kokkos::Tools::Experimental;
    kt::set_begin_parallel_for_callback(on_kernel);
    kt::set_begin_parallel_reduce_callback(on_kernel);
    kt::set_begin_parallel_scan_callback(on_kernel);
    kt::set_end_parallel_for_callback(on_kernel_end);
    kt::set_end_parallel_reduce_callback(on_kernel_end);
    kt::set_end_parallel_scan_callback(on_kernel_end);
    kt::set_allocate_data_callback(on_allocate);
    kt::set_push_region_callback(on_region);
  }
  ~Recording() {
    Kokkos::fence();
    Kokkos::Tools::Experimental::set_callbacks(m_previous);
  }
  Recording(const Recording&) = delete;
  Recording& operator=(const Recording&) = delete;

 private:
  Kokkos::Tools::Experimental::EventSet m_previous;
};

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// The device type in a Kokkos Tools device id (its top 8 bits, in Kokkos 3 to 5).
std::uint32_t device_type(std::uint32_t device_id) { return device_id >> 24; }

// Every event that breaks the rules, one line each.
std::vector<std::string> violations(const Events& events) {
  const std::uint32_t exec_type = device_type(Kokkos::Tools::Experimental::device_id(perfex::ExecSpace()));
  std::set<std::string> found;
  for (const auto& [name, id] : events.kernels) {
    if (starts_with(name, "Kokkos::")) continue;  // Kokkos' own: view initialisation, fills, copies
    if (!starts_with(name, "perfex::"))
      found.insert("kernel without a perfex:: name: " + name);
    else if (device_type(id) != exec_type)
      found.insert("kernel " + name + " ran on another execution space than perfex::ExecSpace (" +
                   perfex::ExecSpace::name() + ")");
  }
  for (const auto& label : events.allocations) {
    // Kokkos' own allocations: a backend's team scratch, grown when a launch needs more
    // ("Kokkos::Serial::scratch_mem"; on OpenMP raw allocations without a label). perfex allocates only
    // through views.
    if (starts_with(label, "Kokkos::") || starts_with(label, "[unlabeled] [")) continue;
    if (!starts_with(label, "perfex::")) found.insert("allocation without a perfex:: label: '" + label + "'");
  }
  for (const auto& name : events.regions)
    if (!starts_with(name, "perfex::")) found.insert("region without a perfex:: name: " + name);
  return {found.begin(), found.end()};
}

// A kernel without a name, for the checker's own test.
struct Unnamed {
  Kokkos::View<double*, perfex::MemSpace> v;
  KOKKOS_INLINE_FUNCTION void operator()(int i) const { v(i) = i; }
};

// One small DESI-like case: a bundle of the synthetic r PSF on a CCD cut to the rows and columns it
// covers, so that simulating and extracting it takes well under a second on one thread.
struct SmallCase {
  perfex::GaussHermitePsf psf = perfex::make_synthetic_psf({"r0", 1, false});
  int nspec = 25;
  std::vector<double> grid = perfex::linear_wavelengths(5800.0, 5800.0 + 0.8 * 79, 0.8);
  perfex::ExtractionOptions options;
  SmallCase() {
    double xmax = 0.0, ymax = 0.0;
    for (int f = 0; f < nspec; ++f) {
      xmax = std::fmax(xmax, psf.xtrace.evaluate(f, grid.back()));
      ymax = std::fmax(ymax, psf.ytrace.evaluate(f, grid.back() + 40.0));
    }
    psf.npix_x = static_cast<int>(xmax) + 2 * psf.hsizex + 8;
    psf.npix_y = static_cast<int>(ymax) + 2 * psf.hsizey + 8;
    options.psferr = psf.default_psferr();
    options.ndiag = psf.hsizey;
  }
};

}  // namespace

TEST_CASE("Kokkos Tools: the label checker flags an unnamed kernel and an unlabelled allocation", "[labels]") {
  Events seen;
  {
    Recording recording;
    Kokkos::View<double*, perfex::MemSpace> v("unlabelled", 4);
    Kokkos::parallel_for(Kokkos::RangePolicy<perfex::ExecSpace>(0, 4), Unnamed{v});
    Kokkos::View<double*, perfex::MemSpace> w("perfex::test::labelled", 4);
    Kokkos::parallel_for("perfex::test::named", Kokkos::RangePolicy<perfex::ExecSpace>(0, 4), Unnamed{w});
    Kokkos::fence();
    seen = g_events;
  }
  const auto bad = violations(seen);
  REQUIRE(bad.size() == 2);
  CHECK(starts_with(bad[0], "allocation without a perfex:: label: 'unlabelled"));
  CHECK(starts_with(bad[1], "kernel without a perfex:: name: "));
}

TEST_CASE("Kokkos Tools: every kernel, allocation and region of core's entry points is perfex::", "[labels]") {
  SmallCase c;
  const auto padded = perfex::padded_wavelengths(c.grid, c.options);
  const auto spectra = perfex::make_builtin_spectra(padded, 0, c.nspec, {});
  perfex::SimulationOptions sim;
  sim.seed = 5;
  sim.ncosmics = 20;
  sim.defects = true;

  Events seen;
  {
    Recording recording;
    const perfex::ExecSpace exec;
    // Simulation: spots, projection, noise, cosmics and defects.
    const auto frame = perfex::simulate_frame(exec, c.psf, padded, spectra.photons, sim);
    perfex::ImageInput input;
    input.image = frame.image;
    input.weights = frame.ivar;
    input.ccd_ny = c.psf.npix_y;
    input.ccd_nx = c.psf.npix_x;
    // PSF evaluation: parameters, spots (with and without tails, into a fresh and a reused cache).
    perfex::evaluate_psf_params(exec, c.psf, 0, 3, c.grid);
    perfex::evaluate_spots(exec, c.psf, 0, 2, c.grid, {true});
    perfex::SpotCache spots;
    perfex::evaluate_spots(exec, c.psf, 0, c.nspec, padded, spots);
    perfex::evaluate_spots(exec, c.psf, 0, c.nspec, padded, spots);
    // Extraction: with and without a workspace, regularised, each solver phase, the specmask.
    perfex::ExtractWorkspace workspace;
    const auto result = perfex::extract(exec, input, spots, c.grid, 0, c.nspec, c.options, &workspace);
    perfex::ExtractionOptions regularized = c.options;
    regularized.regularize = 0.1;
    perfex::extract(exec, input, spots, c.grid, 0, c.nspec, regularized);
    const auto xc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.xcorner);
    const auto yc = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), spots.ycorner);
    const auto plan = perfex::plan_patches(xc, yc, 0, spots.stamp_ny, spots.stamp_nx, 0, c.nspec,
                                           static_cast<int>(c.grid.size()), c.options);
    for (int phase = 1; phase <= 5; ++phase)
      perfex::detail::extract_until(exec, input, spots, c.grid, plan, c.options,
                                    static_cast<perfex::detail::SolvePhase>(phase), &workspace);
    perfex::frame_mask(result.pixmask_fraction, result.chi2pix);
    // The frame pipeline as the front ends run it: an upload that applies a CCD mask, the chunk loop, the
    // model image and the specmask on the device, the copies to the host.
    const auto host_image = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), frame.image);
    const auto host_ivar = Kokkos::create_mirror_view_and_copy(perfex::HostSpace(), frame.ivar);
    perfex::HostView<std::int32_t**> ccd_mask("perfex::test::ccd_mask", host_image.extent(0), host_image.extent(1));
    ccd_mask(0, 0) = 1;
    const perfex::ImageInput uploaded = perfex::upload_image(exec, perfex::HostImage{host_image, host_ivar, ccd_mask, 0,
                                                                                     0, c.psf.npix_y, c.psf.npix_x});
    perfex::FrameOptions frame_options;
    frame_options.extraction = c.options;
    frame_options.model_image = true;
    perfex::extract_frame(exec, uploaded, c.psf, c.grid, 0, c.nspec, frame_options);
    exec.fence();
    seen = g_events;
  }
  INFO(seen.kernels.size() << " kernels, " << seen.allocations.size() << " allocations, " << seen.regions.size()
                           << " regions seen");
  CHECK(seen.kernels.size() > 10);
  CHECK(seen.allocations.size() > 10);
  for (const auto& v : violations(seen)) {
    UNSCOPED_INFO(v);
  }
  CHECK(violations(seen).empty());
}
