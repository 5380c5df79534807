#include "models/eval/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string_view>

#include "mltrack/error.h"

namespace mltrack::eval {
namespace {

// log_loss's clipping bound (the header's contract; sklearn >= 1.5 clips at the dtype's eps).
constexpr double kLogLossEps = 1e-15;

[[noreturn]] void Invalid(std::string message) {
  throw Error(ErrorCode::kInvalidParameterValue, std::move(message));
}

void CheckNotEmpty(std::string_view fn, size_t n) {
  if (n == 0) Invalid(fmt::format("{}: empty input", fn));
}

// Two arrays of one value per row.
void CheckPaired(std::string_view fn, size_t truth, std::string_view other_name, size_t other) {
  CheckNotEmpty(fn, truth);
  if (truth != other) {
    Invalid(fmt::format("{}: truth has {} values but {} has {}", fn, truth, other_name, other));
  }
}

// Labels and a rows x classes matrix.
void CheckMatrix(std::string_view fn, size_t rows, std::string_view matrix_name, size_t values,
                 int classes) {
  CheckNotEmpty(fn, rows);
  if (values != rows * static_cast<size_t>(classes)) {
    Invalid(fmt::format("{}: truth has {} rows but {} has {} values (expected {} x {})", fn, rows,
                        matrix_name, values, rows, classes));
  }
}

void CheckClasses(std::string_view fn, int classes, int minimum) {
  if (classes < minimum) {
    Invalid(fmt::format("{}: classes must be >= {}, got {}", fn, minimum, classes));
  }
}

void CheckLabels(std::string_view fn, std::string_view name, std::span<const int32_t> labels,
                 int classes) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      Invalid(fmt::format("{}: {}[{}] = {} is not a class index (0 .. {})", fn, name, i, labels[i],
                          classes - 1));
    }
  }
}

// The Mann-Whitney U statistic over `order`'s scores: for each positive, the negatives scored
// below it plus half the negatives tied with it. `order` is the rows sorted by score.
// Counted as 2U in integers, so the result is exact up to the final division.
template <class IsPositive, class Score>
double AucFromOrder(std::string_view fn, const std::vector<size_t>& order, IsPositive is_positive,
                    Score score) {
  uint64_t positives = 0, negatives = 0, twice_u = 0;
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin;
    uint64_t group_pos = 0, group_neg = 0;
    double s = score(order[begin]);
    for (; end < order.size() && score(order[end]) == s; ++end) {
      (is_positive(order[end]) ? group_pos : group_neg) += 1;
    }
    twice_u += group_pos * (2 * negatives + group_neg);
    positives += group_pos;
    negatives += group_neg;
    begin = end;
  }
  if (positives == 0 || negatives == 0) {
    Invalid(fmt::format("{}: only one class is present in truth", fn));
  }
  return static_cast<double>(twice_u) /
         (2.0 * static_cast<double>(positives) * static_cast<double>(negatives));
}

void CheckScores(std::string_view fn, std::string_view name, std::span<const double> scores) {
  for (size_t i = 0; i < scores.size(); ++i) {
    if (std::isnan(scores[i])) Invalid(fmt::format("{}: {}[{}] is NaN", fn, name, i));
  }
}

// Rows sorted by ascending score (the one O(n log n) step of an AUC).
template <class Score>
std::vector<size_t> OrderBy(size_t n, Score score) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score(a) < score(b); });
  return order;
}

std::vector<int64_t> Confusion(std::string_view fn, std::span<const int32_t> truth,
                               std::span<const int32_t> predicted, int classes) {
  CheckClasses(fn, classes, 1);
  CheckPaired(fn, truth.size(), "predicted", predicted.size());
  CheckLabels(fn, "truth", truth, classes);
  CheckLabels(fn, "predicted", predicted, classes);
  size_t k = static_cast<size_t>(classes);
  std::vector<int64_t> confusion(k * k, 0);
  for (size_t i = 0; i < truth.size(); ++i) {
    ++confusion[static_cast<size_t>(truth[i]) * k + static_cast<size_t>(predicted[i])];
  }
  return confusion;
}

}  // namespace

