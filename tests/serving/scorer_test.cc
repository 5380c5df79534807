// Per-flavor scoring on real models: each flavor is trained here on small data, saved, loaded
// back through LoadModel and scored. Answers are compared exactly: with the labels the data
// dictates, and with the model's own Predict, PredictPair and Recommend. Every refusal is checked
// by code and exact message.
#include "serving/scorer.h"

#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/als/als_trainer.h"
#include "models/bundle/mlmodel.h"
#include "models/data/encoding.h"
#include "models/forest/forest_trainer.h"
#include "models/logistic/logistic_trainer.h"
#include "support/test_support.h"

namespace mltrack::serving {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::TempDir;
using models::ColumnValues;
using models::Table;
using json = nlohmann::ordered_json;
using ::testing::Eq;

const double kNaN = std::numeric_limits<double>::quiet_NaN();
// Column values, briefly.
using D = std::vector<double>;
using L = std::vector<int64_t>;
using S = std::vector<std::string>;

Table MakeTable(std::vector<std::pair<std::string, ColumnValues>> columns) {
  Table table;
  for (auto& [name, values] : columns) table.AddColumn(name, std::move(values));
  return table;
}

ScoringRequest Request(Table table, json params = json::object()) {
  return ScoringRequest{
      .table = std::move(table), .params = std::move(params), .format = "dataframe_split"};
}

// Saves `model` with `save(dir)`, loads it back through LoadModel with every mltrack flavor
// registered, and returns the loaded model.
template <typename Save>
std::shared_ptr<const models::Model> SaveAndLoad(const TempDir& dir, const std::string& name,
                                                 Save save) {
  save(dir / name);
  models::FlavorRegistry flavors;
  logistic::RegisterLogisticFlavor(flavors);
  forest::RegisterForestFlavor(flavors);
  als::RegisterAlsFlavor(flavors);
  return models::LoadModel(dir / name, flavors);
}

// --- logistic regression ----------------------------------------------------------------------

// x in [-2, 2], n in 0..9, a color; "yes" exactly when 2x + 3 [red] - 0.3 n > 0.
Table BinaryData(size_t rows) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(-2, 2);
  static const char* kColors[] = {"red", "green", "blue"};
  std::vector<double> x(rows);
  std::vector<int64_t> n(rows);
  std::vector<std::string> color(rows), label(rows);
  for (size_t i = 0; i < rows; ++i) {
    x[i] = uniform(rng);
    n[i] = static_cast<int64_t>(i % 10);
    color[i] = kColors[(i * 7) % 3];
    label[i] = 2 * x[i] + (color[i] == "red" ? 3 : 0) - 0.3 * n[i] > 0 ? "yes" : "no";
  }
  return MakeTable({{"x", x}, {"n", n}, {"color", color}, {"y", label}});
}

// x in [-3, 3]: "cat" below -1, "dog" up to 1, "fish" above.
Table MultinomialData(size_t rows) {
  std::vector<double> x(rows);
  std::vector<std::string> label(rows);
  for (size_t i = 0; i < rows; ++i) {
    x[i] = -3 + 6.0 * static_cast<double>(i) / static_cast<double>(rows - 1);
    label[i] = x[i] < -1 ? "cat" : x[i] <= 1 ? "dog" : "fish";
  }
  return MakeTable({{"x", x}, {"y", label}});
}

std::unique_ptr<logistic::LogisticModel> TrainLogistic(
    const Table& table, data::UnknownCategory unknown = data::UnknownCategory::kError) {
  auto comm = dist::MakeSingleCommunicator();
  logistic::TrainInput input;
  input.train.table = &table;
  input.label = "y";
  input.unknown = unknown;
  return std::move(logistic::TrainLogistic(input, {.reg = 0.001}, *comm).model);
}

class LogisticScoring : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = SaveAndLoad(dir_, "binary", [](const fs::path& path) {
      TrainLogistic(BinaryData(400))->Save(path, models::NewModelMeta());
    });
    scorer_ = Scorer::ForModel(model_);
  }
  ScoringResult Score(Table table, json params = json::object()) {
    return scorer_->Score(Request(std::move(table), std::move(params)));
  }
  void Refuses(Table table, const std::string& message, json params = json::object()) {
    EXPECT_ERROR(Score(std::move(table), std::move(params)), ErrorCode::kBadRequest, Eq(message));
  }

  TempDir dir_;
  std::shared_ptr<const models::Model> model_;
  std::unique_ptr<Scorer> scorer_;
};

