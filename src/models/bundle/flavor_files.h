// What the loaders of the built-in flavors share: the errors of a damaged bundle, the flavor's
// format_version in the MLmodel, model.json with its format_version and typed fields, and array
// files with the bundle's prefix on their messages.
//
// Every message starts "Invalid <title> bundle: " (title: "random forest", "ALS") and names the
// file, never the folder, so that it does not depend on where a bundle was unpacked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mltrack/error.h"
#include "models/bundle/array_file.h"
#include "models/bundle/mlmodel.h"

namespace mltrack::models {

inline constexpr const char* kFlavorModelFile = "model.json";

// Error(kInvalidParameterValue) "Invalid <title> bundle: <problem>".
[[noreturn]] void ThrowDamagedBundle(std::string_view title, std::string_view problem);

// Checks that the MLmodel's entry of `flavor` names `version`, then reads `dir`/model.json: a
// JSON object whose "format_version" is `version`. A missing or malformed file is a damaged
// bundle.
nlohmann::json ReadFlavorModelJson(const std::filesystem::path& dir, const ModelMeta& meta,
                                   const char* flavor, int version, std::string_view title);

// Fields of model.json: present ("'model.json' lacks the field 'k'") and of the right type.
const nlohmann::json& JsonField(const nlohmann::json& model, const char* key,
                                std::string_view title);
int64_t JsonIntField(const nlohmann::json& model, const char* key, int64_t low, int64_t high,
                     std::string_view title);
bool JsonBoolField(const nlohmann::json& model, const char* key, std::string_view title);
std::string JsonStringField(const nlohmann::json& model, const char* key, std::string_view title);

// "[3,4]".
std::string ShapeText(const std::vector<uint64_t>& shape);

// ReadArrayFile(dir / file) whose errors are the bundle's: a missing file is "'<file>' is
// missing", a damaged one ReadArrayFile's message after the prefix.
template <typename T>
Array<T> ReadFlavorArray(const std::filesystem::path& dir, const char* file,
                         std::string_view title) {
  try {
    return ReadArrayFile<T>(dir / file);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kResourceDoesNotExist) {
      ThrowDamagedBundle(title, fmt::format("'{}' is missing", file));
    }
    if (e.code() == ErrorCode::kInvalidParameterValue) ThrowDamagedBundle(title, e.what());
    throw;
  }
}

// "'<file>' has shape [..], expected [..] (<why>)" unless the shapes match.
template <typename T>
void ExpectArrayShape(const Array<T>& array, const char* file,
                      const std::vector<uint64_t>& expected, std::string_view why,
                      std::string_view title) {
  if (array.shape != expected) {
    ThrowDamagedBundle(title, fmt::format("'{}' has shape {}, expected {} ({})", file,
                                          ShapeText(array.shape), ShapeText(expected), why));
  }
}

}  // namespace mltrack::models
