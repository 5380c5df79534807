#include "models/forest/forest_options.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "common/option_check.h"
#include "mltrack/client.h"
#include "mltrack/error.h"

namespace mltrack::forest {
namespace {

// A feature_subset that is a number: a count ("7") or a fraction ("0.5"). nullopt otherwise.
struct NumericSubset {
  bool is_count = false;
  long count = 0;
  double fraction = 0;
};

std::optional<NumericSubset> ParseNumericSubset(const std::string& text) {
  NumericSubset subset;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, subset.count);
  if (ec == std::errc() && p == end) {
    subset.is_count = true;
    return subset;
  }
  auto [q, ec2] = std::from_chars(text.data(), end, subset.fraction);
  if (ec2 == std::errc() && q == end) return subset;
  return std::nullopt;
}

}  // namespace

const char* TaskName(Task task) {
  return task == Task::kClassification ? "classification" : "regression";
}

const char* ImpurityName(Impurity impurity) {
  switch (impurity) {
    case Impurity::kGini: return "gini";
    case Impurity::kEntropy: return "entropy";
    case Impurity::kVariance: return "variance";
  }
  return "gini";
}

Task ParseTask(const std::string& name) {
  if (name == "classification") return Task::kClassification;
  if (name == "regression") return Task::kRegression;
  InvalidOption("task", name, "must be classification or regression");
}

Impurity ParseImpurity(const std::string& name) {
  if (name == "gini") return Impurity::kGini;
  if (name == "entropy") return Impurity::kEntropy;
  if (name == "variance") return Impurity::kVariance;
  InvalidOption("impurity", name, "must be gini, entropy or variance");
}

Impurity DefaultImpurity(Task task) {
  return task == Task::kClassification ? Impurity::kGini : Impurity::kVariance;
}

void ForestOptions::Validate() const {
  if (task == Task::kClassification && impurity == Impurity::kVariance) {
    InvalidOption("impurity", "variance", "classification takes gini or entropy");
  }
  if (task == Task::kRegression && impurity != Impurity::kVariance) {
    InvalidOption("impurity", ImpurityName(impurity), "regression takes variance");
  }
  CheckOptionRange("num_trees", num_trees, 1, 10000);
  CheckOptionRange("max_depth", max_depth, 0, 60);
  CheckOptionRange("max_bins", max_bins, 2, 256);
  if (min_instances_per_node < 1) {
    InvalidOption("min_instances_per_node", std::to_string(min_instances_per_node),
                  "must be at least 1");
  }
  if (!(min_info_gain >= 0) || !std::isfinite(min_info_gain)) {
    InvalidOption("min_info_gain", FormatParamValue(min_info_gain), "must be a number >= 0");
  }
  if (!(subsampling_rate > 0 && subsampling_rate <= 1)) {
    InvalidOption("subsampling_rate", FormatParamValue(subsampling_rate), "must be in (0, 1]");
  }
  if (threads < 0) {
    InvalidOption("threads", std::to_string(threads), "must be >= 0 (0: every core)");
  }
  static const char* kNames[] = {"auto", "all", "sqrt", "log2", "onethird"};
  if (std::find(std::begin(kNames), std::end(kNames), feature_subset) == std::end(kNames)) {
    auto subset = ParseNumericSubset(feature_subset);
    bool ok = subset && (subset->is_count ? subset->count >= 1
                                          : subset->fraction > 0 && subset->fraction <= 1);
    if (!ok) {
      InvalidOption(
          "feature_subset", feature_subset,
          "must be auto, all, sqrt, log2, onethird, a fraction in (0, 1] or a count >= 1");
    }
  }
}

std::map<std::string, std::string> ForestOptions::AsParams() const {
  return {
      {"task", TaskName(task)},
      {"impurity", ImpurityName(impurity)},
      {"num_trees", std::to_string(num_trees)},
      {"max_depth", std::to_string(max_depth)},
      {"max_bins", std::to_string(max_bins)},
      {"min_instances_per_node", std::to_string(min_instances_per_node)},
      {"min_info_gain", FormatParamValue(min_info_gain)},
      {"feature_subset", feature_subset},
      {"subsampling_rate", FormatParamValue(subsampling_rate)},
      {"bootstrap", bootstrap ? "true" : "false"},
      {"seed", std::to_string(seed)},
  };
}

int ForestOptions::FeaturesPerNode(int features) const {
  if (features <= 0) return 0;
  const double n = features;
  std::string strategy = feature_subset;
  if (strategy == "auto") {
    strategy = num_trees == 1 ? "all" : task == Task::kClassification ? "sqrt" : "onethird";
  }
  double k;
  if (strategy == "all") {
    k = n;
  } else if (strategy == "sqrt") {
    k = std::ceil(std::sqrt(n));
  } else if (strategy == "log2") {
    k = std::max(1.0, std::ceil(std::log2(n)));
  } else if (strategy == "onethird") {
    k = std::ceil(n / 3);
  } else {
    auto subset = ParseNumericSubset(strategy);
    if (!subset) Validate();  // throws the option's message
    k = subset->is_count ? static_cast<double>(subset->count) : std::ceil(subset->fraction * n);
  }
  return static_cast<int>(std::clamp(k, 1.0, n));
}

}  // namespace mltrack::forest
