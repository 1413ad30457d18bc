// The raw-header walk of fits_header_check.hpp. Every rule here mirrors a rule of CFITSIO 4.2 (named in the
// comments) so that the walk sees the same HDUs, cards and values that CFITSIO will: each fuzz finding so far
// was a place where the two readings differed (fuzz/SUPPRESSIONS.md).
#include "fits_header_check.hpp"

#include <fitsio.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "perfex/core/error.hpp"

namespace perfex::io::detail {
namespace {

// One header card as CFITSIO reads it: 80 bytes with trailing blanks removed (ffgnky); the name as ffgknm finds
// it (ended by a blank, '=' or NUL; for HIERARCH cards the name after HIERARCH); the value token as ffpsvc parses
// it (a string with its quotes, else the token up to a blank or '/', found after the first '=' when columns 9-10
// are not "= "). `parsed` is false when ffpsvc refuses the value (a complex value without ')'). `overflows`: a
// string value whose doubled quotes straddle ffpsvc's 70-character limit, for which CFITSIO 4.2 writes past the
// end of its FLEN_VALUE buffer (found by the fuzz lane); ffpsvc is given a larger buffer here to see it. (A
// value that is not a string has at most 70 characters: ffpsvc cuts it there.)
struct Card {
  std::string name;
  std::string token;
  bool parsed = true;
  bool overflows = false;
};

// Whether the card's string value has a doubled quote whose second quote falls at or past index FLEN_VALUE - 1 of
// the value (the opening quote at 0), where ffpsvc's buffer ends: the values CFITSIO 4.2 overflowed it on. Found in the card itself, as ffpsvc locates the value (after "= " in columns 9-10, else after the first
// '='), so that the same cards are refused whatever CFITSIO's version does with them (4.7 no longer overflows).
bool doubled_quote_at_limit(const char* card) {
  const std::size_t n = strnlen(card, 80);
  std::size_t pos = 0;
  if (n > 9 && card[8] == '=' && card[9] == ' ') {
    pos = 10;
  } else {
    const void* eq = std::memchr(card, '=', n);
    if (!eq) return false;
    pos = static_cast<std::size_t>(static_cast<const char*>(eq) - card) + 1;
  }
  while (pos < n && card[pos] == ' ') ++pos;
  if (pos >= n || card[pos] != '\'') return false;
  for (std::size_t i = pos + 1, j = 1; i < n; ++i, ++j) {
    if (card[i] != '\'') continue;
    if (i + 1 >= n || card[i + 1] != '\'') return false;  // the closing quote
    if (j + 1 >= static_cast<std::size_t>(FLEN_VALUE) - 1) return true;
    ++i;
    ++j;
  }
  return false;
}

Card read_card(const char* raw) {
  char card[FLEN_CARD] = {0};
  std::memcpy(card, raw, 80);
  for (int j = 79; j >= 0 && card[j] == ' '; --j) card[j] = '\0';
  char name[FLEN_KEYWORD] = {0};
  char token[2 * FLEN_CARD] = {0};
  int length = 0, status = 0;
  ffgknm(card, name, &length, &status);
  Card out;
  out.name = name;
  status = 0;
  out.parsed = ffpsvc(card, token, nullptr, &status) <= 0;
  out.overflows = strnlen(token, sizeof(token)) >= FLEN_VALUE || doubled_quote_at_limit(card);
  out.token = token;
  return out;
}

// A value token as text, as ffc2s makes it: a string loses its quotes, doubled quotes and trailing blanks.
std::string token_text(const std::string& token) {
  if (token.empty() || token[0] != '\'') return token;
  std::string out;
  for (std::size_t k = 1; k < token.size(); ++k) {
    if (token[k] == '\'') {
      if (k + 1 < token.size() && token[k + 1] == '\'') {
        out += '\'';
        ++k;
        continue;
      }
      break;
    }
    out += token[k];
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// CFITSIO finds a keyword by name whatever the case of the card (ffgcrd upper-cases both).
std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The first keyword of an HDU as ffrhdu reads it: the first 8 bytes, up to a NUL, without trailing blanks.
std::string first_keyword(const char* block) {
  std::string key(block, strnlen(block, 8));
  while (!key.empty() && key.back() == ' ') key.pop_back();
  return key;
}

class HeaderCheck {
 public:
  // `repeated`: keywords that appear more than once with different values (which one CFITSIO reads depends on
  // where it last read: refused for the keywords checked here). `unparsed`: keywords whose value ffpsvc refuses.
  HeaderCheck(std::string where, std::map<std::string, std::string> keys, std::set<std::string> repeated,
              std::set<std::string> unparsed)
      : m_where(std::move(where)),
        m_keys(std::move(keys)),
        m_repeated(std::move(repeated)),
        m_unparsed(std::move(unparsed)) {}
  bool has(const std::string& key) const { return m_keys.count(key) != 0 || m_unparsed.count(key) != 0; }
  std::string text(const std::string& key) const {
    if (m_unparsed.count(key)) throw_data_error(m_where + ": keyword " + key + " has a value that cannot be parsed");
    if (m_repeated.count(key))
      throw_data_error(m_where + ": keyword " + key + " appears more than once with different values");
    auto it = m_keys.find(key);
    return it == m_keys.end() ? std::string() : it->second;
  }
  // An integer keyword in [lo, hi]; `fallback` when absent (or an error when there is none).
  long long integer(const std::string& key, long long lo, long long hi, std::optional<long long> fallback = {}) const {
    if (!has(key)) {
      if (fallback) return *fallback;
      throw_data_error(m_where + ": keyword " + key + " is missing");
    }
    const std::string t = text(key);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(t.c_str(), &end, 10);
    if (t.empty() || errno != 0 || *end != 0 || v < lo || v > hi)
      throw_data_error(m_where + ": keyword " + key + " must be an integer in " + std::to_string(lo) + ".." +
                       std::to_string(hi) + ", found '" + t + "'");
    return v;
  }
  double number(const std::string& key) const {
    const std::string t = text(key);
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (t.empty() || *end != 0 || !std::isfinite(v))
      throw_data_error(m_where + ": keyword " + key + " must be a number, found '" + t + "'");
    return v;
  }
  const std::string& where() const { return m_where; }

 private:
  std::string m_where;
  std::map<std::string, std::string> m_keys;
  std::set<std::string> m_repeated;
  std::set<std::string> m_unparsed;
};

// Tile-compression parameters that CFITSIO divides by or sizes buffers from when it moves to the HDU
// (imcomp_get_compressed_image_par).
void check_tile_compression(const HeaderCheck& h) {
  const long long znaxis = h.integer("ZNAXIS", 1, 999);
  long double tile_pixels = 1;
  for (long long i = 1; i <= znaxis; ++i) {
    const std::string n = std::to_string(i);
    const long long size = h.integer("ZNAXIS" + n, 0, 1LL << 40);
    // CFITSIO divides by the tile size; without ZTILE1 it takes ZNAXIS1, which may be 0 (found by the fuzz lane).
    const long long tile = h.integer("ZTILE" + n, 1, std::max(size, 1LL), i == 1 ? size : 1);
    if (tile < 1)
      throw_data_error(h.where() +
                       ": keyword ZTILE1 is missing and ZNAXIS1 is 0 (CFITSIO would divide by a tile "
                       "size of 0)");
    tile_pixels *= static_cast<long double>(tile);
  }
  // CFITSIO sizes its tile buffers from the pixels of a tile as an int.
  if (tile_pixels > INT_MAX)
    throw_data_error(h.where() + ": a tile of ZTILE1 x ZTILE2 x ... pixels must hold at most " +
                     std::to_string(INT_MAX) + " pixels");
  // Integers CFITSIO reads with ffgky (TINT) when it moves to the HDU: a value it cannot convert makes it
  // overflow its own message buffer (ffc2j, found by the fuzz lane), so they must be plain integers.
  const long long zbitpix = h.integer("ZBITPIX", -64, 64);
  if (zbitpix != 8 && zbitpix != 16 && zbitpix != 32 && zbitpix != 64 && zbitpix != -32 && zbitpix != -64)
    throw_data_error(h.where() + ": keyword ZBITPIX must be 8, 16, 32, 64, -32 or -64, found " +
                     std::to_string(zbitpix));
  for (const char* key : {"ZDITHER0", "ZBLANK", "BLANK"})
    if (h.has(key)) h.integer(key, INT_MIN, INT_MAX);
  // Rice parameters are positional for CFITSIO, whatever ZNAME1/ZNAME2 say: ZVAL1 the block size (required),
  // ZVAL2 the bytes per pixel (4 when absent, or when ZNAME2 is NOISEBIT in files from before 2009), swapped
  // when the block size is below 16 and the bytes per pixel above 8. It divides by the block size.
  const std::string type = h.text("ZCMPTYPE");
  if (type == "RICE_1" || type == "RICE_ONE") {
    long long blocksize = h.integer("ZVAL1", INT_MIN, INT_MAX);
    const bool old_format = h.has("ZNAME2") && h.text("ZNAME2") == "NOISEBIT";
    long long bytepix = old_format ? 4 : h.integer("ZVAL2", INT_MIN, INT_MAX, 4);
    std::string blocksize_key = "ZVAL1", bytepix_key = "ZVAL2";
    if (blocksize < 16 && bytepix > 8) {
      std::swap(blocksize, bytepix);
      std::swap(blocksize_key, bytepix_key);
    }
    if (blocksize < 1 || blocksize > (1 << 20))
      throw_data_error(h.where() + ": keyword " + blocksize_key + " (Rice BLOCKSIZE) must be an integer in 1.." +
                       std::to_string(1 << 20) + ", found '" + std::to_string(blocksize) + "'");
    if (bytepix != 1 && bytepix != 2 && bytepix != 4 && bytepix != 8)
      throw_data_error(h.where() + ": keyword " + bytepix_key + " (Rice BYTEPIX) must be 1, 2, 4 or 8, found '" +
                       std::to_string(bytepix) + "'");
  } else if (type == "HCOMPRESS_1" && h.has("ZVAL2")) {
    h.integer("ZVAL2", INT_MIN, INT_MAX);  // the smoothing flag (ZVAL1, the scale, is read as a float)
  }
  // The other parameters, by name: plain non-negative numbers.
  for (int i = 1; h.has("ZNAME" + std::to_string(i)); ++i) {
    const std::string n = std::to_string(i);
    if (h.has("ZVAL" + n) && h.number("ZVAL" + n) < 0)
      throw_data_error(h.where() + ": keyword ZVAL" + n + " (" + h.text("ZNAME" + n) + ") must not be negative");
  }
}

}  // namespace

int check_fits_structure(const std::string& name, unsigned long long size,
                         const std::function<void(unsigned long long, char*)>& read_block) {
  char block[fits_block];
  unsigned long long pos = 0;
  int hdus = 0;
  for (int hdu = 0; pos + 8 <= size; ++hdu) {
    std::map<std::string, std::string> keys;
    std::set<std::string> repeated, unparsed;
    bool zimage = false;  // ffbinit: a card named ZIMAGE whose value token starts with 'T'
    unsigned long long header_end = pos;
    bool end = false;
    while (!end) {
      if (header_end >= size)
        throw_data_error(name + ": HDU " + std::to_string(hdu) + " is truncated (its header has no END card)");
      std::memset(block, 0, sizeof(block));
      read_block(header_end, block);
      // ffrhdu: the primary starts with SIMPLE; an extension that does not start with XTENSION ends the file.
      if (header_end == pos && first_keyword(block) != (hdu == 0 ? "SIMPLE" : "XTENSION")) return hdu;
      if (header_end + fits_block > size)
        throw_data_error(name + ": HDU " + std::to_string(hdu) + " is truncated (its header has no END card)");
      header_end += fits_block;
      for (int c = 0; c < 36 && !end; ++c) {
        const Card card = read_card(block + 80 * c);
        // Values CFITSIO copies into buffers too small for them (ffpsvc itself; ffgtbp's strcpy of a TTYPEn
        // into 70 bytes, for every card of a binary table): refused, whatever the keyword.
        const bool long_plain = !card.token.empty() && card.token[0] != '\'' && card.token.size() > 68;
        if (card.overflows || long_plain)
          throw_data_error(name + ": HDU " + std::to_string(hdu) + ", header card " +
                           std::to_string((header_end - fits_block - pos) / 80 + c + 1) + " (" + card.name + "): " +
                           (card.overflows ? "a string value with doubled quotes at the 68-character limit"
                                           : "a value of " + std::to_string(card.token.size()) +
                                                 " characters that is not a quoted string") +
                           ", which CFITSIO cannot read safely");
        if (card.name == "END") {  // ffgphd, ffbinit: the first card named END, whatever follows the name
          end = true;
          continue;
        }
        const std::string key = upper(card.name);
        if (!card.parsed) {
          unparsed.insert(key);
          continue;
        }
        if (card.name == "ZIMAGE" && !card.token.empty() && card.token[0] == 'T') zimage = true;
        const std::string value = token_text(card.token);
        const auto [it, added] = keys.emplace(key, value);
        if (!added && it->second != value) repeated.insert(key);
      }
    }
    const std::string extname = keys.count("EXTNAME") ? keys["EXTNAME"] : "";
    const HeaderCheck h(name + "[" + (extname.empty() ? "HDU " + std::to_string(hdu) : extname) + "]", keys, repeated,
                        unparsed);
    const long long bitpix = h.integer("BITPIX", -64, 64);
    if (bitpix != 8 && bitpix != 16 && bitpix != 32 && bitpix != 64 && bitpix != -32 && bitpix != -64)
      throw_data_error(h.where() + ": keyword BITPIX must be 8, 16, 32, 64, -32 or -64, found " +
                       std::to_string(bitpix));
    const long long naxis = h.integer("NAXIS", 0, 999);
    const long long pcount = h.integer("PCOUNT", 0, 1LL << 50, 0);
    const long long gcount = h.integer("GCOUNT", 0, 1LL << 50, 1);
    // Data bytes, in long double so that absurd axes cannot overflow: compared with what the file holds.
    long double elements = naxis > 0 ? 1.0L : 0.0L;
    for (long long i = 1; i <= naxis; ++i) {
      const long long n = h.integer("NAXIS" + std::to_string(i), 0, 1LL << 50);
      // Random groups (ffpinit): NAXIS1 = 0 in a primary with GROUPS = T, read as a logical by its first letter.
      const bool groups = hdu == 0 && i == 1 && n == 0 && h.text("GROUPS").substr(0, 1) == "T";
      if (!groups) elements *= static_cast<long double>(n);
    }
    const long double data = (naxis > 0 ? elements + pcount : 0.0L) * gcount * (std::llabs(bitpix) / 8);
    if (data > static_cast<long double>(size - header_end))
      throw_data_error(h.where() + ": the file is truncated (this HDU needs " +
                       std::to_string(static_cast<unsigned long long>(header_end) +
                                      static_cast<unsigned long long>(std::min(data, 1e19L))) +
                       " bytes, the file holds " + std::to_string(size) + ")");
    // ffrhdu reads these three extension types as binary tables, and only binary tables as compressed images.
    std::string xtension = h.has("XTENSION") ? h.text("XTENSION") : "";
    xtension.erase(0, xtension.find_first_not_of(' ') == std::string::npos ? xtension.size()
                                                                           : xtension.find_first_not_of(' '));
    const bool binary_table = xtension == "BINTABLE" || xtension == "A3DTABLE" || xtension == "3DTABLE";
    if (binary_table && zimage) check_tile_compression(h);
    const auto bytes = static_cast<unsigned long long>(data);
    pos = header_end + (bytes + fits_block - 1) / fits_block * fits_block;
    hdus = hdu + 1;
  }
  fits_clear_errmsg();  // ffpsvc's complaints about odd cards are not ours to print
  return hdus;
}

}  // namespace perfex::io::detail