// Three rows the data makes certain: 2x + 3 [red] - 0.3 n is 7, -7.4 and 3.
Table ClearRows() {
  return MakeTable({{"x", D{2, -2, 1.5}}, {"n", L{0, 8, 0}}, {"color", S{"red", "blue", "green"}}});
}

TEST_F(LogisticScoring, AnswersTheLabelsAsStrings) {
  ScoringResult result = Score(ClearRows());
  EXPECT_EQ(result.predictions(), json::parse(R"(["yes", "no", "yes"])"));
  EXPECT_EQ(result.table, MakeTable({{"prediction", S{"yes", "no", "yes"}}}));
  EXPECT_EQ(&scorer_->model(), model_.get());
}

TEST_F(LogisticScoring, PredictProbaAnswersRecordsThatMatchPredict) {
  ScoringResult result = Score(ClearRows(), {{"predict_proba", true}});
  ASSERT_EQ(result.predictions().size(), 3u);
  for (size_t row = 0; row < 3; ++row) {
    const json record = result.predictions()[row];
    ASSERT_EQ(record.size(), 3u) << record;
    const double no = record.at("probability_no"), yes = record.at("probability_yes");
    EXPECT_NEAR(no + yes, 1.0, 1e-12);
    EXPECT_EQ(record.at("prediction"), yes > no ? "yes" : "no");
  }
  EXPECT_GT(result.predictions()[0]["probability_yes"].get<double>(), 0.99);
  // The table is the model's own Predict, bit for bit.
  EXPECT_EQ(result.table, model_->Predict(ClearRows()));
  EXPECT_EQ(Score(ClearRows(), {{"predict_proba", false}}).predictions(),
            json::parse(R"(["yes", "no", "yes"])"));
}

TEST_F(LogisticScoring, ConvertsIntegersToADoubleColumn) {
  Table longs = MakeTable({{"x", L{2, -2}}, {"n", L{0, 8}}, {"color", S{"red", "blue"}}});
  Table doubles = MakeTable({{"x", D{2, -2}}, {"n", L{0, 8}}, {"color", S{"red", "blue"}}});
  ScoringResult result = Score(longs, {{"predict_proba", true}});
  EXPECT_EQ(result.predictions(), Score(doubles, {{"predict_proba", true}}).predictions());
  EXPECT_EQ(result.predictions()[0]["prediction"], "yes");
  // Columns may come in any order.
  EXPECT_EQ(Score(MakeTable({{"color", S{"blue"}}, {"n", L{8}}, {"x", D{-2}}})).predictions(),
            json::parse(R"(["no"])"));
}

TEST_F(LogisticScoring, RefusesMissingExtraAndMistypedColumns) {
  Refuses(MakeTable({{"x", D{1}}, {"n", L{1}}}), "Missing required column 'color'");
  Table extra = ClearRows();
  extra.AddColumn("zip", L{1, 2, 3});
  Refuses(extra, "Unexpected column 'zip': the schema has columns 'x', 'n', 'color'");
  Refuses(MakeTable({{"x", D{1}}, {"n", D{1.5}}, {"color", S{"red"}}}),
          "Column 'n' has type double, expected long");
  Refuses(MakeTable({{"x", D{1}}, {"n", L{1}}, {"color", L{3}}}),
          "Column 'color' has type long, expected string");
  Refuses(MakeTable({{"x", S{"1"}}, {"n", L{1}}, {"color", S{"red"}}}),
          "Column 'x' has type string, expected double");
}

TEST_F(LogisticScoring, RefusesNaNAndInfinity) {
  Refuses(MakeTable({{"x", D{1, kNaN}}, {"n", L{1, 2}}, {"color", S{"red", "red"}}}),
          "Column 'x' has NaN at row 1");
  // A missing value in a long column arrives as NaN in a double column.
  Refuses(MakeTable({{"x", D{1, 2}}, {"n", D{kNaN, 2}}, {"color", S{"red", "red"}}}),
          "Column 'n' has NaN at row 0");
  Refuses(
      MakeTable(
          {{"x", D{std::numeric_limits<double>::infinity()}}, {"n", L{1}}, {"color", S{"red"}}}),
      "Column 'x' has an infinite value at row 0");
}

