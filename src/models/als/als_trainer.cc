// Blocked ALS as Spark MLlib runs it (see als_trainer.h for the layout).
//
// Where data lives: each rank holds its users' and its items' ratings (Side), its own users' and
// items' factors (rows of k + 1: factors, bias), and, before each half-iteration, the other
// side's factors its ratings reference (FactorRows). The solves themselves are als_solve.cc.
#include "models/als/als_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <numeric>
#include <span>
#include <utility>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "common/parallel.h"
#include "models/als/als_solve.h"
#include "models/data/mix64.h"
#include "mltrack/error.h"

namespace mltrack::als {
namespace {

using Matrix = Eigen::MatrixXd;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr int64_t kRatingsPerTask = 1 << 16;

// One rating on the wire: dense user and item indices.
struct PackedRating {
  int32_t user;
  int32_t item;
  float rating;
};
static_assert(sizeof(PackedRating) == 12);

// Entities with global index g = local * ranks + rank belong to `rank`.
int64_t OwnedCount(int64_t total, int rank, int ranks) {
  return rank < total ? (total - rank + ranks - 1) / ranks : 0;
}

size_t Tasks(int64_t items, int64_t per_task) {
  return static_cast<size_t>((items + per_task - 1) / per_task);
}

template <class T>
std::vector<std::byte> ToBytes(const std::vector<T>& values) {
  std::vector<std::byte> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

template <class T>
std::vector<T> FromBytes(const std::vector<std::byte>& bytes) {
  std::vector<T> values(bytes.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  return values;
}

// Moves every rating to the owner of its user (by_user) or item, and builds that side's block and
// exchange plan. Collective.
Side BuildSide(const std::vector<PackedRating>& ratings, bool by_user, int64_t total,
               int64_t total_other, int threads, dist::Communicator& comm) {
  const int ranks = comm.size();
  const int rank = comm.rank();
  auto key = [by_user](const PackedRating& r) { return by_user ? r.user : r.item; };
  auto other = [by_user](const PackedRating& r) { return by_user ? r.item : r.user; };

  std::vector<PackedRating> mine;
  {
    std::vector<size_t> counts(ranks, 0);
    for (const PackedRating& r : ratings) ++counts[key(r) % ranks];
    std::vector<std::vector<std::byte>> send(ranks);
    std::vector<size_t> filled(ranks, 0);
    for (int r = 0; r < ranks; ++r) send[r].resize(counts[r] * sizeof(PackedRating));
    for (const PackedRating& r : ratings) {
      int dest = key(r) % ranks;
      std::memcpy(send[dest].data() + filled[dest]++ * sizeof(PackedRating), &r, sizeof r);
    }
    std::vector<std::vector<std::byte>> received = comm.AlltoallV(send);
    send.clear();
    send.shrink_to_fit();
    size_t n = 0;
    for (const auto& bytes : received) n += bytes.size() / sizeof(PackedRating);
    mine.resize(n);
    size_t at = 0;
    for (auto& bytes : received) {
      if (!bytes.empty()) std::memcpy(mine.data() + at, bytes.data(), bytes.size());
      at += bytes.size() / sizeof(PackedRating);
      std::vector<std::byte>().swap(bytes);
    }
  }

  Side side;
  side.total = total;
  side.own = OwnedCount(total, rank, ranks);
  side.offsets.assign(side.own + 1, 0);
  for (const PackedRating& r : mine) ++side.offsets[key(r) / ranks + 1];
  for (int64_t l = 0; l < side.own; ++l) side.offsets[l + 1] += side.offsets[l];
  // Scatter by entity, then sort each entity's ratings by (other index, rating): an order that
  // does not depend on how the rows were spread over ranks (duplicated pairs included).
  std::vector<std::pair<int32_t, float>> sorted(mine.size());
  {
    std::vector<int64_t> next(side.offsets.begin(), side.offsets.end() - 1);
    for (const PackedRating& r : mine) sorted[next[key(r) / ranks]++] = {other(r), r.rating};
  }
  std::vector<PackedRating>().swap(mine);
  ParallelFor(Tasks(side.own, 1024), threads, [&](size_t task) {
    int64_t end = std::min<int64_t>(side.own, (static_cast<int64_t>(task) + 1) * 1024);
    for (int64_t l = static_cast<int64_t>(task) * 1024; l < end; ++l) {
      std::sort(sorted.begin() + side.offsets[l], sorted.begin() + side.offsets[l + 1]);
    }
  });

  // The other side's entities these ratings reference, requested from their owners in index
  // order; their rows in the received array follow the owners' order.
  std::vector<int32_t> compact(total_other, -1);
  for (const auto& [o, r] : sorted) compact[o] = 0;
  std::vector<std::vector<int32_t>> requests(ranks);
  for (int64_t o = 0; o < total_other; ++o) {
    if (compact[o] == 0) requests[o % ranks].push_back(static_cast<int32_t>(o));
  }
  side.receive_counts.resize(ranks);
  int32_t base = 0;
  for (int r = 0; r < ranks; ++r) {
    side.receive_counts[r] = requests[r].size();
    for (size_t j = 0; j < requests[r].size(); ++j) compact[requests[r][j]] = base + j;
    base += static_cast<int32_t>(requests[r].size());
  }
  side.other.resize(sorted.size());
  side.rating.resize(sorted.size());
  for (size_t j = 0; j < sorted.size(); ++j) {
    side.other[j] = compact[sorted[j].first];
    side.rating[j] = sorted[j].second;
  }

  std::vector<std::vector<std::byte>> send(ranks);
  for (int r = 0; r < ranks; ++r) send[r] = ToBytes(requests[r]);
  std::vector<std::vector<std::byte>> asked = comm.AlltoallV(send);
  side.send_plan.resize(ranks);
  for (int r = 0; r < ranks; ++r) {
    side.send_plan[r] = FromBytes<int32_t>(asked[r]);
    for (int32_t& g : side.send_plan[r]) g /= ranks;
  }
  return side;
}

// Sends the other side's factors (own rows of stride k + 1; the first `width` values of each:
// k, or k + 1 with the bias) as `side`'s plan says and writes the received ones into `*rows` in
// the solve's layout (als_solve.h), this rank's own share straight from `other_factors`. Sets
// `*bytes_sent` to the bytes this rank sent to other ranks. Collective.
void ExchangeFactors(const Side& side, const std::vector<double>& other_factors, int k,
                     bool biased, dist::Communicator& comm, FactorRows* rows,
                     uint64_t* bytes_sent) {
  const int ranks = comm.size();
  const int width = k + (biased ? 1 : 0);
  auto place = [&](size_t at, const double* values) {
    double* row = rows->row(at);
    std::memcpy(row, values, k * sizeof(double));
    if (biased) {
      row[k] = 1;
      row[k + 1] = values[k];
    }
  };
  std::vector<size_t> first(ranks + 1, 0);  // the first received row of each rank's share
  for (int r = 0; r < ranks; ++r) first[r + 1] = first[r] + side.receive_counts[r];
  std::vector<std::vector<std::byte>> send(ranks);
  uint64_t sent = 0;
  for (int r = 0; r < ranks; ++r) {
    const std::vector<int32_t>& plan = side.send_plan[r];
    if (r == comm.rank()) {
      for (size_t j = 0; j < plan.size(); ++j) {
        place(first[r] + j, other_factors.data() + static_cast<size_t>(plan[j]) * (k + 1));
      }
      continue;
    }
    send[r].resize(plan.size() * width * sizeof(double));
    auto* out = reinterpret_cast<double*>(send[r].data());
    for (size_t j = 0; j < plan.size(); ++j) {
      std::memcpy(out + j * width, other_factors.data() + static_cast<size_t>(plan[j]) * (k + 1),
                  width * sizeof(double));
    }
    sent += send[r].size();
  }
  *bytes_sent = sent;
  if (ranks == 1) return;
  std::vector<std::vector<std::byte>> received = comm.AlltoallV(send);
  for (int r = 0; r < ranks; ++r) {
    if (r == comm.rank()) continue;
    const auto* values = reinterpret_cast<const double*>(received[r].data());
    for (size_t j = 0; j < side.receive_counts[r]; ++j) place(first[r] + j, values + j * width);
  }
}

// YᵀY of all of one side's factors: each rank's own rows, summed over ranks in rank order.
Matrix Gram(const std::vector<double>& own_factors, int64_t own, int k, dist::Communicator& comm) {
  Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>> f(own_factors.data(), own, k,
                                                          Eigen::OuterStride<>(k + 1));
  Matrix gram = Matrix::Zero(k, k);
  if (own > 0) gram.noalias() = f.transpose() * f;
  comm.AllreduceSum(std::span<double>(gram.data(), static_cast<size_t>(k) * k));
  return gram;
}

// Factors of this rank's entities of one side from (seed, side, external id) alone: N(0, 1/k)
// values (Box-Muller over Mix64), absolute values when nonnegative; bias 0.
std::vector<double> InitialFactors(const IdMap& ids, int64_t own, uint64_t side_tag,
                                   const AlsOptions& options, int rank, int ranks) {
  const int k = options.rank;
  std::vector<double> factors(static_cast<size_t>(own) * (k + 1), 0.0);
  const double scale = 1 / std::sqrt(static_cast<double>(k));
  const uint64_t stream = data::Mix64(data::Mix64(options.seed) ^ side_tag);
  auto uniform = [](uint64_t h) { return (static_cast<double>(h >> 11) + 0.5) * 0x1p-53; };
  for (int64_t l = 0; l < own; ++l) {
    const uint64_t id = static_cast<uint64_t>(ids.Id(static_cast<size_t>(l * ranks + rank)));
    const uint64_t h = data::Mix64(stream ^ data::Mix64(id));
    double* x = factors.data() + l * (k + 1);
    for (int q = 0; q < k; ++q) {
      double u1 = uniform(data::Mix64(h + 2 * static_cast<uint64_t>(q)));
      double u2 = uniform(data::Mix64(h + 2 * static_cast<uint64_t>(q) + 1));
      double z = std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
      x[q] = (options.nonnegative ? std::abs(z) : z) * scale;
    }
  }
  return factors;
}

// Every rank's own rows of one side, in global index order, on every rank. Collective.
std::vector<double> GatherFactors(const std::vector<double>& own, int64_t total, int k,
                                  dist::Communicator& comm) {
  const int ranks = comm.size();
  std::vector<size_t> counts;
  std::vector<double> all = comm.AllgatherValues<double>(own, &counts);
  std::vector<double> out(static_cast<size_t>(total) * (k + 1));
  size_t offset = 0;
  for (int r = 0; r < ranks; ++r) {
    size_t rows = counts[r] / (k + 1);
    for (size_t l = 0; l < rows; ++l) {
      std::memcpy(out.data() + (l * ranks + r) * (k + 1), all.data() + offset + l * (k + 1),
                  (k + 1) * sizeof(double));
    }
    offset += counts[r];
  }
  return out;
}

void CheckRatings(const Ratings& shard) {
  if (shard.user.size() != shard.size() || shard.item.size() != shard.size()) {
    throw Error(ErrorCode::kInternalError, "ratings: user, item and rating columns differ in length");
  }
  for (size_t i = 0; i < shard.size(); ++i) {
    if (!std::isfinite(shard.rating[i])) {
      const std::string path = shard.path.empty() ? "ratings" : shard.path;
      const int64_t line = i < shard.line.size() ? shard.line[i] : static_cast<int64_t>(i + 1);
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("{}: line {}: rating {} is not a finite number", path, line,
                              shard.rating[i]));
    }
  }
}

}  // namespace

AlsResult TrainAls(const Ratings& shard, const AlsOptions& options, dist::Communicator& comm,
                   const std::function<void(int, double, const AlsModel&)>& on_iteration) {
  options.Validate();
  const int ranks = comm.size();
  const int rank = comm.rank();
  const int threads = ResolveThreads(options.threads);
  const int k = options.rank;
  dist::CheckEveryRank(comm, [&] { CheckRatings(shard); });

  std::vector<int64_t> count{static_cast<int64_t>(shard.size())};
  std::vector<double> sum{0.0};
  for (float r : shard.rating) sum[0] += r;
  comm.AllreduceSum(count);
  comm.AllreduceSum(sum);
  if (count[0] == 0) {
    throw Error(ErrorCode::kInvalidParameterValue,
                shard.path.empty() ? std::string("no ratings to train on")
                                   : fmt::format("{}: no ratings to train on", shard.path));
  }
  const double mean = sum[0] / static_cast<double>(count[0]);

  IdMap users = IdMap::Build(shard.user, comm);
  IdMap items = IdMap::Build(shard.item, comm);
  constexpr size_t kMaxEntities = std::numeric_limits<int32_t>::max();
  if (users.size() > kMaxEntities || items.size() > kMaxEntities) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("ALS takes at most {} users and items; the ratings have {} users and "
                            "{} items", kMaxEntities, users.size(), items.size()));
  }
  const int64_t num_users = static_cast<int64_t>(users.size());
  const int64_t num_items = static_cast<int64_t>(items.size());

