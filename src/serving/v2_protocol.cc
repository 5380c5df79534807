#include "serving/v2_protocol.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack::serving {
namespace {

using json = nlohmann::json;

// Inference requests nest 4 deep; "parameters" may nest more. Copies and dumps of a JSON value
// recurse, so a deeper body is refused while it is parsed.
constexpr int kMaxV2Depth = 64;

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A field of a JSON object without copying it; null when absent.
const json& Field(const json& object, const char* key) {
  static const json kAbsent;
  auto it = object.find(key);
  return it == object.end() ? kAbsent : *it;
}

json ColumnData(const models::ColumnValues& values) {
  return std::visit([](const auto& v) { return json(v); }, values);
}

// The table of an Open Inference Protocol request: one column per input tensor, of shape [n] or
// [n, 1], its data flat or nested row by row.
models::Table V2InputTable(const json& inputs) {
  if (!inputs.is_array() || inputs.empty()) {
    throw Error(ErrorCode::kBadRequest,
                "Invalid input. 'inputs' must be a non-empty list of "
                "tensors {\"name\", \"shape\", \"datatype\", \"data\"}");
  }
  models::Table table;
  for (const json& tensor : inputs) {
    if (!tensor.is_object() || !tensor.contains("name") || !tensor["name"].is_string()) {
      throw Error(ErrorCode::kBadRequest, "Invalid input. Every input tensor needs a \"name\"");
    }
    std::string name = tensor["name"];
    auto fail = [&](std::string_view problem) {
      return Error(ErrorCode::kBadRequest,
                   fmt::format("Invalid input. Input tensor '{}' {}", name, problem));
    };
    const json& shape = Field(tensor, "shape");
    if (!shape.is_array() || shape.empty() || shape.size() > 2 ||
        !std::all_of(shape.begin(), shape.end(),
                     [](const json& d) { return d.is_number_unsigned(); }) ||
        (shape.size() == 2 && shape[1] != 1)) {
      throw fail("must have shape [n] or [n, 1]");
    }
    size_t rows = shape[0].get<size_t>();
    // The values, flat or as rows of one value each (shape [n, 1]).
    std::vector<const json*> flat;  // into the document: no value is copied
    const json& data = Field(tensor, "data");
    if (!data.is_array()) throw fail("needs \"data\", a list of values");
    for (const json& item : data) {
      if (!item.is_array()) {
        flat.push_back(&item);
        continue;
      }
      for (const json& value : item) {
        if (value.is_array()) throw fail("has data nested deeper than its shape");
        flat.push_back(&value);
      }
    }
    if (flat.size() != rows) {
      throw fail(fmt::format("has {} values, expected {} (its shape)", flat.size(), rows));
    }
    const json& datatype = Field(tensor, "datatype");
    std::string type = datatype.is_string() ? datatype.get<std::string>() : datatype.dump();
    auto take = [&](auto&& check, auto&& convert, std::string_view what) {
      using Value = std::decay_t<decltype(convert(*flat[0]))>;
      std::vector<Value> column;
      column.reserve(rows);
      for (size_t i = 0; i < rows; ++i) {
        if (!check(*flat[i])) {
          // Only scalars are shown: the serializer would recurse into a deeply nested value.
          std::string shown = flat[i]->is_primitive() ? flat[i]->dump() : flat[i]->type_name();
          if (shown.size() > 40) shown = shown.substr(0, 37) + "...";
          throw fail(fmt::format("of datatype {} has {} at position {}, expected {}", type, shown,
                                 i, what));
        }
        column.push_back(convert(*flat[i]));
      }
      table.AddColumn(name, std::move(column));
    };
    if (type == "BOOL") {
      take([](const json& v) { return v.is_boolean(); }, [](const json& v) { return bool(v); },
           "a boolean");
    } else if (type.starts_with("INT") || type.starts_with("UINT")) {
      take([](const json& v) { return v.is_number_integer() && v <= INT64_MAX; },
           [](const json& v) { return v.get<int64_t>(); }, "an integer");
    } else if (type == "FP16" || type == "FP32" || type == "FP64") {
      take([](const json& v) { return v.is_number() || v.is_null(); },
           [](const json& v) { return v.is_null() ? NAN : v.get<double>(); }, "a number");
    } else if (type == "BYTES") {
      take([](const json& v) { return v.is_string(); },
           [](const json& v) { return v.get<std::string>(); }, "a string");
    } else {
      throw fail(
          fmt::format("has datatype '{}'; expected one of BOOL, INT8..INT64, "
                      "UINT8..UINT64, FP16, FP32, FP64, BYTES",
                      type));
    }
  }
  return table;
}

}  // namespace

