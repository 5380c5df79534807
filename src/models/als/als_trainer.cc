// Blocked ALS as Spark MLlib runs it (see als_trainer.h for the layout).
//
// The normal equations of an entity (user or item) e with ratings r_eo over the other side's
// entities o (in increasing index order), with d the solved dimension:
//   explicit:  (Σ z_o z_oᵀ + λ n_e I) w_e = Σ t_eo z_o
//              without biases z_o = y_o, t = r, w_e = x_e (d = k);
//              with biases    z_o = [y_o, 1], t = r − μ − b_o, w_e = [x_e, b_e] (d = k + 1): the
//              bias is solved jointly and regularised like the factors, by λ n_e (Spark has no
//              biases; this is the usual biased-MF objective with weighted-lambda).
//   implicit:  (YᵀY + Σ (c_eo − 1) y_o y_oᵀ + λ n_e I) x_e = Σ c_eo p_eo y_o,
//              c = 1 + α|r|, p = [r > 0] (Hu, Koren & Volinsky; |r| as Spark, so negative
//              ratings are confident zeros). n_e counts every observed pair (Spark counts the
//              positive ones only); YᵀY is over all of the other side's entities.
// Sums are accumulated in double in chunks of kChunk ratings (a fixed grouping of the ratings in
// index order), so an entity's solve is the same bits on any rank or thread count given the
// same inputs.
//
// Solvers: Cholesky (Eigen LLT; LDLT when the matrix is only semi-definite, e.g. λ = 0);
// implicit "cg": cg_steps conjugate gradient steps from the previous factors, applying
// YᵀY + Σ (c − 1) y yᵀ + λ n I to a vector without forming it; nonnegative: cyclic projected
// coordinate descent on the d×d system (bias coordinates unconstrained), warm-started from the
// previous factors clamped at 0, until no coordinate moves by more than 1e-12 of the largest
// (or 1000 sweeps); the system is strictly convex when λ n > 0, so this is the NNLS solution
// Spark's projected solver finds.
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
#include "models/data/mix64.h"
#include "mltrack/error.h"

