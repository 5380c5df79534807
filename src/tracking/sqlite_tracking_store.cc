#include "tracking/sqlite_tracking_store.h"

#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/page_token.h"
#include "common/sqlite_page.h"
#include "mltrack/error.h"
#include "tracking/logged_model.h"
#include "tracking/metric_downsampling.h"
#include "tracking/sqlite_schema.h"
#include "tracking/validation.h"

namespace mltrack::tracking {

using sqlite::Database;
using sqlite::Statement;

namespace {

constexpr std::string_view kRunNameTag = "mlflow.runName";

[[noreturn]] void NotActive(std::string_view kind, std::string_view id) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("The {} {} must be in the 'active' state. Current state is deleted.",
                          kind, id));
}

LifecycleStage StageFromText(const std::string& text) {
  return text == "deleted" ? LifecycleStage::kDeleted : LifecycleStage::kActive;
}

// Experiment ids are decimal integers; anything else names no experiment.
std::optional<int64_t> ParseExperimentId(const std::string& id) {
  if (id.empty() || id.size() > 18) return std::nullopt;
  int64_t value = 0;
  for (char c : id) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

[[noreturn]] void NoSuchExperiment(const std::string& id) {
  throw Error(ErrorCode::kResourceDoesNotExist,
              fmt::format("No Experiment with id={} exists", id));
}

Experiment LoadExperiment(Database& db, const std::string& experiment_id) {
  auto id = ParseExperimentId(experiment_id);
  if (!id) NoSuchExperiment(experiment_id);
  auto& stmt = db.Prepare(fmt::format("SELECT {} FROM experiments e WHERE e.experiment_id = ?",
                                      sqlite_store::kExperimentColumns));
  stmt.Bind(1, *id);
  if (!stmt.Step()) NoSuchExperiment(experiment_id);
  Experiment exp = sqlite_store::ReadExperimentRow(stmt);
  exp.tags = sqlite_store::LoadExperimentTags(db, *id);
  return exp;
}

void CheckNameFree(Database& db, const std::string& name) {
  auto& stmt = db.Prepare(
      "SELECT 1 FROM experiments WHERE name = ? AND lifecycle_stage = 'active'");
  stmt.Bind(1, std::string_view(name));
  if (stmt.Step()) {
    throw Error(ErrorCode::kResourceAlreadyExists,
                fmt::format("Experiment(name={}) already exists.", name));
  }
}

void TouchExperiment(Database& db, int64_t id, int64_t now) {
  db.Prepare("UPDATE experiments SET last_update_time = ? WHERE experiment_id = ?")
      .Bind(1, now)
      .Bind(2, id)
      .Run();
}

sqlite_store::RunRow LoadActiveRun(Database& db, const std::string& run_id) {
  auto row = sqlite_store::LoadRunRow(db, run_id);
  if (row.info.lifecycle_stage != LifecycleStage::kActive) NotActive("run", run_id);
  return row;
}

void UpsertRunTag(Database& db, int64_t run_row, const Tag& tag) {
  db.Prepare(
        "INSERT INTO tags(run_id, key, value) VALUES (?, ?, ?) "
        "ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value")
      .Bind(1, run_row)
      .Bind(2, std::string_view(tag.key))
      .Bind(3, std::string_view(tag.value))
      .Run();
  if (tag.key == kRunNameTag) {
    db.Prepare("UPDATE runs SET name = ? WHERE id = ?")
        .Bind(1, std::string_view(tag.value))
        .Bind(2, run_row)
        .Run();
  }
}

void BindMetricValue(Statement& stmt, int index, double value) {
  // SQLite cannot store NaN; NULL encodes it (see sqlite_schema.h).
  if (std::isnan(value)) {
    stmt.BindNull(index);
  } else {
    stmt.Bind(index, value);
  }
}

double ReadMetricValue(Statement& stmt, int column) {
  return stmt.IsNull(column) ? std::nan("") : stmt.Double(column);
}

// The (step, timestamp, value) order of latest_metrics, with NaN below every number.
bool LaterThan(const Metric& a, const Metric& b) {
  if (a.step != b.step) return a.step > b.step;
  if (a.timestamp != b.timestamp) return a.timestamp > b.timestamp;
  double av = std::isnan(a.value) ? -INFINITY : a.value;
  double bv = std::isnan(b.value) ? -INFINITY : b.value;
  return av >= bv;
}

}  // namespace

