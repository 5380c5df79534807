// SQL from the search tree (search_ast.h), the part common to every searched entity: runs and
// experiments (search_filter.cc), registered models and model versions (registry_search.cc).
// Each entity says only where the row of a keyed value (metric, param, tag) lives.
//
// No value is ever spliced into the SQL text: each is appended to `binds` in the order of its
// `?` in the returned text.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/sqlite.h"
#include "tracking/search_ast.h"

namespace mltrack::tracking::search {

// Where a keyed comparison finds its value: in `table`, aliased `k`, the one row that
// `condition` (on `k` and the searched row) selects. Its column `k.value` holds the value.
struct KeyedRow {
  std::string_view table;
  std::string condition;
};

// The KeyedRow of `key` (never an attribute), with the values of its condition's `?`
// appended to `binds`.
using KeyedRowCompiler =
    std::function<KeyedRow(const Key& key, std::vector<sqlite::SqlValue>& binds)>;

// `expr` as a SQL condition: "1" for an empty AND, a parenthesized AND / OR of its operands,
// and an attribute comparison on the attribute's column. A keyed value matches only rows that
// have the key (MLflow), so each of its comparisons (!= and NOT IN included) is an EXISTS over
// its KeyedRow; IS NULL asks whether the key is missing.
std::string CompileExpr(const Expr& expr, const KeyedRowCompiler& keyed_row,
                        std::vector<sqlite::SqlValue>& binds);

// ParseFilter(filter, entity) compiled by CompileExpr. Throws ParseFilter's errors.
sqlite::SqlFragment CompileFilter(std::string_view filter, const EntitySpec& entity,
                                  const KeyedRowCompiler& keyed_row);

// MLflow's LIKE is case-sensitive and SQLite's is not: a LIKE pattern becomes a GLOB pattern.
std::string LikeToGlob(std::string_view like);

// `column <op> ?` (or IS NULL, GLOB, LOWER(..) LIKE LOWER(?), IN (?, ...)) with `values`
// appended to `binds`.
std::string ValueCondition(std::string_view column, Comparator op,
                           const std::vector<sqlite::SqlValue>& values,
                           std::vector<sqlite::SqlValue>& binds);

}  // namespace mltrack::tracking::search
