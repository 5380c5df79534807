#include "serving/request_codec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mltrack/error.h"
#include "serving/codec_util.h"

namespace mltrack::serving {

namespace codec {

using models::ColumnValues;
using models::DataType;
using models::Schema;

// Length of the valid UTF-8 sequence at text[i], or 0 when the bytes there are not one
// (overlong forms, surrogates and code points above U+10FFFF are not).
size_t Utf8SequenceAt(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > text.size()) return 0;
  unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;  // the second byte's range
  unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// User text as it may appear in a message: valid UTF-8 (other bytes as \xNN) and at most about
// 100 bytes, so that an error body can always be written and stays short.
std::string Shown(std::string_view text) {
  std::string out;
  for (size_t i = 0, n = 0; i < text.size(); i += n) {
    if (i >= 100) return out + "...";
    n = Utf8SequenceAt(text, i);
    out += n > 0 ? std::string(text.substr(i, n))
                 : fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i]));
    n = std::max<size_t>(n, 1);
  }
  return out;
}

// The values of a column that has none to tell its type: the schema's type, else double.
ColumnValues EmptyColumn(std::optional<DataType> type) {
  switch (type.value_or(DataType::kDouble)) {
    case DataType::kBoolean: return std::vector<bool>();
    case DataType::kInteger:
    case DataType::kLong: return std::vector<int64_t>();
    case DataType::kFloat:
    case DataType::kDouble: return std::vector<double>();
    default: return std::vector<std::string>();
  }
}

bool IsNamed(const Schema* schema) {
  return schema != nullptr && !schema->empty() && schema->front().name.has_value();
}

std::optional<DataType> SchemaTypes::Of(size_t index, const std::string& name) {
  if (schema_ == nullptr || schema_->empty()) return std::nullopt;
  if (!IsNamed(schema_)) {
    return index < schema_->size() ? std::optional((*schema_)[index].type) : std::nullopt;
  }
  if (types_.empty()) {
    for (const auto& spec : *schema_) types_.emplace(*spec.name, spec.type);
  }
  auto it = types_.find(name);
  return it == types_.end() ? std::nullopt : std::optional(it->second);
}

}  // namespace codec

namespace {

using codec::EmptyColumn;
using codec::Invalid;
using codec::IsNamed;
using codec::kMaxColumns;
using codec::Shown;
using codec::Utf8SequenceAt;

using models::ColumnValues;
using models::DataType;
using models::Schema;
using models::Table;
// Objects keep their keys in document order, so records and "inputs" columns keep the order the
// client wrote them in, as pandas does.
using ojson = nlohmann::ordered_json;

constexpr size_t kNpos = std::string::npos;
// Our formats nest 4 deep; "params" may nest more. The cap keeps recursive copies and dumps of
// the params (done by callers) far from the stack's limit.
constexpr size_t kMaxDepth = 100;
// Objects up to this many keys are checked for a duplicate key by a scan, larger ones by a set.
constexpr size_t kSmallObject = 16;

constexpr std::string_view kRequiredInputFormat =
    "The input must be a JSON dictionary with exactly one of the input fields "
    "{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}";
constexpr std::string_view kProtocolChangeInfo =
    "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are "
    "seeing this error, you are likely using an outdated scoring request format. To resolve the "
    "error, either update your request format or adjust your MLflow Model's requirements file to "
    "specify an older version of MLflow (for example, change the 'mlflow' requirement specifier "
    "to 'mlflow==1.30.0'). If you are making a request using the MLflow client (e.g. via "
    "`mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a version >= 2.0 in order to use "
    "the new request format. For more information about the updated MLflow Model scoring "
    "protocol in MLflow 2.0, see https://mlflow.org/docs/latest/models.html#deploy-mlflow-models.";


// A key in single quotes, as MLflow's messages print Python lists and sets of keys.
std::string Quoted(std::string_view key) {
  std::string out = "'";
  for (char c : Shown(key)) out += c == '\'' || c == '\\' ? std::string{'\\', c} : std::string{c};
  return out + "'";
}

// "a number", "an array", ... for a message.
std::string AType(const ojson& value) {
  bool vowel = value.is_array() || value.is_object();
  return fmt::format("{} {}", vowel ? "an" : "a", value.type_name());
}

// ---------------------------------------------------------------------------------------------
// JSON text to a document

// Builds the document from the parser's events, refusing a duplicate key in an object and
// nesting deeper than kMaxDepth. Invariant: stack_ holds the open arrays and objects, innermost
// last; a container does not grow while a child of it is open, so the pointers stay valid.
class DocumentBuilder {
 public:
  ojson& root() { return root_; }
  const std::string& error() const { return error_; }

