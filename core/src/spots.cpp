// Evaluation of a GAUSS-HERMITE PSF into spots: Legendre series per (fiber, wavelength), then
// pixel-integrated Gauss-Hermite stamps, both as kernels on the caller's execution space instance.
#include "perfex/core/spots.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "perfex/backends/host_isa.hpp"
#include "perfex/backends/launch_config.hpp"
#include "perfex/core/detail/fast_erf.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/math.hpp"
#include "perfex/core/profiling.hpp"

namespace perfex {

int PsfParamGrid::index(const std::string& name) const {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  throw_data_error("PSF parameter grid: no parameter '" + name + "'");
}

namespace {

// Legendre terms a series may have: the kernel keeps the polynomial values in a fixed local array.
constexpr int k_max_legendre_terms = 32;
// Parameter slots of the evaluated grid, fixed so the spot kernel reads them by position.
constexpr int k_slot_x = 0;
constexpr int k_slot_y = 1;
constexpr int k_slot_sigx = 2;
constexpr int k_slot_sigy = 3;
constexpr int k_slot_gh = 4;
const char* const k_tail_names[5] = {"TAILAMP", "TAILCORE", "TAILXSCA", "TAILYSCA", "TAILINDE"};
// GAUSS-HERMITE2's second core: GHNSIG (the first core's cut), its sigmas, then GH2-a-b, from core2_slot on.
const char* const k_core2_names[3] = {"GHNSIG", "GHSIGX2", "GHSIGY2"};
// Budget for the per-chunk parameter grid of evaluate_spots (doubles): bounds its temporary memory.
constexpr std::size_t k_param_chunk_doubles = std::size_t(1) << 19;

enum class TailRows { None, Required, IfPresent };

// Which series fill which slot of the parameter grid.
struct ParamPlan {
  std::vector<std::string> names;
  std::vector<const LegendreSeries*> series;
  int tail_slot = -1;   // first of the five tail slots, when the spot kernel adds tails
  int core2_slot = -1;  // GHNSIG, GHSIGX2, GHSIGY2, then GH2-a-b at core2_slot + 3 + a (ghdegy2 + 1) + b
};

ParamPlan plan_params(const GaussHermitePsf& psf, TailRows tails) {
  ParamPlan plan;
  auto add = [&](const std::string& name, const LegendreSeries& s) {
    plan.names.push_back(name);
    plan.series.push_back(&s);
  };
  add("X", psf.xtrace);
  add("Y", psf.ytrace);
  add("GHSIGX", psf.param("GHSIGX"));
  add("GHSIGY", psf.param("GHSIGY"));
  // GH-a-b at slot k_slot_gh + a (ghdegy + 1) + b, the order the spot kernel expects.
  for (int a = 0; a <= psf.ghdegx; ++a)
    for (int b = 0; b <= psf.ghdegy; ++b) add(gh_param_name(a, b), psf.param(gh_param_name(a, b)));
  if (psf.two_cores()) {
    plan.core2_slot = static_cast<int>(plan.names.size());
    for (const char* name : k_core2_names) add(name, psf.param(name));
    for (int a = 0; a <= psf.ghdegx2; ++a)
      for (int b = 0; b <= psf.ghdegy2; ++b) add(gh2_param_name(a, b), psf.param(gh2_param_name(a, b)));
  }
  if (tails == TailRows::Required) {
    std::string missing;
    for (const char* name : k_tail_names)
      if (!psf.has_param(name)) missing += (missing.empty() ? "" : ", ") + std::string(name);
    if (!missing.empty())
      throw_data_error("PSF: tails were requested but the PSF table has no PARAM row(s) " + missing);
    plan.tail_slot = static_cast<int>(plan.names.size());
    for (const char* name : k_tail_names) add(name, psf.param(name));
  } else if (tails == TailRows::IfPresent) {
    for (const char* name : k_tail_names)
      if (psf.has_param(name)) add(name, psf.param(name));
  }
  return plan;
}

// Per (fiber, block of W consecutive wavelengths): the Legendre polynomials once per domain, then every
// series of that domain. The innermost loops run over the block's wavelengths, so host compilers vectorise
// them (W = 8 on host backends; 1 on GPUs, where each thread's arrays would otherwise spill). Each
// wavelength's arithmetic is the same whatever W.
template <int W>
struct LegendreKernel {
  DeviceView<const double***> coeff;    // [param][fiber in the cache][term], zero padded
  DeviceView<const int*> nterm;         // [param] terms actually present
  DeviceView<const int*> order;         // params grouped by domain
  DeviceView<const int*> domain_begin;  // [ndomain + 1] ranges of `order`
  DeviceView<const int*> domain_nterm;  // [ndomain] most terms of a series of that domain
  DeviceView<const double**> domain;    // [ndomain][2]: WAVEMIN, WAVEMAX
  DeviceView<const double*> wavelengths;
  DeviceView<double***> params;  // [fiber in the chunk][wave][param]
  int fiber_offset = 0;          // first fiber of the chunk, relative to the cache
  int nwave = 0;
  int nblock = 0;  // blocks of W wavelengths per fiber
  int ndomain = 0;

  PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    const int f = i / nblock;
    const int w0 = (i - f * nblock) * W;
    const int nw = nwave - w0 < W ? nwave - w0 : W;
    double lambda[W];
    for (int l = 0; l < W; ++l) lambda[l] = wavelengths(l < nw ? w0 + l : w0);  // lanes past the grid: dummies
    double leg[k_max_legendre_terms][W];
    for (int d = 0; d < ndomain; ++d) {
      const double wmin = domain(d, 0), wmax = domain(d, 1);
      const int n = domain_nterm(d);
      for (int l = 0; l < W; ++l) {
        // The references' arithmetic order, so reduced wavelengths agree to the last bit.
        const double w = (lambda[l] - wmin) * (2.0 / (wmax - wmin)) - 1.0;
        leg[0][l] = 1.0;
        leg[1][l] = w;  // (unused when n = 1)
      }
      for (int k = 2; k < n; ++k)
        for (int l = 0; l < W; ++l) leg[k][l] = (leg[k - 1][l] * leg[1][l] * (2 * k - 1) - leg[k - 2][l] * (k - 1)) / k;
      for (int j = domain_begin(d); j < domain_begin(d + 1); ++j) {
        const int p = order(j);
        const int nt = nterm(p);
        const double* const c = &coeff(p, fiber_offset + f, 0);
        double sum[W];
        for (int l = 0; l < W; ++l) sum[l] = 0.0;
        for (int k = 0; k < nt; ++k)
          for (int l = 0; l < W; ++l) sum[l] += leg[k][l] * c[k];
        for (int l = 0; l < nw; ++l) params(f, w0 + l, p) = sum[l];
      }
    }
  }
};

// The series of `plan` for fibers [fiber_begin, fiber_begin + nfiber), on the device, ready to evaluate.
class ParamEvaluator {
 public:
  ParamEvaluator(const ExecSpace& exec, const ParamPlan& plan, int fiber_begin, int nfiber,
                 const DeviceView<const double*>& wavelengths)
      : m_exec(exec), m_nparam(static_cast<int>(plan.series.size())), m_wavelengths(wavelengths) {
    // Distinct (WAVEMIN, WAVEMAX) domains: XTRACE, YTRACE and PSF usually, fewer when they agree.
    std::vector<std::pair<double, double>> domains;
    std::vector<int> domain_of(m_nparam);
    int max_terms = 1;
    for (int p = 0; p < m_nparam; ++p) {
      const LegendreSeries& s = *plan.series[p];
      if (s.ncoef > k_max_legendre_terms)
        throw_data_error("PSF: series " + plan.names[p] + " has " + std::to_string(s.ncoef) +
                         " Legendre coefficients, more than the " + std::to_string(k_max_legendre_terms) +
                         " supported");
      max_terms = std::max(max_terms, s.ncoef);
      const std::pair<double, double> dom(s.wavemin, s.wavemax);
      auto it = std::find(domains.begin(), domains.end(), dom);
      domain_of[p] = static_cast<int>(it - domains.begin());
      if (it == domains.end()) domains.push_back(dom);
    }
    m_ndomain = static_cast<int>(domains.size());

    DeviceView<double***> coeff(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::spots::coeff"), m_nparam,
                                nfiber, max_terms);
    DeviceView<int*> nterm(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::spots::nterm"), m_nparam);
    DeviceView<int*> order(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::spots::order"), m_nparam);
    DeviceView<int*> domain_begin(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::spots::domain_begin"),
                                  m_ndomain + 1);
    DeviceView<int*> domain_nterm(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::spots::domain_nterm"),
                                  m_ndomain);
    DeviceView<double**> domain(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::spots::domain"), m_ndomain, 2);
    auto h_coeff = Kokkos::create_mirror_view(coeff);
    auto h_nterm = Kokkos::create_mirror_view(nterm);
    auto h_order = Kokkos::create_mirror_view(order);
    auto h_domain_begin = Kokkos::create_mirror_view(domain_begin);
    auto h_domain_nterm = Kokkos::create_mirror_view(domain_nterm);
    auto h_domain = Kokkos::create_mirror_view(domain);
    for (int p = 0; p < m_nparam; ++p) {
      const LegendreSeries& s = *plan.series[p];
      h_nterm(p) = s.ncoef;
      for (int f = 0; f < nfiber; ++f)
        for (int k = 0; k < max_terms; ++k) h_coeff(p, f, k) = k < s.ncoef ? s.at(fiber_begin + f, k) : 0.0;
    }
    int j = 0;
    for (int d = 0; d < m_ndomain; ++d) {
      h_domain(d, 0) = domains[d].first;
      h_domain(d, 1) = domains[d].second;
      h_domain_begin(d) = j;
      h_domain_nterm(d) = 1;
      for (int p = 0; p < m_nparam; ++p)
        if (domain_of[p] == d) {
          h_order(j++) = p;
          h_domain_nterm(d) = std::max(h_domain_nterm(d), plan.series[p]->ncoef);
        }
    }
    h_domain_begin(m_ndomain) = j;
    Kokkos::deep_copy(exec, coeff, h_coeff);
    Kokkos::deep_copy(exec, nterm, h_nterm);
    Kokkos::deep_copy(exec, order, h_order);
    Kokkos::deep_copy(exec, domain_begin, h_domain_begin);
    Kokkos::deep_copy(exec, domain_nterm, h_domain_nterm);
    Kokkos::deep_copy(exec, domain, h_domain);
    // The host mirrors die with this constructor: the copies must have read them.
    exec.fence();
    m_coeff = coeff;
    m_nterm = nterm;
    m_order = order;
    m_domain_begin = domain_begin;
    m_domain_nterm = domain_nterm;
    m_domain = domain;
  }

  int nparam() const { return m_nparam; }

  // Fills params[0, nchunk) with fibers [fiber_offset, fiber_offset + nchunk) of the cache, asynchronously.
  void evaluate(const DeviceView<double***>& params, int fiber_offset, int nchunk) const {
    constexpr int W = backends::LaunchConfig<ExecSpace>::wavelengths_per_item;
    const int nwave = static_cast<int>(m_wavelengths.extent(0));
    const int nblock = (nwave + W - 1) / W;
    LegendreKernel<W> kernel{m_coeff,       m_nterm, m_order,      m_domain_begin, m_domain_nterm, m_domain,
                             m_wavelengths, params,  fiber_offset, nwave,          nblock,         m_ndomain};
    Kokkos::parallel_for("perfex::spots::legendre", Kokkos::RangePolicy<ExecSpace>(m_exec, 0, nchunk * nblock), kernel);
  }

 private:
  ExecSpace m_exec;
  int m_nparam = 0;
  int m_ndomain = 0;
  DeviceView<const double*> m_wavelengths;
  DeviceView<const double***> m_coeff;
  DeviceView<const int*> m_nterm;
  DeviceView<const int*> m_order;
  DeviceView<const int*> m_domain_begin;
  DeviceView<const int*> m_domain_nterm;
  DeviceView<const double**> m_domain;
};

// out[i] = sum_k w[k * wstride] table[k * n + i], i < n, k < nterm; with Clip, negative values become 0
// (NaN stays NaN for the caller's check) and the function returns the sum of out. N, NT > 0 fix n and nterm
// at compile time so the loops unroll and the accumulators stay in registers (DESI: 17 or 11 by 7), where
// clipping and summing cost next to nothing; 0 means run time.
template <int N, int NT, bool Clip>
KOKKOS_INLINE_FUNCTION double weighted_row_sum(int n_runtime, int nterm_runtime, const double* w, int wstride,
                                               const double* table, double* out) {
  double sum = 0.0;
  if constexpr (N > 0) {
    const int nterm = NT > 0 ? NT : nterm_runtime;
    double acc[N];  // started from the first term: zeroing first compiled to a slow `rep stos`
    for (int i = 0; i < N; ++i) acc[i] = w[0] * table[i];
    for (int k = 1; k < nterm; ++k) {
      const double c = w[k * wstride];
      for (int i = 0; i < N; ++i) acc[i] += c * table[k * N + i];
    }
    if constexpr (Clip) {
      for (int i = 0; i < N; ++i) acc[i] = acc[i] < 0.0 ? 0.0 : acc[i];
      for (int i = 0; i < N; ++i) sum += acc[i];
    }
    for (int i = 0; i < N; ++i) out[i] = acc[i];
  } else {
    const int n = n_runtime, nterm = nterm_runtime;
    for (int i = 0; i < n; ++i) out[i] = 0.0;
    for (int k = 0; k < nterm; ++k) {
      const double c = w[k * wstride];
      for (int i = 0; i < n; ++i) out[i] += c * table[k * n + i];
    }
    if constexpr (Clip) {
      for (int i = 0; i < n; ++i) {
        out[i] = out[i] < 0.0 ? 0.0 : out[i];
        sum += out[i];
      }
    }
  }
  return sum;
}

// One team per (fiber, wavelength): the pixel-integrated Gauss-Hermite stamp, plus tails, clipped and
// normalised. Problems (non-positive sigma, non-finite trace, empty spot) record the first bad spot.
// NX, NY > 0 fix the stamp size and NG > 0 both Gauss-Hermite term counts at compile time (the DESI
// case: 17, 11, 7); 0 leaves them to run time. TwoCores adds GAUSS-HERMITE2's second core (its first core
// cut beyond GHNSIG sigmas, even stamps starting at floor(x) - hsizex); without it the code is the
// single-core kernel, unchanged.
template <int NX, int NY, int NG, bool TwoCores>
struct SpotKernel {
  using Policy = Kokkos::TeamPolicy<ExecSpace>;
  using Member = Policy::member_type;
  using Scratch = Kokkos::View<double*, ExecSpace::scratch_memory_space, Kokkos::MemoryUnmanaged>;  // sizes only
  // A table in the team's scratch, indexed as a 1D View. The tables are carved from one get_shmem per spot:
  // constructing a scratch View per table cost ~2% of a bundle's time on CPUs.
  struct Table {
    double* p = nullptr;
    KOKKOS_INLINE_FUNCTION double& operator()(int i) const { return p[i]; }
  };

  DeviceView<const double***> params;  // [fiber in the chunk][wave][param]
  DeviceView<double****> spots;        // the cache's views, [fiber][wave]...
  DeviceView<int**> xcorner;
  DeviceView<int**> ycorner;
  DeviceView<double**> xcenter;
  DeviceView<double**> ycenter;
  DeviceView<int> first_bad;  // smallest cache index fiber * nwave + wave of a bad spot, else INT_MAX
  int fiber_offset = 0;
  int nwave = 0;
  int hsizex = 0;
  int hsizey = 0;
  int gh_terms_x = 0;  // GHDEGX + 1
  int gh_terms_y = 0;
  int tail_slot = -1;
  int core2_slot = -1;  // TwoCores: GHNSIG, GHSIGX2, GHSIGY2, GH2-a-b from here
  int gh2_terms_x = 0;  // TwoCores: GHDEGX2 + 1
  int gh2_terms_y = 0;
  int scratch_level = 0;
  detail::ErfcxTable erfcx = detail::k_erfcx_table;

  // Rows of an axis' edge table (row stride n + 1): F_0 .. F_{ng-1} at the n + 1 pixel edges, with phi in
  // row 1 (F_1 = phi; a row of its own when ng = 1), then the edges' u in the last row.
  KOKKOS_INLINE_FUNCTION static int edge_rows(int ng) { return (ng < 2 ? 2 : ng) + 1; }

  // Edge tables, pixel tables, the y-contracted table and the stamp, in doubles; the same again for the
  // second core.
  KOKKOS_INLINE_FUNCTION static int scratch_doubles(int nx, int ny, int ngx, int ngy, int ngx2, int ngy2) {
    int n = edge_rows(ngx) * (nx + 1) + edge_rows(ngy) * (ny + 1) + ngx * nx + ngy * ny + ngx * ny + ny * nx;
    if (TwoCores)
      n += edge_rows(ngx2) * (nx + 1) + edge_rows(ngy2) * (ny + 1) + ngx2 * nx + ngy2 * ny + ngx2 * ny + ny * nx;
    return n;
  }

  // Every 1D pixel integral of degree m is F_m(lower edge) - F_m(upper edge), with
  // F_0(u) = -erf(u / sqrt 2) / 2 and F_m(u) = He_{m-1}(u) phi(u) (probabilists' Hermite polynomials).
  // Edge k of a stamp of n pixels lies at u_k = (k - n//2 - 0.5 - d) / sigma.
  KOKKOS_INLINE_FUNCTION static double edge_u(int k, int n, double d, double sigma) {
    return ((k - n / 2) - 0.5 - d) / sigma;
  }

  // The u row and the phi row of an axis' edge table. phi(u_k) follows a multiplicative recurrence outwards
  // from the edge nearest the center (u_{k+1}^2 - u_k^2 = h (u_k + u_{k+1}), h = 1 / sigma): 4 exp per
  // axis instead of n + 1, at a relative cost of ~1e-14. Implausibly narrow spots (sigma < 1/8 px, where
  // the ratios could overflow) use exp at every edge.
  KOKKOS_INLINE_FUNCTION static void gaussian_edges(int n, double d, double sigma, int ng, double* table) {
    constexpr double sqrt_2pi = 2.5066282746310002;
    double* const phi = table + (n + 1);
    double* const u = table + (edge_rows(ng) - 1) * (n + 1);
    for (int k = 0; k <= n; ++k) u[k] = edge_u(k, n, d, sigma);
    const double h = 1.0 / sigma;
    if (h > 8.0) {
      for (int k = 0; k <= n; ++k) phi[k] = math::exp(-0.5 * (u[k] * u[k])) / sqrt_2pi;
      return;
    }
    const int k0 = n / 2;
    const double r = math::exp(-h * h);
    phi[k0] = math::exp(-0.5 * (u[k0] * u[k0])) / sqrt_2pi;
    double ratio = math::exp(-0.5 * h * (u[k0] + u[k0 + 1]));
    for (int k = k0 + 1; k <= n; ++k) {
      phi[k] = phi[k - 1] * ratio;
      ratio *= r;
    }
    ratio = math::exp(0.5 * h * (edge_u(k0 - 1, n, d, sigma) + u[k0]));  // k0 - 1 may be -1
    for (int k = k0 - 1; k >= 0; --k) {
      phi[k] = phi[k + 1] * ratio;
      ratio *= r;
    }
  }

  // Column k of an axis' edge table once its u and phi are known: F_0 from erf, written with the Gaussian
  // already at hand (detail/fast_erf.hpp), and the Hermite rows F_{m+1} = u F_m - (m - 1) F_{m-1}.
  KOKKOS_INLINE_FUNCTION void edge_column(int k, int n, int ng, double* table) const {
    constexpr double sqrt_2pi = 2.5066282746310002;
    constexpr double inv_sqrt2 = 0.70710678118654752;
    const int stride = n + 1;
    const double u = table[(edge_rows(ng) - 1) * stride + k];
    const double phi = table[stride + k];
    table[k] = -0.5 * detail::erf_from_gaussian(erfcx, u * inv_sqrt2, sqrt_2pi * phi);
    if (ng < 3) return;
    double f_prev = phi, f = u * phi;
    table[2 * stride + k] = f;
    for (int m = 2; m + 1 < ng; ++m) {
      const double f_next = u * f - (m - 1) * f_prev;
      table[(m + 1) * stride + k] = f_next;
      f_prev = f;
      f = f_next;
    }
  }

  PERFEX_HOST_ISA_CLONES KOKKOS_INLINE_FUNCTION void operator()(const Member& team) const {
    const int fw = team.league_rank();
    const int fc = fw / nwave;  // fiber within the chunk
    const int iw = fw - fc * nwave;
    const int f = fiber_offset + fc;  // fiber within the cache
    const int nx = NX > 0 ? NX : (TwoCores ? 2 * hsizex : 2 * hsizex + 1);
    const int ny = NY > 0 ? NY : (TwoCores ? 2 * hsizey : 2 * hsizey + 1);
    const int ngx = NG > 0 ? NG : gh_terms_x;
    const int ngy = NG > 0 ? NG : gh_terms_y;
    // The stamp's first pixel is floor(c - hsize + shift): centred on the nearest pixel (0.5), or
    // GAUSS-HERMITE2's floor(c) - hsize (0).
    constexpr double shift = TwoCores ? 0.0 : 0.5;
    // int{...}: View indices are taken by reference, and device code cannot refer to a namespace-scope
    // constexpr variable (nvcc), only use its value.
    const double x = params(fc, iw, int{k_slot_x}), y = params(fc, iw, int{k_slot_y});
    const double sigx = params(fc, iw, int{k_slot_sigx}), sigy = params(fc, iw, int{k_slot_sigy});
    double* const out = &spots(f, iw, 0, 0);  // the stamp is contiguous: [iy][ix] at iy * nx + ix
    constexpr double max_coordinate = 1e9;    // keeps the corners representable as int

    // Every thread of the team reaches the same verdict, so an early return keeps barriers consistent.
    bool bad_input = !(sigx > 0.0 && sigy > 0.0 && math::fabs(x) < max_coordinate && math::fabs(y) < max_coordinate);
    [[maybe_unused]] double nsig = 0.0, sigx2 = 1.0, sigy2 = 1.0;
    if constexpr (TwoCores) {
      nsig = params(fc, iw, core2_slot);
      sigx2 = params(fc, iw, core2_slot + 1);
      sigy2 = params(fc, iw, core2_slot + 2);
      bad_input = bad_input || !(sigx2 > 0.0 && sigy2 > 0.0 && math::isfinite(nsig));
    }
    Kokkos::single(Kokkos::PerTeam(team), [&]() {
      xcenter(f, iw) = x;
      ycenter(f, iw) = y;
      xcorner(f, iw) = bad_input ? 0 : static_cast<int>(math::floor(x - hsizex + shift));
      ycorner(f, iw) = bad_input ? 0 : static_cast<int>(math::floor(y - hsizey + shift));
      if (bad_input) Kokkos::atomic_fetch_min(&first_bad(), f * nwave + iw);
    });
    if (bad_input) {
      Kokkos::parallel_for(Kokkos::TeamVectorRange(team, ny * nx), [&](int p) { out[p] = 0.0; });
      return;
    }
    const double xc = math::floor(x - hsizex + shift), yc = math::floor(y - hsizey + shift);
    // Offset of the center from the pixel its stamp is built around, in [-shift, 1 - shift): Python's
    // (c + 0.5) % 1 - 0.5 for the odd stamps, c % 1 for the even ones.
    const double xs = x + shift, ys = y + shift;
    const double dx = (xs - math::floor(xs)) - shift;
    const double dy = (ys - math::floor(ys)) - shift;

    // The second core's tables (none without it: ngx2 = ngy2 = 0 removes its items from every stage).
    const int ngx2 = TwoCores ? gh2_terms_x : 0, ngy2 = TwoCores ? gh2_terms_y : 0;
    double* next =
        static_cast<double*>(team.team_scratch(scratch_level)
                                 .get_shmem(sizeof(double) *
                                            static_cast<std::size_t>(scratch_doubles(nx, ny, ngx, ngy, ngx2, ngy2))));
    const auto carve = [&next](int n) {
      const Table t{next};
      next += n;
      return t;
    };
    const Table ex = carve(edge_rows(ngx) * (nx + 1));  // [row][edge]
    const Table ey = carve(edge_rows(ngy) * (ny + 1));  // [row][edge]
    const Table gx = carve(ngx * nx);                   // [a][ix]
    const Table gy = carve(ngy * ny);                   // [b][iy]
    const Table ty = carve(ngx * ny);                   // [a][iy]
    const Table stamp = carve(ny * nx);                 // [iy][ix]
    Table ex2, ey2, gx2, gy2, ty2, stamp2;
    if constexpr (TwoCores) {
      ex2 = carve(edge_rows(ngx2) * (nx + 1));
      ey2 = carve(edge_rows(ngy2) * (ny + 1));
      gx2 = carve(ngx2 * nx);
      gy2 = carve(ngy2 * ny);
      ty2 = carve(ngx2 * ny);
      stamp2 = carve(ny * nx);
    }

    // Stage 1: the edge tables: u and phi, one item per axis (phi is a recurrence along the edges), then
    // F_0 .. F_{ng-1}, one item per edge.
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, TwoCores ? 4 : 2), [&](int axis) {
      Kokkos::single(Kokkos::PerThread(team), [&]() {
        if (axis == 0) {
          gaussian_edges(nx, dx, sigx, ngx, &ex(0));
        } else if (axis == 1) {
          gaussian_edges(ny, dy, sigy, ngy, &ey(0));
        } else if constexpr (TwoCores) {
          if (axis == 2)
            gaussian_edges(nx, dx, sigx2, ngx2, &ex2(0));
          else
            gaussian_edges(ny, dy, sigy2, ngy2, &ey2(0));
        }
      });
    });
    team.team_barrier();
    const int nedge = (nx + 1) + (ny + 1);
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, TwoCores ? 2 * nedge : nedge), [&](int e) {
      Kokkos::single(Kokkos::PerThread(team), [&]() {
        if (e <= nx) {
          edge_column(e, nx, ngx, &ex(0));
        } else if (e < nedge) {
          edge_column(e - (nx + 1), ny, ngy, &ey(0));
        } else if constexpr (TwoCores) {
          const int e2 = e - nedge;
          if (e2 <= nx)
            edge_column(e2, nx, ngx2, &ex2(0));
          else
            edge_column(e2 - (nx + 1), ny, ngy2, &ey2(0));
        }
      });
    });
    team.team_barrier();
    // Stage 2: pixel integrals gx[a][ix], gy[b][iy], one degree per item (contiguous, vectorisable rows).
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, ngx + ngy + ngx2 + ngy2), [&](int m) {
      Kokkos::single(Kokkos::PerThread(team), [&]() {
        const double* e;
        double* g;
        int n;
        if (m < ngx + ngy) {
          const bool is_x = m < ngx;
          const int row = is_x ? m : m - ngx;
          n = is_x ? nx : ny;
          e = is_x ? &ex(row * (nx + 1)) : &ey(row * (ny + 1));
          g = is_x ? &gx(row * nx) : &gy(row * ny);
        } else {
          const bool is_x = m - (ngx + ngy) < ngx2;
          const int row = is_x ? m - (ngx + ngy) : m - (ngx + ngy) - ngx2;
          n = is_x ? nx : ny;
          e = is_x ? &ex2(row * (nx + 1)) : &ey2(row * (ny + 1));
          g = is_x ? &gx2(row * nx) : &gy2(row * ny);
        }
        for (int i = 0; i < n; ++i) g[i] = e[i] - e[i + 1];
      });
    });
    team.team_barrier();
    // Stage 3: the tensor product in two cheap steps, y first (the shorter side):
    // ty[a][iy] = sum_b GH-a-b gy[b][iy]; the GH-a-b of one a are consecutive parameter slots.
    Kokkos::parallel_for(Kokkos::TeamThreadRange(team, ngx + ngx2), [&](int a) {
      Kokkos::single(Kokkos::PerThread(team), [&]() {
        if (a < ngx) {
          weighted_row_sum<NY, NG, false>(ny, ngy, &params(fc, iw, k_slot_gh + a * ngy), 1, &gy(0), &ty(a * ny));
        } else if constexpr (TwoCores) {
          const int a2 = a - ngx;
          weighted_row_sum<0, 0, false>(ny, ngy2, &params(fc, iw, core2_slot + 3 + a2 * ngy2), 1, &gy2(0),
                                        &ty2(a2 * ny));
        }
      });
    });
    team.team_barrier();
    // Stage 4: spot[iy][ix] = sum_a ty[a][iy] gx[a][ix], plus tails at pixel centers, clipped at 0.
    double tail_amp = 0.0, tail_core2 = 0.0, tail_xsca = 0.0, tail_ysca = 0.0, tail_power = 0.0;
    if (tail_slot >= 0) {
      tail_amp = params(fc, iw, tail_slot);
      const double core = params(fc, iw, tail_slot + 1);
      tail_core2 = core * core;
      tail_xsca = params(fc, iw, tail_slot + 2);
      tail_ysca = params(fc, iw, tail_slot + 3);
      tail_power = 1.0 + params(fc, iw, tail_slot + 4) / 2.0;
    }
    // Row sums, then their sum: independent short chains instead of one serial sum over the stamp (the
    // order differs from the references' by rounding only); each row clipped at 0 while in registers.
    double total = 0.0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, ny),
        [&](int iy, double& sum) {
          double row_sum = 0.0;
          Kokkos::single(
              Kokkos::PerThread(team),
              [&](double& rs) {
                double* const row = &stamp(iy * nx);
                if constexpr (TwoCores) {
                  // core1 where (dx/GHSIGX)^2 + (dy/GHSIGY)^2 < GHNSIG^2 at the pixel centre, plus core2.
                  double* const row2 = &stamp2(iy * nx);
                  weighted_row_sum<NX, NG, false>(nx, ngx, &ty(iy), ny, &gx(0), row);
                  weighted_row_sum<0, 0, false>(nx, ngx2, &ty2(iy), ny, &gx2(0), row2);
                  const double ddy = (yc + iy - y) / sigy;
                  for (int ix = 0; ix < nx; ++ix) {
                    const double ddx = (xc + ix - x) / sigx;
                    const double core1 = ddx * ddx + ddy * ddy < nsig * nsig ? row[ix] : 0.0;
                    row[ix] = core1 + row2[ix];
                  }
                  if (tail_slot < 0) {
                    rs = 0.0;
                    for (int ix = 0; ix < nx; ++ix) {
                      row[ix] = row[ix] < 0.0 ? 0.0 : row[ix];
                      rs += row[ix];
                    }
                    return;
                  }
                } else {
                  if (tail_slot < 0) {
                    rs = weighted_row_sum<NX, NG, true>(nx, ngx, &ty(iy), ny, &gx(0), row);
                    return;
                  }
                  weighted_row_sum<NX, NG, false>(nx, ngx, &ty(iy), ny, &gx(0), row);
                }
                const double ddy = (yc + iy - y) * tail_ysca;
                rs = 0.0;
                for (int ix = 0; ix < nx; ++ix) {
                  const double ddx = (xc + ix - x) * tail_xsca;
                  const double r2 = ddx * ddx + ddy * ddy;
                  row[ix] += tail_amp * r2 / math::pow(tail_core2 + r2, tail_power);
                  row[ix] = row[ix] < 0.0 ? 0.0 : row[ix];  // NaN stays NaN for the check
                  rs += row[ix];
                }
              },
              row_sum);
          sum += row_sum;
        },
        total);
    constexpr double max_total = 1e300;
    const bool bad_total = !(total > 0.0 && total < max_total);
    if (bad_total)
      Kokkos::single(Kokkos::PerTeam(team), [&]() { Kokkos::atomic_fetch_min(&first_bad(), f * nwave + iw); });
    // Stage 5: unit sum. A product with the reciprocal is within about an ulp of the references' division.
    const double scale = bad_total ? 0.0 : 1.0 / total;
    Kokkos::parallel_for(Kokkos::TeamVectorRange(team, ny * nx), [&](int p) { out[p] = stamp(p) * scale; });
  }
};

