// The CSV half of the request codec (request_codec.h): DecodeCsvRequest and TableToCsv.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mltrack/error.h"
#include "serving/codec_util.h"
#include "serving/request_codec.h"

namespace mltrack::serving {
namespace {

using codec::EmptyColumn;
using codec::Invalid;
using codec::kMaxColumns;
using codec::Shown;
using codec::Utf8SequenceAt;
using models::ColumnValues;
using models::DataType;
using models::Schema;
using models::Table;

constexpr size_t kNpos = std::string::npos;

template <typename... Args>
[[noreturn]] void InvalidCsv(fmt::format_string<Args...> format, Args&&... args) {
  Invalid("Failed to parse input as CSV: {}", fmt::format(format, std::forward<Args>(args)...));
}

// Reads the records of a CSV text (RFC 4180: fields in double quotes may hold commas, line
// breaks and doubled quotes; lines end in LF, CRLF or CR). Fields view the text, or a copy kept
// here for a quoted field with doubled quotes, so they live as long as the reader and the text.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}

  // The next record's fields; false at the end. Blank lines are skipped, as pandas does.
  bool Next(std::vector<std::string_view>& fields) {
    fields.clear();
    while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r')) EndOfLine();
    if (pos_ == text_.size()) return false;
    record_line_ = line_;
    while (true) {
      if (text_[pos_] == '"') {
        fields.push_back(QuotedField(fields.size() + 1));
      } else {
        size_t end = std::min(text_.find_first_of(",\r\n", pos_), text_.size());
        fields.push_back(text_.substr(pos_, end - pos_));
        pos_ = end;
      }
      if (pos_ == text_.size()) return true;
      if (text_[pos_] != ',') {
        EndOfLine();
        return true;
      }
      if (++pos_ == text_.size()) {  // an empty last field after a final comma
        fields.emplace_back();
        return true;
      }
    }
  }
  // The line the last record starts on (1 is the first line).
  size_t line() const { return record_line_; }

