// AlsModel on hand-built factors: exact predictions, recommendations against a brute force over
// every (user, item) pair, the recommendations file, the bundle round trip, and the refusal of
// every kind of damaged bundle with its message.
#include "models/als/als_model.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/bundle/array_file.h"
#include "models/bundle/mlmodel.h"
#include "support/test_support.h"

namespace mltrack::als {
namespace {

namespace fs = std::filesystem;
using models::DataType;
using models::Table;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using Recs = std::vector<std::pair<int64_t, double>>;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Rank 2; users 10, 20, 30; items 5, 7, 9. Rows are (f0, f1, bias). Every value is a small
// dyadic fraction, so every score below is exact in any summation order.
AlsFactors SmallFactors(bool biases) {
  AlsFactors f;
  f.rank = 2;
  f.users = IdMap({10, 20, 30});
  f.items = IdMap({5, 7, 9});
  f.user_factors = {1, 2, biases ? 0.25 : 0,     //
                    -1, 0.5, biases ? -1.0 : 0,  //
                    0, 0, biases ? 2.0 : 0};
  f.item_factors = {0.5, -1, biases ? -0.5 : 0,  //
                    2, 1, biases ? 0.125 : 0,    //
                    -1, 3, biases ? 0 : 0};
  f.global_mean = biases ? 3.5 : 0;
  return f;
}

AlsModel SmallModel(bool biases) {
  return AlsModel(SmallFactors(biases), false, biases, ColdStart::kNan);
}

Table Pairs(models::ColumnValues users, models::ColumnValues items) {
  Table t;
  t.AddColumn("user", std::move(users));
  t.AddColumn("item", std::move(items));
  return t;
}

std::vector<double> PredictionColumn(const Table& t) {
  EXPECT_EQ(t.columns().size(), 1u);
  EXPECT_EQ(t.columns()[0].name, "prediction");
  return std::get<std::vector<double>>(t.columns()[0].values);
}

TEST(AlsModelPredict, PredictPairIsTheDotProductWithoutBiases) {
  AlsModel model = SmallModel(false);
  EXPECT_EQ(model.PredictPair(10, 5), 0.5 - 2);
  EXPECT_EQ(model.PredictPair(10, 7), 2 + 2);
  EXPECT_EQ(model.PredictPair(20, 9), 1 + 1.5);
  EXPECT_EQ(model.PredictPair(30, 7), 0);
}

TEST(AlsModelPredict, PredictPairAddsTheMeanAndBothBiases) {
  AlsModel model = SmallModel(true);
  EXPECT_EQ(model.PredictPair(10, 5), 3.5 + 0.25 - 0.5 + (0.5 - 2));
  EXPECT_EQ(model.PredictPair(20, 7), 3.5 - 1 + 0.125 + (-2 + 0.5));
  EXPECT_EQ(model.PredictPair(30, 9), 3.5 + 2 + 0);
}

TEST(AlsModelPredict, UnknownUsersAndItemsAreNaN) {
  AlsModel model = SmallModel(true);
  EXPECT_TRUE(std::isnan(model.PredictPair(11, 5)));
  EXPECT_TRUE(std::isnan(model.PredictPair(10, 6)));
  EXPECT_TRUE(std::isnan(model.PredictPair(-1, -1)));
  AlsModel drop(SmallFactors(false), false, false, ColdStart::kDrop);
  EXPECT_TRUE(std::isnan(drop.PredictPair(40, 5)));
}

TEST(AlsModelPredict, PredictTakesLongOrIntegralDoubleColumns) {
  AlsModel model = SmallModel(true);
  const std::vector<double> expected{model.PredictPair(10, 5), kNaN, model.PredictPair(30, 9),
                                     kNaN};
  auto same = [&](const std::vector<double>& got) {
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      if (std::isnan(expected[i])) {
        EXPECT_TRUE(std::isnan(got[i])) << i;
      } else {
        EXPECT_EQ(got[i], expected[i]) << i;
      }
    }
  };
  same(PredictionColumn(model.Predict(Pairs(std::vector<int64_t>{10, 99, 30, 10},
                                            std::vector<int64_t>{5, 5, 9, 8}))));
  Table with_extra = Pairs(std::vector<double>{10, 99, 30, 10}, std::vector<int64_t>{5, 5, 9, 8});
  with_extra.AddColumn("rating", std::vector<double>{1, 2, 3, 4});
  same(PredictionColumn(model.Predict(with_extra)));
  EXPECT_TRUE(PredictionColumn(model.Predict(Pairs(std::vector<int64_t>{},
                                                   std::vector<int64_t>{})))
                  .empty());
}

TEST(AlsModelPredict, BadInputColumnsAreRefusedNamingTheColumn) {
  AlsModel model = SmallModel(false);
  Table only_user;
  only_user.AddColumn("user", std::vector<int64_t>{10});
  EXPECT_ERROR(model.Predict(only_user), ErrorCode::kInvalidParameterValue,
               Eq("Missing required column 'item'"));
  Table only_item;
  only_item.AddColumn("item", std::vector<int64_t>{5});
  EXPECT_ERROR(model.Predict(only_item), ErrorCode::kInvalidParameterValue,
               Eq("Missing required column 'user'"));
  EXPECT_ERROR(model.Predict(Pairs(std::vector<std::string>{"10"}, std::vector<int64_t>{5})),
               ErrorCode::kInvalidParameterValue,
               Eq("Column 'user' has type string, expected long"));
  EXPECT_ERROR(model.Predict(Pairs(std::vector<int64_t>{10}, std::vector<bool>{true})),
               ErrorCode::kInvalidParameterValue,
               Eq("Column 'item' has type boolean, expected long"));
  EXPECT_ERROR(model.Predict(Pairs(std::vector<int64_t>{10, 20},
                                   std::vector<double>{5, 1.5})),
               ErrorCode::kInvalidParameterValue,
               Eq("Column 'item' has value 1.5 at row 1, which is not an integer id"));
  EXPECT_ERROR(model.Predict(Pairs(std::vector<double>{kNaN}, std::vector<int64_t>{5})),
               ErrorCode::kInvalidParameterValue,
               Eq("Column 'user' has value nan at row 0, which is not an integer id"));
  EXPECT_ERROR(model.Predict(Pairs(std::vector<double>{1e19}, std::vector<int64_t>{5})),
               ErrorCode::kInvalidParameterValue,
               Eq("Column 'user' has value 1e+19 at row 0, which is not an integer id"));
}

TEST(AlsModelPredict, PredictIndicesGivesNaNOutOfRangeAndChecksLengths) {
  AlsModel model = SmallModel(true);
  std::vector<int64_t> users{0, 2, 3, -1}, items{0, 2, 0, 1};
  std::vector<double> out(4);
  model.PredictIndices(users, items, out, 2);
  EXPECT_EQ(out[0], model.PredictPair(10, 5));
  EXPECT_EQ(out[1], model.PredictPair(30, 9));
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_TRUE(std::isnan(out[3]));
  std::vector<double> short_out(3);
  EXPECT_ERROR(model.PredictIndices(users, items, short_out), ErrorCode::kInvalidParameterValue,
               Eq("PredictIndices takes as many users, items and outputs; got 4, 4 and 3"));
}

TEST(AlsModelPredict, FactorsOfTheWrongSizeOrBiasesWithoutBiasesAreRefused) {
  AlsFactors f = SmallFactors(false);
  f.item_factors.pop_back();
  EXPECT_ERROR(AlsModel(f, false, false, ColdStart::kNan), ErrorCode::kInvalidParameterValue,
               Eq("ALS factors of rank 2 need 3 x 3 user and 3 x 3 item values, got 9 and 8"));
  EXPECT_ERROR(AlsModel(SmallFactors(true), false, false, ColdStart::kNan),
               ErrorCode::kInvalidParameterValue,
               Eq("An ALS model without biases needs a global mean and bias columns of 0"));
}

// --- recommendations ------------------------------------------------------------------------

// Random factors of small dyadic values (many exact ties) for `users` x `items`, rank 3.
AlsModel RandomModel(int users, int items, bool biases, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> value(-4, 4);
  AlsFactors f;
  f.rank = 3;
  std::vector<int64_t> user_ids, item_ids;
  for (int u = 0; u < users; ++u) user_ids.push_back(100 + 3 * u);
  for (int i = 0; i < items; ++i) item_ids.push_back(-50 + 7 * i);
  f.users = IdMap(user_ids);
  f.items = IdMap(item_ids);
  auto fill = [&](std::vector<double>& v, int rows) {
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < 3; ++c) v.push_back(value(rng) / 2.0);
      v.push_back(biases ? value(rng) / 4.0 : 0.0);
    }
  };
  fill(f.user_factors, users);
  fill(f.item_factors, items);
  f.global_mean = biases ? 3.25 : 0;
  return AlsModel(std::move(f), !biases, biases, ColdStart::kNan);
}

