// Evaluation metrics shared by every trainer. Definitions follow scikit-learn's (named in each
// comment) so that figures compare. Inputs are local arrays: a distributed trainer gathers
// predictions (or sums the per-rank parts itself) before calling these.
// Every function throws Error(kInvalidParameterValue) for mismatched lengths, an empty input or
// a class index out of range, naming the argument.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace mltrack::eval {

// --- classification: labels are class indices 0 .. classes-1 ------------------------------

double Accuracy(std::span<const int32_t> truth, std::span<const int32_t> predicted);

// confusion[t * classes + p] = rows of true class t predicted as p (sklearn confusion_matrix).
std::vector<int64_t> ConfusionMatrix(std::span<const int32_t> truth,
                                     std::span<const int32_t> predicted, int classes);

struct ClassScores {
  std::vector<double> precision, recall, f1;  // per class; 0 where undefined (sklearn's
  std::vector<int64_t> support;               // zero_division=0)
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  double weighted_f1 = 0;
};
ClassScores PrecisionRecallF1(std::span<const int32_t> truth, std::span<const int32_t> predicted,
                              int classes);

// Mean negative log-likelihood; `probabilities` is rows x classes, row-major. Probabilities are
// clipped to [1e-15, 1 - 1e-15] (sklearn log_loss).
double LogLoss(std::span<const int32_t> truth, std::span<const double> probabilities,
               int classes);

// Binary ROC AUC from scores of the positive class (ties get half credit: the Mann-Whitney
// statistic, sklearn roc_auc_score). Throws when only one class is present.
double RocAuc(std::span<const int32_t> truth, std::span<const double> positive_scores);
// Multiclass: the unweighted mean of one-vs-rest AUCs (sklearn multi_class="ovr",
// average="macro"), from rows x classes probabilities.
double RocAucOvr(std::span<const int32_t> truth, std::span<const double> probabilities,
                 int classes);

// --- regression ------------------------------------------------------------------------------

double Rmse(std::span<const double> truth, std::span<const double> predicted);
double Mae(std::span<const double> truth, std::span<const double> predicted);
// 1 - SS_res / SS_tot (sklearn r2_score). For a constant truth SS_tot is 0: 1.0 when the
// predictions are exact, else 0.0 (sklearn's force_finite).
double R2(std::span<const double> truth, std::span<const double> predicted);

// --- reports: the figures a trainer logs ------------------------------------------------------

struct ClassifierScores {
  size_t rows = 0;
  double accuracy = 0;
  double log_loss = 0;
  double roc_auc = 0;    // binary: of the last class; more: macro one-vs-rest; 0 when a class
                         // is absent from the rows (AUC is undefined then)
  double precision = 0;  // macro averages
  double recall = 0;
  double f1 = 0;
  std::vector<int64_t> confusion;  // classes x classes
};
// Every figure above from rows x classes probabilities (the prediction is the most probable
// class, the first on ties). Zero rows give all zeros.
ClassifierScores ScoreClassifier(std::span<const int32_t> truth,
                                 std::span<const double> probabilities, int classes);

struct RegressorScores {
  size_t rows = 0;
  double rmse = 0;
  double mae = 0;
  double r2 = 0;
};
RegressorScores ScoreRegressor(std::span<const double> truth, std::span<const double> predicted);

}  // namespace mltrack::eval