// Launches SpotKernel<NX, NY, NG, TwoCores> over every chunk of fibers.
template <int NX, int NY, int NG, bool TwoCores>
void launch_spots(const ExecSpace& exec, const ParamEvaluator& evaluator, const DeviceView<double***>& params,
                  SpotKernel<NX, NY, NG, TwoCores> kernel, int nfiber, int chunk) {
  using Kernel = SpotKernel<NX, NY, NG, TwoCores>;
  const int nx = TwoCores ? 2 * kernel.hsizex : 2 * kernel.hsizex + 1;
  const int ny = TwoCores ? 2 * kernel.hsizey : 2 * kernel.hsizey + 1;
  const std::size_t scratch_bytes =
      Kernel::Scratch::shmem_size(Kernel::scratch_doubles(nx, ny, kernel.gh_terms_x, kernel.gh_terms_y,
                                                          kernel.gh2_terms_x, kernel.gh2_terms_y));
  // Level 0 (GPU shared memory) when the tables fit comfortably, else level 1 (global).
  kernel.scratch_level = scratch_bytes <= 32 * 1024 ? 0 : 1;
  for (int f0 = 0; f0 < nfiber; f0 += chunk) {
    const int n = std::min(chunk, nfiber - f0);
    evaluator.evaluate(params, f0, n);
    kernel.fiber_offset = f0;
    auto policy = backends::spot_team_policy(exec, n * kernel.nwave);
    policy.set_scratch_size(kernel.scratch_level, Kokkos::PerTeam(scratch_bytes));
    Kokkos::parallel_for("perfex::spots::stamps", policy, kernel);
  }
}

