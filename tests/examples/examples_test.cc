// The example projects of examples/ (recommender, airbnb-price, income) run with `mlt run` through
// the built binary into a temporary SQLite store, with small parameters: every run finishes and
// logs metrics that beat a trivial baseline and a model that can be registered and used, and bad
// parameters are refused with an error that names them.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_support.h"
#include "tracking/store_factory.h"

namespace mltrack {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ProcessOptions;
using ::mltrack::testing::ProcessResult;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::RunMlt;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::HasSubstr;

const fs::path kExamples = fs::path(MLT_SOURCE_DIR) / "examples";

// The values of one column of a CSV file with a header line and no quoted fields.
std::vector<double> Column(const fs::path& csv, const std::string& name) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream fields(line);
  for (std::string field; std::getline(fields, field, ',');) header.push_back(field);
  size_t index = std::find(header.begin(), header.end(), name) - header.begin();
  EXPECT_LT(index, header.size()) << name << " is not a column of " << csv;
  std::vector<double> values;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream row(line);
    std::string field;
    for (size_t i = 0; i <= index; ++i) std::getline(row, field, ',');
    values.push_back(std::stod(field));
  }
  return values;
}

// The RMSE of predicting every value with their mean: their population standard deviation.
double MeanPredictorRmse(const std::vector<double>& values) {
  double mean = 0;
  for (double v : values) mean += v / values.size();
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / values.size());
}

class ExamplesTest : public ::testing::Test {
 protected:
  ExamplesTest() : uri_("sqlite:///" + (dir_ / "mlruns.db").string()) {
    fs::create_directories(dir_ / "tmp");
  }

  // mlt args... --tracking-uri <this test's store>, in the test's folder, with the built mlt
  // first in PATH (the projects' commands call `mlt`) and TMPDIR a folder of the test's own.
  ProcessResult Mlt(std::vector<std::string> args) {
    args.push_back("--tracking-uri");
    args.push_back(uri_);
    ProcessOptions options;
    options.cwd = dir_.path();
    std::string path = fs::path(MLT_BINARY).parent_path().string();
    if (const char* old = std::getenv("PATH")) path += std::string(":") + old;
    options.env = {{"PATH", path}, {"TMPDIR", (dir_ / "tmp").string()}};
    options.unset_env = {"MLT_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME", "MLT_EXPERIMENT_ID",
                         "MLFLOW_EXPERIMENT_ID"};
    return RunMlt(args, options);
  }
  ProcessResult Run(const std::string& example, std::vector<std::string> args) {
    args.insert(args.begin(), {"run", (kExamples / example).string()});
    return Mlt(std::move(args));
  }

  tracking::TrackingStore& Store() {
    if (!store_) store_ = tracking::OpenTrackingStore(uri_);
    return *store_;
  }
  // Every run of the experiment, oldest first; none when the experiment does not exist.
  std::vector<::mltrack::Run> Runs(const std::string& experiment) {
    std::string id;
    try {
      id = Store().GetExperimentByName(experiment).experiment_id;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kResourceDoesNotExist) throw;
      return {};
    }
    RunSearch search;
    search.experiment_ids = {id};
    search.view = ViewType::kAll;
    search.order_by = {"attributes.start_time"};
    return Store().SearchRuns(search).items;
  }
  size_t RunCount() {
    size_t count = 0;
    ExperimentSearch es;
    es.view = ViewType::kAll;
    for (const auto& e : Store().SearchExperiments(es).items) count += Runs(e.name).size();
    return count;
  }
  static std::map<std::string, double> Metrics(const ::mltrack::Run& run) {
    std::map<std::string, double> metrics;
    for (const auto& m : run.data.metrics) metrics[m.key] = m.value;
    return metrics;
  }
  static std::map<std::string, std::string> Params(const ::mltrack::Run& run) {
    std::map<std::string, std::string> params;
    for (const auto& p : run.data.params) params[p.key] = p.value;
    return params;
  }
  static std::map<std::string, std::string> Tags(const ::mltrack::Run& run) {
    std::map<std::string, std::string> tags;
    for (const auto& t : run.data.tags) tags[t.key] = t.value;
    return tags;
  }
  static fs::path ArtifactDir(const ::mltrack::Run& run) {
    std::string uri = run.info.artifact_uri;
    EXPECT_EQ(uri.rfind("file://", 0), 0u) << uri;
    return uri.substr(std::string("file://").size());
  }

  TempDir dir_;
  std::string uri_;
  std::shared_ptr<tracking::TrackingStore> store_;
};

