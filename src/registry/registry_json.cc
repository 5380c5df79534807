#include "registry/registry_json.h"

#include <string>

#include "tracking/entity_json.h"

namespace mltrack::registry {
namespace {

using nlohmann::json;
using tracking::FromJsonArray;
using tracking::IndexedJsonField;
using tracking::Int64FromJson;
using tracking::ThrowInvalidJsonField;

void PutString(json& out, const char* name, const std::string& value) {
  if (!value.empty()) out[name] = value;
}

json Tags(const std::vector<Tag>& tags) {
  json array = json::array();
  for (const auto& tag : tags) array.push_back(tracking::ToJson(tag));
  return array;
}

std::string Path(std::string_view field, const char* name) {
  return field.empty() ? std::string(name) : std::string(field) + "." + name;
}

const json* Member(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string GetString(const json& object, std::string_view field, const char* name) {
  const json* value = Member(object, name);
  if (!value) return "";
  if (!value->is_string()) ThrowInvalidJsonField(Path(field, name), "expected a string");
  return value->get<std::string>();
}

int64_t GetInt64(const json& object, std::string_view field, const char* name) {
  const json* value = Member(object, name);
  return value ? Int64FromJson(*value, Path(field, name)) : 0;
}

const json& RequireObject(const json& json_value, std::string_view field) {
  if (!json_value.is_object()) ThrowInvalidJsonField(field, "expected an object");
  return json_value;
}

std::vector<Tag> GetTags(const json& object, std::string_view field) {
  const json* value = Member(object, "tags");
  return value ? FromJsonArray<Tag>(*value, Path(field, "tags")) : std::vector<Tag>{};
}

}  // namespace

json ToJson(const ModelVersion& version) {
  json out = json::object();
  out["name"] = version.name;
  out["version"] = version.version;
  out["creation_timestamp"] = version.creation_timestamp;
  out["last_updated_timestamp"] = version.last_updated_timestamp;
  PutString(out, "user_id", version.user_id);
  PutString(out, "current_stage", version.current_stage);
  PutString(out, "description", version.description);
  PutString(out, "source", version.source);
  PutString(out, "run_id", version.run_id);
  PutString(out, "status", version.status);
  PutString(out, "status_message", version.status_message);
  if (!version.tags.empty()) out["tags"] = Tags(version.tags);
  PutString(out, "run_link", version.run_link);
  if (!version.aliases.empty()) out["aliases"] = version.aliases;
  return out;
}

json ToJson(const RegisteredModel& model) {
  json out = json::object();
  out["name"] = model.name;
  out["creation_timestamp"] = model.creation_timestamp;
  out["last_updated_timestamp"] = model.last_updated_timestamp;
  PutString(out, "user_id", model.user_id);
  PutString(out, "description", model.description);
  if (!model.latest_versions.empty()) {
    json& latest = out["latest_versions"] = json::array();
    for (const auto& version : model.latest_versions) latest.push_back(ToJson(version));
  }
  if (!model.tags.empty()) out["tags"] = Tags(model.tags);
  if (!model.aliases.empty()) {
    json& aliases = out["aliases"] = json::array();
    for (const auto& alias : model.aliases) {
      aliases.push_back({{"alias", alias.alias}, {"version", alias.version}});
    }
  }
  return out;
}

ModelVersion ModelVersionFromJson(const json& json_value, std::string_view field) {
  const json& in = RequireObject(json_value, field);
  ModelVersion version;
  version.name = GetString(in, field, "name");
  version.version = GetString(in, field, "version");
  version.creation_timestamp = GetInt64(in, field, "creation_timestamp");
  version.last_updated_timestamp = GetInt64(in, field, "last_updated_timestamp");
  version.user_id = GetString(in, field, "user_id");
  version.current_stage = GetString(in, field, "current_stage");
  if (version.current_stage.empty()) version.current_stage = "None";
  version.description = GetString(in, field, "description");
  version.source = GetString(in, field, "source");
  version.run_id = GetString(in, field, "run_id");
  version.run_link = GetString(in, field, "run_link");
  version.status = GetString(in, field, "status");
  if (version.status.empty()) version.status = "READY";
  version.status_message = GetString(in, field, "status_message");
  version.tags = GetTags(in, field);
  if (const json* aliases = Member(in, "aliases")) {
    std::string path = Path(field, "aliases");
    if (!aliases->is_array()) ThrowInvalidJsonField(path, "expected an array");
    for (size_t i = 0; i < aliases->size(); ++i) {
      if (!(*aliases)[i].is_string()) {
        ThrowInvalidJsonField(IndexedJsonField(path, i), "expected a string");
      }
      version.aliases.push_back((*aliases)[i].get<std::string>());
    }
  }
  return version;
}

RegisteredModel RegisteredModelFromJson(const json& json_value, std::string_view field) {
  const json& in = RequireObject(json_value, field);
  RegisteredModel model;
  model.name = GetString(in, field, "name");
  model.creation_timestamp = GetInt64(in, field, "creation_timestamp");
  model.last_updated_timestamp = GetInt64(in, field, "last_updated_timestamp");
  model.user_id = GetString(in, field, "user_id");
  model.description = GetString(in, field, "description");
  if (const json* latest = Member(in, "latest_versions")) {
    std::string path = Path(field, "latest_versions");
    if (!latest->is_array()) ThrowInvalidJsonField(path, "expected an array");
    for (size_t i = 0; i < latest->size(); ++i) {
      model.latest_versions.push_back(
          ModelVersionFromJson((*latest)[i], IndexedJsonField(path, i)));
    }
  }
  model.tags = GetTags(in, field);
  if (const json* aliases = Member(in, "aliases")) {
    std::string path = Path(field, "aliases");
    if (!aliases->is_array()) ThrowInvalidJsonField(path, "expected an array");
    for (size_t i = 0; i < aliases->size(); ++i) {
      std::string element = IndexedJsonField(path, i);
      const json& alias = RequireObject((*aliases)[i], element);
      model.aliases.push_back(
          {GetString(alias, element, "alias"), GetString(alias, element, "version")});
    }
  }
  return model;
}

}  // namespace mltrack::registry
