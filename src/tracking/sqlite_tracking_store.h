// The TrackingStore over one SQLite database file (WAL mode).
//
// Concurrency: any number of threads and processes may use one database file. Within a process,
// writes are group-committed: concurrent writers queue, one of them (the leader) runs every queued
// write in one transaction, each inside its own SAVEPOINT so that a failing write rolls back alone,
// commits once, and wakes the others. A write returns only after the commit that holds it (WAL,
// synchronous=NORMAL: a crash of the process loses no returned write). Across processes, each
// transaction starts with BEGIN IMMEDIATE and is retried with bounded back-off while another
// process holds the write lock, so no caller ever sees "database is locked". Readers use pooled
// connections and never wait for writers.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/sqlite.h"
#include "tracking/tracking_store.h"

namespace mltrack::tracking {

// The keys that a set of runs has, each list sorted (byte order) and without repeats.
struct RunKeys {
  std::vector<std::string> params;
  std::vector<std::string> metrics;
  std::vector<std::string> tags;
};

class SqliteTrackingStore final : public TrackingStore {
 public:
  // Opens (creating and migrating) the database at `db_path`. New experiments get the artifact
  // location <artifact_root_uri>/<experiment id>.
  SqliteTrackingStore(std::string db_path, std::string artifact_root_uri);
  ~SqliteTrackingStore() override;

  std::string CreateExperiment(const std::string& name, const std::string& artifact_location,
                               const std::vector<Tag>& tags) override;
  Experiment GetExperiment(const std::string& experiment_id) override;
  Experiment GetExperimentByName(const std::string& name) override;
  Page<Experiment> SearchExperiments(const ExperimentSearch& search) override;
  void RenameExperiment(const std::string& experiment_id, const std::string& new_name) override;
  void DeleteExperiment(const std::string& experiment_id) override;
  void RestoreExperiment(const std::string& experiment_id) override;
  void SetExperimentTag(const std::string& experiment_id, const Tag& tag) override;
  void DeleteExperimentTag(const std::string& experiment_id, const std::string& key) override;

  Run CreateRun(const RunCreate& create) override;
  RunInfo UpdateRun(const std::string& run_id, const RunUpdate& update) override;
  Run GetRun(const std::string& run_id) override;
  void DeleteRun(const std::string& run_id) override;
  void RestoreRun(const std::string& run_id) override;
  Page<Run> SearchRuns(const RunSearch& search) override;

  void LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                const std::vector<Param>& params, const std::vector<Tag>& tags) override;
  void DeleteTag(const std::string& run_id, const std::string& key) override;
  void LogModel(const std::string& run_id, const std::string& model_json) override;
  Page<Metric> GetMetricHistory(const std::string& run_id, const std::string& key,
                                int max_results, const std::string& page_token) override;
  std::vector<Metric> SampleMetricHistory(const std::string& run_id, const std::string& key,
                                          std::optional<std::pair<int64_t, int64_t>> steps,
                                          int max_points) override;

  // Queries of the web UI (sqlite_run_columns.cc), beyond the TrackingStore interface.
  //
  // The distinct param, metric and tag keys of the runs of `experiment_ids` in `view` that match
  // `filter` (SearchRuns's grammar): the leaderboard's column chooser, and the columns of a CSV
  // export. Throws SearchRuns's errors for a malformed experiment id or filter; unknown
  // experiments have no runs. One snapshot of the database.
  RunKeys SearchRunKeys(const std::vector<std::string>& experiment_ids, std::string_view filter,
                        ViewType view);
  // How many active runs have each of `run_ids` as their parent (a tag mlflow.parentRunId
  // holding the id); ids without such runs (unknown ids included) are left out.
  std::map<std::string, int64_t> CountChildRuns(const std::vector<std::string>& run_ids);

  const std::string& db_path() const { return db_path_; }
  const std::string& artifact_root_uri() const { return artifact_root_uri_; }

 private:
  class Lease;
  // A connection from the pool, returned on destruction.
  Lease Connect();
  // Runs `body` in a write transaction, possibly together with other threads' writes (group
  // commit). Throws what `body` threw; its effects are then rolled back, and only its own.
  void Write(const std::function<void(sqlite::Database&)>& body);
  struct PendingWrite;
  // The leader's part: one transaction for the whole batch.
  void CommitGroup(const std::vector<PendingWrite*>& group);
  // Runs `body` in a read transaction (one consistent snapshot) on a pooled connection.
  void Read(const std::function<void(sqlite::Database&)>& body);

  std::string db_path_;
  std::string artifact_root_uri_;
  std::mutex group_mutex_;
  std::condition_variable group_done_;
  std::vector<PendingWrite*> queued_writes_;
  bool leader_active_ = false;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<sqlite::Database>> pool_;
};

// Helpers shared by the store's translation units (sqlite_tracking_store.cc,
// sqlite_run_search.cc and sqlite_run_columns.cc); not part of the public interface.
namespace sqlite_store {

struct RunRow {
  int64_t id = 0;  // runs.id
  RunInfo info;
};

// The run with that id, even when deleted; kResourceDoesNotExist otherwise.
RunRow LoadRunRow(sqlite::Database& db, const std::string& run_id);
// Params, tags and latest metrics of one run.
RunData LoadRunData(sqlite::Database& db, int64_t run_row_id);
// The columns LoadRunRow and search read, in this order, from `runs r`.
inline constexpr const char* kRunColumns =
    "r.id, r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, r.end_time, "
    "r.artifact_uri, r.lifecycle_stage";
RunRow ReadRunRow(sqlite::Statement& stmt);
Experiment ReadExperimentRow(sqlite::Statement& stmt);
inline constexpr const char* kExperimentColumns =
    "e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, "
    "e.last_update_time";
std::vector<Tag> LoadExperimentTags(sqlite::Database& db, int64_t experiment_id);
// The SQL condition on `<alias>.lifecycle_stage` for a view type.
std::string LifecycleCondition(const char* alias, ViewType view);

}  // namespace sqlite_store

}  // namespace mltrack::tracking
