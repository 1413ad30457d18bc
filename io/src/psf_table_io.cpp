// specter's older PSF files: GAUSS-HERMITE PSFVER 1-2 and GAUSS-HERMITE2, one binary table in HDU 1 whose
// rows are every Legendre series (the traces X and Y among them), each with its own WAVEMIN/WAVEMAX.
#include <fitsio.h>

#include <algorithm>
#include <cstddef>
#include <set>
#include <utility>
#include <vector>

#include "psf_io_internal.hpp"

namespace perfex::io::detail {

namespace {

// What a one-table layout must say in its type keywords.
const char* type_name(PsfLayout layout) { return layout == PsfLayout::TwoCores ? "GAUSS-HERMITE2" : "GAUSS-HERMITE"; }

// HDU 1 must be a binary table; anything else is explained with the keywords that chose this layout.
void move_to_table(FitsFile& f, const std::string& type_where, const std::string& type_text) {
  if (f.hdu_count() < 2)
    throw_data_error(type_where + ": " + type_text +
                     ", whose rows are a binary table in HDU 1, but the file has no HDU 1");
  f.move_to_index(1);
  int status = 0, hdutype = 0;
  fits_get_hdu_type(static_cast<fitsfile*>(f.raw()), &hdutype, &status);
  f.check(status, "reading the HDU type");
  if (hdutype != BINARY_TBL)
    throw_data_error(type_where + ": " + type_text + ", whose rows are a binary table in HDU 1, but HDU 1 (" +
                     f.current_hdu_name() + ") is " + (hdutype == IMAGE_HDU ? "an image" : "an ASCII table") +
                     " (PSFVER >= 3 files hold HDUs XTRACE, YTRACE and PSF)");
}

// Row `row` of COEFF [nfiber][ncoef], without its trailing terms that are 0 for every fiber: every row shares
// the column's width, so shorter series (GAUSS-HERMITE2's NCOEFF) are padded with zeros, which add exactly
// nothing to a Legendre sum (x + 0 * P_k(w) == x).
LegendreSeries series_of_row(const std::vector<double>& coeff, long row, int nfiber, int ncoef, double wavemin,
                             double wavemax) {
  const std::size_t per_row = static_cast<std::size_t>(nfiber) * static_cast<std::size_t>(ncoef);
  const double* c = coeff.data() + static_cast<std::size_t>(row) * per_row;
  int used = ncoef;
  auto column_is_zero = [&](int k) {
    for (int f = 0; f < nfiber; ++f)
      if (c[static_cast<std::size_t>(f) * ncoef + k] != 0.0) return false;
    return true;
  };
  while (used > 1 && column_is_zero(used - 1)) --used;
  LegendreSeries s;
  s.wavemin = wavemin;
  s.wavemax = wavemax;
  s.nfiber = nfiber;
  s.ncoef = used;
  s.coeff.resize(static_cast<std::size_t>(nfiber) * used);
  for (int f = 0; f < nfiber; ++f)
    for (int k = 0; k < used; ++k)
      s.coeff[static_cast<std::size_t>(f) * used + k] = c[static_cast<std::size_t>(f) * ncoef + k];
  return s;
}

}  // namespace

GaussHermitePsf read_one_table_psf(FitsFile& f, PsfLayout layout, const std::string& type_where,
                                   const std::string& type_text) {
  move_to_table(f, type_where, type_text);
  GaussHermitePsf psf;
  psf.layout = layout;
  // nfiber from FIBERMIN/FIBERMAX, as specter counts them (there is no trace image to take it from); FIBERMIN
  // >= 0 and FIBERMAX >= FIBERMIN were checked with the other keywords (check_psf_keywords).
  const long long fibermin = f.require_key_int("FIBERMIN"), fibermax = f.require_key_int("FIBERMAX");
  if (fibermax - fibermin + 1 > max_psf_fibers)
    throw_data_error(f.where() + ": keywords FIBERMIN " + std::to_string(fibermin) + " and FIBERMAX " +
                     std::to_string(fibermax) + " give " + std::to_string(fibermax - fibermin + 1) +
                     " fibers, more than the " + std::to_string(max_psf_fibers) + " perfex reads");
  psf.nfiber = static_cast<int>(fibermax - fibermin + 1);
  psf.fibermin = to_int(f, "FIBERMIN", fibermin);
  read_ccd_and_stamp_keywords(f, psf);
  if (layout == PsfLayout::TwoCores) {
    psf.ghdegx2 = require_int(f, "GHDEGX2");
    psf.ghdegy2 = require_int(f, "GHDEGY2");
  }
  psf.psferr_keyword = f.read_key_double("PSFERR");
  psf.psferror_specex = f.read_key_double("PSFERROR");
  if (auto camera = f.read_key_string("CAMERA")) psf.camera = normalized(*camera);

  const int ncoef = param_table_coefficients(f, psf.nfiber, "FIBERMIN..FIBERMAX");
  const long nrows = f.table_rows();
  for (const char* column : {"WAVEMIN", "WAVEMAX"})
    if (f.column_repeat(column) != 1)
      throw_data_error(f.where() + ": column " + column + " must hold one value per row (the row's Legendre domain)");
  const long name_width = f.column_repeat("PARAM");
  if (name_width < 1 || name_width > 80)
    throw_data_error(f.where() + ": column PARAM is " + std::to_string(name_width) +
                     " characters wide, expected a short name (8A)");
  const auto names = f.read_column_string("PARAM");
  const auto wavemin = f.read_column_double("WAVEMIN");
  const auto wavemax = f.read_column_double("WAVEMAX");
  const auto coeff = f.read_column_double("COEFF");

  std::set<std::string> seen;
  for (long row = 0; row < nrows; ++row) {
    const std::size_t r = static_cast<std::size_t>(row);
    const std::string name = normalized(names[r]);
    if (name.empty()) throw_data_error(f.where() + ": column PARAM is empty in row " + std::to_string(row));
    if (!seen.insert(name).second) throw_data_error(f.where() + ": PARAM row '" + name + "' appears more than once");
    LegendreSeries s = series_of_row(coeff, row, psf.nfiber, ncoef, wavemin[r], wavemax[r]);
    if (name == "X")
      psf.xtrace = std::move(s);
    else if (name == "Y")
      psf.ytrace = std::move(s);
    else
      psf.params.push_back({name, std::move(s)});
  }
  for (const char* trace : {"X", "Y"})
    if (!seen.count(trace))
      throw_data_error(f.where() + ": the PSF table has no PARAM row '" + std::string(trace) + "' (the trace)");
  return psf;
}

void write_one_table_psf(const GaussHermitePsf& psf, FitsFile& file) {
  const bool two_cores = psf.layout == PsfLayout::TwoCores;
  // HDU 0: no data, the type keywords specter dispatches on.
  file.write_image("", {0}, std::vector<double>{});
  file.write_key("PSFTYPE", type_name(psf.layout));
  file.write_key("PSFVER", "2");

  // HDU 1: every series a row, X and Y first; rows with fewer coefficients padded with zeros.
  std::vector<std::pair<std::string, const LegendreSeries*>> rows = {{"X", &psf.xtrace}, {"Y", &psf.ytrace}};
  for (const auto& p : psf.params) rows.emplace_back(p.name, &p.series);
  int ncoef = 1;
  std::size_t name_width = 8;
  for (const auto& [name, s] : rows) {
    ncoef = std::max(ncoef, s->ncoef);
    name_width = std::max(name_width, name.size());
  }
  const std::size_t per_row = static_cast<std::size_t>(psf.nfiber) * static_cast<std::size_t>(ncoef);
  std::vector<std::string> names;
  std::vector<double> wavemin, wavemax, nterms, coeff(per_row * rows.size(), 0.0);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const LegendreSeries& s = *rows[r].second;
    names.push_back(rows[r].first);
    wavemin.push_back(s.wavemin);
    wavemax.push_back(s.wavemax);
    nterms.push_back(s.ncoef);
    for (int i = 0; i < s.nfiber && i < psf.nfiber; ++i)
      for (int k = 0; k < s.ncoef; ++k) coeff[r * per_row + static_cast<std::size_t>(i) * ncoef + k] = s.at(i, k);
  }
  std::vector<std::pair<std::string, std::string>> columns = {
      {"PARAM", std::to_string(name_width) + "A"}, {"WAVEMIN", "D"}, {"WAVEMAX", "D"}};
  if (two_cores) columns.emplace_back("NCOEFF", "D");  // the coefficients the fit used, as specex writes
  columns.emplace_back("COEFF", std::to_string(per_row) + "D");
  file.create_table("", columns, static_cast<long>(rows.size()));
  file.write_column("PARAM", names);
  file.write_column("WAVEMIN", wavemin);
  file.write_column("WAVEMAX", wavemax);
  if (two_cores) file.write_column("NCOEFF", nterms);
  file.write_column("COEFF", coeff);
  file.write_column_dims("COEFF", {psf.nfiber, ncoef});
  file.write_key("PSFTYPE", type_name(psf.layout));
  file.write_key("PSFVER", "2");
  if (!psf.camera.empty()) file.write_key("CAMERA", psf.camera, "camera ID");
  file.write_key("NPIX_X", psf.npix_x, "number of columns in input CCD image");
  file.write_key("NPIX_Y", psf.npix_y, "number of rows in input CCD image");
  file.write_key("HSIZEX", psf.hsizex,
                 two_cores ? "Half size of PSF stamp, NX=2*HSIZEX" : "Half size of PSF stamp, NX=2*HSIZEX+1");
  file.write_key("HSIZEY", psf.hsizey,
                 two_cores ? "Half size of PSF stamp, NY=2*HSIZEY" : "Half size of PSF stamp, NY=2*HSIZEY+1");
  file.write_key("FIBERMIN", psf.fibermin, "first fiber (starting at 0)");
  file.write_key("FIBERMAX", psf.fibermin + psf.nfiber - 1, "last fiber (included)");
  file.write_key(two_cores ? "NCOEFMAX" : "LEGDEG", two_cores ? ncoef : ncoef - 1,
                 two_cores ? "largest value of NCOEF in the table" : "degree of Legendre pol.(wave) for parameters");
  file.write_key("GHDEGX", psf.ghdegx, "degree of Hermite polynomial along CCD columns");
  file.write_key("GHDEGY", psf.ghdegy, "degree of Hermite polynomial along CCD rows");
  if (two_cores) {
    file.write_key("GHDEGX2", psf.ghdegx2, "degree of Hermite polynomial along CCD columns (second core)");
    file.write_key("GHDEGY2", psf.ghdegy2, "degree of Hermite polynomial along CCD rows (second core)");
  }
  if (psf.psferr_keyword) file.write_key("PSFERR", *psf.psferr_keyword, "fractional PSF model error");
  if (psf.psferror_specex) file.write_key("PSFERROR", *psf.psferror_specex, "assumed PSF fractional error in chi2");
}

}  // namespace perfex::io::detail