// --- connection pool ---------------------------------------------------------------------------

class SqliteTrackingStore::Lease {
 public:
  Lease(SqliteTrackingStore& store, std::unique_ptr<Database> db)
      : store_(store), db_(std::move(db)) {}
  ~Lease() {
    std::lock_guard lock(store_.pool_mutex_);
    store_.pool_.push_back(std::move(db_));
  }
  Database& operator*() { return *db_; }

 private:
  SqliteTrackingStore& store_;
  std::unique_ptr<Database> db_;
};

SqliteTrackingStore::SqliteTrackingStore(std::string db_path, std::string artifact_root_uri)
    : db_path_(std::move(db_path)), artifact_root_uri_(std::move(artifact_root_uri)) {
  while (!artifact_root_uri_.empty() && artifact_root_uri_.back() == '/') {
    artifact_root_uri_.pop_back();
  }
  auto db = std::make_unique<Database>(db_path_);
  MigrateSchema(*db, (artifact_root_uri_ + "/0").c_str());
  pool_.push_back(std::move(db));
}

SqliteTrackingStore::~SqliteTrackingStore() = default;

SqliteTrackingStore::Lease SqliteTrackingStore::Connect() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      auto db = std::move(pool_.back());
      pool_.pop_back();
      return Lease(*this, std::move(db));
    }
  }
  return Lease(*this, std::make_unique<Database>(db_path_));
}

struct SqliteTrackingStore::PendingWrite {
  const std::function<void(Database&)>* body;
  std::exception_ptr error;
  bool done = false;
};

void SqliteTrackingStore::Write(const std::function<void(Database&)>& body) {
  PendingWrite mine{&body};
  std::unique_lock lock(group_mutex_);
  queued_writes_.push_back(&mine);
  while (!mine.done) {
    if (leader_active_) {
      group_done_.wait(lock);
      continue;
    }
    // Lead: take everything queued so far (this write included) into one transaction.
    leader_active_ = true;
    std::vector<PendingWrite*> group;
    group.swap(queued_writes_);
    lock.unlock();
    try {
      CommitGroup(group);
    } catch (...) {
      // The transaction itself failed (e.g. the database stayed locked): every write in it did.
      for (auto* write : group) write->error = std::current_exception();
    }
    lock.lock();
    for (auto* write : group) write->done = true;
    leader_active_ = false;
    group_done_.notify_all();
  }
  lock.unlock();
  if (mine.error) std::rethrow_exception(mine.error);
}

void SqliteTrackingStore::CommitGroup(const std::vector<PendingWrite*>& group) {
  auto lease = Connect();
  Database& db = *lease;
  db.Transaction([&] {
    // Runs again from the start if the transaction is retried after a Busy.
    for (auto* write : group) {
      write->error = nullptr;
      db.Exec("SAVEPOINT write");
      try {
        (*write->body)(db);
        db.Exec("RELEASE write");
      } catch (const sqlite::Busy&) {
        throw;  // the whole transaction is retried
      } catch (...) {
        write->error = std::current_exception();
        db.FinishStatements();
        db.Exec("ROLLBACK TO write");
        db.Exec("RELEASE write");
      }
    }
  });
}

void SqliteTrackingStore::Read(const std::function<void(Database&)>& body) {
  auto lease = Connect();
  Database& db = *lease;
  db.ReadTransaction([&] { body(db); });
}

