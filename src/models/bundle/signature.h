// Model signatures (MLflow's column-based schema) and the in-memory table that is checked
// against them.
//
// A signature describes the columns a model takes (`inputs`) and returns (`outputs`), with
// MLflow's type names. In an MLmodel file each schema is a JSON string of column specs:
//   [{"type": "double", "name": "x", "required": true}, ...]
// Tensor-based schemas are not supported: reading one is an error that says so.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mltrack::models {

// MLflow's `mlflow.types.DataType` names: boolean, integer (32-bit), long (64-bit), float (32-bit),
// double, string, binary, datetime.
enum class DataType { kBoolean, kInteger, kLong, kFloat, kDouble, kString, kBinary, kDatetime };

std::string_view DataTypeName(DataType type);
// nullopt for a name that is not one of the eight above.
std::optional<DataType> DataTypeFromName(std::string_view name);

struct ColumnSpec {
  std::optional<std::string> name;  // all columns of a schema are named, or none is
  DataType type = DataType::kDouble;
  bool required = true;
  bool operator==(const ColumnSpec&) const = default;
};

using Schema = std::vector<ColumnSpec>;

struct Signature {
  Schema inputs;
  std::optional<Schema> outputs;
  // MLflow's inference params schema, kept verbatim as its JSON text (nullopt: none).
  std::optional<std::string> params_json;
  bool operator==(const Signature&) const = default;
};

// The JSON text MLflow writes for a schema: `[{"type": "double", "name": "x", "required": true}]`
// (Python's json.dumps separators; keys in MLflow's order).
std::string SchemaToJson(const Schema& schema);
// Parses SchemaToJson's format (`required` may be absent: it defaults to true). Throws
// Error(kInvalidParameterValue) with the problem, e.g. "column 2 has unknown type 'decimal'";
// callers prefix where the text came from.
Schema SchemaFromJson(std::string_view json);

// An in-memory table: named columns of equal length, each holding one value type. Enough to
// carry a scoring request or a model's predictions.
using ColumnValues = std::variant<std::vector<double>, std::vector<int64_t>,
                                  std::vector<std::string>, std::vector<bool>>;

struct Column {
  std::string name;
  ColumnValues values;
  bool operator==(const Column&) const = default;
};

class Table {
 public:
  Table() = default;
  // Throws Error(kInvalidParameterValue) for a duplicate name or a length that differs from the
  // columns already there: "Column 'b' has 3 rows, expected 2".
  void AddColumn(std::string name, ColumnValues values);

  const std::vector<Column>& columns() const { return columns_; }
  size_t num_rows() const { return num_rows_; }
  // nullptr when there is no column with that name.
  const Column* Find(std::string_view name) const;
  bool operator==(const Table&) const = default;

 private:
  std::vector<Column> columns_;
  size_t num_rows_ = 0;
};

// The DataType a column's values have: double, long, string or boolean.
DataType ValueType(const ColumnValues& values);

// A schema with one required named column per (name, type), in order.
Schema InferSchema(const std::vector<std::pair<std::string, DataType>>& columns);
// The schema of a table's columns as they are.
Schema InferSchema(const Table& table);
Signature InferSignature(const Table& inputs, const std::optional<Table>& outputs = std::nullopt);

// Checks `input` against `schema` and returns it in the schema's column order, with values
// converted where MLflow allows it: long values into a double column (when each one is exactly
// representable, |v| <= 2^53), into an integer column when each fits in 32 bits, into a float
// column when |v| <= 2^24; double values into a float column (the table has no 32-bit floats);
// strings into binary and datetime columns. An optional column that is absent is left out.
// An unnamed schema matches the table's columns by position. Throws Error(kInvalidParameterValue)
// naming the column and the problem:
//   "Missing required column 'age'"
//   "Column 'age' has type string, expected long"
//   "Unexpected column 'zip': the schema has columns 'age', 'name'"
//   "Column 'n' has value 3000000000 at row 1, which does not fit in integer"
Table CheckAgainstSignature(const Table& input, const Schema& schema);

}  // namespace mltrack::models
