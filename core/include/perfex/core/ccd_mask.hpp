// DESI CCD mask bits (desispec's ccdmask) and the set of bits that make extraction ignore a pixel.
#pragma once

#include <Kokkos_Macros.hpp>
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

// Whether mask `bits` exclude a pixel from the extraction (the one rule io's preproc reader and core's
// upload_image apply).
KOKKOS_INLINE_FUNCTION constexpr bool excludes(std::int32_t bits) { return (bits & extract) != 0; }

// The extraction's weight of a pixel with inverse variance `ivar` and mask `bits`: 0 when the mask excludes it.
KOKKOS_INLINE_FUNCTION constexpr double extraction_weight(double ivar, std::int32_t bits) {
  return excludes(bits) ? 0.0 : ivar;
}

}  // namespace perfex::ccd_mask
