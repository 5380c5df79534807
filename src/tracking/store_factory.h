// Picks the TrackingStore implementation for a tracking URI by its scheme.
#pragma once

#include <memory>
#include <string_view>

#include "tracking/tracking_store.h"

namespace mltrack::tracking {

// sqlite:///... opens (creating and migrating) the database; artifacts default to the folder
// `mlartifacts` beside the database file, or MLT_ARTIFACT_ROOT when set. http(s)://host:port
// talks to a tracking server through MLflow's REST API (RestTrackingStore).
std::shared_ptr<TrackingStore> OpenTrackingStore(std::string_view tracking_uri);

}  // namespace mltrack::tracking
