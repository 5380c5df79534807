// The MLmodel file at the root of a model bundle: MLflow's YAML fields plus `mltrack_version`.
//
//   artifact_path: model
//   flavors:
//     mltrack.als:
//       data: factors.bin
//       format_version: 1
//   mltrack_version: 0.1.0
//   model_uuid: 0b1f...                      (32 lowercase hex digits)
//   run_id: 5a2c...
//   saved_input_example_info:
//     artifact_path: input_example.json
//     pandas_orient: split
//     type: dataframe
//   signature:
//     inputs: '[{"type": "long", "name": "user", "required": true}]'
//     outputs: '[{"type": "double", "required": true}]'
//     params: null
//   utc_time_created: '2026-11-22 05:21:19.123456'
//
// Keys are written in sorted order, as MLflow's yaml.safe_dump does, so that a save, load, save
// round trip is byte-identical. Top-level keys mltrack does not know (mlflow_version,
// model_size_bytes, metadata, ...) are kept and written back.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "models/bundle/signature.h"

namespace mltrack::models {

inline constexpr std::string_view kMlmodelFileName = "MLmodel";

struct InputExampleInfo {
  std::string artifact_path = "input_example.json";
  std::string type = "dataframe";
  std::string pandas_orient = "split";  // empty: absent
  // Keys mltrack does not interpret (MLflow 2.17's serving_input_path, ...), written back.
  std::map<std::string, nlohmann::json> other_fields;
  bool operator==(const InputExampleInfo&) const = default;
};

struct ModelMeta {
  std::string artifact_path;     // empty: absent (a model saved outside a run)
  std::string run_id;            // empty: absent
  std::string utc_time_created;  // "%Y-%m-%d %H:%M:%S.%f", required
  std::string model_uuid;        // 32 lowercase hex digits; empty: absent (MLflow 1.x files)
  // Flavor name -> its configuration (a YAML map, held as JSON values). At least one, required.
  std::map<std::string, nlohmann::json> flavors;
  std::optional<Signature> signature;
  std::optional<InputExampleInfo> saved_input_example_info;
  std::string mltrack_version;  // empty: absent (a file written by MLflow)
  // Top-level keys mltrack does not interpret, written back unchanged.
  std::map<std::string, nlohmann::json> other_fields;
  bool operator==(const ModelMeta&) const = default;
};

// A ModelMeta for a model created now: a fresh model_uuid, utc_time_created, and this build's
// mltrack_version. Flavors are left for the caller to add.
ModelMeta NewModelMeta();
// "%Y-%m-%d %H:%M:%S.%f" in UTC, microseconds, as MLflow's utc_time_created.
std::string FormatUtcTime(std::chrono::system_clock::time_point time);

// Reads an MLmodel file (`path` is the file itself). Throws Error(kInvalidParameterValue) naming
// the file, the line and the field for malformed YAML, a value of the wrong type or format, or a
// missing required field, e.g.
//   "Invalid MLmodel file 'b/MLmodel': line 3: field 'model_uuid' must be 32 hex digits, got 'x'"
//   "Invalid MLmodel file 'b/MLmodel': missing required field 'flavors'"
// and Error(kResourceDoesNotExist) when the file does not exist.
ModelMeta ReadMlmodel(const std::filesystem::path& path);

// The MLmodel file at `path` as it is written, for showing it rather than loading a model: its
// YAML as JSON (plain scalars resolved as YAML 1.2's core schema, as ReadMlmodel resolves the
// fields it keeps as they are), without checking its fields, so that models this build cannot
// load (tensor signatures, other flavors) show too. Throws what ReadMlmodel throws for a missing
// file and for YAML syntax, and Error(kInvalidParameterValue) "Invalid MLmodel file '<path>': it
// must be a YAML mapping of fields".
nlohmann::json ReadMlmodelAsWritten(const std::filesystem::path& path);

// Writes `meta` to `path` through a temporary file renamed into place. Throws
// Error(kInvalidParameterValue) for a meta that ReadMlmodel would refuse, kIoError on failure.
void WriteMlmodel(const std::filesystem::path& path, const ModelMeta& meta);

// The YAML text WriteMlmodel writes.
std::string MlmodelToYaml(const ModelMeta& meta);

// The same fields as one JSON object, as MLflow's Model.to_json() sends it in runs/log-model
// (the signature's inputs and outputs stay JSON strings).
nlohmann::json MlmodelToJson(const ModelMeta& meta);

}  // namespace mltrack::models