TEST_F(LogisticScoring, RefusesAnUnknownCategoryNamingColumnAndValue) {
  Refuses(MakeTable({{"x", D{1, 1}}, {"n", L{1, 1}}, {"color", S{"red", "purple"}}}),
          "Column 'color' has unknown category 'purple' at row 1; the model knows 'blue', "
          "'green', 'red'");
}

TEST_F(LogisticScoring, RefusesAPredictProbaThatIsNotABoolean) {
  Refuses(ClearRows(), "Param 'predict_proba' must be true or false, got \"yes\"",
          {{"predict_proba", "yes"}});
  EXPECT_ERROR(scorer_->Score(ScoringRequest{.table = ClearRows(), .params = json::array()}),
               ErrorCode::kBadRequest, Eq("Invalid params: expected a JSON object, got array"));
}

TEST_F(LogisticScoring, AnswersAnEmptyTableWithAnEmptyList) {
  ScoringResult result = Score(MakeTable({{"x", D{}}, {"n", L{}}, {"color", S{}}}));
  EXPECT_EQ(result.predictions(), json::array());
  EXPECT_EQ(result.table.num_rows(), 0u);
}

TEST_F(LogisticScoring, ScoresFromManyThreadsAlike) {
  const json expected = Score(ClearRows(), {{"predict_proba", true}}).predictions();
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        mismatches[t] += Score(ClearRows(), {{"predict_proba", true}}).predictions() != expected;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ::testing::Each(0));
}

TEST(LogisticScoringMultinomial, AnswersStringLabelsAndProbabilitiesSummingToOne) {
  TempDir dir;
  auto model = SaveAndLoad(dir, "m", [](const fs::path& path) {
    TrainLogistic(MultinomialData(300))->Save(path, models::NewModelMeta());
  });
  auto scorer = Scorer::ForModel(model);
  Table rows = MakeTable({{"x", D{-2.5, 0, 2.5}}});
  EXPECT_EQ(scorer->Score(Request(rows)).predictions(), json::parse(R"(["cat", "dog", "fish"])"));
  ScoringResult proba = scorer->Score(Request(rows, {{"predict_proba", true}}));
  for (const json& record : proba.predictions()) {
    ASSERT_EQ(record.size(), 4u) << record;
    EXPECT_NEAR(record["probability_cat"].get<double>() + record["probability_dog"].get<double>() +
                    record["probability_fish"].get<double>(),
                1.0, 1e-12);
  }
  EXPECT_EQ(proba.table, model->Predict(rows));
}

TEST(LogisticScoringUnknownSlot, ScoresAnUnknownCategoryAsTheModelDoes) {
  TempDir dir;
  auto model = SaveAndLoad(dir, "m", [](const fs::path& path) {
    TrainLogistic(BinaryData(400), data::UnknownCategory::kUnknownSlot)
        ->Save(path, models::NewModelMeta());
  });
  Table rows = MakeTable({{"x", D{2, -2}}, {"n", L{0, 8}}, {"color", S{"purple", "blue"}}});
  ScoringResult result = Scorer::ForModel(model)->Score(Request(rows, {{"predict_proba", true}}));
  EXPECT_EQ(result.table, model->Predict(rows));
  EXPECT_EQ(result.predictions()[0]["prediction"], "yes");
  EXPECT_EQ(result.predictions()[1]["prediction"], "no");
}

TEST(LogisticScoringWithoutSignature, ChecksTheColumnsTheModelReads) {
  TempDir dir;
  auto model = SaveAndLoad(dir, "m", [](const fs::path& path) {
    TrainLogistic(BinaryData(400))->Save(path, models::NewModelMeta());
    models::ModelMeta meta = models::ReadMlmodel(path / "MLmodel");
    meta.signature.reset();
    models::WriteMlmodel(path / "MLmodel", meta);
  });
  ASSERT_FALSE(model->meta().signature.has_value());
  auto scorer = Scorer::ForModel(model);
  EXPECT_EQ(scorer->Score(Request(ClearRows())).predictions(),
            json::parse(R"(["yes", "no", "yes"])"));
  EXPECT_ERROR(scorer->Score(Request(MakeTable({{"x", D{1}}}))), ErrorCode::kBadRequest,
               Eq("Missing required column 'n'"));
}

