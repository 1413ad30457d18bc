// Frame files in DESI's data model (float32 DESI HDUs, optional float64 ones), model images, and the
// simulation-truth spectra read by perfex pulls.
#include "perfex/io/frame_io.hpp"

#include <fitsio.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include "frame_header_internal.hpp"
#include "frame_values.hpp"
#include "perfex/core/error.hpp"
#include "perfex/core/version.hpp"
#include "perfex/io/atomic_output.hpp"
#include "perfex/io/fits_checksum.hpp"
#include "perfex/io/fits_file.hpp"
#include "perfex/io/header_cards.hpp"

namespace perfex::io {

namespace {

fitsfile* fp(FitsFile& f) { return static_cast<fitsfile*>(f.raw()); }

std::string shape_text(const std::vector<long>& shape) {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? " x " : "") + std::to_string(shape[i]);
  return shape.empty() ? "no data" : s;
}

template <class T, class View>
std::vector<T> flatten(const View& v) {
  std::vector<T> out(v.size());
  const auto* p = v.data();  // LayoutRight host views: row-major, contiguous
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = static_cast<T>(p[k]);
  return out;
}

// A contiguous (LayoutRight) host view of doubles as an image HDU of float32 or float64 pixels, converted by
// CFITSIO as it writes (no float copy of the array: ~50 MB for a frame's RESOLUTION).
template <class View>
void write_doubles(FitsFile& f, const std::string& extname, const std::vector<long>& dims, const View& v,
                   bool as_float32) {
  if (!v.span_is_contiguous()) throw std::logic_error("write_frame: " + extname + " is not contiguous");
  f.write_image(extname, dims, v.data(), v.span(), as_float32);
}

// Strings longer than a card holds (paths) use the CONTINUE convention.
void write_long_string(FitsFile& f, const std::string& key, const std::string& value, const std::string& comment) {
  update_long_string(f, key, value, comment);
}

std::optional<std::string> read_long_string(FitsFile& f, const std::string& key) {
  int status = 0;
  char* value = nullptr;
  fits_read_key_longstr(fp(f), key.c_str(), &value, nullptr, &status);
  if (status == KEY_NO_EXIST) {
    fits_clear_errmsg();
    return std::nullopt;
  }
  f.check(status, "reading keyword " + key);
  std::string s = value ? value : "";
  if (value) fits_free_memory(value, &status);
  return s;
}

}  // namespace

