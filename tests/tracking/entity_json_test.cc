#include "tracking/entity_json.h"

#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace mltrack::tracking {
namespace {

using nlohmann::json;
using ::testing::Eq;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Run SampleRun() {
  Run run;
  run.info.run_id = "0123456789abcdef0123456789abcdef";
  run.info.experiment_id = "3";
  run.info.run_name = "rank-20";
  run.info.user_id = "ana";
  run.info.status = RunStatus::kFinished;
  run.info.start_time = 1700000000000;
  run.info.end_time = 1700000012345;
  run.info.artifact_uri = "/data/mlartifacts/3/0123456789abcdef0123456789abcdef/artifacts";
  run.info.lifecycle_stage = LifecycleStage::kActive;
  run.data.metrics = {{"rmse", 0.81, 1700000001000, 3},
                      {"diverged", kNaN, 1700000002000, 0},
                      {"best", kInf, 1700000003000, 1},
                      {"worst", -kInf, 1700000004000, 2}};
  run.data.params = {{"rank", "20"}};
  run.data.tags = {{"mlflow.runName", "rank-20"}};
  return run;
}

TEST(EntityJson, ExperimentHasMlflowShape) {
  Experiment e;
  e.experiment_id = "7";
  e.name = "recs";
  e.artifact_location = "file:///data/mlartifacts/7";
  e.lifecycle_stage = LifecycleStage::kDeleted;
  e.creation_time = 1700000000000;
  e.last_update_time = 1700000005000;
  e.tags = {{"team", "search"}};
  EXPECT_EQ(ToJson(e).dump(),
            R"({"artifact_location":"file:///data/mlartifacts/7","creation_time":1700000000000,)"
            R"("experiment_id":"7","last_update_time":1700000005000,"lifecycle_stage":"deleted",)"
            R"("name":"recs","tags":[{"key":"team","value":"search"}]})");
}

TEST(EntityJson, UnsetAndEmptyRepeatedFieldsAreLeftOutAsMlflowDoes) {
  Experiment e;
  e.experiment_id = "0";
  e.name = "Default";
  EXPECT_EQ(ToJson(e).dump(),
            R"({"artifact_location":"","experiment_id":"0","lifecycle_stage":"active",)"
            R"("name":"Default"})");
  EXPECT_EQ(ToJson(RunData{}).dump(), "{}");
  RunInfo info;
  info.run_id = "ab";
  info.experiment_id = "0";
  EXPECT_EQ(ToJson(info).dump(),
            R"({"experiment_id":"0","lifecycle_stage":"active","run_id":"ab","run_name":"",)"
            R"("run_uuid":"ab","start_time":0,"status":"RUNNING","user_id":""})");
}

TEST(EntityJson, RunHasMlflowShapeWithSpecialDoublesAsStrings) {
  EXPECT_EQ(
      ToJson(SampleRun()).dump(),
      R"({"data":{"metrics":[{"key":"rmse","step":3,"timestamp":1700000001000,"value":0.81},)"
      R"({"key":"diverged","step":0,"timestamp":1700000002000,"value":"NaN"},)"
      R"({"key":"best","step":1,"timestamp":1700000003000,"value":"Infinity"},)"
      R"({"key":"worst","step":2,"timestamp":1700000004000,"value":"-Infinity"}],)"
      R"("params":[{"key":"rank","value":"20"}],"tags":[{"key":"mlflow.runName","value":"rank-20"}]},)"
      R"("info":{"artifact_uri":"/data/mlartifacts/3/0123456789abcdef0123456789abcdef/artifacts",)"
      R"("end_time":1700000012345,"experiment_id":"3","lifecycle_stage":"active",)"
      R"("run_id":"0123456789abcdef0123456789abcdef","run_name":"rank-20",)"
      R"("run_uuid":"0123456789abcdef0123456789abcdef","start_time":1700000000000,)"
      R"("status":"FINISHED","user_id":"ana"},"inputs":{}})");
}

TEST(EntityJson, RunInfoLeavesOutEndTimeOfARunThatHasNotEnded) {
  RunInfo info = SampleRun().info;
  info.end_time.reset();
  info.status = RunStatus::kRunning;
  json j = ToJson(info);
  EXPECT_FALSE(j.contains("end_time"));
  EXPECT_EQ(j["status"], "RUNNING");
  EXPECT_FALSE(FromJson<RunInfo>(j).end_time.has_value());
}

TEST(EntityJson, FileInfoLeavesOutTheSizeOfAFolder) {
  EXPECT_EQ(ToJson(FileInfo{"model", true, 0}).dump(), R"({"is_dir":true,"path":"model"})");
  EXPECT_EQ(ToJson(FileInfo{"model/MLmodel", false, 412}).dump(),
            R"({"file_size":412,"is_dir":false,"path":"model/MLmodel"})");
  FileInfo back = FromJson<FileInfo>(json::parse(R"({"path":"a/b.txt","is_dir":false,"file_size":9})"));
  EXPECT_EQ(back.path, "a/b.txt");
  EXPECT_FALSE(back.is_dir);
  EXPECT_EQ(back.file_size, 9);
}

TEST(EntityJson, RunRoundTrips) {
  mltrack::Run run = SampleRun();
  mltrack::Run back = FromJson<mltrack::Run>(json::parse(ToJson(run).dump()));
  EXPECT_EQ(back.info.run_id, run.info.run_id);
  EXPECT_EQ(back.info.experiment_id, "3");
  EXPECT_EQ(back.info.run_name, "rank-20");
  EXPECT_EQ(back.info.user_id, "ana");
  EXPECT_EQ(back.info.status, RunStatus::kFinished);
  EXPECT_EQ(back.info.start_time, 1700000000000);
  EXPECT_EQ(back.info.end_time, std::optional<int64_t>(1700000012345));
  EXPECT_EQ(back.info.artifact_uri, run.info.artifact_uri);
  EXPECT_EQ(back.info.lifecycle_stage, LifecycleStage::kActive);
  ASSERT_EQ(back.data.metrics.size(), 4u);
  EXPECT_EQ(back.data.metrics[0].key, "rmse");
  EXPECT_EQ(back.data.metrics[0].value, 0.81);
  EXPECT_EQ(back.data.metrics[0].timestamp, 1700000001000);
  EXPECT_EQ(back.data.metrics[0].step, 3);
  EXPECT_TRUE(std::isnan(back.data.metrics[1].value));
  EXPECT_EQ(back.data.metrics[2].value, kInf);
  EXPECT_EQ(back.data.metrics[3].value, -kInf);
  ASSERT_EQ(back.data.params.size(), 1u);
  EXPECT_EQ(back.data.params[0].key, "rank");
  EXPECT_EQ(back.data.params[0].value, "20");
  ASSERT_EQ(back.data.tags.size(), 1u);
  EXPECT_EQ(back.data.tags[0].value, "rank-20");
  // And the text is stable: write, read, write gives the same bytes.
  EXPECT_EQ(ToJson(back).dump(), ToJson(run).dump());
}

TEST(EntityJson, ExperimentRoundTrips) {
  Experiment e;
  e.experiment_id = "12";
  e.name = "näme with \"quotes\"";
  e.artifact_location = "/x/12";
  e.creation_time = 5;
  e.last_update_time = 6;
  e.tags = {{"a", "1"}, {"b", ""}};
  Experiment back = FromJson<Experiment>(json::parse(ToJson(e).dump()));
  EXPECT_EQ(back.experiment_id, "12");
  EXPECT_EQ(back.name, e.name);
  EXPECT_EQ(back.artifact_location, "/x/12");
  EXPECT_EQ(back.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(back.creation_time, 5);
  EXPECT_EQ(back.last_update_time, 6);
  ASSERT_EQ(back.tags.size(), 2u);
  EXPECT_EQ(back.tags[1].key, "b");
  EXPECT_EQ(back.tags[1].value, "");
}

TEST(EntityJson, DoubleValuesFollowProtobufJsonMapping) {
  EXPECT_EQ(DoubleToJson(kNaN), json("NaN"));
  EXPECT_EQ(DoubleToJson(kInf), json("Infinity"));
  EXPECT_EQ(DoubleToJson(-kInf), json("-Infinity"));
  EXPECT_EQ(DoubleToJson(1.5), json(1.5));
  EXPECT_TRUE(std::isnan(DoubleFromJson(json("NaN"), "v")));
  EXPECT_EQ(DoubleFromJson(json("Infinity"), "v"), kInf);
  EXPECT_EQ(DoubleFromJson(json("-Infinity"), "v"), -kInf);
  EXPECT_EQ(DoubleFromJson(json(3), "v"), 3.0);
  EXPECT_EQ(DoubleFromJson(json("2.5"), "v"), 2.5);
  EXPECT_ERROR(DoubleFromJson(json("nan"), "v"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'v': expected a number"));
  EXPECT_ERROR(DoubleFromJson(json("2.5x"), "v"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'v': expected a number"));
}

TEST(EntityJson, Int64AcceptsNumbersAndDecimalStrings) {
  EXPECT_EQ(Int64FromJson(json(1700000000000), "t"), 1700000000000);
  EXPECT_EQ(Int64FromJson(json("1700000000000"), "t"), 1700000000000);
  EXPECT_EQ(Int64FromJson(json("-3"), "t"), -3);
  EXPECT_EQ(Int64FromJson(json(1e3), "t"), 1000);
  EXPECT_ERROR(Int64FromJson(json(1.5), "t"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 't': expected an integer"));
  EXPECT_ERROR(Int64FromJson(json("12a"), "t"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 't': expected an integer"));
  EXPECT_ERROR(Int64FromJson(json(18446744073709551615ull), "t"),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 't': expected an integer"));
  EXPECT_ERROR(Int64FromJson(json(true), "t"), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 't': expected an integer"));
}

TEST(EntityJson, ReadsWhatOtherProtobufWritersSend) {
  // run_uuid alone, int64 as strings, the status as its enum number, nulls as absent fields,
  // unknown fields ignored.
  RunInfo info = FromJson<RunInfo>(json::parse(
      R"({"run_uuid":"ab","experiment_id":"1","status":3,"start_time":"12","end_time":null,)"
      R"("user_id":null,"new_field":{"x":1}})"));
  EXPECT_EQ(info.run_id, "ab");
  EXPECT_EQ(info.status, RunStatus::kFinished);
  EXPECT_EQ(info.start_time, 12);
  EXPECT_FALSE(info.end_time.has_value());
  EXPECT_EQ(info.user_id, "");
  Metric m = FromJson<Metric>(json::parse(R"({"key":"k","value":"Infinity","timestamp":1})"));
  EXPECT_EQ(m.value, kInf);
  EXPECT_EQ(m.step, 0);
}

TEST(EntityJson, MalformedRunNamesTheFieldByItsPath) {
  json j = ToJson(SampleRun());
  j["data"]["metrics"][2]["value"] = json::array();
  EXPECT_ERROR(FromJson<mltrack::Run>(j), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'data.metrics[2].value': expected a number"));

  j = ToJson(SampleRun());
  j["data"]["metrics"][1].erase("timestamp");
  EXPECT_ERROR(FromJson<mltrack::Run>(j), ErrorCode::kInvalidParameterValue,
               Eq("Missing value for required field 'data.metrics[1].timestamp'"));

  j = ToJson(SampleRun());
  j["info"]["status"] = "DONE";
  EXPECT_ERROR(FromJson<mltrack::Run>(j), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'info.status': unknown run status 'DONE' (expected "
                  "one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED)"));

  j = ToJson(SampleRun());
  j["info"]["status"] = 9;
  EXPECT_ERROR(FromJson<mltrack::Run>(j), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'info.status': unknown run status 9"));

  j = ToJson(SampleRun());
  j["info"].erase("run_id");
  j["info"].erase("run_uuid");
  EXPECT_ERROR(FromJson<mltrack::Run>(j), ErrorCode::kInvalidParameterValue,
               Eq("Missing value for required field 'info.run_id'"));

  j = ToJson(SampleRun());
  j["info"]["lifecycle_stage"] = "gone";
  EXPECT_ERROR(FromJson<mltrack::Run>(j), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'info.lifecycle_stage': unknown lifecycle stage "
                  "'gone' (expected active or deleted)"));

  j = ToJson(SampleRun());
  j["data"]["params"] = "rank=20";
  EXPECT_ERROR(FromJson<mltrack::Run>(j), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'data.params': expected an array"));

  j = ToJson(SampleRun());
  j["data"]["tags"][0] = 5;
  EXPECT_ERROR(FromJson<mltrack::Run>(j), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'data.tags[0]': expected an object"));

  j = ToJson(SampleRun());
  j["info"]["start_time"] = "yesterday";
  EXPECT_ERROR(FromJson<mltrack::Run>(j), ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'info.start_time': expected an integer"));

  EXPECT_ERROR(FromJson<mltrack::Run>(json::parse(R"({"data":{}})")), ErrorCode::kInvalidParameterValue,
               Eq("Missing value for required field 'info'"));
}

TEST(EntityJson, MalformedEntitiesAtTheTopAndUnderAGivenField) {
  EXPECT_ERROR(FromJson<Metric>(json::parse(R"({"key":"k","value":true,"timestamp":1})")),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'value': expected a number"));
  EXPECT_ERROR(FromJson<Metric>(json::parse(R"({"value":1,"timestamp":1})"), "metrics[2]"),
               ErrorCode::kInvalidParameterValue,
               Eq("Missing value for required field 'metrics[2].key'"));
  EXPECT_ERROR(FromJson<Param>(json::parse(R"({"key":"k","value":20})"), "params[0]"),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'params[0].value': expected a string"));
  EXPECT_ERROR(FromJson<Experiment>(json::parse(R"({"experiment_id":"1"})")),
               ErrorCode::kInvalidParameterValue, Eq("Missing value for required field 'name'"));
  EXPECT_ERROR(FromJson<FileInfo>(json::parse(R"({"path":"a","is_dir":"yes"})")),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'is_dir': expected a boolean"));
  EXPECT_ERROR(FromJson<Tag>(json::parse("[1]")), ErrorCode::kInvalidParameterValue,
               Eq("Invalid JSON value: expected an object"));
  EXPECT_ERROR(FromJsonArray<Metric>(json::parse(R"([{"key":"a","value":1,"timestamp":1},)"
                                                 R"({"key":"b","value":{},"timestamp":1}])"),
                                     "metrics"),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid value for field 'metrics[1].value': expected a number"));
  EXPECT_TRUE(FromJsonArray<Tag>(json(nullptr), "tags").empty());
}

}  // namespace
TEST(EntityJson, AppendMetricsJsonWritesWhatToJsonWrites) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<Metric> metrics = {{"loss", 1.0, 1700000000000, 0},
                                 {"loss", 0.1, 1, -5},
                                 {"loss", 1e-300, 2, 1},
                                 {"loss", std::nan(""), 3, 2},
                                 {"loss", inf, 4, 3},
                                 {"acc\"quoted\u00e9", -inf, 5, 4},
                                 {"acc", -2.5e17, 6, 5}};
  std::string out;
  AppendMetricsJson(out, metrics);
  nlohmann::json expected = nlohmann::json::array();
  for (const auto& m : metrics) expected.push_back(ToJson(m));
  EXPECT_EQ(out, expected.dump());
  std::string empty;
  AppendMetricsJson(empty, {});
  EXPECT_EQ(empty, "[]");
}

}  // namespace mltrack::tracking
