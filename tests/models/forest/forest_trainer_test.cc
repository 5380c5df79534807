// The random forest trainer: what it learns, its determinism across threads and ranks, and its
// refusals.
#include "models/forest/forest_trainer.h"

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/bundle/mlmodel.h"
#include "models/data/generators.h"
#include "models/data/split.h"
#include "models/forest/binning.h"
#include "support/test_support.h"

namespace mltrack::forest {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::TempDir;
using ::testing::HasSubstr;

std::vector<int64_t> Ids(size_t n, int64_t first = 0) {
  std::vector<int64_t> ids(n);
  std::iota(ids.begin(), ids.end(), first);
  return ids;
}

ForestResult TrainSingle(const models::Table& table, const ForestOptions& options,
                         const std::string& label = "label") {
  auto comm = dist::MakeSingleCommunicator();
  std::vector<int64_t> ids = Ids(table.num_rows());
  ForestInput input{.table = &table, .row_ids = ids, .label = label};
  return TrainForest(input, options, *comm);
}

// Trains on `ranks` threaded ranks, each holding a contiguous shard of the rows (with their
// global ids), and returns rank 0's model.
std::unique_ptr<RandomForestModel> TrainThreaded(const models::Table& table,
                                                 const ForestOptions& options, int ranks,
                                                 const std::string& label = "label") {
  std::vector<std::unique_ptr<RandomForestModel>> models(ranks);
  dist::RunThreaded(ranks, [&](dist::Communicator& comm) {
    const size_t n = table.num_rows();
    size_t begin = n * comm.rank() / ranks, end = n * (comm.rank() + 1) / ranks;
    std::vector<size_t> rows(end - begin);
    std::iota(rows.begin(), rows.end(), begin);
    models::Table shard = data::TakeRows(table, rows);
    std::vector<int64_t> ids = Ids(rows.size(), static_cast<int64_t>(begin));
    ForestInput input{.table = &shard, .row_ids = ids, .label = label};
    models[comm.rank()] = std::move(TrainForest(input, options, comm).model);
  });
  for (int r = 1; r < ranks; ++r) {
    EXPECT_EQ(models[r]->trees(), models[0]->trees()) << "rank " << r << " grew other trees";
  }
  return std::move(models[0]);
}

double Predict1(const RandomForestModel& model, std::vector<double> x) {
  std::vector<double> out(model.value_width());
  model.PredictRow(x.data(), out.data());
  return model.value_width() == 1 ? out[0] : out[1];
}

// x in [0, 1) (20 distinct values, so that every break falls between two bins), a color, and
// label 1 exactly when x > 0.6 or the color is "red".
models::Table SeparableTable(size_t n) {
  std::vector<double> x(n);
  std::vector<std::string> color(n);
  std::vector<int64_t> label(n);
  static const char* kColors[] = {"red", "green", "blue", "black"};
  for (size_t i = 0; i < n; ++i) {
    x[i] = static_cast<double>((i * 7919) % 20) / 20.0;
    color[i] = kColors[(i * 31) % 4];
    label[i] = (x[i] > 0.6 || color[i] == "red") ? 1 : 0;
  }
  models::Table table;
  table.AddColumn("x", std::move(x));
  table.AddColumn("color", std::move(color));
  table.AddColumn("label", std::move(label));
  return table;
}

TEST(ForestTrainer, LearnsSeparableDataPerfectly) {
  models::Table table = SeparableTable(2000);
  ForestOptions options{.num_trees = 20, .max_depth = 6, .seed = 3};
  ForestResult result = TrainSingle(table, options);
  auto comm = dist::MakeSingleCommunicator();
  auto metrics = EvaluateForest(*result.model, table, {}, *comm);
  EXPECT_EQ(metrics["accuracy"], 1.0);
  EXPECT_EQ(metrics["roc_auc"], 1.0);
  EXPECT_EQ(metrics["rows"], 2000);
  EXPECT_EQ(result.train_rows, 2000u);
  models::Table fresh = SeparableTable(3000);  // rows 2000.. were never seen
  std::vector<size_t> tail(1000);
  std::iota(tail.begin(), tail.end(), 2000);
  EXPECT_EQ(EvaluateForest(*result.model, data::TakeRows(fresh, tail), {}, *comm)["accuracy"], 1.0);
  // Both features matter; importances sum to 1.
  const auto& importance = result.model->feature_importances();
  ASSERT_EQ(importance.size(), 2u);
  EXPECT_GT(importance[0], 0.1);
  EXPECT_GT(importance[1], 0.1);
  EXPECT_NEAR(importance[0] + importance[1], 1.0, 1e-12);
}

TEST(ForestTrainer, RegressesAStepFunctionExactlyAtTheBreaks) {
  std::vector<double> x, y;
  for (int i = 0; i <= 20; ++i) {
    x.push_back(i);
    y.push_back(i <= 10 ? 3.0 : 7.0);
  }
  models::Table table;
  table.AddColumn("x", x);
  table.AddColumn("label", y);
  ForestOptions options{.task = Task::kRegression,
                        .impurity = Impurity::kVariance,
                        .num_trees = 1,
                        .max_depth = 3,
                        .feature_subset = "all",
                        .bootstrap = false};
  ForestResult result = TrainSingle(table, options);
  const Tree& tree = result.model->trees()[0];
  ASSERT_GE(tree.num_nodes(), 3u);
  EXPECT_EQ(tree.feature[0], 0);
  EXPECT_EQ(tree.threshold[0], 10.5);  // the midpoint of the break
  EXPECT_EQ(tree.num_nodes(), 3u) << "both sides are constant: no further split";
  EXPECT_EQ(Predict1(*result.model, {10.0}), 3.0);
  EXPECT_EQ(Predict1(*result.model, {10.5}), 3.0);
  EXPECT_EQ(Predict1(*result.model, {10.6}), 7.0);
  EXPECT_EQ(Predict1(*result.model, {-100.0}), 3.0);
  EXPECT_EQ(Predict1(*result.model, {1e9}), 7.0);
  auto comm = dist::MakeSingleCommunicator();
  auto metrics = EvaluateForest(*result.model, table, {}, *comm);
  EXPECT_EQ(metrics["rmse"], 0.0);
  EXPECT_EQ(metrics["r2"], 1.0);
}

TEST(ForestTrainer, SplitsCategoriesBySets) {
  // The label is 1 for the colors red and black only: one categorical split separates it.
  std::vector<std::string> color;
  std::vector<int64_t> label;
  static const char* kColors[] = {"red", "green", "blue", "black", "white"};
  for (int i = 0; i < 500; ++i) {
    color.push_back(kColors[i % 5]);
    label.push_back(i % 5 == 0 || i % 5 == 3);
  }
  models::Table table;
  table.AddColumn("color", color);
  table.AddColumn("label", label);
  ForestOptions options{.num_trees = 1, .max_depth = 1, .bootstrap = false};
  ForestResult result = TrainSingle(table, options);
  const Tree& tree = result.model->trees()[0];
  ASSERT_EQ(tree.num_nodes(), 3u);
  ASSERT_GE(tree.category_set[0], 0);
  // Vocabulary (sorted): black 0, blue 1, green 2, red 3, white 4. One side holds {black, red}.
  uint64_t set = tree.category_words[tree.category_set[0]];
  EXPECT_TRUE(set == 0b01001 || set == 0b10110) << set;
  auto comm = dist::MakeSingleCommunicator();
  EXPECT_EQ(EvaluateForest(*result.model, table, {}, *comm)["accuracy"], 1.0);
}

models::Table Generated(uint64_t rows, int classes, uint64_t seed) {
  data::ClassificationSpec spec{.rows = rows, .features = 8, .informative = 4, .redundant = 2,
                                .classes = classes, .seed = seed};
  return data::MakeClassification(spec);
}

TEST(ForestTrainer, FitsGeneratedDataWell) {
  models::Table table = Generated(6000, 3, 11);
  data::Split split = data::TrainTestSplit(Ids(table.num_rows()), 0.25, 1);
  models::Table train = data::TakeRows(table, split.train);
  models::Table test = data::TakeRows(table, split.test);
  ForestResult result = TrainSingle(train, {.num_trees = 30, .max_depth = 8});
  auto comm = dist::MakeSingleCommunicator();
  auto metrics = EvaluateForest(*result.model, test, {}, *comm);
  EXPECT_GT(metrics["accuracy"], 0.75);
  EXPECT_GT(metrics["roc_auc"], 0.9);
  EXPECT_LT(metrics["log_loss"], 0.7);
}

TEST(ForestTrainer, TheThreadCountNeverChangesTheTrees) {
  models::Table table = Generated(3000, 2, 5);
  ForestOptions one{.num_trees = 12, .max_depth = 7, .seed = 9, .threads = 1};
  ForestOptions two = one;
  two.threads = 2;
  ForestOptions five = one;
  five.threads = 5;
  auto a = TrainSingle(table, one).model;
  auto b = TrainSingle(table, two).model;
  auto c = TrainSingle(table, five).model;
  EXPECT_EQ(a->trees(), b->trees());
  EXPECT_EQ(a->trees(), c->trees());
  EXPECT_EQ(a->feature_importances(), b->feature_importances());
  // And the bundles are byte for byte the same.
  TempDir dir;
  models::ModelMeta meta = models::NewModelMeta();
  a->Save(dir / "a", meta);
  b->Save(dir / "b", meta);
  for (const auto& entry : fs::directory_iterator(dir / "a")) {
    std::string name = entry.path().filename().string();
    EXPECT_EQ(ReadFile(dir / "a" / name), ReadFile(dir / "b" / name)) << name;
  }
  // Another seed grows other trees.
  ForestOptions other = one;
  other.seed = 10;
  EXPECT_NE(TrainSingle(table, other).model->trees(), a->trees());
}

TEST(ForestTrainer, FourThreadedRanksGrowTheTreesOfOneRank) {
  models::Table table = Generated(4000, 3, 7);
  ForestOptions options{.num_trees = 8, .max_depth = 8, .seed = 2};
  auto single = TrainSingle(table, options).model;
  auto ranked = TrainThreaded(table, options, 4);
  EXPECT_EQ(ranked->trees(), single->trees());
  EXPECT_EQ(ranked->feature_importances(), single->feature_importances());
}

TEST(ForestTrainer, RegressionWithCategoriesIsTheSameOnFourRanks) {
  data::RegressionSpec spec{.rows = 3000, .features = 5, .informative = 3, .noise = 0.5,
                            .seed = 4};
  models::Table numeric = data::MakeRegression(spec);
  // Add a categorical column that shifts the label.
  std::vector<std::string> group;
  std::vector<double> label = std::get<std::vector<double>>(numeric.Find("label")->values);
  for (size_t i = 0; i < label.size(); ++i) {
    group.push_back(i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c");
    if (i % 3 == 1) label[i] += 50;
  }
  models::Table table;
  for (const auto& column : numeric.columns()) {
    if (column.name != "label") table.AddColumn(column.name, column.values);
  }
  table.AddColumn("group", group);
  table.AddColumn("label", label);
  ForestOptions options{.task = Task::kRegression, .impurity = Impurity::kVariance,
                        .num_trees = 6, .max_depth = 6, .feature_subset = "all", .seed = 8};
  auto single = TrainSingle(table, options).model;
  auto ranked = TrainThreaded(table, options, 4);
  EXPECT_EQ(ranked->trees(), single->trees());
  auto comm = dist::MakeSingleCommunicator();
  EXPECT_GT(EvaluateForest(*single, table, {}, *comm)["r2"], 0.8);
}

TEST(ForestTrainer, BinsAreTheSameHoweverTheRowsAreSharded) {
  models::Table table = Generated(5000, 2, 3);
  data::FeatureEncoder encoder;
  std::vector<FeatureBins> whole;
  {
    auto comm = dist::MakeSingleCommunicator();
    encoder = data::FeatureEncoder::Fit(table, {}, {"label"}, data::UnknownCategory::kError,
                                        *comm);
    std::vector<int64_t> ids = Ids(table.num_rows());
    whole = ComputeBins(encoder.EncodeColumns(table), encoder, ids, 16, 1, *comm);
  }
  ASSERT_EQ(whole.size(), 8u);
  for (const auto& b : whole) {
    EXPECT_EQ(b.num_bins, 16);
    EXPECT_TRUE(std::is_sorted(b.thresholds.begin(), b.thresholds.end()));
  }
  dist::RunThreaded(3, [&](dist::Communicator& comm) {
    const size_t n = table.num_rows();
    size_t begin = n * comm.rank() / 3, end = n * (comm.rank() + 1) / 3;
    std::vector<size_t> rows(end - begin);
    std::iota(rows.begin(), rows.end(), begin);
    models::Table shard = data::TakeRows(table, rows);
    std::vector<int64_t> ids = Ids(rows.size(), static_cast<int64_t>(begin));
    auto bins = ComputeBins(encoder.EncodeColumns(shard), encoder, ids, 16, 1, comm);
    for (size_t f = 0; f < bins.size(); ++f) EXPECT_EQ(bins[f].thresholds, whole[f].thresholds);
  });
}

TEST(ForestTrainer, MaxDepthZeroIsOneLeafPerTree) {
  models::Table table = SeparableTable(100);
  auto model = TrainSingle(table, {.num_trees = 3, .max_depth = 0}).model;
  for (const auto& tree : model->trees()) EXPECT_EQ(tree.num_nodes(), 1u);
  EXPECT_EQ(model->feature_importances(), (std::vector<double>{0, 0}));
}

TEST(ForestTrainer, MinInstancesAndMinInfoGainStopSplits) {
  models::Table table = SeparableTable(1000);
  auto model = TrainSingle(table, {.num_trees = 5, .max_depth = 10,
                                   .min_instances_per_node = 400, .seed = 1})
                   .model;
  for (const auto& tree : model->trees()) {
    for (size_t i = 0; i < tree.num_nodes(); ++i) {
      if (tree.feature[i] >= 0) {
        EXPECT_GE(tree.weight[tree.left[i]], 400);
        EXPECT_GE(tree.weight[tree.right[i]], 400);
      }
    }
  }
  auto none = TrainSingle(table, {.num_trees = 2, .min_info_gain = 10.0}).model;
  for (const auto& tree : none->trees()) EXPECT_EQ(tree.num_nodes(), 1u);
}

TEST(ForestTrainer, RefusesBadOptionsAndData) {
  models::Table table = SeparableTable(50);
  auto refused = [&](const ForestOptions& options, const std::string& message,
                     const std::string& label = "label") {
    SCOPED_TRACE(message);
    EXPECT_ERROR(TrainSingle(table, options, label), ErrorCode::kInvalidParameterValue,
                 HasSubstr(message));
  };
  refused({.num_trees = 0}, "Invalid option num_trees=0: must be between 1 and 10000");
  refused({.max_bins = 300}, "Invalid option max_bins=300: must be between 2 and 256");
  refused({.impurity = Impurity::kVariance},
          "Invalid option impurity=variance: classification takes gini or entropy");
  refused({.task = Task::kRegression},
          "Invalid option impurity=gini: regression takes variance");
  refused({.feature_subset = "most"},
          "Invalid option feature_subset=most: must be auto, all, sqrt, log2, onethird, a "
          "fraction in (0, 1] or a count >= 1");
  refused({.subsampling_rate = 0}, "Invalid option subsampling_rate=0: must be in (0, 1]");
  refused({}, "the training data has no label column 'income' (columns: x, color, label)",
          "income");
  refused({.task = Task::kRegression, .impurity = Impurity::kVariance},
          "column 'color' holds strings; expected numbers", "color");
  refused({.max_bins = 3},
          "The categorical feature 'color' has 4 categories, more than max_bins (3); raise "
          "--max-bins (up to 256) or leave the column out");

  models::Table one_class;
  one_class.AddColumn("x", std::vector<double>{1, 2, 3});
  one_class.AddColumn("label", std::vector<int64_t>{1, 1, 1});
  EXPECT_ERROR(TrainSingle(one_class, {}), ErrorCode::kInvalidParameterValue,
               HasSubstr("The label column 'label' of the training data has one class ('1')"));

  models::Table nan;
  nan.AddColumn("x", std::vector<double>{1, NAN, 3});
  nan.AddColumn("label", std::vector<int64_t>{0, 1, 1});
  std::vector<int64_t> lines{2, 3, 4};
  auto comm = dist::MakeSingleCommunicator();
  std::vector<int64_t> ids = Ids(3);
  ForestInput input{.table = &nan, .origin = {.source = "t.csv", .lines = &lines},
                    .row_ids = ids, .label = "label"};
  EXPECT_ERROR(TrainForest(input, {}, *comm), ErrorCode::kInvalidParameterValue,
               HasSubstr("t.csv: line 3, column 'x': missing value; features must be numbers"));
}

TEST(ForestTrainer, AFailingShardFailsEveryRankAlike) {
  models::Table table = SeparableTable(300);
  std::vector<std::string> messages(3);
  dist::RunThreaded(3, [&](dist::Communicator& comm) {
    models::Table shard;
    std::vector<double> x(100, 0.5);
    if (comm.rank() == 2) x[7] = NAN;  // only the last shard is bad
    shard.AddColumn("x", x);
    shard.AddColumn("label", std::vector<int64_t>(100, comm.rank() % 2));
    std::vector<int64_t> ids = Ids(100, comm.rank() * 100);
    ForestInput input{.table = &shard, .row_ids = ids, .label = "label"};
    try {
      TrainForest(input, {.num_trees = 2}, comm);
    } catch (const dist::AgreedError& e) {
      messages[comm.rank()] = e.what();
    }
  });
  EXPECT_EQ(messages[2], "row 7, column 'x': missing value; features must be numbers");
  EXPECT_EQ(messages[0], "rank 2: " + messages[2]);
  EXPECT_EQ(messages[1], "rank 2: " + messages[2]);
}

}  // namespace
}  // namespace mltrack::forest
