// FITS header cards kept verbatim (80 characters each, in file order, CONTINUE cards after their keyword):
// how an input image's header is propagated into a frame's FLUX header, as desispec does with astropy.
#pragma once

#include <string>
#include <vector>

#include "perfex/io/fits_file.hpp"

namespace perfex::io {

// The keyword of a card: its first 8 characters without trailing blanks ("" for a blank card).
std::string card_keyword(const std::string& card);

// Keywords that describe an HDU's layout rather than its content, which a copy must not carry: SIMPLE,
// XTENSION, BITPIX, NAXIS*, EXTEND, PCOUNT, GCOUNT, EXTNAME, EXTVER, BZERO, BSCALE, BLANK, CHECKSUM,
// DATASUM, END, a table's TFIELDS/TTYPEn/TFORMn/TUNITn/TDIMn/TZEROn/TSCALn/TNULLn/THEAP and a tile-compressed
// image's Z* keywords (ZIMAGE, ZBITPIX, ZNAXISn, ZTILEn, ZCMPTYPE, ZNAMEn, ZVALn, ZQUANTIZ, ...).
bool is_structural_keyword(const std::string& keyword);

// Every card of the current HDU except the structural ones (and their CONTINUE cards) and the two COMMENT
// cards CFITSIO puts in every primary header it creates, in file order.
std::vector<std::string> read_header_cards(FitsFile& file);

// Appends `cards` to the current HDU's header as they are.
void write_header_cards(FitsFile& file, const std::vector<std::string>& cards);

// Sets a string keyword of the current HDU with the long-string convention (CONTINUE cards past 68
// characters); an existing card with the same value is left where it is (a rewrite would move it to the end).
void update_long_string(FitsFile& file, const std::string& key, const std::string& value, const std::string& comment);

// Appends LONGSTRN = 'OGIP 1.0' (the long-string convention's marker) when the current header has a CONTINUE
// card and no LONGSTRN yet.
void declare_long_strings(FitsFile& file);

}  // namespace perfex::io
