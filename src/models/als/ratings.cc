// Reading ratings: the format is picked from the file's first non-blank line; tab-separated
// and CSV files go through data::ReadCsv (with the id, rating and timestamp types fixed), and
// MovieLens 1M's "::"-separated ratings.dat through a line parser of its own with ReadCsv's
// sharding rule. Then the id map and the splits.
#include "models/als/ratings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "mltrack/error.h"
#include "models/data/csv.h"
#include "models/data/mix64.h"

namespace mltrack::als {
namespace {

using models::DataType;

constexpr size_t kHeadBlock = 64 * 1024;
constexpr size_t kReadBlock = size_t{4} << 20;

[[noreturn]] void Fail(std::string message) {
  throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
}

// --- the file ---------------------------------------------------------------------------------

struct OpenedFile {
  Fd fd;
  uint64_t size = 0;
};

OpenedFile Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      throw Error(ErrorCode::kResourceDoesNotExist, fmt::format("{}: no such file", path));
    }
    throw Error(ErrorCode::kIoError,
                fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  OpenedFile file{Fd(fd), 0};
  struct stat st;
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) Fail(fmt::format("{}: not a regular file", path));
  file.size = static_cast<uint64_t>(st.st_size);
  return file;
}

// Reads [at, at + length) of the file, which must lie within it.
void ReadExactly(int fd, char* out, size_t length, uint64_t at, const std::string& path) {
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out + done, length - done, static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw Error(ErrorCode::kIoError,
                  fmt::format("{}: cannot read: {}", path,
                              n < 0 ? std::strerror(errno) : "the file shrank while reading"));
    }
    done += static_cast<size_t>(n);
  }
}

// The beginning of the file, read on demand.
class Head {
 public:
  Head(int fd, uint64_t file_size, const std::string& path)
      : fd_(fd), file_size_(file_size), path_(path) {}
  const std::string& data() const { return data_; }
  bool at_eof() const { return data_.size() >= file_size_; }
  // Reads up to kHeadBlock more bytes; false at the end of the file.
  bool More() {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kHeadBlock, file_size_ - data_.size()));
    if (n == 0) return false;
    size_t old = data_.size();
    data_.resize(old + n);
    ReadExactly(fd_, data_.data() + old, n, old, path_);
    return true;
  }

 private:
  int fd_;
  uint64_t file_size_;
  const std::string& path_;
  std::string data_;
};

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// ReadCsv's blank line: only spaces, tabs and a CR.
bool IsBlankLine(std::string_view line) { return std::all_of(line.begin(), line.end(), IsBlank); }

struct HeadLine {
  std::string text;  // without its line end
  int64_t number = 0;
  size_t next = 0;   // offset of the line after it
};

// The first non-blank line at or after offset `pos` (line number `number`) of the file.
std::optional<HeadLine> NextNonBlankLine(Head& head, size_t pos, int64_t number) {
  while (true) {
    const std::string& d = head.data();
    size_t nl = pos < d.size() ? d.find('\n', pos) : std::string::npos;
    if (nl == std::string::npos && head.More()) continue;
    if (pos >= d.size()) return std::nullopt;
    size_t end = nl == std::string::npos ? d.size() : nl;
    std::string_view line(d.data() + pos, end - pos);
    size_t next = nl == std::string::npos ? d.size() : nl + 1;
    if (!IsBlankLine(line)) {
      while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      return HeadLine{std::string(line), number, next};
    }
    pos = next;
    ++number;
  }
}

// Header names as ReadCsv reads them: split at commas, blanks around a name dropped, a quoted
// name unquoted ("" inside quotes is one ").
std::vector<std::string> SplitHeader(std::string_view line) {
  std::vector<std::string> names;
  size_t p = 0;
  while (true) {
    while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
    std::string name;
    if (p < line.size() && line[p] == '"') {
      for (++p; p < line.size(); ++p) {
        if (line[p] == '"') {
          if (p + 1 < line.size() && line[p + 1] == '"') {
            name += '"';
            ++p;
          } else {
            ++p;
            break;
          }
        } else {
          name += line[p];
        }
      }
      while (p < line.size() && line[p] != ',') ++p;
    } else {
      size_t begin = p;
      while (p < line.size() && line[p] != ',') ++p;
      size_t end = p;
      while (end > begin && IsBlank(line[end - 1])) --end;
      name.assign(line.substr(begin, end - begin));
    }
    names.push_back(std::move(name));
    if (p >= line.size()) break;
    ++p;  // ','
  }
  return names;
}

