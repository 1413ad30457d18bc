// desi_extract_spectra's command lines as desi_proc writes them (desispec 0.70.0, scripts/proc.py): every one
// is accepted by perfex extract's parser with desispec's meaning; argparse's unique prefixes on every
// subcommand; the default grid.
#include <catch2/catch_test_macros.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/core/extract_options.hpp"
#include "perfex/core/synthetic_psf.hpp"
#include "perfex/drivers/argparse_prefix.hpp"
#include "perfex/drivers/cli.hpp"
#include "perfex/drivers/comm.hpp"
#include "perfex/drivers/desi_options.hpp"
#include "perfex/drivers/extract_command_line.hpp"
#include "test_support.hpp"

namespace {

using Words = std::vector<std::string>;

// The perfex program's parser with every subcommand, as run_cli builds it.
struct FullApp {
  CLI::App app{"perfex", "perfex"};
  perfex::drivers::Action action;
  FullApp() {
    app.set_version_flag("--version", "perfex");
    perfex::drivers::add_info_command(app, action);
    perfex::drivers::add_psf_command(app, action);
    perfex::drivers::add_simulate_command(app, action);
    perfex::drivers::add_extract_command(app, action);
    perfex::drivers::add_compare_command(app, action);
    perfex::drivers::add_extract_exposure_command(app, action);
    perfex::drivers::add_convert_command(app, action);
  }
  Words expand(const Words& w) { return perfex::drivers::expand_option_prefixes(app, w); }
};

std::string usage_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const perfex::Error& e) {
    CHECK(e.kind() == perfex::ErrorKind::Usage);
    return e.what();
  }
  FAIL("expected a usage error");
  return {};
}

Words split(const std::string& line) {
  Words w;
  std::string word;
  for (char c : line) {
    if (c == ' ') {
      if (!word.empty()) w.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) w.push_back(word);
  return w;
}

}  // namespace

TEST_CASE("desi_proc's desi_extract_spectra command lines: all accepted, with desispec's meaning",
          "[drivers][desi][cli]") {
  perfex::test::TempDir dir;
  const std::string in = (dir / "preproc-r0-00012345.fits").string();
  const std::string psf = (dir / "psf-r0-00012345.fits").string();
  struct Camera {
    const char* arm;
    const char* grid;
    double psferr;
  };
  // desispec/scripts/proc.py: the grid and psferr of each arm; --use-specter adds --mpi; CPU nodes add
  // --no-gpu; SCIENCE and SKY exposures --barycentric-correction.
  const Camera cameras[] = {
      {"b", "3600.0,5800.0,0.8", 0.04}, {"r", "5760.0,7620.0,0.8", 0.01}, {"z", "7520.0,9824.0,0.8", 0.01}};
  int lines = 0;
  for (const Camera& c : cameras)
    for (bool use_specter : {false, true})
      for (bool no_gpu : {false, true})
        for (bool bary : {false, true}) {
          const std::string frame =
              (dir / (std::string("frame-") + c.arm + "0-00012345-no-badcolumn-mask.fits")).string();
          std::string line = std::string("-w ") + c.grid + " -i " + in + " -p " + psf + " -o " + frame +
                             (c.psferr == 0.04 ? " --psferr 0.04" : " --psferr 0.01");
          if (use_specter) line += " --use-specter --mpi";
          if (no_gpu) line += " --no-gpu";
          if (bary) line += " --barycentric-correction";
          INFO("desi_extract_spectra " << line);
          ++lines;
          if (use_specter && !perfex::drivers::mpi_available()) {  // a build without MPI refuses --mpi, saying so
            CHECK(usage_error([&] { perfex::drivers::parse_extract_command_line(split(line)); }).find("--mpi") !=
                  std::string::npos);
            continue;
          }
          const auto parsed = perfex::drivers::parse_extract_command_line(split(line));
          const perfex::drivers::ExtractArgs& a = parsed.args;
          CHECK_FALSE(parsed.help);
          CHECK(a.wavelength == c.grid);
          CHECK(a.input == in);
          CHECK(a.psf == psf);
          CHECK(a.output == frame);
          REQUIRE(a.psferr.has_value());
          CHECK(*a.psferr == c.psferr);
          CHECK(a.desi.use_specter == use_specter);
          CHECK(a.mpi == use_specter);
          CHECK(a.desi.no_gpu == no_gpu);
          CHECK(a.barycentric == bary);
          // desi_extract_spectra's defaults for what the line does not give.
          CHECK(a.specmin == 0);
          CHECK_FALSE(a.nspec.has_value());
          CHECK(a.options.regularize == 0.0);
          CHECK(a.options.bundlesize == 25);
          CHECK(a.options.nsubbundles == 5);
          CHECK(a.options.nwavestep == 50);
          CHECK(a.options.pixpad_frac == 0.8);
          CHECK(a.options.wavepad_frac == 0.2);
          CHECK_FALSE(a.no_scores);
          CHECK(a.fibermap.empty());
          CHECK(a.model.empty());
        }
  CHECK(lines == 24);
}