// The k best items of a user by scoring every item with PredictPair and sorting by (score
// descending, item id ascending).
Recs BruteForce(const AlsModel& model, int64_t user, int k, const std::set<int64_t>& exclude) {
  Recs all;
  for (int64_t item : model.factors().items.ids()) {
    if (!exclude.contains(item)) all.emplace_back(item, model.PredictPair(user, item));
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  });
  if (all.size() > static_cast<size_t>(k)) all.resize(k);
  return all;
}

// Every user's rated items: user index u rates the items i with (u * 7 + i * 3) % 5 == 0.
Ratings SomeRatings(const AlsModel& model) {
  Ratings r;
  const auto& users = model.factors().users.ids();
  const auto& items = model.factors().items.ids();
  for (size_t u = 0; u < users.size(); ++u) {
    for (size_t i = items.size(); i-- > 0;) {  // items out of order
      if ((u * 7 + i * 3) % 5 != 0) continue;
      r.user.push_back(users[u]);
      r.item.push_back(items[i]);
      r.rating.push_back(1);
    }
  }
  return r;
}

TEST(AlsModelRecommend, SeenItemsFromRatingsSortsDedupsAndIgnoresUnknownIds) {
  Ratings r;
  r.user = {30, 10, 10, 99, 30, 10, 30};
  r.item = {9, 7, 5, 5, 8, 7, 5};
  r.rating.assign(7, 1);
  SeenItems seen = SeenItems::FromRatings(r, IdMap({10, 20, 30}), IdMap({5, 7, 9}));
  EXPECT_THAT(seen.offsets, ElementsAre(0, 2, 2, 4));
  EXPECT_THAT(seen.items, ElementsAre(0, 1, 0, 2));
  SeenItems none = SeenItems::FromRatings(Ratings{}, IdMap({10, 20}), IdMap({5}));
  EXPECT_THAT(none.offsets, ElementsAre(0, 0, 0));
  EXPECT_TRUE(none.items.empty());
}

