#include "models/als/als_solve.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/parallel.h"

namespace mltrack::als {
namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

constexpr int64_t kEntitiesPerTask = 16;  // entities per ParallelFor task
constexpr int64_t kLossEntitiesPerTask = 1024;

size_t Tasks(int64_t items, int64_t per_task) {
  return static_cast<size_t>((items + per_task - 1) / per_task);
}

// Per-thread buffers of one ParallelFor task. g and a are stride × stride, column-major, holding
// the upper triangle (normal_equations.h).
struct Scratch {
  explicit Scratch(int stride)
      : g(static_cast<size_t>(stride) * stride),
        a(g.size()),
        b(stride),
        x(stride),
        inverse(stride),
        row(stride) {}
  std::vector<double> g, a, b, x, inverse, row;
};

// The full symmetric d × d matrix from an upper triangle stored as above.
Matrix FullMatrix(const double* a, int ld, int d) {
  Matrix full(d, d);
  for (int j = 0; j < d; ++j) {
    for (int i = 0; i <= j; ++i) full(i, j) = full(j, i) = a[static_cast<size_t>(j) * ld + i];
  }
  return full;
}

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

// Implicit feedback with the conjugate gradient solver: cg_steps steps from the previous x.
void SolveEntityCg(const SolveContext& c, const int32_t* other, const float* rating, int64_t n,
                   double* w) {
  const int k = c.k;
  const int stride = c.other->stride();
  const double* rows = c.other->data();
  const double lambda = c.reg * static_cast<double>(n);
  Eigen::Map<Vector> x(w, k);
  // A v = YᵀY v + Σ (c − 1)(y·v) y + λ n v, never formed.
  auto apply = [&](const Vector& v, Vector& out) {
    out.noalias() = *c.gram * v;
    out += lambda * v;
    for (int64_t j = 0; j < n; ++j) {
      Eigen::Map<const Vector> y(rows + static_cast<size_t>(other[j]) * stride, k);
      double c1 = c.alpha * std::abs(static_cast<double>(rating[j]));
      if (c1 != 0) out.noalias() += (c1 * y.dot(v)) * y;
    }
  };
  Vector b = Vector::Zero(k);
  for (int64_t j = 0; j < n; ++j) {
    if (rating[j] > 0) {
      Eigen::Map<const Vector> y(rows + static_cast<size_t>(other[j]) * stride, k);
      b.noalias() += (1 + c.alpha * std::abs(static_cast<double>(rating[j]))) * y;
    }
  }
  Vector ap(k);
  apply(x, ap);
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
}

// Solves one entity with n ratings; `w` holds its previous k + 1 values (factors, bias) and
// receives the new ones. Returns the entity's Σ (t − zᵀw)² for explicit feedback (0 implicit).
double SolveEntity(const SolveContext& c, const int32_t* other, const float* rating, int64_t n,
                   double* w, Scratch& s) {
  if (c.cg) {
    SolveEntityCg(c, other, rating, n, w);
    return 0;
  }
  const int k = c.k;
  const int d = c.d;
  const int ld = c.other->stride();
  const double lambda = c.reg * static_cast<double>(n);
  double* g = s.g.data();
  double* a = s.a.data();
  double* b = s.b.data();
  double* x = s.x.data();
  std::fill(s.g.begin(), s.g.end(), 0.0);
  std::fill(s.b.begin(), s.b.end(), 0.0);
  double tt = 0;
  AccumulateNormalEquations({c.other->data(), ld, other, rating, n},
                            {c.term, d, c.mean, c.alpha}, g, b, &tt);
  if (c.term == RatingTerm::kImplicit) {
    for (int j = 0; j < k; ++j) {
      for (int i = 0; i <= j; ++i) g[static_cast<size_t>(j) * ld + i] += (*c.gram)(i, j);
    }
  }
  for (int j = 0; j < d; ++j) g[static_cast<size_t>(j) * ld + j] += lambda;
  std::memcpy(a, g, s.g.size() * sizeof(double));  // A, kept: g becomes its factor

  if (c.nonnegative) {
    Vector solution(d);
    for (int q = 0; q < d; ++q) solution[q] = w[q];
    ProjectedCoordinateDescent(FullMatrix(a, ld, d), Eigen::Map<const Vector>(b, d), k,
                               solution);
    for (int q = 0; q < d; ++q) x[q] = solution[q];
  } else if (SolveNormalEquations(g, ld, d, b, x, s.inverse.data(), s.row.data())) {
  } else {
    Vector solution =
        Eigen::LDLT<Matrix>(FullMatrix(a, ld, d)).solve(Eigen::Map<const Vector>(b, d));
    for (int q = 0; q < d; ++q) x[q] = solution[q];
  }
  for (int q = 0; q < d; ++q) w[q] = x[q];
  if (d == k) w[k] = 0;
  if (c.term == RatingTerm::kImplicit) return 0;

  // Σ (t − zᵀx)² = Σ t² − 2 xᵀb + xᵀ(A − λI)x, with A's upper triangle.
  double quadratic = 0, linear = 0, norm = 0;
  for (int j = 0; j < d; ++j) {
    const double* column = a + static_cast<size_t>(j) * ld;
    double off = 0;
    for (int i = 0; i < j; ++i) off += column[i] * x[i];
    quadratic += x[j] * (2 * off + column[j] * x[j]);
    linear += x[j] * b[j];
    norm += x[j] * x[j];
  }
  return std::max(0.0, tt - 2 * linear + quadratic - lambda * norm);
}

}  // namespace

