#include "registry/rest_registry_store.h"

#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "registry/registry_json.h"
#include "tracking/entity_json.h"
#include "tracking/rest_call.h"

namespace mltrack::registry {
namespace {

using nlohmann::json;
using tracking::ThrowInvalidJsonField;
using tracking::rest::Call;
using tracking::rest::Field;
using tracking::rest::NextPageToken;
using tracking::rest::Retry;

json Tags(const std::vector<Tag>& tags) {
  json array = json::array();
  for (const auto& tag : tags) array.push_back(tracking::ToJson(tag));
  return array;
}

std::multimap<std::string, std::string> SearchQuery(const RegistrySearch& search) {
  std::multimap<std::string, std::string> query = {
      {"max_results", std::to_string(search.max_results)}};
  if (!search.filter.empty()) query.emplace("filter", search.filter);
  for (const auto& order : search.order_by) query.emplace("order_by", order);
  if (!search.page_token.empty()) query.emplace("page_token", search.page_token);
  return query;
}

RegisteredModel ReadModel(Call& call, const json& answer) {
  return call.Read(
      [&] { return RegisteredModelFromJson(Field(answer, "registered_model"), "registered_model"); });
}

ModelVersion ReadVersion(Call& call, const json& answer) {
  return call.Read(
      [&] { return ModelVersionFromJson(Field(answer, "model_version"), "model_version"); });
}

std::vector<ModelVersion> ReadVersions(const json& answer) {
  std::vector<ModelVersion> versions;
  const json& list = Field(answer, "model_versions");
  if (list.is_null()) return versions;
  if (!list.is_array()) ThrowInvalidJsonField("model_versions", "expected an array");
  for (size_t i = 0; i < list.size(); ++i) {
    versions.push_back(
        ModelVersionFromJson(list[i], tracking::IndexedJsonField("model_versions", i)));
  }
  return versions;
}

}  // namespace

RestRegistryStore::RestRegistryStore(std::string base_url, http::ClientOptions options)
    : client_(std::make_unique<http::Client>(std::move(base_url), std::move(options))) {}

RestRegistryStore::~RestRegistryStore() = default;

const std::string& RestRegistryStore::base_url() const { return client_->base_url(); }

// --- registered models -------------------------------------------------------------------------

RegisteredModel RestRegistryStore::CreateRegisteredModel(const std::string& name,
                                                         const std::vector<Tag>& tags,
                                                         const std::string& description) {
  json body = {{"name", name}};
  if (!tags.empty()) body["tags"] = Tags(tags);
  if (!description.empty()) body["description"] = description;
  Call call(*client_, "POST", "/registered-models/create");
  json answer = call.Send(body, Retry::kOnce);
  return ReadModel(call, answer);
}

RegisteredModel RestRegistryStore::RenameRegisteredModel(const std::string& name,
                                                         const std::string& new_name) {
  Call call(*client_, "POST", "/registered-models/rename");
  json answer = call.Send({{"name", name}, {"new_name", new_name}}, Retry::kIdempotent);
  return ReadModel(call, answer);
}

RegisteredModel RestRegistryStore::UpdateRegisteredModel(const std::string& name,
                                                         const std::string& description) {
  Call call(*client_, "PATCH", "/registered-models/update");
  json answer = call.Send({{"name", name}, {"description", description}}, Retry::kIdempotent);
  return ReadModel(call, answer);
}

void RestRegistryStore::DeleteRegisteredModel(const std::string& name) {
  Call(*client_, "DELETE", "/registered-models/delete").Send({{"name", name}}, Retry::kIdempotent);
}

RegisteredModel RestRegistryStore::GetRegisteredModel(const std::string& name) {
  Call call(*client_, "GET", "/registered-models/get");
  json answer = call.Get({{"name", name}});
  return ReadModel(call, answer);
}

Page<RegisteredModel> RestRegistryStore::SearchRegisteredModels(const RegistrySearch& search) {
  Call call(*client_, "GET", "/registered-models/search");
  json answer = call.Get(SearchQuery(search));
  return call.Read([&] {
    Page<RegisteredModel> page;
    const json& list = Field(answer, "registered_models");
    if (!list.is_null() && !list.is_array()) {
      ThrowInvalidJsonField("registered_models", "expected an array");
    }
    if (list.is_array()) {
      for (size_t i = 0; i < list.size(); ++i) {
        page.items.push_back(RegisteredModelFromJson(
            list[i], tracking::IndexedJsonField("registered_models", i)));
      }
    }
    page.next_page_token = NextPageToken(answer);
    return page;
  });
}

std::vector<ModelVersion> RestRegistryStore::GetLatestVersions(
    const std::string& name, const std::vector<std::string>& stages) {
  json body = {{"name", name}};
  if (!stages.empty()) body["stages"] = stages;
  Call call(*client_, "POST", "/registered-models/get-latest-versions");
  json answer = call.Send(body, Retry::kRead);
  return call.Read([&] { return ReadVersions(answer); });
}

void RestRegistryStore::SetRegisteredModelTag(const std::string& name, const Tag& tag) {
  Call(*client_, "POST", "/registered-models/set-tag")
      .Send({{"name", name}, {"key", tag.key}, {"value", tag.value}}, Retry::kIdempotent);
}

void RestRegistryStore::DeleteRegisteredModelTag(const std::string& name,
                                                 const std::string& key) {
  Call(*client_, "DELETE", "/registered-models/delete-tag")
      .Send({{"name", name}, {"key", key}}, Retry::kIdempotent);
}

// --- model versions ----------------------------------------------------------------------------

ModelVersion RestRegistryStore::CreateModelVersion(const ModelVersionCreate& create) {
  json body = {{"name", create.name}, {"source", create.source}};
  if (!create.run_id.empty()) body["run_id"] = create.run_id;
  if (!create.tags.empty()) body["tags"] = Tags(create.tags);
  if (!create.run_link.empty()) body["run_link"] = create.run_link;
  if (!create.description.empty()) body["description"] = create.description;
  Call call(*client_, "POST", "/model-versions/create");
  json answer = call.Send(body, Retry::kOnce);
  return ReadVersion(call, answer);
}

ModelVersion RestRegistryStore::UpdateModelVersion(const std::string& name,
                                                   const std::string& version,
                                                   const std::string& description) {
  Call call(*client_, "PATCH", "/model-versions/update");
  json answer = call.Send({{"name", name}, {"version", version}, {"description", description}},
                          Retry::kIdempotent);
  return ReadVersion(call, answer);
}

ModelVersion RestRegistryStore::TransitionModelVersionStage(const std::string& name,
                                                            const std::string& version,
                                                            const std::string& stage,
                                                            bool archive_existing_versions) {
  Call call(*client_, "POST", "/model-versions/transition-stage");
  json answer = call.Send({{"name", name},
                           {"version", version},
                           {"stage", stage},
                           {"archive_existing_versions", archive_existing_versions}},
                          Retry::kIdempotent);
  return ReadVersion(call, answer);
}

void RestRegistryStore::DeleteModelVersion(const std::string& name, const std::string& version) {
  Call(*client_, "DELETE", "/model-versions/delete")
      .Send({{"name", name}, {"version", version}}, Retry::kIdempotent);
}

ModelVersion RestRegistryStore::GetModelVersion(const std::string& name,
                                                const std::string& version) {
  Call call(*client_, "GET", "/model-versions/get");
  json answer = call.Get({{"name", name}, {"version", version}});
  return ReadVersion(call, answer);
}

Page<ModelVersion> RestRegistryStore::SearchModelVersions(const RegistrySearch& search) {
  Call call(*client_, "GET", "/model-versions/search");
  json answer = call.Get(SearchQuery(search));
  return call.Read([&] {
    Page<ModelVersion> page;
    page.items = ReadVersions(answer);
    page.next_page_token = NextPageToken(answer);
    return page;
  });
}

std::string RestRegistryStore::GetModelVersionDownloadUri(const std::string& name,
                                                          const std::string& version) {
  Call call(*client_, "GET", "/model-versions/get-download-uri");
  json answer = call.Get({{"name", name}, {"version", version}});
  return call.Read([&] {
    const json& uri = Field(answer, "artifact_uri");
    if (!uri.is_string()) ThrowInvalidJsonField("artifact_uri", "expected a string");
    return uri.get<std::string>();
  });
}

void RestRegistryStore::SetModelVersionTag(const std::string& name, const std::string& version,
                                           const Tag& tag) {
  Call(*client_, "POST", "/model-versions/set-tag")
      .Send({{"name", name}, {"version", version}, {"key", tag.key}, {"value", tag.value}},
            Retry::kIdempotent);
}

void RestRegistryStore::DeleteModelVersionTag(const std::string& name, const std::string& version,
                                              const std::string& key) {
  Call(*client_, "DELETE", "/model-versions/delete-tag")
      .Send({{"name", name}, {"version", version}, {"key", key}}, Retry::kIdempotent);
}

// --- aliases -----------------------------------------------------------------------------------

void RestRegistryStore::SetRegisteredModelAlias(const std::string& name, const std::string& alias,
                                                const std::string& version) {
  Call(*client_, "POST", "/registered-models/alias")
      .Send({{"name", name}, {"alias", alias}, {"version", version}}, Retry::kIdempotent);
}

void RestRegistryStore::DeleteRegisteredModelAlias(const std::string& name,
                                                   const std::string& alias) {
  Call(*client_, "DELETE", "/registered-models/alias")
      .Send({{"name", name}, {"alias", alias}}, Retry::kIdempotent);
}

ModelVersion RestRegistryStore::GetModelVersionByAlias(const std::string& name,
                                                       const std::string& alias) {
  Call call(*client_, "GET", "/registered-models/alias");
  json answer = call.Get({{"name", name}, {"alias", alias}});
  return ReadVersion(call, answer);
}

}  // namespace mltrack::registry