TEST(AlsModelRecommend, RecommendMatchesBruteForceWithExclusionsAndTies) {
  for (bool biases : {false, true}) {
    AlsModel model = RandomModel(9, 23, biases, 7);
    const auto& items = model.factors().items.ids();
    for (int64_t user : model.factors().users.ids()) {
      for (int k : {1, 5, 23, 40}) {
        EXPECT_EQ(model.Recommend(user, k), BruteForce(model, user, k, {})) << user << " " << k;
        // Excluded: a few known items and an unknown id.
        std::vector<int64_t> exclude{items[3], items[0], 12345, items[22]};
        EXPECT_EQ(model.Recommend(user, k, exclude),
                  BruteForce(model, user, k, {items[0], items[3], items[22]}))
            << user << " " << k;
      }
    }
  }
}

TEST(AlsModelRecommend, TiesGoToTheSmallerItemId) {
  AlsFactors f;
  f.rank = 1;
  f.users = IdMap({1});
  f.items = IdMap({4, 8, 15, 16});
  f.user_factors = {1, 0};
  f.item_factors = {1, 0, 2, 0, 1, 0, 2, 0};
  AlsModel model(std::move(f), true, false, ColdStart::kNan);
  EXPECT_EQ(model.Recommend(1, 3), (Recs{{8, 2}, {16, 2}, {4, 1}}));
  EXPECT_EQ(model.Recommend(1, 1), (Recs{{8, 2}}));  // 16 ties with the kept one: it stays out
  EXPECT_EQ(model.Recommend(1, 2, std::vector<int64_t>{8}), (Recs{{16, 2}, {4, 1}}));
  EXPECT_THAT(model.RecommendAll(3).items, ElementsAre(1, 3, 0));
  EXPECT_THAT(model.RecommendAll(1).items, ElementsAre(1));
}

