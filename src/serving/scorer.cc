// Per-flavor scoring. Each scorer checks a request against the bundle's input signature, then
// goes through its model's fast path (encoded rows straight into the coefficients or the trees,
// factor lookups for ALS) rather than models::Model::Predict, so that a one-row request costs
// microseconds, and builds the JSON answer itself.
#include "serving/scorer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "models/als/als_model.h"
#include "models/data/encoding.h"
#include "models/forest/forest_model.h"
#include "models/logistic/logistic_model.h"
#include "mltrack/error.h"

namespace mltrack::serving {
namespace {

using models::Column;
using models::ColumnValues;
using models::DataType;
using models::Table;
using json = nlohmann::ordered_json;

// Requests of at least this many rows are spread over every core. Smaller ones run on the
// calling thread: the server already scores concurrent requests on its worker threads, and
// starting threads costs more than a small batch takes.
constexpr size_t kParallelRows = 8192;
// Below this many rows a forest walks each row through its trees (PredictRow); from it on,
// blocks of rows go through one tree after the other (PredictColumns), which keeps a tree's
// nodes in cache. Both give the same values, bit for bit.
constexpr size_t kForestBlockRows = 16;
constexpr int64_t kDefaultTopK = 10;
// An unknown category's message lists at most this many of the known ones.
constexpr size_t kListedCategories = 10;

[[noreturn]] void BadRequest(std::string message) {
  throw Error(ErrorCode::kBadRequest, std::move(message));
}

int ThreadsFor(size_t rows) { return rows >= kParallelRows ? 0 : 1; }

// JSON has no NaN or infinity: MLflow answers null for them.
json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json CellJson(const ColumnValues& values, size_t row) {
  return std::visit(
      [row](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<double>>) {
          return Number(v[row]);
        } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
          return json(static_cast<bool>(v[row]));
        } else {
          return json(v[row]);
        }
      },
      values);
}

// MLflow's shape of a DataFrame answer: one column is a list of its values; several are one
// record per row, keyed by column name.
json PredictionsJson(const Table& table) {
  json out = json::array();
  const auto& columns = table.columns();
  if (columns.empty()) return out;
  for (size_t row = 0; row < table.num_rows(); ++row) {
    if (columns.size() == 1) {
      out.push_back(CellJson(columns[0].values, row));
      continue;
    }
    json record = json::object();
    for (const Column& column : columns) record[column.name] = CellJson(column.values, row);
    out.push_back(std::move(record));
  }
  return out;
}

// --- input checks -----------------------------------------------------------------------------

void RefuseNaN(const Column& column) {
  const auto* values = std::get_if<std::vector<double>>(&column.values);
  if (values == nullptr) return;
  for (size_t row = 0; row < values->size(); ++row) {
    if (std::isnan((*values)[row])) {
      BadRequest(fmt::format("Column '{}' has NaN at row {}", column.name, row));
    }
  }
}

// A missing value makes a column of integers double (request_codec.h). Where the schema wants
// integers, say that a value is missing rather than that the column is double.
void RefuseNaNWhereIntegers(const Table& input, const models::Schema& schema) {
  const bool named = !schema.empty() && schema[0].name.has_value();
  const auto& columns = input.columns();
  for (size_t i = 0; i < columns.size(); ++i) {
    const models::ColumnSpec* spec = nullptr;
    if (named) {
      for (const auto& s : schema) {
        if (*s.name == columns[i].name) spec = &s;
      }
    } else if (i < schema.size()) {
      spec = &schema[i];
    }
    if (spec != nullptr && (spec->type == DataType::kLong || spec->type == DataType::kInteger)) {
      RefuseNaN(columns[i]);
    }
  }
}

// The request's table checked against `schema`, in its column order and with MLflow's safe
// conversions applied; the problems CheckAgainstSignature finds are bad requests.
Table CheckInput(const Table& input, const models::Schema& schema) {
  RefuseNaNWhereIntegers(input, schema);
  try {
    return models::CheckAgainstSignature(input, schema);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kInvalidParameterValue) BadRequest(e.what());
    throw;
  }
}

// The schema requests are checked against: the bundle's input signature, or without one what
// the model itself reads.
models::Schema RequestSchema(const models::Model& model, models::Schema own) {
  const auto& signature = model.meta().signature;
  return signature ? signature->inputs : std::move(own);
}

