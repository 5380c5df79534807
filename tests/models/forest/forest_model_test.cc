// RandomForestModel on hand-built trees: the tree walk, the forest's averages and output types,
// the bundle round trip, and the refusal of every kind of damaged bundle with its message.
#include "models/forest/forest_model.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/bundle/array_file.h"
#include "models/bundle/mlmodel.h"
#include "support/test_support.h"

namespace mltrack::forest {
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

// Feature columns: x (double) is feature 0, color (vocabulary blue, green, red) feature 1.
Table Features(std::vector<double> x, std::vector<std::string> color) {
  Table t;
  t.AddColumn("x", std::move(x));
  t.AddColumn("color", std::move(color));
  return t;
}

data::FeatureEncoder FitFeatures(data::UnknownCategory unknown = data::UnknownCategory::kError) {
  auto comm = dist::MakeSingleCommunicator();
  return data::FeatureEncoder::Fit(Features({1, 2, 3}, {"red", "blue", "green"}), {"x", "color"},
                                   {}, unknown, *comm);
}

data::LabelEncoder FitLabels(models::ColumnValues y) {
  Table t;
  t.AddColumn("y", std::move(y));
  auto comm = dist::MakeSingleCommunicator();
  return data::LabelEncoder::Fit(t, "y", *comm);
}

constexpr int32_t kX = 0, kColor = 1;
constexpr uint64_t kBlue = 1u << 0, kGreen = 1u << 1, kRed = 1u << 2;

Tree Leaf(std::vector<double> value) {
  return {.feature = {-1}, .left = {-1}, .right = {-1}, .threshold = {0}, .category_set = {-1},
          .category_words = {}, .value = std::move(value), .weight = {1}};
}

// Node 0 splits on x <= threshold; nodes 1 and 2 are leaves.
Tree NumericStump(double threshold, const std::vector<double>& root,
                  const std::vector<double>& left, const std::vector<double>& right) {
  Tree t{.feature = {kX, -1, -1}, .left = {1, -1, -1}, .right = {2, -1, -1},
         .threshold = {threshold, 0, 0}, .category_set = {-1, -1, -1}, .category_words = {},
         .value = root, .weight = {4, 3, 1}};
  t.value.insert(t.value.end(), left.begin(), left.end());
  t.value.insert(t.value.end(), right.begin(), right.end());
  return t;
}

// Node 0 sends the colors of `set` left (one word per set); nodes 1 and 2 are leaves.
Tree ColorStump(uint64_t set, const std::vector<double>& root, const std::vector<double>& left,
                const std::vector<double>& right) {
  Tree t = NumericStump(0, root, left, right);
  t.feature[0] = kColor;
  t.category_set[0] = 0;
  t.category_words = {set};
  return t;
}

// x <= 1 -> leaf 1; else node 2: green -> leaf 3, other colors -> leaf 4.
Tree TwoLevels(const std::vector<std::vector<double>>& values) {
  Tree t{.feature = {kX, -1, kColor, -1, -1}, .left = {1, -1, 3, -1, -1},
         .right = {2, -1, 4, -1, -1}, .threshold = {1.0, 0, 0, 0, 0},
         .category_set = {-1, -1, 0, -1, -1}, .category_words = {kGreen}, .value = {},
         .weight = {8, 2, 6, 1, 5}};
  for (const auto& v : values) t.value.insert(t.value.end(), v.begin(), v.end());
  return t;
}

// Three trees over two classes, every leaf value a binary fraction so that sums are exact.
std::vector<Tree> ClassificationTrees() {
  return {NumericStump(2.5, {0.5, 0.5}, {0.75, 0.25}, {0.125, 0.875}),
          ColorStump(kBlue | kRed, {0.5, 0.5}, {1.0, 0.0}, {0.25, 0.75}),
          TwoLevels({{0.5, 0.5}, {0.25, 0.75}, {0.5, 0.5}, {0.0, 1.0}, {0.5, 0.5}})};
}

RandomForestModel Classifier(models::ColumnValues y = std::vector<int64_t>{0, 1, 0},
                             data::UnknownCategory unknown = data::UnknownCategory::kError) {
  return RandomForestModel(Task::kClassification, FitFeatures(unknown), FitLabels(std::move(y)),
                           "y", 1, ClassificationTrees(), {0.625, 0.375});
}

RandomForestModel Regressor() {
  return RandomForestModel(Task::kRegression, FitFeatures(), data::LabelEncoder(), "target", 1,
                           {NumericStump(2.5, {2.0}, {1.5}, {4.0}),
                            ColorStump(kBlue, {0.5}, {2.0}, {-1.0})},
                           {0.5, 0.5});
}

// Rows: (2, blue), (3, green), (0.5, red).
Table ThreeRows() { return Features({2, 3, 0.5}, {"blue", "green", "red"}); }

TEST(ForestTree, DepthCountsEdgesOnTheLongestPath) {
  EXPECT_EQ(Leaf({1.0}).depth(), 0);
  EXPECT_EQ(NumericStump(0, {0}, {0}, {0}).depth(), 1);
  EXPECT_EQ(TwoLevels({{0}, {0}, {0}, {0}, {0}}).depth(), 2);
  // Deeper on the left than on the right.
  Tree t{.feature = {kX, kX, -1, -1, -1}, .left = {1, 3, -1, -1, -1}, .right = {2, 4, -1, -1, -1},
         .threshold = {0, 0, 0, 0, 0}, .category_set = {-1, -1, -1, -1, -1},
         .category_words = {}, .value = {0, 0, 0, 0, 0}, .weight = {0, 0, 0, 0, 0}};
  EXPECT_EQ(t.depth(), 2);
}

TEST(ForestTree, NumericSplitSendsValuesUpToTheThresholdLeft) {
  Tree t = NumericStump(2.5, {0}, {10}, {20});
  for (auto [x, expected] : std::vector<std::pair<double, double>>{
           {2.0, 10}, {2.5, 10}, {2.5000001, 20}, {-1e300, 10}, {1e300, 20}}) {
    double row[2] = {x, 0};
    EXPECT_EQ(*t.Leaf(row, 1, 1), expected) << x;
  }
}

TEST(ForestTree, CategoricalSplitFollowsTheBitsetAndSendsUnknownsRight) {
  Tree t = ColorStump(kBlue | kRed, {0}, {10}, {20});
  auto leaf = [&](double category, int words_per_set = 1) {
    double row[2] = {0, category};
    return *t.Leaf(row, words_per_set, 1);
  };
  EXPECT_EQ(leaf(0), 10);  // blue
  EXPECT_EQ(leaf(1), 20);  // green
  EXPECT_EQ(leaf(2), 10);  // red
  EXPECT_EQ(leaf(3), 20);  // the unknown slot: never in a set
  EXPECT_EQ(leaf(64), 20);  // past the set's words
  // Two words per set: category 70 is bit 6 of the second word.
  t.category_words = {kBlue, uint64_t{1} << 6};
  EXPECT_EQ(leaf(70, 2), 10);
  EXPECT_EQ(leaf(71, 2), 20);
  EXPECT_EQ(leaf(0, 2), 10);
  EXPECT_EQ(leaf(128, 2), 20);
}

TEST(ForestModelPredict, PredictRowAveragesTheTreesLeafDistributions) {
  RandomForestModel model = Classifier();
  EXPECT_EQ(model.value_width(), 2);
  EXPECT_EQ(model.max_depth(), 2);
  EXPECT_EQ(model.total_nodes(), 11u);
  double out[2];
  double row1[2] = {2, 0};  // leaves {.75, .25}, {1, 0}, {.5, .5}
  model.PredictRow(row1, out);
  EXPECT_THAT(out, ElementsAre(0.75, 0.25));
  double row2[2] = {3, 1};  // leaves {.125, .875}, {.25, .75}, {0, 1}
  model.PredictRow(row2, out);
  EXPECT_THAT(out, ElementsAre(0.125, 0.875));
  double row3[2] = {0.5, 2};  // leaves {.75, .25}, {1, 0}, {.25, .75}
  model.PredictRow(row3, out);
  EXPECT_THAT(out, ElementsAre((0.75 + 1.0 + 0.25) / 3, (0.25 + 0.0 + 0.75) / 3));
}

TEST(ForestModelPredict, ClassificationReturnsTheLabelTypedAsTrainedAndProbabilities) {
  Table out = Classifier().Predict(ThreeRows());
  Table expected;
  expected.AddColumn("prediction", std::vector<int64_t>{0, 1, 0});
  expected.AddColumn("probability_0", std::vector<double>{0.75, 0.125, 2.0 / 3});
  expected.AddColumn("probability_1", std::vector<double>{0.25, 0.875, 1.0 / 3});
  EXPECT_EQ(out, expected);

  out = Classifier(std::vector<std::string>{"cat", "dog"}).Predict(ThreeRows());
  EXPECT_EQ(out.columns()[0].values,
            models::ColumnValues(std::vector<std::string>{"cat", "dog", "cat"}));
  EXPECT_EQ(out.columns()[1].name, "probability_cat");
  EXPECT_EQ(out.columns()[2].name, "probability_dog");

  out = Classifier(std::vector<bool>{false, true}).Predict(ThreeRows());
  EXPECT_EQ(out.columns()[0].values, models::ColumnValues(std::vector<bool>{false, true, false}));
  EXPECT_EQ(out.columns()[2].name, "probability_true");

  out = Classifier(std::vector<double>{2.5, 0.5}).Predict(ThreeRows());
  EXPECT_EQ(out.columns()[0].values, models::ColumnValues(std::vector<double>{0.5, 2.5, 0.5}));
  EXPECT_EQ(out.columns()[1].name, "probability_0.5");

  EXPECT_EQ(Classifier(std::vector<double>{2.5, 0.5}).OutputSchema(),
            models::InferSchema({{"prediction", DataType::kDouble},
                                 {"probability_0.5", DataType::kDouble},
                                 {"probability_2.5", DataType::kDouble}}));
  EXPECT_EQ(Classifier().OutputSchema(),
            models::InferSchema({{"prediction", DataType::kLong},
                                 {"probability_0", DataType::kDouble},
                                 {"probability_1", DataType::kDouble}}));
}

TEST(ForestModelPredict, RegressionReturnsTheMeanOfTheLeafMeans) {
  RandomForestModel model = Regressor();
  Table out = model.Predict(ThreeRows());
  Table expected;
  expected.AddColumn("prediction", std::vector<double>{(1.5 + 2.0) / 2, (4.0 - 1.0) / 2,
                                                       (1.5 - 1.0) / 2});
  EXPECT_EQ(out, expected);
  EXPECT_EQ(model.OutputSchema(), models::InferSchema({{"prediction", DataType::kDouble}}));
}

TEST(ForestModelPredict, UnknownCategoryIsRefusedOrGoesRightAsTheEncoderSays) {
  Table purple = Features({2}, {"purple"});
  EXPECT_ERROR(Classifier().Predict(purple), ErrorCode::kInvalidParameterValue,
               HasSubstr("column 'color': unknown category 'purple' (not seen in training)"));
  // The unknown slot (index 3) has no bit: right in both color splits, {.75 .25} + {.25 .75} +
  // {.5 .5}; the tie goes to the first class.
  Table out = Classifier(std::vector<int64_t>{0, 1}, data::UnknownCategory::kUnknownSlot)
                  .Predict(purple);
  Table expected;
  expected.AddColumn("prediction", std::vector<int64_t>{0});
  expected.AddColumn("probability_0", std::vector<double>{0.5});
  expected.AddColumn("probability_1", std::vector<double>{0.5});
  EXPECT_EQ(out, expected);
}

TEST(ForestModelPredict, MissingColumnsAndNaNAreRefusedByTheEncoder) {
  Table no_color;
  no_color.AddColumn("x", std::vector<double>{1});
  EXPECT_ERROR(Classifier().Predict(no_color), ErrorCode::kInvalidParameterValue,
               HasSubstr("color"));
  EXPECT_ERROR(Classifier().Predict(Features({std::nan("")}, {"red"})),
               ErrorCode::kInvalidParameterValue,
               HasSubstr("column 'x': missing value; features must be numbers"));
}

TEST(ForestModelPredict, PredictColumnsIsTheSameOnAnyThreadCountAndMatchesPredictRow) {
  RandomForestModel model = Classifier();
  std::mt19937_64 rng(7);
  const size_t rows = 5000;  // several tasks of rows
  std::vector<std::vector<double>> columns(2, std::vector<double>(rows));
  for (size_t i = 0; i < rows; ++i) {
    columns[0][i] = std::uniform_real_distribution<double>(0, 4)(rng);
    columns[1][i] = static_cast<double>(rng() % 4);
  }
  std::vector<double> one = model.PredictColumns(columns, 1);
  EXPECT_EQ(one, model.PredictColumns(columns, 2));
  EXPECT_EQ(one, model.PredictColumns(columns, 3));
  EXPECT_EQ(one, model.PredictColumns(columns));
  ASSERT_EQ(one.size(), rows * 2);
  for (size_t i = 0; i < rows; i += 997) {
    double x[2] = {columns[0][i], columns[1][i]}, out[2];
    model.PredictRow(x, out);
    EXPECT_THAT(std::vector<double>(out, out + 2), ElementsAre(one[2 * i], one[2 * i + 1]));
  }
  EXPECT_ERROR(model.PredictColumns({columns[0]}), ErrorCode::kInvalidParameterValue,
               Eq("The random forest takes 2 feature columns, got 1"));
}

// --- The bundle -------------------------------------------------------------------------------

const std::vector<std::string> kArrayFiles = {"tree_nodes.bin",  "tree_offsets.bin",
                                              "tree_thresholds.bin", "tree_values.bin",
                                              "tree_weights.bin", "tree_categories.bin"};

std::set<std::string> FileNames(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

std::unique_ptr<models::Model> Load(const fs::path& dir) {
  models::FlavorRegistry flavors;
  RegisterForestFlavor(flavors);
  return models::LoadModel(dir, flavors);
}

TEST(ForestModelBundle, SaveLoadSaveIsByteIdenticalAndPredictsTheSame) {
  for (const RandomForestModel& model : {Classifier(std::vector<std::string>{"cat", "dog"}),
                                         Regressor()}) {
    TempDir dir;
    // Importances that need all 17 digits to round-trip.
    RandomForestModel original(model.task(), model.features(), model.labels(),
                               model.label_column(), model.words_per_set(), model.trees(),
                               {0.1 + 0.2, 1.0 - (0.1 + 0.2)});
    original.Save(dir / "first", models::NewModelMeta(), ThreeRows());
    std::unique_ptr<models::Model> loaded = Load(dir / "first");
    const auto& typed = dynamic_cast<const RandomForestModel&>(*loaded);
    EXPECT_EQ(typed.trees(), original.trees());
    EXPECT_EQ(typed.feature_importances(), original.feature_importances());
    EXPECT_EQ(typed.task(), original.task());
    EXPECT_EQ(typed.label_column(), original.label_column());
    EXPECT_EQ(typed.labels().classes(), original.labels().classes());
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
    EXPECT_EQ(loaded->Predict(ThreeRows()), original.Predict(ThreeRows()));
  }
}

TEST(ForestModelBundle, WritesTheFlavorSignatureAndModelJson) {
  TempDir dir;
  Classifier().Save(dir / "m", models::NewModelMeta());
  models::ModelMeta meta = models::ReadMlmodel(dir / "m" / "MLmodel");
  ASSERT_TRUE(meta.flavors.contains(kForestFlavor));
  const nlohmann::json& flavor = meta.flavors[kForestFlavor];
  EXPECT_EQ(flavor["data"], "model.json");
  EXPECT_EQ(flavor["format_version"], 1);
  EXPECT_EQ(flavor["trees"], nlohmann::json(kArrayFiles));
  ASSERT_TRUE(meta.signature.has_value());
  EXPECT_EQ(meta.signature->inputs,
            models::InferSchema({{"x", DataType::kDouble}, {"color", DataType::kString}}));
  EXPECT_EQ(meta.signature->outputs, Classifier().OutputSchema());
  EXPECT_FALSE(meta.saved_input_example_info.has_value());

  auto model = nlohmann::json::parse(ReadFile(dir / "m" / "model.json"));
  EXPECT_EQ(model["format_version"], 1);
  EXPECT_EQ(model["task"], "classification");
  EXPECT_EQ(model["label"], "y");
  EXPECT_EQ(model["num_trees"], 3);
  EXPECT_EQ(model["words_per_set"], 1);
  EXPECT_EQ(model["value_width"], 2);
  EXPECT_EQ(model["max_depth"], 2);
  EXPECT_EQ(model["feature_importances"], nlohmann::json({0.625, 0.375}));
  EXPECT_EQ(model["labels"], FitLabels(std::vector<int64_t>{0, 1}).ToJson());
  EXPECT_EQ(model["features"], FitFeatures().ToJson());

  auto nodes = models::ReadArrayFile<int32_t>(dir / "m" / "tree_nodes.bin");
  EXPECT_THAT(nodes.shape, ElementsAre(11, 4));
  EXPECT_THAT(std::vector<int32_t>(nodes.values.begin() + 24,  // the third tree's first 3 nodes
                                   nodes.values.begin() + 36),
              ElementsAre(kX, 1, 2, -1, -1, -1, -1, -1, kColor, 3, 4, 0));
  EXPECT_THAT(models::ReadArrayFile<int64_t>(dir / "m" / "tree_offsets.bin").values,
              ElementsAre(0, 3, 6, 11));
  EXPECT_THAT(models::ReadArrayFile<int64_t>(dir / "m" / "tree_categories.bin").values,
              ElementsAre(kBlue | kRed, kGreen));
  EXPECT_THAT(models::ReadArrayFile<double>(dir / "m" / "tree_values.bin").shape,
              ElementsAre(11, 2));
  EXPECT_THAT(models::ReadArrayFile<double>(dir / "m" / "tree_weights.bin").values,
              ElementsAre(4, 3, 1, 4, 3, 1, 8, 2, 6, 1, 5));
}

TEST(ForestModelBundle, CategorySetsAreStoredOnePerSplitInNodeOrder) {
  // Sets in another order, with an unused word: saved compacted, predicting the same.
  std::vector<Tree> trees = ClassificationTrees();
  Tree& two = trees[2];
  two.category_words = {0xdead, 0xbeef, kGreen};
  two.category_set[2] = 2;
  RandomForestModel model(Task::kClassification, FitFeatures(),
                          FitLabels(std::vector<int64_t>{0, 1}), "y", 1, trees, {0.5, 0.5});
  TempDir dir;
  model.Save(dir / "m", models::NewModelMeta());
  auto loaded = Load(dir / "m");
  const auto& typed = dynamic_cast<const RandomForestModel&>(*loaded);
  EXPECT_EQ(typed.trees()[2], ClassificationTrees()[2]);
  EXPECT_EQ(loaded->Predict(ThreeRows()), model.Predict(ThreeRows()));
}

// A saved classifier (trees of 3, 3 and 5 nodes) to damage, one way per test case.
class ForestModelDamagedBundle : public ::testing::Test {
 protected:
  void SetUp() override { Classifier().Save(bundle(), models::NewModelMeta()); }
  fs::path bundle() const { return dir_ / "m"; }

  void LoadFails(const std::string& message) {
    EXPECT_ERROR(Load(bundle()), ErrorCode::kInvalidParameterValue,
                 Eq("Invalid random forest bundle: " + message));
  }
  template <typename T>
  void EditArray(const std::string& file, const std::function<void(models::Array<T>&)>& edit) {
    auto array = models::ReadArrayFile<T>(bundle() / file);
    edit(array);
    models::WriteArrayFile(bundle() / file, array.shape, std::span<const T>(array.values));
  }
  // Node `node` of the nodes array, counted over all trees: its 4 fields.
  void EditNode(int node, std::vector<int32_t> fields) {
    EditArray<int32_t>("tree_nodes.bin", [&](models::Array<int32_t>& a) {
      std::copy(fields.begin(), fields.end(), a.values.begin() + node * 4);
    });
  }
  void EditModelJson(const std::function<void(nlohmann::json&)>& edit) {
    auto model = nlohmann::json::parse(ReadFile(bundle() / "model.json"));
    edit(model);
    WriteFile(bundle() / "model.json", model.dump(1));
  }

  TempDir dir_;
};

TEST_F(ForestModelDamagedBundle, TheUndamagedBundleLoads) {
  EXPECT_EQ(Load(bundle())->Predict(ThreeRows()), Classifier().Predict(ThreeRows()));
}

TEST_F(ForestModelDamagedBundle, CorruptedArray) {
  std::string bytes = ReadFile(bundle() / "tree_values.bin");
  bytes[bytes.size() - 5] ^= 0x10;
  WriteFile(bundle() / "tree_values.bin", bytes);
  EXPECT_ERROR(Load(bundle()), ErrorCode::kInvalidParameterValue,
               Eq("Invalid random forest bundle: checksum mismatch in 'tree_values.bin': the "
                  "file is corrupted"));
}

TEST_F(ForestModelDamagedBundle, TruncatedArray) {
  std::string bytes = ReadFile(bundle() / "tree_thresholds.bin");
  WriteFile(bundle() / "tree_thresholds.bin", bytes.substr(0, bytes.size() - 8));
  EXPECT_ERROR(Load(bundle()), ErrorCode::kInvalidParameterValue,
               Eq("Invalid random forest bundle: 'tree_thresholds.bin' is truncated: its header "
                  "says 88 payload bytes, the file holds 80"));
}

TEST_F(ForestModelDamagedBundle, MissingArray) {
  fs::remove(bundle() / "tree_weights.bin");
  LoadFails("'tree_weights.bin' is missing");
}

TEST_F(ForestModelDamagedBundle, ArrayOfTheWrongType) {
  models::WriteArrayFile(bundle() / "tree_offsets.bin", std::vector<uint64_t>{4},
                         std::span<const double>(std::vector<double>{0, 3, 6, 11}));
  EXPECT_ERROR(Load(bundle()), ErrorCode::kInvalidParameterValue,
               Eq("Invalid random forest bundle: 'tree_offsets.bin' holds float64 values, "
                  "expected int64"));
}

TEST_F(ForestModelDamagedBundle, WrongShapes) {
  EditArray<double>("tree_values.bin", [](models::Array<double>& a) {
    a.shape = {22, 1};
  });
  LoadFails("'tree_values.bin' has shape [22,1], expected [11,2] (11 nodes, value_width 2)");
}

TEST_F(ForestModelDamagedBundle, NodesNotInRowsOfFour) {
  EditArray<int32_t>("tree_nodes.bin", [](models::Array<int32_t>& a) { a.shape = {4, 11}; });
  LoadFails("'tree_nodes.bin' has shape [4,11], expected [N, 4] (feature, left, right, "
            "category_set of every node)");
}

TEST_F(ForestModelDamagedBundle, OffsetsOfAnotherTreeCount) {
  EditArray<int64_t>("tree_offsets.bin", [](models::Array<int64_t>& a) {
    a = {.shape = {3}, .values = {0, 6, 11}};
  });
  LoadFails("'tree_offsets.bin' has shape [3], expected [4] (num_trees 3 + 1)");
}

TEST_F(ForestModelDamagedBundle, OffsetsThatDoNotCoverTheNodes) {
  EditArray<int64_t>("tree_offsets.bin", [](models::Array<int64_t>& a) { a.values[3] = 10; });
  LoadFails("'tree_offsets.bin' spans the nodes [0, 10), expected [0, 11) (the nodes of "
            "'tree_nodes.bin')");
  EditArray<int64_t>("tree_offsets.bin", [](models::Array<int64_t>& a) {
    a.values = {0, 6, 3, 11};
  });
  LoadFails("'tree_offsets.bin' gives tree 1 the nodes [6, 3): offsets must start at 0 and "
            "increase");
}

TEST_F(ForestModelDamagedBundle, ChildOutOfRange) {
  EditNode(6 + 2, {kColor, 3, 99, 0});  // tree 2, node 2
  LoadFails("'tree_nodes.bin' node 2 of tree 2 has child 99 out of range (the tree has 5 nodes)");
  EditNode(6 + 2, {kColor, -1, 4, 0});
  LoadFails("'tree_nodes.bin' node 2 of tree 2 has child -1 out of range (the tree has 5 nodes)");
}

TEST_F(ForestModelDamagedBundle, ChildBeforeItsParentWhichCouldMakeACycle) {
  EditNode(6 + 3, {kX, 2, 4, -1});  // tree 2, node 3 -> back to node 2
  LoadFails("'tree_nodes.bin' node 3 of tree 2 has child 2, which does not come after it "
            "(children are numbered after their parent)");
}

TEST_F(ForestModelDamagedBundle, FeatureOutOfRange) {
  EditNode(0, {2, 1, 2, -1});
  LoadFails("'tree_nodes.bin' node 0 of tree 0 splits on feature 2 out of range (the encoder "
            "has 2 feature columns)");
}

TEST_F(ForestModelDamagedBundle, LeafWithChildren) {
  EditNode(1, {-1, 2, -1, -1});
  LoadFails("'tree_nodes.bin' node 1 of tree 0 is a leaf (feature -1) with children 2 and -1 "
            "and category set -1; a leaf has -1 for all four");
}

TEST_F(ForestModelDamagedBundle, CategorySetOutOfRange) {
  EditNode(3, {kColor, 1, 2, 1});  // tree 1 has one set of one word
  LoadFails("'tree_nodes.bin' node 0 of tree 1 splits on the categorical feature 'color' with "
            "category set 1 out of range (the tree has 1 category words, 1 per set)");
  EditNode(3, {kColor, 1, 2, -1});
  EXPECT_ERROR(Load(bundle()), ErrorCode::kInvalidParameterValue,
               HasSubstr("holds 2 words; the trees' categorical splits of 1 words each need 1"));
}

TEST_F(ForestModelDamagedBundle, CategorySetOnANumericFeature) {
  EditNode(0, {kX, 1, 2, 0});
  EditArray<int64_t>("tree_categories.bin", [](models::Array<int64_t>& a) {
    a = {.shape = {3}, .values = {0, int64_t{kBlue | kRed}, int64_t{kGreen}}};
  });
  LoadFails("'tree_nodes.bin' node 0 of tree 0 has category set 0 on the numeric feature 'x'; "
            "expected -1");
}

TEST_F(ForestModelDamagedBundle, CategoryWordsOfTheWrongCount) {
  EditArray<int64_t>("tree_categories.bin", [](models::Array<int64_t>& a) {
    a = {.shape = {1}, .values = {5}};
  });
  LoadFails("'tree_categories.bin' holds 1 words; the trees' categorical splits of 1 words each "
            "need 2");
}

TEST_F(ForestModelDamagedBundle, MalformedModelJson) {
  WriteFile(bundle() / "model.json", "{\"format_version\": 1");
  EXPECT_ERROR(Load(bundle()), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid random forest bundle: 'model.json' is not valid JSON: "));
  WriteFile(bundle() / "model.json", "[1, 2]");
  LoadFails("'model.json' is not a JSON object");
  fs::remove(bundle() / "model.json");
  LoadFails("'model.json' is missing");
}

TEST_F(ForestModelDamagedBundle, UnsupportedFormatVersion) {
  EditModelJson([](nlohmann::json& m) { m["format_version"] = 2; });
  LoadFails("'model.json' has format_version 2; this mltrack reads version 1");
  models::ModelMeta meta = models::ReadMlmodel(bundle() / "MLmodel");
  meta.flavors[kForestFlavor]["format_version"] = 7;
  models::WriteMlmodel(bundle() / "MLmodel", meta);
  LoadFails("its MLmodel names format_version 7 of flavor mltrack.random_forest; this mltrack "
            "reads version 1");
}

TEST_F(ForestModelDamagedBundle, ModelJsonFields) {
  EditModelJson([](nlohmann::json& m) { m.erase("num_trees"); });
  LoadFails("'model.json' lacks the field 'num_trees'");
  EditModelJson([](nlohmann::json& m) { m["num_trees"] = "3"; });
  LoadFails("'model.json' field 'num_trees' must be an integer, got \"3\"");
  EditModelJson([](nlohmann::json& m) { m["num_trees"] = 0; });
  LoadFails("'model.json' field 'num_trees' is 0; it must be between 1 and 2147483647");
  EditModelJson([](nlohmann::json& m) {
    m["num_trees"] = 3;
    m["task"] = "ranking";
  });
  LoadFails("'model.json' field 'task' is \"ranking\"; expected \"classification\" or "
            "\"regression\"");
  EditModelJson([](nlohmann::json& m) {
    m["task"] = "classification";
    m["value_width"] = 3;
  });
  LoadFails("'model.json' field 'value_width' is 3, expected the class count 2 (at least 2)");
  EditModelJson([](nlohmann::json& m) {
    m["value_width"] = 2;
    m["feature_importances"] = {1.0};
  });
  LoadFails("'model.json' field 'feature_importances' must be 2 numbers, one per feature column");
  EditModelJson([](nlohmann::json& m) {
    m["feature_importances"] = {0.5, 0.5};
    m["max_depth"] = 3;
  });
  LoadFails("'model.json' field 'max_depth' is 3, but the trees are 2 deep");
  EditModelJson([](nlohmann::json& m) {
    m["max_depth"] = 2;
    m["features"]["unknown"] = "skip";
  });
  EXPECT_ERROR(Load(bundle()), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid random forest bundle: 'model.json': "));
}

}  // namespace
}  // namespace mltrack::forest
