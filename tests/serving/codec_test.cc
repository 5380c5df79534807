// Scoring request decoding (serving/request_codec.h): content types, MLflow's four JSON formats,
// CSV, and every malformed body refused with MLflow's message naming what is wrong.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/bundle/signature.h"
#include "serving/request_codec.h"
#include "support/test_support.h"

namespace mltrack::serving {
namespace {

using models::ColumnValues;
using models::DataType;
using models::Schema;
using models::Table;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using Longs = std::vector<int64_t>;
using Doubles = std::vector<double>;
using Strings = std::vector<std::string>;
using Bools = std::vector<bool>;

// MLflow's REQUIRED_INPUT_FORMAT.
const std::string kRequired =
    "The input must be a JSON dictionary with exactly one of the input fields "
    "{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}";
constexpr std::string_view kProtocolInfo =
    "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0.";

Table MakeTable(std::vector<std::pair<std::string, ColumnValues>> columns) {
  Table table;
  for (auto& [name, values] : columns) table.AddColumn(name, std::move(values));
  return table;
}

std::vector<std::string> Names(const Table& table) {
  std::vector<std::string> names;
  for (const auto& column : table.columns()) names.push_back(column.name);
  return names;
}

const Doubles& DoublesOf(const Table& table, std::string_view name) {
  const auto* column = table.Find(name);
  EXPECT_NE(column, nullptr) << name;
  return std::get<Doubles>(column->values);
}

Table Json(std::string_view body, const Schema* schema = nullptr) {
  return DecodeJsonRequest(body, schema).table;
}

Table Csv(std::string_view body, const Schema* schema = nullptr) {
  return DecodeCsvRequest(body, schema).table;
}

// "Invalid input. <message>" with code BAD_REQUEST (answered 400).
#define EXPECT_INVALID(statement, message) \
  EXPECT_ERROR(statement, ErrorCode::kBadRequest, Eq(std::string("Invalid input. ") + (message)))

const Schema kAbSchema{{.name = "a", .type = DataType::kLong},
                       {.name = "b", .type = DataType::kDouble}};

// --- content types ---

TEST(BodyFormatOf, TakesMlflowsContentTypes) {
  EXPECT_EQ(BodyFormatOf("application/json"), BodyFormat::kJson);
  EXPECT_EQ(BodyFormatOf("application/json; charset=utf-8"), BodyFormat::kJson);
  EXPECT_EQ(BodyFormatOf("Application/JSON;charset=UTF-8"), BodyFormat::kJson);
  EXPECT_EQ(BodyFormatOf(""), BodyFormat::kJson);
  EXPECT_EQ(BodyFormatOf("text/csv"), BodyFormat::kCsv);
  EXPECT_EQ(BodyFormatOf(" text/csv ; charset=\"utf-8\" ;"), BodyFormat::kCsv);
}

void ExpectContentTypeError(std::string_view content_type, const std::string& message) {
  try {
    BodyFormatOf(content_type);
    ADD_FAILURE() << "accepted " << content_type;
  } catch (const ContentTypeError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(BodyFormatOf, RefusesOtherTypesWithMlflowsMessages) {
  ExpectContentTypeError("text/plain",
                         "This predictor only supports the following content types: Types: "
                         "['text/csv', 'application/json']. Got 'text/plain'.");
  ExpectContentTypeError("application/xml; charset=utf-8",
                         "This predictor only supports the following content types: Types: "
                         "['text/csv', 'application/json']. Got 'application/xml; charset=utf-8'.");
  ExpectContentTypeError("application/json; charset=latin-1",
                         "The scoring server only supports UTF-8");
  // As in MLflow, the charset is checked before the type.
  ExpectContentTypeError("text/plain; charset=utf-16", "The scoring server only supports UTF-8");
  try {
    BodyFormatOf("application/json; format=pandas-split; orient=records");
    ADD_FAILURE();
  } catch (const ContentTypeError& e) {
    EXPECT_THAT(e.what(), StartsWith("Unrecognized content type parameters: format, orient. " +
                                     std::string(kProtocolInfo)));
  }
  // Bytes that are not UTF-8 are shown escaped, so the answer is always valid text.
  ExpectContentTypeError("text/\xff",
                         "This predictor only supports the following content types: Types: "
                         "['text/csv', 'application/json']. Got 'text/\\xff'.");
}

// --- JSON: golden decodes of each format ---

TEST(DecodeJson, DataframeSplit) {
  ScoringRequest request = DecodeJsonRequest(
      R"({"dataframe_split": {"index": [7, 8], "columns": ["a", "b", "c", "d"],
          "data": [[1, 2.5, "x", true], [3, 4, "y", false]]}})");
  EXPECT_EQ(request.format, "dataframe_split");
  EXPECT_EQ(request.table, MakeTable({{"a", Longs{1, 3}}, {"b", Doubles{2.5, 4.0}},
                                      {"c", Strings{"x", "y"}}, {"d", Bools{true, false}}}));
  EXPECT_EQ(request.params, nlohmann::json::object());
}

TEST(DecodeJson, DataframeSplitWithoutColumnsNamesThemBySchemaOrPosition) {
  EXPECT_EQ(Json(R"({"dataframe_split": {"data": [[1, 2.5]]}})", &kAbSchema),
            MakeTable({{"a", Longs{1}}, {"b", Doubles{2.5}}}));
  EXPECT_EQ(Json(R"({"dataframe_split": {"data": [[1, 2.5]]}})"),
            MakeTable({{"0", Longs{1}}, {"1", Doubles{2.5}}}));
  // One column: a row may be its value alone, as pandas takes it.
  EXPECT_EQ(Json(R"({"dataframe_split": {"columns": ["a"], "data": [1, [2]]}})"),
            MakeTable({{"a", Longs{1, 2}}}));
}

TEST(DecodeJson, EmptyDataIsATableWithoutRows) {
  Table table = Json(R"({"dataframe_split": {"columns": ["a", "b", "z"], "data": []}})",
                     &kAbSchema);
  EXPECT_EQ(table, MakeTable({{"a", Longs{}}, {"b", Doubles{}}, {"z", Doubles{}}}));
  EXPECT_EQ(Json(R"({"dataframe_split": {"data": []}})", &kAbSchema),
            MakeTable({{"a", Longs{}}, {"b", Doubles{}}}));
  EXPECT_EQ(Json(R"({"dataframe_records": []})").columns().size(), 0u);
  EXPECT_EQ(Json(R"({"instances": []})", &kAbSchema),
            MakeTable({{"a", Longs{}}, {"b", Doubles{}}}));
}

TEST(DecodeJson, DataframeRecordsKeepTheirColumnOrder) {
  ScoringRequest request = DecodeJsonRequest(
      R"({"dataframe_records": [{"z": 1, "a": "x"}, {"a": "y", "z": 2.5}]})");
  EXPECT_EQ(request.format, "dataframe_records");
  EXPECT_EQ(request.table, MakeTable({{"z", Doubles{1.0, 2.5}}, {"a", Strings{"x", "y"}}}));
}

TEST(DecodeJson, AKeyARecordLacksIsMissing) {
  Table table = Json(R"({"dataframe_records": [{"a": 1}, {"b": 2.5}, {"a": 3, "b": 4}]})");
  EXPECT_THAT(Names(table), ElementsAre("a", "b"));
  const Doubles& a = DoublesOf(table, "a");
  const Doubles& b = DoublesOf(table, "b");
  EXPECT_EQ(a[0], 1.0);
  EXPECT_TRUE(std::isnan(a[1]));
  EXPECT_EQ(a[2], 3.0);
  EXPECT_TRUE(std::isnan(b[0]));
  EXPECT_EQ(b[2], 4.0);
}

TEST(DecodeJson, InstancesAsRecordsRowsAndValues) {
  EXPECT_EQ(Json(R"({"instances": [{"a": 1, "b": 2.5}, {"a": 3, "b": 4.0}]})"),
            MakeTable({{"a", Longs{1, 3}}, {"b", Doubles{2.5, 4.0}}}));
  ScoringRequest rows = DecodeJsonRequest(R"({"instances": [[1, 2.5], [3, 4.0]]})", &kAbSchema);
  EXPECT_EQ(rows.format, "instances");
  EXPECT_EQ(rows.table, MakeTable({{"a", Longs{1, 3}}, {"b", Doubles{2.5, 4.0}}}));
  Schema one{{.name = "x", .type = DataType::kDouble}};
  EXPECT_EQ(Json(R"({"instances": [1, 2.5]})", &one), MakeTable({{"x", Doubles{1.0, 2.5}}}));
  // An unnamed schema matches by position: the columns are numbered.
  Schema unnamed{{.type = DataType::kLong}, {.type = DataType::kDouble}};
  EXPECT_EQ(Json(R"({"instances": [[1, 2.5]]})", &unnamed),
            MakeTable({{"0", Longs{1}}, {"1", Doubles{2.5}}}));
}

TEST(DecodeJson, PositionalRowsMayLeaveOutTrailingOptionalColumns) {
  Schema schema{{.name = "a", .type = DataType::kLong},
                {.name = "b", .type = DataType::kDouble, .required = false}};
  EXPECT_EQ(Json(R"({"instances": [[1], [2]]})", &schema), MakeTable({{"a", Longs{1, 2}}}));
  EXPECT_INVALID(Json(R"({"instances": [[1, 2, 3]]})", &schema),
                 "instances row 0 has 3 values, expected 1 to 2 (the signature's columns)");
}

TEST(DecodeJson, InputsAsColumnsOneRowOrRows) {
  ScoringRequest columns = DecodeJsonRequest(R"({"inputs": {"b": [2.5, 4.0], "a": [1, 3]}})");
  EXPECT_EQ(columns.format, "inputs");
  EXPECT_EQ(columns.table, MakeTable({{"b", Doubles{2.5, 4.0}}, {"a", Longs{1, 3}}}));
  EXPECT_EQ(Json(R"({"inputs": {"a": 1, "b": "x"}})"),
            MakeTable({{"a", Longs{1}}, {"b", Strings{"x"}}}));
  EXPECT_EQ(Json(R"({"inputs": [[1, 2.5]]})", &kAbSchema),
            MakeTable({{"a", Longs{1}}, {"b", Doubles{2.5}}}));
  EXPECT_EQ(Json(R"({"inputs": {}})").columns().size(), 0u);
}

TEST(DecodeJson, KeepsParams) {
  ScoringRequest request = DecodeJsonRequest(
      R"({"params": {"predict_proba": true, "k": 3, "nested": {"x": [1]}},
          "inputs": {"a": [1]}})");
  EXPECT_EQ(request.params,
            nlohmann::json::parse(R"({"predict_proba": true, "k": 3, "nested": {"x": [1]}})"));
  EXPECT_EQ(DecodeJsonRequest(R"({"inputs": {"a": [1]}, "params": null})").params,
            nlohmann::json::object());
  // Keys beside the format and "params" are ignored, as MLflow ignores them.
  EXPECT_EQ(Json(R"({"inputs": {"a": [1]}, "id": "req-1"})"), MakeTable({{"a", Longs{1}}}));
}

TEST(DecodeJson, TypesColumnsByTheirValues) {
  Table table = Json(
      R"({"inputs": {"int": [1, -9223372036854775808, 9223372036854775807],
                     "mixed": [1, 2.5, 3],
                     "huge": [1, 18446744073709551615, 123456789012345678901234567890],
                     "text": ["h\u00e9llo", "", "\ud83d\ude00"],
                     "flag": [true, false, true]}})");
  EXPECT_EQ(table, MakeTable({{"int", Longs{1, std::numeric_limits<int64_t>::min(),
                                             std::numeric_limits<int64_t>::max()}},
                              {"mixed", Doubles{1.0, 2.5, 3.0}},
                              {"huge", Doubles{1.0, 18446744073709551615.0, 1.2345678901234568e29}},
                              {"text", Strings{"h\xc3\xa9llo", "", "\xf0\x9f\x98\x80"}},
                              {"flag", Bools{true, false, true}}}));
}