size_t CountOccurrences(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string_view::npos; p = text.find(what, p + what.size())) {
    ++n;
  }
  return n;
}

// --- values -----------------------------------------------------------------------------------

std::string_view Trim(std::string_view v) {
  while (!v.empty() && IsBlank(v.front())) v.remove_prefix(1);
  while (!v.empty() && IsBlank(v.back())) v.remove_suffix(1);
  return v;
}

// A '+' sign is accepted as ReadCsv accepts it.
std::string_view SkipPlus(std::string_view v) {
  if (v.size() > 1 && v[0] == '+' && v[1] != '-' && v[1] != '+') v.remove_prefix(1);
  return v;
}

bool ParseDouble(std::string_view v, double& out) {
  v = SkipPlus(v);
  auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  return !v.empty() && r.ptr == v.data() + v.size() && r.ec == std::errc();
}

// Throws ReadCsv's message for a value of a long column that does not parse.
int64_t ParseId(std::string_view v, const std::string& path, int64_t line,
                std::string_view column) {
  std::string_view s = SkipPlus(v);
  int64_t out = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  if (!s.empty() && r.ptr == s.data() + s.size() && r.ec == std::errc()) return out;
  double d;
  std::string_view what = !s.empty() && r.ptr == s.data() + s.size() ? "a 64-bit integer"
                          : ParseDouble(v, d)                        ? "an integer"
                                                                     : "a number";
  Fail(fmt::format("{}: line {}, column '{}': '{}' is not {}", path, line, column, v, what));
}

float ToRating(double value, const std::string& path, int64_t line, std::string_view column) {
  float f = static_cast<float>(value);
  if (!std::isfinite(f)) {
    Fail(fmt::format("{}: line {}, column '{}': '{}' is not a finite rating", path, line, column,
                     value));
  }
  return f;
}

// --- ratings.dat ------------------------------------------------------------------------------

constexpr const char* kDatColumns[] = {"user", "item", "rating", "timestamp"};

// Shard `shard` of a "::"-separated file whose lines have `fields` fields (3 or 4): the lines
// whose first byte lies in [shard * size / num_shards, (shard + 1) * size / num_shards).
Ratings ReadDat(const std::string& path, const OpenedFile& file, size_t fields, int shard,
                int num_shards) {
  const int fd = file.fd.get();
  const uint64_t size = file.size;
  uint64_t lo = size * static_cast<uint64_t>(shard) / static_cast<uint64_t>(num_shards);
  uint64_t hi = size * static_cast<uint64_t>(shard + 1) / static_cast<uint64_t>(num_shards);

  // The buffer starts at lo - 1 (or 0), so that a line starting exactly at lo is seen as one.
  uint64_t base = lo == 0 ? 0 : lo - 1;
  std::string buf(static_cast<size_t>(hi - base), '\0');
  ReadExactly(fd, buf.data(), buf.size(), base, path);
  // Complete the last line that starts before hi: it ends at the first '\n' at or after hi - 1.
  const size_t limit = static_cast<size_t>(hi - base);  // lines starting here belong to the next
  if (limit > 0) {
    size_t searched = limit - 1;
    while (buf.find('\n', searched) == std::string::npos && base + buf.size() < size) {
      searched = buf.size();
      size_t n = static_cast<size_t>(std::min<uint64_t>(kReadBlock, size - base - buf.size()));
      buf.resize(searched + n);
      ReadExactly(fd, buf.data() + searched, n, base + searched, path);
    }
  }

  size_t pos = 0;
  int64_t line = 1;
  if (lo > 0) {
    // The first line of this shard starts after the first '\n' at or beyond lo - 1.
    const void* nl = std::memchr(buf.data(), '\n', buf.size());
    pos = nl == nullptr ? buf.size() : static_cast<const char*>(nl) - buf.data() + 1;
    // Lines before it: the newlines in [0, base + pos).
    uint64_t start = base + pos;
    std::string block(static_cast<size_t>(std::min<uint64_t>(start, kReadBlock)), '\0');
    int64_t newlines = 0;
    for (uint64_t at = 0; at < start;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(block.size(), start - at));
      ReadExactly(fd, block.data(), n, at, path);
      newlines += std::count(block.data(), block.data() + n, '\n');
      at += n;
    }
    line = newlines + 1;
  } else if (buf.size() >= 3 && std::memcmp(buf.data(), "\xEF\xBB\xBF", 3) == 0) {
    pos = 3;
  }

  Ratings out;
  out.path = path;
  out.has_timestamp = fields == 4;
  size_t estimate = buf.size() / 24 + 16;
  out.user.reserve(estimate);
  out.item.reserve(estimate);
  out.rating.reserve(estimate);
  out.timestamp.reserve(estimate);
  out.line.reserve(estimate);

  const char* data = buf.data();
  std::string_view parts[5];
  for (; pos < buf.size() && pos < limit; ++line) {
    const void* nl = std::memchr(data + pos, '\n', buf.size() - pos);
    size_t end = nl == nullptr ? buf.size() : static_cast<const char*>(nl) - data;
    std::string_view text(data + pos, end - pos);
    pos = end + 1;
    if (IsBlankLine(text)) continue;
    // Split at "::" (up to one part more than needed, to count a surplus).
    size_t found = 0;
    size_t total = 1;
    size_t from = 0;
    while (true) {
      size_t sep = text.find("::", from);
      if (sep == std::string_view::npos) break;
      if (found < 4) parts[found++] = text.substr(from, sep - from);
      ++total;
      from = sep + 2;
    }
    if (found < 5) parts[found] = text.substr(from);
    if (total != fields) {
      Fail(fmt::format("{}: line {}: expected {} fields separated by '::', found {}", path, line,
                       fields, total));
    }
    out.user.push_back(ParseId(Trim(parts[0]), path, line, kDatColumns[0]));
    out.item.push_back(ParseId(Trim(parts[1]), path, line, kDatColumns[1]));
    std::string_view r = Trim(parts[2]);
    double value;
    if (!ParseDouble(r, value)) {
      Fail(fmt::format("{}: line {}, column '{}': '{}' is not a number", path, line,
                       kDatColumns[2], r));
    }
    out.rating.push_back(ToRating(value, path, line, kDatColumns[2]));
    out.timestamp.push_back(fields == 4 ? ParseId(Trim(parts[3]), path, line, kDatColumns[3]) : 0);
    out.line.push_back(line);
  }
  return out;
}