  Side user_side, item_side;
  {
    std::vector<PackedRating> packed(shard.size());
    ParallelFor(Tasks(static_cast<int64_t>(shard.size()), kRatingsPerTask), threads,
                [&](size_t task) {
                  size_t first = task * kRatingsPerTask;
                  size_t end = std::min(shard.size(), first + kRatingsPerTask);
                  for (size_t i = first; i < end; ++i) {
                    packed[i] = {static_cast<int32_t>(users.Index(shard.user[i])),
                                 static_cast<int32_t>(items.Index(shard.item[i])),
                                 shard.rating[i]};
                  }
                });
    user_side = BuildSide(packed, true, num_users, num_items, threads, comm);
    item_side = BuildSide(packed, false, num_items, num_users, threads, comm);
  }

  std::vector<double> user_factors =
      InitialFactors(users, user_side.own, 0x75736572 /* "user" */, options, rank, ranks);
  std::vector<double> item_factors =
      InitialFactors(items, item_side.own, 0x6974656d /* "item" */, options, rank, ranks);

  SolveContext context;
  context.k = k;
  context.d = k + (options.biases ? 1 : 0);
  context.term = options.implicit ? RatingTerm::kImplicit
                 : options.biases ? RatingTerm::kBiased
                                  : RatingTerm::kExplicit;
  context.nonnegative = options.nonnegative;
  context.cg = options.implicit && options.solver == "cg";
  context.cg_steps = options.cg_steps;
  context.reg = options.reg;
  context.alpha = options.alpha;
  context.mean = options.biases ? mean : 0.0;

