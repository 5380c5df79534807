// MLflow's model-registry REST API 2.0 (mlflow/protos/model_registry.proto) over a RegistryStore,
// registered under /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/. Requests are read and responses
// written by the tracking handlers' rules (tracking/tracking_handlers.h): GET fields from the
// query string, other methods from a JSON body; a missing required field is 400
// INVALID_PARAMETER_VALUE in MLflow's words; empty strings and lists are left out of responses.
#pragma once

#include <memory>

#include "common/http_server.h"
#include "registry/registry_store.h"

namespace mltrack::registry {

void RegisterRegistryHandlers(http::Server& server, std::shared_ptr<RegistryStore> store);

}  // namespace mltrack::registry