TEST(DecodeJson, NullIsNaNInNumberColumns) {
  Table table = Json(R"({"inputs": {"a": [1, null], "b": [null, 2.5], "c": [null, null]}})");
  EXPECT_TRUE(std::isnan(DoublesOf(table, "a")[1]));
  EXPECT_EQ(DoublesOf(table, "a")[0], 1.0);
  EXPECT_TRUE(std::isnan(DoublesOf(table, "b")[0]));
  EXPECT_EQ(DoublesOf(table, "c").size(), 2u);
  Table late = Json(R"({"inputs": {"d": [null, 1]}})");
  EXPECT_TRUE(std::isnan(DoublesOf(late, "d")[0]));
  EXPECT_EQ(DoublesOf(late, "d")[1], 1.0);
}

TEST(DecodeJson, ParamsNestedWithinTheLimitAreKept) {
  std::string deep = std::string(90, '[') + "1" + std::string(90, ']');
  ScoringRequest request = DecodeJsonRequest(R"({"inputs": {"a": [1]}, "params": {"d": )" + deep +
                                             "}}");
  EXPECT_EQ(request.params["d"].dump(), deep);
}

// --- JSON: bad bodies ---

TEST(DecodeJsonErrors, InvalidJsonNamesTheErrorAndByte) {
  EXPECT_INVALID(Json(R"({"inputs": {"a": [1,]}})"),
                 "Ensure that input is a valid JSON formatted string. Error: 'syntax error while "
                 "parsing value - unexpected ']'; expected '[', '{', or a literal' at byte 21");
  EXPECT_INVALID(Json(""),
                 "Ensure that input is a valid JSON formatted string. Error: 'syntax error while "
                 "parsing value - unexpected end of input; expected '[', '{', or a literal' at "
                 "byte 1");
  EXPECT_INVALID(Json(R"({"inputs": {"a": [NaN]}})"),
                 "Ensure that input is a valid JSON formatted string. Error: 'syntax error while "
                 "parsing value - invalid literal; last read: '\"a\": [N'' at byte 19");
  EXPECT_INVALID(Json(R"({"inputs": {"a": [1]}} x)"),
                 "Ensure that input is a valid JSON formatted string. Error: 'syntax error while "
                 "parsing value - invalid literal; last read: '1]}} x'; expected end of input' at "
                 "byte 24");
  // Python reads 1e400 as inf; here it is refused as the overflow it is.
  EXPECT_INVALID(Json(R"({"inputs": {"a": [1e400]}})"),
                 "Ensure that input is a valid JSON formatted string. Error: 'number overflow "
                 "parsing '1e400'' at byte 23");
}