const nlohmann::json& Params(const ScoringRequest& request) {
  static const nlohmann::json kNoParams = nlohmann::json::object();
  if (request.params.is_null()) return kNoParams;
  if (!request.params.is_object()) {
    BadRequest(fmt::format("Invalid params: expected a JSON object, got {}",
                           request.params.type_name()));
  }
  return request.params;
}

bool PredictProba(const json& params) {
  auto it = params.find("predict_proba");
  if (it == params.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    BadRequest(fmt::format("Param 'predict_proba' must be true or false, got {}", it->dump()));
  }
  return it->get<bool>();
}

// --- classifiers ------------------------------------------------------------------------------

// A classifier's class labels, typed as the training label was, and the names of its probability
// columns.
class ClassLabels {
 public:
  explicit ClassLabels(const data::LabelEncoder& labels) : labels_(labels) {
    for (const std::string& text : labels.classes()) {
      probability_names_.push_back(fmt::format("probability_{}", text));
    }
  }

  size_t size() const { return probability_names_.size(); }
  const std::string& ProbabilityName(size_t c) const { return probability_names_[c]; }

  // The labels of classes `best`, one per row.
  ColumnValues Values(const std::vector<size_t>& best) const { return labels_.Take(best); }

 private:
  const data::LabelEncoder& labels_;
  std::vector<std::string> probability_names_;
};

// The answer of a classifier from rows x classes probabilities: the labels, or with
// `with_probabilities` records of the label and every class's probability. A row's label is
// its first most probable class, as the models' Predict chooses it.
ScoringResult ClassifierResult(const ClassLabels& labels, const std::vector<double>& p,
                               size_t rows, bool with_probabilities) {
  const size_t k = labels.size();
  std::vector<size_t> best(rows);
  for (size_t i = 0; i < rows; ++i) {
    const double* row = p.data() + i * k;
    best[i] = static_cast<size_t>(std::max_element(row, row + k) - row);
  }
  ScoringResult result;
  result.table.AddColumn("prediction", labels.Values(best));
  if (!with_probabilities) return result;
  for (size_t c = 0; c < k; ++c) {
    std::vector<double> column(rows);
    for (size_t i = 0; i < rows; ++i) column[i] = p[i * k + c];
    result.table.AddColumn(labels.ProbabilityName(c), std::move(column));
  }
  return result;
}

// Reads a checked request as the raw features of a data::FeatureEncoder, row-major (one value
// per raw feature column, as FeatureEncoder::EncodeColumns and RandomForestModel::PredictRow
// lay them out): a numeric column's value, a categorical column's vocabulary index, or the
// unknown slot (vocabulary.size()) when the encoder has one. Refuses, as bad requests, missing
// values, infinities when `refuse_infinity`, and categories outside the vocabulary otherwise.
class FeatureReader {
 public:
  FeatureReader(const data::FeatureEncoder& encoder, bool refuse_infinity)
      : encoder_(encoder), refuse_infinity_(refuse_infinity) {}

  size_t width() const { return encoder_.columns().size(); }

  std::vector<double> Read(const Table& table, size_t rows) const {
    const auto& features = encoder_.columns();
    const size_t width = features.size();
    std::vector<double> x(rows * width);
    for (size_t f = 0; f < width; ++f) {
      const data::FeatureColumn& feature = features[f];
      const Column* column = table.Find(feature.name);
      if (column == nullptr) BadRequest(fmt::format("Missing required column '{}'", feature.name));
      const DataType given = models::ValueType(column->values);
      if (feature.categorical) {
        if (given != DataType::kString) {
          BadRequest(fmt::format("Column '{}' has type {}, expected string", feature.name,
                                 models::DataTypeName(given)));
        }
        const auto& values = std::get<std::vector<std::string>>(column->values);
        for (size_t row = 0; row < rows; ++row) {
          x[row * width + f] = Category(feature, values[row], row);
        }
        continue;
      }
      if (given == DataType::kString) {
        BadRequest(fmt::format("Column '{}' has type string, expected {}", feature.name,
                               models::DataTypeName(feature.type)));
      }
      RefuseNaN(*column);
      std::visit(
          [&](const auto& values) {
            using T = std::decay_t<decltype(values)>;
            if constexpr (!std::is_same_v<T, std::vector<std::string>>) {
              for (size_t row = 0; row < rows; ++row) {
                const double v = static_cast<double>(values[row]);
                if (refuse_infinity_ && std::isinf(v)) {
                  BadRequest(fmt::format("Column '{}' has an infinite value at row {}",
                                         feature.name, row));
                }
                x[row * width + f] = v;
              }
            }
          },
          column->values);
    }
    return x;
  }

