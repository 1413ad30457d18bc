// DESI CCD mask bits (desispec's ccdmask) and the set of bits that make extraction ignore a pixel.
#pragma once

#include <cstdint>

namespace perfex::ccd_mask {

constexpr std::int32_t bad = 1 << 0;
constexpr std::int32_t hot = 1 << 1;
constexpr std::int32_t dead = 1 << 2;
constexpr std::int32_t saturated = 1 << 3;
constexpr std::int32_t cosmic = 1 << 4;
constexpr std::int32_t pixflatzero = 1 << 5;
constexpr std::int32_t pixflatlow = 1 << 6;
constexpr std::int32_t highvar = 1 << 7;
constexpr std::int32_t badreadnoise = 1 << 8;  // not excluded from extraction
constexpr std::int32_t badamp = 1 << 9;

// Pixels with any of these bits get weight 0 in extraction: bits 0..7 and 9 (BAD .. HIGHVAR, BADAMP).
constexpr std::int32_t extract = 0xFF | badamp;

}  // namespace perfex::ccd_mask