// Open Inference Protocol datatypes of MLflow's column types.
const char* V2Datatype(models::DataType type) {
  switch (type) {
    case models::DataType::kBoolean:
      return "BOOL";
    case models::DataType::kInteger:
      return "INT32";
    case models::DataType::kLong:
      return "INT64";
    case models::DataType::kFloat:
      return "FP32";
    case models::DataType::kDouble:
      return "FP64";
    default:
      return "BYTES";
  }
}

json V2TensorSpecs(const models::Schema& schema, const char* unnamed) {
  json specs = json::array();
  for (size_t i = 0; i < schema.size(); ++i) {
    std::string name = schema[i].name.value_or(
        schema.size() == 1 ? std::string(unnamed) : fmt::format("{}_{}", unnamed, i));
    specs.push_back({{"name", name}, {"datatype", V2Datatype(schema[i].type)}, {"shape", {-1}}});
  }
  return specs;
}

ScoringRequest DecodeV2Request(std::string_view text, V2Extras& extras) {
  bool too_deep = false;
  json document = json::parse(
      text,
      [&too_deep](int depth, json::parse_event_t, json&) {
        if (depth > kMaxV2Depth) too_deep = true;
        return !too_deep;
      },
      /*allow_exceptions=*/false);
  if (too_deep) {
    throw Error(ErrorCode::kBadRequest,
                fmt::format("Invalid input. The body nests deeper than {} levels", kMaxV2Depth));
  }
  if (document.is_discarded()) {
    throw Error(ErrorCode::kBadRequest,
                "Invalid input. Ensure that input is a valid JSON formatted string.");
  }
  if (!document.is_object()) {
    throw Error(ErrorCode::kBadRequest,
                "Invalid input. The body must be a JSON object {\"inputs\": [...]}");
  }
  if (document.contains("id")) extras.id = document["id"];
  if (document.contains("outputs")) extras.outputs = document["outputs"];
  ScoringRequest scoring;
  scoring.format = "v2";
  scoring.table = V2InputTable(Field(document, "inputs"));
  json parameters = document.contains("parameters") ? document["parameters"] : json::object();
  if (!parameters.is_object()) {
    throw Error(ErrorCode::kBadRequest, "Invalid input. 'parameters' must be an object");
  }
  scoring.params = std::move(parameters);
  return scoring;
}

std::string EncodeV2Response(const models::Table& table, const V2Extras& extras,
                             const std::string& model_name, const std::string& model_version) {
  const json& wanted = extras.outputs;
  std::vector<std::string> names;  // the outputs asked for; empty: all
  if (!wanted.is_null()) {
    if (!wanted.is_array()) {
      throw Error(ErrorCode::kBadRequest, "Invalid input. 'outputs' must be a list");
    }
    for (const json& output : wanted) {
      const json& field = output.is_object() ? Field(output, "name") : output;
      std::string name = field.is_string() ? field.get<std::string>() : field.dump();
      if (table.Find(name) == nullptr) {
        throw Error(ErrorCode::kBadRequest,
                    fmt::format("Invalid input. The model has no output '{}'", name));
      }
      names.push_back(std::move(name));
    }
  }
  json outputs = json::array();
  for (const models::Column& column : table.columns()) {
    if (!names.empty() && std::find(names.begin(), names.end(), column.name) == names.end()) {
      continue;
    }
    outputs.push_back({{"name", column.name},
                       {"shape", {table.num_rows()}},
                       {"datatype", V2Datatype(models::ValueType(column.values))},
                       {"data", ColumnData(column.values)}});
  }
  json answer = {{"model_name", model_name}, {"outputs", std::move(outputs)}};
  if (!model_version.empty()) answer["model_version"] = model_version;
  answer["id"] = extras.id.is_string() ? extras.id.get<std::string>() : "";
  return Dump(answer);
}

}  // namespace mltrack::serving