 private:
  double Category(const data::FeatureColumn& feature, const std::string& value,
                  size_t row) const {
    const auto& vocabulary = feature.vocabulary;
    auto it = std::lower_bound(vocabulary.begin(), vocabulary.end(), value);
    if (it != vocabulary.end() && *it == value) {
      return static_cast<double>(it - vocabulary.begin());
    }
    if (encoder_.unknown() == data::UnknownCategory::kUnknownSlot) {
      return static_cast<double>(vocabulary.size());
    }
    std::string known;
    for (size_t i = 0; i < std::min(vocabulary.size(), kListedCategories); ++i) {
      known += fmt::format("{}'{}'", i > 0 ? ", " : "", vocabulary[i]);
    }
    if (vocabulary.size() > kListedCategories) {
      known += fmt::format(" and {} more", vocabulary.size() - kListedCategories);
    }
    BadRequest(fmt::format("Column '{}' has unknown category '{}' at row {}; the model knows {}",
                           feature.name, value, row, known));
  }

  const data::FeatureEncoder& encoder_;
  bool refuse_infinity_;
};

// --- scorers ----------------------------------------------------------------------------------

// Keeps the model alive for as long as the scorer.
class OwningScorer : public Scorer {
 public:
  explicit OwningScorer(std::shared_ptr<const models::Model> model) : model_(std::move(model)) {}
  const models::Model& model() const override { return *model_; }

 private:
  std::shared_ptr<const models::Model> model_;
};

class LogisticScorer final : public OwningScorer {
 public:
  LogisticScorer(std::shared_ptr<const models::Model> owner, const logistic::LogisticModel& model)
      : OwningScorer(std::move(owner)),
        model_(model),
        schema_(RequestSchema(model, model.features().InputSchema())),
        // A linear margin is undefined for an infinite feature (inf * 0, inf - inf).
        reader_(model.features(), /*refuse_infinity=*/true),
        labels_(model.labels()) {
    const bool unknown_slot = model.features().unknown() == data::UnknownCategory::kUnknownSlot;
    size_t offset = 0;
    for (const auto& feature : model.features().columns()) {
      offsets_.push_back(offset);
      offset += feature.categorical ? feature.vocabulary.size() + unknown_slot : 1;
    }
    encoded_width_ = offset;
  }

  ScoringResult Score(const ScoringRequest& request) const override {
    const bool proba = PredictProba(Params(request));
    const size_t rows = request.table.num_rows();
    const Table checked = CheckInput(request.table, schema_);
    const std::vector<double> raw = reader_.Read(checked, rows);
    // One-hot the categorical features as FeatureEncoder::Encode does.
    const auto& features = model_.features().columns();
    const size_t width = features.size();
    data::DenseMatrix x{.rows = rows, .cols = encoded_width_};
    x.values.assign(rows * encoded_width_, 0.0);
    for (size_t row = 0; row < rows; ++row) {
      double* out = x.row(row);
      const double* in = raw.data() + row * width;
      for (size_t f = 0; f < width; ++f) {
        if (features[f].categorical) {
          out[offsets_[f] + static_cast<size_t>(in[f])] = 1.0;
        } else {
          out[offsets_[f]] = in[f];
        }
      }
    }
    std::vector<double> probabilities;
    model_.PredictProbabilities(x, probabilities);
    return ClassifierResult(labels_, probabilities, rows, proba);
  }

 private:
  const logistic::LogisticModel& model_;
  models::Schema schema_;
  FeatureReader reader_;
  ClassLabels labels_;
  std::vector<size_t> offsets_;  // each raw feature's first encoded column
  size_t encoded_width_ = 0;
};

class ForestScorer final : public OwningScorer {
 public:
  ForestScorer(std::shared_ptr<const models::Model> owner, const forest::RandomForestModel& model)
      : OwningScorer(std::move(owner)),
        model_(model),
        schema_(RequestSchema(model, model.features().InputSchema())),
        // Trees compare thresholds, which orders infinities like any number.
        reader_(model.features(), /*refuse_infinity=*/false),
        labels_(model.labels()) {}

