// Feature and label encodings. The vocabularies of all ranks are merged with one AllgatherV of
// each rank's serialized, sorted vocabularies: every rank decodes the same bytes in rank order
// and so builds the same encoder.
#include "models/data/encoding.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <set>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack::data {
namespace {

using models::DataType;

[[noreturn]] void Invalid(std::string message) {
  throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
}

// "train.csv: line 12", "train.csv: row 3", "row 3" (rows counted from 0, as in
// CheckAgainstSignature).
std::string Where(const RowOrigin& origin, size_t row) {
  std::string where;
  if (origin.lines != nullptr && row < origin.lines->size()) {
    where = fmt::format("line {}", (*origin.lines)[row]);
  } else {
    where = fmt::format("row {}", row);
  }
  return origin.source.empty() ? where : fmt::format("{}: {}", origin.source, where);
}

// "train.csv: " or "".
std::string SourcePrefix(const RowOrigin& origin) {
  return origin.source.empty() ? std::string() : origin.source + ": ";
}

std::string ColumnNames(const models::Table& table) {
  std::vector<std::string_view> names;
  for (const auto& c : table.columns()) names.push_back(c.name);
  return fmt::format("'{}'", fmt::join(names, "', '"));
}

const models::Column& FindColumn(const models::Table& table, const std::string& name,
                                 const RowOrigin& origin) {
  const models::Column* column = table.Find(name);
  if (column == nullptr) {
    Invalid(fmt::format("{}missing column '{}' (the columns are {})", SourcePrefix(origin), name,
                        ColumnNames(table)));
  }
  return *column;
}

bool IsNumeric(DataType type) {
  return type == DataType::kLong || type == DataType::kDouble || type == DataType::kBoolean;
}

// --- serialized string lists, for AllgatherV --------------------------------------------------

void PutU64(std::vector<std::byte>& out, uint64_t v) {
  size_t at = out.size();
  out.resize(at + sizeof v);
  std::memcpy(out.data() + at, &v, sizeof v);
}

void PutStrings(std::vector<std::byte>& out, const std::vector<std::string>& strings) {
  PutU64(out, strings.size());
  for (const auto& s : strings) {
    PutU64(out, s.size());
    size_t at = out.size();
    out.resize(at + s.size());
    if (!s.empty()) std::memcpy(out.data() + at, s.data(), s.size());
  }
}

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  uint64_t U64() {
    uint64_t v;
    Need(sizeof v);
    std::memcpy(&v, bytes_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::vector<std::string> Strings() {
    std::vector<std::string> out(U64());
    for (auto& s : out) {
      size_t n = U64();
      Need(n);
      s.assign(reinterpret_cast<const char*>(bytes_.data() + at_), n);
      at_ += n;
    }
    return out;
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  void Need(size_t n) const {
    if (bytes_.size() - at_ < n) {
      throw Error(ErrorCode::kInternalError, "malformed vocabulary exchanged between ranks");
    }
  }
  std::span<const std::byte> bytes_;
  size_t at_ = 0;
};

// Every rank's `blocks` (each a sorted list of strings), merged into sorted unions. `shape_tag`
// says what the blocks are: ranks whose tags differ from rank 0's read different columns, which
// every rank reports alike (they all decode the same bytes).
std::vector<std::vector<std::string>> UnionOverRanks(
    const std::vector<std::vector<std::string>>& blocks, uint64_t shape_tag,
    dist::Communicator& comm) {
  std::vector<std::byte> mine;
  PutU64(mine, shape_tag);
  PutU64(mine, blocks.size());
  for (const auto& b : blocks) PutStrings(mine, b);
  std::vector<size_t> counts;
  std::vector<std::byte> all = comm.AllgatherV(mine, &counts);

  std::vector<std::vector<std::string>> merged(blocks.size());
  std::vector<ByteReader> readers;
  size_t offset = 0;
  for (size_t count : counts) {
    readers.emplace_back(std::span<const std::byte>(all).subspan(offset, count));
    offset += count;
  }
  std::pair<uint64_t, uint64_t> rank0;
  for (size_t rank = 0; rank < readers.size(); ++rank) {
    uint64_t tag = readers[rank].U64();
    std::pair<uint64_t, uint64_t> shape = {tag, readers[rank].U64()};
    if (rank == 0) rank0 = shape;
    if (shape != rank0) {
      Invalid(fmt::format("ranks 0 and {} have different columns or column types: every rank "
                          "must read the same columns",
                          rank));
    }
  }
  for (auto& reader : readers) {
    for (auto& m : merged) {
      std::vector<std::string> theirs = reader.Strings();
      std::vector<std::string> both;
      both.reserve(m.size() + theirs.size());
      std::set_union(m.begin(), m.end(), theirs.begin(), theirs.end(), std::back_inserter(both));
      m = std::move(both);
    }
  }
  return merged;
}

// A hash of the column names and types, so that ranks with different tables are caught.
uint64_t ShapeTag(const std::vector<std::pair<std::string, DataType>>& columns) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  auto mix = [&](std::string_view bytes) {
    for (unsigned char c : bytes) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  for (const auto& [name, type] : columns) {
    mix(name);
    mix(std::string_view("\0", 1));
    mix(models::DataTypeName(type));
    mix(std::string_view("\0", 1));
  }
  return h;
}

std::vector<std::string> SortedUnique(const std::vector<std::string>& values) {
  std::vector<std::string> out = values;
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// --- JSON -------------------------------------------------------------------------------------

class JsonReader {
 public:
  explicit JsonReader(std::string what) : what_(std::move(what)) {}

  [[noreturn]] void Bad(const std::string& field, const std::string& problem) const {
    Invalid(fmt::format("invalid {} JSON: field '{}' {}", what_, field, problem));
  }
  const nlohmann::json& Object(const nlohmann::json& j, const std::string& field,
                               std::initializer_list<std::string_view> keys) const {
    if (!j.is_object()) Bad(field, "is not an object");
    for (const auto& [key, value] : j.items()) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        Bad(Join(field, key), "is not expected");
      }
    }
    return j;
  }
  const nlohmann::json& Get(const nlohmann::json& object, const std::string& field,
                            const std::string& key) const {
    auto it = object.find(key);
    if (it == object.end()) Bad(Join(field, key), "is missing");
    return *it;
  }
  std::string String(const nlohmann::json& j, const std::string& field) const {
    if (!j.is_string()) Bad(field, "is not a string");
    return j.get<std::string>();
  }
  bool Bool(const nlohmann::json& j, const std::string& field) const {
    if (!j.is_boolean()) Bad(field, "is not a boolean");
    return j.get<bool>();
  }
  const nlohmann::json& Array(const nlohmann::json& j, const std::string& field) const {
    if (!j.is_array()) Bad(field, "is not an array");
    return j;
  }
  DataType Type(const nlohmann::json& j, const std::string& field) const {
    std::string name = String(j, field);
    auto type = models::DataTypeFromName(name);
    if (!type || (!IsNumeric(*type) && *type != DataType::kString)) {
      Bad(field, fmt::format("has type '{}'; expected long, double, boolean or string", name));
    }
    return *type;
  }
  static std::string Join(const std::string& field, std::string_view key) {
    return field.empty() ? std::string(key) : fmt::format("{}.{}", field, key);
  }

 private:
  std::string what_;
};

// --- labels as text ---------------------------------------------------------------------------

std::string DoubleText(double v) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), v);
  return std::string(buffer, end);
}

