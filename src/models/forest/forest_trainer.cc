#include "models/forest/forest_trainer.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/parallel.h"
#include "models/eval/metrics.h"
#include "models/forest/binning.h"
#include "models/forest/tree_builder.h"
#include "mltrack/error.h"

namespace mltrack::forest {
namespace {

// Per-tree importances normalised to 1, averaged over trees, normalised again (Spark and
// scikit-learn alike). All zeros when no tree split.
std::vector<double> ForestImportances(const std::vector<GrownTree>& trees, size_t features) {
  std::vector<double> total(features, 0.0);
  for (const auto& tree : trees) {
    double sum = 0;
    for (double v : tree.importance) sum += v;
    if (sum <= 0) continue;
    for (size_t f = 0; f < features; ++f) total[f] += tree.importance[f] / sum;
  }
  double sum = 0;
  for (double v : total) sum += v;
  if (sum > 0) {
    for (double& v : total) v /= sum;
  }
  return total;
}

}  // namespace

ForestResult TrainForest(const ForestInput& input, const ForestOptions& options,
                         dist::Communicator& comm, const std::function<void(int)>& on_tree) {
  dist::CheckEveryRank(comm, [&] {
    options.Validate();
    if (input.row_ids.size() != input.table->num_rows()) {
      throw Error(ErrorCode::kInternalError,
                  fmt::format("TrainForest: {} row ids for {} rows", input.row_ids.size(),
                              input.table->num_rows()));
    }
    data::RequireLabelColumn(*input.table, input.label, input.origin);
  });
  const models::Table& table = *input.table;
  const bool classification = options.task == Task::kClassification;
  const int threads = ResolveThreads(options.threads);

  // Labels: class indices, or regression labels in units of the quantum.
  data::LabelEncoder labels;
  std::vector<int32_t> classes_of;
  std::vector<double> quantized;
  double quantum = 1;
  std::vector<int64_t> total_rows{static_cast<int64_t>(table.num_rows())};
  comm.AllreduceSum(total_rows);
  if (classification) {
    labels = data::FitClassifierLabels(table, input.label, input.origin, comm);
    dist::CheckEveryRank(comm, [&] {
      classes_of = labels.Encode(table, input.label, input.origin);
    });
  } else {
    std::vector<double> y;
    dist::CheckEveryRank(comm, [&] { y = data::NumericColumn(table, input.label, input.origin); });
    std::vector<double> max_abs{0.0};
    for (double v : y) max_abs[0] = std::max(max_abs[0], std::abs(v));
    comm.AllreduceMax(max_abs);
    dist::CheckEveryRank(comm, [&] {
      if (!std::isfinite(max_abs[0])) {
        throw Error(ErrorCode::kInvalidParameterValue,
                    fmt::format("The label column '{}' holds an infinite value", input.label));
      }
    });
    quantum = LabelQuantum(max_abs[0], total_rows[0]);
    quantized.resize(y.size());
    for (size_t i = 0; i < y.size(); ++i) quantized[i] = std::nearbyint(y[i] / quantum);
  }
  if (total_rows[0] == 0) {
    throw dist::AgreedError(ErrorCode::kInvalidParameterValue,
                            fmt::format("{} has no rows to train on",
                                        input.origin.source.empty() ? "The training data"
                                                                    : input.origin.source));
  }

  data::FeatureEncoder features =
      data::FeatureEncoder::Fit(table, input.features, {input.label}, input.unknown, comm);
  std::vector<std::vector<double>> columns;
  dist::CheckEveryRank(comm, [&] { columns = features.EncodeColumns(table, input.origin); });
  std::vector<FeatureBins> bins =
      ComputeBins(columns, features, input.row_ids, options.max_bins, options.seed, comm);
  BinnedMatrix binned = ApplyBins(bins, columns, threads);
  columns = {};  // the trees need the bins only

  int max_categories = 0;
  for (const auto& b : bins) {
    if (b.categorical) max_categories = std::max(max_categories, b.num_bins);
  }
  const int words_per_set = std::max(1, (max_categories + 63) / 64);

  TrainingSet set;
  set.x = &binned;
  set.bins = &bins;
  set.row_ids = input.row_ids;
  set.classes = classification ? static_cast<int>(labels.classes().size()) : 0;
  set.classes_of = classes_of;
  set.quantized = quantized;
  set.quantum = quantum;

  // Trees grow in batches that keep every thread busy; the batch never changes a tree. All ranks
  // use the same batch size (the largest any rank asks for).
  std::vector<double> batch_size{static_cast<double>(2 * threads)};
  comm.AllreduceMax(batch_size);
  const int batch = std::max(1, std::min(options.num_trees, static_cast<int>(batch_size[0])));
  std::vector<GrownTree> grown;
  grown.reserve(options.num_trees);
  for (int first = 0; first < options.num_trees; first += batch) {
    int count = std::min(batch, options.num_trees - first);
    for (auto& tree : GrowTrees(set, options, words_per_set, first, count, comm)) {
      grown.push_back(std::move(tree));
    }
    if (on_tree) on_tree(first + count);
  }

  std::vector<double> importances = ForestImportances(grown, bins.size());
  std::vector<Tree> trees;
  trees.reserve(grown.size());
  for (auto& g : grown) trees.push_back(std::move(g.tree));
  ForestResult result;
  result.train_rows = static_cast<size_t>(total_rows[0]);
  result.model = std::make_unique<RandomForestModel>(
      options.task, std::move(features), classification ? std::move(labels) : data::LabelEncoder{},
      input.label, words_per_set, std::move(trees), std::move(importances));
  return result;
}

std::map<std::string, double> EvaluateForest(const RandomForestModel& model,
                                             const models::Table& table,
                                             const data::RowOrigin& origin,
                                             dist::Communicator& comm) {
  std::vector<std::vector<double>> columns;
  std::vector<int32_t> classes_of;
  std::vector<double> truth;
  const bool classification = model.task() == Task::kClassification;
  dist::CheckEveryRank(comm, [&] {
    columns = model.features().EncodeColumns(table, origin);
    if (classification) {
      classes_of = model.labels().Encode(table, model.label_column(), origin);
    } else {
      truth = data::NumericColumn(table, model.label_column(), origin);
    }
  });
  std::vector<double> predictions = model.PredictColumns(columns);
  // The metrics need every row (AUC ranks them all): gather labels and predictions.
  std::vector<double> all_predictions = comm.AllgatherValues<double>(predictions);
  if (classification) {
    std::vector<int32_t> all_truth = comm.AllgatherValues<int32_t>(classes_of);
    eval::ClassifierScores s =
        eval::ScoreClassifier(all_truth, all_predictions, model.value_width());
    return {{"rows", static_cast<double>(s.rows)}, {"accuracy", s.accuracy},
            {"log_loss", s.log_loss},              {"roc_auc", s.roc_auc},
            {"precision", s.precision},            {"recall", s.recall},
            {"f1", s.f1}};
  }
  std::vector<double> all_truth = comm.AllgatherValues<double>(truth);
  eval::RegressorScores s = eval::ScoreRegressor(all_truth, all_predictions);
  return {{"rows", static_cast<double>(s.rows)}, {"rmse", s.rmse}, {"mae", s.mae}, {"r2", s.r2}};
}

}  // namespace mltrack::forest