// --- CSV and u.data through ReadCsv ----------------------------------------------------------

struct ChosenColumns {
  std::string user, item, rating, timestamp;  // timestamp empty: none
};

std::string JoinNames(const std::vector<std::string>& names) {
  return fmt::format("'{}'", fmt::join(names, "', '"));
}

std::string ChooseColumn(const std::vector<std::string>& header, const std::string& chosen,
                         std::initializer_list<const char*> defaults, std::string_view role,
                         const std::string& path, int64_t line) {
  auto has = [&](const std::string& name) {
    return std::find(header.begin(), header.end(), name) != header.end();
  };
  if (!chosen.empty()) {
    if (!has(chosen)) {
      Fail(fmt::format("{}: line {}: no {} column '{}' (the columns are {})", path, line, role,
                       chosen, JoinNames(header)));
    }
    return chosen;
  }
  for (const char* name : defaults) {
    if (has(name)) return name;
  }
  std::vector<std::string> expected(defaults.begin(), defaults.end());
  Fail(fmt::format("{}: line {}: no {} column: expected one of {} (the columns are {})", path,
                   line, role, JoinNames(expected), JoinNames(header)));
}

// ReadCsv's value errors end in advice to override the column's type; a ratings file's types
// are fixed, so the advice is dropped (the rest, file, line, column and value, is kept).
[[noreturn]] void RethrowWithoutTypeAdvice(const Error& e) {
  std::string message = e.what();
  size_t cut = message.rfind(" (");
  if (cut != std::string::npos && !message.empty() && message.back() == ')' &&
      message.find("override its type", cut) != std::string::npos) {
    message.resize(cut);
  }
  throw Error(e.code(), std::move(message));
}

Ratings FromTable(const std::string& path, data::CsvData csv, const ChosenColumns& columns) {
  auto longs = [&](const std::string& name) -> const std::vector<int64_t>& {
    return std::get<std::vector<int64_t>>(csv.table.Find(name)->values);
  };
  Ratings out;
  out.path = path;
  out.user = longs(columns.user);
  out.item = longs(columns.item);
  const auto& ratings = std::get<std::vector<double>>(csv.table.Find(columns.rating)->values);
  out.rating.resize(ratings.size());
  for (size_t i = 0; i < ratings.size(); ++i) {
    out.rating[i] = ToRating(ratings[i], path, csv.lines[i], columns.rating);
  }
  out.has_timestamp = !columns.timestamp.empty();
  if (out.has_timestamp) {
    out.timestamp = longs(columns.timestamp);
  } else {
    out.timestamp.assign(ratings.size(), 0);
  }
  out.line = std::move(csv.lines);
  return out;
}

