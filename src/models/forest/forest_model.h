// A trained random forest and its bundle flavor, `mltrack.random_forest`:
//
//   MLmodel              flavors: mltrack.random_forest: {data: model.json, trees: [the six
//                        tree_*.bin files], format_version: 1}; signature; input example
//   model.json           {"format_version": 1, "task": "classification"|"regression",
//                         "label": <label column>, "labels": <LabelEncoder JSON> (classification),
//                         "features": <FeatureEncoder JSON>, "num_trees": T,
//                         "words_per_set": W, "value_width": V, "max_depth": D,
//                         "feature_importances": [one per raw feature column, summing to 1]}
//   tree_nodes.bin       int32 [N, 4]: feature, left, right, category_set of every node, tree
//                        after tree (child indices are within the tree)
//   tree_offsets.bin     int64 [T + 1]: the first node of each tree, then N
//   tree_thresholds.bin  float64 [N]
//   tree_values.bin      float64 [N, V]
//   tree_weights.bin     float64 [N]
//   tree_categories.bin  int64 [C]: every tree's category bitset words, tree after tree (the
//                        bits of uint64 words); category_set indices are within the tree, and a
//                        tree owns words_per_set words per categorical split, in node order
//   input_example.json   a few training rows (pandas split orient)
//
// Predict takes the raw columns the encoder names (as in the signature). Classification returns
// `prediction` (the class label, typed as the training label was) and `probability_<label>` per
// class, the probabilities being the mean of the trees' leaf distributions (as scikit-learn);
// regression returns `prediction`, the mean of the trees' leaf means.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/bundle/flavor_registry.h"
#include "models/bundle/mlmodel.h"
#include "models/data/encoding.h"
#include "models/forest/forest_options.h"
#include "models/forest/tree.h"

namespace mltrack::forest {

inline constexpr const char* kForestFlavor = "mltrack.random_forest";
inline constexpr int kForestFormatVersion = 1;

class RandomForestModel final : public models::Model {
 public:
  // `labels` is ignored (may be empty) for regression. value_width is the class count or 1.
  RandomForestModel(Task task, data::FeatureEncoder features, data::LabelEncoder labels,
                    std::string label_column, int words_per_set, std::vector<Tree> trees,
                    std::vector<double> feature_importances);

  models::Table Predict(const models::Table& input) const override;
  std::string flavor() const override { return kForestFlavor; }

  // One row of raw features in EncodeColumns' layout (one value per raw feature column) into
  // `out` (value_width() values): class probabilities, or the predicted value. No checks: the
  // fast path for callers that encoded the row themselves.
  void PredictRow(const double* x, double* out) const;
  // Rows x value_width() predictions of column-major features (EncodeColumns' result), on
  // `threads` threads (0: every core).
  std::vector<double> PredictColumns(const std::vector<std::vector<double>>& columns,
                                     int threads = 0) const;

  Task task() const { return task_; }
  const data::FeatureEncoder& features() const { return features_; }
  const data::LabelEncoder& labels() const { return labels_; }
  const std::string& label_column() const { return label_column_; }
  int value_width() const { return value_width_; }
  int words_per_set() const { return words_per_set_; }
  const std::vector<Tree>& trees() const { return trees_; }
  // One per raw feature column (features().columns()), summing to 1 (all 0 when no tree split).
  const std::vector<double>& feature_importances() const { return feature_importances_; }
  int max_depth() const;
  size_t total_nodes() const;
  // The output table of Predict from rows x value_width() predictions.
  models::Table OutputTable(const std::vector<double>& predictions, size_t rows) const;
  models::Schema OutputSchema() const;

  // Writes the bundle folder `dir` (created if needed): the flavor's files and the MLmodel of
  // `meta` with this flavor and the signature set; with an input example, input_example.json.
  // Saving a loaded model with its meta() writes the same bytes.
  void Save(const std::filesystem::path& dir, models::ModelMeta meta,
            const std::optional<models::Table>& input_example = std::nullopt) const;

  // The flavor's loader. Throws kInvalidParameterValue naming the file for a damaged bundle:
  // missing or malformed model.json, a format_version this build cannot read, arrays of the
  // wrong shape, child or feature indices out of range, a cycle, a checksum mismatch.
  static std::unique_ptr<models::Model> Load(const std::filesystem::path& dir,
                                             const models::ModelMeta& meta);

 private:
  Task task_;
  data::FeatureEncoder features_;
  data::LabelEncoder labels_;
  std::string label_column_;
  int words_per_set_;
  int value_width_;
  std::vector<Tree> trees_;
  std::vector<double> feature_importances_;
};

// Registers the flavor's loader in `registry` unless it already has one.
void RegisterForestFlavor(models::FlavorRegistry& registry = models::FlavorRegistry::Global());

}  // namespace mltrack::forest
