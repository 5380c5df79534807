// The SQLite store's queries for the web UI: the keys a set of runs has, and how many child runs
// each run has. Both read only indexed paths: runs by (experiment_id, start_time), and params,
// tags and latest_metrics by their (run_id, key) primary keys.
#include <fmt/format.h>

#include "mltrack/error.h"
#include "tracking/search_filter.h"
#include "tracking/sqlite_tracking_store.h"
#include "tracking/validation.h"

namespace mltrack::tracking {

using sqlite::Database;
using sqlite::SqlValue;

namespace {

// MLflow's tag that names a nested run's parent.
constexpr std::string_view kParentRunIdTag = "mlflow.parentRunId";

}  // namespace

RunKeys SqliteTrackingStore::SearchRunKeys(const std::vector<std::string>& experiment_ids,
                                           std::string_view filter, ViewType view) {
  RunKeys keys;
  if (experiment_ids.empty()) return keys;
  sqlite::SqlFragment compiled = CompileRunFilter(filter);  // refused before any reading
  std::string experiments;
  std::vector<SqlValue> binds;
  for (const auto& id : experiment_ids) {
    ValidateExperimentId(id);
    experiments += experiments.empty() ? "?" : ", ?";
    binds.emplace_back(static_cast<int64_t>(std::stoll(id)));
  }
  binds.insert(binds.end(), compiled.binds.begin(), compiled.binds.end());
  // The selected runs are found once (the filter may be costly) and each key table is read by
  // its primary key for them. Metric keys are interned: their distinct ids are looked up last.
  std::string sql = fmt::format(
      "WITH selected(id) AS MATERIALIZED ("
      "SELECT r.id FROM runs r WHERE r.experiment_id IN ({}) AND {} AND ({})) "
      "SELECT 0, key FROM (SELECT DISTINCT p.key FROM selected s "
      "JOIN params p ON p.run_id = s.id) "
      "UNION ALL SELECT 1, k.key FROM metric_keys k WHERE k.id IN ("
      "SELECT l.key_id FROM selected s JOIN latest_metrics l ON l.run_id = s.id) "
      "UNION ALL SELECT 2, key FROM (SELECT DISTINCT t.key FROM selected s "
      "JOIN tags t ON t.run_id = s.id) "
      "ORDER BY 1, 2",
      experiments, sqlite_store::LifecycleCondition("r", view), compiled.sql);
  Read([&](Database& db) {
    auto stmt = db.PrepareUncached(sql);
    stmt.BindAll(binds);
    while (stmt.Step()) {
      std::vector<std::string>* list[] = {&keys.params, &keys.metrics, &keys.tags};
      list[stmt.Int(0)]->push_back(stmt.Text(1));
    }
  });
  return keys;
}

std::map<std::string, int64_t> SqliteTrackingStore::CountChildRuns(
    const std::vector<std::string>& run_ids) {
  std::map<std::string, int64_t> counts;
  if (run_ids.empty()) return counts;
  std::string marks;
  std::vector<SqlValue> binds{std::string(kParentRunIdTag)};
  for (const auto& id : run_ids) {
    marks += marks.empty() ? "?" : ", ?";
    binds.emplace_back(id);
  }
  std::string sql = fmt::format(
      "SELECT t.value, COUNT(*) FROM tags t JOIN runs r ON r.id = t.run_id "
      "WHERE t.key = ? AND t.value IN ({}) AND r.lifecycle_stage = 'active' GROUP BY t.value",
      marks);
  Read([&](Database& db) {
    auto stmt = db.PrepareUncached(sql);
    stmt.BindAll(binds);
    while (stmt.Step()) counts.emplace(stmt.Text(0), stmt.Int(1));
  });
  return counts;
}

}  // namespace mltrack::tracking