Ratings ReadThroughCsv(const std::string& path, data::CsvOptions options,
                       const ChosenColumns& columns) {
  options.missing_tokens.clear();  // an empty id or rating is an error, never NaN
  options.types[columns.user] = DataType::kLong;
  options.types[columns.item] = DataType::kLong;
  options.types[columns.rating] = DataType::kDouble;
  if (!columns.timestamp.empty()) options.types[columns.timestamp] = DataType::kLong;
  data::CsvData csv;
  try {
    csv = data::ReadCsv(path, options);
  } catch (const Error& e) {
    RethrowWithoutTypeAdvice(e);
  }
  return FromTable(path, std::move(csv), columns);
}

}  // namespace

Ratings ReadRatings(const std::filesystem::path& file_path, RatingsFormat format,
                    const RatingsColumns& columns, int shard, int num_shards) {
  const std::string path = file_path.string();
  if (num_shards < 1 || shard < 0 || shard >= num_shards) {
    Fail(fmt::format("{}: shard {} of {} does not exist", path, shard, num_shards));
  }
  OpenedFile file = Open(path);
  Head head(file.fd.get(), file.size, path);
  head.More();
  size_t start = head.data().compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  std::optional<HeadLine> first = NextNonBlankLine(head, start, 1);
  auto no_ratings = [&] { Fail(fmt::format("{}: the file holds no ratings", path)); };
  if (!first) no_ratings();

  enum class Layout { kDat, kTabs, kCsv } layout = Layout::kCsv;
  if (format != RatingsFormat::kCsv) {
    if (first->text.find("::") != std::string::npos) {
      layout = Layout::kDat;
    } else if (first->text.find('\t') != std::string::npos) {
      layout = Layout::kTabs;
    }
  }
  bool custom_columns = !columns.user.empty() || !columns.item.empty() ||
                        !columns.rating.empty() || !columns.timestamp.empty();
  if (layout != Layout::kCsv && custom_columns) {
    Fail(fmt::format("{}: column names apply to CSV files with a header; this file is MovieLens' "
                     "headerless {}-separated format",
                     path, layout == Layout::kDat ? "'::'" : "tab"));
  }

  if (layout == Layout::kDat) {
    size_t fields = CountOccurrences(first->text, "::") + 1;
    if (fields != 3 && fields != 4) {
      Fail(fmt::format("{}: line {}: expected 4 fields separated by '::', found {}", path,
                       first->number, fields));
    }
    return ReadDat(path, file, fields, shard, num_shards);
  }

  data::CsvOptions options;
  options.shard = shard;
  options.num_shards = num_shards;
  ChosenColumns chosen;
  if (layout == Layout::kTabs) {
    size_t fields = static_cast<size_t>(std::count(first->text.begin(), first->text.end(), '\t')) + 1;
    if (fields != 3 && fields != 4) {
      Fail(fmt::format("{}: line {}: expected 4 fields separated by tabs, found {}", path,
                       first->number, fields));
    }
    options.delimiter = '\t';
    options.has_header = false;
    options.column_names.assign(std::begin(kDatColumns), std::begin(kDatColumns) + fields);
    chosen = {"user", "item", "rating", fields == 4 ? "timestamp" : ""};
    return ReadThroughCsv(path, std::move(options), chosen);
  }

  // CSV with a header.
  std::vector<std::string> header = SplitHeader(first->text);
  if (!NextNonBlankLine(head, first->next, first->number + 1)) no_ratings();
  int64_t at = first->number;
  chosen.user = ChooseColumn(header, columns.user, {"userId", "user_id", "user"}, "user", path, at);
  chosen.item = ChooseColumn(header, columns.item, {"movieId", "itemId", "item_id", "item"},
                             "item", path, at);
  chosen.rating = ChooseColumn(header, columns.rating, {"rating"}, "rating", path, at);
  if (!columns.timestamp.empty()) {
    chosen.timestamp = ChooseColumn(header, columns.timestamp, {}, "timestamp", path, at);
  } else if (std::find(header.begin(), header.end(), "timestamp") != header.end()) {
    chosen.timestamp = "timestamp";
  }
  std::pair<const char*, const std::string*> roles[] = {{"user", &chosen.user},
                                                        {"item", &chosen.item},
                                                        {"rating", &chosen.rating},
                                                        {"timestamp", &chosen.timestamp}};
  for (size_t a = 0; a < 4; ++a) {
    for (size_t b = a + 1; b < 4; ++b) {
      if (!roles[a].second->empty() && *roles[a].second == *roles[b].second) {
        Fail(fmt::format("{}: column '{}' cannot be both the {} and the {} column", path,
                         *roles[a].second, roles[a].first, roles[b].first));
      }
    }
  }
  // Other columns are read as strings, so that their contents can never fail the read.
  for (const auto& name : header) options.types.emplace(name, DataType::kString);
  return ReadThroughCsv(path, std::move(options), chosen);
}

