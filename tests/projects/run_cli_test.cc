// `mlt run`, `mlt rerun`, sweeps and `mlt runs log-metric|log-param`, end to end through the
// built binary: exact stdout, stderr and exit codes, and what the store holds afterwards.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/cli_expect.h"
#include "common/tracking_uri.h"
#include "projects/sha256.h"
#include "projects/process_groups.h"
#include "support/test_support.h"
#include "tracking/store_factory.h"

extern char** environ;

namespace mltrack {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ExpectError;
using ::mltrack::testing::ExpectOutput;
using ::mltrack::testing::ExpectUsageError;
using ::mltrack::testing::GroupEnds;
using ::mltrack::testing::ProcessOptions;
using ::mltrack::testing::ProcessResult;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::RunMlt;
using ::mltrack::testing::RunProcess;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// score = (rank - 20)^2 / 100 + reg, printed and logged as rmse.
constexpr const char* kProject = R"mlt(name: cli
entry_points:
  main:
    parameters:
      rank: {type: int, default: 10}
      reg: {type: float, default: 0.1}
    command: "bash train.sh {rank} {reg}"
  fit:
    parameters:
      data: path
    command: "mlt runs log-metric lines $(wc -l < {data})"
  exit:
    parameters: {code: int}
    command: "echo out; echo err >&2; exit {code}"
  trap:
    command: "bash trap.sh"
)mlt";
constexpr const char* kTrainScript = R"mlt(score=$(awk -v r="$1" -v g="$2" \
  'BEGIN { printf "%.6f", (r-20)*(r-20)/100 + g }')
echo "score $score"
mlt runs log-metric rmse "$score"
)mlt";
// Traps the stop signal, and leaves a child that ignores it: the run still ends, and nothing
// of it remains.
constexpr const char* kTrapScript = R"mlt(trap 'echo trapped > marker; exit 5' TERM INT HUP
echo $$ > pgid
(trap '' TERM INT HUP; exec sleep 60) &
touch started
sleep 60 & wait
)mlt";


class RunCli : public ::testing::Test {
 protected:
  RunCli() : uri_("sqlite:///" + (dir_ / "mlruns.db").string()), project_(dir_ / "proj") {
    WriteFile(project_ / "MLproject", kProject);
    WriteFile(project_ / "train.sh", kTrainScript);
    WriteFile(project_ / "trap.sh", kTrapScript);
  }

  ProcessOptions Options(std::map<std::string, std::string> env = {}) {
    ProcessOptions options;
    options.cwd = dir_.path();
    std::string path = fs::path(MLT_BINARY).parent_path().string();
    if (const char* old = std::getenv("PATH")) path += std::string(":") + old;
    env["PATH"] = path;
    env["MLT_PROJECT_CACHE"] = (dir_ / "cache").string();
    options.env = std::move(env);
    return options;
  }
  // mlt args... --tracking-uri <this test's database>, in the test's folder.
  ProcessResult Mlt(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.push_back("--tracking-uri");
    args.push_back(uri_);
    return RunMlt(args, Options(std::move(env)));
  }

  tracking::TrackingStore& Store() {
    if (!store_) store_ = tracking::OpenTrackingStore(uri_);
    return *store_;
  }
  std::vector<::mltrack::Run> AllRuns() {
    ExperimentSearch es;
    es.view = ViewType::kAll;
    RunSearch search;
    for (const auto& e : Store().SearchExperiments(es).items) {
      search.experiment_ids.push_back(e.experiment_id);
    }
    search.view = ViewType::kAll;
    search.order_by = {"attributes.start_time"};
    return Store().SearchRuns(search).items;
  }
  ::mltrack::Run OnlyRun() {
    auto runs = AllRuns();
    EXPECT_EQ(runs.size(), 1u);
    return runs.empty() ? ::mltrack::Run{} : runs.front();
  }
  std::map<std::string, std::string> Tags(const std::string& run_id) {
    std::map<std::string, std::string> tags;
    for (const auto& t : Store().GetRun(run_id).data.tags) tags[t.key] = t.value;
    return tags;
  }
  std::map<std::string, double> Metrics(const std::string& run_id) {
    std::map<std::string, double> metrics;
    for (const auto& m : Store().GetRun(run_id).data.metrics) metrics[m.key] = m.value;
    return metrics;
  }
  std::string Artifact(const std::string& run_id, const std::string& path) {
    return ReadFile(fs::path(LocalPathFromUri(Store().GetRun(run_id).info.artifact_uri)) / path);
  }

