#include "models/als/als_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>
#include <utility>

#include <Eigen/Core>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/parallel.h"
#include "models/bundle/array_file.h"
#include "models/bundle/flavor_files.h"
#include "models/bundle/file_util.h"
#include "models/bundle/input_example.h"
#include "mltrack/error.h"

namespace mltrack::als {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using models::DataType;

constexpr const char* kModelFile = "model.json";
constexpr const char* kUserFactorsFile = "user_factors.bin";
constexpr const char* kItemFactorsFile = "item_factors.bin";
constexpr const char* kUserIdsFile = "user_ids.bin";
constexpr const char* kItemIdsFile = "item_ids.bin";
constexpr const char* kUserColumn = "user";
constexpr const char* kItemColumn = "item";
constexpr const char* kPredictionColumn = "prediction";
constexpr int kMaxRank = 1000;  // AlsOptions' range; bounds what a damaged file can ask for
// Users per RecommendAll task, and items per matrix product: a block's chunk of scores
// (256 x 512 doubles, 1 MB) stays in cache while it is selected from.
constexpr size_t kUsersPerBlock = 256;
constexpr Eigen::Index kItemsPerChunk = 512;
// Pairs per PredictIndices task.
constexpr size_t kPairsPerTask = 4096;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Row-major views of the factor arrays' first k columns (the bias is the last column).
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using FactorView = Eigen::Map<const RowMajor, Eigen::Unaligned, Eigen::OuterStride<>>;

constexpr std::string_view kTitle = "ALS";  // "Invalid ALS bundle: ..."

[[noreturn]] void Damaged(std::string_view problem) { models::ThrowDamagedBundle(kTitle, problem); }

using models::ShapeText;

template <typename T>
models::Array<T> ReadBundleArray(const fs::path& dir, const char* file) {
  return models::ReadFlavorArray<T>(dir, file, kTitle);
}

const json& Field(const json& model, const char* key) {
  return models::JsonField(model, key, kTitle);
}

bool BoolField(const json& model, const char* key) {
  return models::JsonBoolField(model, key, kTitle);
}

std::string StringField(const json& model, const char* key) {
  return models::JsonStringField(model, key, kTitle);
}

// Ids, one per factor row, strictly increasing (IdMap's binary search relies on it).
IdMap ReadIds(const fs::path& dir, const char* file) {
  auto ids = ReadBundleArray<int64_t>(dir, file);
  if (ids.shape.size() != 1) {
    Damaged(fmt::format("'{}' has shape {}, expected [N] (one id per factor row)", file,
                        ShapeText(ids.shape)));
  }
  for (size_t i = 1; i < ids.values.size(); ++i) {
    if (ids.values[i] <= ids.values[i - 1]) {
      Damaged(fmt::format("'{}' holds id {} at position {} after id {}: ids must be strictly "
                          "increasing",
                          file, ids.values[i], i, ids.values[i - 1]));
    }
  }
  return IdMap(std::move(ids.values));
}

std::vector<double> ReadFactors(const fs::path& dir, const char* file, const char* what,
                                size_t rows, int rank, const char* ids_file) {
  auto factors = ReadBundleArray<double>(dir, file);
  const std::vector<uint64_t> expected{rows, static_cast<uint64_t>(rank) + 1};
  if (factors.shape != expected) {
    Damaged(fmt::format("'{}' has shape {}, expected {} ({} {} in '{}', rank {} + 1 bias "
                        "column)",
                        file, ShapeText(factors.shape), ShapeText(expected), rows, what, ids_file,
                        rank));
  }
  for (size_t i = 0; i < factors.values.size(); ++i) {
    if (!std::isfinite(factors.values[i])) {
      Damaged(fmt::format("'{}' holds {} at row {}, column {}: factors must be finite", file,
                          factors.values[i], i / (rank + 1), i % (rank + 1)));
    }
  }
  return std::move(factors.values);
}

// The first row whose bias (last column) is not 0, or -1.
int64_t FirstNonZeroBias(const std::vector<double>& factors, int rank) {
  const size_t width = static_cast<size_t>(rank) + 1;
  for (size_t row = 0; row * width < factors.size(); ++row) {
    if (factors[row * width + rank] != 0) return static_cast<int64_t>(row);
  }
  return -1;
}

// The ids of an input column as int64: a long column, or a double column of integer values.
std::vector<int64_t> IdColumn(const models::Table& input, const char* name) {
  const models::Column* column = input.Find(name);
  if (column == nullptr) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Missing required column '{}'", name));
  }
  if (const auto* ids = std::get_if<std::vector<int64_t>>(&column->values)) return *ids;
  if (const auto* values = std::get_if<std::vector<double>>(&column->values)) {
    std::vector<int64_t> ids(values->size());
    for (size_t row = 0; row < values->size(); ++row) {
      const double v = (*values)[row];
      // 2^63 is exactly representable; every double below it in magnitude that is an integer
      // converts exactly.
      if (!(v == std::trunc(v) && v >= -0x1p63 && v < 0x1p63)) {
        throw Error(ErrorCode::kInvalidParameterValue,
                    fmt::format("Column '{}' has value {} at row {}, which is not an integer id",
                                name, v, row));
      }
      ids[row] = static_cast<int64_t>(v);
    }
    return ids;
  }
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Column '{}' has type {}, expected long", name,
                          models::DataTypeName(models::ValueType(column->values))));
}

