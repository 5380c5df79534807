// End-to-end tests of the built `mlt` binary: exact stdout, stderr and exit code.
#include <ctime>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/tracking_uri.h"
#include "cli/cli_expect.h"
#include "support/test_support.h"
#include "tracking/entity_json.h"
#include "tracking/store_factory.h"

namespace mltrack {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ExpectOutput;
using ::mltrack::testing::ExpectError;
using ::mltrack::testing::ExpectUsageError;
using ::mltrack::testing::ProcessOptions;
using ::mltrack::testing::ProcessResult;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::RunMlt;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kT0 = 1700000000000;  // 2023-11-14 22:13:20 UTC

// An independent oracle for the CLI's time column.
std::string Utc(int64_t millis) {
  std::time_t t = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

// Each test has its own database in its own folder, and runs mlt in that folder so that a
// default tracking URI could never touch anything else.
class MltCli : public ::testing::Test {
 protected:
  MltCli() : uri_("sqlite:///" + (dir_ / "mlruns.db").string()) {}

  // mlt args... --tracking-uri <this test's database>
  ProcessResult Mlt(std::vector<std::string> args) {
    args.push_back("--tracking-uri");
    args.push_back(uri_);
    return RunMlt(args, Options());
  }
  ProcessResult MltNoUri(const std::vector<std::string>& args, ProcessOptions options = {}) {
    if (options.cwd.empty()) options.cwd = dir_.path();
    return RunMlt(args, options);
  }
  ProcessOptions Options() const {
    ProcessOptions options;
    options.cwd = dir_.path();
    return options;
  }
  tracking::TrackingStore& Store() {
    if (!store_) store_ = tracking::OpenTrackingStore(uri_);
    return *store_;
  }
  std::string ArtifactLocation(const std::string& experiment_id) const {
    return FileUriFromPath((dir_ / "mlartifacts" / experiment_id).string());
  }

  // A finished run with metrics and a param, started at `start`, lasting `duration_ms`.
  std::string MakeRun(const std::string& experiment_id, const std::string& name, int64_t start,
                      int64_t duration_ms, const std::vector<Metric>& metrics,
                      const std::vector<Param>& params = {}) {
    RunCreate create;
    create.experiment_id = experiment_id;
    create.run_name = name;
    create.user_id = "ana";
    create.start_time = start;
    std::string id = Store().CreateRun(create).info.run_id;
    Store().LogBatch(id, metrics, params, {});
    RunUpdate update;
    update.status = RunStatus::kFinished;
    update.end_time = start + duration_ms;
    Store().UpdateRun(id, update);
    return id;
  }

  TempDir dir_;
  std::string uri_;
  std::shared_ptr<tracking::TrackingStore> store_;
};

// --- global behaviour -------------------------------------------------------------------------

TEST_F(MltCli, VersionNamesTheVersionAndCommit) {
  ProcessResult r = MltNoUri({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, ::testing::MatchesRegex("mlt [0-9]+\\.[0-9]+\\.[0-9]+ \\([0-9a-z]+\\)\n"));
}

TEST_F(MltCli, HelpDocumentsSubcommandsAndExitCodes) {
  ProcessResult r = MltNoUri({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, StartsWith("mlt: track experiments, runs and artifacts (MLflow-compatible)\n"
                                "Usage: mlt [OPTIONS] [SUBCOMMAND]\n"));
  EXPECT_THAT(r.out, HasSubstr("  experiments                 Create, list, show, rename, delete "
                               "and restore experiments\n"));
  EXPECT_THAT(r.out, HasSubstr("\nExit codes:\n  0  success\n  1  the request was refused"));
  EXPECT_THAT(r.out, HasSubstr("\n  2  usage error: unknown subcommand or option"));
  EXPECT_THAT(r.out, HasSubstr("\n  3  environment or internal failure"));
}

TEST_F(MltCli, EverySubcommandHasHelp) {
  const std::vector<std::vector<std::string>> commands = {
      {"experiments"},       {"experiments", "create"}, {"experiments", "list"},
      {"experiments", "get"}, {"experiments", "rename"}, {"experiments", "delete"},
      {"experiments", "restore"}, {"runs"},             {"runs", "list"},
      {"runs", "get"},       {"runs", "delete"},        {"runs", "restore"},
      {"artifacts"},         {"artifacts", "log"},      {"artifacts", "list"},
      {"artifacts", "download"},
  };
  for (const auto& command : commands) {
    std::string path = fmt::format("{}", fmt::join(command, " "));
    SCOPED_TRACE(path);
    std::vector<std::string> args = command;
    args.push_back("--help");
    ProcessResult r = MltNoUri(args);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.err, "");
    EXPECT_THAT(r.out, HasSubstr("\nUsage: mlt " + path + " [OPTIONS]"));
    EXPECT_THAT(r.out, HasSubstr("--tracking-uri URI"));
  }
  // Options of a leaf are documented in its help.
  EXPECT_THAT(MltNoUri({"runs", "list", "--help"}).out,
              HasSubstr("--max-results N:POSITIVE    List at most N runs (default: 100)\n"));
  EXPECT_THAT(MltNoUri({"artifacts", "download", "-h"}).out,
              HasSubstr("-d,--dst-path DIR REQUIRED"));
  // Nothing was created by asking for help.
  EXPECT_FALSE(fs::exists(dir_ / "mlruns.db"));
}

TEST_F(MltCli, UsageErrorsExitWithTwo) {
  ExpectUsageError(MltNoUri({"frob"}), "The following argument was not expected: frob");
  ExpectUsageError(MltNoUri({"experiments", "frob"}),
                   "The following argument was not expected: frob");
  ExpectUsageError(MltNoUri({"experiments", "list", "--bogus"}),
                   "The following argument was not expected: --bogus");
  // The server's store is --backend-store-uri; a --tracking-uri it would ignore is refused.
  ExpectUsageError(MltNoUri({"server", "--tracking-uri", "sqlite:///x.db"}),
                   "The following arguments were not expected: sqlite:///x.db --tracking-uri");
  ExpectUsageError(MltNoUri({}), "A subcommand is required");
  ExpectUsageError(MltNoUri({"runs"}), "A subcommand is required");
  ExpectUsageError(MltNoUri({"experiments", "create"}), "NAME is required");
  ExpectUsageError(MltNoUri({"experiments", "create", "x", "--tag", "novalue"}),
                   "--tag: expected KEY=VALUE, got 'novalue'");
  ExpectUsageError(MltNoUri({"experiments", "list", "--view", "gone"}),
                   "--view: gone not in {active,deleted,all}");
  ExpectUsageError(MltNoUri({"runs", "list", "--max-results", "0"}),
                   "--max-results: expected a positive integer, got '0'");
  ExpectUsageError(MltNoUri({"experiments", "list", "--max-results", "ten"}),
                   "--max-results: expected a positive integer, got 'ten'");
  ExpectUsageError(MltNoUri({"experiments", "get"}), "ID or --name is required");
  ExpectUsageError(MltNoUri({"artifacts", "list"}), "--run-id is required");
  // None of them touched a store.
  EXPECT_FALSE(fs::exists(dir_ / "mlruns.db"));
}

TEST_F(MltCli, InvalidTrackingUriExitsWithOneAndNamesIt) {
  ProcessResult r = MltNoUri({"experiments", "list", "--tracking-uri", "mysql://db/x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("mlt: error: Invalid tracking URI 'mysql://db/x': the scheme "
                                "'mysql' is not supported"));
}

TEST_F(MltCli, UnreachableDatabaseExitsWithThree) {
  ProcessResult r = MltNoUri({"experiments", "list", "--tracking-uri",
                              "sqlite:///" + (dir_ / "no-such-folder" / "x.db").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("mlt: error: cannot open database '"));
}

TEST_F(MltCli, TrackingUriComesFromTheEnvironmentOrEitherSideOfTheSubcommand) {
  ProcessOptions env = Options();
  env.env["MLT_TRACKING_URI"] = uri_;
  ExpectOutput(MltNoUri({"experiments", "create", "from-env"}, env),
               "Created experiment 'from-env' with id 1\n");
  ProcessOptions mlflow_env = Options();
  mlflow_env.env["MLFLOW_TRACKING_URI"] = uri_;
  ExpectOutput(MltNoUri({"experiments", "create", "from-mlflow-env"}, mlflow_env),
               "Created experiment 'from-mlflow-env' with id 2\n");
  ExpectOutput(MltNoUri({"--tracking-uri", uri_, "experiments", "create", "before"}),
               "Created experiment 'before' with id 3\n");
  ExpectOutput(MltNoUri({"experiments", "--tracking-uri", uri_, "create", "middle"}),
               "Created experiment 'middle' with id 4\n");
  EXPECT_EQ(Store().GetExperimentByName("from-env").experiment_id, "1");
  EXPECT_EQ(Store().GetExperimentByName("middle").experiment_id, "4");
  // The option wins over the environment.
  TempDir other;
  ProcessOptions other_env = Options();
  other_env.env["MLT_TRACKING_URI"] = "sqlite:///" + (other / "other.db").string();
  ExpectOutput(MltNoUri({"experiments", "create", "flag-wins", "--tracking-uri", uri_}, other_env),
               "Created experiment 'flag-wins' with id 5\n");
  EXPECT_FALSE(fs::exists(other / "other.db"));
}

TEST_F(MltCli, DefaultTrackingUriIsMlrunsDbInTheWorkingDirectory) {
  ExpectOutput(MltNoUri({"experiments", "create", "here"}),
               "Created experiment 'here' with id 1\n");
  EXPECT_TRUE(fs::exists(dir_ / "mlruns.db"));
  EXPECT_EQ(Store().GetExperimentByName("here").experiment_id, "1");
}

// --- experiments ------------------------------------------------------------------------------

TEST_F(MltCli, CreatesAndListsExperiments) {
  ExpectOutput(Mlt({"experiments", "create", "recs"}), "Created experiment 'recs' with id 1\n");
  ExpectOutput(Mlt({"experiments", "create", "forest-search", "--tag", "team=search", "--tag",
                    "prio=1", "--artifact-location", "/data/forest"}),
               "Created experiment 'forest-search' with id 2\n");
  Experiment e0 = Store().GetExperiment("0");
  Experiment e1 = Store().GetExperiment("1");
  Experiment e2 = Store().GetExperiment("2");
  EXPECT_EQ(e1.artifact_location, ArtifactLocation("1"));
  EXPECT_EQ(e2.artifact_location, "/data/forest");
  ASSERT_EQ(e2.tags.size(), 2u);

  std::string loc0 = ArtifactLocation("0"), loc1 = ArtifactLocation("1");
  size_t w = loc0.size();  // the artifact location column is as wide as the longest location
  std::string expected = fmt::format(
      "ID  NAME           {:<{}}  CREATED\n"
      "2   forest-search  {:<{}}  {}\n"
      "1   recs           {:<{}}  {}\n"
      "0   Default        {:<{}}  {}\n",
      "ARTIFACT LOCATION", w, "/data/forest", w, Utc(e2.creation_time), loc1, w,
      Utc(e1.creation_time), loc0, w, Utc(e0.creation_time));
  ProcessResult r = Mlt({"experiments", "list", "--order-by", "experiment_id DESC"});
  ExpectOutput(r, expected);

  ExpectOutput(Mlt({"experiments", "list", "--filter", "tags.team = 'search'"}),
               fmt::format("ID  NAME           ARTIFACT LOCATION  CREATED\n"
                           "2   forest-search  /data/forest       {}\n",
                           Utc(e2.creation_time)));

  // --max-results stops early; --json then hands over the page token.
  ProcessResult page = Mlt({"experiments", "list", "--max-results", "1", "--json",
                            "--order-by", "name"});
  ASSERT_EQ(page.exit_code, 0) << page.err;
  nlohmann::json j = nlohmann::json::parse(page.out);
  ASSERT_EQ(j["experiments"].size(), 1u);
  EXPECT_EQ(j["experiments"][0], tracking::ToJson(e0));  // "Default" sorts first
  EXPECT_TRUE(j.contains("next_page_token"));
  nlohmann::json all = nlohmann::json::parse(Mlt({"experiments", "list", "--json"}).out);
  EXPECT_EQ(all["experiments"].size(), 3u);
  EXPECT_FALSE(all.contains("next_page_token"));
}

TEST_F(MltCli, DuplicateExperimentNameExitsWithOne) {
  ExpectOutput(Mlt({"experiments", "create", "recs"}), "Created experiment 'recs' with id 1\n");
  ExpectError(Mlt({"experiments", "create", "recs"}), 1,
              "Experiment(name=recs) already exists.");
}

TEST_F(MltCli, GetsAnExperimentByIdOrName) {
  ExpectOutput(Mlt({"experiments", "create", "recs", "--tag", "team=search", "--tag", "a=1"}),
               "Created experiment 'recs' with id 1\n");
  Experiment e = Store().GetExperiment("1");
  std::string expected = fmt::format(
      "ID:                 1\n"
      "Name:               recs\n"
      "Artifact location:  {}\n"
      "Stage:              active\n"
      "Created:            {}\n"
      "Last updated:       {}\n"
      "\n"
      "Tags:\n"
      "  KEY   VALUE\n"
      "  a     1\n"
      "  team  search\n",
      ArtifactLocation("1"), Utc(e.creation_time), Utc(e.last_update_time));
  ExpectOutput(Mlt({"experiments", "get", "1"}), expected);
  ExpectOutput(Mlt({"experiments", "get", "--name", "recs"}), expected);

  ProcessResult r = Mlt({"experiments", "get", "--name", "recs", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j, nlohmann::json({{"experiment", tracking::ToJson(e)}}));
  EXPECT_EQ(j["experiment"]["experiment_id"], "1");
  EXPECT_EQ(j["experiment"]["creation_time"], e.creation_time);

  ExpectError(Mlt({"experiments", "get", "42"}), 1, "No Experiment with id=42 exists");
  ExpectError(Mlt({"experiments", "get", "--name", "nope"}), 1,
              "Could not find experiment with name 'nope'");
  ExpectUsageError(Mlt({"experiments", "get", "1", "--name", "recs"}), "ID excludes --name");
}

TEST_F(MltCli, RenamesDeletesAndRestoresExperiments) {
  ExpectOutput(Mlt({"experiments", "create", "recs"}), "Created experiment 'recs' with id 1\n");
  ExpectOutput(Mlt({"experiments", "rename", "1", "recs-v2"}),
               "Renamed experiment 1 from 'recs' to 'recs-v2'\n");
  EXPECT_EQ(Store().GetExperiment("1").name, "recs-v2");
  ExpectOutput(Mlt({"experiments", "delete", "1"}), "Deleted experiment 1\n");
  EXPECT_EQ(Store().GetExperiment("1").lifecycle_stage, LifecycleStage::kDeleted);

  Experiment e0 = Store().GetExperiment("0");
  Experiment e1 = Store().GetExperiment("1");
  std::string loc0 = ArtifactLocation("0"), loc1 = ArtifactLocation("1");
  size_t w = loc0.size();
  ExpectOutput(Mlt({"experiments", "list"}),
               fmt::format("ID  NAME     {:<{}}  CREATED\n"
                           "0   Default  {:<{}}  {}\n",
                           "ARTIFACT LOCATION", w, loc0, w, Utc(e0.creation_time)));
  ExpectOutput(Mlt({"experiments", "list", "--view", "deleted"}),
               fmt::format("ID  NAME     {:<{}}  STAGE    CREATED\n"
                           "1   recs-v2  {:<{}}  deleted  {}\n",
                           "ARTIFACT LOCATION", w, loc1, w, Utc(e1.creation_time)));
  ExpectOutput(Mlt({"experiments", "list", "--view", "all", "--order-by", "experiment_id"}),
               fmt::format("ID  NAME     {:<{}}  STAGE    CREATED\n"
                           "0   Default  {:<{}}  active   {}\n"
                           "1   recs-v2  {:<{}}  deleted  {}\n",
                           "ARTIFACT LOCATION", w, loc0, w, Utc(e0.creation_time), loc1, w,
                           Utc(e1.creation_time)));
  // A deleted experiment can't be renamed.
  ExpectError(Mlt({"experiments", "rename", "1", "again"}), 1,
              "Cannot rename a non-active experiment.");

  ExpectOutput(Mlt({"experiments", "restore", "1"}), "Restored experiment 1\n");
  EXPECT_EQ(Store().GetExperiment("1").lifecycle_stage, LifecycleStage::kActive);
  ExpectError(Mlt({"experiments", "delete", "9"}), 1, "No Experiment with id=9 exists");
}

// --- runs -------------------------------------------------------------------------------------

TEST_F(MltCli, ListsRunsWithTheirLatestMetrics) {
  std::string exp = Store().CreateExperiment("recs", "", {});
  std::string a = MakeRun(exp, "rank-10", kT0, 12'345,
                          {{"rmse", 0.9, kT0 + 1, 0}, {"rmse", 0.8123456789, kT0 + 2, 1}},
                          {{"rank", "10"}});
  std::string b = MakeRun(exp, "rank-20", kT0 + 60'000, 850,
                          {{"rmse", 0.75, kT0 + 60'001, 0},
                           {"mae", std::numeric_limits<double>::quiet_NaN(), kT0 + 60'001, 0}},
                          {{"rank", "20"}});
  RunCreate live;
  live.experiment_id = exp;
  live.run_name = "live";
  live.start_time = kT0 - 5000;
  mltrack::Run running = Store().CreateRun(live);

  // Newest first; metrics columns sorted by key; NaN as nan, %.6g, missing empty; no duration
  // for a run that has not ended.
  std::string expected = fmt::format(
      "RUN ID                            NAME     STATUS    START                DURATION  "
      "mae      rmse\n"
      "{}  rank-20  FINISHED  2023-11-14 22:14:20     850ms  nan      0.75\n"
      "{}  rank-10  FINISHED  2023-11-14 22:13:20     12.3s       0.812346\n"
      "{}  live     RUNNING   2023-11-14 22:13:15\n",
      b, a, running.info.run_id);
  ExpectOutput(Mlt({"runs", "list", "--experiment", "recs"}), expected);
  // By id too.
  ExpectOutput(Mlt({"runs", "list", "-e", exp}), expected);

  // --columns picks metrics, params and tags.
  ExpectOutput(
      Mlt({"runs", "list", "-e", "recs", "--columns", "params.rank,rmse,tags.mlflow.runName",
           "--filter", "metrics.rmse < 0.85"}),
      fmt::format("RUN ID                            NAME     STATUS    START                "
                  "DURATION  params.rank      rmse  tags.mlflow.runName\n"
                  "{}  rank-20  FINISHED  2023-11-14 22:14:20     850ms  20               0.75  "
                  "rank-20\n"
                  "{}  rank-10  FINISHED  2023-11-14 22:13:20     12.3s  10           0.812346  "
                  "rank-10\n",
                  b, a));

  // Keys quoted as in filters name the same columns.
  ExpectOutput(
      Mlt({"runs", "list", "-e", "recs", "--columns", "params.`rank`,tags.\"mlflow.runName\"",
           "--filter", "metrics.rmse < 0.8"}),
      fmt::format("RUN ID                            NAME     STATUS    START                "
                  "DURATION  params.`rank`  tags.\"mlflow.runName\"\n"
                  "{}  rank-20  FINISHED  2023-11-14 22:14:20     850ms  20             rank-20\n",
                  b));

  // Order by a metric, ascending.
  ProcessResult ordered =
      Mlt({"runs", "list", "-e", "recs", "--order-by", "metrics.rmse", "--columns", "rmse"});
  ExpectOutput(ordered,
               fmt::format("RUN ID                            NAME     STATUS    START          "
                           "      DURATION      rmse\n"
                           "{}  rank-20  FINISHED  2023-11-14 22:14:20     850ms      0.75\n"
                           "{}  rank-10  FINISHED  2023-11-14 22:13:20     12.3s  0.812346\n"
                           "{}  live     RUNNING   2023-11-14 22:13:15\n",
                           b, a, running.info.run_id));

  // The default experiment is "0", which has no runs.
  ExpectOutput(Mlt({"runs", "list"}), "RUN ID  NAME  STATUS  START  DURATION\n");
}

TEST_F(MltCli, ListsRunsAsMlflowJsonWithPageToken) {
  std::string exp = Store().CreateExperiment("recs", "", {});
  std::string a = MakeRun(exp, "a", kT0, 1000, {{"rmse", 0.5, kT0, 0}});
  std::string b = MakeRun(exp, "b", kT0 + 1000, 1000,
                          {{"rmse", std::numeric_limits<double>::infinity(), kT0, 0}});
  ProcessResult r = Mlt({"runs", "list", "-e", "recs", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_FALSE(j.contains("next_page_token"));
  EXPECT_EQ(j["runs"][0], tracking::ToJson(Store().GetRun(b)));
  EXPECT_EQ(j["runs"][1], tracking::ToJson(Store().GetRun(a)));
  EXPECT_EQ(j["runs"][0]["data"]["metrics"][0]["value"], "Infinity");
  EXPECT_EQ(j["runs"][1]["info"]["run_uuid"], a);
  EXPECT_EQ(j["runs"][1]["info"]["status"], "FINISHED");
  EXPECT_EQ(j["runs"][1]["info"]["end_time"], kT0 + 1000);

  ProcessResult first = Mlt({"runs", "list", "-e", "recs", "--json", "--max-results", "1"});
  nlohmann::json page = nlohmann::json::parse(first.out);
  ASSERT_EQ(page["runs"].size(), 1u);
  EXPECT_EQ(page["runs"][0]["info"]["run_id"], b);
  ASSERT_TRUE(page.contains("next_page_token"));
  RunSearch search;
  search.experiment_ids = {exp};
  search.max_results = 1;
  search.page_token = page["next_page_token"].get<std::string>();
  Page<mltrack::Run> rest = Store().SearchRuns(search);
  ASSERT_EQ(rest.items.size(), 1u);
  EXPECT_EQ(rest.items[0].info.run_id, a);
}

TEST_F(MltCli, BadFilterAndUnknownExperimentExitWithOne) {
  Store().CreateExperiment("recs", "", {});
  ExpectError(Mlt({"runs", "list", "-e", "recs", "--filter", "metrics.rmse <"}), 1,
              "Invalid filter 'metrics.rmse <': expected a number for metric 'rmse' after '<', "
              "found end of input at position 15");
  ExpectError(Mlt({"runs", "list", "-e", "nope"}), 1,
              "Could not find experiment with name 'nope'");
  ExpectError(Mlt({"runs", "list", "-e", "77"}), 1, "No experiment with id or name '77'");
}

TEST_F(MltCli, ANumericExperimentTokenIsAnIdFirstThenAName) {
  std::string named_7 = Store().CreateExperiment("7", "", {});   // id 1, named "7"
  std::string named_1 = Store().CreateExperiment("1", "", {});   // id 2, named "1"
  std::string in_1 = MakeRun(named_7, "in-1", kT0, 1, {});
  std::string in_2 = MakeRun(named_1, "in-2", kT0, 1, {});
  ProcessResult by_id = Mlt({"runs", "list", "-e", "1", "--json"});
  nlohmann::json j = nlohmann::json::parse(by_id.out);
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["info"]["run_id"], in_1);  // "1" is experiment 1's id
  j = nlohmann::json::parse(Mlt({"runs", "list", "-e", "7", "--json"}).out);
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["info"]["run_id"], in_1);  // no experiment 7: the one named "7"
  j = nlohmann::json::parse(Mlt({"runs", "list", "-e", "1", "-e", "2", "--json"}).out);
  EXPECT_EQ(j["runs"].size(), 2u);
  (void)in_2;
}

TEST_F(MltCli, GetsDeletesAndRestoresARun) {
  std::string exp = Store().CreateExperiment("recs", "", {});
  std::string id = MakeRun(exp, "rank-10", kT0, 12'345,
                           {{"rmse", 0.81, kT0 + 1, 3}, {"loss", 0.5, kT0 + 1, 3}},
                           {{"rank", "10"}, {"alpha", "0.01"}});
  mltrack::Run run = Store().GetRun(id);
  std::string expected = fmt::format(
      "Run ID:         {}\n"
      "Name:           rank-10\n"
      "Experiment ID:  1\n"
      "Status:         FINISHED\n"
      "User:           ana\n"
      "Start:          2023-11-14 22:13:20\n"
      "End:            2023-11-14 22:13:32\n"
      "Duration:       12.3s\n"
      "Artifact URI:   {}\n"
      "Stage:          active\n"
      "\n"
      "Params:\n"
      "  KEY    VALUE\n"
      "  alpha  0.01\n"
      "  rank   10\n"
      "\n"
      "Metrics:\n"
      "  KEY   VALUE  STEP\n"
      "  loss    0.5     3\n"
      "  rmse   0.81     3\n"
      "\n"
      "Tags:\n"
      "  KEY             VALUE\n"
      "  mlflow.runName  rank-10\n",
      id, run.info.artifact_uri);
  ExpectOutput(Mlt({"runs", "get", id}), expected);

  ProcessResult r = Mlt({"runs", "get", id, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json({{"run", tracking::ToJson(run)}}));

  ExpectOutput(Mlt({"runs", "delete", id}), fmt::format("Deleted run {}\n", id));
  EXPECT_EQ(Store().GetRun(id).info.lifecycle_stage, LifecycleStage::kDeleted);
  ExpectOutput(Mlt({"runs", "list", "-e", "recs", "--columns", "rmse"}),
               "RUN ID  NAME  STATUS  START  DURATION  rmse\n");
  ExpectOutput(Mlt({"runs", "list", "-e", "recs", "--view", "deleted", "--columns", "rmse"}),
               fmt::format("RUN ID                            NAME     STATUS    START          "
                           "      DURATION  rmse\n"
                           "{}  rank-10  FINISHED  2023-11-14 22:13:20     12.3s  0.81\n",
                           id));
  ExpectOutput(Mlt({"runs", "restore", id}), fmt::format("Restored run {}\n", id));
  EXPECT_EQ(Store().GetRun(id).info.lifecycle_stage, LifecycleStage::kActive);
}

TEST_F(MltCli, UnknownRunExitsWithOne) {
  ExpectError(Mlt({"runs", "get", "0123456789abcdef0123456789abcdef"}), 1,
              "Run with id=0123456789abcdef0123456789abcdef not found");
  ExpectError(Mlt({"runs", "delete", "0123456789abcdef0123456789abcdef"}), 1,
              "Run with id=0123456789abcdef0123456789abcdef not found");
  ExpectError(Mlt({"artifacts", "list", "-r", "0123456789abcdef0123456789abcdef"}), 1,
              "Run with id=0123456789abcdef0123456789abcdef not found");
}

// --- artifacts --------------------------------------------------------------------------------

TEST_F(MltCli, LogsListsAndDownloadsArtifacts) {
  std::string exp = Store().CreateExperiment("recs", "", {});
  std::string id = MakeRun(exp, "r", kT0, 1, {});
  TempDir local;
  WriteFile(local / "model.bin", "0123456789");
  WriteFile(local / "plots" / "loss.csv", "step,loss\n0,1.5\n");
  WriteFile(local / "plots" / "deep" / "x.txt", "x");

  ExpectOutput(Mlt({"artifacts", "log", (local / "model.bin").string(), "-r", id}),
               fmt::format("Logged '{}' to runs:/{}/model.bin\n", (local / "model.bin").string(),
                           id));
  ExpectOutput(Mlt({"artifacts", "log", (local / "plots").string(), "--run-id", id,
                    "--artifact-path", "charts"}),
               fmt::format("Logged '{}' to runs:/{}/charts\n", (local / "plots").string(), id));

  ExpectOutput(Mlt({"artifacts", "list", "-r", id}),
               "PATH       SIZE\n"
               "charts/\n"
               "model.bin    10\n");
  ExpectOutput(Mlt({"artifacts", "list", "-r", id, "-a", "charts"}),
               "PATH             SIZE\n"
               "charts/deep/\n"
               "charts/loss.csv    16\n");
  ProcessResult json = Mlt({"artifacts", "list", "-r", id, "-a", "charts", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out),
            nlohmann::json::parse(fmt::format(
                R"({{"root_uri": "{}", "files": [{{"path": "charts/deep", "is_dir": true}},)"
                R"( {{"path": "charts/loss.csv", "is_dir": false, "file_size": 16}}]}})",
                Store().GetRun(id).info.artifact_uri)));

  // Download one file, then everything, into a folder that does not exist yet.
  TempDir out;
  fs::path file = out / "one";
  ExpectOutput(Mlt({"artifacts", "download", "-r", id, "-a", "charts/loss.csv", "-d",
                    file.string()}),
               (file / "charts" / "loss.csv").string() + "\n");
  EXPECT_EQ(ReadFile(file / "charts" / "loss.csv"), "step,loss\n0,1.5\n");
  fs::path all = out / "all";
  ExpectOutput(Mlt({"artifacts", "download", "--run-id", id, "--dst-path", all.string()}),
               all.string() + "\n");
  EXPECT_EQ(ReadFile(all / "model.bin"), "0123456789");
  EXPECT_EQ(ReadFile(all / "charts" / "loss.csv"), "step,loss\n0,1.5\n");
  EXPECT_EQ(ReadFile(all / "charts" / "deep" / "x.txt"), "x");

  ExpectError(Mlt({"artifacts", "download", "-r", id, "-a", "nothing", "-d", all.string()}), 1,
              "Artifact 'nothing' does not exist");
  ExpectError(Mlt({"artifacts", "log", (local / "missing").string(), "-r", id}), 1,
              fmt::format("No such file or directory: '{}'", (local / "missing").string()));
}

TEST_F(MltCli, RefusesArtifactPathsThatEscapeTheRunRoot) {
  std::string exp = Store().CreateExperiment("recs", "", {});
  std::string id = MakeRun(exp, "r", kT0, 1, {});
  TempDir local;
  WriteFile(local / "f.txt", "f");
  const std::string message = "Invalid artifact path '../x': it escapes its root folder";
  ExpectError(Mlt({"artifacts", "log", (local / "f.txt").string(), "-r", id, "-a", "../x"}), 1,
              message);
  ExpectError(Mlt({"artifacts", "list", "-r", id, "-a", "../x"}), 1, message);
  TempDir out;
  ExpectError(Mlt({"artifacts", "download", "-r", id, "-a", "../x", "-d", out.path().string()}),
              1, message);
  // Nothing was written outside (or inside) the run's artifact root.
  fs::path root = LocalPathFromUri(Store().GetRun(id).info.artifact_uri);
  EXPECT_FALSE(fs::exists(root.parent_path() / "x"));
  EXPECT_FALSE(fs::exists(root));
}

}  // namespace
}  // namespace mltrack
