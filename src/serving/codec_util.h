// What the JSON (request_codec.cc) and CSV (csv_codec.cc) halves of the request codec share.
// Internal to the serving codec.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "models/bundle/signature.h"
#include "mltrack/error.h"

namespace mltrack::serving::codec {

// Table::AddColumn looks names up linearly, so building a table costs the square of its width;
// no served model takes this many columns.
constexpr size_t kMaxColumns = 10000;

// Error(kBadRequest) with MLflow's "Invalid input. " prefix.
template <typename... Args>
[[noreturn]] void Invalid(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(ErrorCode::kBadRequest,
              "Invalid input. " + fmt::format(format, std::forward<Args>(args)...));
}

// Length of the valid UTF-8 sequence at text[i], or 0 when the bytes there are not one
// (overlong forms, surrogates and code points above U+10FFFF are not).
size_t Utf8SequenceAt(std::string_view text, size_t i);

// User text as it may appear in a message: valid UTF-8 (other bytes as \xNN) and at most about
// 100 bytes, so that an error body can always be written and stays short.
std::string Shown(std::string_view text);

// The values of a column that has none to tell its type: the schema's type, else double.
models::ColumnValues EmptyColumn(std::optional<models::DataType> type);

// Whether the schema names its columns (all of them are named, or none is).
bool IsNamed(const models::Schema* schema);

// The schema's type of a request column: by name in a named schema, by position in an unnamed
// one; nullopt without a schema or for a column it does not have.
class SchemaTypes {
 public:
  explicit SchemaTypes(const models::Schema* schema) : schema_(schema) {}
  std::optional<models::DataType> Of(size_t index, const std::string& name);

 private:
  const models::Schema* schema_;
  std::unordered_map<std::string, models::DataType> types_;  // filled on first use
};

}  // namespace mltrack::serving::codec
