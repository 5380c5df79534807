// `mlt train forest` end to end: the built binary on CSV files the tests write, alone and under
// `mpirun -np 2`, with what it leaves in the tracking store and in -o folders, and its refusals.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/bundle/flavor_registry.h"
#include "models/forest/forest_model.h"
#include "registry/model_uri.h"
#include "cli/trainer_cli_support.h"
#include "cli/cli_expect.h"
#include "support/test_support.h"
#include "tracking/store_factory.h"

namespace mltrack {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ExpectError;
using ::mltrack::testing::Lcg;
using ::mltrack::testing::MetricValue;
using ::mltrack::testing::Param;
using ::mltrack::testing::ProcessResult;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

// Separable rows: x (long, 1..20), color (string), label "yes" exactly when x > 10 or the color
// is blue. x has fewer distinct values than bins, so every tree can split it exactly.
std::string SeparableCsv(int rows, uint64_t seed) {
  static const char* kColors[] = {"red", "green", "blue"};
  Lcg rng(seed);
  std::string csv = "x,color,answer\n";
  for (int i = 0; i < rows; ++i) {
    int x = 1 + static_cast<int>(rng.Uniform() * 20);
    int color = static_cast<int>(rng.Uniform() * 3);
    csv += fmt::format("{},{},{}\n", x, kColors[color], x > 10 || color == 2 ? "yes" : "no");
  }
  return csv;
}

// Noisy rows of five numeric features and a categorical one, label 0/1: for the determinism
// tests, where the trees have many splits on quantile bins.
std::string NoisyCsv(int rows, uint64_t seed) {
  static const char* kShapes[] = {"circle", "square", "star", "moon"};
  Lcg rng(seed);
  std::string csv = "a,b,c,d,e,shape,y\n";
  for (int i = 0; i < rows; ++i) {
    double v[5];
    for (double& x : v) x = std::round(rng.Uniform() * 1e6) / 1e4;
    int shape = static_cast<int>(rng.Uniform() * 4);
    double z = 0.05 * (v[0] - 50) - 0.03 * (v[1] - 50) + (shape == 2 ? 1.0 : -0.3);
    bool positive = rng.Uniform() < 1 / (1 + std::exp(-z));
    csv += fmt::format("{},{},{},{},{},{},{}\n", v[0], v[1], v[2], v[3], v[4], kShapes[shape],
                       positive ? 1 : 0);
  }
  return csv;
}

class TrainForestCli : public ::mltrack::testing::TrainerCliTest {
 protected:
  TrainForestCli() {
    WriteFile(dir_ / "train.csv", SeparableCsv(2000, 1));
    WriteFile(dir_ / "test.csv", SeparableCsv(500, 2));
    WriteFile(dir_ / "noisy.csv", NoisyCsv(3000, 3));
  }
  std::unique_ptr<models::Model> Load(const std::string& model_uri) {
    models::FlavorRegistry flavors;
    forest::RegisterForestFlavor(flavors);
    registry::ModelResolver resolver(uri_);
    return resolver.Load(model_uri, flavors);
  }
  std::unique_ptr<models::Model> LoadFolder(const fs::path& bundle) {
    models::FlavorRegistry flavors;
    forest::RegisterForestFlavor(flavors);
    return models::LoadModel(bundle, flavors);
  }
};

// The files of a bundle folder but MLmodel (which holds a fresh uuid, time and run id).
std::vector<std::string> BundleFiles(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name != "MLmodel") names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Expects the files of `a` matching `keep` to exist in `b` with the same bytes; returns how many.
template <class Keep>
int ExpectSameFiles(const fs::path& a, const fs::path& b, Keep keep) {
  int compared = 0;
  for (const std::string& name : BundleFiles(a)) {
    if (!keep(name)) continue;
    ++compared;
    EXPECT_TRUE(fs::exists(b / name)) << name;
    if (fs::exists(b / name)) {
      EXPECT_TRUE(ReadFile(a / name) == ReadFile(b / name)) << name << " differs";
    }
  }
  return compared;
}

bool IsTreeFile(const std::string& name) {
  return name.starts_with("tree_") && name.ends_with(".bin");
}

TEST_F(TrainForestCli, ClassifiesSeparableDataLogsEverythingAndLeavesALoadableBundle) {
  ProcessResult r = Mlt({"train", "forest", "--data", "train.csv", "--test", "test.csv",
                         "--label", "answer", "--num-trees", "20", "--experiment", "forest",
                         "--register", "answers"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // no progress line when stderr is not a terminal
  std::vector<::mltrack::Run> runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  const ::mltrack::Run& run = runs[0];
  EXPECT_THAT(r.out, MatchesRegex("Trained a random forest classifier \\(20 trees, max depth 10, "
                                  "2 classes, 2 features\\) on 2000 rows with 1 rank in [0-9.]+ "
                                  "s\n"
                                  "  train  rows +2000  accuracy 1\\.0000  log_loss [0-9.]+  "
                                  "roc_auc 1\\.0000  f1 1\\.0000\n"
                                  "  test   rows +500  accuracy 1\\.0000  log_loss [0-9.]+  "
                                  "roc_auc 1\\.0000  f1 1\\.0000\n"
                                  "Run [0-9a-f]{32}; model runs:/[0-9a-f]{32}/model "
                                  "\\(registered as answers version 1\\)\n"));
  EXPECT_THAT(r.out, HasSubstr(fmt::format("Run {}; model runs:/{}/model", run.info.run_id,
                                           run.info.run_id)));
  EXPECT_EQ(run.info.status, RunStatus::kFinished);

  EXPECT_EQ(Param(run, "label"), "answer");
  EXPECT_EQ(Param(run, "data"), "train.csv");
  EXPECT_EQ(Param(run, "test_data"), "test.csv");
  EXPECT_EQ(Param(run, "ranks"), "1");
  EXPECT_EQ(Param(run, "classes"), "2");
  EXPECT_EQ(Param(run, "features"), "2");
  EXPECT_EQ(Param(run, "unknown_category"), "error");
  EXPECT_EQ(Param(run, "num_trees"), "20");
  EXPECT_EQ(Param(run, "max_depth"), "10");
  EXPECT_EQ(Param(run, "impurity"), "gini");

  EXPECT_EQ(MetricValue(run, "test_accuracy"), 1.0);
  EXPECT_EQ(MetricValue(run, "train_accuracy"), 1.0);
  for (const char* m : {"accuracy", "log_loss", "roc_auc", "precision", "recall", "f1"}) {
    EXPECT_FALSE(std::isnan(MetricValue(run, fmt::format("train_{}", m)))) << m;
    EXPECT_FALSE(std::isnan(MetricValue(run, fmt::format("test_{}", m)))) << m;
  }
  EXPECT_TRUE(std::isnan(MetricValue(run, "test_rows")));
  EXPECT_EQ(MetricValue(run, "trees"), 20.0);
  EXPECT_EQ(MetricValue(run, "train_rows"), 2000.0);
  EXPECT_GE(MetricValue(run, "fit_seconds"), 0.0);
  double x = MetricValue(run, "feature_importance.x");
  double color = MetricValue(run, "feature_importance.color");
  EXPECT_GT(x, 0.0);
  EXPECT_GT(color, 0.0);
  EXPECT_NEAR(x + color, 1.0, 1e-9);

  // feature_importances.json at the root of the run's artifacts, the most important first.
  ProcessResult download = Mlt({"artifacts", "download", "-r", run.info.run_id, "-a",
                                "feature_importances.json", "-d", (dir_ / "fi").string()});
  ASSERT_EQ(download.exit_code, 0) << download.err;
  auto importances = nlohmann::ordered_json::parse(ReadFile(dir_ / "fi" / "feature_importances.json"));
  ASSERT_TRUE(importances.is_object());
  ASSERT_EQ(importances.size(), 2u);
  std::vector<std::string> keys;
  for (const auto& [key, value] : importances.items()) keys.push_back(key);
  EXPECT_EQ(keys, x >= color ? (std::vector<std::string>{"x", "color"})
                             : (std::vector<std::string>{"color", "x"}));
  EXPECT_DOUBLE_EQ(importances["x"].get<double>(), x);
  EXPECT_DOUBLE_EQ(importances["color"].get<double>(), color);

  // The registered bundle predicts the raw columns, with the label's own values.
  auto model = Load("models:/answers/1");
  ASSERT_NE(model, nullptr);
  auto* typed = dynamic_cast<forest::RandomForestModel*>(model.get());
  ASSERT_NE(typed, nullptr);
  EXPECT_EQ(typed->trees().size(), 20u);
  EXPECT_EQ(typed->labels().classes(), (std::vector<std::string>{"no", "yes"}));
  models::Table input;
  input.AddColumn("x", std::vector<int64_t>{3, 15, 3, 10, 11});
  input.AddColumn("color", std::vector<std::string>{"red", "red", "blue", "green", "green"});
  models::Table out = model->Predict(input);
  ASSERT_EQ(out.columns().size(), 3u);
  EXPECT_EQ(out.columns()[0].name, "prediction");
  EXPECT_EQ(std::get<std::vector<std::string>>(out.columns()[0].values),
            (std::vector<std::string>{"no", "yes", "yes", "no", "yes"}));
  EXPECT_EQ(out.columns()[1].name, "probability_no");
  EXPECT_EQ(out.columns()[2].name, "probability_yes");
}

TEST_F(TrainForestCli, OneTreeFitsAStepFunctionExactly) {
  std::string csv = "x,y\n";
  for (int i = 0; i < 400; ++i) {
    int x = 1 + i % 20;
    csv += fmt::format("{},{}\n", x, x <= 10 ? 3 : 7);
  }
  WriteFile(dir_ / "step.csv", csv);
  ProcessResult r = Mlt({"train", "forest", "--data", "step.csv", "--label", "y", "--task",
                         "regression", "--num-trees", "1", "--no-bootstrap", "--feature-subset",
                         "all", "-o", (dir_ / "step").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, MatchesRegex("Trained a random forest regressor \\(1 tree, max depth 10, 1 "
                                  "feature\\) on 400 rows with 1 rank in [0-9.]+ s\n"
                                  "  train  rows +400  rmse 0  mae 0  r2 1\\.0000\n"
                                  "Run [0-9a-f]{32}; model runs:/[0-9a-f]{32}/model\n"));
  std::vector<::mltrack::Run> runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(Param(runs[0], "impurity"), "variance");
  EXPECT_EQ(Param(runs[0], "classes"), "<absent>");
  EXPECT_EQ(MetricValue(runs[0], "train_rmse"), 0.0);
  EXPECT_EQ(MetricValue(runs[0], "feature_importance.x"), 1.0);

  auto model = LoadFolder(dir_ / "step");
  models::Table input;
  input.AddColumn("x", std::vector<double>{-5.0, 1.0, 10.0, 10.4, 10.6, 11.0, 20.0, 100.0});
  models::Table out = model->Predict(input);
  ASSERT_EQ(out.columns().size(), 1u);
  EXPECT_EQ(out.columns()[0].name, "prediction");
  EXPECT_EQ(std::get<std::vector<double>>(out.columns()[0].values),
            (std::vector<double>{3, 3, 3, 3, 7, 7, 7, 7}));
}

TEST_F(TrainForestCli, TheSameCommandTwiceWritesTheSameBundle) {
  std::vector<std::string> args = {"train", "forest", "--data", "noisy.csv", "--label", "y",
                                   "--test-fraction", "0.2", "--num-trees", "10",
                                   "--subsampling-rate", "0.8"};
  auto with = [&](const std::string& out) {
    std::vector<std::string> a = args;
    a.push_back("-o");
    a.push_back((dir_ / out).string());
    return a;
  };
  ProcessResult a = Mlt(with("a"));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ProcessResult b = Mlt(with("b"));
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(BundleFiles(dir_ / "a"), BundleFiles(dir_ / "b"));
  EXPECT_GE(ExpectSameFiles(dir_ / "a", dir_ / "b", [](const std::string&) { return true; }), 3);
  EXPECT_TRUE(fs::exists(dir_ / "a" / "model.json"));
  // And a model that is not trivial: the trees split.
  auto model = LoadFolder(dir_ / "a");
  auto& typed = dynamic_cast<forest::RandomForestModel&>(*model);
  EXPECT_GT(typed.total_nodes(), 10u * 15);
}

TEST_F(TrainForestCli, TwoMpiRanksAndTwoThreadsGrowTheTreesOfOneProcess) {
  std::vector<std::string> args = {"train", "forest", "--data", "noisy.csv", "--label", "y",
                                   "--test-fraction", "0.25", "--num-trees", "8"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = args;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  ProcessResult one = Mlt(with({"--threads", "1", "-o", (dir_ / "one").string()}));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ProcessResult threads = Mlt(with({"--threads", "2", "-o", (dir_ / "threads").string()}));
  ASSERT_EQ(threads.exit_code, 0) << threads.err;
  ProcessResult two = MpiMlt(2, with({"--threads", "1", "-o", (dir_ / "two").string()}));
  ASSERT_EQ(two.exit_code, 0) << two.err;

  // Only rank 0 printed and logged: one run each, one report.
  EXPECT_EQ(Runs().size(), 3u);
  EXPECT_THAT(two.out, HasSubstr(" with 2 ranks in "));
  EXPECT_EQ(two.out.find("Trained a"), two.out.rfind("Trained a"));
  // The split is the same rows, and the same trees score them alike.
  size_t from = one.out.find("  train  rows"), to = one.out.find("Run ");
  ASSERT_NE(from, std::string::npos);
  EXPECT_THAT(two.out, HasSubstr(one.out.substr(from, to - from)));
  EXPECT_THAT(threads.out, HasSubstr(one.out.substr(from, to - from)));

  EXPECT_EQ(ExpectSameFiles(dir_ / "one", dir_ / "threads", IsTreeFile), 6);
  EXPECT_EQ(ExpectSameFiles(dir_ / "one", dir_ / "two", IsTreeFile), 6);
  EXPECT_EQ(ReadFile(dir_ / "one" / "model.json"), ReadFile(dir_ / "two" / "model.json"));
}

// --- refusals: each names the file and line or the option ------------------------------------

TEST_F(TrainForestCli, RefusesInvalidOptionsBeforeStartingARun) {
  std::vector<std::string> base = {"train", "forest", "--data", "train.csv", "--label", "answer"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return Mlt(a);
  };
  ExpectError(with({"--max-bins", "300"}), 1,
                "Invalid option max_bins=300: must be between 2 and 256");
  ExpectError(with({"--num-trees", "0"}), 1,
                "Invalid option num_trees=0: must be between 1 and 10000");
  ExpectError(with({"--impurity", "variance"}), 1,
                "Invalid option impurity=variance: classification takes gini or entropy");
  ExpectError(with({"--task", "regression", "--impurity", "gini"}), 1,
                "Invalid option impurity=gini: regression takes variance");
  ExpectError(with({"--feature-subset", "bogus"}), 1,
                "Invalid option feature_subset=bogus: must be auto, all, sqrt, log2, onethird, "
                "a fraction in (0, 1] or a count >= 1");
  ProcessResult task = with({"--task", "ranking"});
  EXPECT_EQ(task.exit_code, 2);
  EXPECT_THAT(task.err, HasSubstr("--task"));
  ProcessResult unknown = with({"--unknown-category", "guess"});
  EXPECT_EQ(unknown.exit_code, 2);
  // Under mpirun every rank refuses alike; the message is printed once.
  ProcessResult mpi = MpiMlt(2, {"train", "forest", "--data", "train.csv", "--label", "answer",
                                 "--max-bins", "300"});
  EXPECT_EQ(mpi.exit_code, 1);
  EXPECT_EQ(mpi.out, "");
  EXPECT_THAT(mpi.err, StartsWith("mlt: error: Invalid option max_bins=300: must be between 2 "
                                  "and 256\n"));
  EXPECT_EQ(mpi.err.find("mlt: error:"), mpi.err.rfind("mlt: error:")) << mpi.err;
  EXPECT_TRUE(Runs().empty()) << "an invalid option started a run";
}

TEST_F(TrainForestCli, RefusesBadDataNamingTheFileAndLine) {
  WriteFile(dir_ / "ragged.csv", "a,b,y\n1,2,0\n3,4\n5,6,1\n");
  ExpectError(Mlt({"train", "forest", "--data", "ragged.csv", "--label", "y"}), 1,
                "ragged.csv: line 3: expected 3 fields, found 2");
  EXPECT_TRUE(Runs().empty()) << "a file that does not parse started a run";
  // Refusals once the data has been read fail the run that was started, as a failing
  // training script does: a FAILED run with no model.
  ExpectError(Mlt({"train", "forest", "--data", "train.csv", "--label", "answer", "--task",
                     "regression"}),
                1, "train.csv: column 'answer' holds strings; expected numbers");
  WriteFile(dir_ / "one-class.csv", "a,y\n1,1\n2,1\n");
  ExpectError(Mlt({"train", "forest", "--data", "one-class.csv", "--label", "y"}), 1,
                "The label column 'y' of one-class.csv has one class ('1'): a classifier needs "
                "at least two classes");
  ProcessResult missing = Mlt({"train", "forest", "--data", "train.csv", "--label", "salary"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("salary"));
  std::vector<::mltrack::Run> runs = Runs();
  EXPECT_EQ(runs.size(), 3u);
  for (const auto& run : runs) {
    EXPECT_EQ(run.info.status, RunStatus::kFailed);
    for (const auto& tag : run.data.tags) EXPECT_NE(tag.key, "mlflow.log-model.history");
  }
}

TEST_F(TrainForestCli, AFailingShardFailsEveryRankWithOneMessage) {
  std::string csv = SeparableCsv(400, 3);
  csv += "30,red\n";  // near the end: only the second rank's shard holds it
  WriteFile(dir_ / "late.csv", csv);
  ProcessResult r = MpiMlt(2, {"train", "forest", "--data", "late.csv", "--label", "answer"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("late.csv: line 402: expected 3 fields, found 2"));
  EXPECT_EQ(r.err.find("mlt: error:"), r.err.rfind("mlt: error:")) << r.err;
  EXPECT_TRUE(Runs().empty());
}

}  // namespace
}  // namespace mltrack
