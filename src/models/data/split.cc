#include "models/data/split.h"

#include <cmath>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "mltrack/error.h"
#include "models/data/mix64.h"

namespace mltrack::data {
namespace {

// The row's place in [0, 1): the top 53 bits of a hash of (seed, row id). Mixing the id before
// the seed is xor-ed in keeps nearby ids under nearby seeds from sharing values.
double RowUnit(uint64_t seed, int64_t row_id) {
  uint64_t h = Mix64(seed ^ Mix64(static_cast<uint64_t>(row_id)));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

}  // namespace

Split TrainTestSplit(std::span<const int64_t> row_ids, double test_fraction, uint64_t seed) {
  if (!(test_fraction > 0.0 && test_fraction < 1.0)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid test fraction {}: expected a value in (0, 1)",
                            test_fraction));
  }
  Split split;
  for (size_t i = 0; i < row_ids.size(); ++i) {
    (RowUnit(seed, row_ids[i]) < test_fraction ? split.test : split.train).push_back(i);
  }
  return split;
}

std::vector<Split> KFold(std::span<const int64_t> row_ids, int k, uint64_t seed) {
  if (k < 2) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid number of folds {}: expected at least 2", k));
  }
  std::vector<Split> folds(static_cast<size_t>(k));
  for (size_t i = 0; i < row_ids.size(); ++i) {
    // u * k < k for u < 1 in exact arithmetic; the clamp guards the rounding of the product.
    int fold = static_cast<int>(RowUnit(seed, row_ids[i]) * k);
    if (fold >= k) fold = k - 1;
    for (int f = 0; f < k; ++f) (f == fold ? folds[f].test : folds[f].train).push_back(i);
  }
  return folds;
}

models::Table TakeRows(const models::Table& table, std::span<const size_t> positions) {
  for (size_t p : positions) {
    if (p >= table.num_rows()) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Row position {} is out of range for a table of {} rows", p,
                              table.num_rows()));
    }
  }
  models::Table out;
  for (const models::Column& column : table.columns()) {
    models::ColumnValues values = std::visit(
        [&](const auto& source) -> models::ColumnValues {
          std::remove_cvref_t<decltype(source)> taken;
          taken.reserve(positions.size());
          for (size_t p : positions) taken.push_back(source[p]);
          return taken;
        },
        column.values);
    out.AddColumn(column.name, std::move(values));
  }
  return out;
}

}  // namespace mltrack::data