TEST(DecodeJsonErrors, BytesThatAreNotUtf8AreShownEscaped) {
  try {
    Json("{\"inputs\": {\"a\": [\"\xff\"]}}");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kBadRequest);
    EXPECT_THAT(e.what(), HasSubstr("invalid string: ill-formed UTF-8 byte; last read: '\"\\xff'"));
    EXPECT_NO_THROW(nlohmann::json(e.what()).dump());  // fit for a JSON error body
  }
}

TEST(DecodeJsonErrors, DeepNestingIsRefusedWithoutCrashing) {
  std::string deep(1'000'000, '[');
  EXPECT_INVALID(Json(deep), "Ensure that input is a valid JSON formatted string. Error: 'arrays "
                             "and objects nest deeper than 100 levels'");
  std::string params = R"({"inputs": {"a": [1]}, "params": )";
  for (int i = 0; i < 200'000; ++i) params += R"({"x":)";
  EXPECT_INVALID(Json(params), "Ensure that input is a valid JSON formatted string. Error: "
                               "'arrays and objects nest deeper than 100 levels'");
}

TEST(DecodeJsonErrors, BodiesThatAreNotADictionary) {
  EXPECT_INVALID(Json("null"), kRequired +
                                   ". Received unexpected input type 'null'.");
  EXPECT_INVALID(Json("42"), kRequired +
                                 ". Received unexpected input type 'number'.");
  EXPECT_INVALID(Json(R"("x")"), kRequired +
                                     ". Received unexpected input type 'string'.");
  EXPECT_INVALID(Json("[1, 2]"), kRequired + ". Received a list.");
}

TEST(DecodeJsonErrors, NoneOrTwoFormatKeys) {
  EXPECT_ERROR(Json(R"({"a": 1, "b": 2})"), ErrorCode::kBadRequest,
               StartsWith("Invalid input. " + kRequired +
                          ". Received dictionary with input fields: ['a', 'b']. " +
                          std::string(kProtocolInfo)));
  EXPECT_ERROR(Json("{}"), ErrorCode::kBadRequest,
               StartsWith("Invalid input. " + kRequired +
                          ". Received dictionary with input fields: []."));
  EXPECT_ERROR(Json(R"({"dataframe_split": {"data": []}, "inputs": {}, "params": {}})"),
               ErrorCode::kBadRequest,
               StartsWith("Invalid input. " + kRequired +
                          ". Received dictionary with input fields: ['dataframe_split', "
                          "'inputs', 'params']."));
}

TEST(DecodeJsonErrors, DuplicateKeysAndColumns) {
  EXPECT_INVALID(Json(R"({"inputs": {"a": [1], "a": [2]}})"),
                 "Duplicate key 'a' in a JSON object");
  std::string wide = R"({"inputs": {)";
  for (int i = 0; i < 40; ++i) wide += "\"c" + std::to_string(i) + "\": [1], ";
  EXPECT_INVALID(Json(wide + R"("c7": [2]}})"), "Duplicate key 'c7' in a JSON object");
  EXPECT_EQ(Json(wide + R"("c40": [2]}})").columns().size(), 41u);
  EXPECT_INVALID(Json(R"({"dataframe_split": {"columns": ["a", "b", "a"], "data": [[1, 2, 3]]}})"),
                 "Duplicate column name 'a' in dataframe_split columns");
}

TEST(DecodeJsonErrors, RowsOfTheWrongLength) {
  EXPECT_INVALID(Json(R"({"dataframe_split": {"columns": ["a", "b"],
                                               "data": [[1, 2], [1, 2, 3]]}})"),
                 "dataframe_split row 1 has 3 values, expected 2 (the columns)");
  EXPECT_INVALID(Json(R"({"instances": [[1, 2], [3]]})", &kAbSchema),
                 "instances row 1 has 1 values, expected 2 (the columns)");
  EXPECT_INVALID(Json(R"({"inputs": [[1, 2, 3]]})", &kAbSchema),
                 "inputs row 0 has 3 values, expected 2 (the signature's columns)");
  EXPECT_INVALID(Json(R"({"inputs": {"a": [1, 2], "b": [1, 2, 3]}})"),
                 "The length of values for each input/column name are not the same: 'b' has 3 "
                 "values, 'a' has 2");
}

