// SCORES as a raw table: float64 columns in FITS' big-endian row layout.
#include "perfex/io/frame_scores_table.hpp"

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "perfex/io/helper_threads.hpp"

namespace perfex::io {

RawTable scores_table(const FrameScores& scores) {
  RawTable t;
  t.extname = "SCORES";
  t.ncolumns = static_cast<int>(scores.columns.size());
  t.nrows = scores.columns.empty() ? 0 : static_cast<long>(scores.columns.front().values.size());
  t.row_bytes = 8L * t.ncolumns;
  for (const FrameScoreColumn& c : scores.columns) {
    t.names.push_back(c.name);
    t.forms.push_back("D");
    t.units.emplace_back("");
    t.comments.push_back(c.comment);
  }
  t.rows.assign(static_cast<std::size_t>(t.row_bytes) * static_cast<std::size_t>(t.nrows), 0);
  for (long r = 0; r < t.nrows; ++r)
    for (int c = 0; c < t.ncolumns; ++c) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &scores.columns[static_cast<std::size_t>(c)].values[static_cast<std::size_t>(r)], 8);
      unsigned char* p = t.rows.data() + static_cast<std::size_t>(r * t.row_bytes + 8L * c);
      for (int k = 7; k >= 0; --k, bits >>= 8) p[k] = static_cast<unsigned char>(bits & 0xff);
    }
  return t;
}

std::optional<RawTable> frame_scores_table(const Frame& frame) {
  const FrameResult& d = frame.data;
  check_frame_shapes(frame, "frame_scores_table");
  // The spectra in parts of consecutive rows, on helper threads (each spectrum's scores are its own; the
  // parts' columns are joined in order). Every element is set below: no initialisation kernel, which Kokkos
  // runs on its master thread only (extract-exposure writes frames in an I/O thread).
  std::vector<std::optional<FrameScores>> parts(2);
  run_in_parts(static_cast<long long>(d.nspec) * d.nwave, 1 << 18, 2, [&](int k, int nparts) {
    const auto [first, last] = part_range(d.nspec, k, nparts);
    const int rows = static_cast<int>(last - first);
    HostView<double**> flux(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::scores::flux32"), rows, d.nwave);
    HostView<double**> ivar(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::scores::ivar32"), rows, d.nwave);
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < d.nwave; ++j) {
        flux(i, j) = static_cast<double>(static_cast<float>(d.flux(first + i, j)));
        ivar(i, j) = static_cast<double>(static_cast<float>(d.ivar(first + i, j)));
      }
    parts[static_cast<std::size_t>(k)] = raw_frame_scores(d.wavelengths, flux, ivar);
  });
  if (!parts[0]) return std::nullopt;  // (no bin in the band: the same for every part)
  FrameScores scores = std::move(*parts[0]);
  for (std::size_t k = 1; k < parts.size() && parts[k]; ++k)
    for (std::size_t c = 0; c < scores.columns.size(); ++c) {
      std::vector<double>& to = scores.columns[c].values;
      const std::vector<double>& from = parts[k]->columns[c].values;
      to.insert(to.end(), from.begin(), from.end());
    }
  return scores_table(scores);
}

}  // namespace perfex::io