// --- random forest ----------------------------------------------------------------------------

// x in [0, 1) and a color; label 1 exactly when x > 0.6 or the color is red.
Table ForestData(size_t rows) {
  static const char* kColors[] = {"red", "green", "blue", "black"};
  std::vector<double> x(rows);
  std::vector<std::string> color(rows);
  std::vector<int64_t> label(rows);
  for (size_t i = 0; i < rows; ++i) {
    x[i] = static_cast<double>((i * 7919) % 20) / 20.0;
    color[i] = kColors[(i * 31) % 4];
    label[i] = (x[i] > 0.6 || color[i] == "red") ? 1 : 0;
  }
  return MakeTable({{"x", x}, {"color", color}, {"label", label}});
}

std::unique_ptr<forest::RandomForestModel> TrainForest(
    const Table& table, forest::ForestOptions options,
    data::UnknownCategory unknown = data::UnknownCategory::kError) {
  auto comm = dist::MakeSingleCommunicator();
  std::vector<int64_t> ids(table.num_rows());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i);
  forest::ForestInput input;
  input.table = &table;
  input.row_ids = ids;
  input.label = "label";
  input.unknown = unknown;
  return std::move(forest::TrainForest(input, options, *comm).model);
}

Table ForestRows(size_t rows) {
  static const char* kColors[] = {"green", "red", "blue", "black"};
  std::vector<double> x(rows);
  std::vector<std::string> color(rows);
  for (size_t i = 0; i < rows; ++i) {
    x[i] = static_cast<double>(i % 10) / 10.0 + 0.05;
    color[i] = kColors[i % 4];
  }
  return MakeTable({{"x", x}, {"color", color}});
}

TEST(ForestScoring, ClassifierAnswersIntegerLabelsAndProbabilities) {
  TempDir dir;
  auto model = SaveAndLoad(dir, "m", [](const fs::path& path) {
    TrainForest(ForestData(1000), {.num_trees = 20, .max_depth = 6, .seed = 3})
        ->Save(path, models::NewModelMeta());
  });
  auto scorer = Scorer::ForModel(model);
  Table rows = MakeTable({{"x", D{0.9, 0.1, 0.1}}, {"color", S{"green", "blue", "red"}}});
  ScoringResult labels = scorer->Score(Request(rows));
  EXPECT_EQ(labels.predictions(), json::parse("[1, 0, 1]"));
  EXPECT_TRUE(labels.predictions()[0].is_number_integer());
  EXPECT_EQ(labels.table, MakeTable({{"prediction", L{1, 0, 1}}}));

  ScoringResult proba = scorer->Score(Request(rows, {{"predict_proba", true}}));
  for (const json& record : proba.predictions()) {
    ASSERT_EQ(record.size(), 3u) << record;
    EXPECT_NEAR(record["probability_0"].get<double>() + record["probability_1"].get<double>(), 1.0,
                1e-12);
  }
  EXPECT_EQ(proba.table, model->Predict(rows));
  // One row goes through PredictRow, a batch through blocks of rows: the same values.
  Table batch = ForestRows(40);
  EXPECT_EQ(scorer->Score(Request(batch, {{"predict_proba", true}})).table, model->Predict(batch));
  EXPECT_EQ(scorer->Score(Request(ForestRows(1), {{"predict_proba", true}})).table,
            model->Predict(ForestRows(1)));
}

