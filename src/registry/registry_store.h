// The model registry: registered models, their versions, stages and aliases, with MLflow's
// semantics (mlflow/protos/model_registry.proto). A SQLite implementation shares the tracking
// database file; a REST implementation talks to `mlt server` (or MLflow's server). One contract
// suite runs against both.
//
// Errors, as MLflow, with its messages: kResourceDoesNotExist for an unknown model
// ("Registered Model with name=X not found") or version ("Model Version (name=X, version=N) not
// found"); kResourceAlreadyExists for a taken name ("Registered Model (name=X) already exists.");
// kInvalidParameterValue for bad input (reserved alias names `latest` and `v<digits>`, unknown
// stages, versions that are not integers, filters that do not parse) and, as MLflow answers, for
// an unknown alias ("Registered model alias A not found.").
//
// A deleted version's number is never reused (MLflow keeps a hidden row for it), so version
// numbers are unique for the life of the model, and dense until a version is deleted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mltrack/entities.h"

namespace mltrack::registry {

// MLflow's stages: "None", "Staging", "Production", "Archived" (case-insensitive on input).
inline constexpr const char* kStages[] = {"None", "Staging", "Production", "Archived"};

struct ModelVersion {
  std::string name;
  std::string version;                // "1", "2", ... dense per model
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string user_id;
  std::string current_stage = "None";
  std::string description;
  std::string source;                 // the model's URI, e.g. runs:/<run>/model
  std::string run_id;
  std::string run_link;
  std::string status = "READY";       // PENDING_REGISTRATION, FAILED_REGISTRATION, READY
  std::string status_message;
  std::vector<Tag> tags;
  std::vector<std::string> aliases;
};

struct RegisteredModelAlias {
  std::string alias;
  std::string version;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string user_id;
  std::string description;
  std::vector<ModelVersion> latest_versions;  // the latest version of each stage
  std::vector<Tag> tags;
  std::vector<RegisteredModelAlias> aliases;
};

// Searches of registered models (filter on name and tags) and of model versions (filter on
// name, run_id, source_path, version_number, tags), as MLflow's search endpoints take them.
struct RegistrySearch {
  std::string filter;
  int max_results = 100;
  std::vector<std::string> order_by;
  std::string page_token;
};

struct ModelVersionCreate {
  std::string name;
  std::string source;
  std::string run_id;
  std::vector<Tag> tags;
  std::string run_link;
  std::string description;
};

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;

  virtual RegisteredModel CreateRegisteredModel(const std::string& name,
                                                const std::vector<Tag>& tags,
                                                const std::string& description) = 0;
  // Renames the model and all its versions.
  virtual RegisteredModel RenameRegisteredModel(const std::string& name,
                                                const std::string& new_name) = 0;
  virtual RegisteredModel UpdateRegisteredModel(const std::string& name,
                                                const std::string& description) = 0;
  // Deletes the model, its versions, tags and aliases.
  virtual void DeleteRegisteredModel(const std::string& name) = 0;
  virtual RegisteredModel GetRegisteredModel(const std::string& name) = 0;
  virtual Page<RegisteredModel> SearchRegisteredModels(const RegistrySearch& search) = 0;
  // The latest version per stage; `stages` empty means every stage.
  virtual std::vector<ModelVersion> GetLatestVersions(const std::string& name,
                                                      const std::vector<std::string>& stages) = 0;
  virtual void SetRegisteredModelTag(const std::string& name, const Tag& tag) = 0;
  virtual void DeleteRegisteredModelTag(const std::string& name, const std::string& key) = 0;

  // The next version number of the model (dense and unique even under concurrent creates),
  // status READY, stage None. Touches the model's last_updated_timestamp.
  virtual ModelVersion CreateModelVersion(const ModelVersionCreate& create) = 0;
  virtual ModelVersion UpdateModelVersion(const std::string& name, const std::string& version,
                                          const std::string& description) = 0;
  // Moves the version to `stage`; with archive_existing_versions, the other versions in that
  // stage (Staging or Production only) move to Archived.
  virtual ModelVersion TransitionModelVersionStage(const std::string& name,
                                                   const std::string& version,
                                                   const std::string& stage,
                                                   bool archive_existing_versions) = 0;
  virtual void DeleteModelVersion(const std::string& name, const std::string& version) = 0;
  virtual ModelVersion GetModelVersion(const std::string& name, const std::string& version) = 0;
  virtual Page<ModelVersion> SearchModelVersions(const RegistrySearch& search) = 0;
  virtual std::string GetModelVersionDownloadUri(const std::string& name,
                                                 const std::string& version) = 0;
  virtual void SetModelVersionTag(const std::string& name, const std::string& version,
                                  const Tag& tag) = 0;
  virtual void DeleteModelVersionTag(const std::string& name, const std::string& version,
                                     const std::string& key) = 0;

  // Points `alias` at `version` (moving it if it pointed elsewhere). Deleting a version removes
  // the aliases that point at it; deleting an absent alias or tag is not an error (MLflow).
  virtual void SetRegisteredModelAlias(const std::string& name, const std::string& alias,
                                       const std::string& version) = 0;
  virtual void DeleteRegisteredModelAlias(const std::string& name, const std::string& alias) = 0;
  virtual ModelVersion GetModelVersionByAlias(const std::string& name,
                                              const std::string& alias) = 0;
};

}  // namespace mltrack::registry
