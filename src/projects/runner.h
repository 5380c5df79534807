// The project runner behind `mlt run` and `mlt rerun`: fetch a project, resolve an entry point,
// record the run, run its command as a child process and end the run with the child's outcome.
//
//   Runner runner(store, {.tracking_uri = uri});
//   PreparedRun prepared = runner.Prepare(request);   // every check; nothing created yet
//   RunResult result = runner.Execute(prepared);     // create, record, run, end
//
// Prepare throws mltrack::Error for every bad input (a malformed MLproject, an unknown entry
// point, a missing or mistyped parameter, a missing path, an uncloneable URL, an escaping
// subdirectory, an unsupported environment manager, a deleted experiment): no run exists then.
// Execute creates (or resumes) the run and records, before the command starts:
//   tags   mlflow.user, mlflow.source.name, mlflow.source.type=PROJECT,
//          mlflow.source.git.commit, mlflow.source.git.repoURL and mlflow.gitRepoURL,
//          mlflow.source.git.branch and mlflow.gitBranchName (when known),
//          mlflow.project.entryPoint, mlflow.project.env=local, mlflow.project.backend=local,
//          mlflow.runName (the store's), mlt.project.uri, mlt.project.version (clones),
//          mlt.project.subdirectory, mlt.project.command, mlt.project.params (the names of the
//          params below, in order, a JSON array), mlt.source.git.dirty, mlt.source.git.diffSha256
//          (dirty work trees), mlt.input.<param>.path and mlt.input.<param>.sha256 (every
//          path parameter: the absolute path and its fingerprint, sha256.h),
//          the machine (run_environment.h), and the request's own tags;
//   params every resolved parameter;
//   artifacts git_diff.patch (dirty work trees);
// then runs `bash -c <command>` in the project folder (RunCommandProcess, run_environment.h)
// with MLT_RUN_ID, MLT_TRACKING_URI (a sqlite URI made absolute), MLT_EXPERIMENT_ID and their
// MLFLOW_* twins set (and MLT_/MLFLOW_EXPERIMENT_NAME removed); streams its stdout and stderr as
// they come and saves them as the artifacts stdout.txt and stderr.txt; tags mlt.exitCode; and
// ends the run FINISHED (exit 0), FAILED (any other exit) or KILLED (a stop signal was
// forwarded, see StopSignals).
//
// Threading: one Runner may Prepare and Execute several runs at once (sweeps do).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mltrack/entities.h"
#include "projects/mlproject.h"
#include "projects/project_source.h"
#include "projects/run_environment.h"
#include "tracking/tracking_store.h"

namespace mltrack::projects {

// What `mlt run` is asked to run.
struct RunRequest {
  std::string uri;                       // project URI (project_source.h)
  std::optional<std::string> version;    // a commit, branch or tag of a git project
  std::string entry_point = "main";
  std::vector<std::pair<std::string, std::string>> params;  // -P, in the order given
  // The experiment: by name (created when it does not exist), else by id; both empty: the
  // environment's MLT_/MLFLOW_EXPERIMENT_NAME, else MLT_/MLFLOW_EXPERIMENT_ID, else "0".
  std::string experiment_name;
  std::string experiment_id;
  std::string run_name;                  // empty: the store names it
  std::string run_id;                    // resume this run instead of creating one
  std::string env_manager = "local";     // local only; conda, virtualenv, docker are refused
  std::vector<Tag> tags;                 // added to the run's (mlt.rerunOf, mlflow.parentRunId)
  std::string output_prefix;             // starts every line echoed to the terminal
};

struct RunnerOptions {
  std::string tracking_uri;              // the store's URI; empty: from the environment
  std::filesystem::path project_cache;   // empty: DefaultProjectCache()
  int stdout_fd = 1;                     // where the command's output is echoed; -1: nowhere
  int stderr_fd = 2;
  // Receives the progress lines ("=== Running command ... ==="); may be empty.
  std::function<void(const std::string& line)> report;
  // After a stop signal is forwarded, the command's process group is killed (SIGKILL) when the
  // command has not ended within this time.
  std::chrono::milliseconds kill_grace{10'000};
};

// A fetched project and its MLproject.
struct LoadedProject {
  FetchedProject source;
  ProjectSpec spec;
  bool cloned = false;  // fetched into the project cache (else a local folder run in place)
};

// A run that passed every check and is ready to execute.
struct PreparedRun {
  std::shared_ptr<const LoadedProject> project;
  ResolvedEntryPoint entry;
  std::string experiment_id;    // "" when experiment_name is to be created by Execute
  std::string experiment_name;
  std::string run_id;           // a run to resume, else ""
  std::string run_name;
  std::string user;
  std::vector<Tag> tags;        // every tag the run is given when it starts
  std::string output_prefix;
};

struct RunResult {
  std::string run_id;
  std::string experiment_id;
  RunStatus status = RunStatus::kFailed;
  // The command's exit code (128 + N when signal N ended it); 128 + N as well when stop signal
  // N was forwarded, whatever the command did with it.
  int exit_code = 0;
};

class Runner {
 public:
  Runner(std::shared_ptr<tracking::TrackingStore> store, RunnerOptions options);

