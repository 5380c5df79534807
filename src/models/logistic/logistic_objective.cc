#include "models/logistic/logistic_objective.h"

#include <algorithm>
#include <cmath>

#include "common/parallel.h"

namespace mltrack::logistic {
namespace {

// log(1 + e^z) without overflow or loss of precision.
double Softplus(double z) { return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))); }

double Sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  double e = std::exp(z);
  return e / (1.0 + e);
}

size_t Tasks(size_t rows, size_t per_task) { return (rows + per_task - 1) / per_task; }

}  // namespace

LogisticObjective::LogisticObjective(const data::DenseMatrix& x, std::span<const int32_t> y,
                                     std::span<const double> row_weights, int classes,
                                     bool multinomial, const LogisticOptions& options,
                                     dist::Communicator& comm)
    : x_(x),
      y_(y),
      weights_(row_weights),
      classes_(classes),
      blocks_(multinomial ? classes : 1),
      d_(x.cols),
      options_(options),
      comm_(comm),
      threads_(ResolveThreads(options.threads)) {
  // Global mean, then the global sum of squared deviations: two passes, no cancellation.
  std::vector<double> sums(d_ + 2, 0.0);
  for (size_t i = 0; i < x.rows; ++i) {
    const double* row = x.row(i);
    for (size_t j = 0; j < d_; ++j) sums[j] += row[j];
  }
  sums[d_] = static_cast<double>(x.rows);
  double local_weight = 0;
  if (weights_.empty()) {
    local_weight = static_cast<double>(x.rows);
  } else {
    for (double w : weights_) local_weight += w;
  }
  sums[d_ + 1] = local_weight;
  comm_.AllreduceSum(sums);
  double n = sums[d_];
  total_weight_ = sums[d_ + 1];
  std::vector<double> mean(d_);
  for (size_t j = 0; j < d_; ++j) mean[j] = n > 0 ? sums[j] / n : 0;
  // Centring is a reparameterisation only when an intercept can absorb the shift.
  center_ = options_.fit_intercept ? mean : std::vector<double>(d_, 0.0);
  std::vector<double> squares(d_, 0.0);
  for (size_t i = 0; i < x.rows; ++i) {
    const double* row = x.row(i);
    for (size_t j = 0; j < d_; ++j) {
      double dev = row[j] - mean[j];
      squares[j] += dev * dev;
    }
  }
  comm_.AllreduceSum(squares);
  sigma_.resize(d_);
  inv_sigma_.resize(d_);
  l2_scale_.resize(d_);
  // The L2 weight of the raw coefficients when the penalty applies to them.
  const double l2 = options_.reg * (1.0 - options_.l1_ratio);
  for (size_t j = 0; j < d_; ++j) {
    double variance = n > 1 ? squares[j] / (n - 1) : 0;
    sigma_[j] = std::sqrt(variance);
    if (!options_.standardize && sigma_[j] > 0) {
      // Penalising raw coefficients gives feature j the curvature ~ p(1-p) sigma^2 + l2 in raw
      // space. Scaling by sqrt(sigma^2 + 4 l2) rather than sigma makes it about 1/4 for every
      // feature, so that a feature of tiny variance does not leave the problem ill-conditioned.
      sigma_[j] = std::sqrt(variance + 4 * l2);
    }
    inv_sigma_[j] = sigma_[j] > 0 ? 1.0 / sigma_[j] : 0.0;
    l2_scale_[j] = options_.standardize ? 1.0 : inv_sigma_[j] * inv_sigma_[j];
  }
}

double LogisticObjective::operator()(std::span<const double> beta, std::span<double> grad) const {
  const size_t d = d_;
  const size_t stride = d + 1;
  const size_t params = num_params();
  // Raw-space weights for the kernel: w = beta / sigma, intercept b - w . mu.
  std::vector<double> w(params);
  ToRawInto(beta, w);
  const size_t tasks = Tasks(x_.rows, kRowsPerTask);
  // Per task: the raw gradient sums (params) and the loss sum (last).
  std::vector<double> partial(tasks * (params + 1), 0.0);
  ParallelFor(tasks, threads_, [&](size_t task) {
    double* out = partial.data() + task * (params + 1);
    size_t begin = task * kRowsPerTask;
    size_t end = std::min(x_.rows, begin + kRowsPerTask);
    double loss = 0;
    std::vector<double> margin(blocks_);
    for (size_t i = begin; i < end; ++i) {
      const double* row = x_.row(i);
      double v = weights_.empty() ? 1.0 : weights_[i];
      int label = y_[i];
      if (blocks_ == 1) {
        const double* wk = w.data();
        double m = wk[d];
        for (size_t j = 0; j < d; ++j) m += wk[j] * row[j];
        loss += v * Softplus(label == 1 ? -m : m);
        double r = v * (Sigmoid(m) - (label == 1 ? 1.0 : 0.0));
        for (size_t j = 0; j < d; ++j) out[j] += r * row[j];
        out[d] += r;
      } else {
        double top = -INFINITY;
        for (int k = 0; k < blocks_; ++k) {
          const double* wk = w.data() + k * stride;
          double m = wk[d];
          for (size_t j = 0; j < d; ++j) m += wk[j] * row[j];
          margin[k] = m;
          top = std::max(top, m);
        }
        double total = 0;
        for (int k = 0; k < blocks_; ++k) total += std::exp(margin[k] - top);
        double log_total = top + std::log(total);
        loss += v * (log_total - margin[label]);
        for (int k = 0; k < blocks_; ++k) {
          double r = v * (std::exp(margin[k] - log_total) - (k == label ? 1.0 : 0.0));
          double* gk = out + k * stride;
          for (size_t j = 0; j < d; ++j) gk[j] += r * row[j];
          gk[d] += r;
        }
      }
    }
    out[params] = loss;
  });
  std::vector<double> sum(params + 1, 0.0);
  for (size_t task = 0; task < tasks; ++task) {
    const double* p = partial.data() + task * (params + 1);
    for (size_t q = 0; q <= params; ++q) sum[q] += p[q];
  }
  comm_.AllreduceSum(sum);

  const double scale = total_weight_ > 0 ? 1.0 / total_weight_ : 0.0;
  const double l2 = options_.reg * (1.0 - options_.l1_ratio);
  double value = sum[params] * scale;
  for (int k = 0; k < blocks_; ++k) {
    const double residual_sum = sum[k * stride + d];
    for (size_t j = 0; j < d; ++j) {
      size_t q = k * stride + j;
      double b = beta[q];
      // d/d beta_j of the loss through z_j = (x_j - mu_j) / sigma_j.
      grad[q] = (sum[q] - center_[j] * residual_sum) * scale * inv_sigma_[j] +
                l2 * l2_scale_[j] * b;
      value += 0.5 * l2 * l2_scale_[j] * b * b;
    }
    size_t q = k * stride + d;
    grad[q] = options_.fit_intercept ? sum[q] * scale : 0.0;
  }
  return value;
}