TEST(ForestScoring, ClassifierRefusesAnUnknownCategoryAndNaN) {
  TempDir dir;
  auto model = SaveAndLoad(dir, "m", [](const fs::path& path) {
    TrainForest(ForestData(200), {.num_trees = 3, .max_depth = 4})
        ->Save(path, models::NewModelMeta());
  });
  auto scorer = Scorer::ForModel(model);
  EXPECT_ERROR(scorer->Score(Request(MakeTable({{"x", D{0.5}}, {"color", S{"teal"}}}))),
               ErrorCode::kBadRequest,
               Eq("Column 'color' has unknown category 'teal' at row 0; the model knows "
                  "'black', 'blue', 'green', 'red'"));
  EXPECT_ERROR(scorer->Score(Request(MakeTable({{"x", D{0.5, kNaN}}, {"color", S{"red", "red"}}}))),
               ErrorCode::kBadRequest, Eq("Column 'x' has NaN at row 1"));
  EXPECT_ERROR(scorer->Score(Request(MakeTable({{"x", D{0.5}}}))), ErrorCode::kBadRequest,
               Eq("Missing required column 'color'"));
}

TEST(ForestScoring, UnknownSlotScoresAnUnknownCategoryAsTheModelDoes) {
  TempDir dir;
  auto model = SaveAndLoad(dir, "m", [](const fs::path& path) {
    TrainForest(ForestData(400), {.num_trees = 10, .max_depth = 6},
                data::UnknownCategory::kUnknownSlot)
        ->Save(path, models::NewModelMeta());
  });
  Table rows = MakeTable({{"x", D{0.9, 0.1}}, {"color", S{"teal", "teal"}}});
  ScoringResult result = Scorer::ForModel(model)->Score(Request(rows, {{"predict_proba", true}}));
  EXPECT_EQ(result.table, model->Predict(rows));
  EXPECT_EQ(result.predictions()[0]["prediction"], 1);
}

TEST(ForestScoring, RegressorAnswersTheModelsValues) {
  std::vector<double> x, y;
  for (int i = 0; i <= 20; ++i) {
    x.push_back(i);
    y.push_back(i <= 10 ? 3.0 : 7.0);
  }
  TempDir dir;
  auto model = SaveAndLoad(dir, "m", [&](const fs::path& path) {
    TrainForest(MakeTable({{"x", x}, {"label", y}}), {.task = forest::Task::kRegression,
                                                      .impurity = forest::Impurity::kVariance,
                                                      .num_trees = 5,
                                                      .max_depth = 3,
                                                      .feature_subset = "all",
                                                      .bootstrap = false})
        ->Save(path, models::NewModelMeta());
  });
  auto scorer = Scorer::ForModel(model);
  // x is a double column: integers are converted.
  Table rows = MakeTable({{"x", L{2, 15}}});
  ScoringResult result = scorer->Score(Request(rows));
  EXPECT_EQ(result.predictions(), json::parse("[3.0, 7.0]"));
  EXPECT_EQ(result.table, model->Predict(MakeTable({{"x", D{2, 15}}})));
  std::vector<double> many(50);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<double>(i) * 0.5;
  Table batch = MakeTable({{"x", many}});
  ScoringResult batch_result = scorer->Score(Request(batch));
  EXPECT_EQ(batch_result.table, model->Predict(batch));
  ASSERT_EQ(batch_result.predictions().size(), 50u);
  EXPECT_EQ(batch_result.predictions()[49], 7.0);
  EXPECT_ERROR(scorer->Score(Request(rows, {{"predict_proba", true}})), ErrorCode::kBadRequest,
               Eq("Param 'predict_proba' applies to classifiers; this random forest is a "
                  "regression"));
}

// --- ALS --------------------------------------------------------------------------------------

// Users 0..7 and items 100..107 in two groups of four: a user rates its own group's items 5 and
// the other group's 1. User 0's rating of item 101 is withheld.
als::Ratings Checkerboard() {
  als::Ratings r;
  r.path = "ratings.csv";
  for (int64_t u = 0; u < 8; ++u) {
    for (int64_t i = 0; i < 8; ++i) {
      if (u == 0 && i == 1) continue;
      r.user.push_back(u);
      r.item.push_back(100 + i);
      r.rating.push_back((u < 4) == (i < 4) ? 5 : 1);
      r.timestamp.push_back(0);
      r.line.push_back(static_cast<int64_t>(r.line.size()) + 1);
    }
  }
  return r;
}