void detail::write_frame_keywords(FitsFile& f, const Frame& frame) {
  const FrameHeader& h = frame.header;
  const FrameResult& d = frame.data;
  f.write_key("BUNIT", "electron/Angstrom", "flux unit");
  // The input's keywords: kept as the propagated cards have them (value, type and comment), else written.
  auto absent = [&h](const char* key) {
    for (const std::string& c : h.cards)
      if (card_keyword(c) == key) return false;
    return true;
  };
  if (!h.camera.empty() && absent("CAMERA")) f.write_key("CAMERA", h.camera, "camera (b, r or z and the spectrograph)");
  if (h.expid && absent("EXPID")) f.write_key("EXPID", *h.expid, "exposure ID");
  if (h.night && absent("NIGHT")) f.write_key("NIGHT", *h.night, "night of the observation (YYYYMMDD)");
  if (h.mjd_obs && absent("MJD-OBS")) f.write_key("MJD-OBS", *h.mjd_obs, "modified Julian date of the exposure start");
  if (h.exptime && absent("EXPTIME")) f.write_key("EXPTIME", *h.exptime, "exposure time [s]");
  if (!h.flavor.empty() && absent("FLAVOR")) f.write_key("FLAVOR", h.flavor, "exposure type");
  f.write_key("NSPEC", d.nspec, "number of spectra");
  f.write_key("SPECMIN", d.specmin, "first spectrum (fiber index in the PSF)");
  f.write_key("SPECMAX", d.specmin + d.nspec - 1, "last spectrum");
  const double step = d.nwave > 1 ? (d.wavelengths.back() - d.wavelengths.front()) / (d.nwave - 1) : 0.0;
  f.write_key("WAVEMIN", std::isnan(h.wavemin) ? d.wavelengths.front() : h.wavemin, "first wavelength [Angstrom]");
  f.write_key("WAVEMAX", std::isnan(h.wavemax) ? d.wavelengths.back() : h.wavemax, "last wavelength [Angstrom]");
  f.write_key("WAVESTEP", std::isnan(h.wavestep) ? step : h.wavestep, "wavelength step [Angstrom]");
  write_long_string(f, "IN_PSF", h.in_psf, "input PSF");
  write_long_string(f, "IN_IMG", h.in_img, "input preprocessed image");
  const ExtractionOptions& o = h.options;
  f.write_key("BUNDLESZ", o.bundlesize, "fibers per bundle");
  f.write_key("NSUBBUN", o.nsubbundles, "subbundles per bundle");
  f.write_key("NWAVSTEP", o.nwavestep, "core wavelength bins per patch");
  f.write_key("WAVEPADF", o.wavepad_frac, "wavelength padding fraction");
  f.write_key("WAVEPADT", o.wavepad(), "wavelength padding bins used");
  f.write_key("PIXPADF", o.pixpad_frac, "pixel padding fraction");
  f.write_key("REGULARI", o.regularize, "regularization");
  f.write_key("PSFERR", o.psferr, "fractional PSF model error used in chi2pix");
  f.write_key("NDIAG", o.ndiag, "resolution half-width (diagonals 2 NDIAG + 1)");
  f.write_key("PSFTAILS", h.psf_tails, "PSF tails evaluated");
  f.write_key("HELIOCOR", h.heliocor, "extracted on WAVELENGTH / HELIOCOR");
  // The version that extracted the frame: the reader's (perfex convert keeps it), else this one.
  f.write_key("PERFEXV", h.version.empty() ? std::string(PERFEX_VERSION_STRING) : h.version, "perfex version");
}

namespace {

// Rows [first, first + count) of the FIBERMAP HDU of another file: the whole HDU is copied (header, columns
// and heap unchanged), then the other rows are deleted.
void copy_fibermap_rows(FitsFile& out, const std::string& path, long first, long count) {
  FitsFile in(path, FitsFile::Mode::Read);
  in.move_to("FIBERMAP");
  const long nrows = in.table_rows();
  if (first + count > nrows)
    throw_data_error(in.where() + ": has " + std::to_string(nrows) + " rows, the frame needs rows " +
                     std::to_string(first) + ".." + std::to_string(first + count - 1));
  int status = 0;
  fits_copy_hdu(fp(in), fp(out), 0, &status);
  out.check(status, "copying HDU FIBERMAP from " + path);
  const long after = nrows - (first + count);
  if (after > 0) fits_delete_rows(fp(out), first + count + 1, after, &status);
  if (first > 0) fits_delete_rows(fp(out), 1, first, &status);
  out.check(status, "selecting the FIBERMAP rows");
}

void write_fibermap_hdu(FitsFile& f, const FibermapSource& source, long count) {
  if (source.table) {
    if (source.first < 0 || source.first + count > source.table->size())
      throw_data_error("the fibermap has " + std::to_string(source.table->size()) + " rows, the frame needs rows " +
                       std::to_string(source.first) + ".." + std::to_string(source.first + count - 1));
    write_fibermap(f, *source.table, source.first, count);
  } else if (!source.path.empty()) {
    copy_fibermap_rows(f, source.path, source.first, count);
  }
}

// The current image HDU, checked against the expected shape.
std::vector<double> read_checked(FitsFile& f, const std::string& hdu, const std::vector<long>& expected) {
  f.move_to(hdu);
  const auto shape = f.image_shape();
  if (shape != expected)
    throw_data_error(f.where() + ": expected shape " + shape_text(expected) + ", found " + shape_text(shape));
  return f.read_image_double();
}

template <class View>
void fill(View& v, const std::vector<double>& data) {
  auto* p = v.data();
  for (std::size_t k = 0; k < data.size(); ++k) p[k] = data[k];
}

}  // namespace

