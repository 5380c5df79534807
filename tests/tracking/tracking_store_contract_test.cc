// The TrackingStore contract: one suite, run against every implementation: the SQLite store, and
// the REST store talking to an in-process tracking server over a SQLite store.
#include <cmath>
#include <limits>
#include <set>
#include <thread>
#include <type_traits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "server/tracking_server.h"
#include "support/test_support.h"
#include "tracking/rest_tracking_store.h"
#include "tracking/sqlite_tracking_store.h"
#include "tracking/store_factory.h"

namespace mltrack::tracking {
namespace {

using ::mltrack::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::SizeIs;

struct SqliteFactory {
  static constexpr bool kOverRest = false;
  static std::shared_ptr<TrackingStore> Make(const TempDir& dir) {
    return std::make_shared<SqliteTrackingStore>((dir / "mlruns.db").string(),
                                                 "file://" + (dir / "artifacts").string());
  }
};

// A RestTrackingStore for a tracking server on an ephemeral loopback port, serving a SQLite store
// and the artifact proxy from `dir`. The returned pointer shares ownership of the server, which
// therefore lives exactly as long as the store (and stops before `dir` is removed).
struct RestFactory {
  static constexpr bool kOverRest = true;
  struct Served {
    explicit Served(const TempDir& dir)
        : server({.backend_store_uri = "sqlite:///" + (dir / "mlruns.db").string(),
                  .artifacts_destination = (dir / "artifacts").string(),
                  .port = 0,
                  .workers = 4}),
          port(server.Start()),
          store(server.url()) {}
    server::TrackingServer server;
    int port;
    RestTrackingStore store;
  };
  static std::shared_ptr<TrackingStore> Make(const TempDir& dir) {
    auto served = std::make_shared<Served>(dir);
    return std::shared_ptr<TrackingStore>(served, &served->store);
  }
};

template <class Factory>
class TrackingStoreContract : public ::testing::Test {
 protected:
  TrackingStoreContract() : store_(Factory::Make(dir_)) {
    exp_ = store_->CreateExperiment("contract", "", {});
  }
  TrackingStore& store() { return *store_; }
  mltrack::Run NewRun(const std::string& name = "") {
    RunCreate create;
    create.experiment_id = exp_;
    create.run_name = name;
    create.user_id = "ada";
    return store_->CreateRun(create);
  }
  // The one way the stores' refusals differ: MLflow's REST layer refuses an empty required string
  // field as missing before the store sees it (protobuf cannot tell "" from absent), so over
  // REST the message is the server's, naming the request field; otherwise it is the store's.
  std::string EmptyFieldMessage(std::string_view request_field, std::string store_message) {
    if (!Factory::kOverRest) return store_message;
    return fmt::format("Missing value for required parameter '{}'. See the API docs for more "
                       "information about request parameters.",
                       request_field);
  }
  std::vector<std::string> Names(const Page<mltrack::Run>& page) {
    std::vector<std::string> names;
    for (const auto& run : page.items) names.push_back(run.info.run_name);
    return names;
  }

