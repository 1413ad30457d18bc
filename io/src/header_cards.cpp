// Header cards copied verbatim between HDUs (the preproc IMAGE header into FLUX, a frame's FLUX header through
// perfex convert), without the keywords that describe the source HDU's layout.
#include "perfex/io/header_cards.hpp"

#include <fitsio.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace perfex::io {

namespace {

fitsfile* fp(FitsFile& f) { return static_cast<fitsfile*>(f.raw()); }

// PREFIX followed by one or more digits.
bool indexed(const std::string& name, const char* prefix) {
  const std::size_t n = std::strlen(prefix);
  if (name.size() <= n || name.compare(0, n, prefix) != 0) return false;
  return std::all_of(name.begin() + static_cast<long>(n), name.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

// The two COMMENT cards CFITSIO writes into every primary header it creates: a copy would repeat them.
bool cfitsio_boilerplate(const std::string& card) {
  return card.compare(0, 8, "COMMENT ") == 0 &&
         (card.find("FITS (Flexible Image Transport System) format is defined in 'Astronomy") != std::string::npos ||
          card.find("and Astrophysics', volume 376, page 359; bibcode: 2001A&A...376..359H") != std::string::npos);
}

}  // namespace

std::string card_keyword(const std::string& card) {
  std::string k = card.substr(0, std::min<std::size_t>(8, card.size()));
  k.erase(k.find_last_not_of(' ') + 1);
  return k;
}

bool is_structural_keyword(const std::string& k) {
  static const char* const fixed[] = {"SIMPLE",   "XTENSION", "BITPIX",   "NAXIS",    "EXTEND",  "PCOUNT",   "GCOUNT",
                                      "EXTNAME",  "EXTVER",   "EXTLEVEL", "BZERO",    "BSCALE",  "BLANK",    "CHECKSUM",
                                      "DATASUM",  "END",      "TFIELDS",  "THEAP",    "ZIMAGE",  "ZSIMPLE",  "ZBITPIX",
                                      "ZNAXIS",   "ZEXTEND",  "ZTENSION", "ZPCOUNT",  "ZGCOUNT", "ZCMPTYPE", "ZQUANTIZ",
                                      "ZDITHER0", "ZMASKCMP", "ZHECKSUM", "ZDATASUM", "ZBLANK",  "ZSCALE",   "ZZERO",
                                      "ZTHEAP",   "ZEXTNAME"};
  for (const char* f : fixed)
    if (k == f) return true;
  for (const char* p : {"NAXIS", "TTYPE", "TFORM", "TUNIT", "TDIM", "TZERO", "TSCAL", "TNULL", "TDISP", "ZNAXIS",
                        "ZTILE", "ZNAME", "ZVAL", "ZFORM", "ZCTYP"})
    if (indexed(k, p)) return true;
  return false;
}

std::vector<std::string> read_header_cards(FitsFile& f) {
  int status = 0, nkeys = 0, more = 0;
  fits_get_hdrspace(fp(f), &nkeys, &more, &status);
  f.check(status, "reading the header size");
  std::vector<std::string> cards;
  bool skipping = false;  // inside the CONTINUE cards of a skipped keyword
  for (int i = 1; i <= nkeys; ++i) {
    char card[FLEN_CARD] = {0};
    fits_read_record(fp(f), i, card, &status);
    f.check(status, "reading header card " + std::to_string(i));
    std::string c(card);
    const std::string k = card_keyword(c);
    if (k == "CONTINUE") {
      if (!skipping) cards.push_back(c);
      continue;
    }
    skipping = is_structural_keyword(k) || cfitsio_boilerplate(c);
    if (!skipping) cards.push_back(c);
  }
  return cards;
}

void write_header_cards(FitsFile& f, const std::vector<std::string>& cards) {
  for (const std::string& c : cards) {
    int status = 0;
    fits_write_record(fp(f), c.c_str(), &status);
    f.check(status, "copying header card '" + card_keyword(c) + "'");
  }
}

void update_long_string(FitsFile& f, const std::string& key, const std::string& value, const std::string& comment) {
  int status = 0;
  char* existing = nullptr;
  fits_read_key_longstr(fp(f), key.c_str(), &existing, nullptr, &status);
  if (status == 0) {
    const bool same = existing && value == existing;
    fits_free_memory(existing, &status);
    if (same) return;
  }
  status = 0;
  fits_clear_errmsg();
  fits_update_key_longstr(fp(f), key.c_str(), value.c_str(), comment.empty() ? nullptr : comment.c_str(), &status);
  f.check(status, "writing keyword " + key);
}

void declare_long_strings(FitsFile& f) {
  int status = 0, nkeys = 0, more = 0;
  fits_get_hdrspace(fp(f), &nkeys, &more, &status);
  f.check(status, "reading the header size");
  bool has_continue = false;
  for (int i = 1; i <= nkeys && !has_continue; ++i) {
    char card[FLEN_CARD] = {0};
    fits_read_record(fp(f), i, card, &status);
    f.check(status, "reading header card " + std::to_string(i));
    if (card_keyword(card) == "LONGSTRN") return;
    has_continue = card_keyword(card) == "CONTINUE";
  }
  if (!has_continue) return;
  fits_write_key_longwarn(fp(f), &status);
  f.check(status, "writing keyword LONGSTRN");
}

}  // namespace perfex::io