double Accuracy(std::span<const int32_t> truth, std::span<const int32_t> predicted) {
  CheckPaired("Accuracy", truth.size(), "predicted", predicted.size());
  size_t correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) correct += truth[i] == predicted[i];
  return static_cast<double>(correct) / static_cast<double>(truth.size());
}

std::vector<int64_t> ConfusionMatrix(std::span<const int32_t> truth,
                                     std::span<const int32_t> predicted, int classes) {
  return Confusion("ConfusionMatrix", truth, predicted, classes);
}

// sklearn precision_recall_fscore_support(labels=range(classes), zero_division=0): every class
// counts in the macro means, also one absent from both truth and predictions. F1 is computed
// from counts, 2 tp / (support + predicted), as sklearn >= 1.4 does.
ClassScores PrecisionRecallF1(std::span<const int32_t> truth, std::span<const int32_t> predicted,
                              int classes) {
  std::vector<int64_t> confusion = Confusion("PrecisionRecallF1", truth, predicted, classes);
  size_t k = static_cast<size_t>(classes);
  ClassScores s;
  s.precision.assign(k, 0.0);
  s.recall.assign(k, 0.0);
  s.f1.assign(k, 0.0);
  s.support.assign(k, 0);
  std::vector<int64_t> predicted_count(k, 0);
  for (size_t t = 0; t < k; ++t) {
    for (size_t p = 0; p < k; ++p) {
      s.support[t] += confusion[t * k + p];
      predicted_count[p] += confusion[t * k + p];
    }
  }
  auto ratio = [](int64_t num, int64_t den) {
    return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
  };
  double weighted = 0;
  for (size_t c = 0; c < k; ++c) {
    int64_t tp = confusion[c * k + c];
    s.precision[c] = ratio(tp, predicted_count[c]);
    s.recall[c] = ratio(tp, s.support[c]);
    s.f1[c] = ratio(2 * tp, s.support[c] + predicted_count[c]);
    s.macro_precision += s.precision[c];
    s.macro_recall += s.recall[c];
    s.macro_f1 += s.f1[c];
    weighted += s.f1[c] * static_cast<double>(s.support[c]);
  }
  s.macro_precision /= static_cast<double>(k);
  s.macro_recall /= static_cast<double>(k);
  s.macro_f1 /= static_cast<double>(k);
  s.weighted_f1 = weighted / static_cast<double>(truth.size());
  return s;
}

double LogLoss(std::span<const int32_t> truth, std::span<const double> probabilities, int classes) {
  CheckClasses("LogLoss", classes, 2);
  CheckMatrix("LogLoss", truth.size(), "probabilities", probabilities.size(), classes);
  CheckLabels("LogLoss", "truth", truth, classes);
  CheckScores("LogLoss", "probabilities", probabilities);
  size_t k = static_cast<size_t>(classes);
  double total = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    double p = probabilities[i * k + static_cast<size_t>(truth[i])];
    total -= std::log(std::clamp(p, kLogLossEps, 1 - kLogLossEps));
  }
  return total / static_cast<double>(truth.size());
}

double RocAuc(std::span<const int32_t> truth, std::span<const double> positive_scores) {
  CheckPaired("RocAuc", truth.size(), "positive_scores", positive_scores.size());
  CheckLabels("RocAuc", "truth", truth, 2);
  CheckScores("RocAuc", "positive_scores", positive_scores);
  auto score = [&](size_t i) { return positive_scores[i]; };
  return AucFromOrder(
      "RocAuc", OrderBy(truth.size(), score), [&](size_t i) { return truth[i] == 1; }, score);
}

