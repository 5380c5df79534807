// Wall-clock time in MLflow's unit: milliseconds since the Unix epoch.
#pragma once

#include <chrono>
#include <cstdint>

namespace mltrack {

inline int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace mltrack
