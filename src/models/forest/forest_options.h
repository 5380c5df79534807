// Options of the random forest trainer, with Spark MLlib's names, meanings and defaults where
// they have one (numTrees 100 as scikit-learn, maxDepth 10).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace mltrack::forest {

enum class Task { kClassification, kRegression };
enum class Impurity { kGini, kEntropy, kVariance };

struct ForestOptions {
  Task task = Task::kClassification;
  // Classification: gini or entropy; regression: variance. Validate refuses other pairings.
  Impurity impurity = Impurity::kGini;
  int num_trees = 100;                // 1 .. 10000
  int max_depth = 10;                 // 0 .. 60; 0 is a single leaf per tree
  int max_bins = 32;                  // 2 .. 256; also the most categories a feature may have
  int min_instances_per_node = 1;     // >= 1: a split whose child gets fewer rows is not made
  double min_info_gain = 0.0;         // >= 0: a split that gains less is not made
  // Features each node draws (Spark's featureSubsetStrategy): "auto" (all for one tree, else
  // sqrt for classification and onethird for regression), "all", "sqrt", "log2", "onethird",
  // a fraction in (0, 1] ("0.5") or a count ("7").
  std::string feature_subset = "auto";
  double subsampling_rate = 1.0;      // (0, 1]: the expected fraction of rows per tree
  // With bootstrap each (tree, row) pair weighs Poisson(subsampling_rate) (Spark's sampling with
  // replacement); without, a row is in a tree with probability subsampling_rate, weight 1.
  bool bootstrap = true;
  uint64_t seed = 42;
  int threads = 0;                    // threads per rank; 0: every core

  // Throws Error(kInvalidParameterValue) naming the option and its accepted range, e.g.
  //   "Invalid option max_bins=300: must be between 2 and 256"
  //   "Invalid option impurity=variance: classification takes gini or entropy"
  void Validate() const;
  // The options as run params.
  std::map<std::string, std::string> AsParams() const;
  // How many of `features` features a node considers: Spark's rules (sqrt: ceil(sqrt(n)), log2:
  // max(1, ceil(log2(n))), onethird: ceil(n / 3), fraction f: ceil(f * n)), at most n, at least 1.
  int FeaturesPerNode(int features) const;
};

const char* TaskName(Task task);          // "classification", "regression"
const char* ImpurityName(Impurity impurity);  // "gini", "entropy", "variance"
// Throw Error(kInvalidParameterValue) for names that are not one of the above.
Task ParseTask(const std::string& name);
Impurity ParseImpurity(const std::string& name);
// The default impurity of a task: gini for classification, variance for regression.
Impurity DefaultImpurity(Task task);

}  // namespace mltrack::forest