  TempDir dir_;
  std::string uri_;
  fs::path project_;
  std::shared_ptr<tracking::TrackingStore> store_;
};

// --- mlt run -------------------------------------------------------------------------------------

TEST_F(RunCli, StreamsTheOutputAndExitsWithTheCommandsCode) {
  ProcessResult r = Mlt({"run", "proj", "-e", "exit", "-P", "code=0", "--run-name", "ok"});
  ::mltrack::Run run = OnlyRun();
  std::string id = run.info.run_id;
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "=== Running command 'echo out; echo err >&2; exit 0' in run with ID '" + id +
                       "' ===\nerr\n=== Run (ID '" + id + "') succeeded ===\n");
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
  EXPECT_EQ(run.info.run_name, "ok");
  EXPECT_EQ(Artifact(id, "stdout.txt"), "out\n");
  EXPECT_EQ(Artifact(id, "stderr.txt"), "err\n");
  EXPECT_EQ(Tags(id)["mlflow.source.name"], project_.string());

  r = Mlt({"run", "proj", "-e", "exit", "-P", "code=4"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.out, "out\n");
  ::mltrack::Run failed = AllRuns().back();
  EXPECT_THAT(r.err, HasSubstr("\n=== Run (ID '" + failed.info.run_id +
                               "') failed (exit code 4) ===\n"));
  EXPECT_EQ(failed.info.status, RunStatus::kFailed);
  EXPECT_EQ(Tags(failed.info.run_id)["mlt.exitCode"], "4");
  EXPECT_EQ(Tags(id)["mlt.exitCode"], "0");
}