// --- experiments -------------------------------------------------------------------------------

std::string SqliteTrackingStore::CreateExperiment(const std::string& name,
                                                  const std::string& artifact_location,
                                                  const std::vector<Tag>& tags) {
  ValidateExperimentName(name);
  for (const auto& tag : tags) ValidateExperimentTag(tag);
  int64_t id = 0;
  Write([&](Database& db) {
    CheckNameFree(db, name);
    int64_t now = NowMillis();
    db.Prepare(
          "INSERT INTO experiments(name, artifact_location, lifecycle_stage, creation_time, "
          "last_update_time) VALUES (?, ?, 'active', ?, ?)")
        .Bind(1, std::string_view(name))
        .Bind(2, std::string_view(artifact_location))
        .Bind(3, now)
        .Bind(4, now)
        .Run();
    id = db.LastInsertRowId();
    if (artifact_location.empty()) {
      db.Prepare("UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?")
          .Bind(1, std::string_view(fmt::format("{}/{}", artifact_root_uri_, id)))
          .Bind(2, id)
          .Run();
    }
    for (const auto& tag : tags) {
      db.Prepare(
            "INSERT INTO experiment_tags(experiment_id, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT(experiment_id, key) DO UPDATE SET value = excluded.value")
          .Bind(1, id)
          .Bind(2, std::string_view(tag.key))
          .Bind(3, std::string_view(tag.value))
          .Run();
    }
  });
  return std::to_string(id);
}

Experiment SqliteTrackingStore::GetExperiment(const std::string& experiment_id) {
  Experiment exp;
  Read([&](Database& db) { exp = LoadExperiment(db, experiment_id); });
  return exp;
}

Experiment SqliteTrackingStore::GetExperimentByName(const std::string& name) {
  Experiment exp;
  Read([&](Database& db) {
    // The active one wins over deleted experiments that had the name before.
    auto& stmt = db.Prepare(fmt::format(
        "SELECT {} FROM experiments e WHERE e.name = ? "
        "ORDER BY e.lifecycle_stage = 'active' DESC, e.last_update_time DESC LIMIT 1",
        sqlite_store::kExperimentColumns));
    stmt.Bind(1, std::string_view(name));
    if (!stmt.Step()) {
      throw Error(ErrorCode::kResourceDoesNotExist,
                  fmt::format("Could not find experiment with name '{}'", name));
    }
    exp = sqlite_store::ReadExperimentRow(stmt);
    exp.tags = sqlite_store::LoadExperimentTags(db, int64_t{std::stoll(exp.experiment_id)});
  });
  return exp;
}

void SqliteTrackingStore::RenameExperiment(const std::string& experiment_id,
                                           const std::string& new_name) {
  ValidateExperimentName(new_name);
  Write([&](Database& db) {
    Experiment exp = LoadExperiment(db, experiment_id);
    if (exp.lifecycle_stage != LifecycleStage::kActive) {
      throw Error(ErrorCode::kInvalidState, "Cannot rename a non-active experiment.");
    }
    if (exp.name == new_name) return;
    CheckNameFree(db, new_name);
    int64_t id = std::stoll(exp.experiment_id);
    db.Prepare("UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?")
        .Bind(1, std::string_view(new_name))
        .Bind(2, NowMillis())
        .Bind(3, id)
        .Run();
  });
}

void SqliteTrackingStore::DeleteExperiment(const std::string& experiment_id) {
  if (experiment_id == "0") {
    throw Error(ErrorCode::kInvalidParameterValue,
                "Cannot delete the default experiment '0'. This is an internal experiment that "
                "must remain active.");
  }
  Write([&](Database& db) {
    Experiment exp = LoadExperiment(db, experiment_id);
    if (exp.lifecycle_stage != LifecycleStage::kActive) NoSuchExperiment(experiment_id);
    int64_t id = std::stoll(exp.experiment_id);
    int64_t now = NowMillis();
    db.Prepare("UPDATE experiments SET lifecycle_stage = 'deleted' WHERE experiment_id = ?")
        .Bind(1, id)
        .Run();
    TouchExperiment(db, id, now);
    // The runs go with it, marked so that RestoreExperiment brings back exactly these (runs
    // deleted on their own before stay deleted).
    db.Prepare(
          "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ?, "
          "deleted_with_experiment = 1 WHERE experiment_id = ? AND lifecycle_stage = 'active'")
        .Bind(1, now)
        .Bind(2, id)
        .Run();
  });
}