// Fills the kernel's fields shared by every instantiation.
template <class Kernel>
Kernel make_spot_kernel(const SpotCache& cache, const GaussHermitePsf& psf, const ParamPlan& plan,
                        const DeviceView<double***>& params, const DeviceView<int>& first_bad) {
  Kernel kernel;
  kernel.params = params;
  kernel.spots = cache.spots;
  kernel.xcorner = cache.xcorner;
  kernel.ycorner = cache.ycorner;
  kernel.xcenter = cache.xcenter;
  kernel.ycenter = cache.ycenter;
  kernel.first_bad = first_bad;
  kernel.nwave = cache.nwave;
  kernel.hsizex = psf.hsizex;
  kernel.hsizey = psf.hsizey;
  kernel.gh_terms_x = psf.ghdegx + 1;
  kernel.gh_terms_y = psf.ghdegy + 1;
  kernel.tail_slot = plan.tail_slot;
  kernel.core2_slot = plan.core2_slot;
  kernel.gh2_terms_x = psf.ghdegx2 + 1;
  kernel.gh2_terms_y = psf.ghdegy2 + 1;
  return kernel;
}

void check_request(const GaussHermitePsf& psf, int fiber_begin, int nfiber, const std::vector<double>& wavelengths) {
  psf.validate("GAUSS-HERMITE PSF");
  if (fiber_begin < 0 || nfiber < 0 || fiber_begin + nfiber > psf.nfiber)
    throw_usage_error("PSF evaluation: fibers [" + std::to_string(fiber_begin) + ", " +
                      std::to_string(fiber_begin + nfiber) + ") are outside the PSF's 0.." +
                      std::to_string(psf.nfiber - 1));
  for (double w : wavelengths)
    if (!std::isfinite(w)) throw_usage_error("PSF evaluation: wavelengths must be finite");
  if (static_cast<long long>(nfiber) * static_cast<long long>(wavelengths.size()) > INT_MAX)
    throw_usage_error("PSF evaluation: too many (fiber, wavelength) pairs in one call");
}