std::vector<double> LogisticObjective::L1Weights() const {
  if (options_.l1_ratio == 0 || options_.reg == 0) return {};
  std::vector<double> l1(num_params(), 0.0);
  const double base = options_.reg * options_.l1_ratio;
  for (int k = 0; k < blocks_; ++k) {
    for (size_t j = 0; j < d_; ++j) {
      l1[k * (d_ + 1) + j] = base * (options_.standardize ? 1.0 : inv_sigma_[j]);
    }
  }
  return l1;
}

void LogisticObjective::ToRawInto(std::span<const double> beta, std::span<double> raw) const {
  const size_t stride = d_ + 1;
  for (int k = 0; k < blocks_; ++k) {
    double intercept = options_.fit_intercept ? beta[k * stride + d_] : 0.0;
    for (size_t j = 0; j < d_; ++j) {
      double w = beta[k * stride + j] * inv_sigma_[j];
      raw[k * stride + j] = w;
      intercept -= w * center_[j];
    }
    raw[k * stride + d_] = intercept;
  }
}

void LogisticObjective::ToRaw(std::span<const double> beta, std::vector<double>& coefficients,
                              std::vector<double>& intercepts) const {
  std::vector<double> raw(num_params());
  ToRawInto(beta, raw);
  coefficients.assign(static_cast<size_t>(blocks_) * d_, 0.0);
  intercepts.assign(blocks_, 0.0);
  for (int k = 0; k < blocks_; ++k) {
    for (size_t j = 0; j < d_; ++j) coefficients[k * d_ + j] = raw[k * (d_ + 1) + j];
    intercepts[k] = raw[k * (d_ + 1) + d_];
  }
}

std::vector<double> LogisticObjective::FromRaw(std::span<const double> coefficients,
                                               std::span<const double> intercepts) const {
  std::vector<double> beta(num_params(), 0.0);
  for (int k = 0; k < blocks_; ++k) {
    double intercept = options_.fit_intercept ? intercepts[k] : 0.0;
    for (size_t j = 0; j < d_; ++j) {
      beta[k * (d_ + 1) + j] = coefficients[k * d_ + j] * sigma_[j];
      if (sigma_[j] > 0) intercept += coefficients[k * d_ + j] * center_[j];
    }
    beta[k * (d_ + 1) + d_] = intercept;
  }
  return beta;
}

void PredictProbabilities(const data::DenseMatrix& x, std::span<const double> coefficients,
                          std::span<const double> intercepts, int classes,
                          std::vector<double>& probabilities, int threads) {
  const size_t d = x.cols;
  const int blocks = static_cast<int>(intercepts.size());
  probabilities.assign(x.rows * classes, 0.0);
  ParallelFor(Tasks(x.rows, LogisticObjective::kRowsPerTask), ResolveThreads(threads),
              [&](size_t task) {
                size_t begin = task * LogisticObjective::kRowsPerTask;
                size_t end = std::min(x.rows, begin + LogisticObjective::kRowsPerTask);
                std::vector<double> margin(blocks);
                for (size_t i = begin; i < end; ++i) {
                  const double* row = x.row(i);
                  double* p = probabilities.data() + i * classes;
                  for (int k = 0; k < blocks; ++k) {
                    double m = intercepts[k];
                    const double* wk = coefficients.data() + k * d;
                    for (size_t j = 0; j < d; ++j) m += wk[j] * row[j];
                    margin[k] = m;
                  }
                  if (blocks == 1) {
                    p[1] = Sigmoid(margin[0]);
                    p[0] = 1.0 - p[1];
                    continue;
                  }
                  double top = *std::max_element(margin.begin(), margin.end());
                  double total = 0;
                  for (int k = 0; k < blocks; ++k) total += (p[k] = std::exp(margin[k] - top));
                  for (int k = 0; k < blocks; ++k) p[k] /= total;
                }
              });
}

}  // namespace mltrack::logistic