  bool null() { return Put(nullptr); }
  bool boolean(bool value) { return Put(value); }
  bool number_integer(int64_t value) { return Put(value); }
  bool number_unsigned(uint64_t value) { return Put(value); }
  bool number_float(double value, const std::string&) { return Put(value); }
  bool string(std::string& value) { return Put(std::move(value)); }
  bool binary(ojson::binary_t&) { return false; }  // never produced by JSON text
  bool start_object(size_t) { return Open(ojson::object()); }
  bool start_array(size_t) { return Open(ojson::array()); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }

  bool key(std::string& key) {
    Frame& frame = stack_.back();
    auto& entries = static_cast<ojson::object_t::Container&>(
        frame.value->get_ref<ojson::object_t&>());
    bool duplicate = false;
    if (frame.keys != nullptr) {
      duplicate = !frame.keys->insert(key).second;
    } else {
      for (const auto& entry : entries) duplicate = duplicate || entry.first == key;
      if (!duplicate && entries.size() == kSmallObject) {
        frame.keys = std::make_unique<std::unordered_set<std::string>>();
        for (const auto& entry : entries) frame.keys->insert(entry.first);
        frame.keys->insert(key);
      }
    }
    if (duplicate) Invalid("Duplicate key '{}' in a JSON object", Shown(key));
    // Appended directly: ordered_map's own insert searches the keys linearly.
    slot_ = &entries.emplace_back(std::move(key), nullptr).second;
    return true;
  }

  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& ex) {
    // what(): "[json.exception.parse_error.101] parse error at line 1, column 2: <reason>", or
    // "[json.exception.out_of_range.406] <reason>".
    std::string_view what = ex.what();
    for (auto [prefix, end] : {std::pair{"[json.exception.", "] "}, {"parse error", ": "}}) {
      if (what.starts_with(prefix) && what.find(end) != kNpos) {
        what.remove_prefix(what.find(end) + 2);
      }
    }
    error_ = fmt::format("Ensure that input is a valid JSON formatted string. Error: '{}' at "
                         "byte {}",
                         Shown(what), position);
    return false;
  }

 private:
  struct Frame {
    ojson* value;
    std::unique_ptr<std::unordered_set<std::string>> keys;  // for objects past kSmallObject
  };

  ojson* Place(ojson&& value) {
    if (stack_.empty()) return &(root_ = std::move(value));
    if (!stack_.back().value->is_array()) return &(*slot_ = std::move(value));
    auto& array = stack_.back().value->get_ref<ojson::array_t&>();
    return &array.emplace_back(std::move(value));
  }
  bool Put(ojson&& value) {
    Place(std::move(value));
    return true;
  }
  bool Open(ojson&& container) {
    if (stack_.size() == kMaxDepth) {
      Invalid("Ensure that input is a valid JSON formatted string. Error: 'arrays and objects "
              "nest deeper than {} levels'",
              kMaxDepth);
    }
    stack_.push_back({Place(std::move(container)), nullptr});
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }

  ojson root_;
  std::vector<Frame> stack_;
  ojson* slot_ = nullptr;  // where the value after the last key goes
  std::string error_;
};

// ---------------------------------------------------------------------------------------------
// Columns of values


