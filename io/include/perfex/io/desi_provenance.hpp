// Provenance keywords of DESI's frames, recorded as desispec and desiutil record them: input file names
// shortened with the production's environment variables, the dependency cards DEPNAMnn/DEPVERnn, and the
// origin of a trace-shifted PSF (ORIG_PSF).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "perfex/io/fits_file.hpp"

namespace perfex::io {

using Dependency = std::pair<std::string, std::string>;  // (DEPNAMnn, DEPVERnn)

// desispec.io.shorten_filename: a name under $DESI_SPECTRO_CALIB becomes SPCALIB/..., one under the
// production's directory ($DESI_SPECTRO_REDUX/$SPECPROD, else $DESI_ROOT/spectro/redux/$SPECPROD, or $SPECPROD
// itself when it holds a '/'; also its $DESI_ROOT_READONLY form) becomes SPECPROD/...; other names are kept as
// given (a plain prefix test, as desispec's).
std::string shorten_desi_filename(const std::string& path);

// The IN_PSF keyword of the PSF file's PSF HDU (the PSF a trace-shifted PSF was made from), as desispec
// records it in ORIG_PSF; nullopt when the file has no PSF HDU or the HDU no IN_PSF.
std::optional<std::string> original_psf(const std::string& psf_path);

// perfex's entries for the dependency cards: perfex, Kokkos, CFITSIO (and HDF5 in builds with it), then
// desiutil's environment variables (DESI_ROOT, DESI_SPECTRO_DATA, DESI_SPECTRO_REDUX, SPECPROD,
// DESI_SPECTRO_CALIB, DESI_BASIS_TEMPLATES, DESI_TARGET, DESIMODEL) with their values or NOT_SET.
std::vector<Dependency> perfex_dependencies();

// desiutil.depend.setdep for each entry on the current HDU: an existing DEPNAMnn of that name gets its
// DEPVERnn updated, otherwise the first free nn (00..99) is used; a data error past 99.
void set_dependencies(FitsFile& file, const std::vector<Dependency>& dependencies);

}  // namespace perfex::io
