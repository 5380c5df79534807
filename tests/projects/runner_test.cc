// The project runner as a library: what a run records, how the command's process is run and
// stopped, and reruns (sweeps: sweep_test.cc). Real projects in temporary folders, real git
// repositories, a real SQLite store (runner_fixture.h); the commands log metrics with the built
// `mlt`.
#include "projects/runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/tracking_uri.h"
#include "projects/run_environment.h"
#include "projects/sha256.h"
#include "projects/process_groups.h"
#include "projects/runner_fixture.h"
#include "support/test_support.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::GroupEnds;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::RunProcess;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

void Git(const fs::path& repo, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git", "-C", repo.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunProcess(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// A git repository holding `files`, committed on branch main.
void MakeGitRepo(const fs::path& repo, const std::map<std::string, std::string>& files) {
  fs::create_directories(repo);
  Git(repo, {"init", "-q", "-b", "main"});
  Git(repo, {"config", "user.name", "Runner Test"});
  Git(repo, {"config", "user.email", "runner@test.invalid"});
  for (const auto& [name, text] : files) WriteFile(repo / name, text);
  Git(repo, {"add", "-A"});
  Git(repo, {"commit", "-q", "-m", "project"});
}

std::string HeadCommit(const fs::path& repo) {
  auto r = RunProcess({"git", "-C", repo.string(), "rev-parse", "HEAD"});
  return r.out.substr(0, r.out.find('\n'));
}

bool WaitForFile(const fs::path& path, std::chrono::seconds limit = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!fs::exists(path)) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// --- the machine ---------------------------------------------------------------------------------

TEST(RunEnvironment, ParsesTheMpiVersions) {
  EXPECT_EQ(MpiVersionFromOutput("mpirun (Open MPI) 4.1.4\n\nReport bugs to http://x\n"),
            "Open MPI 4.1.4");
  EXPECT_EQ(MpiVersionFromOutput("HYDRA build details:\n    Version:                 4.0.2\n"
                                 "    Release Date:  x\n"),
            "MPICH 4.0.2");
  EXPECT_EQ(MpiVersionFromOutput("\nIntel(R) MPI Library 2021.6\nCopyright\n"),
            "Intel(R) MPI Library 2021.6");
  EXPECT_EQ(MpiVersionFromOutput(""), "");
}

TEST(RunEnvironment, TagsTheFactsThatAreKnown) {
  RunEnvironment env{.mlt_version = "1.2.3", .compiler = "GCC 12.2.0", .os = "Linux",
                     .cpu_model = "", .cpu_count = 4, .mpi = ""};
  std::vector<std::pair<std::string, std::string>> tags;
  for (const auto& t : EnvironmentTags(env)) tags.emplace_back(t.key, t.value);
  EXPECT_THAT(tags, ElementsAre(Pair("mlt.env.mltVersion", "1.2.3"),
                                Pair("mlt.env.compiler", "GCC 12.2.0"),
                                Pair("mlt.env.os", "Linux"), Pair("mlt.env.cpuCount", "4")));
  RunEnvironment here = DetectRunEnvironment();
  EXPECT_FALSE(here.mlt_version.empty());
  EXPECT_EQ(here.cpu_count, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_THAT(here.os, HasSubstr("Linux"));
}

// --- the command's process -----------------------------------------------------------------------

TEST(CommandProcess, SavesAndEchoesEachStreamAndReturnsTheExitCode) {
  TempDir dir;
  std::ofstream(dir / "echo.txt").close();
  int echo = ::open((dir / "echo.txt").c_str(), O_WRONLY | O_APPEND);
  CommandLaunch launch;
  launch.command = "printf 'one\\ntwo'; echo oops >&2; echo \"$GREETING $PWD\"; exit 3";
  launch.dir = dir.path();
  launch.set_env = {{"GREETING", "hello"}};
  launch.stdout_file = dir / "out.txt";
  launch.stderr_file = dir / "err.txt";
  launch.stdout_echo = echo;
  launch.echo_prefix = "[t] ";
  CommandOutcome outcome = RunCommandProcess(launch);
  ::close(echo);
  EXPECT_EQ(outcome.exit_code, 3);
  EXPECT_EQ(outcome.stop_signal, 0);
  std::string folder = fs::canonical(dir.path()).string();
  EXPECT_EQ(ReadFile(dir / "out.txt"), "one\ntwohello " + folder + "\n");
  EXPECT_EQ(ReadFile(dir / "err.txt"), "oops\n");
  EXPECT_EQ(ReadFile(dir / "echo.txt"), "[t] one\n[t] twohello " + folder + "\n");
}

TEST(CommandProcess, ASignalDeathIs128PlusTheSignalAndLeftoversAreKilled) {
  TempDir dir;
  CommandLaunch launch;
  // A process that ignores SIGTERM stays behind in the group when bash exits. It would outlive
  // the test's time limit, so a RunCommandProcess that waited for it instead of killing it
  // fails the test by timing out.
  launch.command = "echo $$ > pgid; (trap '' TERM; exec sleep 100000) & sleep 0.1; kill -9 $$";
  launch.dir = dir.path();
  launch.stdout_file = dir / "out.txt";
  launch.stderr_file = dir / "err.txt";
  CommandOutcome outcome = RunCommandProcess(launch);
  EXPECT_EQ(outcome.exit_code, 128 + SIGKILL);
  pid_t pgid = std::stoi(ReadFile(dir / "pgid"));
  EXPECT_TRUE(GroupEnds(pgid));
}

TEST(CommandProcess, AMissingFolderIsAnIoError) {
  TempDir dir;
  CommandLaunch launch;
  launch.command = "true";
  launch.dir = dir / "nope";
  launch.stdout_file = dir / "out.txt";
  launch.stderr_file = dir / "err.txt";
  EXPECT_ERROR(RunCommandProcess(launch), ErrorCode::kIoError,
               HasSubstr("Cannot run 'bash -c' in '" + (dir / "nope").string() + "'"));
}

// --- what a run records --------------------------------------------------------------------------

TEST_F(RunnerTest, RecordsMlflowTagsParamsOutputAndTheMachine) {
  fs::path project = ScoringProject();
  RunRequest request = Request(project, {{"reg", "0.5"}, {"extra", "x y"}});
  request.run_name = "first";
  RunResult result = runner_->Execute(runner_->Prepare(request));
  EXPECT_EQ(result.status, RunStatus::kFinished);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.experiment_id, "0");

  ::mltrack::Run run = store_->GetRun(result.run_id);
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
  EXPECT_TRUE(run.info.end_time.has_value());
  EXPECT_EQ(run.info.run_name, "first");
  EXPECT_THAT(Params(result.run_id),
              ElementsAre(Pair("extra", "x y"), Pair("rank", "10"), Pair("reg", "0.5")));
  auto tags = Tags(result.run_id);
  EXPECT_EQ(tags["mlflow.source.type"], "PROJECT");
  EXPECT_EQ(tags["mlflow.source.name"], project.string());
  EXPECT_EQ(tags["mlflow.project.entryPoint"], "main");
  EXPECT_EQ(tags["mlflow.project.env"], "local");
  EXPECT_EQ(tags["mlflow.project.backend"], "local");
  EXPECT_EQ(tags["mlflow.runName"], "first");
  EXPECT_FALSE(tags["mlflow.user"].empty());
  EXPECT_EQ(tags["mlt.project.uri"], project.string());
  EXPECT_EQ(tags["mlt.project.command"], "bash train.sh 10 0.5 --extra 'x y'");
  EXPECT_EQ(tags["mlt.project.params"], R"(["rank","reg","extra"])");
  EXPECT_EQ(tags["mlt.exitCode"], "0");
  EXPECT_FALSE(tags.count("mlflow.source.git.commit"));  // not in a git repository
  EXPECT_FALSE(tags.count("mlt.project.version"));
  EXPECT_FALSE(tags["mlt.env.mltVersion"].empty());
  EXPECT_FALSE(tags["mlt.env.compiler"].empty());
  EXPECT_THAT(tags["mlt.env.os"], HasSubstr("Linux"));
  EXPECT_EQ(tags["mlt.env.cpuCount"], std::to_string(std::thread::hardware_concurrency()));
  EXPECT_EQ(tags.count("mlt.env.mpi"), DetectRunEnvironment().mpi.empty() ? 0u : 1u);

  // The command logged into the same run, through the absolute sqlite URI it was given.
  EXPECT_THAT(Metrics(result.run_id), ElementsAre(Pair("rmse", 1.5)));
  EXPECT_EQ(Artifact(result.run_id, "stdout.txt"), "score 1.500000\n");
  EXPECT_EQ(Artifact(result.run_id, "stderr.txt"), "to stderr\n");
  EXPECT_THAT(reports_,
              ElementsAre("=== Running command 'bash train.sh 10 0.5 --extra 'x y'' in run with "
                          "ID '" + result.run_id + "' ===",
                          "=== Run (ID '" + result.run_id + "') succeeded ==="));
}

TEST_F(RunnerTest, TheCommandSeesTheRunTheStoreAndTheExperiment) {
  fs::path project = dir_ / "env";
  WriteFile(project / "MLproject",
            "entry_points:\n  main:\n    command: \"env | grep -E '^(MLT|MLFLOW)_' | sort\"\n");
  setenv("MLT_EXPERIMENT_NAME", "from-env", 1);
  RunResult result = runner_->Execute(runner_->Prepare(Request(project)));
  unsetenv("MLT_EXPERIMENT_NAME");
  std::string id = store_->GetExperimentByName("from-env").experiment_id;
  EXPECT_EQ(result.experiment_id, id);
  std::string uri = "sqlite:///" + (dir_ / "mlruns.db").string();
  EXPECT_EQ(Artifact(result.run_id, "stdout.txt"),
            "MLFLOW_EXPERIMENT_ID=" + id + "\nMLFLOW_RUN_ID=" + result.run_id +
                "\nMLFLOW_TRACKING_URI=" + uri + "\nMLT_EXPERIMENT_ID=" + id +
                "\nMLT_RUN_ID=" + result.run_id + "\nMLT_TRACKING_URI=" + uri + "\n");
}

TEST_F(RunnerTest, ExitCodesBecomeStatuses) {
  fs::path project = dir_ / "exits";
  WriteFile(project / "MLproject", "entry_points:\n  main:\n    parameters: {code: int}\n"
                                   "    command: \"exit {code}\"\n");
  std::string last;
  for (auto [code, status] : {std::pair{0, RunStatus::kFinished}, {1, RunStatus::kFailed},
                              {42, RunStatus::kFailed}}) {
    RunResult result =
        runner_->Execute(runner_->Prepare(Request(project, {{"code", std::to_string(code)}})));
    EXPECT_EQ(result.exit_code, code);
    EXPECT_EQ(result.status, status);
    EXPECT_EQ(store_->GetRun(result.run_id).info.status, status);
    EXPECT_EQ(Tags(result.run_id)["mlt.exitCode"], std::to_string(code));
    last = result.run_id;
  }
  EXPECT_EQ(reports_.back(), "=== Run (ID '" + last + "') failed (exit code 42) ===");
}

TEST_F(RunnerTest, FingerprintsEveryPathParameter) {
  fs::path project = ScoringProject();
  WriteFile(dir_ / "data" / "ratings.csv", "1,2,3\n4,5,6\n");
  fs::path data = dir_ / "data" / "ratings.csv";
  RunResult result = runner_->Execute(
      runner_->Prepare(Request(project, {{"data", data.string()}}) /* main ignores it */));
  RunRequest fit = Request(project, {{"data", data.string()}});
  fit.entry_point = "fit";
  RunResult fitted = runner_->Execute(runner_->Prepare(fit));
  EXPECT_EQ(fitted.status, RunStatus::kFinished);
  auto tags = Tags(fitted.run_id);
  EXPECT_EQ(tags["mlt.input.data.path"], data.string());
  EXPECT_EQ(tags["mlt.input.data.sha256"], Sha256Hex("1,2,3\n4,5,6\n"));
  EXPECT_EQ(Metrics(fitted.run_id)["lines"], 2);
  // An undeclared parameter is a string, even when it names a file.
  EXPECT_FALSE(Tags(result.run_id).count("mlt.input.data.sha256"));
}

TEST_F(RunnerTest, RecordsTheGitWorkTreeAndItsUncommittedChanges) {
  fs::path repo = dir_ / "repo";
  MakeGitRepo(repo, {{"proj/MLproject", kScoringProject}, {"proj/train.sh", kTrainScript}});
  Git(repo, {"remote", "add", "origin", "https://example.invalid/recs.git"});
  RunResult clean = runner_->Execute(runner_->Prepare(Request(repo / "proj")));
  auto tags = Tags(clean.run_id);
  EXPECT_EQ(tags["mlflow.source.git.commit"], HeadCommit(repo));
  EXPECT_EQ(tags["mlflow.source.git.repoURL"], "https://example.invalid/recs.git");
  EXPECT_EQ(tags["mlflow.gitRepoURL"], "https://example.invalid/recs.git");
  EXPECT_EQ(tags["mlflow.source.git.branch"], "main");
  EXPECT_EQ(tags["mlt.source.git.dirty"], "false");
  EXPECT_FALSE(tags.count("mlt.source.git.diffSha256"));

  std::ofstream(repo / "proj" / "train.sh", std::ios::app) << "echo changed\n";
  RunResult dirty = runner_->Execute(runner_->Prepare(Request(repo / "proj")));
  tags = Tags(dirty.run_id);
  EXPECT_EQ(tags["mlt.source.git.dirty"], "true");
  std::string diff = Artifact(dirty.run_id, "git_diff.patch");
  EXPECT_THAT(diff, HasSubstr("+echo changed"));
  EXPECT_EQ(tags["mlt.source.git.diffSha256"], Sha256Hex(diff));
  EXPECT_THAT(Artifact(dirty.run_id, "stdout.txt"), HasSubstr("changed\n"));
}

TEST_F(RunnerTest, ResumesARunGivenItsId) {
  fs::path project = ScoringProject();
  ::mltrack::Run existing = store_->CreateRun({.experiment_id = "0", .run_name = "mine"});
  store_->LogParam(existing.info.run_id, {"rank", "10"});
  RunRequest request = Request(project);
  request.run_id = existing.info.run_id;
  RunResult result = runner_->Execute(runner_->Prepare(request));
  EXPECT_EQ(result.run_id, existing.info.run_id);
  EXPECT_EQ(store_->GetRun(result.run_id).info.status, RunStatus::kFinished);
  EXPECT_EQ(Tags(result.run_id)["mlflow.source.type"], "PROJECT");
  EXPECT_EQ(AllRuns().size(), 1u);

  request.params = {{"rank", "30"}};
  EXPECT_ERROR(runner_->Prepare(request), ErrorCode::kInvalidParameterValue,
               "Run " + existing.info.run_id +
                   " already has param 'rank' = '10'; a run's params cannot change (given '30')");
}

// --- bad input: refused before any run exists ----------------------------------------------------

// run_cli_test.cc refuses more of the issue's list through the CLI.
TEST_F(RunnerTest, RefusesBadInputBeforeAnythingRuns) {
  fs::path good = ScoringProject();
  fs::path repo = dir_ / "repo";
  MakeGitRepo(repo, {{"MLproject", kScoringProject}, {"train.sh", kTrainScript}});
  store_->DeleteExperiment(store_->CreateExperiment("gone", "", {}));
  const std::string touch = "entry_points:\n  main: {command: \"touch ran\"}\n";
  // A request for a project whose MLproject is `text` ("": the scoring project).
  auto request = [&](const std::string& folder, const std::string& text,
                     void (*adjust)(RunRequest&) = [](RunRequest&) {}) {
    if (!text.empty()) WriteFile(dir_ / folder / "MLproject", text);
    RunRequest r = Request(text.empty() ? good : dir_ / folder);
    adjust(r);
    return r;
  };
  struct Case {
    RunRequest request;
    ErrorCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {request("yaml", "entry_points: [\n"), ErrorCode::kInvalidParameterValue, "line 2"},
      {request("key", "entrypoints: {}\n"), ErrorCode::kInvalidParameterValue,
       "unknown key 'entrypoints'"},
      {request("envs", "conda_env: c.yaml\ndocker_env: {image: x}\n" + touch),
       ErrorCode::kInvalidParameterValue, "conda_env and docker_env are both given"},
      {request("req", "entry_points:\n  main:\n    parameters: {data: path, n: int}\n"
                      "    command: \"touch ran\"\n"),
       ErrorCode::kInvalidParameterValue,
       "Missing values for required parameters of entry point 'main': 'data', 'n'"},
      {Request(good, {{"reg", "0.1x"}}), ErrorCode::kInvalidParameterValue,
       "Parameter 'reg' of entry point 'main' must be a float, got '0.1x'"},
      {Request("file:///nonexistent/repo.git"), ErrorCode::kInvalidParameterValue,
       "Cannot clone 'file:///nonexistent/repo.git'"},
      {Request(repo.string() + "#../.."), ErrorCode::kInvalidParameterValue,
       "The subdirectory '../..' of '" + repo.string() + "' escapes the repository"},
      {Request(FileUriFromPath(repo.string()) + "#../x"), ErrorCode::kInvalidParameterValue,
       "escapes the repository"},
      {request("", "", [](RunRequest& r) { r.version = "main"; }),
       ErrorCode::kInvalidParameterValue, "--version applies to git projects"},
      {request("docker", "docker_env: {image: 'recs:1'}\n" + touch,
               [](RunRequest& r) { r.env_manager = "docker"; }),
       ErrorCode::kInvalidParameterValue,
       "--env-manager docker is not supported: mlt runs commands in the current environment "
       "only, and the project's docker_env image 'recs:1' would need docker to run it"},
      {request("venv", "python_env: python_env.yaml\n" + touch,
               [](RunRequest& r) { r.env_manager = "virtualenv"; }),
       ErrorCode::kInvalidParameterValue,
       "the project's python_env 'python_env.yaml' would need virtualenv and pyenv to create it"},
      {request("", "", [](RunRequest& r) { r.experiment_name = "gone"; }),
       ErrorCode::kInvalidState, "Experiment 'gone' is deleted; restore it or choose another name"},
      {request("", "", [](RunRequest& r) { r.experiment_id = "77"; }),
       ErrorCode::kResourceDoesNotExist, "77"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.request.uri);
    EXPECT_ERROR(runner_->Execute(runner_->Prepare(c.request)), c.code, HasSubstr(c.message));
  }
  EXPECT_TRUE(AllRuns().empty());
  for (const char* folder : {"docker", "venv", "envs", "req"}) {
    EXPECT_FALSE(fs::exists(dir_ / folder / "ran"));
  }
}

// --- stop signals --------------------------------------------------------------------------------

TEST_F(RunnerTest, AStopSignalIsForwardedToTheGroupAndTheRunEndsKilled) {
  fs::path project = dir_ / "trap";
  WriteFile(project / "MLproject",
            "entry_points:\n  main:\n    command: \"bash stubborn.sh\"\n");
  // Traps SIGTERM and leaves a child that ignores it: the run still ends, and nothing remains.
  WriteFile(project / "stubborn.sh",
            "trap 'echo trapped > marker; exit 5' TERM\n"
            "echo $$ > pgid\n"
            "(trap '' TERM; exec sleep 60) &\n"
            "touch started\n"
            "sleep 60 & wait\n");
  PreparedRun prepared = runner_->Prepare(Request(project));
  RunResult result;
  {
    StopSignals stop_signals;
    std::thread run([&] { result = runner_->Execute(prepared); });
    ASSERT_TRUE(WaitForFile(project / "started"));
    ::kill(::getpid(), SIGTERM);
    run.join();
    EXPECT_EQ(StopSignals::Received(), SIGTERM);
  }
  EXPECT_EQ(StopSignals::Received(), 0);
  EXPECT_EQ(result.status, RunStatus::kKilled);
  EXPECT_EQ(result.exit_code, 128 + SIGTERM);
  EXPECT_EQ(store_->GetRun(result.run_id).info.status, RunStatus::kKilled);
  EXPECT_EQ(ReadFile(project / "marker"), "trapped\n");
  EXPECT_TRUE(GroupEnds(std::stoi(ReadFile(project / "pgid"))));
  EXPECT_EQ(reports_.back(),
            "=== Run (ID '" + result.run_id + "') killed (SIGTERM forwarded to its processes) ===");
}

// --- reruns --------------------------------------------------------------------------------------

TEST_F(RunnerTest, ARerunRunsTheSameParamsAndGivesTheSameMetrics) {
  fs::path project = ScoringProject();
  RunResult first = runner_->Execute(runner_->Prepare(
      Request(project, {{"extra", "b"}, {"reg", "0.25"}, {"alpha", "a"}})));
  RerunPlan plan = PlanRerun(*store_, first.run_id, /*force=*/false);
  EXPECT_TRUE(plan.warnings.empty());
  EXPECT_EQ(plan.request.uri, project.string());
  EXPECT_EQ(plan.request.entry_point, "main");
  EXPECT_EQ(plan.request.experiment_id, "0");
  // The declared parameters, then the extra ones in the order given (and appended in it).
  EXPECT_THAT(plan.request.params, ElementsAre(Pair("rank", "10"), Pair("reg", "0.25"),
                                               Pair("extra", "b"), Pair("alpha", "a")));
  RunResult second = runner_->Execute(runner_->Prepare(plan.request));
  EXPECT_EQ(Tags(second.run_id)["mlt.rerunOf"], first.run_id);
  EXPECT_EQ(Tags(second.run_id)["mlt.project.command"], Tags(first.run_id)["mlt.project.command"]);
  EXPECT_EQ(Params(second.run_id), Params(first.run_id));
  EXPECT_EQ(Metrics(second.run_id), Metrics(first.run_id));
}

TEST_F(RunnerTest, ARerunOfAWorkTreeChecksItsCommitAndChanges) {
  fs::path repo = dir_ / "repo";
  MakeGitRepo(repo, {{"MLproject", kScoringProject}, {"train.sh", kTrainScript}});
  RunResult first = runner_->Execute(runner_->Prepare(Request(repo)));
  std::string commit = HeadCommit(repo);
  EXPECT_NO_THROW(PlanRerun(*store_, first.run_id, false));

  WriteFile(repo / "notes.txt", "x\n");
  EXPECT_ERROR(PlanRerun(*store_, first.run_id, false), ErrorCode::kInvalidState,
               HasSubstr("The uncommitted changes of '" + repo.string() + "' differ from run " +
                         first.run_id + "'s: the run had none, the work tree's diff has sha256 "));
  Git(repo, {"add", "-A"});
  Git(repo, {"commit", "-q", "-m", "notes"});
  EXPECT_ERROR(PlanRerun(*store_, first.run_id, false), ErrorCode::kInvalidState,
               "The project '" + repo.string() + "' is at commit " + HeadCommit(repo) +
                   ", run " + first.run_id + " ran commit " + commit +
                   ". Pass --force to rerun anyway");
  EXPECT_EQ(PlanRerun(*store_, first.run_id, true).warnings.size(), 1u);
}

TEST_F(RunnerTest, ARerunNeedsARunMadeByMltRun) {
  ::mltrack::Run plain = store_->CreateRun({.experiment_id = "0"});
  EXPECT_ERROR(PlanRerun(*store_, plain.info.run_id, false), ErrorCode::kInvalidParameterValue,
               "Run " + plain.info.run_id +
                   " was not made by `mlt run`: it has no recorded project (tags mlt.project.uri, "
                   "mlt.project.params and mlflow.project.entryPoint)");
  EXPECT_ERROR(PlanRerun(*store_, "0123456789abcdef0123456789abcdef", false),
               ErrorCode::kResourceDoesNotExist, HasSubstr("0123456789abcdef0123456789abcdef"));
}

}  // namespace
}  // namespace mltrack::projects
