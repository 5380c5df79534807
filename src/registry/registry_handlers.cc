// One handler per rpc of ModelRegistryService; required fields as mlflow/server/handlers.py
// asserts them.
#include "registry/registry_handlers.h"

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "mltrack/error.h"
#include "registry/registry_json.h"
#include "registry/registry_search.h"
#include "tracking/tracking_handlers_internal.h"

namespace mltrack::registry {
namespace {

using nlohmann::json;
using tracking::handlers::RequestFields;
using tracking::handlers::RouteBoth;
using tracking::handlers::SetJson;
using tracking::handlers::ThrowInvalid;
using tracking::handlers::ThrowMissing;
using tracking::handlers::TypeHint;

using Store = std::shared_ptr<RegistryStore>;

// model_registry.proto's defaults for max_results.
constexpr int64_t kDefaultModelResults = 100;
constexpr int64_t kDefaultVersionResults = 200000;

// max_results is checked here, before it is narrowed to an int, with the store's messages.
RegistrySearch ReadSearch(const RequestFields& fields, int64_t default_max_results,
                          int max_max_results) {
  RegistrySearch search;
  search.filter = fields.String("filter").value_or("");
  int64_t max_results = fields.Int64("max_results").value_or(default_max_results);
  ValidateSearchMaxResults(max_results, max_max_results);
  search.max_results = static_cast<int>(max_results);
  search.order_by = fields.StringList("order_by");
  search.page_token = fields.String("page_token").value_or("");
  return search;
}

// A required bool (archive_existing_versions); a GET query carries "true" or "false".
bool RequiredBool(const RequestFields& fields, std::string_view name) {
  const json* value = fields.Find(name);
  if (!value) ThrowMissing(name);
  if (value->is_boolean()) return value->get<bool>();
  if (value->is_string()) {
    if (*value == "true" || *value == "True") return true;
    if (*value == "false" || *value == "False") return false;
  }
  ThrowInvalid(*value, name, TypeHint(*value));
}

json ModelBody(const RegisteredModel& model) { return {{"registered_model", ToJson(model)}}; }
json VersionBody(const ModelVersion& version) { return {{"model_version", ToJson(version)}}; }

// --- registered models ---------------------------------------------------------------------------

void CreateRegisteredModel(const Store& store, const http::Request& request,
                           http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  std::vector<Tag> tags = fields.TagList("tags");
  std::string description = fields.String("description").value_or("");
  SetJson(response, ModelBody(store->CreateRegisteredModel(name, tags, description)));
}

void RenameRegisteredModel(const Store& store, const http::Request& request,
                           http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  std::string new_name = fields.RequiredString("new_name");
  SetJson(response, ModelBody(store->RenameRegisteredModel(name, new_name)));
}

void UpdateRegisteredModel(const Store& store, const http::Request& request,
                           http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  std::string description = fields.String("description").value_or("");
  SetJson(response, ModelBody(store->UpdateRegisteredModel(name, description)));
}

void DeleteRegisteredModel(const Store& store, const http::Request& request,
                           http::Response& response) {
  RequestFields fields(request, {});
  store->DeleteRegisteredModel(fields.RequiredString("name"));
  SetJson(response, json::object());
}

void GetRegisteredModel(const Store& store, const http::Request& request,
                        http::Response& response) {
  RequestFields fields(request, {});
  SetJson(response, ModelBody(store->GetRegisteredModel(fields.RequiredString("name"))));
}

void SearchRegisteredModels(const Store& store, const http::Request& request,
                            http::Response& response) {
  RequestFields fields(request, {"order_by"});
  Page<RegisteredModel> page = store->SearchRegisteredModels(
      ReadSearch(fields, kDefaultModelResults, kMaxRegisteredModelResults));
  json body = json::object();
  if (!page.items.empty()) {
    json& models = body["registered_models"] = json::array();
    for (const auto& model : page.items) models.push_back(ToJson(model));
  }
  if (!page.next_page_token.empty()) body["next_page_token"] = page.next_page_token;
  SetJson(response, body);
}

void GetLatestVersions(const Store& store, const http::Request& request,
                       http::Response& response) {
  RequestFields fields(request, {"stages"});
  std::string name = fields.RequiredString("name");
  std::vector<ModelVersion> versions = store->GetLatestVersions(name, fields.StringList("stages"));
  json body = json::object();
  if (!versions.empty()) {
    json& list = body["model_versions"] = json::array();
    for (const auto& version : versions) list.push_back(ToJson(version));
  }
  SetJson(response, body);
}

void SetRegisteredModelTag(const Store& store, const http::Request& request,
                           http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  Tag tag{fields.RequiredString("key"), fields.String("value").value_or("")};
  store->SetRegisteredModelTag(name, tag);
  SetJson(response, json::object());
}

void DeleteRegisteredModelTag(const Store& store, const http::Request& request,
                              http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  store->DeleteRegisteredModelTag(name, fields.RequiredString("key"));
  SetJson(response, json::object());
}

void SetRegisteredModelAlias(const Store& store, const http::Request& request,
                             http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  std::string alias = fields.RequiredString("alias");
  std::string version = fields.RequiredString("version");
  store->SetRegisteredModelAlias(name, alias, version);
  SetJson(response, json::object());
}

void DeleteRegisteredModelAlias(const Store& store, const http::Request& request,
                                http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  store->DeleteRegisteredModelAlias(name, fields.RequiredString("alias"));
  SetJson(response, json::object());
}

void GetModelVersionByAlias(const Store& store, const http::Request& request,
                            http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  SetJson(response,
          VersionBody(store->GetModelVersionByAlias(name, fields.RequiredString("alias"))));
}

// --- model versions ------------------------------------------------------------------------------

void CreateModelVersion(const Store& store, const http::Request& request,
                        http::Response& response) {
  RequestFields fields(request, {});
  ModelVersionCreate create;
  create.name = fields.RequiredString("name");
  create.source = fields.RequiredString("source");
  create.run_id = fields.String("run_id").value_or("");
  create.tags = fields.TagList("tags");
  create.run_link = fields.String("run_link").value_or("");
  create.description = fields.String("description").value_or("");
  SetJson(response, VersionBody(store->CreateModelVersion(create)));
}

void UpdateModelVersion(const Store& store, const http::Request& request,
                        http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  std::string version = fields.RequiredString("version");
  std::string description = fields.String("description").value_or("");
  SetJson(response, VersionBody(store->UpdateModelVersion(name, version, description)));
}

void TransitionModelVersionStage(const Store& store, const http::Request& request,
                                 http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  std::string version = fields.RequiredString("version");
  std::string stage = fields.RequiredString("stage");
  bool archive = RequiredBool(fields, "archive_existing_versions");
  SetJson(response,
          VersionBody(store->TransitionModelVersionStage(name, version, stage, archive)));
}

void DeleteModelVersion(const Store& store, const http::Request& request,
                        http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  store->DeleteModelVersion(name, fields.RequiredString("version"));
  SetJson(response, json::object());
}

void GetModelVersion(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  SetJson(response, VersionBody(store->GetModelVersion(name, fields.RequiredString("version"))));
}

void SearchModelVersions(const Store& store, const http::Request& request,
                         http::Response& response) {
  RequestFields fields(request, {"order_by"});
  Page<ModelVersion> page = store->SearchModelVersions(
      ReadSearch(fields, kDefaultVersionResults, kMaxModelVersionResults));
  json body = json::object();
  if (!page.items.empty()) {
    json& versions = body["model_versions"] = json::array();
    for (const auto& version : page.items) versions.push_back(ToJson(version));
  }
  if (!page.next_page_token.empty()) body["next_page_token"] = page.next_page_token;
  SetJson(response, body);
}

void GetModelVersionDownloadUri(const Store& store, const http::Request& request,
                                http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  std::string uri = store->GetModelVersionDownloadUri(name, fields.RequiredString("version"));
  SetJson(response, {{"artifact_uri", uri}});
}

void SetModelVersionTag(const Store& store, const http::Request& request,
                        http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  std::string version = fields.RequiredString("version");
  Tag tag{fields.RequiredString("key"), fields.String("value").value_or("")};
  store->SetModelVersionTag(name, version, tag);
  SetJson(response, json::object());
}

void DeleteModelVersionTag(const Store& store, const http::Request& request,
                           http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  std::string version = fields.RequiredString("version");
  store->DeleteModelVersionTag(name, version, fields.RequiredString("key"));
  SetJson(response, json::object());
}

using Endpoint = void (*)(const Store&, const http::Request&, http::Response&);

}  // namespace

void RegisterRegistryHandlers(http::Server& server, std::shared_ptr<RegistryStore> store) {
  // Methods and paths as model_registry.proto declares them.
  struct Row {
    const char* method;
    const char* path;
    Endpoint endpoint;
  };
  const Row rows[] = {
      {"POST", "registered-models/create", CreateRegisteredModel},
      {"POST", "registered-models/rename", RenameRegisteredModel},
      {"PATCH", "registered-models/update", UpdateRegisteredModel},
      {"DELETE", "registered-models/delete", DeleteRegisteredModel},
      {"GET", "registered-models/get", GetRegisteredModel},
      {"GET", "registered-models/search", SearchRegisteredModels},
      {"POST", "registered-models/get-latest-versions", GetLatestVersions},
      {"GET", "registered-models/get-latest-versions", GetLatestVersions},
      {"POST", "registered-models/set-tag", SetRegisteredModelTag},
      {"DELETE", "registered-models/delete-tag", DeleteRegisteredModelTag},
      {"POST", "registered-models/alias", SetRegisteredModelAlias},
      {"DELETE", "registered-models/alias", DeleteRegisteredModelAlias},
      {"GET", "registered-models/alias", GetModelVersionByAlias},
      {"POST", "model-versions/create", CreateModelVersion},
      {"PATCH", "model-versions/update", UpdateModelVersion},
      {"POST", "model-versions/transition-stage", TransitionModelVersionStage},
      {"DELETE", "model-versions/delete", DeleteModelVersion},
      {"GET", "model-versions/get", GetModelVersion},
      {"GET", "model-versions/search", SearchModelVersions},
      {"GET", "model-versions/get-download-uri", GetModelVersionDownloadUri},
      {"POST", "model-versions/set-tag", SetModelVersionTag},
      {"DELETE", "model-versions/delete-tag", DeleteModelVersionTag},
  };
  for (const Row& row : rows) {
    Endpoint endpoint = row.endpoint;
    RouteBoth(server, row.method, row.path,
              [store, endpoint](const http::Request& request, http::Response& response) {
                endpoint(store, request, response);
              });
  }
}

}  // namespace mltrack::registry
