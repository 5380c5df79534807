// The errors of trainer options, worded alike by every trainer:
//   "Invalid option max_bins=300: must be between 2 and 256"
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack {

// Error(kInvalidParameterValue) "Invalid option <option>=<value>: <requirement>".
[[noreturn]] inline void InvalidOption(std::string_view option, std::string_view value,
                                       std::string_view requirement) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid option {}={}: {}", option, value, requirement));
}

// InvalidOption(..., "must be between <low> and <high>") unless low <= value <= high.
inline void CheckOptionRange(std::string_view option, int value, int low, int high) {
  if (value < low || value > high) {
    InvalidOption(option, std::to_string(value),
                  fmt::format("must be between {} and {}", low, high));
  }
}

}  // namespace mltrack