void SqliteTrackingStore::RestoreExperiment(const std::string& experiment_id) {
  Write([&](Database& db) {
    Experiment exp = LoadExperiment(db, experiment_id);
    if (exp.lifecycle_stage == LifecycleStage::kActive) {
      throw Error(ErrorCode::kInvalidState,
                  fmt::format("Cannot restore an active experiment: {}", experiment_id));
    }
    auto& taken = db.Prepare(
        "SELECT experiment_id FROM experiments WHERE name = ? AND lifecycle_stage = 'active'");
    taken.Bind(1, std::string_view(exp.name));
    if (taken.Step()) {
      throw Error(ErrorCode::kResourceAlreadyExists,
                  fmt::format("Cannot restore experiment {}: the name '{}' is now used by the "
                              "active experiment {}. Rename that one first.",
                              experiment_id, exp.name, taken.Int(0)));
    }
    int64_t id = std::stoll(exp.experiment_id);
    db.Prepare(
          "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL, "
          "deleted_with_experiment = 0 WHERE experiment_id = ? AND deleted_with_experiment = 1")
        .Bind(1, id)
        .Run();
    db.Prepare("UPDATE experiments SET lifecycle_stage = 'active' WHERE experiment_id = ?")
        .Bind(1, id)
        .Run();
    TouchExperiment(db, id, NowMillis());
  });
}

void SqliteTrackingStore::SetExperimentTag(const std::string& experiment_id, const Tag& tag) {
  ValidateExperimentTag(tag);
  Write([&](Database& db) {
    Experiment exp = LoadExperiment(db, experiment_id);
    if (exp.lifecycle_stage != LifecycleStage::kActive) NotActive("experiment", experiment_id);
    db.Prepare(
          "INSERT INTO experiment_tags(experiment_id, key, value) VALUES (?, ?, ?) "
          "ON CONFLICT(experiment_id, key) DO UPDATE SET value = excluded.value")
        .Bind(1, int64_t{std::stoll(exp.experiment_id)})
        .Bind(2, std::string_view(tag.key))
        .Bind(3, std::string_view(tag.value))
        .Run();
  });
}

void SqliteTrackingStore::DeleteExperimentTag(const std::string& experiment_id,
                                              const std::string& key) {
  Write([&](Database& db) {
    Experiment exp = LoadExperiment(db, experiment_id);
    if (exp.lifecycle_stage != LifecycleStage::kActive) NotActive("experiment", experiment_id);
    db.Prepare("DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?")
        .Bind(1, int64_t{std::stoll(exp.experiment_id)})
        .Bind(2, std::string_view(key))
        .Run();
    if (db.Changes() == 0) {
      throw Error(ErrorCode::kResourceDoesNotExist,
                  fmt::format("No tag with name: {} in experiment with id {}", key,
                              experiment_id));
    }
  });
}

// --- runs --------------------------------------------------------------------------------------