// The text of each value of a label column; nullopt for a missing value (NaN, "").
template <class F>
void ForEachLabel(const models::ColumnValues& values, F&& f) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        for (size_t row = 0; row < v.size(); ++row) {
          if constexpr (std::is_same_v<T, std::vector<double>>) {
            if (std::isnan(v[row])) {
              f(row, std::optional<std::string>());
            } else {
              f(row, std::optional<std::string>(DoubleText(v[row])));
            }
          } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
            f(row, std::optional<std::string>(std::to_string(v[row])));
          } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
            f(row, std::optional<std::string>(v[row] ? "true" : "false"));
          } else {
            f(row, v[row].empty() ? std::optional<std::string>()
                                  : std::optional<std::string>(v[row]));
          }
        }
      },
      values);
}

// Numeric labels sort by value ("2" before "10"), the others by their bytes.
bool LabelLess(DataType type, const std::string& a, const std::string& b) {
  if (type == DataType::kLong || type == DataType::kDouble) {
    double x = 0, y = 0;
    std::from_chars(a.data(), a.data() + a.size(), x);
    std::from_chars(b.data(), b.data() + b.size(), y);
    if (x != y) return x < y;
  }
  return a < b;
}

}  // namespace

// --- FeatureEncoder ---------------------------------------------------------------------------

