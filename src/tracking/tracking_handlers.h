// MLflow's REST API 2.0 tracking endpoints over a TrackingStore: request JSON (or query string
// for GET) in, MLflow's response JSON out, errors as MLflow's error bodies. Registered under both
// /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/.
#pragma once

#include <memory>

#include "common/http_server.h"
#include "tracking/tracking_store.h"

namespace mltrack::tracking {

void RegisterTrackingHandlers(http::Server& server, std::shared_ptr<TrackingStore> store);

}  // namespace mltrack::tracking