Run SqliteTrackingStore::CreateRun(const RunCreate& create) {
  for (const auto& tag : create.tags) ValidateTag(tag);
  std::string run_name = create.run_name;
  for (const auto& tag : create.tags) {
    if (tag.key != kRunNameTag) continue;
    if (!run_name.empty() && run_name != tag.value) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Both 'run_name' argument and 'mlflow.runName' tag are specified, "
                              "but with different values (run_name='{}', mlflow.runName='{}').",
                              run_name, tag.value));
    }
    run_name = tag.value;
  }
  if (run_name.empty()) run_name = NewRunName();
  std::string run_id = NewRunId();
  Write([&](Database& db) {
    Experiment exp = LoadExperiment(db, create.experiment_id);
    if (exp.lifecycle_stage != LifecycleStage::kActive) NotActive("experiment", exp.experiment_id);
    db.Prepare(
          "INSERT INTO runs(run_uuid, experiment_id, name, user_id, status, start_time, "
          "artifact_uri, lifecycle_stage) VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, 'active')")
        .Bind(1, std::string_view(run_id))
        .Bind(2, int64_t{std::stoll(exp.experiment_id)})
        .Bind(3, std::string_view(run_name))
        .Bind(4, std::string_view(create.user_id))
        .Bind(5, create.start_time.value_or(NowMillis()))
        .Bind(6, std::string_view(fmt::format("{}/{}/artifacts", exp.artifact_location, run_id)))
        .Run();
    int64_t row = db.LastInsertRowId();
    for (const auto& tag : create.tags) UpsertRunTag(db, row, tag);
    UpsertRunTag(db, row, Tag{std::string(kRunNameTag), run_name});
  });
  return GetRun(run_id);
}

RunInfo SqliteTrackingStore::UpdateRun(const std::string& run_id, const RunUpdate& update) {
  if (update.run_name) ValidateTag(Tag{std::string(kRunNameTag), *update.run_name});
  RunInfo info;
  Write([&](Database& db) {
    auto row = LoadActiveRun(db, run_id);
    if (update.status) {
      db.Prepare("UPDATE runs SET status = ? WHERE id = ?")
          .Bind(1, RunStatusName(*update.status))
          .Bind(2, row.id)
          .Run();
    }
    if (update.end_time) {
      db.Prepare("UPDATE runs SET end_time = ? WHERE id = ?")
          .Bind(1, *update.end_time)
          .Bind(2, row.id)
          .Run();
    }
    if (update.run_name && !update.run_name->empty()) {
      UpsertRunTag(db, row.id, Tag{std::string(kRunNameTag), *update.run_name});
    }
    info = sqlite_store::LoadRunRow(db, run_id).info;
  });
  return info;
}

Run SqliteTrackingStore::GetRun(const std::string& run_id) {
  Run run;
  Read([&](Database& db) {
    auto row = sqlite_store::LoadRunRow(db, run_id);
    run.info = std::move(row.info);
    run.data = sqlite_store::LoadRunData(db, row.id);
  });
  return run;
}

void SqliteTrackingStore::DeleteRun(const std::string& run_id) {
  Write([&](Database& db) {
    auto row = sqlite_store::LoadRunRow(db, run_id);
    db.Prepare("UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE id = ?")
        .Bind(1, NowMillis())
        .Bind(2, row.id)
        .Run();
  });
}

void SqliteTrackingStore::RestoreRun(const std::string& run_id) {
  Write([&](Database& db) {
    auto row = sqlite_store::LoadRunRow(db, run_id);
    db.Prepare(
          "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL, "
          "deleted_with_experiment = 0 WHERE id = ?")
        .Bind(1, row.id)
        .Run();
  });
}

// --- logging -----------------------------------------------------------------------------------