TEST(DecodeJsonErrors, ValuesAColumnCannotHold) {
  EXPECT_INVALID(Json(R"({"dataframe_records": [{"b": 1}, {"b": "x"}]})"),
                 "Column 'b' mixes number and string values (row 1)");
  EXPECT_INVALID(Json(R"({"inputs": {"b": ["x", "y", true]}})"),
                 "Column 'b' mixes string and boolean values (row 2)");
  EXPECT_INVALID(Json(R"({"inputs": {"name": ["x", null]}})"),
                 "Column 'name' has no value at row 1 (null or missing): only number columns "
                 "take missing values");
  EXPECT_INVALID(Json(R"({"dataframe_records": [{"a": 1}, {"a": 2, "name": "x"}]})"),
                 "Column 'name' has no value at row 0 (null or missing): only number columns "
                 "take missing values");
  EXPECT_INVALID(Json(R"({"inputs": {"a": [[1, 2]]}})"),
                 "Column 'a' has an array at row 0: values must be numbers, strings, booleans or "
                 "null");
  EXPECT_INVALID(Json(R"({"dataframe_split": {"columns": ["a"], "data": [[{"x": 1}]]}})"),
                 "Column 'a' has an object at row 0: values must be numbers, strings, booleans "
                 "or null");
}

TEST(DecodeJsonErrors, MalformedDataframeSplit) {
  EXPECT_INVALID(Json(R"({"dataframe_split": [[1]]})"),
                 "Dataframe split format must be a dictionary. Got list.");
  EXPECT_INVALID(Json(R"({"dataframe_split": "x"})"),
                 "Dataframe split format must be a dictionary. Got type 'string'.");
  EXPECT_INVALID(Json(R"({"dataframe_split": {"columns": ["a"]}})"),
                 "Dataframe split format must have 'data' field and optionally 'columns' and "
                 "'index' fields. Got {'columns'}.");
  EXPECT_INVALID(Json(R"({"dataframe_split": {"data": [], "rows": 1}})"),
                 "Dataframe split format must have 'data' field and optionally 'columns' and "
                 "'index' fields. Got {'data', 'rows'}.");
  EXPECT_INVALID(Json(R"({"dataframe_split": {"data": {"a": 1}}})"),
                 "dataframe_split data must be a list of rows, got an object");
  EXPECT_INVALID(Json(R"({"dataframe_split": {"columns": "a", "data": []}})"),
                 "dataframe_split columns must be a list of column names, got a string");
  EXPECT_INVALID(Json(R"({"dataframe_split": {"columns": ["a", true], "data": []}})"),
                 "dataframe_split column 1 is a boolean, expected a column name");
  EXPECT_INVALID(Json(R"({"dataframe_split": {"columns": ["a", "b"], "data": [1]}})"),
                 "dataframe_split row 0 is a number, expected a list of values");
}