RatingsFormat ParseRatingsFormat(const std::string& name) {
  if (name == "auto") return RatingsFormat::kAuto;
  if (name == "movielens") return RatingsFormat::kMovieLens;
  if (name == "csv") return RatingsFormat::kCsv;
  Fail(fmt::format("Invalid ratings format '{}': expected auto, movielens or csv", name));
}

// --- IdMap ------------------------------------------------------------------------------------

namespace {

struct Range {
  int64_t min;
  uint64_t size;  // max - min + 1
};

// The range of `values` when it holds at most 8 values per element (plus some slack), so that a
// table over it costs about as much as the values themselves; nullopt otherwise.
std::optional<Range> DenseRange(std::span<const int64_t> values) {
  if (values.empty()) return std::nullopt;
  auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  uint64_t size = static_cast<uint64_t>(*hi) - static_cast<uint64_t>(*lo) + 1;
  if (size == 0 || size > 8 * static_cast<uint64_t>(values.size()) + 4096) return std::nullopt;
  return Range{*lo, size};
}

}  // namespace

IdMap::IdMap(std::vector<int64_t> sorted_unique_ids) : ids_(std::move(sorted_unique_ids)) {
  assert(std::adjacent_find(ids_.begin(), ids_.end(), std::greater_equal<>()) == ids_.end());
  if (ids_.empty() || ids_.size() >= std::numeric_limits<int32_t>::max()) return;
  if (auto range = DenseRange(ids_)) {
    dense_min_ = range->min;
    dense_.assign(range->size, -1);
    for (size_t i = 0; i < ids_.size(); ++i) {
      dense_[static_cast<uint64_t>(ids_[i] - dense_min_)] = static_cast<int32_t>(i);
    }
    return;
  }
  size_t capacity = 16;
  while (capacity < 2 * ids_.size()) capacity *= 2;
  slots_.assign(capacity, 0);
  for (size_t i = 0; i < ids_.size(); ++i) {
    size_t at = data::Mix64(static_cast<uint64_t>(ids_[i])) & (capacity - 1);
    while (slots_[at] != 0) at = (at + 1) & (capacity - 1);
    slots_[at] = static_cast<uint32_t>(i + 1);
  }
}

IdMap IdMap::Build(std::span<const int64_t> ids, dist::Communicator& comm) {
  std::vector<int64_t> mine;
  if (auto range = DenseRange(ids)) {
    // Ids spanning a range of few values (MovieLens'): a bitmap instead of a sort.
    std::vector<bool> seen(range->size);
    for (int64_t id : ids) seen[static_cast<uint64_t>(id - range->min)] = true;
    for (uint64_t v = 0; v < range->size; ++v) {
      if (seen[v]) mine.push_back(range->min + static_cast<int64_t>(v));
    }
  } else {
    mine.assign(ids.begin(), ids.end());
    std::sort(mine.begin(), mine.end());
    mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
  }
  if (comm.size() == 1) return IdMap(std::move(mine));
  std::vector<size_t> counts;
  std::vector<int64_t> all = comm.AllgatherValues<int64_t>(mine, &counts);
  // `all` is one sorted run per rank: merge neighbouring runs until one is left.
  std::vector<size_t> bounds = {0};
  for (size_t c : counts) bounds.push_back(bounds.back() + c);
  while (bounds.size() > 2) {
    std::vector<size_t> merged = {0};
    for (size_t r = 0; r + 1 < bounds.size(); r += 2) {
      if (r + 2 < bounds.size()) {
        std::inplace_merge(all.begin() + bounds[r], all.begin() + bounds[r + 1],
                           all.begin() + bounds[r + 2]);
        merged.push_back(bounds[r + 2]);
      } else {
        merged.push_back(bounds[r + 1]);
      }
    }
    bounds = std::move(merged);
  }
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return IdMap(std::move(all));
}