TEST(AlsModelRecommend, UnknownUserZeroKAndNegativeK) {
  AlsModel model = SmallModel(true);
  EXPECT_TRUE(model.Recommend(11, 3).empty());
  EXPECT_TRUE(model.Recommend(10, 0).empty());
  EXPECT_ERROR(model.Recommend(10, -1), ErrorCode::kInvalidParameterValue,
               Eq("Cannot recommend -1 items: the count must be at least 0"));
  EXPECT_ERROR(model.RecommendAll(-2), ErrorCode::kInvalidParameterValue,
               Eq("Cannot recommend -2 items: the count must be at least 0"));
}

// RecommendAll's rows as (item id, score) lists, to compare with BruteForce.
Recs RowOf(const AlsModel& model, const TopK& top, size_t u) {
  Recs row;
  for (int j = 0; j < top.count[u]; ++j) {
    row.emplace_back(model.factors().items.Id(top.items[u * top.k + j]),
                     top.scores[u * top.k + j]);
  }
  return row;
}

TEST(AlsModelRecommend, RecommendAllMatchesBruteForceOnAnyThreadCount) {
  // 150 users: more than one block of users, the last one partial.
  for (bool biases : {false, true}) {
    AlsModel model = RandomModel(150, 31, biases, 11);
    Ratings ratings = SomeRatings(model);
    SeenItems seen = SeenItems::FromRatings(ratings, model.factors().users,
                                            model.factors().items);
    for (int k : {0, 1, 10, 31, 50}) {
      for (bool with_seen : {false, true}) {
        TopK one = model.RecommendAll(k, with_seen ? &seen : nullptr, 1);
        TopK two = model.RecommendAll(k, with_seen ? &seen : nullptr, 2);
        EXPECT_EQ(one.k, k);
        EXPECT_EQ(one.count, two.count);
        EXPECT_EQ(one.items, two.items);
        ASSERT_EQ(one.count.size(), 150u);
        ASSERT_EQ(one.items.size(), 150u * k);
        for (size_t u = 0; u < 150; ++u) {
          const int64_t user = model.factors().users.Id(u);
          std::set<int64_t> exclude;
          for (size_t r = 0; with_seen && r < ratings.size(); ++r) {
            if (ratings.user[r] == user) exclude.insert(ratings.item[r]);
          }
          Recs expected = BruteForce(model, user, k, exclude);
          for (auto& [item, score] : expected) score = static_cast<float>(score);
          EXPECT_EQ(RowOf(model, one, u), expected) << "user " << user << " k " << k;
          // Unused slots (k above the unseen item count) hold -1.
          for (int j = one.count[u]; j < k; ++j) EXPECT_EQ(one.items[u * k + j], -1);
        }
      }
    }
  }
}

TEST(AlsModelRecommend, RecommendAllRefusesSeenItemsOfAnotherShape) {
  AlsModel model = SmallModel(false);
  SeenItems seen{.offsets = {0, 1}, .items = {0}};
  EXPECT_ERROR(model.RecommendAll(2, &seen), ErrorCode::kInvalidParameterValue,
               Eq("The seen items have 2 offsets over 1 items; the model has 3 users (expected "
                  "4 offsets from 0 to the item count)"));
  seen = {.offsets = {0, 1, 1, 1}, .items = {3}};
  EXPECT_ERROR(model.RecommendAll(2, &seen), ErrorCode::kInvalidParameterValue,
               Eq("The seen items hold item index 3; the model has 3 items"));
}