// One scored candidate; `Better` orders best first: higher score, then smaller item index.
struct Candidate {
  double score;
  int32_t item;
};
bool Better(const Candidate& a, const Candidate& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

// The k best items of one user, offered chunk after chunk in increasing item order.
class TopKSelector {
 public:
  // `skip`: sorted item indices to leave out.
  void Reset(int k, std::span<const int32_t> skip) {
    heap_.clear();
    k_ = static_cast<size_t>(k);
    skip_ = skip.data();
    skip_end_ = skip.data() + skip.size();
  }
  // The scores of items first .. first + n - 1.
  void Offer(const double* scores, int32_t first, int32_t n) {
    if (k_ == 0) return;
    int32_t j = 0;
    // Fill with the first k items not skipped; then `heap_` is a heap whose top is its worst.
    for (; j < n && heap_.size() < k_; ++j) {
      if (Skipped(first + j)) continue;
      heap_.push_back({scores[j], first + j});
      if (heap_.size() == k_) std::make_heap(heap_.begin(), heap_.end(), Better);
    }
    if (j == n) return;
    // Items come in increasing index order, so one with the worst's score comes after it and
    // loses the tie: only a strictly higher score gets in.
    double worst = heap_.front().score;
    for (; j < n; ++j) {
      if (scores[j] <= worst || Skipped(first + j)) continue;
      std::pop_heap(heap_.begin(), heap_.end(), Better);
      heap_.back() = {scores[j], first + j};
      std::push_heap(heap_.begin(), heap_.end(), Better);
      worst = heap_.front().score;
    }
  }
  // The selection, best first.
  const std::vector<Candidate>& Finish() {
    std::sort(heap_.begin(), heap_.end(), Better);
    return heap_;
  }

 private:
  // Called with increasing items, so the cursor only moves forward.
  bool Skipped(int32_t item) {
    while (skip_ != skip_end_ && *skip_ < item) ++skip_;
    return skip_ != skip_end_ && *skip_ == item;
  }

  size_t k_ = 0;
  std::vector<Candidate> heap_;
  const int32_t* skip_ = nullptr;
  const int32_t* skip_end_ = nullptr;
};

// The k best items of users [first, first + count) into selectors[0 .. count) (already Reset),
// scoring a chunk of items at a time: (global_mean + b_u + b_i) + x_u . y_i, the dot products
// of a chunk as one matrix product small enough to stay in cache while it is selected from.
void SelectBlock(const AlsFactors& f, size_t first, size_t count,
                 std::span<TopKSelector> selectors) {
  const int k = f.rank;
  const Eigen::Index items = static_cast<Eigen::Index>(f.items.size());
  FactorView x(f.user_factors.data() + first * (k + 1), static_cast<Eigen::Index>(count), k,
               Eigen::OuterStride<>(k + 1));
  FactorView y(f.item_factors.data(), items, k, Eigen::OuterStride<>(k + 1));
  std::vector<double> base(count);
  for (size_t r = 0; r < count; ++r) {
    base[r] = f.global_mean + f.user_factors[(first + r) * (k + 1) + k];
  }
  RowMajor scores;
  for (Eigen::Index chunk = 0; chunk < items; chunk += kItemsPerChunk) {
    const Eigen::Index n = std::min<Eigen::Index>(kItemsPerChunk, items - chunk);
    scores.resize(static_cast<Eigen::Index>(count), n);
    scores.noalias() = x * y.middleRows(chunk, n).transpose();
    const double* bias = f.item_factors.data() + chunk * (k + 1) + k;
    for (size_t r = 0; r < count; ++r) {
      double* row = scores.data() + r * n;
      for (Eigen::Index i = 0; i < n; ++i) row[i] = (base[r] + bias[i * (k + 1)]) + row[i];
      selectors[r].Offer(row, static_cast<int32_t>(chunk), static_cast<int32_t>(n));
    }
  }
}

}  // namespace