  // Checks the environment manager, fetches the project and reads its MLproject.
  std::shared_ptr<const LoadedProject> Load(const RunRequest& request);
  // Every check of `request` against `project`; creates nothing. The fingerprint of each path
  // parameter is computed here (once per path and Runner).
  PreparedRun Prepare(std::shared_ptr<const LoadedProject> project, const RunRequest& request);
  PreparedRun Prepare(const RunRequest& request) { return Prepare(Load(request), request); }

  // Begin, RunCommand and the end of the run. Throws only when the store (or starting bash)
  // fails; a run begun is then ended FAILED before the error propagates.
  RunResult Execute(const PreparedRun& run);

  // Creates the run (and its experiment, when named and missing) or resumes it, and records its
  // tags, params and git diff. The run is RUNNING.
  RunInfo Begin(const PreparedRun& run);
  // Runs the command of a begun run to its end, saves its output and ends the run.
  RunResult RunCommand(const PreparedRun& run, const RunInfo& info);
  // Ends a run with `status` now.
  void End(const std::string& run_id, RunStatus status);

  // Passes a progress line to RunnerOptions::report, if any.
  void Report(const std::string& line) const;

  tracking::TrackingStore& store() { return *store_; }
  const RunnerOptions& options() const { return options_; }
  // The tracking URI the command is given: a sqlite URI with an absolute path, else as given.
  const std::string& child_tracking_uri() const { return child_tracking_uri_; }

 private:
  std::string Fingerprint(const std::filesystem::path& path);
  const RunEnvironment& Environment();

  std::shared_ptr<tracking::TrackingStore> store_;
  RunnerOptions options_;
  std::string child_tracking_uri_;
  std::mutex mutex_;  // guards the caches below
  std::map<std::filesystem::path, std::string> fingerprints_;
  std::optional<RunEnvironment> environment_;
};

// What `mlt rerun` runs again: the recorded project (its URI and, for a clone, its commit),
// entry point and params, in the original run's experiment, tagged mlt.rerunOf.
struct RerunPlan {
  RunRequest request;
  std::vector<std::string> warnings;  // the changes --force accepted
};

// Reads run `run_id` and checks that its inputs are as they were: every mlt.input.<p>.sha256
// against the file or folder now at that path, and, for a project run in place from a git work
// tree, its commit and uncommitted changes. A change is refused with Error(kInvalidState) naming
// it and both hashes (or commits), unless `force`, which turns each into a warning. A run that
// `mlt run` did not make is refused with kInvalidParameterValue.
RerunPlan PlanRerun(tracking::TrackingStore& store, const std::string& run_id, bool force);

}  // namespace mltrack::projects
