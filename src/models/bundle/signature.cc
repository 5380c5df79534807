#include "models/bundle/signature.h"

#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mltrack/error.h"

namespace mltrack::models {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<DataType, std::string_view>, 8> kTypeNames = {{
    {DataType::kBoolean, "boolean"},
    {DataType::kInteger, "integer"},
    {DataType::kLong, "long"},
    {DataType::kFloat, "float"},
    {DataType::kDouble, "double"},
    {DataType::kString, "string"},
    {DataType::kBinary, "binary"},
    {DataType::kDatetime, "datetime"},
}};

[[noreturn]] void Invalid(std::string message) {
  throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
}

size_t Length(const ColumnValues& values) {
  return std::visit([](const auto& v) { return v.size(); }, values);
}

std::string DisplayName(const ColumnSpec& spec, size_t index) {
  return spec.name ? *spec.name : fmt::format("{}", index);
}

// Long values into a column of type `to`: refused when one does not fit exactly.
ColumnValues ConvertLongs(const std::vector<int64_t>& values, DataType to, std::string_view name) {
  int64_t limit = 0;
  switch (to) {
    case DataType::kLong: return values;
    case DataType::kDouble: limit = int64_t{1} << 53; break;
    case DataType::kFloat: limit = int64_t{1} << 24; break;
    case DataType::kInteger: break;
    default: Invalid(fmt::format("Column '{}' has type long, expected {}", name, DataTypeName(to)));
  }
  for (size_t row = 0; row < values.size(); ++row) {
    int64_t v = values[row];
    bool fits = to == DataType::kInteger ? v >= std::numeric_limits<int32_t>::min() &&
                                               v <= std::numeric_limits<int32_t>::max()
                                         : v >= -limit && v <= limit;
    if (!fits) {
      Invalid(fmt::format("Column '{}' has value {} at row {}, which does not fit in {}", name, v,
                          row, DataTypeName(to)));
    }
  }
  if (to == DataType::kInteger) return values;
  return std::vector<double>(values.begin(), values.end());
}

ColumnValues Convert(const ColumnValues& values, DataType to, std::string_view name) {
  DataType from = ValueType(values);
  if (from == DataType::kLong) return ConvertLongs(std::get<std::vector<int64_t>>(values), to, name);
  bool ok = from == to || (from == DataType::kDouble && to == DataType::kFloat) ||
            (from == DataType::kString && (to == DataType::kBinary || to == DataType::kDatetime));
  if (!ok) {
    Invalid(fmt::format("Column '{}' has type {}, expected {}", name, DataTypeName(from),
                        DataTypeName(to)));
  }
  return values;
}

}  // namespace

std::string_view DataTypeName(DataType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "unknown";
}