TEST(AlsModelRecommend, WriteRecommendationsWritesCsvWithShortestScores) {
  AlsFactors f = SmallFactors(false);
  f.item_factors[1] = -0.9;  // user 10, item 5: 0.5 - 1.8 = -1.3, not a float exactly
  AlsModel model(std::move(f), false, false, ColdStart::kNan);
  Ratings rated;
  rated.user = {20};
  rated.item = {9};
  rated.rating = {1};
  SeenItems seen = SeenItems::FromRatings(rated, model.factors().users, model.factors().items);
  TopK top = model.RecommendAll(2, &seen);
  TempDir dir;
  model.WriteRecommendations(dir / "recs.csv", top);
  EXPECT_EQ(ReadFile(dir / "recs.csv"),
            "user,item,rank,score\n"
            "10,9,1,5\n"
            "10,7,2,4\n"
            "20,5,1,-0.95\n"  // 9 was rated
            "20,7,2,-1.5\n"
            "30,5,1,0\n"      // a tie of all three items
            "30,7,2,0\n");
  // A score that is not exactly representable is written in its shortest float form.
  TopK one = model.RecommendAll(3);
  one.count = {3, 0, 0};  // counts below k: only the first count[u] slots are written
  model.WriteRecommendations(dir / "recs.csv", one);
  EXPECT_EQ(ReadFile(dir / "recs.csv"),
            "user,item,rank,score\n10,9,1,5\n10,7,2,4\n10,5,3,-1.3\n");
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path())) names.insert(e.path().filename());
  EXPECT_THAT(names, ElementsAre("recs.csv"));  // no temporary file left
  TopK wrong = top;
  wrong.count.pop_back();
  EXPECT_ERROR(model.WriteRecommendations(dir / "bad.csv", wrong),
               ErrorCode::kInvalidParameterValue,
               Eq("The recommendations cover 2 users with 6 item slots; the model has 3 users, "
                  "which need 6 slots for k = 2"));
  EXPECT_FALSE(fs::exists(dir / "bad.csv"));
}

// --- the bundle -------------------------------------------------------------------------------

const std::vector<std::string> kArrayFiles{"user_factors.bin", "item_factors.bin",
                                           "user_ids.bin", "item_ids.bin"};

std::set<std::string> FileNames(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

std::unique_ptr<models::Model> Load(const fs::path& dir) {
  models::FlavorRegistry flavors;
  RegisterAlsFlavor(flavors);
  return models::LoadModel(dir, flavors);
}

// Field by field: IdMap has no operator== (so AlsFactors' defaulted one is deleted).
void ExpectSameFactors(const AlsFactors& a, const AlsFactors& b) {
  EXPECT_EQ(a.rank, b.rank);
  EXPECT_EQ(a.users.ids(), b.users.ids());
  EXPECT_EQ(a.items.ids(), b.items.ids());
  EXPECT_EQ(a.user_factors, b.user_factors);
  EXPECT_EQ(a.item_factors, b.item_factors);
  EXPECT_EQ(a.global_mean, b.global_mean);
}

Table ThreeRows() {
  return Pairs(std::vector<int64_t>{10, 20, 40}, std::vector<int64_t>{5, 9, 5});
}

void ExpectSamePredictions(const Table& a, const Table& b) {
  std::vector<double> x = PredictionColumn(a), y = PredictionColumn(b);
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_TRUE(x[i] == y[i] || (std::isnan(x[i]) && std::isnan(y[i]))) << i;
  }
}