// One column's values as they arrive, row by row. JSON integers make a long column, other
// numbers a double one (longs already there become doubles); a missing value (null, or a key a
// record lacks) is NaN and makes the column double; strings and booleans take no missing value.
class ColumnBuilder {
 public:
  explicit ColumnBuilder(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  // Moves a string value out of `value`.
  void Add(ojson& value) {
    constexpr uint64_t kLongMax = std::numeric_limits<int64_t>::max();
    if (value.is_null()) return AddMissing();
    if (value.is_boolean()) {
      Accept(Kind::kBool);
      bools_.push_back(value.get<bool>());
    } else if (value.is_number_integer() &&
               (!value.is_number_unsigned() || value.get<uint64_t>() <= kLongMax)) {
      int64_t v = value.get<int64_t>();
      Accept(Kind::kLong) == Kind::kLong ? longs_.push_back(v)
                                         : doubles_.push_back(static_cast<double>(v));
    } else if (value.is_number()) {  // a float, or an integer beyond int64
      Accept(Kind::kDouble);
      doubles_.push_back(value.get<double>());
    } else if (value.is_string()) {
      Accept(Kind::kString);
      strings_.push_back(std::move(value.get_ref<std::string&>()));
    } else {
      Invalid("Column '{}' has {} at row {}: values must be numbers, strings, booleans or null",
              Shown(name_), AType(value), rows_);
    }
    ++rows_;
  }
  void AddMissing() {
    if (kind_ == Kind::kString || kind_ == Kind::kBool) RefuseMissing(rows_);
    if (kind_ == Kind::kLong) ToDouble();
    if (kind_ == Kind::kDouble) doubles_.push_back(std::nan(""));
    ++rows_;
  }
  void PadTo(size_t rows) {
    while (rows_ < rows) AddMissing();
  }
  ColumnValues Finish(std::optional<DataType> schema_type) && {
    switch (kind_) {
      case Kind::kNone:
        return rows_ == 0 ? EmptyColumn(schema_type) : std::vector<double>(rows_, std::nan(""));
      case Kind::kLong: return std::move(longs_);
      case Kind::kDouble: return std::move(doubles_);
      case Kind::kString: return std::move(strings_);
      case Kind::kBool: return std::move(bools_);
    }
    return {};
  }

 private:
  enum class Kind { kNone, kLong, kDouble, kString, kBool };

  static std::string_view KindName(Kind kind) {
    return kind == Kind::kString ? "string" : kind == Kind::kBool ? "boolean" : "number";
  }
  [[noreturn]] void RefuseMissing(size_t row) const {
    Invalid("Column '{}' has no value at row {} (null or missing): only number columns take "
            "missing values",
            Shown(name_), row);
  }
  void ToDouble() {
    doubles_.assign(longs_.begin(), longs_.end());
    longs_ = {};
    kind_ = Kind::kDouble;
  }
  // Makes the column take a value of `kind`; returns the kind it is stored as.
  Kind Accept(Kind kind) {
    if (kind_ == Kind::kNone && rows_ > 0) {  // the rows so far were all missing
      if (kind == Kind::kString || kind == Kind::kBool) RefuseMissing(0);
      doubles_.assign(rows_, std::nan(""));
      kind_ = Kind::kDouble;
    }
    if (kind_ == Kind::kNone) kind_ = kind;
    if (kind_ == Kind::kLong && kind == Kind::kDouble) ToDouble();
    if (kind_ != kind && !(kind_ == Kind::kDouble && kind == Kind::kLong)) {
      Invalid("Column '{}' mixes {} and {} values (row {})", Shown(name_), KindName(kind_),
              KindName(kind), rows_);
    }
    return kind_;
  }

  std::string name_;
  Kind kind_ = Kind::kNone;
  size_t rows_ = 0;
  std::vector<int64_t> longs_;
  std::vector<double> doubles_;
  std::vector<std::string> strings_;
  std::vector<bool> bools_;
};

struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// The columns of a request, in the order their names first appear.
class Columns {
 public:
  explicit Columns(const Schema* schema) : types_(schema) {}
  size_t size() const { return builders_.size(); }
  ColumnBuilder& operator[](size_t i) { return builders_[i]; }

