// The CSV reader: a row tokenizer over an in-memory window of the file, a type inference pass
// over the first rows of the file, and a conversion pass that parses numbers in place
// (std::from_chars on the field's bytes, no std::string per numeric field).
#include "models/data/csv.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "mltrack/error.h"

namespace mltrack::data {
namespace {

using models::DataType;

constexpr size_t kBlockSize = size_t{1} << 20;  // reads beyond the first one grow by this much

[[noreturn]] void Fail(std::string message) {
  throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
}

// --- reading the file -----------------------------------------------------------------------

// A window [base, base + data.size()) of the file in memory, extended at its end on demand.
class FileWindow {
 public:
  FileWindow(int fd, uint64_t file_size, const std::string& path)
      : fd_(fd), file_size_(file_size), path_(path) {}

  // Starts the window at `base` with up to `length` bytes.
  void Reset(uint64_t base, uint64_t length) {
    base_ = base;
    data_.clear();
    ReadMore(length);
  }
  // Appends up to `length` more bytes; false at the end of the file.
  bool ReadMore(uint64_t length) {
    uint64_t end = base_ + data_.size();
    length = std::min(length, file_size_ - end);
    if (length == 0) return false;
    size_t old = data_.size();
    data_.resize(old + length);
    size_t done = 0;
    while (done < length) {
      ssize_t n = ::pread(fd_, data_.data() + old + done, length - done,
                          static_cast<off_t>(end + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        throw Error(ErrorCode::kIoError,
                    fmt::format("{}: cannot read: {}", path_,
                                n < 0 ? std::strerror(errno) : "the file shrank while reading"));
      }
      done += static_cast<size_t>(n);
    }
    return true;
  }
  bool at_eof() const { return base_ + data_.size() >= file_size_; }
  uint64_t base() const { return base_; }
  const char* data() const { return data_.data(); }
  size_t size() const { return data_.size(); }

 private:
  int fd_;
  uint64_t file_size_;
  const std::string& path_;
  uint64_t base_ = 0;
  std::string data_;
};

// --- tokenizing rows ------------------------------------------------------------------------

class RowTokenizer {
 public:
  RowTokenizer(char delimiter, const std::string& path) : delim_(delimiter), path_(path) {
    for (char c : {' ', '\t'}) {
      if (c != delimiter) blank_[static_cast<unsigned char>(c)] = true;
    }
    stop_[static_cast<unsigned char>(delimiter)] = true;
    stop_['\n'] = true;
  }

  enum class Result { kRow, kEnd, kNeedMore };

  // Tokenizes the row at data[pos...], skipping blank lines before it. kRow: fields() holds the
  // row, `pos` is past its line end, `line` counts the lines consumed, row_line()/row_start()
  // say where it began. kNeedMore: the row does not end within `size` and `eof` is false;
  // nothing was consumed. kEnd: no more rows.
  Result Next(const char* data, size_t size, bool eof, size_t& pos, int64_t& line) {
    size_t p = pos;
    int64_t ln = line;
    // Blank lines: only spaces, tabs and a CR.
    while (true) {
      size_t q = p;
      while (q < size && (blank_[static_cast<unsigned char>(data[q])] || data[q] == '\r')) ++q;
      if (q == size) {
        if (!eof) return Result::kNeedMore;
        pos = size;
        line = ln;
        return Result::kEnd;
      }
      if (data[q] != '\n') break;
      p = q + 1;
      ++ln;
    }
    row_start_ = p;
    row_line_ = ln;
    fields_.clear();
    quoted_flags_.clear();
    escaped_.clear();
    scratch_.clear();
    spans_lines_ = false;
    while (true) {
      // One field, starting at p.
      while (p < size && blank_[static_cast<unsigned char>(data[p])]) ++p;
      if (p < size && data[p] == '"') {
        int64_t quote_line = ln;
        size_t begin = ++p;
        bool has_escape = false;
        size_t scratch_begin = scratch_.size();
        while (true) {
          const void* found = p < size ? std::memchr(data + p, '"', size - p) : nullptr;
          if (found == nullptr) {
            if (!eof) return Result::kNeedMore;
            Fail(fmt::format("{}: line {}: unterminated quoted field", path_, quote_line));
          }
          size_t q = static_cast<const char*>(found) - data;
          for (size_t i = p; i < q; ++i) {
            if (data[i] == '\n') {
              ++ln;
              spans_lines_ = true;
            }
          }
          if (q + 1 < size && data[q + 1] == '"') {  // "" inside quotes
            if (!has_escape) {
              has_escape = true;
              scratch_.append(data + begin, q + 1 - begin);
            } else {
              scratch_.append(data + p, q + 1 - p);
            }
            p = q + 2;
            continue;
          }
          if (q + 1 >= size && !eof) return Result::kNeedMore;
          if (has_escape) {
            scratch_.append(data + p, q - p);
            escaped_.push_back({fields_.size(), scratch_begin, scratch_.size() - scratch_begin});
            fields_.emplace_back();
          } else {
            fields_.emplace_back(data + begin, q - begin);
          }
          quoted_flags_.push_back(true);
          p = q + 1;
          while (p < size && blank_[static_cast<unsigned char>(data[p])]) ++p;
          if (p < size && data[p] == '\r' && (p + 1 == size || data[p + 1] == '\n')) ++p;
          // The row's end (or a closing blank) may lie beyond the window: read on before
          // deciding what follows the quote.
          if (p == size && !eof) return Result::kNeedMore;
          if (p < size && data[p] != delim_ && data[p] != '\n') {
            Fail(fmt::format("{}: line {}: unexpected '{}' after the closing quote of field {}",
                             path_, ln, data[p], fields_.size()));
          }
          break;
        }
      } else {
        size_t begin = p;
        while (p < size && !stop_[static_cast<unsigned char>(data[p])]) ++p;
        if (p == size && !eof) return Result::kNeedMore;
        size_t end = p;
        while (end > begin && (data[end - 1] == '\r' || blank_[static_cast<unsigned char>(
                                                            data[end - 1])])) {
          --end;
        }
        fields_.emplace_back(data + begin, end - begin);
        quoted_flags_.push_back(false);
      }
      // p is at a delimiter, a line end or the end of the data.
      if (p < size && data[p] == delim_) {
        ++p;
        continue;
      }
      if (p < size) {  // '\n'
        ++p;
        ++ln;
      }
      break;
    }
    for (const auto& e : escaped_) {
      fields_[e.field] = std::string_view(scratch_).substr(e.offset, e.length);
    }
    pos = p;
    line = ln;
    return Result::kRow;
  }

