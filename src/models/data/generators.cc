#include "models/data/generators.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mltrack/error.h"
#include "models/data/mix64.h"

namespace mltrack::data {
namespace {

// --- random streams ---------------------------------------------------------------------------

// Keys of the independent streams one seed gives: the fixed parameters of a data set (centroids,
// maps, weights, factors) and the rows. Distinct per generator so that, say, classification and
// regression with the same seed do not share noise.
enum class Stream : uint64_t {
  kClassificationParams = 1,
  kClassificationRows,
  kRegressionParams,
  kRegressionRows,
  kRatingsParams,
  kRatingsRows,
  kRatingsUsers,
  kRatingsPairs,
};

uint64_t StreamKey(uint64_t seed, Stream stream) {
  return Mix64(Mix64(seed) ^ (static_cast<uint64_t>(stream) * 0xd1b54a32d192ed03ULL));
}

// xoshiro256** (Blackman and Vigna) seeded by splitmix64 from (key, index): one independent
// stream per row (or per user, per data set's parameters), so a row never depends on the rows
// generated before it.
class Rng {
 public:
  Rng(uint64_t key, uint64_t index) {
    uint64_t x = key ^ Mix64(index ^ 0x6a09e667f3bcc909ULL);
    for (uint64_t& word : s_) {
      x += 0x9e3779b97f4a7c15ULL;
      word = Mix64(x);
    }
  }

