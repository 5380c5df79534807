// The RegistryStore over MLflow's model-registry REST API 2.0 (an `mlt server` or MLflow's own
// server). An error body from the server is turned back into the same mltrack::Error (code and
// message, tracking::ErrorFromResponse), so callers see the same failure as from the SQLite
// store, except where the server words a refusal of the request itself (a missing required
// field: "... See the API docs for more information about request parameters.").
#pragma once

#include <memory>
#include <string>

#include "common/http_client.h"
#include "registry/registry_store.h"

namespace mltrack::registry {

class RestRegistryStore final : public RegistryStore {
 public:
  explicit RestRegistryStore(std::string base_url, http::ClientOptions options = {});
  ~RestRegistryStore() override;

  RegisteredModel CreateRegisteredModel(const std::string& name, const std::vector<Tag>& tags,
                                        const std::string& description) override;
  RegisteredModel RenameRegisteredModel(const std::string& name,
                                        const std::string& new_name) override;
  RegisteredModel UpdateRegisteredModel(const std::string& name,
                                        const std::string& description) override;
  void DeleteRegisteredModel(const std::string& name) override;
  RegisteredModel GetRegisteredModel(const std::string& name) override;
  Page<RegisteredModel> SearchRegisteredModels(const RegistrySearch& search) override;
  std::vector<ModelVersion> GetLatestVersions(const std::string& name,
                                              const std::vector<std::string>& stages) override;
  void SetRegisteredModelTag(const std::string& name, const Tag& tag) override;
  void DeleteRegisteredModelTag(const std::string& name, const std::string& key) override;

  ModelVersion CreateModelVersion(const ModelVersionCreate& create) override;
  ModelVersion UpdateModelVersion(const std::string& name, const std::string& version,
                                  const std::string& description) override;
  ModelVersion TransitionModelVersionStage(const std::string& name, const std::string& version,
                                           const std::string& stage,
                                           bool archive_existing_versions) override;
  void DeleteModelVersion(const std::string& name, const std::string& version) override;
  ModelVersion GetModelVersion(const std::string& name, const std::string& version) override;
  Page<ModelVersion> SearchModelVersions(const RegistrySearch& search) override;
  std::string GetModelVersionDownloadUri(const std::string& name,
                                         const std::string& version) override;
  void SetModelVersionTag(const std::string& name, const std::string& version,
                          const Tag& tag) override;
  void DeleteModelVersionTag(const std::string& name, const std::string& version,
                             const std::string& key) override;

  void SetRegisteredModelAlias(const std::string& name, const std::string& alias,
                               const std::string& version) override;
  void DeleteRegisteredModelAlias(const std::string& name, const std::string& alias) override;
  ModelVersion GetModelVersionByAlias(const std::string& name, const std::string& alias) override;

  const std::string& base_url() const;

 private:
  std::unique_ptr<http::Client> client_;
};

}  // namespace mltrack::registry
