// Picks the TrackingStore implementation for a tracking URI by its scheme.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tracking/sqlite_tracking_store.h"
#include "tracking/tracking_store.h"

namespace mltrack::tracking {

// sqlite:///... opens (creating and migrating) the database; artifacts default to the folder
// `mlartifacts` beside the database file, or MLT_ARTIFACT_ROOT when set. http(s)://host:port
// talks to a tracking server through MLflow's REST API (RestTrackingStore).
std::shared_ptr<TrackingStore> OpenTrackingStore(std::string_view tracking_uri);

// The SQLite store of a sqlite:/// URI, with new experiments' artifacts under
// `artifact_root_uri` (empty: OpenTrackingStore's default above). Another scheme is refused with
// kInvalidParameterValue, worded for the server's option: "Invalid backend store URI '<uri>': the
// tracking server stores runs in SQLite; use sqlite:///<path>". kIoError when the database's
// folder does not exist.
std::shared_ptr<SqliteTrackingStore> OpenSqliteTrackingStore(std::string_view tracking_uri,
                                                             std::string artifact_root_uri = {});

}  // namespace mltrack::tracking