TEST(AlsModelBundle, SaveLoadSaveIsByteIdenticalAndPredictsTheSame) {
  for (bool biases : {false, true}) {
    TempDir dir;
    AlsFactors f = SmallFactors(biases);
    if (biases) {
      f.global_mean = 0.1 + 0.2;   // needs 17 digits to round-trip
      f.user_factors[0] = 1.0 / 3;
    }
    AlsModel original(f, !biases, biases, biases ? ColdStart::kDrop : ColdStart::kNan);
    original.Save(dir / "first", models::NewModelMeta(), ThreeRows());
    std::unique_ptr<models::Model> loaded = Load(dir / "first");
    EXPECT_EQ(loaded->flavor(), "mltrack.als");
    const auto& typed = dynamic_cast<const AlsModel&>(*loaded);
    ExpectSameFactors(typed.factors(), original.factors());
    EXPECT_EQ(typed.implicit(), !biases);
    EXPECT_EQ(typed.biases(), biases);
    EXPECT_EQ(typed.cold_start(), original.cold_start());
    typed.Save(dir / "second", loaded->meta(), ThreeRows());
    std::set<std::string> files = FileNames(dir / "first");
    EXPECT_EQ(files, FileNames(dir / "second"));
    for (const auto& file : kArrayFiles) EXPECT_TRUE(files.contains(file)) << file;
    for (const auto& file : {"MLmodel", "model.json", "input_example.json"}) {
      EXPECT_TRUE(files.contains(file)) << file;
    }
    for (const auto& file : files) {
      EXPECT_EQ(ReadFile(dir / "first" / file), ReadFile(dir / "second" / file)) << file;
    }
    ExpectSamePredictions(loaded->Predict(ThreeRows()), original.Predict(ThreeRows()));
  }
}

TEST(AlsModelBundle, WritesTheFlavorSignatureModelJsonAndArrays) {
  TempDir dir;
  SmallModel(true).Save(dir / "m", models::NewModelMeta());
  models::ModelMeta meta = models::ReadMlmodel(dir / "m" / "MLmodel");
  ASSERT_TRUE(meta.flavors.contains(kAlsFlavor));
  EXPECT_EQ(meta.flavors[kAlsFlavor],
            nlohmann::json({{"data", "model.json"},
                            {"user_factors", "user_factors.bin"},
                            {"item_factors", "item_factors.bin"},
                            {"user_ids", "user_ids.bin"},
                            {"item_ids", "item_ids.bin"},
                            {"format_version", 1}}));
  ASSERT_TRUE(meta.signature.has_value());
  EXPECT_EQ(meta.signature->inputs,
            models::InferSchema({{"user", DataType::kLong}, {"item", DataType::kLong}}));
  EXPECT_EQ(meta.signature->outputs, models::InferSchema({{"prediction", DataType::kDouble}}));
  EXPECT_FALSE(meta.saved_input_example_info.has_value());
  EXPECT_EQ(ReadFile(dir / "m" / "model.json"),
            "{\n \"biases\": true,\n \"cold_start\": \"nan\",\n \"format_version\": 1,\n"
            " \"global_mean\": 3.5,\n \"implicit\": false,\n \"item_column\": \"item\",\n"
            " \"rank\": 2,\n \"user_column\": \"user\"\n}\n");
  auto users = models::ReadArrayFile<double>(dir / "m" / "user_factors.bin");
  EXPECT_THAT(users.shape, ElementsAre(3, 3));
  EXPECT_EQ(users.values, SmallFactors(true).user_factors);
  EXPECT_THAT(models::ReadArrayFile<int64_t>(dir / "m" / "item_ids.bin").values,
              ElementsAre(5, 7, 9));
  EXPECT_THAT(models::ReadArrayFile<int64_t>(dir / "m" / "user_ids.bin").values,
              ElementsAre(10, 20, 30));
}

// A saved model with biases (3 users, 3 items, rank 2) to damage, one way per test case.
class AlsModelDamagedBundle : public ::testing::Test {
 protected:
  void SetUp() override { SmallModel(true).Save(bundle(), models::NewModelMeta()); }
  fs::path bundle() const { return dir_ / "m"; }