double Finite(const std::map<std::string, double>& metrics, const std::string& key) {
  auto it = metrics.find(key);
  if (it == metrics.end()) {
    ADD_FAILURE() << "no metric " << key;
    return std::numeric_limits<double>::quiet_NaN();
  }
  EXPECT_TRUE(std::isfinite(it->second)) << key << " = " << it->second;
  return it->second;
}

TEST_F(ExamplesTest, RecommenderSweepBeatsTheMeanRatingAndItsBestModelRecommends) {
  fs::path ratings = dir_ / "ratings.csv";
  ProcessResult data = Run("recommender", {"-e", "data", "-P", "out=" + ratings.string(), "-P",
                                           "users=200", "-P", "items=100", "-P", "ratings=6000",
                                           "--experiment-name", "recommender"});
  ASSERT_EQ(data.exit_code, 0) << data.err;
  std::vector<double> values = Column(ratings, "rating");
  ASSERT_EQ(values.size(), 6000u);
  double baseline = MeanPredictorRmse(values);

  ProcessResult sweep =
      Run("recommender", {"-P", "ratings=" + ratings.string(), "-P", "rank=4,8", "-P",
                          "reg=0.05,0.1", "--sweep", "grid", "--max-parallel", "2", "--metric",
                          "test_rmse", "--experiment-name", "recommender"});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.out << sweep.err;
  EXPECT_THAT(sweep.out, HasSubstr("Best trial: "));

  // The data run, the sweep's parent and its 4 trials.
  std::vector<::mltrack::Run> runs = Runs("recommender");
  ASSERT_EQ(runs.size(), 6u);
  std::string parent_id;
  std::set<std::pair<std::string, std::string>> grid;
  std::string best_id;
  double best = std::numeric_limits<double>::infinity();
  for (const auto& run : runs) {
    EXPECT_EQ(run.info.status, RunStatus::kFinished) << run.info.run_id;
    auto tags = Tags(run);
    if (tags.count("mlt.sweep.bestRunId")) parent_id = run.info.run_id;
    if (!tags.count("mlflow.parentRunId")) continue;
    auto params = Params(run);
    grid.emplace(params["rank"], params["reg"]);
    EXPECT_EQ(params["cold_start"], "drop");
    double rmse = Finite(Metrics(run), "test_rmse");
    EXPECT_LT(rmse, 0.95 * baseline) << "rank " << params["rank"] << ", reg " << params["reg"];
    if (rmse < best) {
      best = rmse;
      best_id = run.info.run_id;
    }
    EXPECT_TRUE(fs::exists(ArtifactDir(run) / "model" / "MLmodel"));
  }
  EXPECT_EQ(grid, (std::set<std::pair<std::string, std::string>>{
                      {"4", "0.05"}, {"4", "0.1"}, {"8", "0.05"}, {"8", "0.1"}}));
  ASSERT_FALSE(parent_id.empty());
  EXPECT_EQ(Tags(Store().GetRun(parent_id))["mlt.sweep.bestRunId"], best_id);

  // The best model, registered, recommends 3 distinct items to a user of the file, best first.
  ProcessResult registered =
      Mlt({"models", "register", "runs:/" + best_id + "/model", "-n", "recs"});
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  EXPECT_THAT(registered.out, HasSubstr("as version 1 of model 'recs'"));
  int user = static_cast<int>(Column(ratings, "user").front());
  WriteFile(dir_ / "top.json", "{\"inputs\": {\"user\": [" + std::to_string(user) +
                                   "]}, \"params\": {\"k\": 3}}");
  ProcessResult top = Mlt({"models", "predict", "-m", "models:/recs/1", "-i",
                           (dir_ / "top.json").string()});
  ASSERT_EQ(top.exit_code, 0) << top.err;
  auto predictions = nlohmann::json::parse(top.out).at("predictions");
  ASSERT_EQ(predictions.size(), 3u) << top.out;
  std::set<int> items;
  for (size_t i = 0; i < predictions.size(); ++i) {
    EXPECT_EQ(predictions[i].at("user").get<int>(), user);
    EXPECT_EQ(predictions[i].at("rank").get<int>(), static_cast<int>(i + 1));
    items.insert(predictions[i].at("item").get<int>());
    if (i > 0) {
      EXPECT_GE(predictions[i - 1].at("score").get<double>(),
                predictions[i].at("score").get<double>());
    }
  }
  EXPECT_EQ(items.size(), 3u);
}