FeatureEncoder FeatureEncoder::Fit(const models::Table& table,
                                   const std::vector<std::string>& features,
                                   const std::vector<std::string>& exclude,
                                   UnknownCategory unknown, dist::Communicator& comm) {
  std::vector<std::string> names;
  if (features.empty()) {
    for (const auto& c : table.columns()) names.push_back(c.name);
  } else {
    std::set<std::string> seen;
    for (const auto& name : features) {
      if (table.Find(name) == nullptr) {
        Invalid(fmt::format("feature column '{}' does not exist (the columns are {})", name,
                            ColumnNames(table)));
      }
      if (!seen.insert(name).second) {
        Invalid(fmt::format("feature column '{}' is listed twice", name));
      }
      names.push_back(name);
    }
  }
  std::erase_if(names, [&](const std::string& n) {
    return std::find(exclude.begin(), exclude.end(), n) != exclude.end();
  });

  FeatureEncoder encoder;
  encoder.unknown_ = unknown;
  std::vector<std::vector<std::string>> local;
  std::vector<std::pair<std::string, DataType>> shape;
  for (const auto& name : names) {
    const models::Column& column = *table.Find(name);
    FeatureColumn fc;
    fc.name = name;
    fc.type = models::ValueType(column.values);
    fc.categorical = fc.type == DataType::kString;
    if (fc.categorical) {
      local.push_back(SortedUnique(std::get<std::vector<std::string>>(column.values)));
    }
    shape.emplace_back(fc.name, fc.type);
    encoder.columns_.push_back(std::move(fc));
  }
  std::vector<std::vector<std::string>> merged = UnionOverRanks(local, ShapeTag(shape), comm);
  size_t next = 0;
  for (auto& fc : encoder.columns_) {
    if (fc.categorical) fc.vocabulary = std::move(merged[next++]);
  }
  return encoder;
}

size_t FeatureEncoder::width() const {
  size_t width = 0;
  for (const auto& c : columns_) {
    width += c.categorical ? c.vocabulary.size() + (unknown_ == UnknownCategory::kUnknownSlot)
                           : 1;
  }
  return width;
}

std::vector<std::string> FeatureEncoder::EncodedNames() const {
  std::vector<std::string> names;
  for (const auto& c : columns_) {
    if (!c.categorical) {
      names.push_back(c.name);
      continue;
    }
    for (const auto& v : c.vocabulary) names.push_back(fmt::format("{}={}", c.name, v));
    if (unknown_ == UnknownCategory::kUnknownSlot) names.push_back(c.name + "=<unknown>");
  }
  return names;
}

models::Schema FeatureEncoder::InputSchema() const {
  std::vector<std::pair<std::string, DataType>> columns;
  for (const auto& c : columns_) columns.emplace_back(c.name, c.type);
  return models::InferSchema(columns);
}

