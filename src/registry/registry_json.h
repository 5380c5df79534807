// Registry entities as JSON, in the shapes of mlflow/protos/model_registry.proto rendered as
// MLflow's server writes them (the rules of tracking/entity_json.h): int64 as numbers, empty
// strings and empty lists left out. FromJson reads what ToJson writes, ignores unknown fields,
// and throws Error(kInvalidParameterValue) naming the field for a value of the wrong type.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "registry/registry_store.h"

namespace mltrack::registry {

nlohmann::json ToJson(const ModelVersion& version);
nlohmann::json ToJson(const RegisteredModel& model);

ModelVersion ModelVersionFromJson(const nlohmann::json& json, std::string_view field);
RegisteredModel RegisteredModelFromJson(const nlohmann::json& json, std::string_view field);

}  // namespace mltrack::registry
