// ActiveRun::LogModel's work, kept apart from the metric sender in client.cc.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "mltrack/client.h"
#include "tracking/tracking_store.h"

namespace mltrack::client_internal {

// Uploads the bundle at `bundle` (folder or archive) under `artifact_path` of the run and records
// it with TrackingStore::LogModel; registers it when options ask. See ActiveRun::LogModel.
LoggedModel LogModelToRun(const std::shared_ptr<tracking::TrackingStore>& store, const std::string& tracking_uri,
                          const RunInfo& run, const std::filesystem::path& bundle,
                          std::string_view artifact_path, const LogModelOptions& options);

}  // namespace mltrack::client_internal