std::vector<std::vector<double>> FeatureEncoder::EncodeColumns(const models::Table& table,
                                                               const RowOrigin& origin) const {
  const size_t rows = table.num_rows();
  std::vector<std::vector<double>> out;
  out.reserve(columns_.size());
  for (const auto& fc : columns_) {
    const models::Column& column = FindColumn(table, fc.name, origin);
    DataType given = models::ValueType(column.values);
    std::vector<double>& encoded = out.emplace_back(rows);
    if (!fc.categorical) {
      if (!IsNumeric(given)) {
        Invalid(fmt::format("{}column '{}' holds strings; the encoder expects numbers (it was "
                            "fit on a {} column)",
                            SourcePrefix(origin), fc.name, models::DataTypeName(fc.type)));
      }
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (!std::is_same_v<T, std::vector<std::string>>) {
              for (size_t row = 0; row < rows; ++row) {
                double x = static_cast<double>(v[row]);
                if (std::isnan(x)) {
                  Invalid(fmt::format("{}, column '{}': missing value; features must be numbers",
                                      Where(origin, row), fc.name));
                }
                encoded[row] = x;
              }
            }
          },
          column.values);
      continue;
    }
    if (given != DataType::kString) {
      Invalid(fmt::format("{}column '{}' holds {} values; the encoder expects strings (it is "
                          "categorical)",
                          SourcePrefix(origin), fc.name, models::DataTypeName(given)));
    }
    const auto& values = std::get<std::vector<std::string>>(column.values);
    const auto& vocab = fc.vocabulary;
    for (size_t row = 0; row < rows; ++row) {
      auto it = std::lower_bound(vocab.begin(), vocab.end(), values[row]);
      size_t slot;
      if (it != vocab.end() && *it == values[row]) {
        slot = static_cast<size_t>(it - vocab.begin());
      } else if (unknown_ == UnknownCategory::kUnknownSlot) {
        slot = vocab.size();
      } else {
        Invalid(fmt::format("{}, column '{}': unknown category '{}' (not seen in training)",
                            Where(origin, row), fc.name, values[row]));
      }
      encoded[row] = static_cast<double>(slot);
    }
  }
  return out;
}

DenseMatrix FeatureEncoder::Encode(const models::Table& table, const RowOrigin& origin) const {
  std::vector<std::vector<double>> raw = EncodeColumns(table, origin);
  DenseMatrix m;
  m.rows = table.num_rows();
  m.cols = width();
  m.values.assign(m.rows * m.cols, 0.0);
  size_t offset = 0;  // the first encoded column of the feature
  for (size_t f = 0; f < columns_.size(); ++f) {
    const FeatureColumn& fc = columns_[f];
    if (!fc.categorical) {
      for (size_t row = 0; row < m.rows; ++row) m.row(row)[offset] = raw[f][row];
      offset += 1;
      continue;
    }
    // One-hot: the category's index (or the unknown slot's) is the column set to 1.
    for (size_t row = 0; row < m.rows; ++row) {
      m.row(row)[offset + static_cast<size_t>(raw[f][row])] = 1.0;
    }
    offset += fc.vocabulary.size() + (unknown_ == UnknownCategory::kUnknownSlot);
  }
  return m;
}

nlohmann::json FeatureEncoder::ToJson() const {
  nlohmann::json columns = nlohmann::json::array();
  for (const auto& c : columns_) {
    nlohmann::json j = {{"name", c.name},
                        {"type", std::string(models::DataTypeName(c.type))},
                        {"categorical", c.categorical}};
    if (c.categorical) j["vocabulary"] = c.vocabulary;
    columns.push_back(std::move(j));
  }
  return {{"unknown", unknown_ == UnknownCategory::kError ? "error" : "unknown_slot"},
          {"columns", std::move(columns)}};
}

FeatureEncoder FeatureEncoder::FromJson(const nlohmann::json& json) {
  JsonReader r("feature encoder");
  r.Object(json, "", {"unknown", "columns"});
  FeatureEncoder encoder;
  std::string unknown = r.String(r.Get(json, "", "unknown"), "unknown");
  if (unknown == "error") {
    encoder.unknown_ = UnknownCategory::kError;
  } else if (unknown == "unknown_slot") {
    encoder.unknown_ = UnknownCategory::kUnknownSlot;
  } else {
    r.Bad("unknown", fmt::format("is '{}'; expected 'error' or 'unknown_slot'", unknown));
  }
  const auto& columns = r.Array(r.Get(json, "", "columns"), "columns");
  std::set<std::string> names;
  for (size_t i = 0; i < columns.size(); ++i) {
    std::string field = fmt::format("columns[{}]", i);
    const auto& j = r.Object(columns[i], field, {"name", "type", "categorical", "vocabulary"});
    FeatureColumn c;
    c.name = r.String(r.Get(j, field, "name"), field + ".name");
    if (!names.insert(c.name).second) {
      r.Bad(field + ".name", fmt::format("repeats the column '{}'", c.name));
    }
    c.type = r.Type(r.Get(j, field, "type"), field + ".type");
    c.categorical = r.Bool(r.Get(j, field, "categorical"), field + ".categorical");
    if (c.categorical != (c.type == DataType::kString)) {
      r.Bad(field + ".categorical", "must be true exactly for string columns");
    }
    if (c.categorical) {
      std::string vfield = field + ".vocabulary";
      const auto& vocab = r.Array(r.Get(j, field, "vocabulary"), vfield);
      for (size_t k = 0; k < vocab.size(); ++k) {
        c.vocabulary.push_back(r.String(vocab[k], fmt::format("{}[{}]", vfield, k)));
        if (k > 0 && !(c.vocabulary[k - 1] < c.vocabulary[k])) {
          r.Bad(vfield, "is not sorted without repeats");
        }
      }
    } else if (j.contains("vocabulary")) {
      r.Bad(field + ".vocabulary", "is given for a numeric column");
    }
    encoder.columns_.push_back(std::move(c));
  }
  return encoder;
}

