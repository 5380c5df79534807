// Options of the logistic regression trainer, and the objective they define.
//
// With n rows x_i (after encoding), labels y_i in 0..K-1 and row weights v_i (class weights),
// the trainer minimises, as Spark MLlib and glmnet do:
//
//   sum_i v_i * loss_i / sum_i v_i  +  reg * ( l1_ratio * |W|_1 + (1 - l1_ratio) / 2 * |W|_2^2 )
//
// where loss_i is the log loss of the logistic model (binary: one coefficient vector and the
// sigmoid; more classes: one vector per class and the softmax) and the intercepts are never
// penalised. scikit-learn's LogisticRegression(C=c) with no class weights is reg = 1 / (c * n),
// l1_ratio = 0, standardize = false.
//
// Standardisation: the optimiser always works on features scaled to unit variance (for
// conditioning); `standardize` says whether the penalty applies to the coefficients of the
// standardised features (true, Spark's default: every feature penalised alike whatever its unit)
// or to those of the raw features (false). Coefficients are reported for the raw features.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace mltrack::logistic {

enum class Family { kAuto, kBinomial, kMultinomial };
enum class ClassWeighting { kNone, kBalanced, kGiven };

struct LogisticOptions {
  double reg = 0.0;       // >= 0
  double l1_ratio = 0.0;  // in [0, 1]: 0 is L2 (L-BFGS), > 0 uses OWL-QN
  bool fit_intercept = true;
  bool standardize = true;
  Family family = Family::kAuto;  // auto: binomial for 2 classes, multinomial above
  int max_iter = 100;             // >= 1
  double tol = 1e-6;              // > 0
  int history = 10;               // L-BFGS memory, >= 1
  ClassWeighting class_weighting = ClassWeighting::kNone;
  // kGiven: weight by class label (as text); classes not named weigh 1.
  std::map<std::string, double> class_weights;
  int threads = 0;  // kernel threads per rank; 0: every core

  // Throws Error(kInvalidParameterValue) naming the option and its accepted range, e.g.
  //   "Invalid option l1_ratio=1.5: must be between 0 and 1"
  void Validate() const;
  // The options as run params (name -> printed value), as `mlt train logistic` logs them.
  std::map<std::string, std::string> AsParams() const;
};

const char* FamilyName(Family family);

}  // namespace mltrack::logistic
