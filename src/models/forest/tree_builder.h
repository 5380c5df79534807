// The level-wise tree builder behind TrainForest (forest_trainer.h explains the scheme and its
// determinism). Internal to the forest library.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/dist/communicator.h"
#include "models/forest/binning.h"
#include "models/forest/forest_options.h"
#include "models/forest/tree.h"

namespace mltrack::forest {

// One rank's training rows, binned, with their labels.
struct TrainingSet {
  const BinnedMatrix* x = nullptr;
  const std::vector<FeatureBins>* bins = nullptr;
  std::span<const int64_t> row_ids;     // global ids: bootstrap weights hash them
  int classes = 0;                      // classification: the class count; regression: 0
  std::span<const int32_t> classes_of;  // classification: each row's class index
  std::span<const double> quantized;    // regression: each label / quantum, an integer
  double quantum = 1;                   // regression: the label unit of `quantized`
};

// The largest weight a bootstrap draw gives a row (Poisson draws above it are capped; with
// a rate <= 1 the chance is below 1e-13 per row). Bounds every histogram sum.
inline constexpr int kMaxRowWeight = 16;

struct GrownTree {
  Tree tree;
  // Per feature: the sum over the tree's splits on it of node weight x impurity decrease.
  std::vector<double> importance;
};

// Grows trees first .. first + count - 1 of the forest (tree t's seed derives from options.seed
// and t alone). `words_per_set`: the category bitset width in 64-bit words. Collective: every
// rank passes the same first, count and options.
std::vector<GrownTree> GrowTrees(const TrainingSet& data, const ForestOptions& options,
                                 int words_per_set, int first, int count,
                                 dist::Communicator& comm);

// The quantum for regression labels: a power of two q such that sum(weight * |label| / q) over
// every row stays below 2^53 (exact in a double) with weights up to kMaxRowWeight.
// `max_abs_label` and `total_rows` are over all ranks.
double LabelQuantum(double max_abs_label, int64_t total_rows);

}  // namespace mltrack::forest