// --- LabelEncoder -----------------------------------------------------------------------------

LabelEncoder LabelEncoder::Fit(const models::Table& table, const std::string& column,
                               dist::Communicator& comm) {
  const models::Column* c = table.Find(column);
  if (c == nullptr) {
    Invalid(fmt::format("label column '{}' does not exist (the columns are {})", column,
                        ColumnNames(table)));
  }
  LabelEncoder encoder;
  encoder.type_ = models::ValueType(c->values);
  std::set<std::string> seen;
  // A missing label on one rank must fail every rank before the union below.
  dist::CheckEveryRank(comm, [&] {
    ForEachLabel(c->values, [&](size_t row, const std::optional<std::string>& label) {
      if (!label) {
        Invalid(fmt::format("label column '{}' has a missing value at row {}", column, row));
      }
      seen.insert(*label);
    });
  });
  std::vector<std::vector<std::string>> local = {{seen.begin(), seen.end()}};
  auto merged = UnionOverRanks(local, ShapeTag({{column, encoder.type_}}), comm);
  encoder.classes_ = std::move(merged[0]);
  DataType type = encoder.type_;
  std::sort(encoder.classes_.begin(), encoder.classes_.end(),
            [type](const std::string& a, const std::string& b) { return LabelLess(type, a, b); });
  encoder.TypeClasses();
  return encoder;
}

DataType LabelEncoder::PredictionType() const {
  if (type_ == DataType::kLong || type_ == DataType::kInteger) return DataType::kLong;
  if (type_ == DataType::kDouble || type_ == DataType::kBoolean) return type_;
  return DataType::kString;
}

void LabelEncoder::TypeClasses() {
  auto parse = [this]<typename T>(std::vector<T> values) -> models::ColumnValues {
    values.resize(classes_.size());
    for (size_t c = 0; c < classes_.size(); ++c) {
      std::from_chars(classes_[c].data(), classes_[c].data() + classes_[c].size(), values[c]);
    }
    return values;
  };
  switch (PredictionType()) {
    case DataType::kLong: values_ = parse(std::vector<int64_t>()); break;
    case DataType::kDouble: values_ = parse(std::vector<double>()); break;
    case DataType::kBoolean: {
      std::vector<bool> values;
      for (const std::string& text : classes_) values.push_back(text == "true");
      values_ = std::move(values);
      break;
    }
    default: values_ = classes_;
  }
}

models::ColumnValues LabelEncoder::Take(std::span<const size_t> best) const {
  return std::visit(
      [&](const auto& classes) -> models::ColumnValues {
        std::decay_t<decltype(classes)> out;
        out.reserve(best.size());
        for (size_t c : best) out.push_back(classes[c]);
        return out;
      },
      values_);
}

std::vector<int32_t> LabelEncoder::Encode(const models::Table& table, const std::string& column,
                                          const RowOrigin& origin) const {
  const models::Column& c = FindColumn(table, column, origin);
  std::unordered_map<std::string, int32_t> index;
  for (size_t i = 0; i < classes_.size(); ++i) index.emplace(classes_[i], static_cast<int32_t>(i));
  std::vector<int32_t> out(table.num_rows());
  ForEachLabel(c.values, [&](size_t row, const std::optional<std::string>& label) {
    if (!label) {
      Invalid(fmt::format("{}, column '{}': missing value; labels must be present",
                          Where(origin, row), column));
    }
    auto it = index.find(*label);
    if (it == index.end()) {
      Invalid(fmt::format("{}, column '{}': unknown label '{}' (the classes are '{}')",
                          Where(origin, row), column, *label, fmt::join(classes_, "', '")));
    }
    out[row] = it->second;
  });
  return out;
}