TEST(DecodeJsonErrors, MalformedRecordsInstancesAndInputs) {
  EXPECT_INVALID(Json(R"({"dataframe_records": {"a": [1]}})"),
                 "Dataframe records format must be a list of records. Got dictionary.");
  EXPECT_INVALID(Json(R"({"dataframe_records": 3})"),
                 "Dataframe records format must be a list of records. Got type 'number'.");
  EXPECT_INVALID(Json(R"({"dataframe_records": [{"a": 1}, [1]]})"),
                 "dataframe_records row 1 is an array, expected a record (a JSON object)");
  EXPECT_INVALID(Json(R"({"instances": [[1, 2.5]]})"),
                 "instances rows given by position need a model signature that names the "
                 "columns: send records or columns by name");
  EXPECT_INVALID(Json(R"({"instances": [1, 2]})"),
                 "instances row 0 is a number: a list of single values needs a model signature "
                 "of one column; send rows as lists or records");
  EXPECT_INVALID(Json(R"({"inputs": [1, 2]})", &kAbSchema),
                 "inputs row 0 is a number: a list of single values needs a model signature of "
                 "one column, this one has 2; send rows as lists or records");
  EXPECT_INVALID(Json(R"({"instances": [[1, 2.5], {"a": 1}]})", &kAbSchema),
                 "instances row 1 is an object, expected a list of values");
  EXPECT_INVALID(Json(R"({"inputs": {"a": [1, 2], "b": 3}})"),
                 "inputs mixes lists and single values: 'a' is an array, 'b' is a number");
  EXPECT_INVALID(Json(R"({"inputs": "a,b"})"),
                 "inputs must be a list of records or rows, or a dictionary of columns; got a "
                 "string");
  EXPECT_INVALID(Json(R"({"inputs": {"a": [1]}, "params": [1]})"),
                 "Parameters must be a dictionary. Got type 'array'.");
}