std::optional<DataType> DataTypeFromName(std::string_view name) {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

std::string SchemaToJson(const Schema& schema) {
  // Written by hand to match Python's json.dumps spacing; json(...).dump() escapes the strings.
  std::string out = "[";
  for (size_t i = 0; i < schema.size(); ++i) {
    const ColumnSpec& spec = schema[i];
    if (i > 0) out += ", ";
    out += fmt::format("{{\"type\": \"{}\"", DataTypeName(spec.type));
    if (spec.name) out += fmt::format(", \"name\": {}", json(*spec.name).dump());
    out += fmt::format(", \"required\": {}}}", spec.required ? "true" : "false");
  }
  out += "]";
  return out;
}

Schema SchemaFromJson(std::string_view text) {
  json parsed;
  try {
    parsed = json::parse(text);
  } catch (const json::parse_error& e) {
    Invalid(fmt::format("it is not valid JSON ({})", e.what()));
  }
  if (!parsed.is_array()) Invalid("it must be a JSON list of column specs");
  Schema schema;
  for (size_t i = 0; i < parsed.size(); ++i) {
    const json& item = parsed[i];
    if (!item.is_object()) Invalid(fmt::format("column {} must be a JSON object", i));
    auto type = item.find("type");
    if (type == item.end() || !type->is_string()) {
      Invalid(fmt::format("column {} has no \"type\" string", i));
    }
    std::string type_name = type->get<std::string>();
    auto data_type = DataTypeFromName(type_name);
    if (!data_type) {
      if (type_name == "tensor" || type_name == "array" || type_name == "object" ||
          type_name == "map") {
        Invalid(fmt::format("column {} has type '{}': only column-based schemas of basic types "
                            "are supported",
                            i, type_name));
      }
      Invalid(fmt::format("column {} has unknown type '{}'", i, type_name));
    }
    ColumnSpec spec{.type = *data_type};
    if (auto name = item.find("name"); name != item.end() && !name->is_null()) {
      if (!name->is_string()) Invalid(fmt::format("column {} has a \"name\" that is not a string", i));
      spec.name = name->get<std::string>();
    }
    if (auto required = item.find("required"); required != item.end()) {
      if (!required->is_boolean()) {
        Invalid(fmt::format("column {} has a \"required\" that is not true or false", i));
      }
      spec.required = required->get<bool>();
    }
    if (i > 0 && spec.name.has_value() != schema[0].name.has_value()) {
      Invalid("named and unnamed columns cannot be mixed");
    }
    schema.push_back(std::move(spec));
  }
  return schema;
}

void Table::AddColumn(std::string name, ColumnValues values) {
  if (Find(name) != nullptr) Invalid(fmt::format("Duplicate column '{}'", name));
  size_t rows = Length(values);
  if (!columns_.empty() && rows != num_rows_) {
    Invalid(fmt::format("Column '{}' has {} rows, expected {}", name, rows, num_rows_));
  }
  num_rows_ = rows;
  columns_.push_back({std::move(name), std::move(values)});
}

const Column* Table::Find(std::string_view name) const {
  for (const Column& column : columns_) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

DataType ValueType(const ColumnValues& values) {
  switch (values.index()) {
    case 0: return DataType::kDouble;
    case 1: return DataType::kLong;
    case 2: return DataType::kString;
    default: return DataType::kBoolean;
  }
}

Schema InferSchema(const std::vector<std::pair<std::string, DataType>>& columns) {
  Schema schema;
  for (const auto& [name, type] : columns) schema.push_back({.name = name, .type = type});
  return schema;
}

Schema InferSchema(const Table& table) {
  Schema schema;
  for (const Column& column : table.columns()) {
    schema.push_back({.name = column.name, .type = ValueType(column.values)});
  }
  return schema;
}

Signature InferSignature(const Table& inputs, const std::optional<Table>& outputs) {
  Signature signature{.inputs = InferSchema(inputs)};
  if (outputs) signature.outputs = InferSchema(*outputs);
  return signature;
}

Table CheckAgainstSignature(const Table& input, const Schema& schema) {
  Table result;
  bool named = !schema.empty() && schema[0].name.has_value();
  if (!named) {
    if (input.columns().size() != schema.size()) {
      Invalid(fmt::format("The input has {} columns, the schema has {}", input.columns().size(),
                          schema.size()));
    }
    for (size_t i = 0; i < schema.size(); ++i) {
      const Column& column = input.columns()[i];
      result.AddColumn(column.name, Convert(column.values, schema[i].type, column.name));
    }
    return result;
  }
  for (const Column& column : input.columns()) {
    bool known = false;
    for (const ColumnSpec& spec : schema) known = known || *spec.name == column.name;
    if (!known) {
      std::string expected;
      for (size_t i = 0; i < schema.size(); ++i) {
        expected += fmt::format("{}'{}'", i > 0 ? ", " : "", DisplayName(schema[i], i));
      }
      Invalid(fmt::format("Unexpected column '{}': the schema has columns {}", column.name,
                          expected));
    }
  }
  for (const ColumnSpec& spec : schema) {
    const Column* column = input.Find(*spec.name);
    if (column == nullptr) {
      if (spec.required) Invalid(fmt::format("Missing required column '{}'", *spec.name));
      continue;
    }
    result.AddColumn(column->name, Convert(column->values, spec.type, column->name));
  }
  return result;
}

}  // namespace mltrack::models
