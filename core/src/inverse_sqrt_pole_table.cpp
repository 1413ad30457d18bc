// The default pole table, as generated at build time (core/src/pole_table_generator.cpp): arrays, not ~20 ms
// of long-double arithmetic on each process's first decorrelation.
#include <iterator>

#include "perfex/core/linalg/inverse_sqrt_poles.hpp"

namespace perfex::linalg {

namespace {
#include "inverse_sqrt_pole_table.inc"
}  // namespace

const InverseSqrtPoleTable& inverse_sqrt_poles() {
  static const InverseSqrtPoleTable table = [] {
    static_assert(std::size(k_pole_first) == InverseSqrtPoleTable::max_log2_ratio + 2,
                  "the generated pole table is for another max_log2_ratio");
    static_assert(std::size(k_pole_shift) == std::size(k_pole_weight));
    InverseSqrtPoleTable t;
    t.tolerance = k_pole_tolerance;
    t.first.assign(std::begin(k_pole_first), std::end(k_pole_first));
    t.shift.assign(std::begin(k_pole_shift), std::end(k_pole_shift));
    t.weight.assign(std::begin(k_pole_weight), std::end(k_pole_weight));
    return t;
  }();
  return table;
}

}  // namespace perfex::linalg
