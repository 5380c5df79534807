// MLflow's REST API 2.0 tracking endpoints over a TrackingStore: request JSON (or query string
// for GET) in, MLflow's response JSON out, errors as MLflow's error bodies. Registered under both
// /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/.
//
// Requests are read as MLflow's server reads them: a GET takes its fields from the query string
// (a list field from the repeated key, `?run_ids=a&run_ids=b`), every other method from a JSON
// object body (POST and PUT must say `Content-Type: application/json`); unknown fields are
// ignored; a missing required field, a value of the wrong JSON type, an unknown enum name or a
// number out of range is refused with 400 INVALID_PARAMETER_VALUE naming the field, in MLflow's
// words where MLflow has them ("Missing value for required parameter 'run_id'. See the API docs
// for more information about request parameters."). Responses are MLflow's proto->JSON shapes:
// int64 as numbers, empty lists and unset fields left out, `{}` for an empty response.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>

#include "common/http_server.h"
#include "tracking/tracking_store.h"

namespace mltrack::tracking {

struct TrackingHandlerOptions {
  // The folder behind the artifact proxy: artifacts/list resolves a run whose artifact_uri is
  // `mlflow-artifacts:/<path>` (or an http(s) URL to /api/2.0/mlflow-artifacts/artifacts/<path>)
  // to <artifacts_destination>/<path>. Empty: such runs cannot be listed (400).
  std::filesystem::path artifacts_destination;
  // The largest runs/log-batch body (MLflow's 1 MB); 0 means the server's default limit.
  size_t max_log_batch_bytes = 1 << 20;
};

void RegisterTrackingHandlers(http::Server& server, std::shared_ptr<TrackingStore> store,
                              TrackingHandlerOptions options = {});

}  // namespace mltrack::tracking
