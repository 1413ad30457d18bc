// GAUSS-HERMITE PSF files: the type keywords choose the layout (PSFVER >= 3 here, the one-table layouts in
// psf_table_io.cpp); reader with file/HDU/keyword messages and an atomic writer.
#include "perfex/io/psf_io.hpp"

#include <fitsio.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "perfex/core/error.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/psf_checks.hpp"
#include "psf_io_internal.hpp"

namespace perfex::io {

namespace {

using detail::normalized;
using detail::require_int;
using detail::to_int;
constexpr long max_fibers = detail::max_psf_fibers;
constexpr long max_coefficients = detail::max_psf_coefficients;

const char* const psf_type = "GAUSS-HERMITE";
constexpr int psf_version = 3;
const char* const readable_types = "perfex reads only GAUSS-HERMITE (PSFVER 2 or >= 3) and GAUSS-HERMITE2 PSFs";

// PSF types of specter that perfex does not read, named in the refusal.
const char* known_type(const std::string& type) {
  if (type == "SPOTGRID") return "specter's SpotGridPSF, a grid of spot images";
  if (type == "MONOSPOT") return "specter's MonoSpotPSF, one spot image for every fiber and wavelength";
  if (type == "PCA-PIX") return "specter's PixPSF, pixelated PCA spots";
  return nullptr;
}

// The layout a file's PSFTYPE and PSFVER keywords select, and where they were found (for messages).
struct PsfTypeKeywords {
  PsfLayout layout = PsfLayout::XtraceYtracePsf;
  std::string where;  // the HDU that decided: PSFVER's for GAUSS-HERMITE, PSFTYPE's for GAUSS-HERMITE2
  std::string text;   // what it says, e.g. "keyword PSFVER is 2, the one-table GAUSS-HERMITE layout"
};

// PSFTYPE and PSFVER of HDU 0, then of HDUs XTRACE and PSF (PSFVER >= 3 files), or of HDU 1 when neither
// exists (the one-table layouts): every PSFTYPE found must agree, and so must the layouts the PSFVERs select.
PsfTypeKeywords read_type_keywords(FitsFile& f) {
  std::vector<int> hdus = {0};
  std::string names;
  f.move_to_index(0);
  const std::string primary = f.current_hdu_name();
  for (const char* hdu : {"XTRACE", "PSF"}) {
    if (primary == hdu || !f.has_hdu(hdu)) continue;
    f.move_to(hdu);
    int index = 0;
    fits_get_hdu_num(static_cast<fitsfile*>(f.raw()), &index);
    hdus.push_back(index - 1);
  }
  if (hdus.size() == 1 && f.hdu_count() > 1) hdus.push_back(1);
  std::string type, type_where;
  std::optional<double> version;
  std::string version_text, version_where;
  for (int index : hdus) {
    f.move_to_index(index);
    names += (names.empty() ? "" : ", ") + f.current_hdu_name();
    if (auto t = f.read_key_string("PSFTYPE")) {
      const std::string value = normalized(*t);
      if (type.empty()) {
        type = value;
        type_where = f.where();
      } else if (value != type) {
        throw_data_error(f.where() + ": keyword PSFTYPE is '" + value + "' but '" + type + "' in " + type_where);
      }
    }
    if (auto v = f.read_key_string("PSFVER")) {
      const std::string value = normalized(*v);
      double number = 0.0;
      try {
        std::size_t used = 0;
        number = std::stod(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
      } catch (const std::exception&) {
        throw_data_error(f.where() + ": keyword PSFVER is '" + value + "', expected a version number");
      }
      if (!version) {
        version = number;
        version_text = value;
        version_where = f.where();
      } else if ((*version >= psf_version) != (number >= psf_version)) {
        throw_data_error(f.where() + ": keyword PSFVER is " + value + " but " + version_text + " in " + version_where);
      }
    }
  }
  if (type.empty())
    throw_data_error(f.path() + ": keyword PSFTYPE is missing from HDUs " + names + " (not a PSF file?)");
  PsfTypeKeywords k;
  if (type == "GAUSS-HERMITE2") {
    k.layout = PsfLayout::TwoCores;
    k.where = type_where;
    k.text = "keyword PSFTYPE is 'GAUSS-HERMITE2'";
    return k;
  }
  if (type != psf_type) {
    const char* known = known_type(type);
    throw_data_error(type_where + ": keyword PSFTYPE is '" + type + "'" +
                     (known ? " (" + std::string(known) + "), which perfex does not read" : std::string()) + "; " +
                     readable_types);
  }
  if (!version)
    throw_data_error(f.path() + ": keyword PSFVER is missing from HDUs " + names +
                     "; perfex reads GAUSS-HERMITE PSFs with PSFVER 2 (one table) or >= 3 (HDUs XTRACE, YTRACE, PSF)");
  k.where = version_where;
  if (*version >= psf_version) return k;
  if (*version < 1.0)
    throw_data_error(
        version_where + ": keyword PSFVER is " + version_text +
        "; perfex reads GAUSS-HERMITE PSFs with PSFVER 1-2 (one table) or >= 3 (HDUs XTRACE, YTRACE, PSF)");
  k.layout = PsfLayout::OneTable;
  k.text = "keyword PSFVER is " + version_text + ", the one-table GAUSS-HERMITE layout";
  return k;
}

void read_domain(FitsFile& f, LegendreSeries& s) {
  s.wavemin = f.require_key_double("WAVEMIN");
  s.wavemax = f.require_key_double("WAVEMAX");
}

LegendreSeries read_trace(FitsFile& f, const std::string& extname) {
  f.move_to(extname);
  const auto shape = f.image_shape();
  if (shape.size() != 2)
    throw_data_error(f.where() + ": expected a 2-D image [nfiber, ncoef], found " + std::to_string(shape.size()) +
                     " axes");
  if (shape[0] < 1 || shape[0] > max_fibers || shape[1] < 1 || shape[1] > max_coefficients)
    throw_data_error(f.where() + ": image size [" + std::to_string(shape[0]) + ", " + std::to_string(shape[1]) +
                     "] is not [nfiber, ncoef] with 1 <= nfiber <= " + std::to_string(max_fibers) +
                     " and 1 <= ncoef <= " + std::to_string(max_coefficients));
  LegendreSeries s;
  s.nfiber = static_cast<int>(shape[0]);
  s.ncoef = static_cast<int>(shape[1]);
  read_domain(f, s);
  s.coeff = f.read_image_double();
  return s;
}

void read_psf_table(FitsFile& f, GaussHermitePsf& psf) {
  f.move_to("PSF");
  const int ncoef = detail::param_table_coefficients(f, psf.nfiber, "HDU XTRACE");
  const long nrows = f.table_rows();
  LegendreSeries domain;
  read_domain(f, domain);

  detail::read_ccd_and_stamp_keywords(f, psf);
  psf.psferr_keyword = f.read_key_double("PSFERR");
  psf.psferror_specex = f.read_key_double("PSFERROR");
  if (auto camera = f.read_key_string("CAMERA")) psf.camera = normalized(*camera);
  if (auto fibermin = f.read_key_int("FIBERMIN")) psf.fibermin = to_int(f, "FIBERMIN", *fibermin);

  const long name_width = f.column_repeat("PARAM");
  if (name_width < 1 || name_width > 80)
    throw_data_error(f.where() + ": column PARAM is " + std::to_string(name_width) +
                     " characters wide, expected a short name (8A)");
  const auto names = f.read_column_string("PARAM");
  const auto coeff = f.read_column_double("COEFF");
  std::set<std::string> seen;
  const std::size_t per_row = static_cast<std::size_t>(ncoef) * static_cast<std::size_t>(psf.nfiber);
  for (long row = 0; row < nrows; ++row) {
    const std::string name = normalized(names[static_cast<std::size_t>(row)]);
    if (name.empty()) throw_data_error(f.where() + ": column PARAM is empty in row " + std::to_string(row));
    if (!seen.insert(name).second) throw_data_error(f.where() + ": PARAM row '" + name + "' appears more than once");
    NamedSeries p;
    p.name = name;
    p.series = domain;
    p.series.nfiber = psf.nfiber;
    p.series.ncoef = ncoef;
    const auto first = coeff.begin() + static_cast<std::ptrdiff_t>(row * per_row);
    p.series.coeff.assign(first, first + static_cast<std::ptrdiff_t>(per_row));
    psf.params.push_back(std::move(p));
  }
}

// PSFVER >= 3: HDUs XTRACE, YTRACE and the PSF table.
GaussHermitePsf read_xtrace_ytrace_psf(FitsFile& file) {
  GaussHermitePsf psf;
  psf.xtrace = read_trace(file, "XTRACE");
  psf.nfiber = psf.xtrace.nfiber;
  if (auto fibermin = file.read_key_int("FIBERMIN")) psf.fibermin = to_int(file, "FIBERMIN", *fibermin);
  psf.ytrace = read_trace(file, "YTRACE");
  read_psf_table(file, psf);
  return psf;
}

}  // namespace

GaussHermitePsf read_psf(FitsFile& file) {
  const PsfTypeKeywords type = read_type_keywords(file);
  check_psf_keywords(file, type.layout);  // impossible FIBERMIN/FIBERMAX/PSFERR, in every layout (psf_checks.hpp)
  GaussHermitePsf psf = type.layout == PsfLayout::XtraceYtracePsf
                            ? read_xtrace_ytrace_psf(file)
                            : detail::read_one_table_psf(file, type.layout, type.where, type.text);
  psf.validate(file.path());
  check_psf_values(psf, file.path());  // traces and sigmas the spot kernels can use (psf_checks.hpp)
  return psf;
}

GaussHermitePsf read_psf(const std::string& path) {
  FitsFile file(path, FitsFile::Mode::Read);
  return read_psf(file);
}

namespace {

void write_trace(FitsFile& f, const std::string& extname, const LegendreSeries& s, const GaussHermitePsf& psf) {
  f.write_image(extname, {s.nfiber, s.ncoef}, s.coeff);
  f.write_key("FIBERMIN", psf.fibermin, "first fiber (starting at 0)");
  f.write_key("FIBERMAX", psf.fibermin + psf.nfiber - 1, "last fiber (included)");
  f.write_key("WAVEMIN", s.wavemin, "Legendre domain (A)");
  f.write_key("WAVEMAX", s.wavemax, "Legendre domain (A)");
}

}  // namespace

void write_psf(const GaussHermitePsf& psf, FitsFile& file) {
  if (psf.layout != PsfLayout::XtraceYtracePsf) {
    detail::write_one_table_psf(psf, file);
    return;
  }
  write_trace(file, "XTRACE", psf.xtrace, psf);
  file.write_key("PSFTYPE", psf_type);
  file.write_key("PSFVER", psf_version);
  write_trace(file, "YTRACE", psf.ytrace, psf);

  // One table: every row shares the COEFF width and the HDU's WAVEMIN/WAVEMAX.
  int ncoef = 1;
  std::size_t name_width = 8;
  for (const auto& p : psf.params) {
    ncoef = std::max(ncoef, p.series.ncoef);
    name_width = std::max(name_width, p.name.size());
  }
  LegendreSeries domain = psf.params.empty() ? psf.xtrace : psf.params.front().series;
  for (const auto& p : psf.params)
    if (p.series.wavemin != domain.wavemin || p.series.wavemax != domain.wavemax)
      throw_data_error(file.path() + ": PSF row " + p.name +
                       " has another wavelength domain than the other rows; one PSF table cannot hold both");
  const long nrows = static_cast<long>(psf.params.size());
  const std::size_t per_row = static_cast<std::size_t>(psf.nfiber) * static_cast<std::size_t>(ncoef);
  std::vector<std::string> names;
  std::vector<double> coeff(per_row * psf.params.size(), 0.0);
  std::vector<std::int32_t> legdegx(psf.params.size(), 0), legdegw;
  for (std::size_t r = 0; r < psf.params.size(); ++r) {
    const auto& s = psf.params[r].series;
    names.push_back(psf.params[r].name);
    legdegw.push_back(s.ncoef - 1);
    for (int i = 0; i < s.nfiber && i < psf.nfiber; ++i)
      for (int k = 0; k < s.ncoef; ++k) coeff[r * per_row + static_cast<std::size_t>(i) * ncoef + k] = s.at(i, k);
  }
  file.create_table("PSF",
                    {{"PARAM", std::to_string(name_width) + "A"},
                     {"COEFF", std::to_string(per_row) + "D"},
                     {"LEGDEGX", "J"},
                     {"LEGDEGW", "J"}},
                    nrows);
  file.write_column("PARAM", names);
  file.write_column("COEFF", coeff);
  file.write_column("LEGDEGX", legdegx);
  file.write_column("LEGDEGW", legdegw);
  file.write_column_dims("COEFF", {psf.nfiber, ncoef});
  file.write_key("PSFTYPE", psf_type);
  file.write_key("PSFVER", std::to_string(psf_version));
  if (!psf.camera.empty()) file.write_key("CAMERA", psf.camera, "camera ID");
  file.write_key("NPIX_X", psf.npix_x, "number of columns in input CCD image");
  file.write_key("NPIX_Y", psf.npix_y, "number of rows in input CCD image");
  file.write_key("HSIZEX", psf.hsizex, "Half size of PSF stamp, NX=2*HSIZEX+1");
  file.write_key("HSIZEY", psf.hsizey, "Half size of PSF stamp, NY=2*HSIZEY+1");
  file.write_key("FIBERMIN", psf.fibermin, "first fiber (starting at 0)");
  file.write_key("FIBERMAX", psf.fibermin + psf.nfiber - 1, "last fiber (included)");
  file.write_key("LEGDEG", ncoef - 1, "degree of Legendre pol.(wave) for parameters");
  file.write_key("GHDEGX", psf.ghdegx, "degree of Hermite polynomial along CCD columns");
  file.write_key("GHDEGY", psf.ghdegy, "degree of Hermite polynomial along CCD rows");
  file.write_key("WAVEMIN", domain.wavemin, "Legendre domain (A) of the parameters");
  file.write_key("WAVEMAX", domain.wavemax, "Legendre domain (A) of the parameters");
  if (psf.psferr_keyword) file.write_key("PSFERR", *psf.psferr_keyword, "fractional PSF model error");
  if (psf.psferror_specex) file.write_key("PSFERROR", *psf.psferror_specex, "assumed PSF fractional error in chi2");
}

void write_psf(const GaussHermitePsf& psf, const std::string& path, bool overwrite) {
  psf.validate("PSF to write to " + path);
  AtomicOutput out(path, overwrite);
  {
    FitsFile file(out);
    write_psf(psf, file);
    file.close();
  }
  out.commit();
}

}  // namespace perfex::io