nlohmann::json LabelEncoder::ToJson() const {
  return {{"type", std::string(models::DataTypeName(type_))}, {"classes", classes_}};
}

LabelEncoder LabelEncoder::FromJson(const nlohmann::json& json) {
  JsonReader r("label encoder");
  r.Object(json, "", {"type", "classes"});
  LabelEncoder encoder;
  encoder.type_ = r.Type(r.Get(json, "", "type"), "type");
  const auto& classes = r.Array(r.Get(json, "", "classes"), "classes");
  for (size_t k = 0; k < classes.size(); ++k) {
    std::string field = fmt::format("classes[{}]", k);
    std::string label = r.String(classes[k], field);
    bool ok = !label.empty();
    if (encoder.type_ == DataType::kLong) {
      int64_t v;
      auto res = std::from_chars(label.data(), label.data() + label.size(), v);
      ok = ok && res.ec == std::errc() && res.ptr == label.data() + label.size() &&
           std::to_string(v) == label;
    } else if (encoder.type_ == DataType::kDouble) {
      double v;
      auto res = std::from_chars(label.data(), label.data() + label.size(), v);
      ok = ok && res.ec == std::errc() && res.ptr == label.data() + label.size() &&
           DoubleText(v) == label;
    } else if (encoder.type_ == DataType::kBoolean) {
      ok = label == "true" || label == "false";
    }
    if (!ok) {
      r.Bad(field, fmt::format("'{}' is not a {} label", label,
                               models::DataTypeName(encoder.type_)));
    }
    if (k > 0 && !LabelLess(encoder.type_, encoder.classes_.back(), label)) {
      r.Bad("classes", "is not sorted without repeats");
    }
    encoder.classes_.push_back(std::move(label));
  }
  encoder.TypeClasses();
  return encoder;
}

// --- columns ----------------------------------------------------------------------------------

void RequireLabelColumn(const models::Table& table, const std::string& column,
                        const RowOrigin& origin) {
  if (table.Find(column) != nullptr) return;
  std::vector<std::string> names;
  for (const auto& c : table.columns()) names.push_back(c.name);
  Invalid(fmt::format("{} has no label column '{}' (columns: {})",
                      origin.source.empty() ? std::string("the training data") : origin.source,
                      column, fmt::join(names, ", ")));
}

LabelEncoder FitClassifierLabels(const models::Table& table, const std::string& column,
                                 const RowOrigin& origin, dist::Communicator& comm) {
  RequireLabelColumn(table, column, origin);
  LabelEncoder labels = LabelEncoder::Fit(table, column, comm);
  const size_t classes = labels.classes().size();
  if (classes < 2) {
    Invalid(fmt::format("The label column '{}' of {} has {}: a classifier needs at least two "
                        "classes",
                        column,
                        origin.source.empty() ? std::string("the training data") : origin.source,
                        classes == 0 ? std::string("no rows")
                                     : fmt::format("one class ('{}')", labels.classes()[0])));
  }
  return labels;
}

std::vector<double> NumericColumn(const models::Table& table, const std::string& column,
                                  const RowOrigin& origin) {
  const models::Column& c = FindColumn(table, column, origin);
  std::vector<double> out;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          Invalid(fmt::format("{}column '{}' holds strings; expected numbers",
                              SourcePrefix(origin), column));
        } else {
          out.reserve(v.size());
          for (size_t row = 0; row < v.size(); ++row) {
            double x = static_cast<double>(v[row]);
            if (std::isnan(x)) {
              Invalid(fmt::format("{}, column '{}': missing value; the column must be numbers",
                                  Where(origin, row), column));
            }
            out.push_back(x);
          }
        }
      },
      c.values);
  return out;
}

models::Table DropColumn(const models::Table& table, const std::string& name) {
  models::Table out;
  for (const auto& c : table.columns()) {
    if (c.name != name) out.AddColumn(c.name, c.values);
  }
  return out;
}

}  // namespace mltrack::data