void check_frame_shapes(const Frame& frame, const std::string& writer) {
  const FrameResult& d = frame.data;
  const auto ns = static_cast<std::size_t>(d.nspec), nw = static_cast<std::size_t>(d.nwave);
  const auto nd = static_cast<std::size_t>(2 * d.ndiag + 1);
  auto same2 = [&](std::size_t a, std::size_t b) { return a == ns && b == nw; };
  if (d.nspec < 1 || d.nwave < 1 || d.wavelengths.size() != nw || !same2(d.flux.extent(0), d.flux.extent(1)) ||
      !same2(d.ivar.extent(0), d.ivar.extent(1)) || !same2(d.chi2pix.extent(0), d.chi2pix.extent(1)) ||
      !same2(frame.mask.extent(0), frame.mask.extent(1)) || d.resolution.extent(0) != ns ||
      d.resolution.extent(1) != nd || d.resolution.extent(2) != nw)
    throw_usage_error(writer + ": the frame's arrays do not share its " + std::to_string(d.nspec) + " x " +
                      std::to_string(d.nwave) + " shape");
}

std::optional<long long> fibermap_first_fiber(const FibermapSource& source, long count) {
  std::vector<long long> fibers;
  if (source.table) {
    const Fibermap& fm = *source.table;
    for (long r = source.first; r < source.first + count && r < fm.size(); ++r)
      fibers.push_back(fm.fiber[static_cast<std::size_t>(r)]);
  } else if (!source.path.empty()) {
    FitsFile in(source.path, FitsFile::Mode::Read);
    in.move_to("FIBERMAP");
    if (!in.find_column("FIBER")) return std::nullopt;
    const auto all = in.read_column_int("FIBER");
    for (long r = source.first; r < source.first + count && r < static_cast<long>(all.size()); ++r)
      fibers.push_back(all[static_cast<std::size_t>(r)]);
  }
  if (fibers.empty()) return std::nullopt;
  return *std::min_element(fibers.begin(), fibers.end());
}

void write_frame(const std::string& path, const Frame& input, const FibermapSource& fibermap,
                 const FrameWriteOptions& options) {
  check_frame_shapes(input, "write_frame");
  const std::optional<Frame> masked = detail::writable_frame(input);  // no inf or NaN in any HDU
  const Frame& frame = masked ? *masked : input;
  const FrameResult& d = frame.data;
  const long ns = d.nspec, nw = d.nwave, nd = 2 * d.ndiag + 1;
  AtomicOutput out(path, options.overwrite);
  {
    FitsFile f(out);
    write_doubles(f, "FLUX", {ns, nw}, d.flux, true);
    detail::write_flux_header(f, frame);
    write_doubles(f, "IVAR", {ns, nw}, d.ivar, true);
    f.write_key("BUNIT", "Angstrom2/electron2", "inverse variance of FLUX");
    f.write_image("MASK", {ns, nw}, flatten<std::uint32_t>(frame.mask));
    f.write_comment("specmask bits (desispec.maskbits.specmask): SOMEBADPIX 0, ALLBADPIX 1, BAD2DFIT 7");
    f.write_image("WAVELENGTH", {nw}, d.wavelengths);
    f.write_key("BUNIT", "Angstrom", "vacuum wavelength");
    write_doubles(f, "RESOLUTION", {ns, nd, nw}, d.resolution, true);
    f.write_key("NDIAG", d.ndiag, "RESOLUTION[i, d, j] = R_i[j - NDIAG + d, j]");
    write_fibermap_hdu(f, fibermap, ns);
    write_doubles(f, "CHI2PIX", {ns, nw}, d.chi2pix, true);
    if (frame.scores) write_raw_table(f, *frame.scores, 0, frame.scores->nrows, "SCORES");
    if (options.float64) {
      write_doubles(f, "FLUX64", {ns, nw}, d.flux, false);
      f.write_key("BUNIT", "electron/Angstrom", "FLUX in float64");
      write_doubles(f, "IVAR64", {ns, nw}, d.ivar, false);
      f.write_key("BUNIT", "Angstrom2/electron2", "IVAR in float64");
      write_doubles(f, "RESOLUTION64", {ns, nd, nw}, d.resolution, false);
      write_doubles(f, "CHI2PIX64", {ns, nw}, d.chi2pix, false);
      if (d.pixmask_fraction.extent(0) != static_cast<std::size_t>(ns) ||
          d.pixmask_fraction.extent(1) != static_cast<std::size_t>(nw))
        throw_usage_error("write_frame: --float64 needs the pixmask_fraction of every bin");
      write_doubles(f, "PIXMASK_FRACTION", {ns, nw}, d.pixmask_fraction, false);
      f.write_comment("PSF-weighted fraction of masked pixels of each bin");
    }
    write_checksums(f);
    f.close();
  }
  out.commit();
}