TEST_CASE("desi_extract_spectra's other options: --no-scores, --gpu, -v, -f, -m, -s, -n, -r", "[drivers][desi][cli]") {
  perfex::test::TempDir dir;
  const std::string out = (dir / "frame.fits").string();
  const auto parsed = perfex::drivers::parse_extract_command_line(
      split("-i in.fits -p psf.fits -o " + out + " -f fm.fits -m " + (dir / "model.fits").string() +
            " -s 25 -n 50 -r 0.1 --bundlesize 25 --nsubbundles 5 --nwavestep 40 -v --no-scores --gpu "
            "--psferr 0.02 --pixpad-frac 0.5 --wavepad-frac 0.3"));
  const auto& a = parsed.args;
  CHECK(a.fibermap == "fm.fits");
  CHECK(a.specmin == 25);
  CHECK(a.nspec == 50);
  CHECK(a.options.regularize == 0.1);
  CHECK(a.options.nwavestep == 40);
  CHECK(a.verbose);
  CHECK(a.no_scores);
  CHECK(a.desi.gpu);
  CHECK(a.options.pixpad_frac == 0.5);
  CHECK(a.options.wavepad_frac == 0.3);
  // --decorrelate-fibers: desispec's gpu_specter path refuses it too.
  CHECK(usage_error([&] {
          perfex::drivers::parse_extract_command_line(split("-i a -p b -o " + out + " --decorrelate-fibers"));
        }).find("--decorrelate-fibers") != std::string::npos);
  const auto help = perfex::drivers::parse_extract_command_line({"--help"});
  CHECK(help.help);
  CHECK(help.help_text.find("--no-gpu") != std::string::npos);
  CHECK(help.help_text.find("--use-specter") != std::string::npos);
}

