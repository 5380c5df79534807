// The smooth part of the logistic regression objective (logistic_options.h) over one rank's
// rows, summed over the ranks of a Communicator: the data-parallel loss and gradient.
//
// Parameters live in the standardised space: `blocks` blocks (1 for binomial, K for
// multinomial) of d coefficients followed by one intercept, block after block. Feature j enters
// as z_j = (x_j - mu_j) / sigma_j: centring decorrelates the coefficients from the intercept,
// which the quasi-Newton method needs to converge quickly on uncentred data, and changes nothing
// else because the intercept absorbs the shift (without an intercept mu_j is 0, so the model
// stays one through the origin). A constant feature (sigma_j = 0) keeps a zero coefficient. The
// kernel itself runs on the raw rows with the raw coefficients and intercepts.
//
// Determinism: rows are cut into fixed blocks of kRowsPerTask; each block's partial sums are
// kept apart and added in block order, then across ranks in rank order. The thread count never
// changes the result, and the same rank count always gives the same bits.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/data/encoding.h"
#include "models/dist/communicator.h"
#include "models/logistic/logistic_options.h"

namespace mltrack::logistic {

class LogisticObjective {
 public:
  static constexpr size_t kRowsPerTask = 4096;

  // `x` and `y` are this rank's rows; `row_weights` is empty (all 1) or one per row. `classes`
  // is the global class count (>= 2). Computes the global feature scales (collective).
  LogisticObjective(const data::DenseMatrix& x, std::span<const int32_t> y,
                    std::span<const double> row_weights, int classes, bool multinomial,
                    const LogisticOptions& options, dist::Communicator& comm);

  size_t features() const { return d_; }
  int blocks() const { return blocks_; }
  size_t num_params() const { return static_cast<size_t>(blocks_) * (d_ + 1); }
  const std::vector<double>& scales() const { return sigma_; }
  double total_weight() const { return total_weight_; }

  // The smooth objective (mean weighted log loss + L2 term) at `beta`, its gradient into `grad`.
  // Collective: every rank calls it with the same beta.
  double operator()(std::span<const double> beta, std::span<double> grad) const;

  // The L1 weight of each parameter (empty when l1_ratio is 0): intercepts 0.
  std::vector<double> L1Weights() const;

  // Raw-feature coefficients (blocks x d, row-major) and intercepts of standardised `beta`.
  void ToRaw(std::span<const double> beta, std::vector<double>& coefficients,
             std::vector<double>& intercepts) const;
  // The standardised parameters of raw coefficients and intercepts (a warm start).
  std::vector<double> FromRaw(std::span<const double> coefficients,
                              std::span<const double> intercepts) const;

 private:
  const data::DenseMatrix& x_;
  std::span<const int32_t> y_;
  std::span<const double> weights_;
  int classes_;
  int blocks_;
  size_t d_;
  LogisticOptions options_;
  dist::Communicator& comm_;
  int threads_;
  // The raw coefficients and intercept of each block, laid out like beta.
  void ToRawInto(std::span<const double> beta, std::span<double> raw) const;

  // Per feature, the scale of the optimiser's space: the standard deviation (or, when the raw
  // coefficients are penalised, sqrt(variance + 4 l2)); 0 for constant features.
  std::vector<double> sigma_;
  std::vector<double> center_;    // per feature: its mean with an intercept, else 0
  std::vector<double> inv_sigma_;  // 1 / sigma, 0 for constant features
  std::vector<double> l2_scale_;   // per feature: 1 (standardize) or 1 / sigma^2
  double total_weight_ = 0;
};

// Class probabilities (rows x classes, row-major) of raw coefficients (blocks x d) and
// intercepts: the sigmoid for one block (2 classes), the softmax otherwise.
void PredictProbabilities(const data::DenseMatrix& x, std::span<const double> coefficients,
                          std::span<const double> intercepts, int classes,
                          std::vector<double>& probabilities, int threads = 0);

}  // namespace mltrack::logistic
