// Internal to core: the steps of an extraction that extract() (extract.cpp) and the frame pipeline
// (extract_frame.cpp) share. Every step runs on the execution space passed in; none copies to the host
// except the patch statuses solve_patch_batches checks.
#pragma once

#include <string>
#include <type_traits>

#include "patch_solver.hpp"
#include "perfex/core/detail/extract_phases.hpp"
#include "perfex/core/extract.hpp"

namespace perfex::detail {

// The arrays the patch kernels write, [nspec][nwave] ([nspec][2 ndiag + 1][nwave] for the resolution),
// labelled `prefix` + "flux", ..., "unsolved" and zeroed (bins no patch keeps stay 0). `status` is left empty: it is
// per plan (solve_patch_batches).
PatchOutputs allocate_outputs(const std::string& prefix, int nspec, int nwave, int ndiag);

// The plan's patch table on the device.
DeviceView<Patch*> upload_patch_table(const ExecSpace& exec, const PatchPlan& plan, const std::string& label);

// Data errors for an image and weights of different shapes, a CCD without pixels or an empty spot cache.
void check_inputs(const ImageInput& input, const SpotCache& spots);

// Solves every patch of `plan` (its table on the device: `patches`) in batches of the backend's size,
// reusing `workspace` (grown when too small; a local one when null). The kernels write the kept bins of
// fiber f at row f - out_specmin of `out`. Patches that fail are solved again (wider fiber tiles, then a
// stronger prior: README, "Degenerate patches"); the kept bins of those that still fail keep flux, ivar
// and resolution 0 and get out.unsolved = 1. Throws perfex::Error (data) only when a patch needs more team
// scratch than the backend allows. Fences `exec`.
void solve_patch_batches(const ExecSpace& exec, const ImageInput& input, const SpotCache& spots, const PatchPlan& plan,
                         const DeviceView<const Patch*>& patches, const ExtractionOptions& options, int out_specmin,
                         PatchOutputs& out, SolvePhase last_phase, ExtractWorkspace* workspace);

// Electrons per bin -> per Angstrom for rows [row_begin, row_end): flux / dw, ivar * dw^2, with `dwave`
// the grid's numpy.gradient on the device.
void convert_per_angstrom(const ExecSpace& exec, const PatchOutputs& out, int row_begin, int row_end,
                          const DeviceView<const double*>& dwave);

// The grid's numpy.gradient, on the device.
DeviceView<double*> upload_gradient(const ExecSpace& exec, const std::vector<double>& wavelengths);

// The one copy of a finished device array to the host, queued on `exec` (fence before reading it): into
// page-locked memory where the backend has it; on host backends the array itself, with a deep_copy
// between equal pointers that moves nothing but shows in Kokkos Tools as the copy it stands for.
// (Written out rather than create_mirror_view(space, view, WithoutInitializing), an overload Kokkos 4 removed.)
template <class T>
ResultView<T> copy_to_result(const ExecSpace& exec, const DeviceView<T>& device) {
  ResultView<T> host;
  if constexpr (std::is_same_v<typename DeviceView<T>::memory_space, typename ResultView<T>::memory_space>)
    host = device;
  else
    host = ResultView<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, device.label()), device.layout());
  Kokkos::deep_copy(exec, host, device);
  return host;
}

// Bins flagged in an unsolved plane on the host.
long count_unsolved(const ResultView<std::uint8_t**>& unsolved);

// FrameResult of a solved and converted `out` (fences `exec`).
FrameResult copy_result(const ExecSpace& exec, const PatchOutputs& out, const std::vector<double>& wavelengths,
                        int specmin, int ndiag);

}  // namespace perfex::detail