  void LoadFails(const std::string& message) {
    EXPECT_ERROR(Load(bundle()), ErrorCode::kInvalidParameterValue,
                 Eq("Invalid ALS bundle: " + message));
  }
  template <typename T>
  void EditArray(const std::string& file, const std::function<void(models::Array<T>&)>& edit) {
    auto array = models::ReadArrayFile<T>(bundle() / file);
    edit(array);
    models::WriteArrayFile(bundle() / file, array.shape, std::span<const T>(array.values));
  }
  void EditModelJson(const std::function<void(nlohmann::json&)>& edit) {
    auto model = nlohmann::json::parse(ReadFile(bundle() / "model.json"));
    edit(model);
    WriteFile(bundle() / "model.json", model.dump(1));
  }

  TempDir dir_;
};

TEST_F(AlsModelDamagedBundle, TheUndamagedBundleLoads) {
  ExpectSamePredictions(Load(bundle())->Predict(ThreeRows()), SmallModel(true).Predict(ThreeRows()));
}

TEST_F(AlsModelDamagedBundle, CorruptedArray) {
  std::string bytes = ReadFile(bundle() / "item_factors.bin");
  bytes[bytes.size() - 5] ^= 0x10;
  WriteFile(bundle() / "item_factors.bin", bytes);
  LoadFails("checksum mismatch in 'item_factors.bin': the file is corrupted");
}

TEST_F(AlsModelDamagedBundle, TruncatedArray) {
  std::string bytes = ReadFile(bundle() / "user_ids.bin");
  WriteFile(bundle() / "user_ids.bin", bytes.substr(0, bytes.size() - 8));
  LoadFails("'user_ids.bin' is truncated: its header says 24 payload bytes, the file holds 16");
}

TEST_F(AlsModelDamagedBundle, MissingArray) {
  fs::remove(bundle() / "item_ids.bin");
  LoadFails("'item_ids.bin' is missing");
}

TEST_F(AlsModelDamagedBundle, ArrayOfTheWrongType) {
  models::WriteArrayFile(bundle() / "user_ids.bin", std::vector<uint64_t>{3},
                         std::span<const double>(std::vector<double>{10, 20, 30}));
  LoadFails("'user_ids.bin' holds float64 values, expected int64");
}

TEST_F(AlsModelDamagedBundle, WrongShapes) {
  EditArray<double>("user_factors.bin", [](models::Array<double>& a) {
    a.shape = {2, 3};
    a.values.resize(6);
  });
  LoadFails("'user_factors.bin' has shape [2,3], expected [3,3] (3 users in 'user_ids.bin', "
            "rank 2 + 1 bias column)");
  SmallModel(true).Save(bundle(), models::NewModelMeta());
  EditArray<int64_t>("item_ids.bin", [](models::Array<int64_t>& a) { a.shape = {1, 3}; });
  LoadFails("'item_ids.bin' has shape [1,3], expected [N] (one id per factor row)");
  SmallModel(true).Save(bundle(), models::NewModelMeta());
  EditArray<int64_t>("item_ids.bin", [](models::Array<int64_t>& a) {
    a.shape = {4};
    a.values.push_back(11);
  });
  LoadFails("'item_factors.bin' has shape [3,3], expected [4,3] (4 items in 'item_ids.bin', "
            "rank 2 + 1 bias column)");
}

TEST_F(AlsModelDamagedBundle, RankMismatch) {
  EditModelJson([](nlohmann::json& m) { m["rank"] = 3; });
  LoadFails("'user_factors.bin' has shape [3,3], expected [3,4] (3 users in 'user_ids.bin', "
            "rank 3 + 1 bias column)");
  EditModelJson([](nlohmann::json& m) { m["rank"] = 0; });
  LoadFails("'model.json' field 'rank' is 0; it must be an integer between 1 and 1000");
  EditModelJson([](nlohmann::json& m) { m["rank"] = 2.5; });
  LoadFails("'model.json' field 'rank' is 2.5; it must be an integer between 1 and 1000");
}