SeenItems SeenItems::FromRatings(const Ratings& ratings, const IdMap& users, const IdMap& items) {
  const size_t n = ratings.size();
  std::vector<int64_t> user_index(n), item_index(n);
  SeenItems seen;
  seen.offsets.assign(users.size() + 1, 0);
  for (size_t r = 0; r < n; ++r) {
    user_index[r] = users.Index(ratings.user[r]);
    item_index[r] = items.Index(ratings.item[r]);
    if (user_index[r] >= 0 && item_index[r] >= 0) ++seen.offsets[user_index[r] + 1];
  }
  for (size_t u = 0; u < users.size(); ++u) seen.offsets[u + 1] += seen.offsets[u];
  std::vector<int64_t> next(seen.offsets.begin(), seen.offsets.end() - 1);
  seen.items.resize(seen.offsets.back());
  for (size_t r = 0; r < n; ++r) {
    if (user_index[r] < 0 || item_index[r] < 0) continue;
    seen.items[next[user_index[r]]++] = static_cast<int32_t>(item_index[r]);
  }
  // Sort each user's items and drop repeated ratings of an item, compacting in place.
  int64_t out = 0;
  for (size_t u = 0; u < users.size(); ++u) {
    auto first = seen.items.begin() + seen.offsets[u];
    auto last = seen.items.begin() + seen.offsets[u + 1];
    std::sort(first, last);
    last = std::unique(first, last);
    seen.offsets[u] = out;
    out = std::copy(first, last, seen.items.begin() + out) - seen.items.begin();
  }
  seen.offsets[users.size()] = out;
  seen.items.resize(out);
  return seen;
}

AlsModel::AlsModel(AlsFactors factors, bool implicit, bool biases, ColdStart cold_start)
    : factors_(std::move(factors)), implicit_(implicit), biases_(biases), cold_start_(cold_start) {
  const AlsFactors& f = factors_;
  const size_t width = static_cast<size_t>(f.rank) + 1;
  if (f.rank < 1 || f.user_factors.size() != f.users.size() * width ||
      f.item_factors.size() != f.items.size() * width) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("ALS factors of rank {} need {} x {} user and {} x {} item values, "
                            "got {} and {}",
                            f.rank, f.users.size(), width, f.items.size(), width,
                            f.user_factors.size(), f.item_factors.size()));
  }
  if (f.items.size() > static_cast<size_t>(INT32_MAX)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("ALS models hold at most {} items, got {}", INT32_MAX,
                            f.items.size()));
  }
  if (!biases && (f.global_mean != 0 || FirstNonZeroBias(f.user_factors, f.rank) >= 0 ||
                  FirstNonZeroBias(f.item_factors, f.rank) >= 0)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                "An ALS model without biases needs a global mean and bias columns of 0");
  }
}

double AlsModel::PredictPair(int64_t user, int64_t item) const {
  const int64_t u = factors_.users.Index(user), i = factors_.items.Index(item);
  if (u < 0 || i < 0) return kNaN;
  const int64_t one[] = {u}, other[] = {i};
  double out;
  PredictIndices(one, other, std::span<double>(&out, 1), 1);
  return out;
}