  AlsResult result;
  result.ratings = static_cast<uint64_t>(count[0]);
  std::vector<double> bytes{0.0, 0.0};

  auto build_model = [&]() {
    AlsFactors factors;
    factors.rank = k;
    factors.users = users;
    factors.items = items;
    factors.user_factors = GatherFactors(user_factors, num_users, k, comm);
    factors.item_factors = GatherFactors(item_factors, num_items, k, comm);
    factors.global_mean = context.mean;
    return std::make_unique<AlsModel>(std::move(factors), options.implicit, options.biases,
                                      options.cold_start);
  };

  // The other side's factors as each side's solves read them, refilled every half-iteration.
  auto received_rows = [&](const Side& side) {
    size_t rows = 0;
    for (size_t c : side.receive_counts) rows += c;
    return FactorRows(rows, NormalEquationsStride(k, options.biases));
  };
  FactorRows item_rows = received_rows(user_side);
  FactorRows user_rows = received_rows(item_side);

  for (int iteration = 0; iteration < options.max_iter; ++iteration) {
    uint64_t sent = 0;
    Matrix gram;
    // Users from the items' factors.
    ExchangeFactors(user_side, item_factors, k, options.biases, comm, &item_rows, &sent);
    bytes[0] = static_cast<double>(sent);
    if (options.implicit) {
      gram = Gram(item_factors, item_side.own, k, comm);
      context.gram = &gram;
    }
    context.other = &item_rows;
    SolveSide(user_side, context, user_factors, threads);
    double user_regularisation =
        options.implicit ? ImplicitSideLoss(user_side, context, user_factors, false, threads)
                         : 0.0;

    // Items from the users' new factors.
    ExchangeFactors(item_side, user_factors, k, options.biases, comm, &user_rows, &sent);
    bytes[1] = static_cast<double>(sent);
    if (options.implicit) {
      gram = Gram(user_factors, user_side.own, k, comm);
      context.gram = &gram;
    }
    context.other = &user_rows;
    double item_loss = SolveSide(item_side, context, item_factors, threads);

    // Explicit: Σ (r − r̂)² over the training ratings, from the item solves. Implicit:
    // Σ c (p − x·y)² over the observed pairs plus λ Σ n_u |x_u|² + λ Σ n_i |y_i|² (the
    // unobserved pairs' Σ (x·y)² is left out).
    std::vector<double> loss{
        options.implicit
            ? ImplicitSideLoss(item_side, context, item_factors, true, threads) +
                  user_regularisation
            : item_loss};
    comm.AllreduceSum(loss);
    result.loss.push_back(loss[0]);
    if (iteration == 0) {
      comm.AllreduceMax(bytes);
      result.bytes_sent_users = static_cast<uint64_t>(bytes[0]);
      result.bytes_sent_items = static_cast<uint64_t>(bytes[1]);
    }
    if (on_iteration) {
      result.model = build_model();
      on_iteration(iteration + 1, loss[0], *result.model);
    }
  }
  if (!on_iteration) result.model = build_model();
  return result;
}

