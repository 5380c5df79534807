// The syntax tree of MLflow's search grammar (see search_filter.h) and its parser. The parser
// checks everything that can be checked without the database: entity types, attribute names,
// which comparators a key accepts and the type of each value. search_sql.h turns the tree into
// SQL.
//
// Errors are Error(kInvalidParameterValue) with the message
//   <Subject>: <problem> at position <P>[. <hint>]
// where <Subject> is "Invalid filter '<text>'" or "Invalid order_by clause '<text>'" and P is
// the 1-based character (UTF-8 code point) position in <text> of the token at fault; the end
// of the input is at length + 1. The problems are:
//   expected <what>[ after '<previous>'], found <token|whitespace|end of input>  (P: the token)
//   unknown entity type '<prefix>'                        hint: Valid values are [...]
//   unknown attribute key '<name>'                        hint: Valid keys are [...]
//   comparator '<OP>' is not valid for <kind> '<key>'     hint: Valid comparators are [...]
//   unterminated quoted string                            (P: the opening quote)
//   unclosed '('       unmatched ')'                      (P: that parenthesis)
//   <kind> '<key>' appears more than once in order_by     (Compile*Order only; P: the key)
// A found string literal shows as `string 'as written'`, a back-ticked name as written, any
// other token in single quotes; the previous token shows as written (quoted if it was).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/sqlite.h"

namespace mltrack::tracking::search {

enum class KeyKind { kMetric, kParam, kTag, kAttribute };

// "metric", "parameter", "tag", "attribute": MLflow's canonical entity type names.
std::string_view KeyKindName(KeyKind kind);

// One column of the searched table that a key without a metric/param/tag prefix names.
struct AttributeSpec {
  std::string_view name;    // as the user writes it: "start_time", or an alias: "created"
  std::string_view column;  // the SQL column it reads, e.g. "r.start_time"
  bool numeric = false;     // compared with numbers (else with quoted strings)
  bool nullable = false;    // the column may hold NULL
  bool filterable = true;   // false: may only appear in order_by
};

// What one searched entity (runs, experiments) can be searched and ordered by.
struct EntitySpec {
  std::vector<std::pair<std::string_view, KeyKind>> prefixes;  // e.g. {"metrics", kMetric}
  std::string_view valid_prefixes;  // hint of the unknown-entity-type error: "['metric', ...]"
  std::vector<AttributeSpec> attributes;
};

struct Key {
  KeyKind kind = KeyKind::kAttribute;
  std::string name;                          // unquoted; for attributes as written ("created")
  const AttributeSpec* attribute = nullptr;  // set when kind == kAttribute
  size_t position = 0;                       // 1-based, as in error messages
};

enum class Comparator {
  kEq, kNe, kLt, kLe, kGt, kGe, kLike, kILike, kIn, kNotIn, kIsNull, kIsNotNull,
};

// "=", "!=", ..., "LIKE", "NOT IN", "IS NOT NULL".
std::string_view ComparatorText(Comparator op);

struct Comparison {
  Key key;
  Comparator op = Comparator::kEq;
  // None for IS [NOT] NULL, one or more for IN / NOT IN, else one. Strings for string keys;
  // doubles for metrics; int64_t (integer literals) or doubles for numeric attributes.
  std::vector<sqlite::SqlValue> values;
};

struct Expr {
  enum class Kind { kComparison, kAnd, kOr };
  Kind kind = Kind::kComparison;
  Comparison comparison;       // when kComparison
  std::vector<Expr> operands;  // when kAnd / kOr: two or more
};

struct OrderClause {
  Key key;
  bool ascending = true;
};

// The tree of `filter`, or an empty AND (no operands) when the filter is blank.
// AND binds tighter than OR. Throws Error(kInvalidParameterValue) as described above.
Expr ParseFilter(std::string_view filter, const EntitySpec& entity);

// One order_by clause: `<key> [ASC|DESC]`, ASC when omitted.
OrderClause ParseOrderClause(std::string_view clause, const EntitySpec& entity);

}  // namespace mltrack::tracking::search