Frame read_frame(const std::string& path, bool prefer_float64) {
  FitsFile f(path, FitsFile::Mode::Read);
  Frame frame;
  FrameResult& d = frame.data;
  if (!f.has_hdu("FLUX")) throw_data_error(path + ": HDU FLUX is missing (not a frame file?)");
  f.move_to("FLUX");
  const auto shape = f.image_shape();
  if (shape.size() != 2 || shape[0] < 1 || shape[1] < 1)
    throw_data_error(f.where() + ": expected a 2D image [nspec, nwave], found " + shape_text(shape));
  d.nspec = static_cast<int>(shape[0]);
  d.nwave = static_cast<int>(shape[1]);
  d.specmin = static_cast<int>(f.read_key_int("SPECMIN").value_or(0));

  FrameHeader& h = frame.header;
  h.cards = read_header_cards(f);
  h.fibermin = f.read_key_int("FIBERMIN");
  h.orig_psf = read_long_string(f, "ORIG_PSF").value_or("");
  h.camera = f.read_key_string("CAMERA").value_or("");
  h.expid = f.read_key_int("EXPID");
  h.night = f.read_key_int("NIGHT");
  h.mjd_obs = f.read_key_double("MJD-OBS");
  h.exptime = f.read_key_double("EXPTIME");
  h.flavor = f.read_key_string("FLAVOR").value_or("");
  h.in_psf = read_long_string(f, "IN_PSF").value_or("");
  h.in_img = read_long_string(f, "IN_IMG").value_or("");
  ExtractionOptions& o = h.options;
  o.bundlesize = static_cast<int>(f.read_key_int("BUNDLESZ").value_or(o.bundlesize));
  o.nsubbundles = static_cast<int>(f.read_key_int("NSUBBUN").value_or(o.nsubbundles));
  o.nwavestep = static_cast<int>(f.read_key_int("NWAVSTEP").value_or(o.nwavestep));
  o.wavepad_frac = f.read_key_double("WAVEPADF").value_or(o.wavepad_frac);
  if (auto pad = f.read_key_int("WAVEPADT")) o.wavepad_bins = static_cast<int>(*pad);  // the padding used
  o.pixpad_frac = f.read_key_double("PIXPADF").value_or(o.pixpad_frac);
  o.regularize = f.read_key_double("REGULARI").value_or(o.regularize);
  o.psferr = f.read_key_double("PSFERR").value_or(o.psferr);
  if (auto t = f.read_key_string("PSFTAILS")) h.psf_tails = *t == "T";
  h.heliocor = f.read_key_double("HELIOCOR").value_or(1.0);
  h.wavemin = f.read_key_double("WAVEMIN").value_or(h.wavemin);
  h.wavemax = f.read_key_double("WAVEMAX").value_or(h.wavemax);
  h.wavestep = f.read_key_double("WAVESTEP").value_or(h.wavestep);
  h.version = f.read_key_string("PERFEXV").value_or("");

  const bool exact = prefer_float64 && f.has_hdu("FLUX64");
  frame.exact = exact;
  const std::vector<long> s2 = {d.nspec, d.nwave};
  auto view2 = [&](const char* label) { return ResultView<double**>(std::string(label), d.nspec, d.nwave); };

  d.flux = view2("perfex::frame::flux");
  fill(d.flux, read_checked(f, exact ? "FLUX64" : "FLUX", s2));
  d.ivar = view2("perfex::frame::ivar");
  fill(d.ivar, read_checked(f, exact ? "IVAR64" : "IVAR", s2));

  f.move_to("MASK");
  if (f.image_shape() != s2)
    throw_data_error(f.where() + ": expected shape " + shape_text(s2) + ", found " + shape_text(f.image_shape()));
  frame.mask = ResultView<std::uint32_t**>("perfex::frame::mask", d.nspec, d.nwave);
  {
    f.check_compressed_image();
    int status = 0, anynul = 0;
    fits_read_img(fp(f), TUINT, 1, static_cast<LONGLONG>(frame.mask.size()), nullptr, frame.mask.data(), &anynul,
                  &status);
    f.check(status, "reading the mask");
  }

  f.move_to("WAVELENGTH");
  if (f.image_shape() != std::vector<long>{d.nwave})
    throw_data_error(f.where() + ": expected " + std::to_string(d.nwave) + " wavelengths, found " +
                     shape_text(f.image_shape()));
  d.wavelengths = f.read_image_double();

  const char* res_hdu = exact && f.has_hdu("RESOLUTION64") ? "RESOLUTION64" : "RESOLUTION";
  f.move_to(res_hdu);
  const auto rshape = f.image_shape();
  if (rshape.size() != 3 || rshape[0] != d.nspec || rshape[2] != d.nwave || rshape[1] % 2 != 1)
    throw_data_error(f.where() + ": expected shape " + std::to_string(d.nspec) + " x (2 ndiag + 1) x " +
                     std::to_string(d.nwave) + ", found " + shape_text(rshape));
  d.ndiag = static_cast<int>(rshape[1] / 2);
  o.ndiag = d.ndiag;
  d.resolution = ResultView<double***>("perfex::frame::resolution", d.nspec, rshape[1], d.nwave);
  fill(d.resolution, f.read_image_double());

  d.chi2pix = view2("perfex::frame::chi2pix");
  const char* chi2_hdu = exact && f.has_hdu("CHI2PIX64") ? "CHI2PIX64" : "CHI2PIX";
  if (f.has_hdu(chi2_hdu)) fill(d.chi2pix, read_checked(f, chi2_hdu, s2));

  frame.has_pixmask_fraction = f.has_hdu("PIXMASK_FRACTION");
  if (frame.has_pixmask_fraction) {
    d.pixmask_fraction = view2("perfex::frame::pixmask_fraction");
    fill(d.pixmask_fraction, read_checked(f, "PIXMASK_FRACTION", s2));
  }
  if (f.has_hdu("FIBERMAP")) {
    f.move_to("FIBERMAP");
    frame.fibermap_rows = f.table_rows();
  }
  if (f.has_hdu("SCORES")) {
    f.move_to("SCORES");
    frame.scores = read_raw_table(f, "SCORES");
    if (!frame.scores) throw_data_error(f.where() + ": expected a binary table of fixed-width columns");
  }
  return frame;
}

