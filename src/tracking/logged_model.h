// The `mlflow.log-model.history` run tag: the JSON list of the models logged to a run, as MLflow's
// `runs/log-model` endpoint keeps it. Shared by the SQLite store (which appends inside one write
// transaction, so models logged at once by several processes all end up in the list) and the
// REST handler.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mltrack::tracking {

// MLflow's run tag (mlflow.utils.mlflow_tags.MLFLOW_LOGGED_MODELS).
inline constexpr std::string_view kLoggedModelsTag = "mlflow.log-model.history";

// Parses and checks a `model_json` as MLflow's handler does: a JSON object with artifact_path,
// flavors (an object), utc_time_created and run_id. Throws Error(kInvalidParameterValue) in
// MLflow's words, e.g. "Model json is missing mandatory fields: {'flavors', 'run_id'}".
nlohmann::ordered_json ParseLoggedModel(std::string_view model_json);

// The tag's new value: `history` (the current value; nullopt when the run has no such tag) with
// the entry MLflow's Model.get_tags_dict() makes of `model` appended (run_id, artifact_path,
// utc_time_created, model_uuid, and the flavors without their "config" members). Throws
// Error(kInvalidState) when `history` is not a JSON list.
std::string AppendLoggedModel(const std::optional<std::string>& history,
                              const nlohmann::ordered_json& model, std::string_view run_id);

}  // namespace mltrack::tracking
