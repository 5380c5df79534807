// What a served model answers: a flavor-aware layer over models::Model::Predict.
//
// Every request's table is first checked against the bundle's input signature
// (models::CheckAgainstSignature: missing, unexpected or mistyped columns, with MLflow's safe
// conversions); problems are Error(kBadRequest) naming the column, e.g.
//   "Missing required column 'age'", "Column 'age' has type string, expected long"
// and NaN in a column the model cannot take is refused: "Column 'x' has NaN at row 2".
//
// By flavor:
//   mltrack.logistic_regression, mltrack.random_forest (classification):
//       predictions: the labels, [ "yes", "no", ... ] (typed as the training labels were).
//       params {"predict_proba": true}: records, [{"prediction": "yes", "probability_no": 0.2,
//       "probability_yes": 0.8}, ...].
//       A category outside a categorical column's vocabulary: 400 naming the column and value,
//       unless the model was trained to map unknown categories to a slot.
//   mltrack.random_forest (regression): the values, [3.2, 1.5, ...].
//   mltrack.als:
//       columns user and item: the predicted ratings, [4.1, 3.7, ...]; an unknown user or item
//       is null under the model's cold-start strategy "nan" and 400 under "drop" (nothing to
//       drop a single answer to): "Unknown user 99".
//       column user alone (one row per user), k from a column "k", params {"k": 10}, or 10:
//       the top-k items per user, records [{"user": 1, "rank": 1, "item": 50, "score": 4.9},
//       ...]; an unknown user: 400 "Unknown user 99".
//   any other flavor: Predict's table, one column as a list, several as records.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "models/bundle/flavor_registry.h"
#include "serving/request_codec.h"

namespace mltrack::serving {

struct ScoringResult {
  models::Table table;         // what `mlt models predict` writes as CSV
  // The value of "predictions" in the JSON answer, from the table: one column is a list of its
  // values, several are records in column order; NaN and infinities are null.
  nlohmann::ordered_json predictions() const;
};

// {"predictions": <result.predictions()>}, the body of an answer (invalid UTF-8 in strings
// replaced).
std::string PredictionsBody(const ScoringResult& result);

class Scorer {
 public:
  virtual ~Scorer() = default;
  // Thread-safe. Throws Error(kBadRequest) for a request the model cannot answer, as above.
  virtual ScoringResult Score(const ScoringRequest& request) const = 0;
  virtual const models::Model& model() const = 0;

  // The scorer for a loaded model, by its flavor.
  static std::unique_ptr<Scorer> ForModel(std::shared_ptr<const models::Model> model);
};

}  // namespace mltrack::serving