  uint64_t Next() {
    uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1), 53 bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Uniform in [0, n) (Lemire's multiply; the bias is below 2^-64 * n).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

  // Standard normal by Box–Muller; the second value of each pair is kept for the next call.
  double Gaussian() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = static_cast<double>((Next() >> 11) + 1) * 0x1.0p-53;  // (0, 1]: log is finite
    double u2 = Uniform();
    double radius = std::sqrt(-2.0 * std::log(u1));
    double angle = 2.0 * std::numbers::pi * u2;
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

[[noreturn]] void InvalidSpec(std::string_view kind, const std::string& problem) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid {} spec: {}", kind, problem));
}

// The rows [first, first + count) of `rows`, clamped at the end.
uint64_t SliceCount(std::string_view kind, uint64_t rows, uint64_t first, uint64_t count) {
  if (first > rows) {
    InvalidSpec(kind, fmt::format("first row ({}) is beyond the {} rows", first, rows));
  }
  return std::min(count, rows - first);
}

std::vector<std::vector<double>> DoubleColumns(size_t columns, size_t rows) {
  std::vector<std::vector<double>> out(columns);
  for (auto& column : out) column.resize(rows);
  return out;
}

void AddFeatureColumns(models::Table& table, std::vector<std::vector<double>>& columns) {
  for (size_t j = 0; j < columns.size(); ++j) {
    table.AddColumn(fmt::format("f{}", j), std::move(columns[j]));
  }
}

// --- classification -----------------------------------------------------------------------------

// More clusters would make the per-cluster I x I maps a memory problem, not a data set.
constexpr int64_t kMaxClusters = 1 << 16;

void ValidateClassification(const ClassificationSpec& spec) {
  constexpr std::string_view kKind = "classification";
  if (spec.features < 1) {
    InvalidSpec(kKind, fmt::format("features ({}) must be at least 1", spec.features));
  }
  if (spec.informative < 1) {
    InvalidSpec(kKind, fmt::format("informative ({}) must be at least 1", spec.informative));
  }
  if (spec.redundant < 0) {
    InvalidSpec(kKind, fmt::format("redundant ({}) must not be negative", spec.redundant));
  }
  if (static_cast<int64_t>(spec.informative) + spec.redundant > spec.features) {
    InvalidSpec(kKind, fmt::format("informative ({}) + redundant ({}) exceeds features ({})",
                                   spec.informative, spec.redundant, spec.features));
  }
  if (spec.classes < 2) {
    InvalidSpec(kKind, fmt::format("classes ({}) must be at least 2", spec.classes));
  }
  if (spec.clusters_per_class < 1) {
    InvalidSpec(kKind, fmt::format("clusters_per_class ({}) must be at least 1",
                                   spec.clusters_per_class));
  }
  int64_t clusters = static_cast<int64_t>(spec.classes) * spec.clusters_per_class;
  if (spec.informative < 63 && clusters > (int64_t{1} << spec.informative)) {
    InvalidSpec(kKind, fmt::format("classes ({}) * clusters_per_class ({}) exceeds "
                                   "2^informative ({})",
                                   spec.classes, spec.clusters_per_class,
                                   int64_t{1} << spec.informative));
  }
  if (clusters > kMaxClusters) {
    InvalidSpec(kKind, fmt::format("classes ({}) * clusters_per_class ({}) exceeds {}",
                                   spec.classes, spec.clusters_per_class, kMaxClusters));
  }
  if (!(spec.class_sep >= 0.0 && std::isfinite(spec.class_sep))) {
    InvalidSpec(kKind,
                fmt::format("class_sep ({}) must be a finite number >= 0", spec.class_sep));
  }
  if (!(spec.flip_y >= 0.0 && spec.flip_y <= 1.0)) {
    InvalidSpec(kKind, fmt::format("flip_y ({}) must be in [0, 1]", spec.flip_y));
  }
}

// What a classification data set shares between rows; from the seed alone.
struct ClassificationModel {
  int informative = 0;
  int redundant = 0;
  int clusters = 0;
  std::vector<int64_t> cluster_class;  // clusters
  std::vector<double> centroids;      // clusters x informative
  std::vector<double> transforms;     // clusters x informative x informative, row-major A_k
  std::vector<double> redundant_map;  // informative x redundant
};

// `count` distinct vertices of the hypercube {0, 1}^dims, in a random order, as bit vectors.
std::vector<std::vector<uint8_t>> HypercubeVertices(Rng& rng, int count, int dims) {
  std::vector<std::vector<uint8_t>> vertices;
  vertices.reserve(count);
  if (dims <= 62) {
    // Floyd's sampling of `count` distinct integers below 2^dims, then a shuffle of their order.
    uint64_t n = uint64_t{1} << dims;
    std::unordered_set<uint64_t> chosen;
    std::vector<uint64_t> order;
    for (uint64_t j = n - count; j < n; ++j) {
      uint64_t t = rng.Below(j + 1);
      uint64_t pick = chosen.count(t) ? j : t;
      chosen.insert(pick);
      order.push_back(pick);
    }
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
    for (uint64_t code : order) {
      std::vector<uint8_t> bits(dims);
      for (int d = 0; d < dims; ++d) bits[d] = (code >> d) & 1;
      vertices.push_back(std::move(bits));
    }
    return vertices;
  }
  // 2^dims is vast: draw random vertices and skip the (astronomically rare) repeats.
  std::set<std::vector<uint8_t>> seen;
  while (static_cast<int>(vertices.size()) < count) {
    std::vector<uint8_t> bits(dims);
    for (auto& bit : bits) bit = rng.Next() >> 63;
    if (seen.insert(bits).second) vertices.push_back(std::move(bits));
  }
  return vertices;
}

ClassificationModel BuildClassificationModel(const ClassificationSpec& spec) {
  ClassificationModel m;
  m.informative = spec.informative;
  m.redundant = spec.redundant;
  m.clusters = spec.classes * spec.clusters_per_class;
  const int inf = m.informative;
  Rng rng(StreamKey(spec.seed, Stream::kClassificationParams), 0);
  // As scikit-learn: vertices of a hypercube of side 2 * class_sep centred on the origin.
  auto vertices = HypercubeVertices(rng, m.clusters, inf);
  // Unlike scikit-learn (cluster k is class k % classes), a class's clusters are neighbours along
  // a random direction: the vertices sorted by their projection on it, cut into `classes` runs.
  // With scikit-learn's rule one seed in three of the defaults (2 informative, 2 x 2 clusters)
  // puts a class on opposite corners, an XOR no linear model can learn.
  std::vector<double> direction(inf);
  for (double& v : direction) v = rng.Gaussian();
  std::vector<std::pair<double, int>> projections;
  for (int k = 0; k < m.clusters; ++k) {
    double p = 0.0;
    for (int d = 0; d < inf; ++d) p += vertices[k][d] ? direction[d] : -direction[d];
    projections.push_back({p, k});
  }
  std::stable_sort(projections.begin(), projections.end());
  m.cluster_class.resize(m.clusters);
  for (int position = 0; position < m.clusters; ++position) {
    m.cluster_class[projections[position].second] = position / spec.clusters_per_class;
  }
  m.centroids.resize(static_cast<size_t>(m.clusters) * inf);
  for (int k = 0; k < m.clusters; ++k) {
    for (int d = 0; d < inf; ++d) {
      m.centroids[static_cast<size_t>(k) * inf + d] =
          vertices[k][d] ? spec.class_sep : -spec.class_sep;
    }
  }
  // Each cluster's covariance: a random linear map with entries uniform in [-1, 1).
  m.transforms.resize(static_cast<size_t>(m.clusters) * inf * inf);
  for (double& a : m.transforms) a = 2.0 * rng.Uniform() - 1.0;
  m.redundant_map.resize(static_cast<size_t>(inf) * m.redundant);
  for (double& b : m.redundant_map) b = 2.0 * rng.Uniform() - 1.0;
  return m;
}

}  // namespace

models::Table MakeClassification(const ClassificationSpec& spec, uint64_t first,
                                 uint64_t count) {
  ValidateClassification(spec);
  count = SliceCount("classification", spec.rows, first, count);
  const ClassificationModel m = BuildClassificationModel(spec);
  const int inf = m.informative;
  const int red = m.redundant;
  const int features = spec.features;
  const uint64_t row_key = StreamKey(spec.seed, Stream::kClassificationRows);

  auto columns = DoubleColumns(features, count);
  std::vector<int64_t> labels(count);
  std::vector<double> z(inf);
  std::vector<double> x(features);
  for (uint64_t i = 0; i < count; ++i) {
    // The order of draws from the row's stream is part of the data set's definition.
    Rng rng(row_key, first + i);
    int cluster = static_cast<int>(rng.Below(m.clusters));
    for (double& v : z) v = rng.Gaussian();
    const double* a = &m.transforms[static_cast<size_t>(cluster) * inf * inf];
    const double* centroid = &m.centroids[static_cast<size_t>(cluster) * inf];
    for (int j = 0; j < inf; ++j) x[j] = centroid[j];
    for (int r = 0; r < inf; ++r) {  // x_inf = z A_k + centroid_k
      const double zr = z[r];
      const double* row = a + static_cast<size_t>(r) * inf;
      for (int j = 0; j < inf; ++j) x[j] += zr * row[j];
    }
    for (int j = 0; j < red; ++j) x[inf + j] = 0.0;
    for (int r = 0; r < inf; ++r) {  // x_red = x_inf B
      const double xr = x[r];
      const double* row = &m.redundant_map[static_cast<size_t>(r) * red];
      for (int j = 0; j < red; ++j) x[inf + j] += xr * row[j];
    }
    for (int j = inf + red; j < features; ++j) x[j] = rng.Gaussian();
    int64_t label = m.cluster_class[cluster];
    // As scikit-learn: a flipped label is drawn uniformly, so it may land on the same class.
    if (rng.Uniform() < spec.flip_y) label = static_cast<int64_t>(rng.Below(spec.classes));
    for (int j = 0; j < features; ++j) columns[j][i] = x[j];
    labels[i] = label;
  }
  models::Table table;
  AddFeatureColumns(table, columns);
  table.AddColumn("label", std::move(labels));
  return table;
}

// --- regression ---------------------------------------------------------------------------------

namespace {

void ValidateRegression(const RegressionSpec& spec) {
  constexpr std::string_view kKind = "regression";
  if (spec.features < 1) {
    InvalidSpec(kKind, fmt::format("features ({}) must be at least 1", spec.features));
  }
  if (spec.informative < 0) {
    InvalidSpec(kKind, fmt::format("informative ({}) must not be negative", spec.informative));
  }
  if (spec.informative > spec.features) {
    InvalidSpec(kKind, fmt::format("informative ({}) exceeds features ({})", spec.informative,
                                   spec.features));
  }
  if (!(spec.noise >= 0.0 && std::isfinite(spec.noise))) {
    InvalidSpec(kKind, fmt::format("noise ({}) must be a finite number >= 0", spec.noise));
  }
}

}  // namespace

models::Table MakeRegression(const RegressionSpec& spec, uint64_t first, uint64_t count) {
  ValidateRegression(spec);
  count = SliceCount("regression", spec.rows, first, count);
  // As scikit-learn: `informative` weights uniform in [0, 100), the others zero; the informative
  // features are at positions chosen from the seed (scikit-learn shuffles the columns).
  Rng params(StreamKey(spec.seed, Stream::kRegressionParams), 0);
  std::vector<int> order(spec.features);
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[params.Below(i)]);
  std::vector<double> weights(spec.features, 0.0);
  for (int k = 0; k < spec.informative; ++k) weights[order[k]] = 100.0 * params.Uniform();

