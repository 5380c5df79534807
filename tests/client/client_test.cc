#include "mltrack/client.h"

#include <cmath>
#include <thread>

#include "support/test_support.h"
#include "tracking/store_factory.h"

namespace mltrack {
namespace {

using ::mltrack::testing::ProcessResult;
using ::mltrack::testing::RunProcess;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::string UriFor(const TempDir& dir) { return "sqlite:///" + (dir / "mlruns.db").string(); }

std::string ParamValue(const Run& run, const std::string& key) {
  for (const auto& p : run.data.params) {
    if (p.key == key) return p.value;
  }
  return "<missing>";
}

std::string TagValue(const Run& run, const std::string& key) {
  for (const auto& t : run.data.tags) {
    if (t.key == key) return t.value;
  }
  return "<missing>";
}

TEST(Client, LogsParamsMetricsAndTagsAndEndsFinished) {
  TempDir dir;
  Client client({.tracking_uri = UriFor(dir)});
  std::string run_id;
  {
    auto run = client.StartRun({.experiment = "recs", .run_name = "rank-20"});
    run_id = run.run_id();
    run.LogParam("rank", 20);
    run.LogParam("reg", 0.1);
    run.LogParam("implicit", false);
    run.LogParam("model", "als");
    run.LogMetric("rmse", 0.81, 3);
    run.LogMetrics({{"mae", 0.6}, {"rmse", 0.79}}, 4);
    run.SetTag("stage", "dev");
  }
  mltrack::Run run = client.GetRun(run_id);
  EXPECT_EQ(run.info.run_name, "rank-20");
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
  EXPECT_TRUE(run.info.end_time.has_value());
  EXPECT_EQ(ParamValue(run, "rank"), "20");
  EXPECT_EQ(ParamValue(run, "reg"), "0.1");
  EXPECT_EQ(ParamValue(run, "implicit"), "false");
  EXPECT_EQ(ParamValue(run, "model"), "als");
  EXPECT_EQ(TagValue(run, "stage"), "dev");
  EXPECT_NE(TagValue(run, "mlflow.user"), "<missing>");
  EXPECT_EQ(TagValue(run, "mlflow.source.type"), "LOCAL");
  EXPECT_THAT(client.GetMetricHistory(run_id, "rmse"), SizeIs(2));
  EXPECT_EQ(client.GetExperimentByName("recs").experiment_id, run.info.experiment_id);
}

TEST(Client, ValidatesMetricKeysAtOnce) {
  TempDir dir;
  Client client({.tracking_uri = UriFor(dir)});
  auto run = client.StartRun();
  EXPECT_ERROR(run.LogMetric("bad*key", 1), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid metric name: 'bad*key'"));
  run.LogParam("p", 1);
  EXPECT_ERROR(run.LogParam("p", 2), ErrorCode::kInvalidParameterValue,
               HasSubstr("Changing param values is not allowed"));
}

TEST(Client, BoundedQueueLosesNothing) {
  TempDir dir;
  Client client({.tracking_uri = UriFor(dir), .max_queued_metrics = 10});
  auto run = client.StartRun();
  for (int i = 0; i < 5000; ++i) run.LogMetric("x", i, i);
  run.Flush();
  auto history = client.GetMetricHistory(run.run_id(), "x");
  ASSERT_THAT(history, SizeIs(5000));
  EXPECT_EQ(history.back().step, 4999);
}

TEST(Client, EndIsIdempotentAndFinal) {
  TempDir dir;
  Client client({.tracking_uri = UriFor(dir)});
  auto run = client.StartRun();
  run.LogMetric("m", 1);
  run.End(RunStatus::kKilled);
  run.End(RunStatus::kFinished);
  EXPECT_EQ(client.GetRun(run.run_id()).info.status, RunStatus::kKilled);
  EXPECT_ERROR(run.LogMetric("m", 2), ErrorCode::kInvalidState, HasSubstr("has ended"));
  EXPECT_THAT(client.GetMetricHistory(run.run_id(), "m"), SizeIs(1));
}

TEST(Client, ReportsMetricsItCouldNotStore) {
  TempDir dir;
  Client client({.tracking_uri = UriFor(dir)});
  auto other = tracking::OpenTrackingStore(UriFor(dir));
  auto run = client.StartRun();
  other->DeleteRun(run.run_id());
  run.LogMetric("m", 1);
  run.LogMetric("m", 2);
  EXPECT_ERROR(run.Flush(), ErrorCode::kInvalidParameterValue,
               HasSubstr("2 metric(s) of run " + run.run_id() + " were not stored"));
  other->RestoreRun(run.run_id());
}

TEST(Client, ARunThatLostMetricsEndsFailed) {
  TempDir dir;
  Client client({.tracking_uri = UriFor(dir)});
  auto other = tracking::OpenTrackingStore(UriFor(dir));
  auto run = client.StartRun();
  other->DeleteRun(run.run_id());
  run.LogMetric("m", 1);
  EXPECT_ERROR(run.Flush(), ErrorCode::kInvalidParameterValue,
               HasSubstr("1 metric(s) of run " + run.run_id() + " were not stored"));
  other->RestoreRun(run.run_id());
  EXPECT_ERROR(run.End(), ErrorCode::kInvalidParameterValue, HasSubstr("were not stored"));
  EXPECT_EQ(client.GetRun(run.run_id()).info.status, RunStatus::kFailed);
}

TEST(Client, ResumesTheRunNamedByTheEnvironment) {
  TempDir dir;
  Client client({.tracking_uri = UriFor(dir)});
  std::string run_id;
  {
    auto run = client.StartRun({.run_name = "parent"});
    run_id = run.run_id();
  }
  ASSERT_EQ(setenv("MLT_RUN_ID", run_id.c_str(), 1), 0);
  {
    auto resumed = client.StartRun();
    EXPECT_EQ(resumed.run_id(), run_id);
    EXPECT_EQ(client.GetRun(run_id).info.status, RunStatus::kRunning);
    resumed.LogParam("joined", "yes");
  }
  unsetenv("MLT_RUN_ID");
  mltrack::Run run = client.GetRun(run_id);
  EXPECT_EQ(ParamValue(run, "joined"), "yes");
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
}

TEST(Client, TakesTheExperimentFromTheEnvironment) {
  TempDir dir;
  Client client({.tracking_uri = UriFor(dir)});
  ASSERT_EQ(setenv("MLFLOW_EXPERIMENT_NAME", "from-env", 1), 0);
  std::string in_named = client.StartRun().experiment_id();
  unsetenv("MLFLOW_EXPERIMENT_NAME");
  EXPECT_EQ(in_named, client.GetExperimentByName("from-env").experiment_id);
  ASSERT_EQ(setenv("MLT_EXPERIMENT_ID", in_named.c_str(), 1), 0);
  std::string by_id = client.StartRun().experiment_id();
  unsetenv("MLT_EXPERIMENT_ID");
  EXPECT_EQ(by_id, in_named);
  EXPECT_EQ(client.StartRun().experiment_id(), "0");
  EXPECT_EQ(client.StartRun({.experiment_id = in_named}).experiment_id(), in_named);
}

TEST(Client, LogsArtifacts) {
  TempDir dir;
  Client client({.tracking_uri = UriFor(dir)});
  WriteFile(dir / "in/loss.csv", "step,loss\n0,1.0\n");
  WriteFile(dir / "in/plots/a.txt", "a");
  auto run = client.StartRun();
  run.LogArtifact(dir / "in/loss.csv", "tables");
  run.LogArtifacts(dir / "in/plots", "plots");
  std::string root = run.artifact_uri().substr(std::string("file://").size());
  EXPECT_EQ(testing::ReadFile(std::filesystem::path(root) / "tables/loss.csv"),
            "step,loss\n0,1.0\n");
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(root) / "plots/a.txt"));
}

TEST(Client, FormatsParamValuesToRoundTrip) {
  EXPECT_EQ(FormatParamValue(0.1), "0.1");
  EXPECT_EQ(FormatParamValue(1e-7), "1e-07");
  EXPECT_EQ(std::stod(FormatParamValue(1.0 / 3)), 1.0 / 3);
}

// A real child process: metrics logged from two threads are all in the store once it exits.
TEST(ClientProcess, EveryMetricIsStoredWhenTheProcessEnds) {
  TempDir dir;
  ProcessResult result = RunProcess({CLIENT_CHILD_BINARY, "two-threads", UriFor(dir), "3000"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::string run_id = result.out.substr(0, result.out.find('\n'));
  Client client({.tracking_uri = UriFor(dir)});
  mltrack::Run run = client.GetRun(run_id);
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
  EXPECT_THAT(client.GetMetricHistory(run_id, "a"), SizeIs(3000));
  EXPECT_THAT(client.GetMetricHistory(run_id, "b"), SizeIs(3000));
  EXPECT_EQ(ParamValue(run, "n"), "3000");
}

TEST(ClientProcess, AnExceptionMarksTheRunFailed) {
  TempDir dir;
  ProcessResult result = RunProcess({CLIENT_CHILD_BINARY, "throw", UriFor(dir)});
  ASSERT_EQ(result.exit_code, 3) << result.err;
  EXPECT_THAT(result.err, HasSubstr("caught: training diverged"));
  std::string run_id = result.out.substr(0, result.out.find('\n'));
  Client client({.tracking_uri = UriFor(dir)});
  mltrack::Run run = client.GetRun(run_id);
  EXPECT_EQ(run.info.status, RunStatus::kFailed);
  EXPECT_THAT(client.GetMetricHistory(run_id, "before"), SizeIs(1));
}

}  // namespace
}  // namespace mltrack