int64_t IdMap::Index(int64_t id) const {
  if (!dense_.empty()) {
    const uint64_t at = static_cast<uint64_t>(id) - static_cast<uint64_t>(dense_min_);
    return at < dense_.size() ? dense_[at] : -1;
  }
  if (!slots_.empty()) {
    const size_t mask = slots_.size() - 1;
    for (size_t at = data::Mix64(static_cast<uint64_t>(id)) & mask;; at = (at + 1) & mask) {
      const uint32_t slot = slots_[at];
      if (slot == 0) return -1;
      if (ids_[slot - 1] == id) return slot - 1;
    }
  }
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it == ids_.end() || *it != id) return -1;
  return it - ids_.begin();
}

// --- selections and splits ------------------------------------------------------------------

Ratings TakeRatings(const Ratings& ratings, std::span<const size_t> positions) {
  for (size_t p : positions) {
    if (p >= ratings.size()) {
      Fail(fmt::format("Rating position {} is out of range for {} ratings", p, ratings.size()));
    }
  }
  Ratings out;
  out.path = ratings.path;
  out.has_timestamp = ratings.has_timestamp;
  out.user = data::TakeRows<int64_t>(ratings.user, positions);
  out.item = data::TakeRows<int64_t>(ratings.item, positions);
  out.rating = data::TakeRows<float>(ratings.rating, positions);
  out.timestamp = data::TakeRows<int64_t>(ratings.timestamp, positions);
  out.line = data::TakeRows<int64_t>(ratings.line, positions);
  return out;
}

data::Split RandomSplit(const Ratings& ratings, double test_fraction, uint64_t seed) {
  return data::TrainTestSplit(ratings.line, test_fraction, seed);
}

// Ties: ratings of a user with equal timestamps are ordered by line, the later line counting as
// the more recent (files are usually appended in time order). Without timestamps, the k ratings
// with the smallest Mix64(seed ^ Mix64(line)) are held out (lines are distinct, so there are no
// ties).
data::Split LeaveKOut(const Ratings& ratings, int k, uint64_t seed) {
  if (k < 1) Fail(fmt::format("Invalid k {} for leave-k-out: expected at least 1", k));
  const size_t n = ratings.size();
  // The positions grouped by user: a counting sort over a dense range of ids, else a sort.
  std::vector<std::pair<int64_t, size_t>> by_user(n);
  if (auto range = DenseRange(ratings.user)) {
    std::vector<size_t> next(range->size + 1, 0);
    for (int64_t u : ratings.user) ++next[static_cast<uint64_t>(u - range->min) + 1];
    for (uint64_t v = 1; v <= range->size; ++v) next[v] += next[v - 1];
    for (size_t i = 0; i < n; ++i) {
      by_user[next[static_cast<uint64_t>(ratings.user[i] - range->min)]++] = {ratings.user[i], i};
    }
  } else {
    for (size_t i = 0; i < n; ++i) by_user[i] = {ratings.user[i], i};
    std::sort(by_user.begin(), by_user.end());
  }

  // Recency keys: larger is held out first.
  struct Key {
    int64_t primary;  // timestamp, or the negated hash rank
    int64_t line;
    size_t position;
    bool operator>(const Key& o) const {
      return primary != o.primary ? primary > o.primary : line > o.line;
    }
  };
  std::vector<uint8_t> is_test(n, 0);
  std::vector<Key> keys;
  const size_t kk = static_cast<size_t>(k);
  for (size_t a = 0; a < n;) {
    size_t b = a;
    while (b < n && by_user[b].first == by_user[a].first) ++b;
    if (b - a > kk) {
      keys.clear();
      for (size_t j = a; j < b; ++j) {
        size_t p = by_user[j].second;
        int64_t line = ratings.line[p];
        if (ratings.has_timestamp) {
          keys.push_back({ratings.timestamp[p], line, p});
        } else {
          // The smallest hash first: hold out by the hash's bits flipped, compared as unsigned
          // through the sign-flipped signed value.
          uint64_t h = data::Mix64(seed ^ data::Mix64(static_cast<uint64_t>(line)));
          keys.push_back({static_cast<int64_t>(~h ^ (uint64_t{1} << 63)), line, p});
        }
      }
      std::nth_element(keys.begin(), keys.begin() + (kk - 1), keys.end(), std::greater<>());
      for (size_t j = 0; j < kk; ++j) is_test[keys[j].position] = 1;
    }
    a = b;
  }
  data::Split split;
  for (size_t i = 0; i < n; ++i) (is_test[i] ? split.test : split.train).push_back(i);
  return split;
}

}  // namespace mltrack::als
