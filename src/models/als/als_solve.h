// One ALS half-iteration on one rank: every owned entity's normal equations, assembled from the
// received factors of the other side (normal_equations.h) and solved. als_trainer.cc moves the
// ratings and factors between ranks and drives the iterations.
//
// The normal equations of an entity e with ratings r_eo over the other side's entities o (in
// increasing index order), with d the solved dimension:
//   explicit:  (Σ z_o z_oᵀ + λ n_e I) w_e = Σ t_eo z_o
//              without biases z_o = y_o, t = r, w_e = x_e (d = k);
//              with biases    z_o = [y_o, 1], t = r − μ − b_o, w_e = [x_e, b_e] (d = k + 1): the
//              bias is solved jointly and regularised like the factors, by λ n_e (Spark has no
//              biases; this is the usual biased-MF objective with weighted-lambda).
//   implicit:  (YᵀY + Σ (c_eo − 1) y_o y_oᵀ + λ n_e I) x_e = Σ c_eo p_eo y_o,
//              c = 1 + α|r|, p = [r > 0] (Hu, Koren & Volinsky; |r| as Spark, so negative
//              ratings are confident zeros). n_e counts every observed pair (Spark counts the
//              positive ones only); YᵀY is over all of the other side's entities.
//
// Solvers: Cholesky (LDLT when the matrix is only semi-definite, e.g. λ = 0); implicit "cg":
// cg_steps conjugate gradient steps from the previous factors, applying
// YᵀY + Σ (c − 1) y yᵀ + λ n I to a vector without forming it; nonnegative: cyclic projected
// coordinate descent on the d×d system (bias coordinates unconstrained), warm-started from the
// previous factors clamped at 0, until no coordinate moves by more than 1e-12 of the largest
// (or 1000 sweeps); the system is strictly convex when λ n > 0, so this is the NNLS solution
// Spark's projected solver finds.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Dense>

#include "models/als/normal_equations.h"

namespace mltrack::als {

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

// The other side's factors as a solve reads them: rows of NormalEquationsStride(k, biased)
// doubles (factors; biased: 1, then the entity's bias; zeros), the first row 32-byte aligned.
class FactorRows {
 public:
  FactorRows() = default;
  FactorRows(size_t rows, int stride);
  // data() points into storage_: moves keep it valid, copies would not.
  FactorRows(const FactorRows&) = delete;
  FactorRows& operator=(const FactorRows&) = delete;
  FactorRows(FactorRows&&) = default;
  FactorRows& operator=(FactorRows&&) = default;
  double* row(size_t r) { return data_ + r * stride_; }
  const double* data() const { return data_; }
  int stride() const { return stride_; }

 private:
  std::vector<double> storage_;
  double* data_ = nullptr;
  int stride_ = 0;
};

struct SolveContext {
  int k = 0;
  int d = 0;                 // k, or k + 1 with the bias
  RatingTerm term = RatingTerm::kExplicit;
  bool nonnegative = false;
  bool cg = false;
  int cg_steps = 3;
  double reg = 0;
  double alpha = 0;
  double mean = 0;
  const FactorRows* other = nullptr;     // received factors
  const Eigen::MatrixXd* gram = nullptr;  // implicit: the other side's YᵀY
};

// Solves every entity this rank owns on one side, on `threads` threads; `factors` holds rows of
// k + 1 (factors, bias) and receives the new ones. Returns, for explicit feedback, the training
// loss Σ (r − r̂)² over the side's ratings at the new factors (per-task sums added in task order,
// so the figure does not depend on the thread count); 0 for implicit.
double SolveSide(const Side& side, const SolveContext& context, std::vector<double>& factors,
                 int threads);

// Implicit feedback: this rank's part of the loss over `side`'s ratings, Σ c (p − x·y)², when
// `ratings_term`, plus λ Σ n_e |x_e|² over the side's own entities.
double ImplicitSideLoss(const Side& side, const SolveContext& context,
                        const std::vector<double>& factors, bool ratings_term, int threads);

}  // namespace mltrack::als