TEST_CASE("argparse's unique prefixes of long options, on every subcommand", "[drivers][cli][prefix]") {
  FullApp p;
  // Unique prefixes become the option, with or without =VALUE; exact names win over longer ones.
  CHECK(p.expand({"extract", "--barycentric", "--psf", "p.fits", "--psfe=0.01", "--no-s", "--wavel", "1,2,3"}) ==
        Words{"extract", "--barycentric-correction", "--psf", "p.fits", "--psferr=0.01", "--no-scores", "--wavelength",
              "1,2,3"});
  // Ambiguity: argparse's message, the candidates in definition order.
  CHECK(usage_error([&] {
          p.expand({"extract", "--no"});
        }) == "ambiguous option: --no could match --no-scores, --no-gpu");
  CHECK(usage_error([&] {
          p.expand({"extract", "--wave=1,2,3"});
        }) == "ambiguous option: --wave could match --wavelength, --wavepad-frac");
  // Values, arguments after --, unknown options and short options are left alone.
  CHECK(p.expand({"extract", "-o", "--bary", "--psferr", "--over", "-w", "--nsub"}) ==
        Words{"extract", "-o", "--bary", "--psferr", "--over", "-w", "--nsub"});
  CHECK(p.expand({"extract", "-vo", "--bary", "--", "--over"}) == Words{"extract", "-vo", "--bary", "--", "--over"});
  CHECK(p.expand({"extract", "-v", "--bary"}) == Words{"extract", "-v", "--barycentric-correction"});
  CHECK(p.expand({"extract", "--no-such"}) == Words{"extract", "--no-such"});
  // Each subcommand's own options, nested subcommands included.
  CHECK(p.expand({"compare", "a.fits", "b.fits", "--fl", "--fib", "0:10"}) ==
        Words{"compare", "a.fits", "b.fits", "--float32", "--fibers", "0:10"});
  CHECK(p.expand({"psf", "synth", "-o", "x.fits", "--cam", "r", "--over"}) ==
        Words{"psf", "synth", "-o", "x.fits", "--camera", "r", "--overwrite"});
  CHECK(p.expand({"simulate", "-o", "x.fits", "--cosm", "5", "--tru", "t.fits"}) ==
        Words{"simulate", "-o", "x.fits", "--cosmics", "5", "--truth", "t.fits"});
  CHECK(p.expand({"extract-exposure", "dir", "--output-d", "out", "--hdf5", "e.h5"}) ==
        Words{"extract-exposure", "dir", "--output-dir", "out", "--hdf5-exposure", "e.h5"});
  CHECK(p.expand({"convert", "a", "b", "--gr", "r0"}) == Words{"convert", "a", "b", "--group", "r0"});
  CHECK(p.expand({"--vers"}) == Words{"--version"});
  CHECK(p.expand({"info", "--he"}) == Words{"info", "--help"});
}

TEST_CASE("desi_extract_spectra's default grids: the PSF HDU's domain step 0.8; specter's with --use-specter",
          "[drivers][desi]") {
  perfex::SyntheticPsfOptions o;
  o.camera = "z";
  const perfex::GaussHermitePsf psf = perfex::make_synthetic_psf(o);
  const auto& table = psf.params.front().series;
  const auto gpu = perfex::drivers::desi_default_wavelengths(psf, "psf.fits", false);
  CHECK(gpu.wmin == table.wavemin);
  CHECK(gpu.wmax == table.wavemax);
  CHECK(gpu.dw == 0.8);
  CHECK(gpu.grid == perfex::linear_wavelengths(table.wavemin, table.wavemax, 0.8));

  // specter: ceil(wmin_all) .. floor(wmax_all) step 0.7, wmin_all = max over fibers of the wavelength at row
  // -0.5, wmax_all = min over fibers of the wavelength at row NPIX_Y - 0.5.
  const auto sp = perfex::drivers::desi_default_wavelengths(psf, "psf.fits", true);
  CHECK(sp.dw == 0.7);
  CHECK(sp.wmin == std::ceil(sp.wmin));
  CHECK(sp.wmax == std::floor(sp.wmax));
  CHECK(sp.grid == perfex::linear_wavelengths(sp.wmin, sp.wmax, 0.7));
  double lowest_row_at_wmin = 1e9, highest_row_at_wmax = -1e9, lowest_row_before = 1e9, highest_row_after = -1e9;
  for (int f = 0; f < psf.nfiber; ++f) {
    lowest_row_at_wmin = std::min(lowest_row_at_wmin, psf.ytrace.evaluate(f, sp.wmin));
    lowest_row_before = std::min(lowest_row_before, psf.ytrace.evaluate(f, sp.wmin - 1.0));
    highest_row_at_wmax = std::max(highest_row_at_wmax, psf.ytrace.evaluate(f, sp.wmax));
    highest_row_after = std::max(highest_row_after, psf.ytrace.evaluate(f, sp.wmax + 1.0));
  }
  CHECK(lowest_row_at_wmin >= -0.5);  // every fiber is on the CCD at the first bin
  CHECK(lowest_row_before < -0.5);    // and one is not 1 A below it (ceil)
  CHECK(highest_row_at_wmax <= psf.npix_y - 0.5);
  CHECK(highest_row_after > psf.npix_y - 0.5);  // and one is not 1 A beyond the last (floor)
}
