#include "models/logistic/optimizer.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace mltrack::logistic {
namespace {

double Dot(std::span<const double> a, std::span<const double> b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}

double InfNorm(std::span<const double> a) {
  double norm = 0;
  for (double v : a) norm = std::max(norm, std::abs(v));
  return norm;
}

double L1Term(std::span<const double> w, std::span<const double> l1) {
  double sum = 0;
  for (size_t j = 0; j < l1.size(); ++j) sum += l1[j] * std::abs(w[j]);
  return sum;
}

// The pseudo-gradient of f + sum l1|w| (Andrew & Gao, eq. 4): the gradient where the L1 term
// is differentiable; at w_j == 0 the one-sided derivative that points downhill, or 0 when
// neither does. With no L1 term it is the gradient.
void PseudoGradient(std::span<const double> w, std::span<const double> g,
                    std::span<const double> l1, std::vector<double>& pg) {
  pg.assign(g.begin(), g.end());
  for (size_t j = 0; j < l1.size(); ++j) {
    if (l1[j] == 0) continue;
    if (w[j] > 0) {
      pg[j] = g[j] + l1[j];
    } else if (w[j] < 0) {
      pg[j] = g[j] - l1[j];
    } else if (g[j] + l1[j] < 0) {
      pg[j] = g[j] + l1[j];
    } else if (g[j] - l1[j] > 0) {
      pg[j] = g[j] - l1[j];
    } else {
      pg[j] = 0;
    }
  }
}

struct Pair {
  std::vector<double> s, y;
  double rho;  // 1 / (y . s)
};

// d = -H q by the two-loop recursion over `pairs` (oldest first), H0 = gamma I.
void TwoLoop(const std::deque<Pair>& pairs, std::span<const double> q_in, std::vector<double>& d) {
  d.assign(q_in.begin(), q_in.end());
  std::vector<double> alpha(pairs.size());
  for (size_t i = pairs.size(); i-- > 0;) {
    alpha[i] = pairs[i].rho * Dot(pairs[i].s, d);
    for (size_t j = 0; j < d.size(); ++j) d[j] -= alpha[i] * pairs[i].y[j];
  }
  if (!pairs.empty()) {
    const Pair& last = pairs.back();
    double gamma = Dot(last.s, last.y) / Dot(last.y, last.y);
    for (double& v : d) v *= gamma;
  }
  for (size_t i = 0; i < pairs.size(); ++i) {
    double beta = pairs[i].rho * Dot(pairs[i].y, d);
    for (size_t j = 0; j < d.size(); ++j) d[j] += (alpha[i] - beta) * pairs[i].s[j];
  }
  for (double& v : d) v = -v;
}

}  // namespace