class AlsScoring : public ::testing::Test {
 protected:
  std::shared_ptr<const models::Model> Train(als::ColdStart cold_start) {
    return SaveAndLoad(
        dir_, cold_start == als::ColdStart::kNan ? "nan" : "drop", [&](const fs::path& path) {
          auto comm = dist::MakeSingleCommunicator();
          als::AlsOptions options{.rank = 2, .reg = 0.05, .max_iter = 10, .cold_start = cold_start};
          als::TrainAls(Checkerboard(), options, *comm).model->Save(path, models::NewModelMeta());
        });
  }
  void SetUp() override {
    nan_model_ = Train(als::ColdStart::kNan);
    drop_model_ = Train(als::ColdStart::kDrop);
    nan_ = Scorer::ForModel(nan_model_);
    drop_ = Scorer::ForModel(drop_model_);
  }
  const als::AlsModel& model() const { return dynamic_cast<const als::AlsModel&>(*nan_model_); }

  // The records Recommend's answer for `user` makes.
  json Expected(int64_t user, int k) const {
    json out = json::array();
    auto best = model().Recommend(user, k);
    for (size_t r = 0; r < best.size(); ++r) {
      out.push_back(
          {{"user", user}, {"rank", r + 1}, {"item", best[r].first}, {"score", best[r].second}});
    }
    return out;
  }

  TempDir dir_;
  std::shared_ptr<const models::Model> nan_model_, drop_model_;
  std::unique_ptr<Scorer> nan_, drop_;
};

TEST_F(AlsScoring, PairsAnswerPredictPair) {
  Table pairs = MakeTable({{"user", L{0, 5, 3}}, {"item", L{101, 100, 107}}});
  ScoringResult result = nan_->Score(Request(pairs));
  ASSERT_EQ(result.predictions().size(), 3u);
  EXPECT_EQ(result.predictions()[0].get<double>(), model().PredictPair(0, 101));
  EXPECT_EQ(result.predictions()[1].get<double>(), model().PredictPair(5, 100));
  EXPECT_EQ(result.predictions()[2].get<double>(), model().PredictPair(3, 107));
  EXPECT_NEAR(result.predictions()[0].get<double>(), 5, 0.6);  // the withheld cell
  EXPECT_EQ(result.table, model().Predict(pairs));
}

TEST_F(AlsScoring, UnknownPairsAreNullUnderNanAndRefusedUnderDrop) {
  Table pairs = MakeTable({{"user", L{0, 99, 1}}, {"item", L{100, 100, 999}}});
  ScoringResult result = nan_->Score(Request(pairs));
  ASSERT_EQ(result.predictions().size(), 3u);
  EXPECT_TRUE(result.predictions()[0].is_number());
  EXPECT_TRUE(result.predictions()[1].is_null());
  EXPECT_TRUE(result.predictions()[2].is_null());
  EXPECT_TRUE(
      std::isnan(std::get<std::vector<double>>(result.table.Find("prediction")->values)[1]));
  EXPECT_ERROR(drop_->Score(Request(pairs)), ErrorCode::kBadRequest, Eq("Unknown user 99"));
  EXPECT_ERROR(drop_->Score(Request(MakeTable({{"user", L{1}}, {"item", L{999}}}))),
               ErrorCode::kBadRequest, Eq("Unknown item 999"));
}