  const uint64_t row_key = StreamKey(spec.seed, Stream::kRegressionRows);
  auto columns = DoubleColumns(spec.features, count);
  std::vector<double> labels(count);
  for (uint64_t i = 0; i < count; ++i) {
    Rng rng(row_key, first + i);
    double y = 0.0;
    for (int j = 0; j < spec.features; ++j) {
      double v = rng.Gaussian();
      columns[j][i] = v;
      y += weights[j] * v;
    }
    if (spec.noise > 0.0) y += spec.noise * rng.Gaussian();
    labels[i] = y;
  }
  models::Table table;
  AddFeatureColumns(table, columns);
  table.AddColumn("label", std::move(labels));
  return table;
}

// --- ratings ------------------------------------------------------------------------------------
//
// Row addressability without duplicate pairs. The data set is defined by how many ratings each
// item gets, n_i: Zipf weights 1/(popularity rank + 1) over a seeded random order of the items,
// water-filled so that no item gets more than `users` ratings, rounded (largest remainder) so
// that they sum to `ratings` exactly. The n_i lay out "slots" item by item: slot s belongs to
// item i when cum_i <= s < cum_i + n_i, at offset o = s - cum_i, and its user is P_i(o) for a
// seeded pseudo-random permutation P_i of [0, users) — distinct offsets give distinct users, so
// no (user, item) pair repeats. Row r takes slot Q(r) for a seeded pseudo-random permutation Q of
// [0, ratings), so rows come in a shuffled order. Both permutations are keyed 4-round Feistel
// networks on the next even power of two with cycle walking: O(1) per row, no state.

namespace {

// A keyed pseudo-random permutation of [0, n).
class Permutation {
 public:
  Permutation(uint64_t n, uint64_t key) : n_(n), key_(key) {
    int bits = 0;
    while (bits < 64 && (uint64_t{1} << bits) < n) ++bits;
    half_ = (bits + 1) / 2;
    mask_ = half_ == 0 ? 0 : (half_ == 32 ? 0xffffffffULL : (uint64_t{1} << half_) - 1);
  }