  TempDir dir_;
  std::shared_ptr<TrackingStore> store_;
  std::string exp_;
};

using Factories = ::testing::Types<SqliteFactory, RestFactory>;
struct FactoryNames {
  template <class Factory>
  static std::string GetName(int) {
    return std::is_same_v<Factory, SqliteFactory> ? "Sqlite" : "Rest";
  }
};
TYPED_TEST_SUITE(TrackingStoreContract, Factories, FactoryNames);

double MetricValue(const mltrack::Run& run, const std::string& key) {
  for (const auto& m : run.data.metrics) {
    if (m.key == key) return m.value;
  }
  ADD_FAILURE() << "no metric " << key;
  return 0;
}

// --- experiments -------------------------------------------------------------------------------

TYPED_TEST(TrackingStoreContract, HasTheDefaultExperiment) {
  Experiment exp = this->store().GetExperiment("0");
  EXPECT_EQ(exp.name, "Default");
  EXPECT_EQ(exp.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_THAT(exp.artifact_location, HasSubstr("/0"));
  EXPECT_EQ(this->store().GetExperimentByName("Default").experiment_id, "0");
}

TYPED_TEST(TrackingStoreContract, CreatesAndGetsExperiments) {
  std::string id = this->store().CreateExperiment("recs", "", {{"team", "ml"}});
  Experiment exp = this->store().GetExperiment(id);
  EXPECT_EQ(exp.name, "recs");
  EXPECT_THAT(exp.artifact_location, HasSubstr("/" + id));
  EXPECT_GT(exp.creation_time, 0);
  ASSERT_THAT(exp.tags, SizeIs(1));
  EXPECT_EQ(exp.tags[0].key, "team");
  EXPECT_EQ(this->store().GetExperimentByName("recs").experiment_id, id);
  std::string custom = this->store().CreateExperiment("custom", "file:///data/x", {});
  EXPECT_EQ(this->store().GetExperiment(custom).artifact_location, "file:///data/x");
}

TYPED_TEST(TrackingStoreContract, RefusesDuplicateAndInvalidExperimentNames) {
  EXPECT_ERROR(this->store().CreateExperiment("contract", "", {}),
               ErrorCode::kResourceAlreadyExists, Eq("Experiment(name=contract) already exists."));
  EXPECT_ERROR(this->store().CreateExperiment("", "", {}), ErrorCode::kInvalidParameterValue,
               Eq(this->EmptyFieldMessage("name", "Invalid experiment name: ''")));
  EXPECT_ERROR(this->store().CreateExperiment(std::string(501, 'x'), "", {}),
               ErrorCode::kInvalidParameterValue,
               Eq("Experiment name exceeds the maximum length of 500 characters"));
}

TYPED_TEST(TrackingStoreContract, ReportsMissingExperiments) {
  EXPECT_ERROR(this->store().GetExperiment("999"), ErrorCode::kResourceDoesNotExist,
               Eq("No Experiment with id=999 exists"));
  EXPECT_ERROR(this->store().GetExperiment("abc"), ErrorCode::kResourceDoesNotExist,
               Eq("No Experiment with id=abc exists"));
  EXPECT_ERROR(this->store().GetExperimentByName("nope"), ErrorCode::kResourceDoesNotExist,
               Eq("Could not find experiment with name 'nope'"));
}

TYPED_TEST(TrackingStoreContract, RenamesExperiments) {
  std::string other = this->store().CreateExperiment("other", "", {});
  this->store().RenameExperiment(this->exp_, "renamed");
  EXPECT_EQ(this->store().GetExperiment(this->exp_).name, "renamed");
  EXPECT_ERROR(this->store().RenameExperiment(this->exp_, "other"),
               ErrorCode::kResourceAlreadyExists, Eq("Experiment(name=other) already exists."));
  this->store().DeleteExperiment(other);
  EXPECT_ERROR(this->store().RenameExperiment(other, "x"), ErrorCode::kInvalidState,
               Eq("Cannot rename a non-active experiment."));
}

TYPED_TEST(TrackingStoreContract, DeletesAndRestoresExperimentsWithTheirRuns) {
  mltrack::Run kept = this->NewRun("with-experiment");
  mltrack::Run alone = this->NewRun("deleted-alone");
  this->store().DeleteRun(alone.info.run_id);
  this->store().DeleteExperiment(this->exp_);
  EXPECT_EQ(this->store().GetExperiment(this->exp_).lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(this->store().GetRun(kept.info.run_id).info.lifecycle_stage,
            LifecycleStage::kDeleted);
  // The name is free again while the experiment is deleted.
  std::string reuse = this->store().CreateExperiment("contract", "", {});
  EXPECT_NE(reuse, this->exp_);
  EXPECT_EQ(this->store().GetExperimentByName("contract").experiment_id, reuse);
  EXPECT_ERROR(this->store().RestoreExperiment(this->exp_), ErrorCode::kResourceAlreadyExists,
               HasSubstr("the name 'contract' is now used by the active experiment"));
  this->store().RenameExperiment(reuse, "contract-2");
  this->store().RestoreExperiment(this->exp_);
  EXPECT_EQ(this->store().GetExperiment(this->exp_).lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(this->store().GetRun(kept.info.run_id).info.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(this->store().GetRun(alone.info.run_id).info.lifecycle_stage,
            LifecycleStage::kDeleted);
  EXPECT_ERROR(this->store().RestoreExperiment(this->exp_), ErrorCode::kInvalidState,
               HasSubstr("Cannot restore an active experiment"));
  EXPECT_ERROR(this->store().DeleteExperiment("0"), ErrorCode::kInvalidParameterValue,
               HasSubstr("Cannot delete the default experiment '0'"));
}

TYPED_TEST(TrackingStoreContract, RefusesRunsInDeletedExperiments) {
  this->store().DeleteExperiment(this->exp_);
  RunCreate create;
  create.experiment_id = this->exp_;
  EXPECT_ERROR(this->store().CreateRun(create), ErrorCode::kInvalidParameterValue,
               Eq("The experiment " + this->exp_ +
                  " must be in the 'active' state. Current state is deleted."));
}

TYPED_TEST(TrackingStoreContract, SetsAndDeletesExperimentTags) {
  this->store().SetExperimentTag(this->exp_, {"owner", "ada"});
  this->store().SetExperimentTag(this->exp_, {"owner", "grace"});
  auto tags = this->store().GetExperiment(this->exp_).tags;
  ASSERT_THAT(tags, SizeIs(1));
  EXPECT_EQ(tags[0].value, "grace");
  this->store().DeleteExperimentTag(this->exp_, "owner");
  EXPECT_THAT(this->store().GetExperiment(this->exp_).tags, SizeIs(0));
  EXPECT_ERROR(this->store().DeleteExperimentTag(this->exp_, "owner"),
               ErrorCode::kResourceDoesNotExist,
               Eq("No tag with name: owner in experiment with id " + this->exp_));
}

TYPED_TEST(TrackingStoreContract, SearchesExperiments) {
  this->store().CreateExperiment("recs-als", "", {{"kind", "recs"}});
  this->store().CreateExperiment("recs-knn", "", {{"kind", "recs"}});
  std::string gone = this->store().CreateExperiment("recs-old", "", {});
  this->store().DeleteExperiment(gone);
  ExperimentSearch search;
  search.filter = "name LIKE 'recs-%'";
  search.order_by = {"name ASC"};
  auto page = this->store().SearchExperiments(search);
  ASSERT_THAT(page.items, SizeIs(2));
  EXPECT_EQ(page.items[0].name, "recs-als");
  EXPECT_EQ(page.items[1].name, "recs-knn");
  search.view = ViewType::kAll;
  EXPECT_THAT(this->store().SearchExperiments(search).items, SizeIs(3));
  search.view = ViewType::kDeletedOnly;
  EXPECT_THAT(this->store().SearchExperiments(search).items, SizeIs(1));
  ExperimentSearch by_tag;
  by_tag.filter = "tags.kind = 'recs'";
  EXPECT_THAT(this->store().SearchExperiments(by_tag).items, SizeIs(2));
  // Pages: 4 active experiments (Default, contract, recs-als, recs-knn), 3 then 1.
  ExperimentSearch paged;
  paged.max_results = 3;
  auto first = this->store().SearchExperiments(paged);
  ASSERT_THAT(first.items, SizeIs(3));
  ASSERT_FALSE(first.next_page_token.empty());
  paged.page_token = first.next_page_token;
  auto second = this->store().SearchExperiments(paged);
  EXPECT_THAT(second.items, SizeIs(1));
  EXPECT_TRUE(second.next_page_token.empty());
}

// --- runs --------------------------------------------------------------------------------------

TYPED_TEST(TrackingStoreContract, CreatesRunsWithMlflowDefaults) {
  mltrack::Run run = this->NewRun("first");
  EXPECT_EQ(run.info.run_id.size(), 32u);
  EXPECT_EQ(run.info.experiment_id, this->exp_);
  EXPECT_EQ(run.info.run_name, "first");
  EXPECT_EQ(run.info.user_id, "ada");
  EXPECT_EQ(run.info.status, RunStatus::kRunning);
  EXPECT_GT(run.info.start_time, 0);
  EXPECT_FALSE(run.info.end_time.has_value());
  EXPECT_EQ(run.info.artifact_uri,
            this->store().GetExperiment(this->exp_).artifact_location + "/" + run.info.run_id +
                "/artifacts");
  ASSERT_THAT(run.data.tags, SizeIs(1));
  EXPECT_EQ(run.data.tags[0].key, "mlflow.runName");
  EXPECT_EQ(run.data.tags[0].value, "first");
  EXPECT_FALSE(this->NewRun().info.run_name.empty());  // a generated name
}

TYPED_TEST(TrackingStoreContract, TakesTheRunNameFromTheTag) {
  RunCreate create;
  create.experiment_id = this->exp_;
  create.tags = {{"mlflow.runName", "from-tag"}};
  EXPECT_EQ(this->store().CreateRun(create).info.run_name, "from-tag");
  create.run_name = "other";
  EXPECT_ERROR(this->store().CreateRun(create), ErrorCode::kInvalidParameterValue,
               HasSubstr("Both 'run_name' argument and 'mlflow.runName' tag are specified"));
}

TYPED_TEST(TrackingStoreContract, UpdatesRuns) {
  mltrack::Run run = this->NewRun("before");
  RunUpdate update;
  update.status = RunStatus::kFinished;
  update.end_time = run.info.start_time + 1000;
  update.run_name = "after";
  RunInfo info = this->store().UpdateRun(run.info.run_id, update);
  EXPECT_EQ(info.status, RunStatus::kFinished);
  EXPECT_EQ(info.end_time, run.info.start_time + 1000);
  EXPECT_EQ(info.run_name, "after");
  mltrack::Run again = this->store().GetRun(run.info.run_id);
  EXPECT_EQ(again.data.tags[0].value, "after");
}

TYPED_TEST(TrackingStoreContract, ReportsMissingRuns) {
  EXPECT_ERROR(this->store().GetRun("0123456789abcdef0123456789abcdef"),
               ErrorCode::kResourceDoesNotExist,
               Eq("Run with id=0123456789abcdef0123456789abcdef not found"));
  EXPECT_ERROR(this->store().LogMetric("nope", {"m", 1, 1, 0}), ErrorCode::kResourceDoesNotExist,
               Eq("Run with id=nope not found"));
}

TYPED_TEST(TrackingStoreContract, DeletesAndRestoresRuns) {
  mltrack::Run run = this->NewRun();
  this->store().DeleteRun(run.info.run_id);
  EXPECT_EQ(this->store().GetRun(run.info.run_id).info.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_ERROR(this->store().LogParam(run.info.run_id, {"a", "1"}),
               ErrorCode::kInvalidParameterValue,
               Eq("The run " + run.info.run_id +
                  " must be in the 'active' state. Current state is deleted."));
  this->store().RestoreRun(run.info.run_id);
  this->store().LogParam(run.info.run_id, {"a", "1"});
  EXPECT_THAT(this->store().GetRun(run.info.run_id).data.params, SizeIs(1));
}

// --- params, tags, metrics ---------------------------------------------------------------------

TYPED_TEST(TrackingStoreContract, RejectsChangingAParam) {
  mltrack::Run run = this->NewRun();
  this->store().LogParam(run.info.run_id, {"lr", "0.1"});
  this->store().LogParam(run.info.run_id, {"lr", "0.1"});  // the same value again is fine
  EXPECT_ERROR(this->store().LogParam(run.info.run_id, {"lr", "0.2"}),
               ErrorCode::kInvalidParameterValue,
               Eq("Changing param values is not allowed. Param with key='lr' was already logged "
                  "with value='0.1' for run ID='" +
                  run.info.run_id + "'. Attempted logging new value '0.2'."));
  auto params = this->store().GetRun(run.info.run_id).data.params;
  ASSERT_THAT(params, SizeIs(1));
  EXPECT_EQ(params[0].value, "0.1");
}

TYPED_TEST(TrackingStoreContract, SetsAndDeletesTags) {
  mltrack::Run run = this->NewRun("tagged");
  this->store().SetTag(run.info.run_id, {"stage", "dev"});
  this->store().SetTag(run.info.run_id, {"stage", "prod"});
  this->store().DeleteTag(run.info.run_id, "mlflow.runName");
  auto tags = this->store().GetRun(run.info.run_id).data.tags;
  ASSERT_THAT(tags, SizeIs(1));
  EXPECT_EQ(tags[0].value, "prod");
  EXPECT_ERROR(this->store().DeleteTag(run.info.run_id, "missing"),
               ErrorCode::kResourceDoesNotExist,
               Eq("No tag with name: missing in run with id " + run.info.run_id));
  // Setting mlflow.runName renames the run, as in MLflow.
  this->store().SetTag(run.info.run_id, {"mlflow.runName", "renamed"});
  EXPECT_EQ(this->store().GetRun(run.info.run_id).info.run_name, "renamed");
}

TYPED_TEST(TrackingStoreContract, KeepsTheLatestMetricByStepTimestampAndValue) {
  mltrack::Run run = this->NewRun();
  const auto& id = run.info.run_id;
  this->store().LogMetric(id, {"loss", 0.5, 100, 2});
  this->store().LogMetric(id, {"loss", 0.9, 200, 1});  // later timestamp, earlier step
  EXPECT_EQ(MetricValue(this->store().GetRun(id), "loss"), 0.5);
  this->store().LogMetric(id, {"loss", 0.4, 100, 2});  // same step and time: larger value wins
  EXPECT_EQ(MetricValue(this->store().GetRun(id), "loss"), 0.5);
  this->store().LogMetric(id, {"loss", 0.7, 100, 2});
  EXPECT_EQ(MetricValue(this->store().GetRun(id), "loss"), 0.7);
  this->store().LogBatch(id, {{"loss", 0.3, 50, 3}, {"loss", 0.2, 40, 3}}, {}, {});
  EXPECT_EQ(MetricValue(this->store().GetRun(id), "loss"), 0.3);
}

TYPED_TEST(TrackingStoreContract, StoresNanAndInfinities) {
  mltrack::Run run = this->NewRun();
  const auto& id = run.info.run_id;
  const double inf = std::numeric_limits<double>::infinity();
  this->store().LogBatch(id,
                         {{"nan", std::nan(""), 1, 0}, {"pinf", inf, 1, 0}, {"ninf", -inf, 1, 0}},
                         {}, {});
  mltrack::Run got = this->store().GetRun(id);
  EXPECT_TRUE(std::isnan(MetricValue(got, "nan")));
  EXPECT_EQ(MetricValue(got, "pinf"), inf);
  EXPECT_EQ(MetricValue(got, "ninf"), -inf);
  // A number at the same step and time beats NaN.
  this->store().LogMetric(id, {"nan", -5, 1, 0});
  EXPECT_EQ(MetricValue(this->store().GetRun(id), "nan"), -5);
  auto history = this->store().GetMetricHistory(id, "nan", 0, "");
  ASSERT_THAT(history.items, SizeIs(2));
  EXPECT_TRUE(std::isnan(history.items[0].value) || std::isnan(history.items[1].value));
}

TYPED_TEST(TrackingStoreContract, StoresAnExactDuplicateMetricOnce) {
  mltrack::Run run = this->NewRun();
  this->store().LogMetric(run.info.run_id, {"m", 1.5, 7, 3});
  this->store().LogBatch(run.info.run_id, {{"m", 1.5, 7, 3}, {"m", 2.5, 7, 3}}, {}, {});
  auto history = this->store().GetMetricHistory(run.info.run_id, "m", 0, "");
  ASSERT_THAT(history.items, SizeIs(2));  // (7, 3, 1.5) once, as MLflow's primary key keeps it
  EXPECT_EQ(history.items[0].value, 1.5);
  EXPECT_EQ(history.items[1].value, 2.5);
}

TYPED_TEST(TrackingStoreContract, PagesMetricHistoryInStepOrder) {
  mltrack::Run run = this->NewRun();
  std::vector<Metric> batch;
  for (int step = 999; step >= 0; --step) batch.push_back({"acc", step / 1000.0, 10, step});
  this->store().LogBatch(run.info.run_id, batch, {}, {});
  std::vector<int64_t> steps;
  std::string token;
  int pages = 0;
  do {
    auto page = this->store().GetMetricHistory(run.info.run_id, "acc", 300, token);
    for (const auto& m : page.items) steps.push_back(m.step);
    token = page.next_page_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 4);
  ASSERT_THAT(steps, SizeIs(1000));
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(steps[i], i);
  EXPECT_THAT(this->store().GetMetricHistory(run.info.run_id, "missing", 0, "").items, SizeIs(0));
  EXPECT_ERROR(this->store().GetMetricHistory(run.info.run_id, "acc", 0, "garbage!"),
               ErrorCode::kInvalidParameterValue, HasSubstr("Invalid page token"));
}

TYPED_TEST(TrackingStoreContract, WritesABatchAllOrNothing) {
  mltrack::Run run = this->NewRun();
  const auto& id = run.info.run_id;
  this->store().LogParam(id, {"lr", "0.1"});
  EXPECT_ERROR(this->store().LogBatch(id, {{"m", 1, 1, 0}}, {{"lr", "0.5"}}, {{"t", "v"}}),
               ErrorCode::kInvalidParameterValue, HasSubstr("Changing param values"));
  mltrack::Run got = this->store().GetRun(id);
  EXPECT_THAT(got.data.metrics, SizeIs(0));
  EXPECT_THAT(got.data.tags, SizeIs(1));  // only mlflow.runName
  EXPECT_THAT(this->store().GetMetricHistory(id, "m", 0, "").items, SizeIs(0));
}

TYPED_TEST(TrackingStoreContract, EnforcesMlflowBatchLimits) {
  mltrack::Run run = this->NewRun();
  const auto& id = run.info.run_id;
  std::vector<Metric> metrics(1001, Metric{"m", 1, 1, 0});
  EXPECT_ERROR(this->store().LogBatch(id, metrics, {}, {}), ErrorCode::kInvalidParameterValue,
               Eq("A batch logging request can contain at most 1000 metrics. Got 1001 metrics. "
                  "Please split up metrics across multiple requests and try again."));
  std::vector<Param> params;
  for (int i = 0; i < 101; ++i) params.push_back({"p" + std::to_string(i), "v"});
  EXPECT_ERROR(this->store().LogBatch(id, {}, params, {}), ErrorCode::kInvalidParameterValue,
               HasSubstr("at most 100 params. Got 101 params."));
  std::vector<Tag> tags(101, Tag{"t", "v"});
  EXPECT_ERROR(this->store().LogBatch(id, {}, {}, tags), ErrorCode::kInvalidParameterValue,
               HasSubstr("at most 100 tags. Got 101 tags."));
  std::vector<Metric> many(950, Metric{"m", 1, 1, 0});
  std::vector<Param> fifty(params.begin(), params.begin() + 51);
  EXPECT_ERROR(this->store().LogBatch(id, many, fifty, {}), ErrorCode::kInvalidParameterValue,
               HasSubstr("at most 1000 metrics, params, and tags. Got 1001"));
  EXPECT_ERROR(this->store().LogBatch(id, {}, {{"a", "1"}, {"a", "1"}}, {}),
               ErrorCode::kInvalidParameterValue,
               Eq("Duplicate parameter keys have been submitted: ['a']. Please ensure the request "
                  "contains only one param value per param key."));
}

TYPED_TEST(TrackingStoreContract, ValidatesKeysAndValues) {
  mltrack::Run run = this->NewRun();
  const auto& id = run.info.run_id;
  EXPECT_ERROR(this->store().LogMetric(id, {"bad*name", 1, 1, 0}),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid metric name: 'bad*name'. Names may only contain alphanumerics, "
                  "underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/)."));
  EXPECT_ERROR(this->store().LogParam(id, {"../up", "1"}), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid parameter name: '../up'. Names may be treated as files"));
  EXPECT_ERROR(this->store().LogMetric(id, {"", 1, 1, 0}), ErrorCode::kInvalidParameterValue,
               Eq(this->EmptyFieldMessage("metrics[0].key",
                                          "Invalid metric name: ''. A key name must be provided.")));
  EXPECT_ERROR(this->store().LogMetric(id, {std::string(251, 'k'), 1, 1, 0}),
               ErrorCode::kInvalidParameterValue,
               HasSubstr("had length 251, which exceeded length limit of 250"));
  EXPECT_ERROR(this->store().LogParam(id, {"p", std::string(6001, 'v')}),
               ErrorCode::kInvalidParameterValue,
               HasSubstr("had length 6001, which exceeded length limit of 6000"));
  EXPECT_ERROR(this->store().SetTag(id, {"t", std::string(8001, 'v')}),
               ErrorCode::kInvalidParameterValue,
               HasSubstr("had length 8001, which exceeded length limit of 8000"));
  EXPECT_ERROR(this->store().LogMetric(id, {"m", 1, -1, 0}), ErrorCode::kInvalidParameterValue,
               HasSubstr("Got invalid timestamp -1 for metric 'm'"));
  // At the limits exactly: accepted.
  this->store().LogParam(id, {std::string(250, 'k'), std::string(6000, 'v')});
  this->store().SetTag(id, {"t", std::string(8000, 'v')});
  EXPECT_THAT(this->store().GetRun(id).data.params, SizeIs(1));
}

// --- search ------------------------------------------------------------------------------------

TYPED_TEST(TrackingStoreContract, LogsModelsToTheHistoryTagConcurrently) {
  auto run = this->NewRun();
  const std::string id = run.info.run_id;
  auto model_json = [&](int i) {
    return nlohmann::json{{"run_id", id},
                          {"artifact_path", fmt::format("m{}", i)},
                          {"utc_time_created", "2026-11-22 05:21:19.123456"},
                          {"flavors", {{"mltrack.logistic_regression", {{"config", 1}, {"v", 1}}}}}}
        .dump();
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { this->store().LogModel(id, model_json(i)); });
  }
  for (auto& t : threads) t.join();
  std::string history;
  for (const auto& tag : this->store().GetRun(id).data.tags) {
    if (tag.key == "mlflow.log-model.history") history = tag.value;
  }
  auto list = nlohmann::json::parse(history);
  ASSERT_EQ(list.size(), 8u);
  std::set<std::string> paths;
  for (const auto& entry : list) {
    paths.insert(entry["artifact_path"].get<std::string>());
    EXPECT_EQ(entry["flavors"], nlohmann::json::parse(R"({"mltrack.logistic_regression":{"v":1}})"));
  }
  EXPECT_EQ(paths.size(), 8u);
}

TYPED_TEST(TrackingStoreContract, RefusesMalformedLoggedModels) {
  auto run = this->NewRun();
  const std::string id = run.info.run_id;
  EXPECT_ERROR(this->store().LogModel(id, "{not json"), ErrorCode::kInvalidParameterValue,
               HasSubstr("is not a valid JSON"));
  EXPECT_ERROR(this->store().LogModel(id, "[1]"), ErrorCode::kInvalidParameterValue,
               HasSubstr("is not a JSON object"));
  EXPECT_ERROR(this->store().LogModel(id, R"({"artifact_path": "m", "utc_time_created": "t"})"),
               ErrorCode::kInvalidParameterValue,
               HasSubstr("Model json is missing mandatory fields: {'flavors', 'run_id'}"));
  EXPECT_ERROR(this->store().LogModel("0123456789abcdef0123456789abcdef",
                                      R"({"artifact_path": "m", "utc_time_created": "t",
                                          "run_id": "x", "flavors": {}})"),
               ErrorCode::kResourceDoesNotExist, HasSubstr("0123456789abcdef0123456789abcdef"));
  for (const auto& tag : this->store().GetRun(id).data.tags) {
    EXPECT_NE(tag.key, "mlflow.log-model.history") << "a refused model left a history tag";
  }
}

TYPED_TEST(TrackingStoreContract, SearchesRunsWithFilterOrderAndPages) {
  for (int i = 0; i < 5; ++i) {
    mltrack::Run run = this->NewRun("run-" + std::to_string(i));
    this->store().LogBatch(run.info.run_id, {{"rmse", 1.0 - i * 0.1, 0, 0}},
                           {{"model", i % 2 ? "tree" : "linear"}}, {});
  }
  mltrack::Run bare = this->NewRun("no-metrics");
  RunSearch search;
  search.experiment_ids = {this->exp_};
  search.filter = "params.model = 'tree' OR metrics.rmse >= 0.95";
  search.order_by = {"metrics.rmse DESC"};
  EXPECT_THAT(this->Names(this->store().SearchRuns(search)),
              ElementsAre("run-0", "run-1", "run-3"));
  search.filter = "";
  search.order_by = {"metrics.rmse ASC"};
  search.max_results = 4;
  auto first = this->store().SearchRuns(search);
  EXPECT_THAT(this->Names(first), ElementsAre("run-4", "run-3", "run-2", "run-1"));
  search.page_token = first.next_page_token;
  // Runs without the metric come last, in both directions.
  EXPECT_THAT(this->Names(this->store().SearchRuns(search)), ElementsAre("run-0", "no-metrics"));
  search.page_token.clear();
  search.max_results = 1000;
  search.filter = "metrics.rmse IS NULL";
  EXPECT_THAT(this->Names(this->store().SearchRuns(search)), ElementsAre("no-metrics"));
  this->store().DeleteRun(bare.info.run_id);
  EXPECT_THAT(this->store().SearchRuns(search).items, SizeIs(0));
  search.view = ViewType::kDeletedOnly;
  EXPECT_THAT(this->Names(this->store().SearchRuns(search)), ElementsAre("no-metrics"));
  search.view = ViewType::kAll;
  search.filter = "";
  EXPECT_THAT(this->store().SearchRuns(search).items, SizeIs(6));
}

TYPED_TEST(TrackingStoreContract, RefusesBadSearchArguments) {
  RunSearch search;
  search.experiment_ids = {this->exp_};
  search.max_results = 50001;
  EXPECT_ERROR(this->store().SearchRuns(search), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value 50001 for parameter 'max_results' supplied. It must be between "
                  "1 and 50000"));
  search.max_results = 10;
  search.filter = "metrics.rmse <";
  EXPECT_ERROR(this->store().SearchRuns(search), ErrorCode::kInvalidParameterValue,
               HasSubstr("metrics.rmse <"));
  search.filter = "";
  search.page_token = "not-a-token";
  EXPECT_ERROR(this->store().SearchRuns(search), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid page token"));
}

}  // namespace
}  // namespace mltrack::tracking
