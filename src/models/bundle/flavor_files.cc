#include "models/bundle/flavor_files.h"

#include <algorithm>
#include <climits>

#include "models/bundle/file_util.h"

namespace mltrack::models {

using nlohmann::json;

void ThrowDamagedBundle(std::string_view title, std::string_view problem) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid {} bundle: {}", title, problem));
}

json ReadFlavorModelJson(const std::filesystem::path& dir, const ModelMeta& meta,
                         const char* flavor, int version, std::string_view title) {
  const json& entry = meta.flavors.at(flavor);
  if (!entry.is_object() || !entry.contains("format_version") ||
      entry["format_version"] != version) {
    ThrowDamagedBundle(
        title, fmt::format("its MLmodel names format_version {} of flavor {}; this mltrack reads "
                           "version {}",
                           entry.is_object() && entry.contains("format_version")
                               ? entry["format_version"].dump()
                               : "(none)",
                           flavor, version));
  }
  json model;
  try {
    model = json::parse(ReadWholeFile(dir / kFlavorModelFile));
  } catch (const json::parse_error& e) {
    ThrowDamagedBundle(title, fmt::format("'{}' is not valid JSON: {}", kFlavorModelFile, e.what()));
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kResourceDoesNotExist) throw;
    ThrowDamagedBundle(title, fmt::format("'{}' is missing", kFlavorModelFile));
  }
  if (!model.is_object()) {
    ThrowDamagedBundle(title, fmt::format("'{}' is not a JSON object", kFlavorModelFile));
  }
  const json& found = JsonField(model, "format_version", title);
  if (found != version) {
    ThrowDamagedBundle(title, fmt::format("'{}' has format_version {}; this mltrack reads version {}",
                                          kFlavorModelFile, found.dump(), version));
  }
  return model;
}

const json& JsonField(const json& model, const char* key, std::string_view title) {
  auto it = model.find(key);
  if (it == model.end()) {
    ThrowDamagedBundle(title, fmt::format("'{}' lacks the field '{}'", kFlavorModelFile, key));
  }
  return *it;
}

int64_t JsonIntField(const json& model, const char* key, int64_t low, int64_t high,
                     std::string_view title) {
  const json& v = JsonField(model, key, title);
  if (!v.is_number_integer()) {
    ThrowDamagedBundle(title, fmt::format("'{}' field '{}' must be an integer, got {}",
                                          kFlavorModelFile, key, v.dump()));
  }
  int64_t value = v.is_number_unsigned()
                      ? static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), INT64_MAX))
                      : v.get<int64_t>();
  if (value < low || value > high) {
    ThrowDamagedBundle(title, fmt::format("'{}' field '{}' is {}; it must be between {} and {}",
                                          kFlavorModelFile, key, value, low, high));
  }
  return value;
}

bool JsonBoolField(const json& model, const char* key, std::string_view title) {
  const json& v = JsonField(model, key, title);
  if (!v.is_boolean()) {
    ThrowDamagedBundle(title, fmt::format("'{}' field '{}' must be true or false, got {}",
                                          kFlavorModelFile, key, v.dump()));
  }
  return v.get<bool>();
}

std::string JsonStringField(const json& model, const char* key, std::string_view title) {
  const json& v = JsonField(model, key, title);
  if (!v.is_string()) {
    ThrowDamagedBundle(title, fmt::format("'{}' field '{}' must be a string, got {}",
                                          kFlavorModelFile, key, v.dump()));
  }
  return v.get<std::string>();
}

std::string ShapeText(const std::vector<uint64_t>& shape) { return json(shape).dump(); }

}  // namespace mltrack::models
