#include "tracking/logged_model.h"

#include <set>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack::tracking {

using nlohmann::ordered_json;

ordered_json ParseLoggedModel(std::string_view model_json) {
  ordered_json model;
  try {
    model = ordered_json::parse(model_json);
  } catch (const nlohmann::json::parse_error&) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Malformed model info. \n {} \n is not a valid JSON.", model_json));
  }
  if (!model.is_object()) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Malformed model info. \n {} \n is not a JSON object.", model_json));
  }
  std::set<std::string> missing;
  for (const char* key : {"artifact_path", "flavors", "utc_time_created", "run_id"}) {
    if (!model.contains(key)) missing.insert(key);
  }
  if (!missing.empty()) {
    std::string list;  // Python's repr of a set of strings
    for (const auto& key : missing) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", key);
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Model json is missing mandatory fields: {{{}}}", list));
  }
  if (!model["flavors"].is_object()) {
    throw Error(ErrorCode::kInvalidParameterValue,
                "Invalid model info: 'flavors' must be a JSON object");
  }
  return model;
}

std::string AppendLoggedModel(const std::optional<std::string>& history_value,
                              const ordered_json& model, std::string_view run_id) {
  ordered_json history = ordered_json::array();
  if (history_value) {
    try {
      history = ordered_json::parse(*history_value);
    } catch (const nlohmann::json::parse_error&) {
      history = nullptr;
    }
    if (!history.is_array()) {
      throw Error(ErrorCode::kInvalidState,
                  fmt::format("The tag '{}' of run {} does not hold a JSON list", kLoggedModelsTag,
                              run_id));
    }
  }
  ordered_json entry = ordered_json::object();
  for (const char* key : {"run_id", "artifact_path", "utc_time_created", "model_uuid"}) {
    if (auto it = model.find(key); it != model.end()) entry[key] = *it;
  }
  ordered_json flavors = ordered_json::object();
  for (const auto& [name, config] : model["flavors"].items()) {
    ordered_json copy = config;
    if (copy.is_object()) copy.erase("config");
    flavors[name] = std::move(copy);
  }
  entry["flavors"] = std::move(flavors);
  history.push_back(std::move(entry));
  return history.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace mltrack::tracking
