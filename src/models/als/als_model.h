// A trained ALS model and its bundle flavor, `mltrack.als`:
//
//   MLmodel            flavors: mltrack.als: {data: model.json, user_factors: user_factors.bin,
//                      item_factors: item_factors.bin, user_ids: user_ids.bin,
//                      item_ids: item_ids.bin, format_version: 1}; signature; input example
//   model.json         {"format_version": 1, "rank": k, "implicit": bool, "biases": bool,
//                       "global_mean": m, "cold_start": "nan"|"drop", "user_column": "user",
//                       "item_column": "item"}
//   user_factors.bin   float64 [users, k + 1]: each user's factors, then its bias (0 without)
//   item_factors.bin   float64 [items, k + 1]: likewise
//   user_ids.bin       int64 [users]: the external id of each row, increasing
//   item_ids.bin       int64 [items]
//
// A prediction is global_mean + user bias + item bias + <user factors, item factors> (the mean
// and biases are 0 without biases). Predict takes columns `user` and `item` (integers) and
// returns `prediction`: NaN for a user or item the model has not seen (both cold-start
// strategies: kDrop matters to evaluation, which leaves such pairs out).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "models/als/als_options.h"
#include "models/als/ratings.h"
#include "models/bundle/flavor_registry.h"
#include "models/bundle/mlmodel.h"

namespace mltrack::als {

inline constexpr const char* kAlsFlavor = "mltrack.als";
inline constexpr int kAlsFormatVersion = 1;

// The learnt parameters: row-major [count, rank + 1] factors with the bias in the last column.
struct AlsFactors {
  int rank = 0;
  IdMap users, items;
  std::vector<double> user_factors;
  std::vector<double> item_factors;
  double global_mean = 0;
  bool operator==(const AlsFactors&) const = default;
};

// Top-k recommendations of every user: user index u's items are
// items[u * k .. u * k + count[u]) (item indices, best first) with their scores.
struct TopK {
  int k = 0;
  std::vector<int32_t> count;
  std::vector<int32_t> items;
  std::vector<float> scores;
};

// Items each user has rated (by dense indices), to leave out of recommendations: CSR by user.
struct SeenItems {
  std::vector<int64_t> offsets;  // users + 1
  std::vector<int32_t> items;    // sorted within each user
  // From ratings (their external ids looked up in `users`/`items`; unknown ids ignored).
  static SeenItems FromRatings(const Ratings& ratings, const IdMap& users, const IdMap& items);
};

class AlsModel final : public models::Model {
 public:
  AlsModel(AlsFactors factors, bool implicit, bool biases, ColdStart cold_start);

  models::Table Predict(const models::Table& input) const override;
  std::string flavor() const override { return kAlsFlavor; }

  // NaN when the user or the item is unknown.
  double PredictPair(int64_t user, int64_t item) const;
  // Scores of dense (user, item) index pairs, on `threads` threads.
  void PredictIndices(std::span<const int64_t> users, std::span<const int64_t> items,
                      std::span<double> out, int threads = 0) const;
  // The k best items of one user (external ids and scores, best first; ties by item id), leaving
  // out `exclude` (external ids). Empty for an unknown user.
  std::vector<std::pair<int64_t, double>> Recommend(int64_t user, int k,
                                                    std::span<const int64_t> exclude = {}) const;
  // The k best items of every user, computed with blocked matrix products (blocks of users x all
  // items) on `threads` threads, leaving out `seen` when given.
  TopK RecommendAll(int k, const SeenItems* seen = nullptr, int threads = 0) const;
  // Writes TopK as CSV "user,item,rank,score" (external ids, rank 1..k) through a temporary file.
  void WriteRecommendations(const std::filesystem::path& path, const TopK& top) const;

  const AlsFactors& factors() const { return factors_; }
  bool implicit() const { return implicit_; }
  bool biases() const { return biases_; }
  ColdStart cold_start() const { return cold_start_; }

  // Writes the bundle folder `dir`; saving a loaded model with its meta() writes the same bytes.
  void Save(const std::filesystem::path& dir, models::ModelMeta meta,
            const std::optional<models::Table>& input_example = std::nullopt) const;
  // The flavor's loader; kInvalidParameterValue naming the file for a damaged bundle.
  static std::unique_ptr<models::Model> Load(const std::filesystem::path& dir,
                                             const models::ModelMeta& meta);

 private:
  AlsFactors factors_;
  bool implicit_;
  bool biases_;
  ColdStart cold_start_;
};

void RegisterAlsFlavor(models::FlavorRegistry& registry = models::FlavorRegistry::Global());

}  // namespace mltrack::als