void write_model_image(const std::string& path, const ResultView<const double**>& model, const FrameHeader& header,
                       bool overwrite) {
  AtomicOutput out(path, overwrite);
  {
    FitsFile f(out);
    // A value float32 cannot hold (none for the fluxes of usable pixels) is written as 0, never as inf or NaN.
    std::vector<float> pixels(model.size());
    const double* m = model.data();
    for (std::size_t k = 0; k < pixels.size(); ++k)
      pixels[k] = std::isfinite(m[k]) && std::fabs(m[k]) <= FLT_MAX ? static_cast<float>(m[k]) : 0.0f;
    f.write_image("MODEL", {static_cast<long>(model.extent(0)), static_cast<long>(model.extent(1))}, pixels);
    write_header_cards(f, header.cards);  // the input image's header, as desispec writes the model with it
    f.write_key("BUNIT", "electron", "model of the image: spots x extracted (convolved) flux");
    if (!header.camera.empty()) f.write_key("CAMERA", header.camera, "camera");
    if (header.expid) f.write_key("EXPID", *header.expid, "exposure ID");
    if (header.night) f.write_key("NIGHT", *header.night, "night of the observation (YYYYMMDD)");
    write_long_string(f, "IN_PSF", header.in_psf, "input PSF");
    write_long_string(f, "IN_IMG", header.in_img, "input preprocessed image");
    f.write_key("PERFEXV", std::string(PERFEX_VERSION_STRING), "perfex version");
    declare_long_strings(f);
    write_checksums(f);
    f.close();
  }
  out.commit();
}

