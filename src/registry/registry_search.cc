#include "registry/registry_search.h"

#include <set>

#include <fmt/format.h>

#include "mltrack/error.h"
#include "tracking/search_ast.h"
#include "tracking/search_sql.h"

namespace mltrack::registry {
namespace {

namespace search = tracking::search;
using search::EntitySpec;
using search::KeyKind;
using sqlite::SqlValue;

// What one searched table can be filtered and ordered by, and where its tags live.
struct Target {
  EntitySpec entity;
  std::string_view tag_table;
  std::string_view tag_owner;    // condition tying the tag row `k` to the searched row
  std::string_view order_keys;   // the keys order_by accepts, as the error shows them
};

const Target& RegisteredModels() {
  static const Target target{
      EntitySpec{{{"attribute", KeyKind::kAttribute},
                  {"attributes", KeyKind::kAttribute},
                  {"attr", KeyKind::kAttribute},
                  {"tag", KeyKind::kTag},
                  {"tags", KeyKind::kTag}},
                 "['attribute', 'tag']",
                 {
                     {"name", "rm.name"},
                     {"last_updated_timestamp", "rm.last_updated_time", true, false, false},
                     {"timestamp", "rm.last_updated_time", true, false, false},
                     {"creation_timestamp", "rm.creation_time", true, false, false},
                 }},
      "registered_model_tags", "k.name = rm.name",
      "['name', 'last_updated_timestamp', 'timestamp', 'creation_timestamp']"};
  return target;
}

const Target& ModelVersions() {
  static const Target target{
      EntitySpec{{{"attribute", KeyKind::kAttribute},
                  {"attributes", KeyKind::kAttribute},
                  {"attr", KeyKind::kAttribute},
                  {"tag", KeyKind::kTag},
                  {"tags", KeyKind::kTag}},
                 "['attribute', 'tag']",
                 {
                     {"name", "mv.name"},
                     {"run_id", "mv.run_id"},
                     {"source_path", "mv.source"},
                     {"version_number", "mv.version", /*numeric=*/true},
                     {"creation_timestamp", "mv.creation_time", true, false, false},
                     {"last_updated_timestamp", "mv.last_updated_time", true, false, false},
                 }},
      "model_version_tags", "k.name = mv.name AND k.version = mv.version",
      "['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp']"};
  return target;
}

// Registry entities have no metrics or params: every keyed value is a tag.
sqlite::SqlFragment CompileFilter(const Target& target, std::string_view filter) {
  return search::CompileFilter(
      filter, target.entity, [&target](const search::Key& key, std::vector<SqlValue>& binds) {
        binds.emplace_back(key.name);
        return search::KeyedRow{target.tag_table,
                                fmt::format("{} AND k.key = ?", target.tag_owner)};
      });
}

// Python's repr of a list of strings, as MLflow's messages show order_by.
std::string PyList(const std::vector<std::string>& items) {
  std::string text = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += ", ";
    text += "'" + items[i] + "'";
  }
  return text + "]";
}

// The clauses of `order_by`, then each tie-breaker (column, direction) whose column is not
// ordered by yet.
std::string CompileOrder(const Target& target, const std::vector<std::string>& order_by,
                         const std::vector<std::pair<std::string_view, bool>>& tie_breakers) {
  std::string sql;
  std::set<std::string_view> columns;
  for (const std::string& text : order_by) {
    search::OrderClause clause = search::ParseOrderClause(text, target.entity);
    // Filter-only attributes (run_id, source_path) are not order keys either.
    bool orderable = clause.key.kind == KeyKind::kAttribute &&
                     target.order_keys.find(fmt::format("'{}'", clause.key.name)) !=
                         std::string_view::npos;
    if (!orderable) {
      std::string key = clause.key.kind == KeyKind::kAttribute
                            ? clause.key.name
                            : fmt::format("{}.{}", search::KeyKindName(clause.key.kind),
                                          clause.key.name);
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Invalid order by key '{}' specified. Valid keys are {}", key,
                              target.order_keys));
    }
    std::string_view column = clause.key.attribute->column;
    if (!columns.insert(column).second) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("`order_by` contains duplicate fields: {}", PyList(order_by)));
    }
    if (!sql.empty()) sql += ", ";
    sql += fmt::format("{} {}", column, clause.ascending ? "ASC" : "DESC");
  }
  for (const auto& [column, ascending] : tie_breakers) {
    if (!columns.insert(column).second) continue;
    if (!sql.empty()) sql += ", ";
    sql += fmt::format("{} {}", column, ascending ? "ASC" : "DESC");
  }
  return sql;
}

}  // namespace

sqlite::SqlFragment CompileRegisteredModelFilter(std::string_view filter) {
  return CompileFilter(RegisteredModels(), filter);
}

sqlite::SqlFragment CompileModelVersionFilter(std::string_view filter) {
  return CompileFilter(ModelVersions(), filter);
}

std::string CompileRegisteredModelOrder(const std::vector<std::string>& order_by) {
  return CompileOrder(RegisteredModels(), order_by, {{"rm.name", true}});
}

std::string CompileModelVersionOrder(const std::vector<std::string>& order_by) {
  static const std::vector<std::string> kDefault = {"last_updated_timestamp DESC", "name ASC",
                                                    "version_number DESC"};
  return CompileOrder(ModelVersions(), order_by.empty() ? kDefault : order_by,
                      {{"mv.name", true}, {"mv.version", false}});
}

void ValidateSearchMaxResults(int64_t max_results, int max) {
  if (max_results < 1) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid value for max_results. It must be a positive integer, but "
                            "got {}",
                            max_results));
  }
  if (max_results > max) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid value for request parameter max_results. It must be at "
                            "most {}, but got value {}",
                            max, max_results));
  }
}

}  // namespace mltrack::registry
