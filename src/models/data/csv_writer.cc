// The CSV writer: the dialect ReadCsv reads back to the same table (given the same inferred
// types): doubles always look like doubles ("1.0", not "1"), NaN is the empty field, and a string
// is quoted whenever the reader would otherwise change it.
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "models/data/csv.h"
#include "mltrack/error.h"

namespace mltrack::data {
namespace {

constexpr size_t kFlushBytes = size_t{1} << 20;

// Whether the reader would not give `value` back unquoted: a delimiter, quote or line break
// inside, blanks at either end (the reader trims them), or a missing-value token other than the
// empty string (quoted, the reader takes it literally; the empty string reads back as "" either
// way).
bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return false;
  if (value.find_first_of(",\"\n\r") != std::string_view::npos) return true;
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  if (blank(value.front()) || blank(value.back())) return true;
  return value == "?" || value == "NA";
}

void AppendString(std::string& out, std::string_view value) {
  if (!NeedsQuotes(value)) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendDouble(std::string& out, double value) {
  if (std::isnan(value)) return;  // the empty field: missing
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string_view text(buffer, static_cast<size_t>(end - buffer));
  out.append(text);
  // "1" would read back as a long: keep the column a double column.
  if (text.find_first_not_of("-0123456789") == std::string_view::npos) out.append(".0");
}

void AppendLong(std::string& out, int64_t value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

void AppendValue(std::string& out, const models::ColumnValues& values, size_t row) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<double>>) {
          AppendDouble(out, v[row]);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          AppendLong(out, v[row]);
        } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
          out.append(v[row] ? "true" : "false");
        } else {
          AppendString(out, v[row]);
        }
      },
      values);
}

}  // namespace

struct CsvWriter::Impl {
  explicit Impl(const std::filesystem::path& path)
      : path(path), file(path, fmt::format("Cannot write '{}'", path.string())) {}

  void Flush() {
    file.Write(buffer.data(), buffer.size());
    buffer.clear();
  }

  std::filesystem::path path;
  AtomicFileWriter file;
  std::string buffer;
  // The header's columns, set by the first Append.
  std::optional<std::vector<std::pair<std::string, models::DataType>>> columns;
  bool committed = false;
};

CsvWriter::CsvWriter(const std::filesystem::path& path) : impl_(std::make_unique<Impl>(path)) {}

// The AtomicFileWriter removes its temporary file unless committed.
CsvWriter::~CsvWriter() = default;

void CsvWriter::Append(const models::Table& table) {
  if (impl_->committed) {
    throw Error(ErrorCode::kInvalidState,
                fmt::format("{}: the CSV file is already committed", impl_->path.string()));
  }
  std::vector<std::pair<std::string, models::DataType>> columns;
  for (const auto& column : table.columns()) {
    columns.emplace_back(column.name, models::ValueType(column.values));
  }
  std::string& out = impl_->buffer;
  if (!impl_->columns) {
    for (size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) out.push_back(',');
      AppendString(out, columns[c].first);
    }
    out.push_back('\n');
    impl_->columns = std::move(columns);
  } else if (columns != *impl_->columns) {
    auto describe = [](const auto& cols) {
      std::vector<std::string> parts;
      for (const auto& [name, type] : cols) {
        parts.push_back(fmt::format("{} {}", name, models::DataTypeName(type)));
      }
      return fmt::format("{}", fmt::join(parts, ", "));
    };
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("{}: the table to append has columns ({}), expected ({})",
                            impl_->path.string(), describe(columns), describe(*impl_->columns)));
  }
  const auto& cols = table.columns();
  for (size_t row = 0; row < table.num_rows(); ++row) {
    size_t row_begin = out.size();
    for (size_t c = 0; c < cols.size(); ++c) {
      if (c > 0) out.push_back(',');
      AppendValue(out, cols[c].values, row);
    }
    // An empty line would be skipped as blank: a one-column row with a missing value is "".
    if (out.size() == row_begin) out.append("\"\"");
    out.push_back('\n');
    if (out.size() >= kFlushBytes) impl_->Flush();
  }
  rows_ += table.num_rows();
}

void CsvWriter::Commit() {
  if (impl_->committed) return;
  impl_->Flush();
  impl_->file.Commit();
  impl_->committed = true;
}

void WriteCsv(const std::filesystem::path& path, const models::Table& table) {
  CsvWriter writer(path);
  writer.Append(table);
  writer.Commit();
}

}  // namespace mltrack::data
