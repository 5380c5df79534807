// A trained logistic regression and its bundle flavor, `mltrack.logistic_regression`:
//
//   MLmodel              flavors: mltrack.logistic_regression: {data: model.json,
//                        coefficients: coefficients.bin, format_version: 1}; signature; example
//   model.json           {"format_version": 1, "family": "binomial"|"multinomial",
//                         "label": <label column>, "labels": <LabelEncoder JSON>,
//                         "features": <FeatureEncoder JSON>}
//   coefficients.bin     array file, float64, blocks x (d + 1): each row a block's raw-feature
//                        coefficients followed by its intercept (1 block for two classes)
//   input_example.json   a few training rows (pandas split orient)
//
// Predict takes the raw columns the encoder names (as in the signature) and returns the column
// `prediction` (the class label, typed as the training label was) and one `probability_<label>`
// column per class.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/bundle/flavor_registry.h"
#include "models/bundle/mlmodel.h"
#include "models/data/encoding.h"

namespace mltrack::logistic {

inline constexpr const char* kLogisticFlavor = "mltrack.logistic_regression";
inline constexpr int kLogisticFormatVersion = 1;

class LogisticModel final : public models::Model {
 public:
  // `coefficients` is blocks x d row-major, `intercepts` one per block; blocks is 1 for two
  // classes (the positive class is labels.classes()[1]) or the class count.
  LogisticModel(data::FeatureEncoder features, data::LabelEncoder labels, std::string label_column,
                std::vector<double> coefficients, std::vector<double> intercepts);

  models::Table Predict(const models::Table& input) const override;
  std::string flavor() const override { return kLogisticFlavor; }

  // Rows x classes probabilities of encoded rows.
  void PredictProbabilities(const data::DenseMatrix& x, std::vector<double>& probabilities) const;
  // The output table of Predict from probabilities.
  models::Table OutputTable(const std::vector<double>& probabilities, size_t rows) const;

  const data::FeatureEncoder& features() const { return features_; }
  const data::LabelEncoder& labels() const { return labels_; }
  const std::string& label_column() const { return label_column_; }
  int classes() const { return static_cast<int>(labels_.classes().size()); }
  const std::vector<double>& coefficients() const { return coefficients_; }
  const std::vector<double>& intercepts() const { return intercepts_; }
  // The output columns' schema (for the signature).
  models::Schema OutputSchema() const;

  // Writes the bundle folder `dir` (created if needed): the flavor's files and the MLmodel of
  // `meta` with this flavor and the signature set. With an input example, input_example.json
  // too. Saving a loaded model with its meta() writes the same bytes.
  void Save(const std::filesystem::path& dir, models::ModelMeta meta,
            const std::optional<models::Table>& input_example = std::nullopt) const;

  // The flavor's loader. Throws kInvalidParameterValue naming the file for a damaged bundle
  // (missing or malformed model.json, a format_version this build cannot read, coefficients of
  // the wrong shape, a checksum mismatch).
  static std::unique_ptr<models::Model> Load(const std::filesystem::path& dir,
                                             const models::ModelMeta& meta);

 private:
  data::FeatureEncoder features_;
  data::LabelEncoder labels_;
  std::string label_column_;
  std::vector<double> coefficients_;
  std::vector<double> intercepts_;
};

// Registers the flavor's loader in `registry` unless it already has one.
void RegisterLogisticFlavor(models::FlavorRegistry& registry = models::FlavorRegistry::Global());

}  // namespace mltrack::logistic