void SqliteTrackingStore::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                                   const std::vector<Param>& params,
                                   const std::vector<Tag>& tags) {
  ValidateBatch(metrics, params, tags);
  if (metrics.empty() && params.empty() && tags.empty()) {
    Read([&](Database& db) { LoadActiveRun(db, run_id); });
    return;
  }
  Write([&](Database& db) {
    auto row = LoadActiveRun(db, run_id);
    for (const auto& param : params) {
      auto& insert = db.Prepare(
          "INSERT INTO params(run_id, key, value) VALUES (?, ?, ?) "
          "ON CONFLICT(run_id, key) DO NOTHING");
      insert.Bind(1, row.id).Bind(2, std::string_view(param.key));
      insert.Bind(3, std::string_view(param.value)).Run();
      if (db.Changes() > 0) continue;
      auto& existing = db.Prepare("SELECT value FROM params WHERE run_id = ? AND key = ?");
      existing.Bind(1, row.id).Bind(2, std::string_view(param.key));
      existing.Step();
      std::string old_value = existing.Text(0);
      if (old_value != param.value) {
        throw Error(ErrorCode::kInvalidParameterValue,
                    fmt::format("Changing param values is not allowed. Param with key='{}' was "
                                "already logged with value='{}' for run ID='{}'. Attempted "
                                "logging new value '{}'.",
                                param.key, old_value, run_id, param.value));
      }
    }
    for (const auto& tag : tags) UpsertRunTag(db, row.id, tag);
    if (metrics.empty()) return;

    // Intern the keys, then append the history and keep one latest candidate per key.
    std::map<std::string_view, int64_t> key_ids;
    std::map<int64_t, const Metric*> latest;
    for (const auto& metric : metrics) {
      auto [it, inserted] = key_ids.try_emplace(metric.key, 0);
      if (inserted) {
        auto& find = db.Prepare("SELECT id FROM metric_keys WHERE key = ?");
        find.Bind(1, std::string_view(metric.key));
        if (find.Step()) {
          it->second = find.Int(0);
        } else {
          db.Prepare("INSERT INTO metric_keys(key) VALUES (?)")
              .Bind(1, std::string_view(metric.key))
              .Run();
          it->second = db.LastInsertRowId();
        }
      }
      int64_t key_id = it->second;
      auto& insert = db.Prepare(
          "INSERT OR IGNORE INTO metrics(run_id, key_id, step, timestamp, value, is_nan) "
          "VALUES (?, ?, ?, ?, ?, ?)");
      insert.Bind(1, row.id).Bind(2, key_id).Bind(3, metric.step).Bind(4, metric.timestamp);
      bool nan = std::isnan(metric.value);
      insert.Bind(5, nan ? 0.0 : metric.value).Bind(6, int64_t{nan});
      insert.Run();
      auto [lit, first] = latest.try_emplace(key_id, &metric);
      if (!first && LaterThan(metric, *lit->second)) lit->second = &metric;
    }
    for (const auto& [key_id, metric] : latest) {
      auto& upsert = db.Prepare(
          "INSERT INTO latest_metrics(run_id, key_id, step, timestamp, value) "
          "VALUES (?1, ?2, ?3, ?4, ?5) "
          "ON CONFLICT(run_id, key_id) DO UPDATE SET step = excluded.step, "
          "timestamp = excluded.timestamp, value = excluded.value "
          "WHERE (excluded.step, excluded.timestamp, IFNULL(excluded.value, -9e999)) >= "
          "(latest_metrics.step, latest_metrics.timestamp, IFNULL(latest_metrics.value, -9e999))");
      upsert.Bind(1, row.id).Bind(2, key_id).Bind(3, metric->step).Bind(4, metric->timestamp);
      BindMetricValue(upsert, 5, metric->value);
      upsert.Run();
    }
  });
}

void SqliteTrackingStore::DeleteTag(const std::string& run_id, const std::string& key) {
  Write([&](Database& db) {
    auto row = LoadActiveRun(db, run_id);
    db.Prepare("DELETE FROM tags WHERE run_id = ? AND key = ?")
        .Bind(1, row.id)
        .Bind(2, std::string_view(key))
        .Run();
    if (db.Changes() == 0) {
      throw Error(ErrorCode::kResourceDoesNotExist,
                  fmt::format("No tag with name: {} in run with id {}", key, run_id));
    }
  });
}

