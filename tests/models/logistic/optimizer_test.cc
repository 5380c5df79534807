// L-BFGS and OWL-QN on problems whose minimum is known in closed form.
#include "models/logistic/optimizer.h"

#include <cmath>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mltrack::logistic {
namespace {

// f(w) = 1/2 sum_j c_j (w_j - a_j)^2: minimum at a; with an L1 weight l, the soft threshold
// w_j = sign(a_j) max(|a_j| - l / c_j, 0).
struct Quadratic {
  std::vector<double> a, c;
  double operator()(std::span<const double> w, std::span<double> g) const {
    double f = 0;
    for (size_t j = 0; j < w.size(); ++j) {
      f += 0.5 * c[j] * (w[j] - a[j]) * (w[j] - a[j]);
      g[j] = c[j] * (w[j] - a[j]);
    }
    return f;
  }
};

TEST(Minimize, FindsTheMinimumOfAnIllConditionedQuadratic) {
  Quadratic q{{1, -2, 3, 0.5}, {1, 100, 0.01, 10}};
  OptimizerResult r = Minimize(q, std::vector<double>(4, 0.0), {}, {.tolerance = 1e-12});
  EXPECT_TRUE(r.converged) << r.stop_reason;
  for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(r.w[j], q.a[j], 1e-5) << j;
  EXPECT_EQ(r.history.size(), static_cast<size_t>(r.iterations) + 1);
}

TEST(Minimize, FindsTheMinimumOfRosenbrock) {
  auto rosenbrock = [](std::span<const double> w, std::span<double> g) {
    double a = 1 - w[0], b = w[1] - w[0] * w[0];
    g[0] = -2 * a - 400 * w[0] * b;
    g[1] = 200 * b;
    return a * a + 100 * b * b;
  };
  OptimizerResult r =
      Minimize(rosenbrock, {-1.2, 1.0}, {}, {.max_iterations = 500, .tolerance = 1e-14});
  EXPECT_NEAR(r.w[0], 1.0, 1e-5);
  EXPECT_NEAR(r.w[1], 1.0, 1e-5);
}

TEST(Minimize, OwlqnGivesTheSoftThreshold) {
  Quadratic q{{2, -0.3, 0.05, -4}, {1, 1, 2, 0.5}};
  std::vector<double> l1{0.5, 0.5, 0.5, 0.5};
  OptimizerResult r = Minimize(q, std::vector<double>(4, 0.0), l1, {.tolerance = 1e-12});
  std::vector<double> expected{1.5, 0.0, 0.0, -3.0};  // sign(a) max(|a| - l/c, 0)
  for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(r.w[j], expected[j], 1e-7) << j;
  // Coordinates the L1 term zeroes are exactly zero, not merely small.
  EXPECT_EQ(r.w[1], 0.0);
  EXPECT_EQ(r.w[2], 0.0);
}

TEST(Minimize, StopsAtMaxIterationsAndSaysSo) {
  Quadratic q{{1, -2, 3, 0.5}, {1, 1000, 0.001, 10}};
  OptimizerResult r = Minimize(q, std::vector<double>(4, 0.0), {},
                               {.max_iterations = 2, .tolerance = 1e-15});
  EXPECT_EQ(r.iterations, 2);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.stop_reason, "max_iterations reached");
}

TEST(Minimize, IsDeterministic) {
  Quadratic q{{1, -2, 3, 0.5}, {1, 100, 0.01, 10}};
  std::vector<double> l1{0.01, 0, 0.01, 0};
  auto a = Minimize(q, std::vector<double>(4, 0.1), l1, {});
  auto b = Minimize(q, std::vector<double>(4, 0.1), l1, {});
  EXPECT_EQ(a.w, b.w);
  EXPECT_EQ(a.history, b.history);
}

}  // namespace
}  // namespace mltrack::logistic
