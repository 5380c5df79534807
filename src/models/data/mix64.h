// The hash behind every deterministic choice of the data layer (splits, generated rows).
#pragma once

#include <cstdint>

namespace mltrack::data {

// splitmix64's finalizer (Steele, Lea and Flood): a bijection on 64-bit words whose output bits
// each depend on every input bit. Changing it changes every split and every generated data set.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace mltrack::data