TEST_F(RunCli, RunsInTheNamedExperimentAndLogsThroughTheCommand) {
  ProcessResult r = Mlt({"run", "proj", "-P", "rank=30", "--experiment-name", "recs"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "score 1.100000\n");
  ::mltrack::Run run = OnlyRun();
  EXPECT_EQ(run.info.experiment_id, Store().GetExperimentByName("recs").experiment_id);
  EXPECT_EQ(Metrics(run.info.run_id), (std::map<std::string, double>{{"rmse", 1.1}}));
  r = Mlt({"run", "proj", "--experiment-id", run.info.experiment_id});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(AllRuns().size(), 2u);
  r = Mlt({"run", "proj"}, {{"MLT_EXPERIMENT_NAME", "from-env"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(AllRuns().back().info.experiment_id,
            Store().GetExperimentByName("from-env").experiment_id);
}

TEST_F(RunCli, RunsAGitRepositoryAtAVersionAndSubdirectory) {
  fs::path repo = dir_ / "repo";
  fs::create_directories(repo);
  auto git = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"git", "-C", repo.string()});
    ProcessResult r = RunProcess(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  git({"init", "-q", "-b", "main"});
  git({"config", "user.name", "Cli Test"});
  git({"config", "user.email", "cli@test.invalid"});
  WriteFile(repo / "sub" / "MLproject", "entry_points:\n  main: {command: \"echo v1\"}\n");
  git({"add", "-A"});
  git({"commit", "-q", "-m", "v1"});
  std::string v1 = git({"rev-parse", "HEAD"}).substr(0, 40);
  WriteFile(repo / "sub" / "MLproject", "entry_points:\n  main: {command: \"echo v2\"}\n");
  git({"commit", "-q", "-am", "v2"});

  std::string url = FileUriFromPath(repo.string());
  ProcessResult r = Mlt({"run", url + "#sub", "--version", v1});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "v1\n");
  r = Mlt({"run", url + "#sub"});
  EXPECT_EQ(r.out, "v2\n");
  auto tags = Tags(AllRuns().front().info.run_id);
  EXPECT_EQ(tags["mlflow.source.name"], url);
  EXPECT_EQ(tags["mlflow.source.git.commit"], v1);
  EXPECT_EQ(tags["mlflow.source.git.repoURL"], url);
  EXPECT_EQ(tags["mlt.project.uri"], url + "#sub");
  EXPECT_EQ(tags["mlt.project.version"], v1);
  EXPECT_EQ(tags["mlt.project.subdirectory"], "sub");
  EXPECT_TRUE(fs::is_directory(dir_ / "cache"));  // MLT_PROJECT_CACHE
}

TEST_F(RunCli, RefusesBadInputBeforeAnyRun) {
  WriteFile(dir_ / "broken" / "MLproject", "entry_points:\n  main:\n    command: [\n");
  WriteFile(dir_ / "conda" / "MLproject", "conda_env: conda.yaml\n"
                                          "entry_points:\n  main: {command: \"touch ran\"}\n");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> refused = {
      {{"run", "proj", "-P", "rank=1", "-P", "rank=2"}, "Parameter 'rank' is given twice"},
      {{"run", "proj", "-P", "rank=abc"},
       "Parameter 'rank' of entry point 'main' must be an int, got 'abc'"},
      {{"run", "proj", "-e", "fit"},
       "Missing values for required parameters of entry point 'fit': 'data'"},
      {{"run", "proj", "-e", "fit", "-P", "data=missing.csv"},
       "Parameter 'data' of entry point 'fit' is a path that does not exist: '" +
           (dir_ / "missing.csv").string() + "'"},
      {{"run", "proj", "-e", "trian"},
       "Unknown entry point 'trian' of project 'cli': its entry points are 'main', 'fit', "
       "'exit' and 'trap', and it has no script file 'trian'"},
      {{"run", "conda", "--env-manager", "conda"},
       "--env-manager conda is not supported: mlt runs commands in the current environment "
       "only, and the project's conda_env 'conda.yaml' would need conda to create it. Install "
       "what the command needs and use --env-manager local"},
      {{"run", "nowhere"}, "No project folder at '" + (dir_ / "nowhere").string() + "'"},
      {{"run", "proj", "-P", "rank=10,x", "--sweep", "grid"},
       "Parameter 'rank' of entry point 'main' must be an int, got 'x'"},
  };
  for (const auto& c : refused) {
    SCOPED_TRACE(c.args[1] + " " + (c.args.size() > 2 ? c.args[2] : ""));
    ProcessResult r = Mlt(c.args);
    if (c.message.starts_with("Unknown entry point")) {
      // The list of entry points is the spec's wording; what matters is naming the bad one.
      EXPECT_EQ(r.exit_code, 1);
      EXPECT_THAT(r.err, StartsWith("mlt: error: Unknown entry point 'trian' of project 'cli'"));
      continue;
    }
    ExpectError(r, 1, c.message);
  }
  ProcessResult r = Mlt({"run", "broken"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("mlt: error: " + (dir_ / "broken" / "MLproject").string()));
  EXPECT_THAT(r.err, HasSubstr("/MLproject: line 4, column 1: "));

  ExpectUsageError(Mlt({"run", "proj", "--env-manager", "pip"}),
                   "--env-manager: pip not in {local,conda,virtualenv,docker}");
  ExpectUsageError(Mlt({"run", "proj", "--experiment-name", "a", "--experiment-id", "1"}),
                   "--experiment-name excludes --experiment-id");
  ExpectUsageError(Mlt({"run", "proj", "--trials", "3"}), "--trials requires --sweep");
  ExpectUsageError(Mlt({"run", "proj", "-P", "rank=1", "--sweep", "grid", "--trials", "3"}),
                   "--trials: applies to --sweep random only");
  ExpectUsageError(Mlt({"run", "proj", "--sweep", "grid", "--run-id", "x"}),
                   "--run-id excludes --sweep");
  ExpectUsageError(Mlt({"run", "proj", "-P", "rank"}),
                   "--param: expected KEY=VALUE, got 'rank'");
  EXPECT_TRUE(AllRuns().empty());
  EXPECT_FALSE(fs::exists(dir_ / "conda" / "ran"));
}

// Starts `mlt run ...` without waiting; its output goes to files in the test's folder.
pid_t StartMlt(const std::vector<std::string>& args, const fs::path& cwd,
               const std::map<std::string, std::string>& set) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    if (!set.count(kv.substr(0, kv.find('=')))) env_strings.push_back(kv);
  }
  for (const auto& [k, v] : set) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> all = {MLT_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  for (auto& s : all) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, (cwd / "mlt.out").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, (cwd / "mlt.err").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = -1;
  int rc = posix_spawn(&pid, MLT_BINARY, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

TEST_F(RunCli, ForwardsStopSignalsAndEndsTheRunKilled) {
  for (int signo : {SIGTERM, SIGINT, SIGHUP}) {
    SCOPED_TRACE(signo);
    fs::remove(project_ / "started");
    fs::remove(project_ / "marker");
    pid_t pid = StartMlt({"run", "proj", "-e", "trap", "--tracking-uri", uri_}, dir_.path(),
                         Options().env);
    ASSERT_GT(pid, 0);
    for (int i = 0; i < 1000 && !fs::exists(project_ / "started"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(fs::exists(project_ / "started")) << ReadFile(dir_ / "mlt.err");
    ::kill(pid, signo);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 128 + signo);
    EXPECT_EQ(ReadFile(project_ / "marker"), "trapped\n");
    EXPECT_TRUE(GroupEnds(std::stoi(ReadFile(project_ / "pgid"))));
    ::mltrack::Run run = AllRuns().back();
    EXPECT_EQ(run.info.status, RunStatus::kKilled);
    EXPECT_THAT(ReadFile(dir_ / "mlt.err"),
                HasSubstr("=== Run (ID '" + run.info.run_id + "') killed (SIG" +
                          sigabbrev_np(signo) + " forwarded to its processes) ===\n"));
  }
}

// --- mlt runs log-metric, log-param --------------------------------------------------------------

TEST_F(RunCli, LogsMetricsAndParamsToTheRunOfTheEnvironment) {
  std::string id = Store().CreateRun({.experiment_id = "0"}).info.run_id;
  ExpectOutput(Mlt({"runs", "log-metric", "rmse", "0.5", "--run-id", id}), "");
  ExpectOutput(Mlt({"runs", "log-metric", "rmse", "0.25", "--step", "3"}, {{"MLT_RUN_ID", id}}),
               "");
  // A value that starts like an option follows "--".
  ExpectOutput(RunMlt({"--tracking-uri", uri_, "runs", "log-metric", "acc", "--", "-inf"},
                      Options({{"MLFLOW_RUN_ID", id}})),
               "");
  ExpectOutput(Mlt({"runs", "log-metric", "loss", "-0.5", "--run-id", id}), "");
  ExpectOutput(Mlt({"runs", "log-metric", "gain", "+2e0", "--run-id", id}), "");
  ExpectOutput(Mlt({"runs", "log-param", "rank", "20"}, {{"MLT_RUN_ID", id}}), "");
  ::mltrack::Run run = Store().GetRun(id);
  EXPECT_EQ(Metrics(id), (std::map<std::string, double>{
                             {"acc", -std::numeric_limits<double>::infinity()},
                             {"gain", 2},
                             {"loss", -0.5},
                             {"rmse", 0.25}}));
  auto history = Store().GetMetricHistory(id, "rmse", 0, "").items;
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].step, 3);
  ASSERT_EQ(run.data.params.size(), 1u);
  EXPECT_EQ(run.data.params[0].value, "20");

  ExpectError(Mlt({"runs", "log-metric", "rmse", "0.5"}), 1,
              "No run to log to: give --run-id, or set MLT_RUN_ID (`mlt run` sets it for the "
              "command it runs)");
  ExpectError(Mlt({"runs", "log-param", "rank", "5"}), 1,
              "No run to log to: give --run-id, or set MLT_RUN_ID (`mlt run` sets it for the "
              "command it runs)");
  for (const char* bad : {"abc", "0.5x", "", "1e999", "+-1", "1,5"}) {
    ExpectError(Mlt({"runs", "log-metric", "rmse", bad, "--run-id", id}), 1,
                std::string("The value of metric 'rmse' must be a number, got '") + bad + "'");
  }
  ProcessResult r = Mlt({"runs", "log-param", "rank", "30", "--run-id", id});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("rank"));
  ExpectUsageError(Mlt({"runs", "log-metric", "rmse", "1", "--step", "x", "--run-id", id}),
                   "Could not convert: --step = x");
}

// --- mlt rerun -----------------------------------------------------------------------------------

TEST_F(RunCli, ARerunPrintsBothRunsMetricsSideBySide) {
  ASSERT_EQ(Mlt({"run", "proj", "-P", "rank=25"}).exit_code, 0);
  std::string first = OnlyRun().info.run_id;
  ProcessResult r = Mlt({"rerun", first});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string second = AllRuns().back().info.run_id;
  EXPECT_EQ(Tags(second)["mlt.rerunOf"], first);
  EXPECT_EQ(r.out, "score 0.350000\nRerun of run " + first + ": run " + second +
                       " (FINISHED)\nMETRIC  " + first + "  " + second + "\nrmse    " +
                       std::string(first.size() - 4, ' ') + "0.35  " +
                       std::string(second.size() - 4, ' ') + "0.35\n");
  EXPECT_THAT(r.err, StartsWith("=== Running command 'bash train.sh 25 0.1' in run with ID '" +
                                second + "' ===\n"));
}

TEST_F(RunCli, ARerunRefusesAChangedInputUnlessForced) {
  WriteFile(dir_ / "data.csv", "a\nb\n");
  ASSERT_EQ(Mlt({"run", "proj", "-e", "fit", "-P", "data=data.csv"}).exit_code, 0);
  std::string first = OnlyRun().info.run_id;
  WriteFile(dir_ / "data.csv", "a\nb\nc\n");
  std::string change = "nput 'data' of run " + first + " has changed: '" +
                       (dir_ / "data.csv").string() + "' has sha256 " +
                       projects::Sha256Hex("a\nb\nc\n") + ", the run recorded " +
                       projects::Sha256Hex("a\nb\n");
  ExpectError(Mlt({"rerun", first}), 1, "I" + change + ". Pass --force to rerun anyway");
  EXPECT_EQ(AllRuns().size(), 1u);

  ProcessResult r = Mlt({"rerun", first, "--force"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.err, StartsWith("mlt: warning: i" + change + "\n"));
  std::string second = AllRuns().back().info.run_id;
  EXPECT_THAT(r.out, HasSubstr("\nlines   " + std::string(first.size() - 1, ' ') + "2  " +
                               std::string(second.size() - 1, ' ') + "3\n"));

  fs::remove(dir_ / "data.csv");
  ExpectError(Mlt({"rerun", first}), 1,
              "Input 'data' of run " + first + " no longer exists: '" +
                  (dir_ / "data.csv").string() + "' (recorded sha256 " +
                  projects::Sha256Hex("a\nb\n") + "). Pass --force to rerun anyway");
  ExpectError(Mlt({"rerun", "0123456789abcdef0123456789abcdef"}), 1,
              "Run with id=0123456789abcdef0123456789abcdef not found");
}

// --- sweeps --------------------------------------------------------------------------------------

TEST_F(RunCli, AGridSweepOfSixTrialsTwoAtATimePicksTheBest) {
  ProcessResult r = Mlt({"run", "proj", "-P", "rank=10,20,40", "-P", "reg=0.01,0.1", "--sweep",
                         "grid", "--max-parallel", "2", "--metric", "rmse", "--mode", "min"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<::mltrack::Run> runs = AllRuns();
  ASSERT_EQ(runs.size(), 7u);
  // The parent is the run with the sweep's tags; the six others are its trials.
  auto is_parent = [&](const ::mltrack::Run& run) {
    return Tags(run.info.run_id).count("mlt.sweep.strategy") == 1;
  };
  ASSERT_EQ(std::count_if(runs.begin(), runs.end(), is_parent), 1);
  std::string parent = std::find_if(runs.begin(), runs.end(), is_parent)->info.run_id;
  std::string best;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].info.run_id == parent) continue;
    auto tags = Tags(runs[i].info.run_id);
    EXPECT_EQ(tags["mlflow.parentRunId"], parent);
    EXPECT_EQ(runs[i].info.status, RunStatus::kFinished);
    std::map<std::string, std::string> params;
    for (const auto& p : runs[i].data.params) params[p.key] = p.value;
    if (params["rank"] == "20" && params["reg"] == "0.01") best = runs[i].info.run_id;
  }
  ASSERT_FALSE(best.empty());
  EXPECT_EQ(Tags(parent)["mlt.sweep.bestRunId"], best);
  EXPECT_EQ(Metrics(parent), (std::map<std::string, double>{{"rmse", 0.01}}));
  EXPECT_EQ(Store().GetRun(parent).info.status, RunStatus::kFinished);
  EXPECT_THAT(r.out,
              HasSubstr("Sweep run " + parent + " (FINISHED):\n"
                        "TRIAL  RUN ID                            STATUS    rank  reg   rmse\n"));
  EXPECT_THAT(r.out, HasSubstr("    3  " + best + "  FINISHED  20    0.01  0.01\n"));
  EXPECT_THAT(r.out, HasSubstr("Best trial: 3 (run " + best + "), rmse = 0.01\n"));
  // Each trial's output is prefixed with its number.
  EXPECT_THAT(r.out, HasSubstr("[trial 6] score 4.100000\n"));

  r = Mlt({"run", "proj", "-P", "rank=10,20,40", "--sweep", "random", "--trials", "4", "--seed",
           "3", "--metric", "rmse", "--mode", "max"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  runs = AllRuns();
  ASSERT_EQ(runs.size(), 12u);
  std::vector<std::string> seeds;
  for (const auto& run : runs) {
    auto tags = Tags(run.info.run_id);
    if (tags["mlt.sweep.strategy"] == "random") seeds.push_back(tags["mlt.sweep.seed"]);
  }
  EXPECT_EQ(seeds, std::vector<std::string>{"3"});
}

// The example of docs/projects.md: make the data, train, sweep, rerun.
TEST_F(RunCli, TheExampleProjectRuns) {
  fs::path example =
      fs::path(__FILE__).parent_path().parent_path().parent_path() / "examples" / "recommender";
  ASSERT_TRUE(fs::exists(example / "MLproject")) << example;
  std::string data = (dir_ / "ratings.csv").string();
  ProcessResult r = Mlt({"run", example.string(), "-e", "data", "-P", "out=" + data, "-P",
                         "ratings=2000", "-P", "users=100", "-P", "items=50"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Mlt({"run", example.string(), "-P", "ratings=" + data, "-P", "rank=2,4", "--sweep", "grid",
           "--metric", "test_rmse", "--max-parallel", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Best trial: "));
  std::string trial;
  for (const auto& run : AllRuns()) {
    if (Tags(run.info.run_id).count("mlflow.parentRunId")) trial = run.info.run_id;
  }
  ASSERT_FALSE(trial.empty());
  EXPECT_TRUE(Metrics(trial).count("test_rmse"));
  EXPECT_EQ(Tags(trial)["mlt.input.ratings.sha256"], projects::FingerprintPath(data));
  r = Mlt({"rerun", trial, "--force"});  // --force: the repository's work tree may be dirty
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string rerun = AllRuns().back().info.run_id;
  EXPECT_EQ(Metrics(rerun)["test_rmse"], Metrics(trial)["test_rmse"]);
}

TEST_F(RunCli, HelpNamesRunAndRerun) {
  ProcessResult r = RunMlt({"--help"}, Options());
  EXPECT_THAT(r.out, HasSubstr("\n  run  "));
  EXPECT_THAT(r.out, HasSubstr("\n  rerun  "));
  r = RunMlt({"run", "--help"}, Options());
  EXPECT_THAT(r.out, HasSubstr("-P,--param KEY=VALUE"));
  EXPECT_THAT(r.out, HasSubstr("--sweep grid|random"));
}

}  // namespace
}  // namespace mltrack
