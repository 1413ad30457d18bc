// Internal entry point for benchmarks: runs the per-patch solver only up to a given phase, so the cost of
// each phase can be measured by difference. Not part of the stable API.
#pragma once

#include "perfex/core/extract.hpp"

namespace perfex::detail {

// How far the solver runs.
enum class SolvePhase : int { NormalEquations = 1, Factorization = 2, SelectedInverse = 3, Decorrelation = 4, All = 5 };

// Like extract(), but every patch stops after `last_phase` (outputs of later phases stay zero).
FrameResult extract_until(const ExecSpace& exec, const ImageInput& input, const SpotCache& spots,
                          const std::vector<double>& wavelengths, const PatchPlan& plan,
                          const ExtractionOptions& options, SolvePhase last_phase,
                          ExtractWorkspace* workspace = nullptr);

}  // namespace perfex::detail
