// Provenance keywords in desispec 0.70.0's and desiutil's conventions (desispec.io.meta.shorten_filename,
// desiutil.depend.add_dependencies/setdep, desispec.scripts.extract's ORIG_PSF).
#include "perfex/io/desi_provenance.hpp"

#include <fitsio.h>
#include <sys/stat.h>
#include <Kokkos_Core.hpp>

#include <cstdio>
#include <cstdlib>

#include "perfex/core/error.hpp"
#include "perfex/core/version.hpp"
#include "perfex/io/frame_hdf5.hpp"
#include "perfex/io/header_cards.hpp"

namespace perfex::io {

namespace {

fitsfile* fp(FitsFile& f) { return static_cast<fitsfile*>(f.raw()); }

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::optional<std::string>(v) : std::nullopt;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

std::string replace_prefix(const std::string& s, const std::string& prefix, const std::string& with) {
  return with + s.substr(prefix.size());
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

// desispec.io.meta.get_readonly_filepath: $DESI_ROOT -> $DESI_ROOT_READONLY (when that exists).
std::string readonly_path(const std::string& path) {
  const auto root = env("DESI_ROOT");
  if (!root) return path;
  const auto ro = env("DESI_ROOT_READONLY");
  const std::string readonly = ro && path_exists(*ro) ? *ro : *root;
  if (starts_with(path, *root) && *root != readonly) return replace_prefix(path, *root, readonly);
  return path;
}

// desispec.io.meta.specprod_root(); nullopt where desispec's raises KeyError.
std::optional<std::string> specprod_root() {
  auto specprod = env("SPECPROD");
  if (!specprod) return std::nullopt;
  if (specprod->find('/') != std::string::npos) return specprod;
  if (const auto redux = env("DESI_SPECTRO_REDUX")) return *redux + "/" + *specprod;
  if (const auto root = env("DESI_ROOT")) return *root + "/spectro/redux/" + *specprod;
  return std::nullopt;
}

// The long-string value of `key` in the current HDU, nullopt when absent.
std::optional<std::string> read_long_string(FitsFile& f, const char* key) {
  int status = 0;
  char* value = nullptr;
  fits_read_key_longstr(fp(f), key, &value, nullptr, &status);
  if (status == KEY_NO_EXIST || status == VALUE_UNDEFINED) {
    fits_clear_errmsg();
    return std::nullopt;
  }
  f.check(status, std::string("reading keyword ") + key);
  std::string s = value ? value : "";
  if (value) fits_free_memory(value, &status);
  return s;
}

}  // namespace

std::string shorten_desi_filename(const std::string& path) {
  if (const auto calib = env("DESI_SPECTRO_CALIB"); calib && starts_with(path, *calib))
    return replace_prefix(path, *calib, "SPCALIB");
  if (const auto prod = specprod_root()) {
    if (starts_with(path, *prod)) return replace_prefix(path, *prod, "SPECPROD");
    const std::string readonly = readonly_path(*prod);
    if (starts_with(path, readonly)) return replace_prefix(path, readonly, "SPECPROD");
  }
  return path;
}

std::optional<std::string> original_psf(const std::string& psf_path) {
  FitsFile f(psf_path, FitsFile::Mode::Read);
  if (!f.has_hdu("PSF")) return std::nullopt;
  f.move_to("PSF");
  return read_long_string(f, "IN_PSF");
}

std::vector<Dependency> perfex_dependencies() {
  std::vector<Dependency> deps;
  deps.emplace_back("perfex", PERFEX_VERSION_STRING);
  deps.emplace_back("kokkos", std::to_string(KOKKOS_VERSION / 10000) + "." +
                                  std::to_string(KOKKOS_VERSION / 100 % 100) + "." +
                                  std::to_string(KOKKOS_VERSION % 100));
  float cfitsio = 0;
  fits_get_version(&cfitsio);
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g", static_cast<double>(cfitsio));
  deps.emplace_back("cfitsio", text);
  if (hdf5_available()) deps.emplace_back("hdf5", hdf5_library_version());
  for (const char* name : {"DESI_ROOT", "DESI_SPECTRO_DATA", "DESI_SPECTRO_REDUX", "SPECPROD", "DESI_SPECTRO_CALIB",
                           "DESI_BASIS_TEMPLATES", "DESI_TARGET", "DESIMODEL"})
    deps.emplace_back(name, env(name).value_or("NOT_SET"));
  return deps;
}

void set_dependencies(FitsFile& f, const std::vector<Dependency>& dependencies) {
  for (const Dependency& d : dependencies) {
    bool done = false;
    for (int i = 0; i < 100 && !done; ++i) {
      char number[8];
      std::snprintf(number, sizeof(number), "%02d", i);
      const std::string name_key = std::string("DEPNAM") + number, version_key = std::string("DEPVER") + number;
      const auto existing = read_long_string(f, name_key.c_str());
      if (existing && *existing != d.first) continue;
      if (!existing) update_long_string(f, name_key, d.first, "");
      update_long_string(f, version_key, d.second, "");
      done = true;
    }
    if (!done) throw_data_error(f.where() + ": more than 100 dependencies (DEPNAM00..DEPNAM99) to record");
  }
}

}  // namespace perfex::io