namespace mltrack::als {
namespace {

using Matrix = Eigen::MatrixXd;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXd;

constexpr int kChunk = 64;                 // ratings per accumulation step (fixed: see above)
constexpr int64_t kEntitiesPerTask = 16;   // entities per ParallelFor task
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

// One side (users or items) as this rank holds it: the ratings of its own entities, CSR sorted by
// the other side's index, and the exchange that brings the other side's factors before a solve.
struct Side {
  int64_t total = 0;               // entities over all ranks
  int64_t own = 0;                 // this rank's, local index l = global / ranks
  std::vector<int64_t> offsets;    // own + 1
  // Per rating: the other side's factor as a row of the received (compact) array, and r.
  std::vector<int32_t> other;
  std::vector<float> rating;
  // Before this side's solve: the local indices of this rank's other-side entities to send to
  // each rank (each once per destination), and how many factors come from each rank.
  std::vector<std::vector<int32_t>> send_plan;
  std::vector<size_t> receive_counts;
};

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

// Sends the other side's factors (own rows of stride k + 1; the first `width` values of each)
// as `side`'s plan says; returns the received rows (stride `width`) and adds the bytes this rank
// sent to other ranks to `*bytes_sent`. Collective.
std::vector<double> ExchangeFactors(const Side& side, const std::vector<double>& other_factors,
                                    int k, int width, dist::Communicator& comm,
                                    uint64_t* bytes_sent) {
  const int ranks = comm.size();
  std::vector<std::vector<std::byte>> send(ranks);
  uint64_t sent = 0;
  for (int r = 0; r < ranks; ++r) {
    const std::vector<int32_t>& plan = side.send_plan[r];
    send[r].resize(plan.size() * width * sizeof(double));
    auto* out = reinterpret_cast<double*>(send[r].data());
    for (size_t j = 0; j < plan.size(); ++j) {
      std::memcpy(out + j * width, other_factors.data() + static_cast<size_t>(plan[j]) * (k + 1),
                  width * sizeof(double));
    }
    if (r != comm.rank()) sent += send[r].size();
  }
  *bytes_sent = sent;
  std::vector<std::vector<std::byte>> received = comm.AlltoallV(send);
  size_t rows = 0;
  for (size_t c : side.receive_counts) rows += c;
  std::vector<double> compact(rows * width);
  size_t at = 0;
  for (const auto& bytes : received) {
    if (!bytes.empty()) std::memcpy(reinterpret_cast<std::byte*>(compact.data()) + at,
                                    bytes.data(), bytes.size());
    at += bytes.size();
  }
  return compact;
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

struct SolveContext {
  int k = 0;
  int width = 0;  // received factor row: k, or k + 1 with the bias
  bool biases = false;
  bool implicit = false;
  bool nonnegative = false;
  bool cg = false;
  int cg_steps = 3;
  double reg = 0;
  double alpha = 0;
  double mean = 0;
  const double* other = nullptr;  // received factors
  const Matrix* gram = nullptr;   // implicit: the other side's YᵀY
};

// Per-thread buffers of one ParallelFor task.
struct Scratch {
  explicit Scratch(int d) : z(kChunk, d), t(kChunk), s(kChunk), a(d, d), b(d), x(d) {}
  RowMatrix z;
  Vector t, s;
  Matrix a;
  Vector b, x;
};

// Minimises ½ xᵀAx − bᵀx subject to x_j >= 0 for j < constrained (A symmetric, full), from x.
void ProjectedCoordinateDescent(const Matrix& a, const Vector& b, int constrained, Vector& x) {
  const int d = static_cast<int>(b.size());
  for (int j = 0; j < constrained; ++j) x[j] = std::max(0.0, x[j]);
  Vector g = a * x - b;
  for (int sweep = 0; sweep < 1000; ++sweep) {
    double largest_step = 0, largest_value = 0;
    for (int j = 0; j < d; ++j) {
      if (!(a(j, j) > 0)) continue;
      double next = x[j] - g[j] / a(j, j);
      if (j < constrained) next = std::max(0.0, next);
      double step = next - x[j];
      if (step != 0) {
        x[j] = next;
        g.noalias() += step * a.col(j);
      }
      largest_step = std::max(largest_step, std::abs(step));
      largest_value = std::max(largest_value, std::abs(x[j]));
    }
    if (largest_step <= 1e-12 * largest_value) break;
  }
}

// Solves one entity with n ratings; `w` holds its previous k + 1 values (factors, bias) and
// receives the new ones.
void SolveEntity(const SolveContext& c, const int32_t* other, const float* rating, int64_t n,
                 double* w, Scratch& s) {
  const int k = c.k;
  const int d = k + (c.biases ? 1 : 0);
  const double lambda = c.reg * static_cast<double>(n);

  if (c.cg) {
    // Implicit only (Validate): A v = YᵀY v + Σ (c − 1)(y·v) y + λ n v, never formed.
    Eigen::Map<Vector> x(w, k);
    auto apply = [&](const Vector& v, Vector& out) {
      out.noalias() = *c.gram * v;
      out += lambda * v;
      for (int64_t j = 0; j < n; ++j) {
        Eigen::Map<const Vector> y(c.other + static_cast<size_t>(other[j]) * c.width, k);
        double c1 = c.alpha * std::abs(static_cast<double>(rating[j]));
        if (c1 != 0) out.noalias() += (c1 * y.dot(v)) * y;
      }
    };
    Vector& b = s.b;
    b.setZero();
    for (int64_t j = 0; j < n; ++j) {
      if (rating[j] > 0) {
        Eigen::Map<const Vector> y(c.other + static_cast<size_t>(other[j]) * c.width, k);
        b.noalias() += (1 + c.alpha * std::abs(static_cast<double>(rating[j]))) * y;
      }
    }
    Vector v = x, ap(k);
    apply(v, ap);
    Vector r = b - ap;
    Vector p = r;
    double rs = r.squaredNorm();
    for (int step = 0; step < c.cg_steps && rs > 1e-20; ++step) {
      apply(p, ap);
      double pap = p.dot(ap);
      if (!(pap > 0)) break;
      double a = rs / pap;
      x.noalias() += a * p;
      r.noalias() -= a * ap;
      double next = r.squaredNorm();
      p = r + (next / rs) * p;
      rs = next;
    }
    w[k] = 0;
    return;
  }

  s.a.setZero();
  s.b.setZero();
  for (int64_t start = 0; start < n; start += kChunk) {
    const int m = static_cast<int>(std::min<int64_t>(kChunk, n - start));
    for (int j = 0; j < m; ++j) {
      const double* y = c.other + static_cast<size_t>(other[start + j]) * c.width;
      for (int q = 0; q < k; ++q) s.z(j, q) = y[q];
      const double r = rating[start + j];
      if (c.implicit) {
        const double c1 = c.alpha * std::abs(r);
        s.t[j] = r > 0 ? 1 + c1 : 0;
        s.s[j] = std::sqrt(c1);
      } else if (c.biases) {
        s.z(j, k) = 1;
        s.t[j] = r - c.mean - y[k];
      } else {
        s.t[j] = r;
      }
    }
    auto z = s.z.topRows(m);
    s.b.noalias() += z.transpose() * s.t.head(m);
    if (c.implicit) z = s.s.head(m).asDiagonal() * z;
    s.a.selfadjointView<Eigen::Lower>().rankUpdate(z.transpose());
  }
  if (c.implicit) s.a.triangularView<Eigen::Lower>() += *c.gram;
  s.a.diagonal().array() += lambda;

  Vector& x = s.x;
  if (c.nonnegative) {
    for (int q = 0; q < d; ++q) x[q] = w[q];
    Matrix full = s.a.selfadjointView<Eigen::Lower>();
    ProjectedCoordinateDescent(full, s.b, k, x);
  } else {
    Eigen::LLT<Matrix, Eigen::Lower> llt(s.a);
    if (llt.info() == Eigen::Success) {
      x = llt.solve(s.b);
    } else {
      x = Eigen::LDLT<Matrix, Eigen::Lower>(s.a).solve(s.b);
    }
  }
  for (int q = 0; q < d; ++q) w[q] = x[q];
  if (!c.biases) w[k] = 0;
}

// Solves every entity this rank owns on one side, on `threads` threads.
void SolveSide(const Side& side, const SolveContext& context, std::vector<double>& factors,
               int threads) {
  const int d = context.k + (context.biases ? 1 : 0);
  ParallelFor(Tasks(side.own, kEntitiesPerTask), threads, [&](size_t task) {
    Scratch scratch(d);
    int64_t first = static_cast<int64_t>(task) * kEntitiesPerTask;
    int64_t end = std::min(side.own, first + kEntitiesPerTask);
    for (int64_t l = first; l < end; ++l) {
      int64_t begin = side.offsets[l];
      SolveEntity(context, side.other.data() + begin, side.rating.data() + begin,
                  side.offsets[l + 1] - begin, factors.data() + l * (context.k + 1), scratch);
    }
  });
}

// This rank's part of the loss, over `side`'s ratings (the other side's factors received, this
// side's own) plus, for implicit, λ Σ n_e |x_e|² over this side's own entities. Per-task sums are
// added in task order, so the figure does not depend on the thread count.
double SideLoss(const Side& side, const SolveContext& c, const std::vector<double>& factors,
                bool ratings_term, int threads) {
  const int k = c.k;
  std::vector<double> partial(Tasks(side.own, 1024), 0.0);
  ParallelFor(partial.size(), threads, [&](size_t task) {
    int64_t first = static_cast<int64_t>(task) * 1024;
    int64_t end = std::min<int64_t>(side.own, first + 1024);
    double sum = 0;
    for (int64_t l = first; l < end; ++l) {
      const double* x = factors.data() + l * (k + 1);
      const int64_t n = side.offsets[l + 1] - side.offsets[l];
      if (c.implicit) {
        double norm = 0;
        for (int q = 0; q < k; ++q) norm += x[q] * x[q];
        sum += c.reg * static_cast<double>(n) * norm;
      }
      if (!ratings_term) continue;
      for (int64_t j = side.offsets[l]; j < side.offsets[l + 1]; ++j) {
        const double* y = c.other + static_cast<size_t>(side.other[j]) * c.width;
        double dot = 0;
        for (int q = 0; q < k; ++q) dot += x[q] * y[q];
        const double r = side.rating[j];
        if (c.implicit) {
          double confidence = 1 + c.alpha * std::abs(r);
          double e = (r > 0 ? 1.0 : 0.0) - dot;
          sum += confidence * e * e;
        } else {
          double prediction = dot + (c.biases ? c.mean + x[k] + y[k] : 0.0);
          double e = r - prediction;
          sum += e * e;
        }
      }
    }
    partial[task] = sum;
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
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
  context.width = k + (options.biases ? 1 : 0);
  context.biases = options.biases;
  context.implicit = options.implicit;
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

  for (int iteration = 0; iteration < options.max_iter; ++iteration) {
    uint64_t sent = 0;
    Matrix gram;
    // Users from the items' factors.
    std::vector<double> received =
        ExchangeFactors(user_side, item_factors, k, context.width, comm, &sent);
    bytes[0] = static_cast<double>(sent);
    if (options.implicit) {
      gram = Gram(item_factors, item_side.own, k, comm);
      context.gram = &gram;
    }
    context.other = received.data();
    SolveSide(user_side, context, user_factors, threads);
    double user_regularisation =
        options.implicit ? SideLoss(user_side, context, user_factors, false, threads) : 0.0;

    // Items from the users' new factors.
    received = ExchangeFactors(item_side, user_factors, k, context.width, comm, &sent);
    bytes[1] = static_cast<double>(sent);
    if (options.implicit) {
      gram = Gram(user_factors, user_side.own, k, comm);
      context.gram = &gram;
    }
    context.other = received.data();
    SolveSide(item_side, context, item_factors, threads);

    // Explicit: Σ (r − r̂)² over the training ratings. Implicit: Σ c (p − x·y)² over the observed
    // pairs plus λ Σ n_u |x_u|² + λ Σ n_i |y_i|² (the unobserved pairs' Σ (x·y)² is left out).
    std::vector<double> loss{SideLoss(item_side, context, item_factors, true, threads) +
                             user_regularisation};
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