TEST(DecodeJsonErrors, TooManyColumns) {
  std::string body = R"({"inputs": {)";
  for (int i = 0; i <= 10000; ++i) body += (i ? ", \"c" : "\"c") + std::to_string(i) + "\": 1";
  EXPECT_INVALID(Json(body + "}}"), "The request has more than 10000 columns");
}

// --- CSV ---

TEST(DecodeCsv, TypesColumnsByTheirValues) {
  ScoringRequest request = DecodeCsvRequest(
      "a,b,c,d,e\n1,2.5,x,True,9223372036854775808\n-3, 4 ,y,false,+2\n");
  EXPECT_EQ(request.format, "csv");
  EXPECT_EQ(request.table, MakeTable({{"a", Longs{1, -3}}, {"b", Doubles{2.5, 4.0}},
                                      {"c", Strings{"x", "y"}}, {"d", Bools{true, false}},
                                      {"e", Doubles{9223372036854775808.0, 2.0}}}));
  EXPECT_EQ(request.params, nlohmann::json::object());
}

TEST(DecodeCsv, QuotingLineEndsAndBlankLines) {
  Table table = Csv("\xEF\xBB\xBF\"na,me\",\"q\"\r\n\"a, \"\"b\"\"\",\"two\nlines\"\r\n\r\n"
                    "c,\"\"\r\nd,e");
  EXPECT_EQ(table, MakeTable({{"na,me", Strings{"a, \"b\"", "c", "d"}},
                              {"q", Strings{"two\nlines", "", "e"}}}));
  // The last field may be empty, and the last line may lack its line end.
  Table trailing = Csv("a,b\n1,\n2,");
  EXPECT_EQ(std::get<Longs>(trailing.columns()[0].values), (Longs{1, 2}));
  EXPECT_TRUE(std::isnan(DoublesOf(trailing, "b")[0]) && std::isnan(DoublesOf(trailing, "b")[1]));
  EXPECT_EQ(Csv(",a\n0,1\n"), MakeTable({{"Unnamed: 0", Longs{0}}, {"a", Longs{1}}}));
}