TEST_F(ExamplesTest, AirbnbPriceForestBeatsTheSpreadOfPrices) {
  fs::path data = kExamples / "airbnb-price" / "data" / "sf-airbnb-clean.csv";
  double spread = MeanPredictorRmse(Column(data, "price"));
  ProcessResult r = Run("airbnb-price", {"-P", "num_trees=10", "-P", "max_depth=6",
                                         "--experiment-name", "airbnb-price"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  std::vector<::mltrack::Run> runs = Runs("airbnb-price");
  ASSERT_EQ(runs.size(), 1u);
  const ::mltrack::Run& run = runs.front();
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
  auto metrics = Metrics(run);
  double rmse = Finite(metrics, "test_rmse");
  EXPECT_GT(rmse, 0);
  EXPECT_LT(rmse, spread);
  EXPECT_GT(Finite(metrics, "test_r2"), 0.1);
  // About 80% of the 7,146 listings train, the rest is held out.
  EXPECT_GT(Finite(metrics, "train_rows"), 0.75 * 7146);
  EXPECT_LT(metrics["train_rows"], 0.85 * 7146);
  auto params = Params(run);
  EXPECT_EQ(params["num_trees"], "10");
  EXPECT_EQ(params["max_depth"], "6");
  EXPECT_EQ(params["label"], "price");
  EXPECT_EQ(params["seed"], "42");
  EXPECT_EQ(params["split_seed"], "42");
  EXPECT_EQ(Tags(run)["mlt.input.data.path"], data.lexically_normal().string());
  EXPECT_TRUE(fs::exists(ArtifactDir(run) / "feature_importances.json"));
  EXPECT_TRUE(fs::exists(ArtifactDir(run) / "model" / "MLmodel"));

  // A seed other than the default reaches both the split and the trees.
  ProcessResult seeded = Run("airbnb-price", {"-P", "num_trees=5", "-P", "max_depth=4", "-P",
                                              "seed=7", "--experiment-name", "airbnb-price"});
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  auto seeded_params = Params(Runs("airbnb-price").back());
  EXPECT_EQ(seeded_params["seed"], "7");
  EXPECT_EQ(seeded_params["split_seed"], "7");
}

TEST_F(ExamplesTest, IncomeLogisticReachesTheKnownAccuracyAndCleansUp) {
  ProcessResult r = Run("income", {"--experiment-name", "income"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::vector<::mltrack::Run> runs = Runs("income");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].info.status, RunStatus::kFinished);
  auto metrics = Metrics(runs[0]);
  // Logistic regression is known to reach about 85% on UCI's test file.
  EXPECT_GT(Finite(metrics, "test_accuracy"), 0.84);
  EXPECT_GT(Finite(metrics, "test_roc_auc"), 0.88);
  EXPECT_EQ(metrics["train_rows"], 32561);
  EXPECT_EQ(Params(runs[0])["label"], "income");
  EXPECT_TRUE(fs::exists(ArtifactDir(runs[0]) / "model" / "MLmodel"));
  // The temporary work folder is gone.
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));

  // A workdir given is kept, with the files as the trainer read them.
  fs::path work = dir_ / "adult";
  ProcessResult kept = Run("income", {"-P", "workdir=" + work.string(), "-P", "max_iter=5",
                                      "--experiment-name", "income"});
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  std::string header =
      "age,workclass,fnlwgt,education,education-num,marital-status,occupation,relationship,"
      "race,sex,capital-gain,capital-loss,hours-per-week,native-country,income\n";
  for (const char* name : {"adult-train.csv", "adult-test.csv"}) {
    std::string text = ReadFile(work / name);
    EXPECT_EQ(text.substr(0, header.size()), header) << name;
    EXPECT_EQ(text.find(".\n"), std::string::npos) << name << " has a label ending in '.'";
    EXPECT_EQ(text.find("|1x3"), std::string::npos) << name << " has the comment line";
  }
  auto kept_run = Runs("income").back();
  EXPECT_EQ(kept_run.info.status, RunStatus::kFinished);
  EXPECT_EQ(Params(kept_run)["test_data"], (work / "adult-test.csv").string());
}

