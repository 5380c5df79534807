#include "tracking/search_filter.h"

#include <set>
#include <tuple>

#include <fmt/format.h>

#include "mltrack/error.h"
#include "tracking/search_ast.h"
#include "tracking/search_sql.h"

namespace mltrack::tracking {
namespace {

using search::EntitySpec;
using search::Key;
using search::KeyKind;
using sqlite::SqlValue;

// MLflow's run attributes (RunInfo's searchable ones), its aliases for start_time,
// lifecycle_stage, and mltrack's duration: end_time - start_time in milliseconds, NULL (so
// matched by IS NULL and ordered last) while the run has no end time.
const EntitySpec& RunEntity() {
  static const EntitySpec spec{
      {{"metric", KeyKind::kMetric},
       {"metrics", KeyKind::kMetric},
       {"parameter", KeyKind::kParam},
       {"parameters", KeyKind::kParam},
       {"param", KeyKind::kParam},
       {"params", KeyKind::kParam},
       {"tag", KeyKind::kTag},
       {"tags", KeyKind::kTag},
       {"attribute", KeyKind::kAttribute},
       {"attributes", KeyKind::kAttribute},
       {"attr", KeyKind::kAttribute},
       {"run", KeyKind::kAttribute}},
      "['metric', 'parameter', 'tag', 'attribute']",
      {
          {"run_id", "r.run_uuid"},
          {"run_name", "r.name"},
          {"status", "r.status"},
          {"user_id", "r.user_id"},
          {"artifact_uri", "r.artifact_uri"},
          {"lifecycle_stage", "r.lifecycle_stage"},
          {"start_time", "r.start_time", /*numeric=*/true},
          {"created", "r.start_time", /*numeric=*/true},
          {"Created", "r.start_time", /*numeric=*/true},
          {"end_time", "r.end_time", /*numeric=*/true, /*nullable=*/true},
          {"duration", "(r.end_time - r.start_time)", /*numeric=*/true, /*nullable=*/true},
      }};
  return spec;
}

// MLflow's SearchExperimentsUtils: experiment_id can order but not filter.
const EntitySpec& ExperimentEntity() {
  static const EntitySpec spec{
      {{"attribute", KeyKind::kAttribute},
       {"attributes", KeyKind::kAttribute},
       {"attr", KeyKind::kAttribute},
       {"tag", KeyKind::kTag},
       {"tags", KeyKind::kTag}},
      "['attribute', 'tag']",
      {
          {"name", "e.name"},
          {"creation_time", "e.creation_time", /*numeric=*/true},
          {"last_update_time", "e.last_update_time", /*numeric=*/true},
          {"experiment_id", "e.experiment_id", /*numeric=*/true, /*nullable=*/false,
           /*filterable=*/false},
      }};
  return spec;
}

// Where the keyed values of one searched table live.
struct Target {
  const EntitySpec& entity;
  std::string_view owner;         // the searched row's id: "r.id"
  std::string_view owner_column;  // the column of key tables that holds it: "run_id"
  std::string_view metric_table;  // empty when the entity has no metrics
  std::string_view param_table;
  std::string_view tag_table;
};

const Target& Runs() {
  static const Target target{RunEntity(), "r.id", "run_id", "latest_metrics", "params", "tags"};
  return target;
}

const Target& Experiments() {
  static const Target target{ExperimentEntity(), "e.experiment_id", "experiment_id", "", "",
                             "experiment_tags"};
  return target;
}

std::string_view TableOf(const Target& target, KeyKind kind) {
  switch (kind) {
    case KeyKind::kMetric: return target.metric_table;
    case KeyKind::kParam: return target.param_table;
    case KeyKind::kTag: return target.tag_table;
    case KeyKind::kAttribute: break;
  }
  return {};
}

// The row of `key` for the searched row, in the key table aliased `alias`. Metric names are
// interned: the name is looked up once in metric_keys (a constant subquery) so that the row is
// found by the (run_id, key_id) primary key.
std::string KeyRow(const Target& target, const Key& key, std::string_view alias,
                   std::vector<SqlValue>& binds) {
  binds.emplace_back(key.name);
  if (key.kind == KeyKind::kMetric) {
    return fmt::format("{0}.{1} = {2} AND {0}.key_id = (SELECT id FROM metric_keys WHERE key = ?)",
                       alias, target.owner_column, target.owner);
  }
  return fmt::format("{0}.{1} = {2} AND {0}.key = ?", alias, target.owner_column, target.owner);
}

sqlite::SqlFragment CompileFilter(const Target& target, std::string_view filter) {
  return search::CompileFilter(
      filter, target.entity, [&target](const Key& key, std::vector<SqlValue>& binds) {
        return search::KeyedRow{TableOf(target, key.kind), KeyRow(target, key, "k", binds)};
      });
}

// The order clauses of `order_by` with their joins; `ordered` receives the columns and keys
// they sort by, so that the caller appends only the tie-breakers still needed.
CompiledOrder CompileOrder(const Target& target, const std::vector<std::string>& order_by,
                           std::set<std::string>& ordered) {
  CompiledOrder order;
  std::set<std::tuple<KeyKind, std::string>> seen;
  for (size_t i = 0; i < order_by.size(); ++i) {
    search::OrderClause clause = search::ParseOrderClause(order_by[i], target.entity);
    const Key& key = clause.key;
    std::string identity =
        key.kind == KeyKind::kAttribute ? std::string(key.attribute->column) : key.name;
    if (!seen.emplace(key.kind, identity).second) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Invalid order_by clause '{}': {} '{}' appears more than once in "
                              "order_by at position {}",
                              order_by[i], search::KeyKindName(key.kind), key.name, key.position));
    }
    const char* direction = clause.ascending ? "ASC" : "DESC";
    if (!order.order_by.empty()) order.order_by += ", ";
    if (key.kind == KeyKind::kAttribute) {
      std::string_view column = key.attribute->column;
      ordered.insert(std::string(column));
      if (key.attribute->nullable) order.order_by += fmt::format("{} IS NULL, ", column);
      order.order_by += fmt::format("{} {}", column, direction);
      continue;
    }
    // A LEFT JOIN brings the value in; a missing row (and a NaN metric, stored as NULL) sorts
    // after every value in both directions: NaN before missing, as MLflow does.
    std::string alias = fmt::format("o{}", i);
    order.joins += fmt::format(" LEFT JOIN {} {} ON {}", TableOf(target, key.kind), alias,
                               KeyRow(target, key, alias, order.join_binds));
    if (key.kind == KeyKind::kMetric) {
      order.order_by += fmt::format(
          "CASE WHEN {0}.{1} IS NULL THEN 2 WHEN {0}.value IS NULL THEN 1 ELSE 0 END, "
          "{0}.value {2}",
          alias, target.owner_column, direction);
    } else {
      order.order_by += fmt::format("{0}.value IS NULL, {0}.value {1}", alias, direction);
    }
  }
  if (!order.joins.empty()) order.joins.erase(0, 1);  // the leading space
  return order;
}