  const std::vector<std::string_view>& fields() const { return fields_; }
  bool quoted(size_t i) const { return quoted_flags_[i]; }
  size_t row_start() const { return row_start_; }
  int64_t row_line() const { return row_line_; }
  // Whether the last row had a quoted field with a line break inside.
  bool spans_lines() const { return spans_lines_; }

 private:
  struct Escaped {
    size_t field, offset, length;
  };
  char delim_;
  const std::string& path_;
  bool blank_[256] = {};
  bool stop_[256] = {};
  std::vector<std::string_view> fields_;
  std::vector<bool> quoted_flags_;
  std::vector<Escaped> escaped_;
  std::string scratch_;
  size_t row_start_ = 0;
  int64_t row_line_ = 0;
  bool spans_lines_ = false;
};

// --- values ---------------------------------------------------------------------------------

class MissingTokens {
 public:
  explicit MissingTokens(const std::vector<std::string>& tokens) : tokens_(tokens) {
    for (const auto& t : tokens_) {
      if (t.size() < 64) length_mask_ |= uint64_t{1} << t.size();
    }
  }
  // Quoted fields are taken literally, except the empty one.
  bool Contains(std::string_view value, bool quoted) const {
    if (quoted) return value.empty() && Has("");
    if (value.size() >= 64 || !(length_mask_ >> value.size() & 1)) return false;
    return Has(value);
  }