  ScoringResult Score(const ScoringRequest& request) const override {
    const bool classifier = model_.task() == forest::Task::kClassification;
    const bool proba = PredictProba(Params(request));
    if (proba && !classifier) {
      BadRequest("Param 'predict_proba' applies to classifiers; this random forest is a "
                 "regression");
    }
    const size_t rows = request.table.num_rows();
    const Table checked = CheckInput(request.table, schema_);
    const std::vector<double> x = reader_.Read(checked, rows);
    const size_t width = reader_.width();
    const size_t values = static_cast<size_t>(model_.value_width());
    std::vector<double> out;
    if (rows < kForestBlockRows || width == 0) {
      out.resize(rows * values);
      for (size_t row = 0; row < rows; ++row) {
        model_.PredictRow(x.data() + row * width, out.data() + row * values);
      }
    } else {
      std::vector<std::vector<double>> columns(width, std::vector<double>(rows));
      for (size_t row = 0; row < rows; ++row) {
        for (size_t f = 0; f < width; ++f) columns[f][row] = x[row * width + f];
      }
      out = model_.PredictColumns(columns, ThreadsFor(rows));
    }
    if (classifier) return ClassifierResult(labels_, out, rows, proba);
    ScoringResult result;
    result.table.AddColumn("prediction", std::move(out));
    return result;
  }

 private:
  const forest::RandomForestModel& model_;
  models::Schema schema_;
  FeatureReader reader_;
  ClassLabels labels_;
};

class AlsScorer final : public OwningScorer {
 public:
  AlsScorer(std::shared_ptr<const models::Model> owner, const als::AlsModel& model)
      : OwningScorer(std::move(owner)),
        model_(model),
        schema_(RequestSchema(model, models::InferSchema({{kUser, DataType::kLong},
                                                        {kItem, DataType::kLong}}))) {}

  ScoringResult Score(const ScoringRequest& request) const override {
    const json& params = Params(request);
    if (PredictProba(params)) {
      BadRequest("Param 'predict_proba' applies to classifiers; this ALS model predicts "
                 "ratings");
    }
    if (IsTopKRequest(request.table)) return TopK(request.table, params);
    return Pairs(request.table);
  }

 private:
  static constexpr const char* kUser = "user";
  static constexpr const char* kItem = "item";
  static constexpr const char* kK = "k";

  // A top-k request has a user column, maybe a k column, and nothing else. Any other table is
  // checked as (user, item) pairs, so that a misspelt item column is named as unexpected.
  static bool IsTopKRequest(const Table& table) {
    if (table.Find(kUser) == nullptr) return false;
    for (const Column& column : table.columns()) {
      if (column.name != kUser && column.name != kK) return false;
    }
    return true;
  }

  static const std::vector<int64_t>& Longs(const Column& column) {
    RefuseNaN(column);
    const auto* values = std::get_if<std::vector<int64_t>>(&column.values);
    if (values == nullptr) {
      BadRequest(fmt::format("Column '{}' has type {}, expected long", column.name,
                             models::DataTypeName(models::ValueType(column.values))));
    }
    return *values;
  }

  // The dense indices of `ids` in `map`: -1 for an unknown id under cold start "nan" (its
  // prediction is NaN), a bad request under "drop" (there is no dropping a single answer).
  std::vector<int64_t> Indices(const std::vector<int64_t>& ids, const als::IdMap& map,
                               std::string_view what) const {
    std::vector<int64_t> out(ids.size());
    for (size_t row = 0; row < ids.size(); ++row) {
      out[row] = map.Index(ids[row]);
      if (out[row] < 0 && model_.cold_start() == als::ColdStart::kDrop) {
        BadRequest(fmt::format("Unknown {} {}", what, ids[row]));
      }
    }
    return out;
  }

  ScoringResult Pairs(const Table& table) const {
    const Table checked = CheckInput(table, schema_);
    const Column* user = checked.Find(kUser);
    const Column* item = checked.Find(kItem);
    if (user == nullptr || item == nullptr) {
      BadRequest(fmt::format("Missing required column '{}'", user == nullptr ? kUser : kItem));
    }
    const auto& factors = model_.factors();
    const std::vector<int64_t> users = Indices(Longs(*user), factors.users, kUser);
    const std::vector<int64_t> items = Indices(Longs(*item), factors.items, kItem);
    std::vector<double> out(users.size());
    model_.PredictIndices(users, items, out, ThreadsFor(users.size()));
    ScoringResult result;
    result.table.AddColumn("prediction", std::move(out));
    return result;
  }

