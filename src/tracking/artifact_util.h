// Internal to the artifact repositories (artifact_repository.cc, http_artifact_repository.cc).
#pragma once

#include <filesystem>

#include "mltrack/error.h"

namespace mltrack::tracking {

// Runs `body`, turning a std::filesystem error that escaped the explicit checks into
// Error(kIoError) with the filesystem error's text.
template <typename Body>
auto Guarded(Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::filesystem::filesystem_error& e) {
    throw Error(ErrorCode::kIoError, e.what());
  }
}

}  // namespace mltrack::tracking