void SqliteTrackingStore::LogModel(const std::string& run_id, const std::string& model_json) {
  nlohmann::ordered_json model = ParseLoggedModel(model_json);
  Write([&](Database& db) {
    auto row = LoadActiveRun(db, run_id);
    std::optional<std::string> history;
    auto& stmt = db.Prepare("SELECT value FROM tags WHERE run_id = ? AND key = ?")
                     .Bind(1, row.id)
                     .Bind(2, kLoggedModelsTag);
    if (stmt.Step()) history = stmt.Text(0);
    stmt.Finish();
    UpsertRunTag(db, row.id,
                 Tag{std::string(kLoggedModelsTag), AppendLoggedModel(history, model, run_id)});
  });
}

Page<Metric> SqliteTrackingStore::GetMetricHistory(const std::string& run_id,
                                                   const std::string& key, int max_results,
                                                   const std::string& page_token) {
  if (max_results == 0) max_results = kDefaultHistoryPerPage;
  ValidateMaxResults(max_results, kMaxHistoryPerPage);
  int64_t offset = DecodePageToken(page_token);
  Page<Metric> page;
  Read([&](Database& db) {
    auto row = sqlite_store::LoadRunRow(db, run_id);
    auto& stmt = db.Prepare(
        "SELECT m.step, m.timestamp, CASE WHEN m.is_nan THEN NULL ELSE m.value END FROM metrics m "
        "WHERE m.run_id = ? AND m.key_id = (SELECT id FROM metric_keys WHERE key = ?) "
        "ORDER BY m.step, m.timestamp LIMIT ? OFFSET ?");
    stmt.Bind(1, row.id).Bind(2, std::string_view(key));
    stmt.Bind(3, int64_t{max_results} + 1).Bind(4, offset);
    page = sqlite::ReadPage<Metric>(
        stmt, max_results, offset,
        [&](Statement& point) {
          return Metric{key, ReadMetricValue(point, 2), point.Int(1), point.Int(0)};
        },
        static_cast<size_t>(max_results));  // bounded by kMaxHistoryPerPage
  });
  return page;
}

// Two passes over the metric's rows in the primary key's (step, timestamp) order: the first
// counts them and finds the step range, the second streams them through MetricDownsampler, so
// a history of millions of points is never held in memory.
std::vector<Metric> SqliteTrackingStore::SampleMetricHistory(
    const std::string& run_id, const std::string& key,
    std::optional<std::pair<int64_t, int64_t>> steps, int max_points) {
  std::vector<Metric> sampled;
  const int64_t low = steps ? steps->first : std::numeric_limits<int64_t>::min();
  const int64_t high = steps ? steps->second : std::numeric_limits<int64_t>::max();
  Read([&](Database& db) {
    auto row = sqlite_store::LoadRunRow(db, run_id);
    auto& range = db.Prepare(
        "SELECT count(*), min(m.step), max(m.step) FROM metrics m "
        "WHERE m.run_id = ? AND m.key_id = (SELECT id FROM metric_keys WHERE key = ?) "
        "AND m.step BETWEEN ? AND ?");
    range.Bind(1, row.id).Bind(2, std::string_view(key)).Bind(3, low).Bind(4, high);
    range.Step();
    const int64_t count = range.Int(0);
    if (count == 0) return;
    MetricDownsampler sampler(static_cast<size_t>(count), range.Int(1), range.Int(2),
                              max_points);
    range.Finish();
    auto& points = db.Prepare(
        "SELECT m.step, m.timestamp, CASE WHEN m.is_nan THEN NULL ELSE m.value END FROM metrics m "
        "WHERE m.run_id = ? AND m.key_id = (SELECT id FROM metric_keys WHERE key = ?) "
        "AND m.step BETWEEN ? AND ? ORDER BY m.step, m.timestamp");
    points.Bind(1, row.id).Bind(2, std::string_view(key)).Bind(3, low).Bind(4, high);
    Metric point{key, 0, 0, 0};
    int64_t read = 0;
    while (read < count && points.Step()) {
      point.value = ReadMetricValue(points, 2);
      point.timestamp = points.Int(1);
      point.step = points.Int(0);
      sampler.Add(point);
      ++read;
    }
    points.Finish();
    // Both statements run in one read transaction, so the second sees the rows the first
    // counted.
    sampled = sampler.Finish();
  });
  return sampled;
}