void AppendOrder(CompiledOrder& order, std::string_view clause) {
  if (!order.order_by.empty()) order.order_by += ", ";
  order.order_by += clause;
}

}  // namespace

sqlite::SqlFragment CompileRunFilter(std::string_view filter) {
  return CompileFilter(Runs(), filter);
}

CompiledOrder CompileRunOrder(const std::vector<std::string>& order_by) {
  std::set<std::string> ordered;
  CompiledOrder order = CompileOrder(Runs(), order_by, ordered);
  if (!ordered.count("r.start_time")) AppendOrder(order, "r.start_time DESC");
  if (!ordered.count("r.run_uuid")) AppendOrder(order, "r.run_uuid ASC");
  return order;
}

sqlite::SqlFragment CompileExperimentFilter(std::string_view filter) {
  return CompileFilter(Experiments(), filter);
}

CompiledOrder CompileExperimentOrder(const std::vector<std::string>& order_by) {
  if (order_by.empty()) return CompiledOrder{"", {}, "e.creation_time DESC, e.experiment_id ASC"};
  std::set<std::string> ordered;
  CompiledOrder order = CompileOrder(Experiments(), order_by, ordered);
  if (!ordered.count("e.experiment_id")) AppendOrder(order, "e.experiment_id DESC");
  return order;
}

}  // namespace mltrack::tracking