  uint64_t operator()(uint64_t x) const {
    if (n_ <= 1) return 0;
    // Cycle walking: the network permutes [0, 4^half), whose cycles through [0, n) return to it.
    do x = Encrypt(x); while (x >= n_);
    return x;
  }

 private:
  uint64_t Encrypt(uint64_t x) const {
    uint64_t left = x >> half_;
    uint64_t right = x & mask_;
    for (uint64_t round = 0; round < 4; ++round) {
      uint64_t f = Mix64(key_ ^ Mix64(right + (round << 60))) & mask_;
      uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    return (left << half_) | right;
  }

  uint64_t n_;
  uint64_t key_;
  int half_ = 0;
  uint64_t mask_ = 0;
};

void ValidateRatings(const RatingsSpec& spec) {
  constexpr std::string_view kKind = "ratings";
  if (spec.users < 1) InvalidSpec(kKind, fmt::format("users ({}) must be at least 1", spec.users));
  if (spec.items < 1) InvalidSpec(kKind, fmt::format("items ({}) must be at least 1", spec.items));
  if (spec.items > (int64_t{1} << 31)) {
    InvalidSpec(kKind, fmt::format("items ({}) exceeds 2^31", spec.items));
  }
  if (spec.rank < 1) InvalidSpec(kKind, fmt::format("rank ({}) must be at least 1", spec.rank));
  unsigned __int128 pairs =
      static_cast<unsigned __int128>(spec.users) * static_cast<unsigned __int128>(spec.items);
  if (spec.ratings > pairs) {
    InvalidSpec(kKind, fmt::format("ratings ({}) exceeds users ({}) * items ({})", spec.ratings,
                                   spec.users, spec.items));
  }
  if (!(spec.noise >= 0.0 && std::isfinite(spec.noise))) {
    InvalidSpec(kKind, fmt::format("noise ({}) must be a finite number >= 0", spec.noise));
  }
  auto is_half = [](double v) { return std::isfinite(v) && std::nearbyint(v * 2) == v * 2; };
  if (!is_half(spec.min_rating)) {
    InvalidSpec(kKind, fmt::format("min_rating ({}) must be a multiple of 0.5", spec.min_rating));
  }
  if (!is_half(spec.max_rating)) {
    InvalidSpec(kKind, fmt::format("max_rating ({}) must be a multiple of 0.5", spec.max_rating));
  }
  if (!(spec.min_rating < spec.max_rating)) {
    InvalidSpec(kKind, fmt::format("min_rating ({}) must be less than max_rating ({})",
                                   spec.min_rating, spec.max_rating));
  }
}

// n_i for each item id, summing to spec.ratings, each at most spec.users (see above).
std::vector<uint64_t> RatingsPerItem(const RatingsSpec& spec, Rng& rng) {
  const size_t items = static_cast<size_t>(spec.items);
  const uint64_t users = static_cast<uint64_t>(spec.users);
  std::vector<size_t> by_rank(items);  // by_rank[r]: the item of popularity rank r
  std::iota(by_rank.begin(), by_rank.end(), 0);
  for (size_t i = items; i > 1; --i) std::swap(by_rank[i - 1], by_rank[rng.Below(i)]);

  std::vector<long double> suffix(items + 1, 0.0L);  // sum of the weights of ranks >= r
  for (size_t r = items; r-- > 0;) suffix[r] = suffix[r + 1] + 1.0L / (r + 1);
  // Weights fall with rank, so the items filled to `users` are the first `capped` ranks.
  size_t capped = 0;
  while (capped < items) {
    long double left = static_cast<long double>(spec.ratings) -
                       static_cast<long double>(capped) * users;
    if (left * (1.0L / (capped + 1)) / suffix[capped] < users) break;
    ++capped;
  }
  std::vector<uint64_t> count_by_rank(items, 0);
  uint64_t assigned = 0;
  for (size_t r = 0; r < capped; ++r) count_by_rank[r] = users;
  assigned = capped * users;
  std::vector<std::pair<long double, size_t>> remainders;  // (fraction, rank)
  if (capped < items) {
    long double left = static_cast<long double>(spec.ratings - assigned);
    for (size_t r = capped; r < items; ++r) {
      long double ideal = left * (1.0L / (r + 1)) / suffix[capped];
      uint64_t whole = std::min<uint64_t>(static_cast<uint64_t>(ideal), users);
      count_by_rank[r] = whole;
      assigned += whole;
      remainders.push_back({ideal - whole, r});
    }
  }
  // Rounding: the largest remainders get one more; rounding errors of the long doubles are
  // absorbed by walking the list again (only counts below `users` grow).
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  while (assigned > spec.ratings) {
    for (auto it = remainders.rbegin(); it != remainders.rend() && assigned > spec.ratings; ++it) {
      if (count_by_rank[it->second] > 0) {
        --count_by_rank[it->second];
        --assigned;
      }
    }
  }
  while (assigned < spec.ratings) {
    bool grew = false;
    for (auto& [fraction, r] : remainders) {
      if (assigned == spec.ratings) break;
      if (count_by_rank[r] < users) {
        ++count_by_rank[r];
        ++assigned;
        grew = true;
      }
    }
    if (!grew) break;  // unreachable: ratings <= users * items was checked
  }
  std::vector<uint64_t> per_item(items, 0);
  for (size_t r = 0; r < items; ++r) per_item[by_rank[r]] = count_by_rank[r];
  return per_item;
}

// 2020-01-01T00:00:00Z and a two-year window for the timestamps, in seconds (MovieLens' unit).
constexpr int64_t kFirstTimestamp = 1'577'836'800;
constexpr uint64_t kTimestampWindow = 2 * 365 * 86'400;

}  // namespace

models::Table MakeRatings(const RatingsSpec& spec, uint64_t first, uint64_t count) {
  ValidateRatings(spec);
  count = SliceCount("ratings", spec.ratings, first, count);
  const int rank = spec.rank;
  Rng params(StreamKey(spec.seed, Stream::kRatingsParams), 0);
  std::vector<uint64_t> per_item = RatingsPerItem(spec, params);
  std::vector<uint64_t> starts(per_item.size() + 1, 0);  // cum_i
  for (size_t i = 0; i < per_item.size(); ++i) starts[i + 1] = starts[i] + per_item[i];

  // rating = mean + b_u + b_i + scale * <p_u, q_i> + noise, with p, q ~ N(0, 1/sqrt(rank)) per
  // entry so that <p, q> has unit variance whatever the rank.
  // The mean sits above the middle of the scale, as in MovieLens (3.5 of 5).
  const double mean = spec.min_rating + 0.65 * (spec.max_rating - spec.min_rating);
  const double scale = (spec.max_rating - spec.min_rating) / 4.0;
  const double factor_sd = 1.0 / std::sqrt(std::sqrt(static_cast<double>(rank)));
  constexpr double kBiasSd = 0.3;
  // Item factors (rank entries and a bias) are held for all items; a user's come from the user's
  // own stream, so there is no users x rank table however many users there are.
  std::vector<double> item_factors(per_item.size() * (rank + 1));
  for (double& v : item_factors) v = params.Gaussian();
  const uint64_t user_key = StreamKey(spec.seed, Stream::kRatingsUsers);
  const uint64_t pair_key = StreamKey(spec.seed, Stream::kRatingsPairs);
  const uint64_t row_key = StreamKey(spec.seed, Stream::kRatingsRows);
  const Permutation slot_of_row(spec.ratings, pair_key);

  std::vector<int64_t> user_column(count), item_column(count), time_column(count);
  std::vector<double> rating_column(count);
  std::vector<double> user_factor(rank + 1);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t slot = slot_of_row(first + i);
    size_t item = static_cast<size_t>(
        std::upper_bound(starts.begin(), starts.end(), slot) - starts.begin() - 1);
    uint64_t offset = slot - starts[item];
    const Permutation user_of_offset(static_cast<uint64_t>(spec.users),
                                     Mix64(pair_key ^ Mix64(item + 1)));
    uint64_t user = user_of_offset(offset);

    Rng user_rng(user_key, user);
    for (double& v : user_factor) v = user_rng.Gaussian();
    const double* q = &item_factors[item * (rank + 1)];
    double dot = 0.0;
    for (int d = 0; d < rank; ++d) dot += user_factor[d] * q[d];
    dot *= factor_sd * factor_sd;
    Rng rng(row_key, first + i);
    double value = mean + kBiasSd * (user_factor[rank] + q[rank]) + scale * dot +
                   spec.noise * rng.Gaussian();
    value = std::clamp(std::nearbyint(value * 2.0) / 2.0, spec.min_rating, spec.max_rating);

    user_column[i] = static_cast<int64_t>(user);
    item_column[i] = static_cast<int64_t>(item);
    rating_column[i] = value;
    time_column[i] = kFirstTimestamp + static_cast<int64_t>(rng.Below(kTimestampWindow));
  }
  models::Table table;
  table.AddColumn("user", std::move(user_column));
  table.AddColumn("item", std::move(item_column));
  table.AddColumn("rating", std::move(rating_column));
  table.AddColumn("timestamp", std::move(time_column));
  return table;
}

}  // namespace mltrack::data
