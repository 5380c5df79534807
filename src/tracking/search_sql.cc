#include "tracking/search_sql.h"

#include <variant>

#include <fmt/format.h>

namespace mltrack::tracking::search {

using sqlite::SqlValue;

std::string CompileExpr(const Expr& expr, const KeyedRowCompiler& keyed_row,
                        std::vector<SqlValue>& binds) {
  if (expr.kind != Expr::Kind::kComparison) {
    if (expr.operands.empty()) return "1";
    std::string sql = "(";
    for (size_t i = 0; i < expr.operands.size(); ++i) {
      if (i > 0) sql += expr.kind == Expr::Kind::kAnd ? " AND " : " OR ";
      sql += CompileExpr(expr.operands[i], keyed_row, binds);
    }
    return sql + ")";
  }
  const Comparison& comparison = expr.comparison;
  const Key& key = comparison.key;
  if (key.kind == KeyKind::kAttribute) {
    return ValueCondition(key.attribute->column, comparison.op, comparison.values, binds);
  }
  // The row's binds precede the value's: their `?` come first in the text.
  KeyedRow row = keyed_row(key, binds);
  std::string sql = fmt::format("EXISTS (SELECT 1 FROM {} k WHERE {}", row.table, row.condition);
  switch (comparison.op) {
    case Comparator::kIsNull:
      return fmt::format("NOT {})", sql);
    case Comparator::kIsNotNull:
      return sql + ")";
    default:
      return fmt::format("{} AND {})", sql,
                         ValueCondition("k.value", comparison.op, comparison.values, binds));
  }
}

sqlite::SqlFragment CompileFilter(std::string_view filter, const EntitySpec& entity,
                                  const KeyedRowCompiler& keyed_row) {
  Expr expr = ParseFilter(filter, entity);
  sqlite::SqlFragment fragment;
  fragment.sql = CompileExpr(expr, keyed_row, fragment.binds);
  return fragment;
}

// In GLOB '*', '?' and '[' are special and become one-character classes, and LIKE's '%' and
// '_' become '*' and '?'.
std::string LikeToGlob(std::string_view like) {
  std::string glob;
  for (char c : like) {
    switch (c) {
      case '%': glob += '*'; break;
      case '_': glob += '?'; break;
      case '*': glob += "[*]"; break;
      case '?': glob += "[?]"; break;
      case '[': glob += "[[]"; break;
      default: glob += c;
    }
  }
  return glob;
}

std::string ValueCondition(std::string_view column, Comparator op,
                           const std::vector<SqlValue>& values, std::vector<SqlValue>& binds) {
  switch (op) {
    case Comparator::kIsNull:
      return fmt::format("{} IS NULL", column);
    case Comparator::kIsNotNull:
      return fmt::format("{} IS NOT NULL", column);
    case Comparator::kLike:
      binds.emplace_back(LikeToGlob(std::get<std::string>(values.front())));
      return fmt::format("{} GLOB ?", column);
    case Comparator::kILike:
      binds.push_back(values.front());
      return fmt::format("LOWER({}) LIKE LOWER(?)", column);
    case Comparator::kIn:
    case Comparator::kNotIn: {
      std::string marks;
      for (const SqlValue& value : values) {
        marks += marks.empty() ? "?" : ", ?";
        binds.push_back(value);
      }
      return fmt::format("{} {} ({})", column, ComparatorText(op), marks);
    }
    default:
      binds.push_back(values.front());
      return fmt::format("{} {} ?", column, ComparatorText(op));
  }
}

}  // namespace mltrack::tracking::search
