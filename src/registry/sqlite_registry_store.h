// The RegistryStore over the tracking store's SQLite database file (schema migration 2, see
// tracking/sqlite_schema.h). Either store may open the file first; both migrate it.
//
// Concurrency: any number of threads and processes may use one database file. Within a process
// writes are serialized by a mutex on one writer connection; across processes each write is one
// BEGIN IMMEDIATE transaction, retried with back-off while another process holds the lock. A new
// version number is MAX(version) + 1 read inside that transaction, so numbers are dense and
// unique however many threads and processes create versions at once. Reads use pooled
// connections, each read one snapshot.
//
// As MLflow, a deleted version stays as a hidden row (stage "Deleted_Internal", its source, run
// and description redacted) so that its number is never reused; its aliases are removed.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/sqlite.h"
#include "registry/registry_store.h"

namespace mltrack::registry {

class SqliteRegistryStore final : public RegistryStore {
 public:
  // Opens (creating and migrating) the database at `db_path`. `artifact_root_uri` only matters
  // when this store creates the file: it is where the Default experiment's artifacts go, as
  // SqliteTrackingStore would have put them.
  explicit SqliteRegistryStore(std::string db_path,
                               std::string artifact_root_uri = "./mlartifacts");
  ~SqliteRegistryStore() override;

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

  const std::string& db_path() const { return db_path_; }

 private:
  // Runs `body` in one write transaction on the writer connection.
  void Write(const std::function<void(sqlite::Database&)>& body);
  // Runs `body` in one read transaction on a pooled connection.
  void Read(const std::function<void(sqlite::Database&)>& body);

  std::string db_path_;
  std::mutex write_mutex_;
  std::unique_ptr<sqlite::Database> writer_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<sqlite::Database>> pool_;
};

}  // namespace mltrack::registry
