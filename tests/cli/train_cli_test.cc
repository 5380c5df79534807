// `mlt train logistic` end to end: the built binary on CSV files the tests write, alone and under
// `mpirun -np 2`, with what it leaves in the tracking store, and its refusals.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/bundle/flavor_registry.h"
#include "models/logistic/logistic_model.h"
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
using ::mltrack::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

// Rows of age (long), hours (double), color (string), label income ("<=50K" or ">50K") drawn
// from a logistic model, with a header.
std::string MakeCsv(int rows, uint64_t seed) {
  static const char* kColors[] = {"red", "green", "blue"};
  Lcg rng(seed);
  std::string csv = "age,hours,color,income\n";
  for (int i = 0; i < rows; ++i) {
    int age = 18 + static_cast<int>(rng.Uniform() * 50);
    double hours = std::round((20 + 30 * rng.Uniform()) * 100) / 100;
    int color = static_cast<int>(rng.Uniform() * 3);
    double z = 0.08 * (age - 40) + 0.1 * (hours - 35) + (color == 2 ? 1.0 : -0.5);
    bool positive = rng.Uniform() < 1 / (1 + std::exp(-z));
    csv += fmt::format("{},{},{},{}\n", age, hours, kColors[color], positive ? ">50K" : "<=50K");
  }
  return csv;
}

class TrainCli : public ::mltrack::testing::TrainerCliTest {
 protected:
  TrainCli() {
    WriteFile(dir_ / "train.csv", MakeCsv(3000, 1));
    WriteFile(dir_ / "test.csv", MakeCsv(1000, 2));
  }
  std::unique_ptr<logistic::LogisticModel> LoadLogistic(const std::string& model_uri) {
    models::FlavorRegistry flavors;
    logistic::RegisterLogisticFlavor(flavors);
    registry::ModelResolver resolver(uri_);
    auto model = resolver.Load(model_uri, flavors);
    auto* typed = dynamic_cast<logistic::LogisticModel*>(model.get());
    if (typed == nullptr) return nullptr;
    model.release();
    return std::unique_ptr<logistic::LogisticModel>(typed);
  }
};