TEST(DecodeCsv, NaNSpellingsInNumberColumns) {
  Table table = Csv("a,b\n1,NaN\n,nan\n3,2.5\n");
  const Doubles& a = DoublesOf(table, "a");
  const Doubles& b = DoublesOf(table, "b");
  EXPECT_EQ(a[0], 1.0);
  EXPECT_TRUE(std::isnan(a[1]));
  EXPECT_TRUE(std::isnan(b[0]) && std::isnan(b[1]));
  EXPECT_EQ(b[2], 2.5);
  EXPECT_EQ(Csv("a\nNA\n"), MakeTable({{"a", Strings{"NA"}}}));
}

TEST(DecodeCsv, SchemaTypesColumns) {
  Schema schema{{.name = "zip", .type = DataType::kString},
                {.name = "x", .type = DataType::kDouble},
                {.name = "ok", .type = DataType::kBoolean},
                {.name = "n", .type = DataType::kLong}};
  EXPECT_EQ(Csv("zip,x,ok,n,other\n01234,1,TRUE,5,7\n", &schema),
            MakeTable({{"zip", Strings{"01234"}}, {"x", Doubles{1.0}}, {"ok", Bools{true}},
                       {"n", Longs{5}}, {"other", Longs{7}}}));
  EXPECT_EQ(Csv("zip\n01234\n"), MakeTable({{"zip", Longs{1234}}}));
  EXPECT_EQ(Csv("zip,x,ok,n\n", &schema),
            MakeTable({{"zip", Strings{}}, {"x", Doubles{}}, {"ok", Bools{}}, {"n", Longs{}}}));
  EXPECT_EQ(Csv("a,b\n"), MakeTable({{"a", Doubles{}}, {"b", Doubles{}}}));
}

TEST(DecodeCsvErrors, EmptyBodies) {
  EXPECT_INVALID(Csv(""),
                 "Failed to parse input as CSV: the body is empty: expected a header line");
  EXPECT_INVALID(Csv("\r\n\n"),
                 "Failed to parse input as CSV: the body is empty: expected a header line");
}

