// MLflow's search grammar: filter strings and order_by clauses for runs and experiments,
// parsed to an AST and compiled to parameterized SQL over the schema of sqlite_schema.h.
//
// Grammar (MLflow's, plus OR, parentheses and IS [NOT] NULL):
//   filter     := or_expr
//   or_expr    := and_expr ("OR" and_expr)*
//   and_expr   := primary ("AND" primary)*
//   primary    := "(" or_expr ")" | comparison
//   comparison := key op literal | key ("IN" | "NOT IN") "(" literal ("," literal)* ")"
//               | key "IS" ["NOT"] "NULL"
//   key        := [prefix "."] name      name: identifier, "quoted", 'quoted' or `back-ticked`;
//                 after a prefix, dotted (tags.mlflow.user); without one, an attribute:
//                 run_id, run_name, status, user_id, artifact_uri, lifecycle_stage,
//                 start_time (alias created, Created), end_time, duration (mltrack's:
//                 end_time - start_time in ms, null while the run has no end time)
//   prefix     := metric(s) | param(s) | parameter(s) | tag(s) | attribute(s) | attr | run
//   op         := = | != | < | <= | > | >= | LIKE | ILIKE   (keywords are case-insensitive)
//   literal    := 'string' | "string" | number  (a doubled quote inside stands for one)
// Metrics and numeric attributes (start_time, end_time, created, duration; creation_time,
// last_update_time) take =, !=, <, <=, >, >= and numbers; params, tags and string attributes
// take =, !=, LIKE (case-sensitive), ILIKE, IN, NOT IN and quoted strings; IS [NOT] NULL goes
// with every key. As in MLflow, a comparison on a metric, param or tag matches only runs that
// have the key (`params.x != 'a'` skips runs without x) and a NaN metric satisfies none;
// `<key> IS NULL` matches runs without the key (a NaN metric is present).
// Every user value and key enters the SQL as a bound parameter. A filter or order_by clause
// that does not parse throws Error(kInvalidParameterValue) with a message that says what was
// expected and at which 1-based character position: the formats are in search_ast.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/sqlite.h"

namespace mltrack::tracking {

// A compiled ORDER BY: LEFT JOINs that bring the sort keys in, and the ORDER BY list itself.
// Each order_by clause is `<key> [ASC|DESC]` with a key as in filters. Missing values and NaN
// sort last in both directions (NaN before missing). The list always ends with the
// tie-breakers that make paging stable. Use as
//   SELECT ... FROM runs r <joins> WHERE ... AND <filter.sql> ORDER BY <order_by>
// binding join_binds first, then filter.binds.
struct CompiledOrder {
  std::string joins;                        // e.g. "LEFT JOIN latest_metrics o0 ON ..."
  std::vector<sqlite::SqlValue> join_binds; // parameters of `joins`, in order
  std::string order_by;                     // without the ORDER BY keyword
};

// A boolean SQL expression over runs aliased `r`, to AND into a WHERE clause ("1" when the
// filter is empty or blank).
sqlite::SqlFragment CompileRunFilter(std::string_view filter);
// Default order: start_time DESC; tie-breakers: r.start_time DESC, r.run_uuid ASC.
CompiledOrder CompileRunOrder(const std::vector<std::string>& order_by);

// The same over experiments aliased `e`. Keys: name, creation_time, last_update_time,
// tags.<key>; order_by also takes experiment_id (as MLflow). Default order: creation_time
// DESC, experiment_id ASC; an explicit order ends with experiment_id DESC unless it has it.
sqlite::SqlFragment CompileExperimentFilter(std::string_view filter);
CompiledOrder CompileExperimentOrder(const std::vector<std::string>& order_by);

}  // namespace mltrack::tracking
