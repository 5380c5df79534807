#include "common/ids.h"

#include <array>
#include <cstdint>
#include <mutex>
#include <random>

#include <fmt/format.h>

namespace mltrack {
namespace {

// One generator per thread, seeded from the OS, so that ids from concurrent threads and
// processes do not collide.
std::mt19937_64& Generator() {
  thread_local std::mt19937_64 gen([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  return gen;
}

constexpr std::array kAdjectives = {
    "amazing", "bold",    "brave",  "bright", "calm",   "clever",  "crisp",  "daring",
    "eager",   "fair",    "gentle", "glad",   "grand",  "honest",  "keen",   "kind",
    "lively",  "loyal",   "lucky",  "merry",  "mighty", "nimble",  "noble",  "polite",
    "proud",   "quick",   "quiet",  "rare",   "sharp",  "shy",     "silent", "smooth",
    "steady",  "sunny",   "swift",  "tidy",   "upbeat", "vivid",   "warm",   "wise"};
constexpr std::array kNouns = {
    "ant",   "bat",    "bear",  "bird",   "carp",   "cat",   "colt",  "crane", "deer",
    "doe",   "dove",   "eel",   "elk",    "fawn",   "finch", "fish",  "fox",   "frog",
    "gnat",  "goat",   "hare",  "hawk",   "hen",    "horse", "jay",   "koi",   "lamb",
    "lark",  "lynx",   "mole",  "moth",   "mule",   "newt",  "owl",   "ox",    "panda",
    "quail", "ram",    "seal",  "shark",  "sloth",  "snail", "stork", "swan",  "toad",
    "trout", "vole",   "whale", "wolf",   "wren",   "yak",   "zebra"};

}  // namespace

std::string NewRunId() {
  auto& gen = Generator();
  uint64_t hi = gen();
  uint64_t lo = gen();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return fmt::format("{:016x}{:016x}", hi, lo);
}

std::string NewRunName() {
  auto& gen = Generator();
  return fmt::format("{}-{}-{}", kAdjectives[gen() % kAdjectives.size()],
                     kNouns[gen() % kNouns.size()], gen() % 1000);
}

}  // namespace mltrack
