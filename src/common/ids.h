// Identifiers: run ids (MLflow's uuid4 hex form) and human-readable run names.
#pragma once

#include <string>

namespace mltrack {

// 32 lowercase hex digits of a random (version 4) UUID, as MLflow's run ids.
std::string NewRunId();
// A name such as "brave-fox-417", as MLflow gives runs created without one.
std::string NewRunName();

}  // namespace mltrack