std::map<std::string, double> EvaluateRatings(const AlsModel& model, const Ratings& ratings,
                                              dist::Communicator& comm) {
  const bool drop = model.cold_start() == ColdStart::kDrop;
  const AlsFactors& factors = model.factors();
  // Known pairs are scored in bulk; an unknown user or item is NaN (kNan) or left out (kDrop).
  std::vector<int64_t> user_index, item_index;
  std::vector<size_t> position;
  std::vector<double> sums{0.0, 0.0};
  std::vector<int64_t> rows{0};
  for (size_t i = 0; i < ratings.size(); ++i) {
    int64_t u = factors.users.Index(ratings.user[i]), it = factors.items.Index(ratings.item[i]);
    if (u < 0 || it < 0) {
      if (!drop) {
        sums[0] = sums[1] = std::numeric_limits<double>::quiet_NaN();
        ++rows[0];
      }
      continue;
    }
    user_index.push_back(u);
    item_index.push_back(it);
    position.push_back(i);
  }
  std::vector<double> predictions(position.size());
  model.PredictIndices(user_index, item_index, predictions);
  for (size_t j = 0; j < position.size(); ++j) {
    double e = static_cast<double>(ratings.rating[position[j]]) - predictions[j];
    sums[0] += e * e;
    sums[1] += std::abs(e);
    ++rows[0];
  }
  comm.AllreduceSum(sums);
  comm.AllreduceSum(rows);
  const double n = static_cast<double>(rows[0]);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return {{"rmse", rows[0] > 0 ? std::sqrt(sums[0] / n) : nan},
          {"mae", rows[0] > 0 ? sums[1] / n : nan},
          {"rows", n}};
}

}  // namespace mltrack::als
