// Feature and label encodings: how raw table columns become the dense numeric matrix a trainer
// fits on, stored in the model bundle so that serving applies the very same encoding.
//
// Numeric columns (long, double, boolean) pass through as one double column each. String
// columns are categorical: one-hot encoded against a vocabulary (sorted; the missing value ""
// is a category like any other when it occurs in training data). A category not in the
// vocabulary at encode time is an error, or goes to the column's "unknown" slot (one extra
// one-hot column), as the user chose at fit time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/bundle/signature.h"
#include "models/dist/communicator.h"

namespace mltrack::data {

// Row-major dense matrix.
struct DenseMatrix {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<double> values;  // rows * cols
  double* row(size_t i) { return values.data() + i * cols; }
  const double* row(size_t i) const { return values.data() + i * cols; }
};

enum class UnknownCategory { kError, kUnknownSlot };

struct FeatureColumn {
  std::string name;
  models::DataType type = models::DataType::kDouble;  // the raw column's type
  bool categorical = false;                           // string columns
  std::vector<std::string> vocabulary;                // categorical: sorted categories
};

// Where an encoding error points: the source (file name) and each row's line, when known.
struct RowOrigin {
  std::string source;                        // e.g. "train.csv"; empty: rows are "row N"
  const std::vector<int64_t>* lines = nullptr;
};

class FeatureEncoder {
 public:
  FeatureEncoder() = default;

  // Learns the columns `features` of `table` (every column but `exclude` when `features` is
  // empty). Vocabularies are the union over all ranks of `comm` (every rank passes its shard and
  // gets the same encoder). Throws kInvalidParameterValue naming a column that does not exist.
  static FeatureEncoder Fit(const models::Table& table, const std::vector<std::string>& features,
                            const std::vector<std::string>& exclude, UnknownCategory unknown,
                            dist::Communicator& comm);

  const std::vector<FeatureColumn>& columns() const { return columns_; }
  UnknownCategory unknown() const { return unknown_; }
  // Number of encoded columns.
  size_t width() const;
  // One name per encoded column: "age", "workclass=Private", "workclass=<unknown>".
  std::vector<std::string> EncodedNames() const;
  // The raw columns this encoder reads, as a signature's input schema.
  models::Schema InputSchema() const;

  // Encodes the rows of `table` (extra columns are ignored; a numeric column given as another
  // numeric type is converted). Throws kInvalidParameterValue naming the column and the row's
  // origin for a missing column, a string where a number belongs, NaN in a numeric feature
  // ("train.csv: line 12, column 'age': missing value; features must be numbers"), or an unseen
  // category under kError.
  DenseMatrix Encode(const models::Table& table, const RowOrigin& origin = {}) const;
  // The same checks, one column per raw feature (columns() order) instead of one-hot: a numeric
  // feature's values, a categorical feature's vocabulary indices (the unknown slot is
  // vocabulary.size()). What tree models split on.
  std::vector<std::vector<double>> EncodeColumns(const models::Table& table,
                                                 const RowOrigin& origin = {}) const;

  nlohmann::json ToJson() const;
  // Throws kInvalidParameterValue for JSON that ToJson could not have written.
  static FeatureEncoder FromJson(const nlohmann::json& json);

 private:
  std::vector<FeatureColumn> columns_;
  UnknownCategory unknown_ = UnknownCategory::kError;
};

// Class labels: the sorted union over ranks of a label column's values (as text: "0", "1",
// ">50K"), each row's class index.
class LabelEncoder {
 public:
  LabelEncoder() = default;
  // Throws kInvalidParameterValue when the column does not exist or has missing values.
  static LabelEncoder Fit(const models::Table& table, const std::string& column,
                          dist::Communicator& comm);
  const std::vector<std::string>& classes() const { return classes_; }
  models::DataType type() const { return type_; }
  // Class indices; an unknown label or a missing value is an error naming the row's origin.
  std::vector<int32_t> Encode(const models::Table& table, const std::string& column,
                              const RowOrigin& origin = {}) const;
  nlohmann::json ToJson() const;
  static LabelEncoder FromJson(const nlohmann::json& json);

  // The type a classifier's predictions of these labels have: long for integer labels, double,
  // boolean, otherwise string.
  models::DataType PredictionType() const;
  // The classes as values of PredictionType(), in class order (the texts classes() keeps, as
  // std::to_string, std::to_chars or "true" wrote them, parse back exactly).
  const models::ColumnValues& ClassValues() const { return values_; }
  // The labels of class indices `best`, one per row, as a column of PredictionType().
  models::ColumnValues Take(std::span<const size_t> best) const;

 private:
  void TypeClasses();  // sets values_ from classes_ and type_

  std::vector<std::string> classes_;
  models::ColumnValues values_;
  models::DataType type_ = models::DataType::kString;
};

// Checks that `table` has the label column `column`; else Error(kInvalidParameterValue)
//   "train.csv has no label column 'y' (columns: a, b, c)"
void RequireLabelColumn(const models::Table& table, const std::string& column,
                        const RowOrigin& origin);
// LabelEncoder::Fit of a classifier's label, refusing fewer than two classes over all ranks:
//   "The label column 'y' of train.csv has one class ('1'): a classifier needs at least two
//    classes"
LabelEncoder FitClassifierLabels(const models::Table& table, const std::string& column,
                                 const RowOrigin& origin, dist::Communicator& comm);

// A numeric column as doubles (regression targets); missing values are an error.
std::vector<double> NumericColumn(const models::Table& table, const std::string& column,
                                  const RowOrigin& origin = {});

// The table without the column `name` (no error when absent).
models::Table DropColumn(const models::Table& table, const std::string& name);

}  // namespace mltrack::data