FactorRows::FactorRows(size_t rows, int stride)
    : storage_(rows * static_cast<size_t>(stride) + 4, 0.0), stride_(stride) {
  // std::vector's doubles are 8-byte aligned; step to the first 32-byte boundary.
  auto address = reinterpret_cast<uintptr_t>(storage_.data());
  data_ = storage_.data() + ((32 - address % 32) % 32) / sizeof(double);
}

double SolveSide(const Side& side, const SolveContext& context, std::vector<double>& factors,
                 int threads) {
  std::vector<double> loss(Tasks(side.own, kEntitiesPerTask), 0.0);
  ParallelFor(loss.size(), threads, [&](size_t task) {
    Scratch scratch(context.other->stride());
    int64_t first = static_cast<int64_t>(task) * kEntitiesPerTask;
    int64_t end = std::min(side.own, first + kEntitiesPerTask);
    double sum = 0;
    for (int64_t l = first; l < end; ++l) {
      int64_t begin = side.offsets[l];
      sum += SolveEntity(context, side.other.data() + begin, side.rating.data() + begin,
                         side.offsets[l + 1] - begin, factors.data() + l * (context.k + 1),
                         scratch);
    }
    loss[task] = sum;
  });
  double total = 0;
  for (double part : loss) total += part;
  return total;
}

double ImplicitSideLoss(const Side& side, const SolveContext& c,
                        const std::vector<double>& factors, bool ratings_term, int threads) {
  const int k = c.k;
  const int stride = c.other->stride();
  const double* rows = c.other->data();
  std::vector<double> partial(Tasks(side.own, kLossEntitiesPerTask), 0.0);
  ParallelFor(partial.size(), threads, [&](size_t task) {
    int64_t first = static_cast<int64_t>(task) * kLossEntitiesPerTask;
    int64_t end = std::min<int64_t>(side.own, first + kLossEntitiesPerTask);
    double sum = 0;
    for (int64_t l = first; l < end; ++l) {
      const double* x = factors.data() + l * (k + 1);
      const int64_t n = side.offsets[l + 1] - side.offsets[l];
      double norm = 0;
      for (int q = 0; q < k; ++q) norm += x[q] * x[q];
      sum += c.reg * static_cast<double>(n) * norm;
      if (!ratings_term) continue;
      for (int64_t j = side.offsets[l]; j < side.offsets[l + 1]; ++j) {
        const double* y = rows + static_cast<size_t>(side.other[j]) * stride;
        double dot = 0;
        for (int q = 0; q < k; ++q) dot += x[q] * y[q];
        const double r = side.rating[j];
        const double confidence = 1 + c.alpha * std::abs(r);
        const double e = (r > 0 ? 1.0 : 0.0) - dot;
        sum += confidence * e * e;
      }
    }
    partial[task] = sum;
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace mltrack::als