OptimizerResult Minimize(const SmoothObjective& f, std::vector<double> w0,
                         std::span<const double> l1, const OptimizerOptions& options,
                         const std::function<void(int, double)>& on_iteration) {
  constexpr double kArmijo = 1e-4;
  const size_t n = w0.size();
  const bool owlqn = std::any_of(l1.begin(), l1.end(), [](double v) { return v != 0; });

  OptimizerResult result;
  std::vector<double> w = std::move(w0);
  std::vector<double> g(n), pg, d, w_new(n), g_new(n);
  double value = f(w, g) + L1Term(w, l1);
  PseudoGradient(w, g, l1, pg);
  result.history.push_back(value);
  if (on_iteration) on_iteration(0, value);
  std::deque<Pair> pairs;

  int iteration = 0;
  while (true) {
    if (InfNorm(pg) <= options.tolerance * std::max(1.0, std::abs(value))) {
      result.converged = true;
      result.stop_reason = "gradient below tolerance";
      break;
    }
    if (iteration >= options.max_iterations) {
      result.stop_reason = "max_iterations reached";
      break;
    }
    TwoLoop(pairs, pg, d);
    if (owlqn) {
      // Keep only the components that descend along the pseudo-gradient.
      for (size_t j = 0; j < n; ++j) {
        if (d[j] * pg[j] >= 0) d[j] = 0;
      }
    }
    double slope = Dot(pg, d);
    if (!(slope < 0)) {
      // The quasi-Newton model went bad: restart from steepest descent.
      pairs.clear();
      d = pg;
      for (double& v : d) v = -v;
      slope = Dot(pg, d);
      if (!(slope < 0)) {
        result.converged = true;
        result.stop_reason = "no descent direction";
        break;
      }
    }
    // The orthant each coordinate may move in (OWL-QN): its sign, or for zeros the sign of the
    // step's direction.
    std::vector<double> orthant;
    if (owlqn) {
      orthant.resize(n);
      for (size_t j = 0; j < n; ++j) {
        orthant[j] = w[j] != 0 ? std::copysign(1.0, w[j]) : (pg[j] < 0 ? 1.0 : -1.0);
      }
    }
    double step = pairs.empty() ? std::min(1.0, 1.0 / std::sqrt(Dot(pg, pg))) : 1.0;
    double new_value = 0;
    bool accepted = false;
    if (owlqn) {
      // Backtracking along the projected path (OWL-QN): Armijo on the projected step.
      for (int attempt = 0; attempt < options.max_line_search_steps; ++attempt) {
        for (size_t j = 0; j < n; ++j) {
          w_new[j] = w[j] + step * d[j];
          if (w_new[j] * orthant[j] <= 0) w_new[j] = 0;
        }
        new_value = f(w_new, g_new) + L1Term(w_new, l1);
        double expected = 0;
        for (size_t j = 0; j < n; ++j) expected += pg[j] * (w_new[j] - w[j]);
        if (std::isfinite(new_value) && new_value <= value + kArmijo * expected) {
          accepted = true;
          break;
        }
        step *= 0.5;
      }
    } else {
      // Weak Wolfe conditions by bracketing (Lewis & Overton): a step too long for Armijo
      // shrinks the bracket from above, a step whose slope is still steep grows it from below.
      // The curvature condition keeps s'y > 0, so every pair feeds the quasi-Newton model.
      constexpr double kCurvature = 0.9;
      double lo = 0, hi = INFINITY;
      std::vector<double> best_w, best_g;
      double best_value = 0;
      for (int attempt = 0; attempt < options.max_line_search_steps; ++attempt) {
        for (size_t j = 0; j < n; ++j) w_new[j] = w[j] + step * d[j];
        new_value = f(w_new, g_new);
        if (!std::isfinite(new_value) || new_value > value + kArmijo * step * slope) {
          hi = step;
        } else if (Dot(g_new, d) < kCurvature * slope) {
          lo = step;
          best_w = w_new;
          best_g = g_new;
          best_value = new_value;
        } else {
          accepted = true;
          break;
        }
        step = std::isinf(hi) ? 2 * lo : 0.5 * (lo + hi);
      }
      if (!accepted && lo > 0) {
        // Out of attempts with a step that satisfies Armijo: take it.
        w_new = best_w;
        g_new = best_g;
        new_value = best_value;
        accepted = true;
      }
    }
    if (!accepted) {
      if (!pairs.empty()) {
        pairs.clear();  // retry once from steepest descent before giving up
        continue;
      }
      result.stop_reason = "line search failed to decrease the objective";
      result.converged = InfNorm(pg) <= std::sqrt(options.tolerance);
      break;
    }
    ++iteration;
    Pair pair{std::vector<double>(n), std::vector<double>(n), 0};
    for (size_t j = 0; j < n; ++j) {
      pair.s[j] = w_new[j] - w[j];
      pair.y[j] = g_new[j] - g[j];
    }
    double sy = Dot(pair.s, pair.y);
    // Keep the pair only when it carries positive curvature: H stays positive definite.
    if (sy > 1e-10 * Dot(pair.y, pair.y)) {
      pair.rho = 1.0 / sy;
      pairs.push_back(std::move(pair));
      if (static_cast<int>(pairs.size()) > options.history) pairs.pop_front();
    }
    double decrease = (value - new_value) / std::max({std::abs(value), std::abs(new_value), 1e-300});
    w.swap(w_new);
    g.swap(g_new);
    value = new_value;
    PseudoGradient(w, g, l1, pg);
    result.history.push_back(value);
    if (on_iteration) on_iteration(iteration, value);
    if (decrease < options.tolerance) {
      result.converged = true;
      result.stop_reason = "relative decrease below tolerance";
      break;
    }
  }
  result.w = std::move(w);
  result.objective = value;
  result.iterations = iteration;
  return result;
}

}  // namespace mltrack::logistic
