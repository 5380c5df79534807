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
//   key        := [prefix "."] name      name: identifier, "quoted", 'quoted' or `back-ticked`
//   prefix     := metric(s) | param(s) | parameter(s) | tag(s) | attribute(s) | attr | run
//   op         := = | != | < | <= | > | >= | LIKE | ILIKE   (keywords are case-insensitive)
// Every user value enters the SQL as a bound parameter. A filter that does not parse throws
// Error(kInvalidParameterValue) with a message that says what was expected and at which
// character position.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/sqlite.h"

namespace mltrack::tracking {

// A compiled ORDER BY: LEFT JOINs that bring the sort keys in, and the ORDER BY list itself.
// Missing values and NaN sort last in both directions. The list always ends with the
// tie-breakers that make paging stable.
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
// experiment_id, tags.<key>. Default order: creation_time DESC, then experiment_id ASC.
sqlite::SqlFragment CompileExperimentFilter(std::string_view filter);
CompiledOrder CompileExperimentOrder(const std::vector<std::string>& order_by);

}  // namespace mltrack::tracking