TEST(DecodeCsvErrors, MissingOrExtraFields) {
  EXPECT_INVALID(Csv("a,b,c\n1,2,3\n1,2\n"),
                 "Failed to parse input as CSV: line 3 has 2 fields, expected 3");
  EXPECT_INVALID(Csv("a,b\r\n\"x\ny\",2\r\n1,2,3\r\n"),
                 "Failed to parse input as CSV: line 4 has 3 fields, expected 2");
}

TEST(DecodeCsvErrors, BadQuotes) {
  EXPECT_INVALID(Csv("a,b\n1,\"2\n3,4\n"),
                 "Failed to parse input as CSV: line 2: field 2 opens a quote that is never "
                 "closed");
  EXPECT_INVALID(Csv("a,b\n1,\"2\"x\n"),
                 "Failed to parse input as CSV: line 2: field 2 has text after its closing quote");
}

TEST(DecodeCsvErrors, HeaderAndEncoding) {
  EXPECT_INVALID(Csv("a,b,a\n1,2,3\n"),
                 "Failed to parse input as CSV: line 1: the header names column 'a' twice");
  EXPECT_INVALID(Csv("a\nx\n\xc3\x28\n"),
                 "Failed to parse input as CSV: line 3: byte 0xc3 at offset 4 is not UTF-8 text");
}

TEST(DecodeCsvErrors, ValuesTheSchemaCannotTake) {
  Schema schema{{.name = "x", .type = DataType::kDouble},
                {.name = "ok", .type = DataType::kBoolean}};
  EXPECT_INVALID(Csv("x,ok\n1,true\nabc,false\n", &schema),
                 "Failed to parse input as CSV: line 3: column 'x' has value 'abc', expected "
                 "double");
  EXPECT_INVALID(Csv("x,ok\n1,yes\n", &schema),
                 "Failed to parse input as CSV: line 2: column 'ok' has value 'yes', expected "
                 "boolean");
}

TEST(DecodeRequest, DispatchesByFormat) {
  EXPECT_EQ(DecodeRequest(BodyFormat::kCsv, "a\n1\n").table, MakeTable({{"a", Longs{1}}}));
  EXPECT_EQ(DecodeRequest(BodyFormat::kJson, R"({"inputs": {"a": [1]}})").table,
            MakeTable({{"a", Longs{1}}}));
  EXPECT_EQ(HttpStatusFor(ErrorCode::kBadRequest), 400);
}

// --- TableToCsv ---

TEST(TableToCsv, WritesAHeaderAndQuotesWhatNeedsIt) {
  Table table = MakeTable({{"n", Longs{1, -2}},
                           {"x", Doubles{0.1, 3.0}},
                           {"s", Strings{"a,b", "say \"hi\"\nbye"}},
                           {"ok", Bools{true, false}},
                           {"e", Strings{"", "plain"}}});
  std::string csv = TableToCsv(table);
  EXPECT_EQ(csv,
            "n,x,s,ok,e\n1,0.1,\"a,b\",True,\"\"\n-2,3.0,\"say \"\"hi\"\"\nbye\",False,plain\n");
  EXPECT_EQ(Csv(csv), table);
}

TEST(TableToCsv, WritesNaNAsEmptyAndSpecialDoubles) {
  Table table = MakeTable({{"x", Doubles{NAN, 1e20, -INFINITY, 1.5e-7}}, {"y", Longs{1, 2, 3, 4}}});
  EXPECT_EQ(TableToCsv(table), "x,y\n,1\n1e+20,2\n-inf,3\n1.5e-07,4\n");
  // One column: an empty field is "" so that its line is not read back as blank.
  EXPECT_EQ(TableToCsv(MakeTable({{"x", Doubles{NAN, 2}}})), "x\n\"\"\n2.0\n");
  Table back = Csv(TableToCsv(MakeTable({{"x", Doubles{NAN, 2}}})));
  ASSERT_EQ(back.num_rows(), 2u);
  EXPECT_TRUE(std::isnan(DoublesOf(back, "x")[0]));
}

}  // namespace
}  // namespace mltrack::serving