  // The column named `name`, created when new; `hint` is where it probably is.
  ColumnBuilder& Get(const std::string& name, size_t hint) {
    if (hint < builders_.size() && builders_[hint].name() == name) return builders_[hint];
    for (size_t i = index_.size(); i < builders_.size(); ++i) {
      index_.emplace(builders_[i].name(), i);
    }
    auto it = index_.find(std::string_view(name));
    return it != index_.end() ? builders_[it->second] : Add(name);
  }
  // A new column; the caller makes sure the name is new.
  ColumnBuilder& Add(std::string name) {
    if (builders_.size() == kMaxColumns) {
      Invalid("The request has more than {} columns", kMaxColumns);
    }
    return builders_.emplace_back(std::move(name));
  }
  Table Finish(size_t rows) && {
    Table table;
    for (size_t i = 0; i < builders_.size(); ++i) {
      builders_[i].PadTo(rows);
      std::string name = builders_[i].name();
      auto type = SchemaTypeOf(i, name);
      table.AddColumn(std::move(name), std::move(builders_[i]).Finish(type));
    }
    return table;
  }
  std::optional<DataType> SchemaTypeOf(size_t index, const std::string& name) {
    return types_.Of(index, name);
  }

 private:
  codec::SchemaTypes types_;
  std::vector<ColumnBuilder> builders_;
  std::unordered_map<std::string, size_t, TransparentHash, std::equal_to<>> index_;
};

// ---------------------------------------------------------------------------------------------
// The four JSON formats

// The names of columns given by position, `width` values a row. A named schema names them (a
// row may leave out trailing optional columns); an unnamed one, or none when `need_schema` is
// false, numbers them "0", "1", ... as pandas does.
std::vector<std::string> PositionalNames(const Schema* schema, size_t width,
                                         std::string_view where, bool need_schema) {
  std::vector<std::string> names;
  if (IsNamed(schema)) {
    size_t min_width = 0;
    for (size_t i = 0; i < schema->size(); ++i) {
      if ((*schema)[i].required) min_width = i + 1;
    }
    if (width < min_width || width > schema->size()) {
      Invalid("{} row 0 has {} values, expected {}{} (the signature's columns)", where, width,
              min_width == schema->size() ? "" : fmt::format("{} to ", min_width),
              schema->size());
    }
    for (size_t i = 0; i < width; ++i) names.push_back(*(*schema)[i].name);
    return names;
  }
  if (schema == nullptr && need_schema) {
    Invalid("{} rows given by position need a model signature that names the columns: send "
            "records or columns by name",
            where);
  }
  for (size_t i = 0; i < width; ++i) names.push_back(fmt::format("{}", i));
  return names;
}

// Rows as lists of values, each naming its columns by position.
Table RowsTable(ojson& rows, std::vector<std::string> names, std::string_view where,
                const Schema* schema) {
  if (names.size() > kMaxColumns) Invalid("The request has more than {} columns", kMaxColumns);
  Columns columns(schema);
  for (auto& name : names) columns.Add(std::move(name));
  size_t width = columns.size();
  auto& list = rows.get_ref<ojson::array_t&>();
  for (size_t r = 0; r < list.size(); ++r) {
    if (list[r].is_array() && list[r].size() != width) {
      Invalid("{} row {} has {} values, expected {} (the columns)", where, r, list[r].size(),
              width);
    } else if (list[r].is_array()) {
      for (size_t c = 0; c < width; ++c) columns[c].Add(list[r][c]);
    } else if (width == 1 && !list[r].is_object()) {
      columns[0].Add(list[r]);  // one column: a row may be its value alone
    } else {
      Invalid("{} row {} is {}, expected a list of values", where, r, AType(list[r]));
    }
  }
  return std::move(columns).Finish(list.size());
}

// Rows as records ({"column": value, ...}); a key a record lacks is a missing value.
Table RecordsTable(ojson& rows, std::string_view where, const Schema* schema) {
  Columns columns(schema);
  auto& list = rows.get_ref<ojson::array_t&>();
  for (size_t r = 0; r < list.size(); ++r) {
    if (!list[r].is_object()) {
      Invalid("{} row {} is {}, expected a record (a JSON object)", where, r, AType(list[r]));
    }
    size_t position = 0;
    for (auto& [name, value] : list[r].get_ref<ojson::object_t&>()) {
      ColumnBuilder& column = columns.Get(name, position++);
      column.PadTo(r);
      column.Add(value);
    }
  }
  return std::move(columns).Finish(list.size());
}

// A list of records, of rows, or (for a one-column signature) of values.
Table ListTable(ojson& list, std::string_view where, const Schema* schema) {
  if (list.empty()) {
    Columns columns(schema);
    if (IsNamed(schema)) {
      for (const auto& spec : *schema) columns.Add(*spec.name);
    }
    return std::move(columns).Finish(0);
  }
  const ojson& first = list.front();
  if (first.is_object()) return RecordsTable(list, where, schema);
  if (first.is_array()) {
    return RowsTable(list, PositionalNames(schema, first.size(), where, true), where, schema);
  }
  if (schema == nullptr || schema->size() != 1) {
    Invalid("{} row 0 is {}: a list of single values needs a model signature of one column{}; "
            "send rows as lists or records",
            where, AType(first),
            schema == nullptr ? "" : fmt::format(", this one has {}", schema->size()));
  }
  return RowsTable(list, PositionalNames(schema, 1, where, true), where, schema);
}

// {"a": [1, 3], "b": [2.5, 4.0]} (columns) or {"a": 1, "b": 2.5} (one row).
Table ColumnsTable(ojson& object, std::string_view where, const Schema* schema) {
  Columns columns(schema);
  auto& entries = object.get_ref<ojson::object_t&>();
  if (entries.empty()) return std::move(columns).Finish(0);
  const auto& [first_name, first] = entries.front();
  bool as_lists = first.is_array();
  size_t rows = as_lists ? first.size() : 1;
  for (auto& [name, value] : entries) {
    if (value.is_array() != as_lists) {
      Invalid("{} mixes lists and single values: '{}' is {}, '{}' is {}", where,
              Shown(first_name), AType(first), Shown(name), AType(value));
    }
    ColumnBuilder& column = columns.Add(name);
    if (!as_lists) {
      column.Add(value);
    } else if (value.size() != rows) {
      Invalid("The length of values for each input/column name are not the same: '{}' has {} "
              "values, '{}' has {}",
              Shown(name), value.size(), Shown(first_name), rows);
    } else {
      for (auto& item : value.get_ref<ojson::array_t&>()) column.Add(item);
    }
  }
  return std::move(columns).Finish(rows);
}

Table SplitTable(ojson& split, const Schema* schema) {
  if (!split.is_object()) {
    Invalid("Dataframe split format must be a dictionary. Got {}.",
            split.is_array() ? "list" : fmt::format("type '{}'", split.type_name()));
  }
  ojson* columns = nullptr;
  ojson* data = nullptr;
  bool unexpected = false;
  std::string keys;
  for (auto& [key, value] : split.get_ref<ojson::object_t&>()) {
    if (key == "columns") columns = &value;
    if (key == "data") data = &value;
    unexpected = unexpected || (key != "columns" && key != "data" && key != "index");
    keys += (keys.empty() ? "" : ", ") + Quoted(key);
  }
  if (data == nullptr || unexpected) {
    Invalid("Dataframe split format must have 'data' field and optionally 'columns' and 'index' "
            "fields. Got {{{}}}.",
            keys);
  }
  if (!data->is_array()) {
    Invalid("dataframe_split data must be a list of rows, got {}", AType(*data));
  }
  std::vector<std::string> names;
  if (columns != nullptr && !columns->is_null()) {
    if (!columns->is_array()) {
      Invalid("dataframe_split columns must be a list of column names, got {}", AType(*columns));
    }
    for (size_t i = 0; i < columns->size(); ++i) {
      ojson& name = (*columns)[i];
      if (!name.is_string() && !name.is_number_integer()) {
        Invalid("dataframe_split column {} is {}, expected a column name", i, AType(name));
      }
      names.push_back(name.is_string() ? std::move(name.get_ref<std::string&>()) : name.dump());
    }
    std::unordered_set<std::string_view> seen;
    for (const auto& name : names) {
      if (!seen.insert(name).second) {
        Invalid("Duplicate column name '{}' in dataframe_split columns", Shown(name));
      }
    }
  } else if (!data->empty()) {
    const ojson& first = data->front();
    names = PositionalNames(schema, first.is_array() ? first.size() : 1, "dataframe_split", false);
  } else if (IsNamed(schema)) {
    names = PositionalNames(schema, schema->size(), "dataframe_split", false);
  }
  return RowsTable(*data, std::move(names), "dataframe_split", schema);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

BodyFormat BodyFormatOf(std::string_view content_type) {
  auto trim = [](std::string_view s) {
    size_t begin = s.find_first_not_of(" \t");
    if (begin == kNpos) return std::string_view();
    return s.substr(begin, s.find_last_not_of(" \t") + 1 - begin);
  };
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    return out;
  };
  std::string_view header = trim(content_type);
  if (header.empty()) return BodyFormat::kJson;
  size_t end = header.find(';');
  std::string mime = lower(trim(header.substr(0, end)));
  std::string unexpected;
  // MLflow checks the charset, then the other parameters, then the type.
  while (end != kNpos) {
    size_t begin = end + 1;
    end = header.find(';', begin);
    std::string_view parameter = trim(header.substr(begin, end == kNpos ? kNpos : end - begin));
    if (parameter.empty()) continue;
    size_t equals = parameter.find('=');
    std::string key = lower(trim(parameter.substr(0, equals)));
    std::string_view value = equals == kNpos ? "" : trim(parameter.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "charset" && lower(value) != "utf-8") {
      throw ContentTypeError("The scoring server only supports UTF-8");
    }
    if (key != "charset") unexpected += (unexpected.empty() ? "" : ", ") + Shown(key);
  }
  if (!unexpected.empty()) {
    throw ContentTypeError(fmt::format("Unrecognized content type parameters: {}. {}", unexpected,
                                       kProtocolChangeInfo));
  }
  if (mime == "application/json") return BodyFormat::kJson;
  if (mime == "text/csv") return BodyFormat::kCsv;
  throw ContentTypeError(fmt::format("This predictor only supports the following content types: "
                                     "Types: ['text/csv', 'application/json']. Got '{}'.",
                                     Shown(header)));
}

ScoringRequest DecodeJsonRequest(std::string_view body, const Schema* schema) {
  DocumentBuilder builder;
  if (!ojson::sax_parse(body.begin(), body.end(), &builder)) Invalid("{}", builder.error());
  ojson& document = builder.root();
  if (document.is_array()) Invalid("{}. Received a list.", kRequiredInputFormat);
  if (!document.is_object()) {
    Invalid("{}. Received unexpected input type '{}'.", kRequiredInputFormat,
            document.type_name());
  }
  ScoringRequest request;
  ojson* input = nullptr;
  size_t formats = 0;
  std::string keys;
  size_t listed = 0;
  for (auto& [key, value] : document.get_ref<ojson::object_t&>()) {
    if (key == "dataframe_split" || key == "dataframe_records" || key == "instances" ||
        key == "inputs") {
      ++formats;
      request.format = key;
      input = &value;
    } else if (key == "params" && !value.is_object() && !value.is_null()) {
      Invalid("Parameters must be a dictionary. Got type '{}'.", value.type_name());
    } else if (key == "params" && value.is_object()) {
      request.params = nlohmann::json(value);
    }
    if (++listed <= 20) keys += (keys.empty() ? "" : ", ") + Quoted(key);
  }
  if (formats != 1) {
    Invalid("{}. Received dictionary with input fields: [{}{}]. {}", kRequiredInputFormat, keys,
            listed > 20 ? ", ..." : "", kProtocolChangeInfo);
  }
  if (request.format == "dataframe_split") {
    request.table = SplitTable(*input, schema);
  } else if (request.format == "dataframe_records") {
    if (!input->is_array()) {
      Invalid("Dataframe records format must be a list of records. Got {}.",
              input->is_object() ? "dictionary" : fmt::format("type '{}'", input->type_name()));
    }
    request.table = RecordsTable(*input, request.format, schema);
  } else if (input->is_array()) {
    request.table = ListTable(*input, request.format, schema);
  } else if (input->is_object()) {
    request.table = ColumnsTable(*input, request.format, schema);
  } else {
    Invalid("{} must be a list of records or rows, or a dictionary of columns; got {}",
            request.format, AType(*input));
  }
  return request;
}

ScoringRequest DecodeRequest(BodyFormat format, std::string_view body, const Schema* schema) {
  return format == BodyFormat::kCsv ? DecodeCsvRequest(body, schema)
                                    : DecodeJsonRequest(body, schema);
}

}  // namespace mltrack::serving