TEST_F(AlsModelDamagedBundle, IdsNotIncreasing) {
  EditArray<int64_t>("user_ids.bin", [](models::Array<int64_t>& a) { a.values = {10, 30, 20}; });
  LoadFails("'user_ids.bin' holds id 20 at position 2 after id 30: ids must be strictly "
            "increasing");
  EditArray<int64_t>("user_ids.bin", [](models::Array<int64_t>& a) { a.values = {10, 10, 20}; });
  LoadFails("'user_ids.bin' holds id 10 at position 1 after id 10: ids must be strictly "
            "increasing");
}

TEST_F(AlsModelDamagedBundle, NonFiniteFactors) {
  EditArray<double>("item_factors.bin", [](models::Array<double>& a) { a.values[4] = kNaN; });
  LoadFails("'item_factors.bin' holds nan at row 1, column 1: factors must be finite");
}

TEST_F(AlsModelDamagedBundle, BiasesInAModelWithoutBiases) {
  EditModelJson([](nlohmann::json& m) { m["biases"] = false; });
  LoadFails("'model.json' has global_mean 3.5 without biases; it must be 0");
  EditModelJson([](nlohmann::json& m) { m["global_mean"] = 0; });
  LoadFails("'user_factors.bin' row 0 has bias 0.25, but 'model.json' says the model has no "
            "biases");
}

TEST_F(AlsModelDamagedBundle, MalformedModelJson) {
  WriteFile(bundle() / "model.json", "{\"format_version\": 1");
  EXPECT_ERROR(Load(bundle()), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid ALS bundle: 'model.json' is not valid JSON: "));
  WriteFile(bundle() / "model.json", "[1, 2]");
  LoadFails("'model.json' is not a JSON object");
  fs::remove(bundle() / "model.json");
  LoadFails("'model.json' is missing");
}

TEST_F(AlsModelDamagedBundle, UnsupportedFormatVersion) {
  EditModelJson([](nlohmann::json& m) { m["format_version"] = 2; });
  LoadFails("'model.json' has format_version 2; this mltrack reads version 1");
  models::ModelMeta meta = models::ReadMlmodel(bundle() / "MLmodel");
  meta.flavors[kAlsFlavor]["format_version"] = 7;
  models::WriteMlmodel(bundle() / "MLmodel", meta);
  LoadFails("its MLmodel names format_version 7 of flavor mltrack.als; this mltrack reads "
            "version 1");
}

TEST_F(AlsModelDamagedBundle, ModelJsonFields) {
  EditModelJson([](nlohmann::json& m) { m.erase("rank"); });
  LoadFails("'model.json' lacks the field 'rank'");
  EditModelJson([](nlohmann::json& m) {
    m["rank"] = 2;
    m["implicit"] = "no";
  });
  LoadFails("'model.json' field 'implicit' must be true or false, got \"no\"");
  EditModelJson([](nlohmann::json& m) { m["implicit"] = true; });
  LoadFails("'model.json' has biases with implicit feedback; biases apply to explicit feedback "
            "only");
  EditModelJson([](nlohmann::json& m) {
    m["implicit"] = false;
    m["global_mean"] = "3.5";
  });
  LoadFails("'model.json' field 'global_mean' must be a number, got \"3.5\"");
  EditModelJson([](nlohmann::json& m) {
    m["global_mean"] = 3.5;
    m["cold_start"] = "skip";
  });
  LoadFails("'model.json' field 'cold_start' is \"skip\"; expected \"nan\" or \"drop\"");
  EditModelJson([](nlohmann::json& m) {
    m["cold_start"] = "drop";
    m["item_column"] = "movieId";
  });
  LoadFails("'model.json' field 'item_column' is \"movieId\"; this mltrack reads \"item\"");
  EditModelJson([](nlohmann::json& m) { m["item_column"] = "item"; });
  EXPECT_EQ(dynamic_cast<const AlsModel&>(*Load(bundle())).cold_start(), ColdStart::kDrop);
}

}  // namespace
}  // namespace mltrack::als