TEST_F(AlsScoring, TopKFromParamsFromAColumnAndByDefault) {
  ScoringResult by_param = nan_->Score(Request(MakeTable({{"user", L{0}}}), {{"k", 4}}));
  EXPECT_EQ(by_param.predictions(), Expected(0, 4));
  // User 0's best four are its own group's items, the withheld 101 among them.
  std::vector<int64_t> items;
  for (const json& record : by_param.predictions()) items.push_back(record["item"]);
  EXPECT_THAT(items, ::testing::UnorderedElementsAre(100, 101, 102, 103));
  EXPECT_EQ(by_param.table,
            MakeTable({{"user", L{0, 0, 0, 0}},
                       {"rank", L{1, 2, 3, 4}},
                       {"item", items},
                       {"score",
                        D{by_param.predictions()[0]["score"], by_param.predictions()[1]["score"],
                          by_param.predictions()[2]["score"], by_param.predictions()[3]["score"]}}}));

  ScoringResult by_column = nan_->Score(Request(MakeTable({{"user", L{0, 6}}, {"k", L{1, 2}}})));
  json expected = Expected(0, 1);
  for (const json& record : Expected(6, 2)) expected.push_back(record);
  EXPECT_EQ(by_column.predictions(), expected);

  // Without k: 10, which is more than the 8 items: every item, best first.
  ScoringResult by_default = drop_->Score(Request(MakeTable({{"user", L{2}}})));
  ASSERT_EQ(by_default.predictions().size(), 8u);
  const auto& drop_model = dynamic_cast<const als::AlsModel&>(*drop_model_);
  auto best = drop_model.Recommend(2, 10);
  for (size_t r = 0; r < best.size(); ++r) {
    EXPECT_EQ(by_default.predictions()[r]["item"], best[r].first);
    EXPECT_EQ(by_default.predictions()[r]["score"].get<double>(), best[r].second);
  }
}

TEST_F(AlsScoring, TopKRefusesUnknownUsersUnderBothStrategies) {
  Table users = MakeTable({{"user", L{1, 99}}});
  EXPECT_ERROR(nan_->Score(Request(users)), ErrorCode::kBadRequest, Eq("Unknown user 99"));
  EXPECT_ERROR(drop_->Score(Request(users)), ErrorCode::kBadRequest, Eq("Unknown user 99"));
}

TEST_F(AlsScoring, RefusesBadColumnsAndParams) {
  auto refuses = [&](Table table, const std::string& message, json params = json::object()) {
    EXPECT_ERROR(nan_->Score(Request(std::move(table), std::move(params))), ErrorCode::kBadRequest,
                 Eq(message));
  };
  refuses(MakeTable({{"user", L{1}}, {"itm", L{100}}}),
          "Unexpected column 'itm': the schema has columns 'user', 'item'");
  refuses(MakeTable({{"item", L{100}}}), "Missing required column 'user'");
  refuses(MakeTable({{"user", D{1.5}}, {"item", L{100}}}),
          "Column 'user' has type double, expected long");
  refuses(MakeTable({{"user", L{1}}, {"item", D{kNaN}}}), "Column 'item' has NaN at row 0");
  refuses(MakeTable({{"user", D{1, kNaN}}}), "Column 'user' has NaN at row 1");
  refuses(MakeTable({{"user", S{"a"}}}), "Column 'user' has type string, expected long");
  refuses(MakeTable({{"user", L{1, 2}}, {"k", L{3, 0}}}),
          "Column 'k' has value 0 at row 1; k must be at least 1");
  refuses(MakeTable({{"user", L{1}}}), "Param 'k' must be an integer of at least 1, got 2.5",
          {{"k", 2.5}});
  refuses(MakeTable({{"user", L{1}}}), "Param 'k' must be an integer of at least 1, got -3",
          {{"k", -3}});
  refuses(MakeTable({{"user", L{1}}}),
          "Param 'predict_proba' applies to classifiers; this ALS model predicts ratings",
          {{"predict_proba", true}});
}

// --- any other flavor -------------------------------------------------------------------------

constexpr const char* kSumFlavor = "test.sum";

// A flavor with no scorer of its own: "sum", the sum of each row's numbers (NaN passes through),
// and with two outputs also "types", the types of the columns it was given, in order. Strings
// are refused as a model refuses input: Error(kInvalidParameterValue).
class SumModel final : public models::Model {
 public:
  explicit SumModel(int outputs) : outputs_(outputs) {}
  Table Predict(const Table& input) const override {
    std::vector<double> sum(input.num_rows(), 0.0);
    for (const auto& column : input.columns()) {
      const auto* values = std::get_if<std::vector<double>>(&column.values);
      const auto* longs = std::get_if<std::vector<int64_t>>(&column.values);
      if (values == nullptr && longs == nullptr) {
        throw Error(ErrorCode::kInvalidParameterValue,
                    "test.sum adds numbers; column '" + column.name + "' is not numeric");
      }
      for (size_t row = 0; row < sum.size(); ++row) {
        sum[row] += values ? (*values)[row] : static_cast<double>((*longs)[row]);
      }
    }
    std::string types;
    for (const auto& column : input.columns()) {
      types += (types.empty() ? "" : ",") +
               std::string(models::DataTypeName(models::ValueType(column.values)));
    }
    Table out;
    out.AddColumn("sum", sum);
    if (outputs_ == 2) out.AddColumn("types", S(input.num_rows(), types));
    return out;
  }
  std::string flavor() const override { return kSumFlavor; }

