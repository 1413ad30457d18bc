// A structural check of a FITS file's raw header cards, made before CFITSIO parses an HDU. Private to
// perfex::io.
//
// Why: CFITSIO trusts some header values that it divides by or sizes buffers from, and it reads them as soon as
// it merely moves to an HDU (a tile-compressed HDU with a Rice block size of 0 or a ZTILEn of 0 stops the process
// with SIGFPE: fuzz/SUPPRESSIONS.md). So every card is read the way CFITSIO reads it (its own name and value
// parsers, ffgknm and ffpsvc), the HDU boundaries follow CFITSIO's rules, and the values CFITSIO would use are
// checked; the check is stricter than CFITSIO only on those keywords, whose values must be plain numbers.
#pragma once

#include <functional>
#include <string>

namespace perfex::io::detail {

constexpr unsigned long long fits_block = 2880;

// Walks every HDU of the file `name` of `size` bytes; read_block(offset, block) reads the (up to) 2880 bytes at
// `offset` (< size), zero-filling what lies past the end. Throws a data error naming the file, HDU and keyword
// for a header CFITSIO must not be given, or a truncated HDU. Returns the number of HDUs (what follows them is
// not FITS, which CFITSIO ignores too).
int check_fits_structure(const std::string& name, unsigned long long size,
                         const std::function<void(unsigned long long, char*)>& read_block);

}  // namespace perfex::io::detail