void AlsModel::PredictIndices(std::span<const int64_t> users, std::span<const int64_t> items,
                              std::span<double> out, int threads) const {
  if (users.size() != items.size() || out.size() != users.size()) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("PredictIndices takes as many users, items and outputs; got {}, {} "
                            "and {}",
                            users.size(), items.size(), out.size()));
  }
  const AlsFactors& f = factors_;
  const int k = f.rank;
  const int64_t num_users = static_cast<int64_t>(f.users.size());
  const int64_t num_items = static_cast<int64_t>(f.items.size());
  const size_t tasks = (users.size() + kPairsPerTask - 1) / kPairsPerTask;
  ParallelFor(tasks, ResolveThreads(threads), [&](size_t task) {
    const size_t end = std::min(users.size(), (task + 1) * kPairsPerTask);
    for (size_t p = task * kPairsPerTask; p < end; ++p) {
      const int64_t u = users[p], i = items[p];
      if (u < 0 || u >= num_users || i < 0 || i >= num_items) {
        out[p] = kNaN;
        continue;
      }
      const double* x = f.user_factors.data() + u * (k + 1);
      const double* y = f.item_factors.data() + i * (k + 1);
      double dot = 0;
      for (int c = 0; c < k; ++c) dot += x[c] * y[c];
      // The same order as RecommendAll: (mean + user bias + item bias) + dot.
      out[p] = f.global_mean + x[k] + y[k] + dot;
    }
  });
}

models::Table AlsModel::Predict(const models::Table& input) const {
  std::vector<int64_t> users = IdColumn(input, kUserColumn);
  std::vector<int64_t> items = IdColumn(input, kItemColumn);
  for (int64_t& u : users) u = factors_.users.Index(u);
  for (int64_t& i : items) i = factors_.items.Index(i);
  std::vector<double> predictions(users.size());
  PredictIndices(users, items, predictions);
  models::Table out;
  out.AddColumn(kPredictionColumn, std::move(predictions));
  return out;
}

std::vector<std::pair<int64_t, double>> AlsModel::Recommend(
    int64_t user, int k, std::span<const int64_t> exclude) const {
  if (k < 0) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Cannot recommend {} items: the count must be at least 0", k));
  }
  const int64_t u = factors_.users.Index(user);
  if (u < 0 || k == 0) return {};
  std::vector<int32_t> skip;
  for (int64_t id : exclude) {
    const int64_t i = factors_.items.Index(id);
    if (i >= 0) skip.push_back(static_cast<int32_t>(i));
  }
  std::sort(skip.begin(), skip.end());
  TopKSelector selector;
  selector.Reset(k, skip);
  SelectBlock(factors_, static_cast<size_t>(u), 1, std::span<TopKSelector>(&selector, 1));
  const std::vector<Candidate>& best = selector.Finish();
  std::vector<std::pair<int64_t, double>> out;
  out.reserve(best.size());
  for (const Candidate& c : best) out.emplace_back(factors_.items.Id(c.item), c.score);
  return out;
}

TopK AlsModel::RecommendAll(int k, const SeenItems* seen, int threads) const {
  if (k < 0) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Cannot recommend {} items: the count must be at least 0", k));
  }
  const size_t num_users = factors_.users.size();
  const int32_t num_items = static_cast<int32_t>(factors_.items.size());
  if (seen != nullptr) {
    if (seen->offsets.size() != num_users + 1 || seen->offsets.front() != 0 ||
        seen->offsets.back() != static_cast<int64_t>(seen->items.size())) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("The seen items have {} offsets over {} items; the model has {} "
                              "users (expected {} offsets from 0 to the item count)",
                              seen->offsets.size(), seen->items.size(), num_users,
                              num_users + 1));
    }
    for (int32_t i : seen->items) {
      if (i < 0 || i >= num_items) {
        throw Error(ErrorCode::kInvalidParameterValue,
                    fmt::format("The seen items hold item index {}; the model has {} items", i,
                                num_items));
      }
    }
  }
  TopK top;
  top.k = k;
  const size_t slots = num_users * static_cast<size_t>(k);
  top.count.assign(num_users, 0);
  top.items.assign(slots, -1);
  top.scores.assign(slots, std::numeric_limits<float>::quiet_NaN());
  const size_t blocks = (num_users + kUsersPerBlock - 1) / kUsersPerBlock;
  ParallelFor(blocks, ResolveThreads(threads), [&](size_t block) {
    const size_t first = block * kUsersPerBlock;
    const size_t count = std::min(num_users, first + kUsersPerBlock) - first;
    std::vector<TopKSelector> selectors(count);
    for (size_t r = 0; r < count; ++r) {
      const size_t u = first + r;
      std::span<const int32_t> skip;
      if (seen != nullptr) {
        skip = std::span<const int32_t>(seen->items.data() + seen->offsets[u],
                                        seen->items.data() + seen->offsets[u + 1]);
      }
      selectors[r].Reset(k, skip);
    }
    SelectBlock(factors_, first, count, selectors);
    for (size_t r = 0; r < count; ++r) {
      const size_t u = first + r;
      const std::vector<Candidate>& best = selectors[r].Finish();
      top.count[u] = static_cast<int32_t>(best.size());
      for (size_t j = 0; j < best.size(); ++j) {
        top.items[u * k + j] = best[j].item;
        top.scores[u * k + j] = static_cast<float>(best[j].score);
      }
    }
  });
  return top;
}