  // k of every row: the k column, else params "k", else 10.
  static std::vector<int64_t> Ks(const Table& table, const json& params) {
    const size_t rows = table.num_rows();
    if (const Column* column = table.Find(kK)) {
      const std::vector<int64_t>& ks = Longs(*column);
      for (size_t row = 0; row < rows; ++row) {
        if (ks[row] < 1) {
          BadRequest(fmt::format("Column 'k' has value {} at row {}; k must be at least 1",
                                 ks[row], row));
        }
      }
      return ks;
    }
    int64_t k = kDefaultTopK;
    if (auto it = params.find(kK); it != params.end() && !it->is_null()) {
      // JSON reads a non-negative integer as unsigned; past INT64_MAX it is clamped (no model
      // has that many items).
      if (it->is_number_unsigned()) {
        k = static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT64_MAX));
      } else if (it->is_number_integer()) {
        k = it->get<int64_t>();
      } else {
        k = 0;
      }
      if (k < 1) {
        BadRequest(fmt::format("Param 'k' must be an integer of at least 1, got {}", it->dump()));
      }
    }
    return std::vector<int64_t>(rows, k);
  }

  ScoringResult TopK(const Table& table, const json& params) const {
    const std::vector<int64_t>& users = Longs(*table.Find(kUser));
    const std::vector<int64_t> ks = Ks(table, params);
    const auto& factors = model_.factors();
    for (int64_t user : users) {
      if (factors.users.Index(user) < 0) BadRequest(fmt::format("Unknown user {}", user));
    }
    // k is capped at the item count, which fits Recommend's int (a model holds at most
    // INT32_MAX items).
    const int64_t items = static_cast<int64_t>(factors.items.size());
    std::vector<int64_t> user_column, rank_column, item_column;
    std::vector<double> score_column;
    ScoringResult result;
    for (size_t row = 0; row < users.size(); ++row) {
      const int k = static_cast<int>(std::min(ks[row], items));
      const auto best = model_.Recommend(users[row], k);
      for (size_t r = 0; r < best.size(); ++r) {
        user_column.push_back(users[row]);
        rank_column.push_back(static_cast<int64_t>(r) + 1);
        item_column.push_back(best[r].first);
        score_column.push_back(best[r].second);
      }
    }
    result.table.AddColumn("user", std::move(user_column));
    result.table.AddColumn("rank", std::move(rank_column));
    result.table.AddColumn("item", std::move(item_column));
    result.table.AddColumn("score", std::move(score_column));
    return result;
  }

  const als::AlsModel& model_;
  models::Schema schema_;
};

// Any flavor without a scorer of its own: the signature's checks (when the bundle has one),
// then Predict's table as it is.
class GenericScorer final : public OwningScorer {
 public:
  explicit GenericScorer(std::shared_ptr<const models::Model> model)
      : OwningScorer(std::move(model)) {}

  ScoringResult Score(const ScoringRequest& request) const override {
    const auto& signature = model().meta().signature;
    std::optional<Table> checked;
    if (signature) checked = CheckInput(request.table, signature->inputs);
    ScoringResult result;
    try {
      result.table = model().Predict(checked ? *checked : request.table);
    } catch (const Error& e) {
      // A model refuses what it cannot take as an invalid parameter; to a client that is a bad
      // request like any other.
      if (e.code() == ErrorCode::kInvalidParameterValue) BadRequest(e.what());
      throw;
    }
    return result;
  }
};

}  // namespace

std::unique_ptr<Scorer> Scorer::ForModel(std::shared_ptr<const models::Model> model) {
  if (model == nullptr) {
    throw Error(ErrorCode::kInvalidParameterValue, "Scorer::ForModel needs a loaded model");
  }
  const models::Model* m = model.get();
  if (const auto* lr = dynamic_cast<const logistic::LogisticModel*>(m)) {
    return std::make_unique<LogisticScorer>(std::move(model), *lr);
  }
  if (const auto* rf = dynamic_cast<const forest::RandomForestModel*>(m)) {
    return std::make_unique<ForestScorer>(std::move(model), *rf);
  }
  if (const auto* als = dynamic_cast<const als::AlsModel*>(m)) {
    return std::make_unique<AlsScorer>(std::move(model), *als);
  }
  return std::make_unique<GenericScorer>(std::move(model));
}

json ScoringResult::predictions() const { return PredictionsJson(table); }

std::string PredictionsBody(const ScoringResult& result) {
  return "{\"predictions\":" +
         result.predictions().dump(-1, ' ', false, json::error_handler_t::replace) + "}";
}

}  // namespace mltrack::serving