TEST_F(ExamplesTest, BadParametersAreRefusedBeforeAnyRun) {
  ProcessResult missing = Run("recommender", {});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err,
            "mlt: error: Missing values for required parameters of entry point 'main': "
            "'ratings'\n");
  ProcessResult no_file = Run("recommender", {"-P", "ratings=" + (dir_ / "none.csv").string()});
  EXPECT_EQ(no_file.exit_code, 1);
  EXPECT_THAT(no_file.err, HasSubstr("Parameter 'ratings' of entry point 'main' is a path that "
                                     "does not exist"));
  ProcessResult not_int = Run("airbnb-price", {"-P", "num_trees=many"});
  EXPECT_EQ(not_int.exit_code, 1);
  EXPECT_EQ(not_int.err,
            "mlt: error: Parameter 'num_trees' of entry point 'main' must be an int, got "
            "'many'\n");
  ProcessResult not_float = Run("income", {"-P", "reg=0.1x"});
  EXPECT_EQ(not_float.exit_code, 1);
  EXPECT_EQ(not_float.err,
            "mlt: error: Parameter 'reg' of entry point 'main' must be a float, got '0.1x'\n");
  ProcessResult no_workdir = Run("income", {"-e", "prepare"});
  EXPECT_EQ(no_workdir.exit_code, 1);
  EXPECT_EQ(no_workdir.err,
            "mlt: error: Missing values for required parameters of entry point 'prepare': "
            "'workdir'\n");
  EXPECT_EQ(RunCount(), 0u);
}

// The commands run in the project's folder: a relative output would land among its files.
TEST_F(ExamplesTest, RelativeOutputsAreRefusedRatherThanWrittenIntoTheProject) {
  ProcessResult out = Run("recommender", {"-e", "data", "-P", "out=ratings.csv"});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("data: out must be an absolute path, got ratings.csv\n"));
  EXPECT_FALSE(fs::exists(kExamples / "recommender" / "ratings.csv"));

  ProcessResult work = Run("income", {"-e", "prepare", "-P", "workdir=adult"});
  EXPECT_EQ(work.exit_code, 2);
  EXPECT_THAT(work.err, HasSubstr("prepare: workdir must be an absolute path, got 'adult'\n"));
  EXPECT_FALSE(fs::exists(kExamples / "income" / "adult"));

  for (const auto& run : Runs("Default")) EXPECT_EQ(run.info.status, RunStatus::kFailed);
  EXPECT_EQ(Runs("Default").size(), 2u);
}

// The project logs -P values as written; the trainer logs the same options in its own spelling.
// Numerically equal values are one parameter: the run keeps the user's spelling and succeeds.
TEST_F(ExamplesTest, ParameterSpellingsThatAreTheSameNumberDoNotClash) {
  fs::path ratings = dir_ / "ratings.csv";
  ASSERT_EQ(Run("recommender", {"-e", "data", "-P", "out=" + ratings.string(), "-P", "users=60",
                                "-P", "items=40", "-P", "ratings=1500"})
                .exit_code,
            0);
  ProcessResult trained = Run("recommender", {"-P", "ratings=" + ratings.string(), "-P",
                                              "reg=0.10", "-P", "rank=4", "-P", "max_iter=3"});
  ASSERT_EQ(trained.exit_code, 0) << trained.out << trained.err;
  ::mltrack::Run run = Runs("Default").back();
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
  EXPECT_EQ(Params(run).at("reg"), "0.10");
  EXPECT_EQ(Params(run).at("rank"), "4");
}

}  // namespace
}  // namespace mltrack