TEST_F(TrainCli, TrainsLogsEvaluatesAndLeavesALoadableBundle) {
  ProcessResult r = Mlt({"train", "logistic", "--data", "train.csv", "--test", "test.csv",
                         "--label", "income", "--reg", "0.001", "--experiment", "census",
                         "--register", "income"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // no progress line when stderr is not a terminal
  std::vector<::mltrack::Run> runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  const ::mltrack::Run& run = runs[0];
  EXPECT_THAT(r.out, MatchesRegex("Trained a binomial logistic regression \\(2 classes, 5 "
                                  "features\\) on 3000 rows with 1 rank in [0-9.]+ s: [0-9]+ "
                                  "iterations, [a-z_ ]+\n"
                                  "  train  rows +3000  accuracy 0\\.[0-9]{4}  log_loss [0-9.]+  "
                                  "roc_auc 0\\.[0-9]{4}  f1 0\\.[0-9]{4}\n"
                                  "  test   rows +1000  accuracy 0\\.[0-9]{4}  log_loss [0-9.]+  "
                                  "roc_auc 0\\.[0-9]{4}  f1 0\\.[0-9]{4}\n"
                                  "Run [0-9a-f]{32}; model runs:/[0-9a-f]{32}/model "
                                  "\\(registered as income version 1\\)\n"));
  EXPECT_THAT(r.out, HasSubstr(fmt::format("Run {}; model runs:/{}/model", run.info.run_id,
                                           run.info.run_id)));
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
  EXPECT_EQ(Param(run, "reg"), "0.001");
  EXPECT_EQ(Param(run, "label"), "income");
  EXPECT_EQ(Param(run, "family"), "binomial");
  EXPECT_EQ(Param(run, "ranks"), "1");
  EXPECT_GT(MetricValue(run, "test_accuracy"), 0.7);
  EXPECT_GT(MetricValue(run, "test_roc_auc"), 0.75);
  EXPECT_LT(MetricValue(run, "test_log_loss"), 0.6);
  // The loss per iteration, decreasing, one step per iteration.
  auto history = Store().GetMetricHistory(run.info.run_id, "loss", 1000, "").items;
  ASSERT_GE(history.size(), 3u);
  EXPECT_EQ(static_cast<double>(history.size() - 1), MetricValue(run, "iterations"));
  for (size_t i = 1; i < history.size(); ++i) {
    EXPECT_EQ(history[i].step, static_cast<int64_t>(i));
    EXPECT_LE(history[i].value, history[i - 1].value + 1e-12);
  }

  // The registered bundle predicts the raw columns, with the label's own values.
  auto model = LoadLogistic("models:/income/1");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->labels().classes(), (std::vector<std::string>{"<=50K", ">50K"}));
  models::Table input;
  input.AddColumn("age", std::vector<int64_t>{25, 60});
  input.AddColumn("hours", std::vector<double>{20.0, 50.0});
  input.AddColumn("color", std::vector<std::string>{"red", "blue"});
  models::Table out = model->Predict(input);
  ASSERT_EQ(out.columns().size(), 3u);
  EXPECT_EQ(out.columns()[0].name, "prediction");
  EXPECT_EQ(std::get<std::vector<std::string>>(out.columns()[0].values),
            (std::vector<std::string>{"<=50K", ">50K"}));
  EXPECT_EQ(out.columns()[1].name, "probability_<=50K");
  EXPECT_EQ(out.columns()[2].name, "probability_>50K");
}

TEST_F(TrainCli, TwoMpiRanksFitTheCoefficientsOfOneProcess) {
  ProcessResult one = Mlt({"train", "logistic", "--data", "train.csv", "--label", "income",
                           "--test-fraction", "0.25", "--reg", "0.0005", "--run-name", "one",
                           "-o", (dir_ / "one").string()});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ProcessResult two = MpiMlt(2, {"train", "logistic", "--data", "train.csv", "--label", "income",
                                 "--test-fraction", "0.25", "--reg", "0.0005", "--run-name",
                                 "two", "-o", (dir_ / "two").string()});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  // Only rank 0 printed and logged: one more run, one report.
  EXPECT_EQ(Runs().size(), 2u);
  EXPECT_THAT(two.out, HasSubstr(" with 2 ranks in "));
  EXPECT_EQ(two.out.find("Trained a"), two.out.rfind("Trained a"));
  // The split is the same rows: the same train and test row counts.
  EXPECT_THAT(two.out, HasSubstr(one.out.substr(one.out.find("  train  rows"), 24)));

  models::FlavorRegistry flavors;
  logistic::RegisterLogisticFlavor(flavors);
  auto a = models::LoadModel(dir_ / "one", flavors);
  auto b = models::LoadModel(dir_ / "two", flavors);
  auto& la = dynamic_cast<logistic::LogisticModel&>(*a);
  auto& lb = dynamic_cast<logistic::LogisticModel&>(*b);
  ASSERT_EQ(la.coefficients().size(), lb.coefficients().size());
  for (size_t j = 0; j < la.coefficients().size(); ++j) {
    EXPECT_NEAR(lb.coefficients()[j], la.coefficients()[j],
                1e-8 * std::max(1.0, std::abs(la.coefficients()[j])))
        << "coefficient " << j;
  }
  EXPECT_NEAR(lb.intercepts()[0], la.intercepts()[0], 1e-8 * std::max(1.0, std::abs(la.intercepts()[0])));
}

TEST_F(TrainCli, MulticlassWithUnknownCategorySlot) {
  std::string csv = "x,shape,kind\n";
  Lcg rng(5);
  static const char* kShapes[] = {"circle", "square"};
  for (int i = 0; i < 900; ++i) {
    int kind = i % 3;
    csv += fmt::format("{:.4f},{},k{}\n", kind * 2.0 + rng.Normal() * 0.5, kShapes[i % 2], kind);
  }
  WriteFile(dir_ / "three.csv", csv);
  ProcessResult r = Mlt({"train", "logistic", "--data", "three.csv", "--label", "kind",
                         "--unknown-category", "slot", "-o", (dir_ / "bundle").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("Trained a multinomial logistic regression (3 classes, 4 "
                                "features) on 900 rows"));
  models::FlavorRegistry flavors;
  logistic::RegisterLogisticFlavor(flavors);
  auto model = models::LoadModel(dir_ / "bundle", flavors);
  models::Table input;
  input.AddColumn("x", std::vector<double>{0.0, 4.0});
  input.AddColumn("shape", std::vector<std::string>{"triangle", "circle"});
  models::Table out = model->Predict(input);
  EXPECT_EQ(std::get<std::vector<std::string>>(out.columns()[0].values),
            (std::vector<std::string>{"k0", "k2"}));
}

// --- refusals: each names the file and line or the option, and leaves no run behind -----------

TEST_F(TrainCli, RefusesBadDataNamingTheFileAndLine) {
  WriteFile(dir_ / "ragged.csv", "a,b,y\n1,2,0\n3,4\n5,6,1\n");
  ExpectError(Mlt({"train", "logistic", "--data", "ragged.csv", "--label", "y"}), 1,
                "ragged.csv: line 3: expected 3 fields, found 2");
  WriteFile(dir_ / "word.csv", "a,b,y\n1,2,0\n3,x4,1\n");
  ExpectError(Mlt({"train", "logistic", "--data", "word.csv", "--label", "y", "--type",
                     "b:long"}),
                1,
                "word.csv: line 3, column 'b': 'x4' is not a number (the column is long; "
                "override its type to read it as a string)");
  EXPECT_TRUE(Runs().empty()) << "a file that does not parse started a run";
  // Refusals once the data has been read fail the run that was started, as a failing
  // training script does: a FAILED run with no model.
  WriteFile(dir_ / "one-class.csv", "a,y\n1,1\n2,1\n");
  ProcessResult single = Mlt({"train", "logistic", "--data", "one-class.csv", "--label", "y"});
  EXPECT_EQ(single.exit_code, 1);
  EXPECT_THAT(single.err, StartsWith("mlt: error: The label column 'y' of one-class.csv has one "
                                     "class ('1')"));
  ProcessResult unknown = Mlt({"train", "logistic", "--data", "train.csv", "--label", "salary"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("salary"));
  WriteFile(dir_ / "empty.csv", "");
  ExpectError(Mlt({"train", "logistic", "--data", "empty.csv", "--label", "y"}), 1,
                "empty.csv: the file is empty");
  WriteFile(dir_ / "nan.csv", "a,b,y\n1,2,0\n3,NA,1\n4,5,1\n");
  ExpectError(Mlt({"train", "logistic", "--data", "nan.csv", "--label", "y"}), 1,
                "nan.csv: line 3, column 'b': missing value; features must be numbers");
  ProcessResult missing = Mlt({"train", "logistic", "--data", "nope.csv", "--label", "y"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("nope.csv"));
  for (const auto& run : Runs()) {
    EXPECT_EQ(run.info.status, RunStatus::kFailed);
    for (const auto& tag : run.data.tags) EXPECT_NE(tag.key, "mlflow.log-model.history");
  }
}

TEST_F(TrainCli, RefusesOptionsOutOfRange) {
  ExpectError(Mlt({"train", "logistic", "--data", "train.csv", "--label", "income",
                     "--l1-ratio", "1.5"}),
                1, "Invalid option l1_ratio=1.5: must be between 0 and 1");
  ExpectError(Mlt({"train", "logistic", "--data", "train.csv", "--label", "income", "--reg",
                     "-1"}),
                1, "Invalid option reg=-1: must be a number >= 0");
  ExpectError(Mlt({"train", "logistic", "--data", "train.csv", "--label", "income",
                     "--max-iter", "0"}),
                1, "Invalid option max_iter=0: must be at least 1");
  ProcessResult fraction = Mlt({"train", "logistic", "--data", "train.csv", "--label", "income",
                                "--test-fraction", "1.5"});
  EXPECT_EQ(fraction.exit_code, 2);
  EXPECT_THAT(fraction.err, HasSubstr("--test-fraction"));
  ProcessResult weights = Mlt({"train", "logistic", "--data", "train.csv", "--label", "income",
                               "--class-weight", "heavy"});
  EXPECT_EQ(weights.exit_code, 1);
  EXPECT_THAT(weights.err, HasSubstr("Invalid --class-weight 'heavy'"));
  ProcessResult family = Mlt({"train", "logistic", "--data", "train.csv", "--label", "income",
                              "--family", "poisson"});
  EXPECT_EQ(family.exit_code, 2);
  EXPECT_TRUE(Runs().empty());
}

TEST_F(TrainCli, AFailingShardFailsEveryRankWithOneMessage) {
  // The bad row is near the end: only the second rank's shard holds it.
  std::string csv = MakeCsv(400, 3);
  csv += "30,40.5\n";
  WriteFile(dir_ / "late.csv", csv);
  ProcessResult r = MpiMlt(2, {"train", "logistic", "--data", "late.csv", "--label", "income"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("late.csv: line 402: expected 4 fields, found 2"));
  EXPECT_EQ(r.err.find("mlt: error:"), r.err.rfind("mlt: error:")) << r.err;
  EXPECT_TRUE(Runs().empty());
}

}  // namespace
}  // namespace mltrack
