// Fitting a logistic regression on one rank's rows (data parallel over a Communicator) and
// evaluating it. Every function here is collective: all ranks call it, in the same order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/data/encoding.h"
#include "models/dist/communicator.h"
#include "models/eval/metrics.h"
#include "models/logistic/logistic_model.h"
#include "models/logistic/logistic_options.h"
#include "models/logistic/optimizer.h"

namespace mltrack::logistic {

// One rank's rows of a training (or test) set.
struct Rows {
  const models::Table* table = nullptr;
  data::RowOrigin origin;  // where errors point (file and line numbers)
};

struct TrainInput {
  Rows train;
  std::string label;                  // the label column
  std::vector<std::string> features;  // empty: every column but the label
  data::UnknownCategory unknown = data::UnknownCategory::kError;
};

struct TrainResult {
  std::unique_ptr<LogisticModel> model;
  OptimizerResult optimizer;  // iterations, objective history, stop reason
  Family family = Family::kBinomial;
  size_t train_rows = 0;      // over all ranks
};

// Throws Error(kInvalidParameterValue) for invalid options, an unknown label or feature column,
// a label with a single class ("The label column 'y' of train.csv has one class ('1'): ..."),
// NaN or strings in numeric features (naming file, line and column), and multinomial options
// asked of ... (see LogisticOptions::Validate).
TrainResult TrainLogistic(const TrainInput& input, const LogisticOptions& options,
                          dist::Communicator& comm,
                          const std::function<void(int iteration, double objective)>&
                              on_iteration = {});

using ClassificationMetrics = eval::ClassifierScores;

// The model's metrics on `rows` (each rank passes its own; figures are over all ranks). Rows
// whose label is not one of the model's classes are an error naming the row.
ClassificationMetrics EvaluateLogistic(const LogisticModel& model, const Rows& rows,
                                       dist::Communicator& comm);

}  // namespace mltrack::logistic
