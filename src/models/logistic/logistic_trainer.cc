#include "models/logistic/logistic_trainer.h"

#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "mltrack/error.h"
#include "models/eval/metrics.h"
#include "models/logistic/logistic_objective.h"

namespace mltrack::logistic {
namespace {

// Per-row weights from the class weighting (empty: all 1). "balanced" is scikit-learn's
// n / (classes * count(class)), with counts over all ranks.
std::vector<double> RowWeights(std::span<const int32_t> y, const data::LabelEncoder& labels,
                               const LogisticOptions& options, dist::Communicator& comm) {
  const auto& classes = labels.classes();
  const size_t k = classes.size();
  std::vector<double> class_weight(k, 1.0);
  switch (options.class_weighting) {
    case ClassWeighting::kNone:
      return {};
    case ClassWeighting::kBalanced: {
      std::vector<int64_t> counts(k, 0);
      for (int32_t c : y) ++counts[c];
      comm.AllreduceSum(counts);
      int64_t n = 0;
      for (int64_t c : counts) n += c;
      for (size_t c = 0; c < k; ++c) {
        class_weight[c] = counts[c] > 0 ? static_cast<double>(n) / (k * counts[c]) : 0.0;
      }
      break;
    }
    case ClassWeighting::kGiven:
      for (const auto& [label, weight] : options.class_weights) {
        auto it = std::find(classes.begin(), classes.end(), label);
        if (it == classes.end()) {
          throw Error(ErrorCode::kInvalidParameterValue,
                      fmt::format("Invalid option class_weight: '{}' is not a class of the label "
                                  "(classes: {})",
                                  label, fmt::join(classes, ", ")));
        }
        class_weight[it - classes.begin()] = weight;
      }
      break;
  }
  std::vector<double> weights(y.size());
  for (size_t i = 0; i < y.size(); ++i) weights[i] = class_weight[y[i]];
  return weights;
}

}  // namespace

TrainResult TrainLogistic(const TrainInput& input, const LogisticOptions& options,
                          dist::Communicator& comm,
                          const std::function<void(int, double)>& on_iteration) {
  options.Validate();
  const models::Table& table = *input.train.table;
  data::LabelEncoder labels =
      data::FitClassifierLabels(table, input.label, input.train.origin, comm);
  const int classes = static_cast<int>(labels.classes().size());
  bool multinomial = options.family == Family::kMultinomial ||
                     (options.family == Family::kAuto && classes > 2);
  if (options.family == Family::kBinomial && classes > 2) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid option family=binomial: the label column '{}' has {} classes; "
                            "use multinomial (or auto)",
                            input.label, classes));
  }
  data::FeatureEncoder features =
      data::FeatureEncoder::Fit(table, input.features, {input.label}, input.unknown, comm);
  data::DenseMatrix x;
  std::vector<int32_t> y;
  // Bad rows are found on one rank's shard: every rank fails with its message.
  dist::CheckEveryRank(comm, [&] {
    x = features.Encode(table, input.train.origin);
    y = labels.Encode(table, input.label, input.train.origin);
  });
  std::vector<double> weights = RowWeights(y, labels, options, comm);

  LogisticObjective objective(x, y, weights, classes, multinomial, options, comm);
  OptimizerOptions optimizer_options{.max_iterations = options.max_iter,
                                     .tolerance = options.tol,
                                     .history = options.history};
  std::vector<double> start(objective.num_params(), 0.0);
  std::vector<double> l1 = objective.L1Weights();
  OptimizerResult optimum =
      Minimize(std::cref(objective), std::move(start), l1, optimizer_options, on_iteration);

  std::vector<double> coefficients, intercepts;
  objective.ToRaw(optimum.w, coefficients, intercepts);
  TrainResult result;
  result.family = multinomial ? Family::kMultinomial : Family::kBinomial;
  std::vector<int64_t> rows{static_cast<int64_t>(x.rows)};
  comm.AllreduceSum(rows);
  result.train_rows = static_cast<size_t>(rows[0]);
  if (multinomial && classes == 2) {
    // Two softmax blocks predict exactly as one sigmoid block of their difference; the model
    // stores the canonical one-block form.
    const size_t d = x.cols;
    for (size_t j = 0; j < d; ++j) coefficients[j] = coefficients[d + j] - coefficients[j];
    coefficients.resize(d);
    intercepts = {intercepts[1] - intercepts[0]};
  }
  result.model = std::make_unique<LogisticModel>(std::move(features), std::move(labels),
                                                 input.label, std::move(coefficients),
                                                 std::move(intercepts));
  result.optimizer = std::move(optimum);
  return result;
}

ClassificationMetrics EvaluateLogistic(const LogisticModel& model, const Rows& rows,
                                       dist::Communicator& comm) {
  data::DenseMatrix x;
  std::vector<int32_t> y;
  dist::CheckEveryRank(comm, [&] {
    x = model.features().Encode(*rows.table, rows.origin);
    y = model.labels().Encode(*rows.table, model.label_column(), rows.origin);
  });
  std::vector<double> probabilities;
  logistic::PredictProbabilities(x, model.coefficients(), model.intercepts(), model.classes(),
                                 probabilities, 0);
  // The metrics need every row (AUC ranks them all): gather labels and probabilities.
  std::vector<int32_t> all_y = comm.AllgatherValues<int32_t>(y);
  std::vector<double> all_p = comm.AllgatherValues<double>(probabilities);
  return eval::ScoreClassifier(all_y, all_p, model.classes());
}

}  // namespace mltrack::logistic
