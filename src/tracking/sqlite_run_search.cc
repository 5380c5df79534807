// SearchRuns and SearchExperiments of the SQLite store: the filter and order compile to
// parameterized SQL (search_filter.h); a page is read with LIMIT/OFFSET and MLflow's page tokens.
#include <fmt/format.h>

#include "common/page_token.h"
#include "common/sqlite_page.h"
#include "mltrack/error.h"
#include "tracking/search_filter.h"
#include "tracking/sqlite_tracking_store.h"
#include "tracking/validation.h"

namespace mltrack::tracking {

using sqlite::Database;
using sqlite::SqlValue;

Page<Run> SqliteTrackingStore::SearchRuns(const RunSearch& search) {
  ValidateMaxResults(search.max_results, kMaxResultsPerSearch);
  int64_t offset = DecodePageToken(search.page_token);
  Page<Run> page;
  if (search.experiment_ids.empty()) return page;

  // Compile before touching the database: a bad filter or order is refused up front.
  sqlite::SqlFragment filter = CompileRunFilter(search.filter);
  CompiledOrder order = CompileRunOrder(search.order_by);

  std::string experiments;
  std::vector<SqlValue> experiment_binds;
  for (const auto& id : search.experiment_ids) {
    ValidateExperimentId(id);
    experiments += experiments.empty() ? "?" : ", ?";
    experiment_binds.emplace_back(static_cast<int64_t>(std::stoll(id)));
  }
  std::string sql = fmt::format(
      "SELECT {} FROM runs r {} WHERE r.experiment_id IN ({}) AND {} AND ({}) "
      "ORDER BY {} LIMIT ? OFFSET ?",
      sqlite_store::kRunColumns, order.joins, experiments,
      sqlite_store::LifecycleCondition("r", search.view), filter.sql, order.order_by);
  std::vector<SqlValue> binds = order.join_binds;
  binds.insert(binds.end(), experiment_binds.begin(), experiment_binds.end());
  binds.insert(binds.end(), filter.binds.begin(), filter.binds.end());
  binds.emplace_back(int64_t{search.max_results} + 1);
  binds.emplace_back(offset);

  Read([&](Database& db) {
    auto stmt = db.PrepareUncached(sql);
    stmt.BindAll(binds);
    auto rows = sqlite::ReadPage<sqlite_store::RunRow>(stmt, search.max_results, offset,
                                                       sqlite_store::ReadRunRow);
    page.next_page_token = std::move(rows.next_page_token);
    page.items.reserve(rows.items.size());
    for (auto& row : rows.items) {
      Run run;
      run.data = sqlite_store::LoadRunData(db, row.id);
      run.info = std::move(row.info);
      page.items.push_back(std::move(run));
    }
  });
  return page;
}

Page<Experiment> SqliteTrackingStore::SearchExperiments(const ExperimentSearch& search) {
  ValidateMaxResults(search.max_results, kMaxResultsPerSearch);
  int64_t offset = DecodePageToken(search.page_token);
  sqlite::SqlFragment filter = CompileExperimentFilter(search.filter);
  CompiledOrder order = CompileExperimentOrder(search.order_by);
  std::string sql = fmt::format(
      "SELECT {} FROM experiments e {} WHERE {} AND ({}) ORDER BY {} LIMIT ? OFFSET ?",
      sqlite_store::kExperimentColumns, order.joins,
      sqlite_store::LifecycleCondition("e", search.view), filter.sql, order.order_by);
  std::vector<SqlValue> binds = order.join_binds;
  binds.insert(binds.end(), filter.binds.begin(), filter.binds.end());
  binds.emplace_back(int64_t{search.max_results} + 1);
  binds.emplace_back(offset);

  Page<Experiment> page;
  Read([&](Database& db) {
    auto stmt = db.PrepareUncached(sql);
    stmt.BindAll(binds);
    page = sqlite::ReadPage<Experiment>(stmt, search.max_results, offset,
                                        sqlite_store::ReadExperimentRow);
    for (auto& exp : page.items) {
      exp.tags = sqlite_store::LoadExperimentTags(db, std::stoll(exp.experiment_id));
    }
  });
  return page;
}

}  // namespace mltrack::tracking