void AlsModel::WriteRecommendations(const fs::path& path, const TopK& top) const {
  const size_t num_users = factors_.users.size();
  const int64_t num_items = static_cast<int64_t>(factors_.items.size());
  const size_t k = static_cast<size_t>(std::max(top.k, 0));
  if (top.count.size() != num_users || top.items.size() != num_users * k ||
      top.scores.size() != num_users * k) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("The recommendations cover {} users with {} item slots; the model "
                            "has {} users, which need {} slots for k = {}",
                            top.count.size(), top.items.size(), num_users, num_users * k, top.k));
  }
  AtomicFileWriter writer(path, fmt::format("Cannot write '{}'", path.string()));
  fmt::memory_buffer buffer;
  fmt::format_to(std::back_inserter(buffer), "user,item,rank,score\n");
  for (size_t u = 0; u < num_users; ++u) {
    const size_t count = static_cast<size_t>(std::clamp<int32_t>(top.count[u], 0, top.k));
    for (size_t j = 0; j < count; ++j) {
      const int32_t item = top.items[u * k + j];
      if (item < 0 || item >= num_items) {
        throw Error(ErrorCode::kInvalidParameterValue,
                    fmt::format("The recommendations of user {} hold item index {}; the model "
                                "has {} items",
                                factors_.users.Id(u), item, num_items));
      }
      // {} of a float is its shortest text that reads back as the same float.
      fmt::format_to(std::back_inserter(buffer), "{},{},{},{}\n", factors_.users.Id(u),
                     factors_.items.Id(item), j + 1, top.scores[u * k + j]);
    }
    if (buffer.size() >= (1 << 20)) {
      writer.Write(buffer.data(), buffer.size());
      buffer.clear();
    }
  }
  writer.Write(buffer.data(), buffer.size());
  writer.Commit();
}

void AlsModel::Save(const fs::path& dir, models::ModelMeta meta,
                    const std::optional<models::Table>& input_example) const {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot create the bundle folder '{}': {}", dir.string(),
                            ec.message()));
  }
  const AlsFactors& f = factors_;
  if (!std::isfinite(f.global_mean)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Cannot save an ALS model whose global mean is {}", f.global_mean));
  }
  const uint64_t width = static_cast<uint64_t>(f.rank) + 1;
  const uint64_t users = f.users.size(), items = f.items.size();
  models::WriteArrayFile(dir / kUserFactorsFile, std::vector<uint64_t>{users, width},
                         std::span<const double>(f.user_factors));
  models::WriteArrayFile(dir / kItemFactorsFile, std::vector<uint64_t>{items, width},
                         std::span<const double>(f.item_factors));
  models::WriteArrayFile(dir / kUserIdsFile, std::vector<uint64_t>{users},
                         std::span<const int64_t>(f.users.ids()));
  models::WriteArrayFile(dir / kItemIdsFile, std::vector<uint64_t>{items},
                         std::span<const int64_t>(f.items.ids()));
  // nlohmann writes doubles in the shortest form that parses back to the same value, and
  // objects with sorted keys: the same model gives the same bytes.
  json model = {{"format_version", kAlsFormatVersion},
                {"rank", f.rank},
                {"implicit", implicit_},
                {"biases", biases_},
                {"global_mean", f.global_mean},
                {"cold_start", ColdStartName(cold_start_)},
                {"user_column", kUserColumn},
                {"item_column", kItemColumn}};
  models::WriteFileAtomically(dir / kModelFile, model.dump(1) + "\n");
  meta.flavors[kAlsFlavor] = {{"data", kModelFile},
                              {"user_factors", kUserFactorsFile},
                              {"item_factors", kItemFactorsFile},
                              {"user_ids", kUserIdsFile},
                              {"item_ids", kItemIdsFile},
                              {"format_version", kAlsFormatVersion}};
  meta.signature = models::Signature{
      .inputs = models::InferSchema({{kUserColumn, DataType::kLong}, {kItemColumn, DataType::kLong}}),
      .outputs = models::InferSchema({{kPredictionColumn, DataType::kDouble}})};
  if (input_example) models::WriteInputExample(dir, *input_example, meta);
  models::WriteMlmodel(dir / models::kMlmodelFileName, meta);
}