TruthSpectra read_truth_spectra(const std::string& path) {
  FitsFile f(path, FitsFile::Mode::Read);
  TruthSpectra t;
  const char* wave_hdu = f.has_hdu("WAVELENGTH") ? "WAVELENGTH" : "WAVE";
  const char* phot_hdu = f.has_hdu("PHOTONS") ? "PHOTONS" : "PHOT";
  if (!f.has_hdu(wave_hdu) || !f.has_hdu(phot_hdu))
    throw_data_error(path + ": a truth file needs HDUs WAVELENGTH (or WAVE) and PHOTONS (or PHOT)");
  f.move_to(wave_hdu);
  const auto wshape = f.image_shape();
  if (wshape.size() != 1 || wshape[0] < 2)
    throw_data_error(f.where() + ": expected a 1D array of wavelengths, found " + shape_text(wshape));
  t.wavelengths = f.read_image_double();
  for (std::size_t j = 1; j < t.wavelengths.size(); ++j)
    if (!(t.wavelengths[j] > t.wavelengths[j - 1]))
      throw_data_error(f.where() + ": wavelengths must increase (at index " + std::to_string(j) + ")");
  f.move_to(phot_hdu);
  const auto pshape = f.image_shape();
  if (pshape.size() != 2 || pshape[1] != wshape[0])
    throw_data_error(f.where() + ": expected shape nfiber x " + std::to_string(wshape[0]) + ", found " +
                     shape_text(pshape));
  t.photons = HostView<double**>("perfex::truth::photons", pshape[0], pshape[1]);
  fill(t.photons, f.read_image_double());
  t.fiber.resize(static_cast<std::size_t>(pshape[0]));
  for (std::size_t r = 0; r < t.fiber.size(); ++r) t.fiber[r] = static_cast<int>(r);
  if (f.has_hdu("FIBERTYPE")) {
    f.move_to("FIBERTYPE");
    if (f.find_column("FIBER")) {
      const auto fibers = f.read_column_int("FIBER");
      if (fibers.size() != t.fiber.size())
        throw_data_error(f.where() + ": " + std::to_string(fibers.size()) + " rows, HDU " + phot_hdu + " has " +
                         std::to_string(t.fiber.size()) + " fibers");
      for (std::size_t r = 0; r < fibers.size(); ++r) t.fiber[r] = static_cast<int>(fibers[r]);
    }
  }
  return t;
}

}  // namespace perfex::io
