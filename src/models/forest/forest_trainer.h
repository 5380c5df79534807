// Training a random forest on one rank's rows (data parallel over a Communicator), and
// evaluating it. Every function here is collective: all ranks call it, in the same order.
//
// Trees are grown level by level, a batch of trees at a time: for every open node of the batch
// each rank builds histograms of (weighted class counts | weighted label sums) per bin of the
// node's features over its own rows; one allreduce sums them; every rank then chooses the same
// splits from the same sums and moves its own rows down. All histogram entries are integers (or
// integer multiples of a label quantum for regression, see below) held exactly in doubles, so
// the sums do not depend on the order they were added in: 1 rank, N ranks and any thread count
// grow the same trees from the same bins and seeds.
//
// Regression labels are summed as multiples of a quantum q = 2^e chosen from the largest |label|
// and the row count so that every sum stays below 2^53 (about 29 significant bits for a million
// rows): split finding and the leaf means both use the quantised labels, whose error is below
// 2^-29 of the largest |label|, and so do not depend on the order of the sums either.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "models/data/encoding.h"
#include "models/dist/communicator.h"
#include "models/forest/forest_model.h"
#include "models/forest/forest_options.h"

namespace mltrack::forest {

struct ForestInput {
  const models::Table* table = nullptr;    // this rank's rows
  data::RowOrigin origin;                   // where errors point
  std::span<const int64_t> row_ids;         // global row ids (CSV line numbers), one per row
  std::string label;
  std::vector<std::string> features;        // empty: every column but the label
  data::UnknownCategory unknown = data::UnknownCategory::kError;
};

struct ForestResult {
  std::unique_ptr<RandomForestModel> model;
  size_t train_rows = 0;  // over all ranks
};

// Throws Error(kInvalidParameterValue) for invalid options, an unknown label or feature column,
// a classification label with a single class, a regression label that is not numeric, NaN in a
// feature (naming file, line and column), a categorical feature with more categories than
// max_bins. `on_tree` is called on every rank after each finished tree with the count so far.
ForestResult TrainForest(const ForestInput& input, const ForestOptions& options,
                         dist::Communicator& comm,
                         const std::function<void(int trees_done)>& on_tree = {});

// The model's metrics on `rows` over all ranks: classification: accuracy, log_loss, roc_auc
// (binary: of the positive class; more classes: macro one-vs-rest), precision, recall, f1 (macro);
// regression: rmse, mae, r2. Keys as listed, plus "rows".
std::map<std::string, double> EvaluateForest(const RandomForestModel& model,
                                             const models::Table& table,
                                             const data::RowOrigin& origin,
                                             dist::Communicator& comm);

}  // namespace mltrack::forest