 private:
  bool Has(std::string_view value) const {
    for (const auto& t : tokens_) {
      if (t == value) return true;
    }
    return false;
  }
  std::vector<std::string> tokens_;
  uint64_t length_mask_ = 0;
};

std::string_view SkipPlus(std::string_view v) {
  if (v.size() > 1 && v[0] == '+' && v[1] != '-' && v[1] != '+') v.remove_prefix(1);
  return v;
}

enum class IntParse { kOk, kOverflow, kInvalid };
IntParse ParseLong(std::string_view v, int64_t& out) {
  v = SkipPlus(v);
  auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  if (r.ptr != v.data() + v.size() || v.empty()) return IntParse::kInvalid;
  if (r.ec == std::errc::result_out_of_range) return IntParse::kOverflow;
  return r.ec == std::errc() ? IntParse::kOk : IntParse::kInvalid;
}

bool ParseDouble(std::string_view v, double& out) {
  v = SkipPlus(v);
  if (v.empty()) return false;
  auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  if (r.ptr != v.data() + v.size()) return false;
  if (r.ec == std::errc::result_out_of_range) {
    // Beyond double's range: strtod's answer (+-inf or a denormal / 0).
    out = std::strtod(std::string(v).c_str(), nullptr);
    return true;
  }
  return r.ec == std::errc();
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

// 1: true, 0: false, -1: neither.
int ParseBool(std::string_view v) {
  if (EqualsNoCase(v, "true")) return 1;
  if (EqualsNoCase(v, "false")) return 0;
  return -1;
}

// What the values of a column seen so far allow.
struct TypeEvidence {
  bool longs = false, doubles = false, bools = false, strings = false, missing = false;
  DataType Decide() const {
    if (strings || (bools && (longs || doubles))) return DataType::kString;
    if (bools) return missing ? DataType::kString : DataType::kBoolean;
    if (doubles) return DataType::kDouble;
    if (longs) return missing ? DataType::kDouble : DataType::kLong;
    return DataType::kDouble;  // only missing values (or none)
  }
  void See(std::string_view v) {
    if (strings) return;
    int64_t l;
    switch (ParseLong(v, l)) {
      case IntParse::kOk:
        longs = true;
        return;
      case IntParse::kOverflow:
        doubles = true;
        return;
      case IntParse::kInvalid:
        break;
    }
    double d;
    if (ParseDouble(v, d)) {
      doubles = true;
    } else if (ParseBool(v) >= 0) {
      bools = true;
    } else {
      strings = true;
    }
  }
};

// A column being filled.
struct ColumnSink {
  std::string name;
  DataType type;
  std::vector<int64_t> longs;
  std::vector<double> doubles;
  std::vector<bool> bools;
  std::vector<std::string> strings;
};

struct Shape {
  std::vector<std::string> names;
  std::vector<DataType> types;
};

class Reader {
 public:
  Reader(const std::filesystem::path& path, const CsvOptions& options)
      : path_(path.string()),
        options_(options),
        missing_(options.missing_tokens),
        tokenizer_(options.delimiter, path_) {}

  CsvData Read();

 private:
  void CheckFieldCount(size_t found, int64_t line) const {
    if (found != shape_.names.size()) {
      size_t expected = shape_.names.size();
      Fail(fmt::format("{}: line {}: expected {} field{}, found {}", path_, line, expected,
                       expected == 1 ? "" : "s", found));
    }
  }
  void RefuseSpanningRow(int64_t line) const {
    Fail(fmt::format("{}: line {}: a quoted field spans lines, which a sharded read cannot "
                     "split reliably; read the file unsharded",
                     path_, line));
  }
  [[noreturn]] void BadValue(int64_t line, size_t column, std::string_view value,
                             std::string_view what) const {
    DataType type = shape_.types[column];
    // A long column's value that is a number still fits a double column; anything else needs
    // a string column.
    double d;
    std::string_view instead =
        type == DataType::kLong && ParseDouble(value, d) ? "a double" : "a string";
    Fail(fmt::format("{}: line {}, column '{}': '{}' is not {} (the column is {}; override its "
                     "type to read it as {})",
                     path_, line, shape_.names[column], value, what,
                     models::DataTypeName(type), instead));
  }
  // Reads the header and infers the column types from the first data rows of the file.
  // Returns the offset and line of the first data row.
  std::pair<size_t, int64_t> ReadHeaderAndInfer(FileWindow& window);
  void AppendRow(std::vector<ColumnSink>& sinks, int64_t line);
  // The number of '\n' and of '"' in [0, end) of the file.
  std::pair<int64_t, int64_t> CountPrefix(uint64_t end) const;

  std::string path_;
  const CsvOptions& options_;
  MissingTokens missing_;
  RowTokenizer tokenizer_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  Shape shape_;
};

std::pair<size_t, int64_t> Reader::ReadHeaderAndInfer(FileWindow& window) {
  size_t pos = 0;
  if (window.size() >= 3 && std::memcmp(window.data(), "\xEF\xBB\xBF", 3) == 0) pos = 3;
  int64_t line = 1;
  using R = RowTokenizer::Result;
  auto next = [&]() {
    while (true) {
      R r = tokenizer_.Next(window.data(), window.size(), window.at_eof(), pos, line);
      if (r != R::kNeedMore) return r == R::kRow;
      window.ReadMore(kBlockSize);
    }
  };
  if (!next()) Fail(fmt::format("{}: the file is empty", path_));
  bool sharded = options_.num_shards > 1;
  if (options_.has_header) {
    if (sharded && tokenizer_.spans_lines()) RefuseSpanningRow(tokenizer_.row_line());
    std::set<std::string_view> seen;
    for (auto f : tokenizer_.fields()) {
      if (!seen.insert(f).second) {
        Fail(fmt::format("{}: line {}: duplicate column name '{}'", path_,
                         tokenizer_.row_line(), f));
      }
      shape_.names.emplace_back(f);
    }
  } else if (!options_.column_names.empty()) {
    shape_.names = options_.column_names;
  } else {
    for (size_t i = 0; i < tokenizer_.fields().size(); ++i) {
      shape_.names.push_back(fmt::format("c{}", i));
    }
  }
  std::pair<size_t, int64_t> data_start = {pos, line};
  if (!options_.has_header) data_start = {tokenizer_.row_start(), tokenizer_.row_line()};

  for (const auto& [name, type] : options_.types) {
    if (std::find(shape_.names.begin(), shape_.names.end(), name) == shape_.names.end()) {
      Fail(fmt::format("{}: type override for unknown column '{}' (the columns are '{}')", path_,
                       name, fmt::join(shape_.names, "', '")));
    }
    if (type != DataType::kLong && type != DataType::kDouble && type != DataType::kBoolean &&
        type != DataType::kString) {
      Fail(fmt::format("{}: type override for column '{}' is {}; it must be long, double, "
                       "boolean or string",
                       path_, name, models::DataTypeName(type)));
    }
  }

  std::vector<TypeEvidence> evidence(shape_.names.size());
  size_t rows = 0;
  bool have_row = !options_.has_header;  // without a header the first row is data
  // At least one row, so that a header-only file is told apart from a file with rows.
  size_t inference_rows = std::max<size_t>(options_.inference_rows, 1);
  while (rows < inference_rows) {
    if (!have_row && !next()) break;
    have_row = false;
    if (sharded && tokenizer_.spans_lines()) RefuseSpanningRow(tokenizer_.row_line());
    const auto& fields = tokenizer_.fields();
    CheckFieldCount(fields.size(), tokenizer_.row_line());
    for (size_t c = 0; c < fields.size(); ++c) {
      if (missing_.Contains(fields[c], tokenizer_.quoted(c))) {
        evidence[c].missing = true;
      } else {
        evidence[c].See(fields[c]);
      }
    }
    ++rows;
  }
  if (rows == 0) Fail(fmt::format("{}: the file has a header but no rows", path_));
  for (size_t c = 0; c < shape_.names.size(); ++c) {
    auto it = options_.types.find(shape_.names[c]);
    shape_.types.push_back(it != options_.types.end() ? it->second : evidence[c].Decide());
  }
  return data_start;
}

void Reader::AppendRow(std::vector<ColumnSink>& sinks, int64_t line) {
  const auto& fields = tokenizer_.fields();
  CheckFieldCount(fields.size(), line);
  for (size_t c = 0; c < fields.size(); ++c) {
    std::string_view v = fields[c];
    ColumnSink& sink = sinks[c];
    bool missing = missing_.Contains(v, tokenizer_.quoted(c));
    switch (sink.type) {
      case DataType::kDouble: {
        double d = std::numeric_limits<double>::quiet_NaN();
        if (!missing && !ParseDouble(v, d)) BadValue(line, c, v, "a number");
        sink.doubles.push_back(d);
        break;
      }
      case DataType::kLong: {
        int64_t l = 0;
        if (missing) {
          Fail(fmt::format("{}: line {}, column '{}': missing value in a long column (override "
                           "its type to read it as a double)",
                           path_, line, sink.name));
        }
        IntParse r = ParseLong(v, l);
        if (r == IntParse::kOverflow) BadValue(line, c, v, "a 64-bit integer");
        if (r == IntParse::kInvalid) {
          double d;
          BadValue(line, c, v, ParseDouble(v, d) ? "an integer" : "a number");
        }
        sink.longs.push_back(l);
        break;
      }
      case DataType::kBoolean: {
        int b = missing ? -2 : ParseBool(v);
        if (b == -2) {
          Fail(fmt::format("{}: line {}, column '{}': missing value in a boolean column "
                           "(override its type to read it as a string)",
                           path_, line, sink.name));
        }
        if (b < 0) BadValue(line, c, v, "true or false");
        sink.bools.push_back(b == 1);
        break;
      }
      default:
        sink.strings.emplace_back(missing ? std::string_view() : v);
        break;
    }
  }
}

std::pair<int64_t, int64_t> Reader::CountPrefix(uint64_t end) const {
  std::string block(std::min<uint64_t>(end, 4 * kBlockSize), '\0');
  int64_t newlines = 0, quotes = 0;
  for (uint64_t at = 0; at < end;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(block.size(), end - at));
    ssize_t n = ::pread(fd_, block.data(), want, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(ErrorCode::kIoError, fmt::format("{}: cannot read", path_));
    newlines += std::count(block.data(), block.data() + n, '\n');
    quotes += std::count(block.data(), block.data() + n, '"');
    at += static_cast<uint64_t>(n);
  }
  return {newlines, quotes};
}

CsvData Reader::Read() {
  if (options_.num_shards < 1 || options_.shard < 0 || options_.shard >= options_.num_shards) {
    Fail(fmt::format("{}: shard {} of {} does not exist", path_, options_.shard,
                     options_.num_shards));
  }
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    if (errno == ENOENT) {
      throw Error(ErrorCode::kResourceDoesNotExist,
                  fmt::format("{}: no such file", path_));
    }
    throw Error(ErrorCode::kIoError,
                fmt::format("{}: cannot open: {}", path_, std::strerror(errno)));
  }
  Fd owner(fd_);
  struct stat st;
  if (::fstat(fd_, &st) != 0 || S_ISDIR(st.st_mode)) {
    throw Error(ErrorCode::kInvalidParameterValue, fmt::format("{}: not a regular file", path_));
  }
  file_size_ = static_cast<uint64_t>(st.st_size);
  bool sharded = options_.num_shards > 1;

  // Unsharded, the first window is the whole file, parsed once for inference and once for
  // values; sharded, the first window grows only as far as the inference rows reach.
  FileWindow head(fd_, file_size_, path_);
  head.Reset(0, sharded ? kBlockSize : file_size_);
  auto [data_start, data_line] = ReadHeaderAndInfer(head);

  std::vector<ColumnSink> sinks(shape_.names.size());
  for (size_t c = 0; c < sinks.size(); ++c) {
    sinks[c].name = shape_.names[c];
    sinks[c].type = shape_.types[c];
  }
  CsvData out;
  out.path = path_;

  uint64_t lo = file_size_ * static_cast<uint64_t>(options_.shard) / options_.num_shards;
  uint64_t hi = file_size_ * static_cast<uint64_t>(options_.shard + 1) / options_.num_shards;
  FileWindow shard_window(fd_, file_size_, path_);
  FileWindow* window = &head;
  size_t pos = data_start;
  int64_t line = data_line;
  if (sharded && lo > data_start) {
    // The first row of this shard starts after the first '\n' at or beyond lo - 1.
    window = &shard_window;
    window->Reset(lo - 1, std::min<uint64_t>(hi - lo + 1 + 64 * 1024, 64 * kBlockSize));
    while (true) {
      const void* nl = std::memchr(window->data(), '\n', window->size());
      if (nl != nullptr) {
        pos = static_cast<const char*>(nl) - window->data() + 1;
        break;
      }
      if (!window->ReadMore(kBlockSize)) {
        pos = window->size();
        break;
      }
    }
    uint64_t start = window->base() + pos;
    auto [newlines, quotes] = CountPrefix(start);
    if (quotes % 2 != 0) RefuseSpanningRow(newlines + 1);
    line = newlines + 1;
  }
  if (sharded && window->base() + pos < hi) {
    uint64_t buffered_to = window->base() + window->size();
    if (buffered_to < hi) window->ReadMore(hi - buffered_to + 64 * 1024);
  }

  using R = RowTokenizer::Result;
  while (true) {
    R r = tokenizer_.Next(window->data(), window->size(), window->at_eof(), pos, line);
    if (r == R::kNeedMore) {
      window->ReadMore(std::max<uint64_t>(kBlockSize, window->size() / 4));
      continue;
    }
    if (r == R::kEnd) break;
    if (sharded) {
      if (window->base() + tokenizer_.row_start() >= hi) break;
      if (tokenizer_.spans_lines()) RefuseSpanningRow(tokenizer_.row_line());
    }
    AppendRow(sinks, tokenizer_.row_line());
    out.lines.push_back(tokenizer_.row_line());
  }

  for (auto& sink : sinks) {
    switch (sink.type) {
      case DataType::kDouble:
        out.table.AddColumn(sink.name, std::move(sink.doubles));
        break;
      case DataType::kLong:
        out.table.AddColumn(sink.name, std::move(sink.longs));
        break;
      case DataType::kBoolean:
        out.table.AddColumn(sink.name, std::move(sink.bools));
        break;
      default:
        out.table.AddColumn(sink.name, std::move(sink.strings));
        break;
    }
  }
  return out;
}

}  // namespace

CsvData ReadCsv(const std::filesystem::path& path, const CsvOptions& options) {
  return Reader(path, options).Read();
}

}  // namespace mltrack::data