// For two classes sklearn scores the binary problem from column 1, and so does this.
double RocAucOvr(std::span<const int32_t> truth, std::span<const double> probabilities,
                 int classes) {
  CheckClasses("RocAucOvr", classes, 2);
  CheckMatrix("RocAucOvr", truth.size(), "probabilities", probabilities.size(), classes);
  CheckLabels("RocAucOvr", "truth", truth, classes);
  CheckScores("RocAucOvr", "probabilities", probabilities);
  size_t k = static_cast<size_t>(classes);
  std::vector<int64_t> count(k, 0);
  for (int32_t t : truth) ++count[static_cast<size_t>(t)];
  for (size_t c = 0; c < k; ++c) {
    if (count[c] == 0) Invalid(fmt::format("RocAucOvr: class {} is not present in truth", c));
  }
  auto auc_of = [&](size_t c) {
    auto score = [&](size_t i) { return probabilities[i * k + c]; };
    return AucFromOrder(
        "RocAucOvr", OrderBy(truth.size(), score),
        [&](size_t i) { return static_cast<size_t>(truth[i]) == c; }, score);
  };
  if (k == 2) return auc_of(1);
  double sum = 0;
  for (size_t c = 0; c < k; ++c) sum += auc_of(c);
  return sum / static_cast<double>(k);
}

double Rmse(std::span<const double> truth, std::span<const double> predicted) {
  CheckPaired("Rmse", truth.size(), "predicted", predicted.size());
  double sum = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    double d = truth[i] - predicted[i];
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(truth.size()));
}

double Mae(std::span<const double> truth, std::span<const double> predicted) {
  CheckPaired("Mae", truth.size(), "predicted", predicted.size());
  double sum = 0;
  for (size_t i = 0; i < truth.size(); ++i) sum += std::abs(truth[i] - predicted[i]);
  return sum / static_cast<double>(truth.size());
}

double R2(std::span<const double> truth, std::span<const double> predicted) {
  CheckPaired("R2", truth.size(), "predicted", predicted.size());
  double mean = 0;
  for (double t : truth) mean += t;
  mean /= static_cast<double>(truth.size());
  double ss_res = 0, ss_tot = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    double r = truth[i] - predicted[i], d = truth[i] - mean;
    ss_res += r * r;
    ss_tot += d * d;
  }
  if (ss_res == 0) return 1.0;  // sklearn: a zero numerator scores 1, also for constant truth
  if (ss_tot == 0) return 0.0;  // force_finite: constant truth, imperfect predictions
  return 1.0 - ss_res / ss_tot;
}

ClassifierScores ScoreClassifier(std::span<const int32_t> truth,
                                 std::span<const double> probabilities, int classes) {
  ClassifierScores scores;
  scores.rows = truth.size();
  if (truth.empty()) return scores;
  const size_t k = static_cast<size_t>(classes);
  std::vector<int32_t> predicted(truth.size());
  std::vector<double> positive(truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    const double* p = probabilities.data() + i * k;
    predicted[i] = static_cast<int32_t>(std::max_element(p, p + k) - p);
    positive[i] = p[k - 1];
  }
  scores.accuracy = Accuracy(truth, predicted);
  scores.log_loss = LogLoss(truth, probabilities, classes);
  std::vector<bool> present(k, false);
  for (int32_t c : truth) present[static_cast<size_t>(c)] = true;
  if (std::all_of(present.begin(), present.end(), [](bool b) { return b; })) {
    scores.roc_auc = classes == 2 ? RocAuc(truth, positive)
                                  : RocAucOvr(truth, probabilities, classes);
  }
  ClassScores per_class = PrecisionRecallF1(truth, predicted, classes);
  scores.precision = per_class.macro_precision;
  scores.recall = per_class.macro_recall;
  scores.f1 = per_class.macro_f1;
  scores.confusion = ConfusionMatrix(truth, predicted, classes);
  return scores;
}

RegressorScores ScoreRegressor(std::span<const double> truth, std::span<const double> predicted) {
  RegressorScores scores;
  scores.rows = truth.size();
  if (truth.empty()) return scores;
  scores.rmse = Rmse(truth, predicted);
  scores.mae = Mae(truth, predicted);
  scores.r2 = R2(truth, predicted);
  return scores;
}

}  // namespace mltrack::eval