// Makes `view` a [n...] view labelled `label`, keeping its allocation when the extents already match.
template <class View, class... N>
void fit_view(View& view, const std::string& label, N... n) {
  const std::size_t extents[] = {static_cast<std::size_t>(n)...};
  bool same = view.data() != nullptr;
  for (std::size_t i = 0; i < sizeof...(N); ++i) same = same && view.extent(i) == extents[i];
  if (!same) view = View(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), n...);
}

void upload_wavelengths(const ExecSpace& exec, const std::vector<double>& wavelengths, DeviceView<double*>& d) {
  fit_view(d, "perfex::spots::wavelengths", wavelengths.size());
  Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged> h(wavelengths.data(), wavelengths.size());
  Kokkos::deep_copy(exec, d, h);
  exec.fence();  // `h` is the caller's vector: finish reading it before returning
}

}  // namespace

SpotCache evaluate_spots(const ExecSpace& exec, const GaussHermitePsf& psf, int fiber_begin, int nfiber,
                         const std::vector<double>& wavelengths, const SpotOptions& options) {
  SpotCache cache;
  evaluate_spots(exec, psf, fiber_begin, nfiber, wavelengths, cache, options);
  return cache;
}

void evaluate_spots(const ExecSpace& exec, const GaussHermitePsf& psf, int fiber_begin, int nfiber,
                    const std::vector<double>& wavelengths, SpotCache& cache, const SpotOptions& options) {
  ScopedRegion region("perfex::evaluate_spots");
  check_request(psf, fiber_begin, nfiber, wavelengths);
  const ParamPlan plan = plan_params(psf, options.tails ? TailRows::Required : TailRows::None);
  const int nwave = static_cast<int>(wavelengths.size());
  const int nx = psf.stamp_nx(), ny = psf.stamp_ny();

  cache.fiber_begin = fiber_begin;
  cache.nfiber = nfiber;
  cache.nwave = nwave;
  cache.stamp_ny = ny;
  cache.stamp_nx = nx;
  upload_wavelengths(exec, wavelengths, cache.wavelengths);
  fit_view(cache.spots, "perfex::spots::spots", nfiber, nwave, ny, nx);
  fit_view(cache.xcorner, "perfex::spots::xcorner", nfiber, nwave);
  fit_view(cache.ycorner, "perfex::spots::ycorner", nfiber, nwave);
  fit_view(cache.xcenter, "perfex::spots::xcenter", nfiber, nwave);
  fit_view(cache.ycenter, "perfex::spots::ycenter", nfiber, nwave);
  if (nfiber == 0 || nwave == 0) return;

  const ParamEvaluator evaluator(exec, plan, fiber_begin, nfiber, cache.wavelengths);
  // Fibers go through in chunks so the parameter grid stays small whatever the request.
  const std::size_t per_fiber = static_cast<std::size_t>(nwave) * evaluator.nparam();
  const int chunk = static_cast<int>(std::clamp<std::size_t>(k_param_chunk_doubles / per_fiber, 1, nfiber));
  const auto no_init = [](const std::string& label) { return Kokkos::view_alloc(Kokkos::WithoutInitializing, label); };
  DeviceView<double***> params(no_init("perfex::spots::params"), chunk, nwave, evaluator.nparam());
  DeviceView<int> first_bad(no_init("perfex::spots::first_bad"));
  Kokkos::deep_copy(exec, first_bad, INT_MAX);

  if (psf.two_cores()) {  // GAUSS-HERMITE2
    const auto kernel = make_spot_kernel<SpotKernel<0, 0, 0, true>>(cache, psf, plan, params, first_bad);
    launch_spots(exec, evaluator, params, kernel, nfiber, chunk);
  } else if (nx == 17 && ny == 11 && psf.ghdegx == 6 && psf.ghdegy == 6) {  // DESI's stamps
    const auto kernel = make_spot_kernel<SpotKernel<17, 11, 7, false>>(cache, psf, plan, params, first_bad);
    launch_spots(exec, evaluator, params, kernel, nfiber, chunk);
  } else {
    const auto kernel = make_spot_kernel<SpotKernel<0, 0, 0, false>>(cache, psf, plan, params, first_bad);
    launch_spots(exec, evaluator, params, kernel, nfiber, chunk);
  }

  int h_first_bad = INT_MAX;
  Kokkos::deep_copy(exec, h_first_bad, first_bad);
  exec.fence();
  if (h_first_bad != INT_MAX) {
    const int f = h_first_bad / nwave, iw = h_first_bad % nwave;
    std::ostringstream msg;
    msg.precision(10);
    msg << "PSF evaluation failed at fiber " << fiber_begin + f << ", wavelength " << wavelengths[iw]
        << ": non-positive Gauss-Hermite sigma, non-finite trace or an empty spot";
    throw_data_error(msg.str());
  }
}

PsfParamGrid evaluate_psf_params(const ExecSpace& exec, const GaussHermitePsf& psf, int fiber_begin, int nfiber,
                                 const std::vector<double>& wavelengths) {
  ScopedRegion region("perfex::evaluate_spots");
  check_request(psf, fiber_begin, nfiber, wavelengths);
  const ParamPlan plan = plan_params(psf, TailRows::IfPresent);
  const int nwave = static_cast<int>(wavelengths.size());
  const int nparam = static_cast<int>(plan.names.size());

  PsfParamGrid grid;
  grid.names = plan.names;
  DeviceView<double***> params(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::spots::params"), nfiber, nwave,
                               nparam);
  if (nfiber > 0 && nwave > 0) {
    DeviceView<double*> d_wavelengths;
    upload_wavelengths(exec, wavelengths, d_wavelengths);
    const ParamEvaluator evaluator(exec, plan, fiber_begin, nfiber, d_wavelengths);
    evaluator.evaluate(params, 0, nfiber);
  }
  grid.values = HostView<double***>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "perfex::spots::params_host"),
                                    nfiber, nwave, nparam);
  Kokkos::deep_copy(exec, grid.values, params);
  exec.fence();
  return grid;
}

}  // namespace perfex
