// Tracking entities as JSON, in exactly the shapes of MLflow's REST API 2.0 (mlflow/protos/
// service.proto rendered by protobuf's JSON mapping, as MLflow's server writes it):
//
// - field names are the proto field names (`experiment_id`, `run_uuid`, `last_update_time`, ...);
// - int64 fields are JSON numbers (MLflow turns protobuf's int64 strings back into numbers);
// - enums are their names (`"status": "FINISHED"`);
// - a double that is NaN or infinite is the string "NaN", "Infinity" or "-Infinity";
// - an empty repeated field is left out (`"tags"` is absent, not `[]`), and so is an optional
//   field without a value, as MLflow's to_proto leaves them unset: `end_time` of a run that has
//   not ended, an empty `artifact_uri`, an experiment's zero `creation_time` or
//   `last_update_time`, `file_size` of a folder;
// - a Run also carries `"inputs": {}`, as MLflow 2.x writes it.
//
// FromJson reads what ToJson writes and, like protobuf's parser, also accepts int64 values as
// decimal strings, doubles as numeric strings, enum values as their numbers, `null` for an
// absent field, and ignores fields it does not know. Malformed input throws
// Error(kInvalidParameterValue) naming the field by its path from the value given, prefixed with
// `field` when given, e.g. with field "metrics[2]":
//   Invalid value for field 'metrics[2].value': expected a number
//   Missing value for required field 'metrics[2].key'
//
// Required fields: Experiment experiment_id and name; RunInfo run_id (or run_uuid) and
// experiment_id; Run info; Metric key, value and timestamp; Param and Tag key and value;
// FileInfo path. Everything else takes the entity's default when absent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mltrack/entities.h"

namespace mltrack::tracking {

nlohmann::json ToJson(const Experiment& experiment);
nlohmann::json ToJson(const RunInfo& info);
nlohmann::json ToJson(const RunData& data);
nlohmann::json ToJson(const Run& run);
nlohmann::json ToJson(const Metric& metric);
nlohmann::json ToJson(const Param& param);
nlohmann::json ToJson(const Tag& tag);
nlohmann::json ToJson(const FileInfo& file);

// Appends `[{...}, ...]`, the metrics as ToJson(Metric) would write them, straight into `out`:
// metric histories are the largest responses (25,000 points a page), and building a json object
// per point costs ten times the database read.
void AppendMetricsJson(std::string& out, const std::vector<Metric>& metrics);

// One of Experiment, RunInfo, RunData, Run, Metric, Param, Tag, FileInfo.
template <class T>
T FromJson(const nlohmann::json& json, std::string_view field = {});

template <> Experiment FromJson<Experiment>(const nlohmann::json&, std::string_view);
template <> RunInfo FromJson<RunInfo>(const nlohmann::json&, std::string_view);
template <> RunData FromJson<RunData>(const nlohmann::json&, std::string_view);
template <> Run FromJson<Run>(const nlohmann::json&, std::string_view);
template <> Metric FromJson<Metric>(const nlohmann::json&, std::string_view);
template <> Param FromJson<Param>(const nlohmann::json&, std::string_view);
template <> Tag FromJson<Tag>(const nlohmann::json&, std::string_view);
template <> FileInfo FromJson<FileInfo>(const nlohmann::json&, std::string_view);

// Throws Error(kInvalidParameterValue, "Invalid value for field '<field>': <problem>").
[[noreturn]] void ThrowInvalidJsonField(std::string_view field, std::string_view problem);
// "<field>[<index>]".
std::string IndexedJsonField(std::string_view field, size_t index);

// A JSON array of entities; element i is named `<field>[i]` in errors. `null` is an empty list.
template <class T>
std::vector<T> FromJsonArray(const nlohmann::json& json, std::string_view field) {
  std::vector<T> items;
  if (json.is_null()) return items;
  if (!json.is_array()) ThrowInvalidJsonField(field, "expected an array");
  items.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    items.push_back(FromJson<T>(json[i], IndexedJsonField(field, i)));
  }
  return items;
}

// The scalar rules above, for request fields that are not part of an entity (a server reading
// `log-metric`'s `value`, `max_results`, ...). `field` names the value in errors.
nlohmann::json DoubleToJson(double value);
double DoubleFromJson(const nlohmann::json& json, std::string_view field);
int64_t Int64FromJson(const nlohmann::json& json, std::string_view field);

}  // namespace mltrack::tracking