// --- shared row readers ------------------------------------------------------------------------

namespace sqlite_store {

RunRow ReadRunRow(Statement& stmt) {
  RunRow row;
  row.id = stmt.Int(0);
  row.info.run_id = stmt.Text(1);
  row.info.experiment_id = std::to_string(stmt.Int(2));
  row.info.run_name = stmt.Text(3);
  row.info.user_id = stmt.Text(4);
  row.info.status = ParseRunStatus(stmt.Text(5));
  row.info.start_time = stmt.Int(6);
  row.info.end_time = stmt.OptionalInt(7);
  row.info.artifact_uri = stmt.Text(8);
  row.info.lifecycle_stage = StageFromText(stmt.Text(9));
  return row;
}

RunRow LoadRunRow(Database& db, const std::string& run_id) {
  auto& stmt = db.Prepare(fmt::format("SELECT {} FROM runs r WHERE r.run_uuid = ?", kRunColumns));
  stmt.Bind(1, std::string_view(run_id));
  if (!stmt.Step()) {
    throw Error(ErrorCode::kResourceDoesNotExist,
                fmt::format("Run with id={} not found", run_id));
  }
  return ReadRunRow(stmt);
}

RunData LoadRunData(Database& db, int64_t run_row_id) {
  RunData data;
  auto& params = db.Prepare("SELECT key, value FROM params WHERE run_id = ? ORDER BY key");
  params.Bind(1, run_row_id);
  while (params.Step()) data.params.push_back(Param{params.Text(0), params.Text(1)});
  auto& tags = db.Prepare("SELECT key, value FROM tags WHERE run_id = ? ORDER BY key");
  tags.Bind(1, run_row_id);
  while (tags.Step()) data.tags.push_back(Tag{tags.Text(0), tags.Text(1)});
  auto& metrics = db.Prepare(
      "SELECT k.key, l.value, l.timestamp, l.step FROM latest_metrics l "
      "JOIN metric_keys k ON k.id = l.key_id WHERE l.run_id = ? ORDER BY k.key");
  metrics.Bind(1, run_row_id);
  while (metrics.Step()) {
    data.metrics.push_back(
        Metric{metrics.Text(0), ReadMetricValue(metrics, 1), metrics.Int(2), metrics.Int(3)});
  }
  return data;
}

Experiment ReadExperimentRow(Statement& stmt) {
  Experiment exp;
  exp.experiment_id = std::to_string(stmt.Int(0));
  exp.name = stmt.Text(1);
  exp.artifact_location = stmt.Text(2);
  exp.lifecycle_stage = StageFromText(stmt.Text(3));
  exp.creation_time = stmt.Int(4);
  exp.last_update_time = stmt.Int(5);
  return exp;
}

std::vector<Tag> LoadExperimentTags(Database& db, int64_t experiment_id) {
  std::vector<Tag> tags;
  auto& stmt =
      db.Prepare("SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key");
  stmt.Bind(1, experiment_id);
  while (stmt.Step()) tags.push_back(Tag{stmt.Text(0), stmt.Text(1)});
  return tags;
}

std::string LifecycleCondition(const char* alias, ViewType view) {
  switch (view) {
    case ViewType::kActiveOnly:
      return fmt::format("{}.lifecycle_stage = 'active'", alias);
    case ViewType::kDeletedOnly:
      return fmt::format("{}.lifecycle_stage = 'deleted'", alias);
    case ViewType::kAll:
      break;
  }
  return "1";
}

}  // namespace sqlite_store
}  // namespace mltrack::tracking
