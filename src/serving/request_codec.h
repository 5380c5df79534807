// Scoring requests as MLflow's scoring server takes them, and the answers it gives.
//
// A request body is JSON (Content-Type application/json) holding exactly one of MLflow's format
// keys, and optionally "params":
//   {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2.5], [3, 4.0]]}}   ("index" ignored)
//   {"dataframe_records": [{"a": 1, "b": 2.5}, {"a": 3, "b": 4.0}]}
//   {"instances": [{"a": 1, "b": 2.5}, ...]}          records
//   {"instances": [[1, 2.5], [3, 4.0]]}                rows by position (the schema's columns)
//   {"inputs": {"a": [1, 3], "b": [2.5, 4.0]}}         columns
//   {"inputs": {"a": 1, "b": 2.5}}                     one row
//   ... "params": {"predict_proba": true}
// or CSV (Content-Type text/csv) with a header line. JSON integers become long columns, other
// numbers double (a column mixing both is double), strings string, booleans boolean; null is a
// missing value (NaN in a double column; refused in other columns).
//
// Errors are MLflow's: a body that cannot be read is Error(kBadRequest) whose message starts
// "Invalid input. " and says what is wrong and where, e.g.
//   "Invalid input. Ensure that input is a valid JSON formatted string. Error: '...' at byte 12"
//   "Invalid input. The input must be a JSON dictionary with exactly one of the input fields
//    {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}. Received dictionary with
//    input fields: ['a', 'b']"   (none, or two, of the keys)
//   "Invalid input. ... Received a list."  /  "... Received unexpected input type 'number'."
//   "Invalid input. Column 'b' mixes string and number values (row 2)"
//   "Invalid input. dataframe_split row 1 has 3 values, expected 2 (the columns)"
// and a content type the server does not take is a ContentTypeError, answered with 415 and the
// message as text/plain:
//   "This predictor only supports the following content types: Types: ['text/csv',
//    'application/json']. Got 'text/plain'."
//   "The scoring server only supports UTF-8"
//   "Unrecognized content type parameters: format. ..."
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "models/bundle/signature.h"

namespace mltrack::serving {

enum class BodyFormat { kJson, kCsv };

class ContentTypeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The format of a body by its Content-Type header ("application/json; charset=utf-8",
// "text/csv", ...). An empty header is JSON (as MLflow's clients send). Throws ContentTypeError.
BodyFormat BodyFormatOf(std::string_view content_type);

struct ScoringRequest {
  models::Table table;
  nlohmann::json params = nlohmann::json::object();  // the request's "params" (an object)
  std::string format;  // "dataframe_split", "dataframe_records", "instances", "inputs" or "csv"
};

// Decodes a JSON body. `schema`, when given and named, names the columns of positional rows
// ({"instances": [[...], ...]}, {"inputs": [[...]]}); without it such rows are refused.
// Throws Error(kBadRequest) as above; "params" that is not an object is refused likewise.
ScoringRequest DecodeJsonRequest(std::string_view body, const models::Schema* schema = nullptr);

// Decodes a CSV body with a header line (RFC 4180 quoting). A column whose values all parse as
// integers is long, as numbers double ("", "NaN" and "nan" are NaN there), otherwise string.
// With a schema, a column the schema types as string stays string. Throws Error(kBadRequest)
// "Invalid input. Failed to parse input as CSV: line 3 has 2 fields, expected 3".
ScoringRequest DecodeCsvRequest(std::string_view body, const models::Schema* schema = nullptr);

// One of the two by format.
ScoringRequest DecodeRequest(BodyFormat format, std::string_view body,
                             const models::Schema* schema = nullptr);

// The table as CSV with a header line (strings quoted when they need it; NaN as empty).
std::string TableToCsv(const models::Table& table);

}  // namespace mltrack::serving