 private:
  void EndOfLine() {
    if (text_[pos_++] == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    ++line_;
  }
  std::string_view QuotedField(size_t field) {
    size_t begin = ++pos_;
    std::string* unescaped = nullptr;  // set at the first doubled quote
    while (true) {
      size_t quote = text_.find('"', pos_);
      if (quote == kNpos) {
        InvalidCsv("line {}: field {} opens a quote that is never closed", record_line_, field);
      }
      for (size_t i = pos_; i < quote; ++i) {  // a CRLF is one line end
        line_ += text_[i] == '\n' || (text_[i] == '\r' && text_[i + 1] != '\n');
      }
      bool doubled = quote + 1 < text_.size() && text_[quote + 1] == '"';
      if (doubled && unescaped == nullptr) unescaped = &unescaped_.emplace_back();
      if (unescaped != nullptr) unescaped->append(text_.substr(pos_, quote - pos_));
      pos_ = quote + 1;
      if (!doubled) {
        if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\r' &&
            text_[pos_] != '\n') {
          InvalidCsv("line {}: field {} has text after its closing quote", record_line_, field);
        }
        return unescaped != nullptr ? std::string_view(*unescaped)
                                    : text_.substr(begin, quote - begin);
      }
      unescaped->push_back('"');
      ++pos_;
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
  size_t record_line_ = 1;
  std::deque<std::string> unescaped_;  // a deque: growing it moves no string
};

// Numbers may have spaces around them and a leading '+'.
std::string_view NumberText(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.size() > 1 && s.front() == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  return s;
}

bool ParseLong(std::string_view text, int64_t& value) {
  text = NumberText(text);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// "", "NaN" and "nan" are NaN; "inf" and "infinity" (any case) are infinite.
bool ParseDouble(std::string_view text, double& value) {
  text = NumberText(text);
  if (text.empty() || text == "NaN" || text == "nan") {
    value = std::nan("");
    return true;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) value = std::strtod(std::string(text).c_str(), nullptr);
  return end == text.data() + text.size() && ec != std::errc::invalid_argument;
}

// pandas' default spellings of booleans.
bool ParseBool(std::string_view text, bool& value) {
  value = text == "True" || text == "TRUE" || text == "true";
  return value || text == "False" || text == "FALSE" || text == "false";
}

// Parses every field with `parse` into `out`. A field that does not parse returns false, or
// when the schema `expects` a type, refuses the request naming the value.
template <typename T, typename Parse>
bool ParseAll(const std::vector<std::string_view>& fields, std::vector<T>& out, Parse parse,
              const std::string& name, const std::vector<size_t>& lines,
              std::optional<DataType> expects) {
  for (size_t row = 0; row < fields.size(); ++row) {
    T value;
    if (!parse(fields[row], value)) {
      if (!expects) return false;
      InvalidCsv("line {}: column '{}' has value '{}', expected {}", lines[row], Shown(name),
                 Shown(fields[row]), models::DataTypeName(*expects));
    }
    out.push_back(value);
  }
  return true;
}

// A column's typed values: as the schema types it, else long if every field is an integer,
// double if every one is a number or NaN, boolean if every one is True or False, else string.
ColumnValues CsvColumn(const std::string& name, const std::vector<std::string_view>& fields,
                       std::optional<DataType> type, const std::vector<size_t>& lines) {
  if (fields.empty()) return EmptyColumn(type);
  if (type == DataType::kString || type == DataType::kBinary || type == DataType::kDatetime) {
    return std::vector<std::string>(fields.begin(), fields.end());
  }
  bool integral = type == DataType::kLong || type == DataType::kInteger;
  std::vector<bool> bools;
  if (type == DataType::kBoolean) {
    ParseAll(fields, bools, ParseBool, name, lines, type);
    return bools;
  }
  std::vector<int64_t> longs;
  if ((!type || integral) && ParseAll(fields, longs, ParseLong, name, lines, std::nullopt)) {
    return longs;
  }
  // A long column with a missing value is double, as in pandas.
  std::vector<double> doubles;
  if (ParseAll(fields, doubles, ParseDouble, name, lines, type)) {
    return doubles;
  }
  if (ParseAll(fields, bools, ParseBool, name, lines, std::nullopt)) return bools;
  return std::vector<std::string>(fields.begin(), fields.end());
}

void AppendCsvField(std::string& out, std::string_view text, bool quote) {
  if (!quote && text.find_first_of(",\"\r\n") == kNpos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) out += c == '"' ? "\"\"" : std::string_view(&c, 1);
  out += '"';
}

}  // namespace

ScoringRequest DecodeCsvRequest(std::string_view body, const Schema* schema) {
  for (size_t i = 0, n = 0; i < body.size(); i += n) {
    if ((n = Utf8SequenceAt(body, i)) == 0) {
      InvalidCsv("line {}: byte 0x{:02x} at offset {} is not UTF-8 text",
                 1 + std::count(body.begin(), body.begin() + i, '\n'),
                 static_cast<unsigned char>(body[i]), i);
    }
  }
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);  // a byte order mark
  CsvReader reader(body);
  std::vector<std::string_view> fields;
  if (!reader.Next(fields)) InvalidCsv("the body is empty: expected a header line");
  if (fields.size() > kMaxColumns) Invalid("The request has more than {} columns", kMaxColumns);
  std::vector<std::string> names;
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < fields.size(); ++i) {
    names.push_back(fields[i].empty() ? fmt::format("Unnamed: {}", i) : std::string(fields[i]));
  }
  for (const auto& name : names) {
    if (!seen.insert(name).second) {
      InvalidCsv("line {}: the header names column '{}' twice", reader.line(), Shown(name));
    }
  }
  std::vector<std::vector<std::string_view>> columns(names.size());
  std::vector<size_t> lines;
  while (reader.Next(fields)) {
    if (fields.size() != names.size()) {
      InvalidCsv("line {} has {} fields, expected {}", reader.line(), fields.size(), names.size());
    }
    for (size_t c = 0; c < names.size(); ++c) columns[c].push_back(fields[c]);
    lines.push_back(reader.line());
  }
  ScoringRequest request;
  request.format = "csv";
  codec::SchemaTypes types(schema);
  for (size_t c = 0; c < names.size(); ++c) {
    ColumnValues values = CsvColumn(names[c], columns[c], types.Of(c, names[c]), lines);
    request.table.AddColumn(std::move(names[c]), std::move(values));
  }
  return request;
}

std::string TableToCsv(const Table& table) {
  const auto& columns = table.columns();
  // A line of one empty field would read back as a blank line, so it is written as "".
  bool single = columns.size() == 1;
  std::string out;
  for (size_t c = 0; c < columns.size(); ++c) {
    if (c > 0) out += ',';
    AppendCsvField(out, columns[c].name, columns[c].name.empty());
  }
  out += '\n';
  for (size_t row = 0; row < table.num_rows(); ++row) {
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) out += ',';
      const ColumnValues& values = columns[c].values;
      if (const auto* doubles = std::get_if<std::vector<double>>(&values)) {
        double v = (*doubles)[row];
        char text[64];
        char* end = std::isnan(v) ? text : std::to_chars(text, text + sizeof text, v).ptr;
        std::string_view shortest(text, end - text);
        out += std::isnan(v) && single ? "\"\"" : shortest;
        // Python's repr keeps ".0" on an integral float, and so the column reads back double.
        if (!std::isnan(v) && shortest.find_first_of(".eni") == kNpos) out += ".0";
      } else if (const auto* longs = std::get_if<std::vector<int64_t>>(&values)) {
        fmt::format_to(std::back_inserter(out), "{}", (*longs)[row]);
      } else if (const auto* strings = std::get_if<std::vector<std::string>>(&values)) {
        AppendCsvField(out, (*strings)[row], (*strings)[row].empty());
      } else {
        out += std::get<std::vector<bool>>(values)[row] ? "True" : "False";
      }
    }
    out += '\n';
  }
  return out;
}

}  // namespace mltrack::serving