std::unique_ptr<models::Model> AlsModel::Load(const fs::path& dir, const models::ModelMeta& meta) {
  json model = models::ReadFlavorModelJson(dir, meta, kAlsFlavor, kAlsFormatVersion, kTitle);
  const json& rank_field = Field(model, "rank");
  if (!rank_field.is_number_integer() || rank_field.get<int64_t>() < 1 ||
      rank_field.get<int64_t>() > kMaxRank) {
    Damaged(fmt::format("'{}' field 'rank' is {}; it must be an integer between 1 and {}",
                        kModelFile, rank_field.dump(), kMaxRank));
  }
  const int rank = rank_field.get<int>();
  const bool implicit = BoolField(model, "implicit");
  const bool biases = BoolField(model, "biases");
  if (biases && implicit) {
    Damaged(fmt::format("'{}' has biases with implicit feedback; biases apply to explicit "
                        "feedback only",
                        kModelFile));
  }
  const json& mean = Field(model, "global_mean");
  if (!mean.is_number()) {
    Damaged(fmt::format("'{}' field 'global_mean' must be a number, got {}", kModelFile,
                        mean.dump()));
  }
  const double global_mean = mean.get<double>();
  const std::string cold_start_name = StringField(model, "cold_start");
  if (cold_start_name != ColdStartName(ColdStart::kNan) &&
      cold_start_name != ColdStartName(ColdStart::kDrop)) {
    Damaged(fmt::format("'{}' field 'cold_start' is \"{}\"; expected \"nan\" or \"drop\"",
                        kModelFile, cold_start_name));
  }
  for (const auto& [key, expected] : {std::pair{"user_column", kUserColumn},
                                      std::pair{"item_column", kItemColumn}}) {
    const std::string column = StringField(model, key);
    if (column != expected) {
      Damaged(fmt::format("'{}' field '{}' is \"{}\"; this mltrack reads \"{}\"", kModelFile,
                          key, column, expected));
    }
  }

  AlsFactors factors;
  factors.rank = rank;
  factors.global_mean = global_mean;
  factors.users = ReadIds(dir, kUserIdsFile);
  factors.items = ReadIds(dir, kItemIdsFile);
  if (factors.items.size() > static_cast<size_t>(INT32_MAX)) {
    Damaged(fmt::format("'{}' holds {} ids; an ALS model holds at most {} items", kItemIdsFile,
                        factors.items.size(), INT32_MAX));
  }
  factors.user_factors =
      ReadFactors(dir, kUserFactorsFile, "users", factors.users.size(), rank, kUserIdsFile);
  factors.item_factors =
      ReadFactors(dir, kItemFactorsFile, "items", factors.items.size(), rank, kItemIdsFile);
  if (!biases) {
    if (global_mean != 0) {
      Damaged(fmt::format("'{}' has global_mean {} without biases; it must be 0", kModelFile,
                          mean.dump()));
    }
    for (const auto& [file, array] : {std::pair{kUserFactorsFile, &factors.user_factors},
                                      std::pair{kItemFactorsFile, &factors.item_factors}}) {
      const int64_t row = FirstNonZeroBias(*array, rank);
      if (row >= 0) {
        Damaged(fmt::format("'{}' row {} has bias {}, but '{}' says the model has no biases",
                            file, row, (*array)[row * (rank + 1) + rank], kModelFile));
      }
    }
  }
  return std::make_unique<AlsModel>(std::move(factors), implicit, biases,
                                    ParseColdStart(cold_start_name));
}

void RegisterAlsFlavor(models::FlavorRegistry& registry) {
  if (registry.Find(kAlsFlavor)) return;
  try {
    registry.Register(kAlsFlavor, &AlsModel::Load);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kResourceAlreadyExists) throw;  // registered meanwhile
  }
}

}  // namespace mltrack::als