 private:
  int outputs_;
};

std::shared_ptr<const models::Model> SumBundle(const TempDir& dir, const std::string& name,
                                               int outputs, std::optional<models::Schema> inputs) {
  models::ModelMeta meta = models::NewModelMeta();
  meta.flavors[kSumFlavor] = {{"outputs", outputs}};
  if (inputs) meta.signature = models::Signature{.inputs = *inputs};
  fs::create_directories(dir / name);
  models::WriteMlmodel(dir / name / "MLmodel", meta);
  models::FlavorRegistry flavors;
  flavors.Register(kSumFlavor, [](const fs::path&, const models::ModelMeta& meta) {
    return std::make_unique<SumModel>(meta.flavors.at(kSumFlavor).at("outputs").get<int>());
  });
  return models::LoadModel(dir / name, flavors);
}

TEST(GenericScoring, WithoutSignatureAnswersPredictAsAListOrRecords) {
  TempDir dir;
  Table input = MakeTable({{"a", L{1, 2, 3}}, {"b", D{0.5, kNaN, 1}}, {"c", D{1, 1, 1}}});
  auto one = Scorer::ForModel(SumBundle(dir, "one", 1, std::nullopt));
  ScoringResult list = one->Score(Request(input));
  EXPECT_EQ(list.predictions(), json::parse("[2.5, null, 5.0]"));
  EXPECT_EQ(list.table.columns().size(), 1u);

  auto two = Scorer::ForModel(SumBundle(dir, "two", 2, std::nullopt));
  EXPECT_EQ(two->Score(Request(input)).predictions(),
            json::parse(R"([{"sum": 2.5, "types": "long,double,double"},
                            {"sum": null, "types": "long,double,double"},
                            {"sum": 5.0, "types": "long,double,double"}])"));
  // No signature, no checks: the model itself refuses what it cannot take, as a bad request.
  EXPECT_ERROR(one->Score(Request(MakeTable({{"s", S{"x"}}}))), ErrorCode::kBadRequest,
               Eq("test.sum adds numbers; column 's' is not numeric"));
}

TEST(GenericScoring, WithASignatureChecksAndConvertsFirst) {
  TempDir dir;
  auto scorer = Scorer::ForModel(SumBundle(
      dir, "m", 2,
      models::InferSchema({{"a", models::DataType::kDouble}, {"b", models::DataType::kLong}})));
  // a arrives as longs and reaches the model as doubles; the columns come in schema order.
  ScoringResult result = scorer->Score(Request(MakeTable({{"b", L{10}}, {"a", L{1}}})));
  EXPECT_EQ(result.predictions(), json::parse(R"([{"sum": 11.0, "types": "double,long"}])"));
  EXPECT_EQ(result.table, MakeTable({{"sum", D{11}}, {"types", S{"double,long"}}}));
  EXPECT_ERROR(scorer->Score(Request(MakeTable({{"a", D{1}}}))), ErrorCode::kBadRequest,
               Eq("Missing required column 'b'"));
  EXPECT_ERROR(scorer->Score(Request(MakeTable({{"a", D{1}}, {"b", D{kNaN}}}))),
               ErrorCode::kBadRequest, Eq("Column 'b' has NaN at row 0"));
  EXPECT_ERROR(scorer->Score(Request(MakeTable({{"a", D{1}}, {"b", L{1}}, {"z", L{1}}}))),
               ErrorCode::kBadRequest,
               Eq("Unexpected column 'z': the schema has columns 'a', 'b'"));
}

TEST(GenericScoring, RefusesANullModel) {
  EXPECT_ERROR(Scorer::ForModel(nullptr), ErrorCode::kInvalidParameterValue,
               Eq("Scorer::ForModel needs a loaded model"));
}

}  // namespace
}  // namespace mltrack::serving
