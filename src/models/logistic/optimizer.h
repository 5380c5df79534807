// Quasi-Newton minimisation for smooth objectives plus an optional L1 term:
//   minimise f(w) + sum_j l1[j] * |w_j|
// L-BFGS (Nocedal & Wright, alg. 7.4/7.5) when every l1[j] is 0, OWL-QN (Andrew & Gao, 2007)
// otherwise: the pseudo-gradient replaces the gradient, the search direction is constrained to
// the orthant it points into, and the line search projects every trial point back onto it.
//
// Deterministic: the same objective values give the same iterates, bit for bit.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

namespace mltrack::logistic {

// Evaluates the smooth part at `w`: returns f(w) and writes its gradient into `gradient`
// (already sized like w).
using SmoothObjective = std::function<double(std::span<const double> w, std::span<double> gradient)>;

struct OptimizerOptions {
  int max_iterations = 100;
  // Stops when the relative decrease of the objective over an iteration is below this, or when
  // the (pseudo-)gradient's infinity norm is below tolerance * max(1, |objective|).
  double tolerance = 1e-6;
  int history = 10;  // L-BFGS memory: the last `history` (s, y) pairs
  int max_line_search_steps = 40;
};

struct OptimizerResult {
  std::vector<double> w;
  double objective = 0;             // f(w) + L1 term at the result
  int iterations = 0;
  bool converged = false;
  std::string stop_reason;          // "relative decrease below tolerance", "max_iterations", ...
  std::vector<double> history;      // the objective after each iteration (index 0: the start)
};

// `l1` is empty (no L1 term) or one non-negative weight per coordinate. `on_iteration`, when
// given, is called with 0 and the starting objective, then after each iteration with its number
// (1-based) and objective.
OptimizerResult Minimize(const SmoothObjective& f, std::vector<double> w0,
                         std::span<const double> l1, const OptimizerOptions& options,
                         const std::function<void(int, double)>& on_iteration = {});

}  // namespace mltrack::logistic
