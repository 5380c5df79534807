#include "projects/runner.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/scratch_dir.h"
#include "common/tracking_uri.h"
#include "mltrack/error.h"
#include "projects/sha256.h"
#include "tracking/artifact_repository.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;

// --- recording ----------------------------------------------------------------------------------

std::string CurrentUser() {
  for (const char* name : {"USER", "LOGNAME"}) {
    if (const char* value = std::getenv(name); value && *value) return value;
  }
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_name) return pw->pw_name;
  return "unknown";
}

template <class Entity>
void LogInBatches(tracking::TrackingStore& store, const std::string& run_id,
                  const std::vector<Entity>& entities) {
  for (size_t begin = 0; begin < entities.size();
       begin += tracking::kMaxParamsTagsPerBatch) {
    size_t end = std::min(entities.size(), begin + tracking::kMaxParamsTagsPerBatch);
    std::vector<Entity> batch(entities.begin() + begin, entities.begin() + end);
    if constexpr (std::is_same_v<Entity, Param>) {
      store.LogBatch(run_id, {}, batch, {});
    } else {
      store.LogBatch(run_id, {}, {}, batch);
    }
  }
}

// The first `limit` bytes of `text`, cut at a UTF-8 character boundary.
std::string TruncateUtf8(const std::string& text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// Whether `path` is `folder` or below it, symbolic links resolved.
bool IsInside(const fs::path& path, const fs::path& folder) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(path, ec);
  fs::path f = fs::weakly_canonical(folder, ec);
  if (!f.empty() && f.filename().empty()) f = f.parent_path();  // "/cache/" -> "/cache"
  return std::mismatch(f.begin(), f.end(), p.begin(), p.end()).first == f.end();
}

std::string EnvOr(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (const char* value = std::getenv(name); value && *value) return value;
  }
  return "";
}

// What running the project's environment would take, for the refusal of a non-local manager.
std::string WhatTheEnvironmentNeeds(const std::string& manager, const ProjectSpec& spec) {
  switch (spec.env) {
    case EnvKind::kNone:
      return "the project declares no environment (conda_env, python_env or docker_env)";
    case EnvKind::kDocker:
      return fmt::format("the project's docker_env image '{}' would need docker to run it",
                         spec.env_value);
    case EnvKind::kConda:
    case EnvKind::kPython:
      break;
  }
  const char* tool = manager == "virtualenv" ? "virtualenv and pyenv" : manager.c_str();
  return fmt::format("the project's {} '{}' would need {} to create it", EnvKindKey(spec.env),
                     spec.env_value, tool);
}

[[noreturn]] void RefuseEnvManager(const std::string& manager, const ProjectSpec& spec) {
  std::string declared = WhatTheEnvironmentNeeds(manager, spec);
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("--env-manager {} is not supported: mlt runs commands in the current "
                          "environment only, and {}. Install what the command needs and use "
                          "--env-manager local",
                          manager, declared));
}

void CheckParamLimits(const std::vector<std::pair<std::string, std::string>>& params) {
  for (const auto& [key, value] : params) {
    if (key.size() > tracking::kMaxEntityKeyLength) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Parameter name '{}' has {} characters; the limit is {}", key,
                              key.size(), tracking::kMaxEntityKeyLength));
    }
    if (value.size() > tracking::kMaxParamValueLength) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("The value of parameter '{}' has {} characters; the limit is {}",
                              key, value.size(), tracking::kMaxParamValueLength));
    }
  }
}

const std::string* FindTag(const std::vector<Tag>& tags, std::string_view key) {
  for (const auto& tag : tags) {
    if (tag.key == key) return &tag.value;
  }
  return nullptr;
}

}  // namespace

// --- Runner --------------------------------------------------------------------------------------

Runner::Runner(std::shared_ptr<tracking::TrackingStore> store, RunnerOptions options)
    : store_(std::move(store)), options_(std::move(options)) {
  if (options_.tracking_uri.empty()) options_.tracking_uri = TrackingUriFromEnvironment();
  TrackingUri uri = ParseTrackingUri(options_.tracking_uri);
  child_tracking_uri_ =
      uri.scheme == TrackingUri::Scheme::kSqlite
          ? "sqlite:///" + fs::absolute(uri.sqlite_path).lexically_normal().string()
          : options_.tracking_uri;
}

void Runner::Report(const std::string& line) const {
  if (options_.report) options_.report(line);
}

std::string Runner::Fingerprint(const fs::path& path) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = fingerprints_.find(path); it != fingerprints_.end()) return it->second;
  }
  std::string hex = FingerprintPath(path);
  std::lock_guard lock(mutex_);
  fingerprints_.emplace(path, hex);
  return hex;
}

const RunEnvironment& Runner::Environment() {
  std::lock_guard lock(mutex_);
  if (!environment_) environment_ = DetectRunEnvironment();
  return *environment_;
}

std::shared_ptr<const LoadedProject> Runner::Load(const RunRequest& request) {
  static const std::set<std::string> kManagers = {"local", "conda", "virtualenv", "docker"};
  if (!kManagers.count(request.env_manager)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Unknown environment manager '{}': use local (conda, virtualenv and "
                            "docker are recognised but not supported)",
                            request.env_manager));
  }
  auto project = std::make_shared<LoadedProject>();
  fs::path cache = options_.project_cache.empty() ? DefaultProjectCache() : options_.project_cache;
  project->source = FetchProject(request.uri, request.version, cache);
  project->spec = LoadProjectSpec(project->source.dir);
  if (request.env_manager != "local") RefuseEnvManager(request.env_manager, project->spec);
  project->cloned = IsInside(project->source.dir, cache);
  return project;
}

PreparedRun Runner::Prepare(std::shared_ptr<const LoadedProject> project,
                            const RunRequest& request) {
  PreparedRun run;
  run.project = project;
  run.entry = ResolveEntryPoint(project->spec, project->source.dir, request.entry_point,
                                request.params);
  CheckParamLimits(run.entry.params);
  run.run_name = request.run_name;
  run.user = CurrentUser();
  run.output_prefix = request.output_prefix;

  // The experiment, or the run to resume; checked now, created (a named experiment) by Begin.
  auto experiment_of_name = [&](const std::string& name) -> std::string {
    try {
      Experiment exp = store_->GetExperimentByName(name);
      if (exp.lifecycle_stage != LifecycleStage::kActive) {
        throw Error(ErrorCode::kInvalidState,
                    fmt::format("Experiment '{}' is deleted; restore it or choose another name",
                                name));
      }
      return exp.experiment_id;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kResourceDoesNotExist) throw;
      return "";
    }
  };
  auto check_experiment_id = [&](const std::string& id) {
    if (store_->GetExperiment(id).lifecycle_stage != LifecycleStage::kActive) {
      throw Error(ErrorCode::kInvalidState, fmt::format("Experiment {} is deleted", id));
    }
  };
  if (!request.run_id.empty()) {
    Run existing = store_->GetRun(request.run_id);
    if (existing.info.lifecycle_stage != LifecycleStage::kActive) {
      throw Error(ErrorCode::kInvalidState,
                  fmt::format("Run {} is deleted; restore it to resume it", request.run_id));
    }
    std::string wanted = !request.experiment_name.empty()
                             ? experiment_of_name(request.experiment_name)
                             : request.experiment_id;
    if ((!request.experiment_name.empty() || !wanted.empty()) &&
        wanted != existing.info.experiment_id) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Run {} is in experiment {}, not in the experiment given",
                              request.run_id, existing.info.experiment_id));
    }
    for (const auto& [key, value] : run.entry.params) {
      for (const auto& p : existing.data.params) {
        if (p.key == key && p.value != value) {
          throw Error(ErrorCode::kInvalidParameterValue,
                      fmt::format("Run {} already has param '{}' = '{}'; a run's params cannot "
                                  "change (given '{}')",
                                  request.run_id, key, p.value, value));
        }
      }
    }
    run.run_id = request.run_id;
    run.experiment_id = existing.info.experiment_id;
  } else {
    std::string name = request.experiment_name;
    std::string id = request.experiment_id;
    if (name.empty() && id.empty()) {
      name = EnvOr({"MLT_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME"});
      if (name.empty()) id = EnvOr({"MLT_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID"});
      if (name.empty() && id.empty()) id = "0";
    }
    if (!name.empty()) {
      run.experiment_name = name;
      run.experiment_id = experiment_of_name(name);
    } else {
      check_experiment_id(id);
      run.experiment_id = id;
    }
  }

  // Tags, as MLflow names them, then mlt's.
  const FetchedProject& source = project->source;
  std::vector<Tag>& tags = run.tags;
  tags = {{"mlflow.user", run.user},
          {"mlflow.source.name", source.source_name},
          {"mlflow.source.type", "PROJECT"},
          {"mlflow.project.entryPoint", run.entry.entry_point},
          {"mlflow.project.env", "local"},
          {"mlflow.project.backend", "local"}};
  if (source.git) {
    const GitInfo& git = *source.git;
    tags.push_back({"mlflow.source.git.commit", git.commit});
    if (!git.repo_url.empty()) {
      tags.push_back({"mlflow.source.git.repoURL", git.repo_url});
      tags.push_back({"mlflow.gitRepoURL", git.repo_url});
    }
    if (!git.branch.empty()) {
      tags.push_back({"mlflow.source.git.branch", git.branch});
      tags.push_back({"mlflow.gitBranchName", git.branch});
    }
    tags.push_back({"mlt.source.git.dirty", git.dirty ? "true" : "false"});
    if (git.dirty) tags.push_back({"mlt.source.git.diffSha256", Sha256Hex(git.diff)});
  }
  if (project->cloned) {
    tags.push_back({"mlt.project.uri", source.subdirectory.empty()
                                           ? source.source_name
                                           : source.source_name + "#" + source.subdirectory});
    if (source.git) tags.push_back({"mlt.project.version", source.git->commit});
  } else {
    tags.push_back({"mlt.project.uri", fs::absolute(source.dir).lexically_normal().string()});
  }
  if (!source.subdirectory.empty()) {
    tags.push_back({"mlt.project.subdirectory", source.subdirectory});
  }
  tags.push_back({"mlt.project.command",
                  TruncateUtf8(run.entry.command, tracking::kMaxTagValueLength)});
  // The command's own logging may add params: these are the ones a rerun passes again.
  nlohmann::json names = nlohmann::json::array();
  for (const auto& [key, value] : run.entry.params) names.push_back(key);
  tags.push_back({"mlt.project.params", names.dump()});
  for (const auto& [name, path] : run.entry.paths) {
    tags.push_back({fmt::format("mlt.input.{}.path", name), path.string()});
    tags.push_back({fmt::format("mlt.input.{}.sha256", name), Fingerprint(path)});
  }
  for (auto& tag : EnvironmentTags(Environment())) tags.push_back(std::move(tag));
  for (const auto& tag : request.tags) {
    std::erase_if(tags, [&](const Tag& t) { return t.key == tag.key; });
    tags.push_back(tag);
  }
  for (const auto& tag : tags) {
    if (tag.value.size() > tracking::kMaxTagValueLength) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("The tag '{}' would have {} characters; the limit is {}", tag.key,
                              tag.value.size(), tracking::kMaxTagValueLength));
    }
  }
  return run;
}

RunInfo Runner::Begin(const PreparedRun& run) {
  RunInfo info;
  if (!run.run_id.empty()) {
    RunUpdate update;
    update.status = RunStatus::kRunning;
    if (!run.run_name.empty()) update.run_name = run.run_name;
    info = store_->UpdateRun(run.run_id, update);
  } else {
    RunCreate create;
    create.experiment_id = run.experiment_id;
    if (create.experiment_id.empty()) {
      try {
        create.experiment_id = store_->CreateExperiment(run.experiment_name, "", {});
      } catch (const Error& e) {
        // Another process created it since Prepare looked.
        if (e.code() != ErrorCode::kResourceAlreadyExists) throw;
        create.experiment_id = store_->GetExperimentByName(run.experiment_name).experiment_id;
      }
    }
    create.run_name = run.run_name;
    create.user_id = run.user;
    create.tags = run.tags;
    info = store_->CreateRun(create).info;
  }
  try {
    if (!run.run_id.empty()) LogInBatches(*store_, info.run_id, run.tags);
    std::vector<Param> params;
    for (const auto& [key, value] : run.entry.params) params.push_back({key, value});
    LogInBatches(*store_, info.run_id, params);
    const auto& git = run.project->source.git;
    if (git && git->dirty) {
      ScratchDir scratch("mlt-run");
      fs::path patch = scratch / "git_diff.patch";
      std::ofstream out(patch, std::ios::binary);
      out.write(git->diff.data(), static_cast<std::streamsize>(git->diff.size()));
      if (!out.flush()) {
        throw Error(ErrorCode::kIoError,
                    fmt::format("Cannot save the work tree's diff in '{}'", patch.string()));
      }
      tracking::OpenArtifactRepository(info.artifact_uri, options_.tracking_uri)
          ->LogFile(patch, "");
    }
  } catch (...) {
    try {
      End(info.run_id, RunStatus::kFailed);
    } catch (const std::exception&) {
      // The first failure is the one to report.
    }
    throw;
  }
  return info;
}

RunResult Runner::RunCommand(const PreparedRun& run, const RunInfo& info) {
  RunResult result;
  result.run_id = info.run_id;
  result.experiment_id = info.experiment_id;
  try {
    ScratchDir scratch("mlt-run");
    CommandLaunch launch;
    launch.command = run.entry.command;
    launch.dir = run.project->source.dir;
    launch.set_env = {
        {"MLT_RUN_ID", info.run_id},
        {"MLFLOW_RUN_ID", info.run_id},
        {"MLT_TRACKING_URI", child_tracking_uri_},
        {"MLFLOW_TRACKING_URI", child_tracking_uri_},
        {"MLT_EXPERIMENT_ID", info.experiment_id},
        {"MLFLOW_EXPERIMENT_ID", info.experiment_id},
    };
    // A command that calls `mlt` gets this very binary: its folder goes first in PATH.
    std::error_code self_error;
    fs::path self = fs::read_symlink("/proc/self/exe", self_error);
    if (!self_error && self.filename() == "mlt") {
      const char* path = std::getenv("PATH");
      launch.set_env["PATH"] =
          self.parent_path().string() + (path && *path ? std::string(":") + path : "");
    }
    // A relative artifact root means the folder `mlt run` runs in, not the command's.
    if (const char* root = std::getenv("MLT_ARTIFACT_ROOT");
        root && *root && !std::strchr(root, ':')) {
      launch.set_env["MLT_ARTIFACT_ROOT"] = fs::absolute(root).lexically_normal().string();
    }
    // The run's experiment is MLT_EXPERIMENT_ID's; a name inherited from here would contradict it.
    launch.unset_env = {"MLT_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME"};
    launch.stdout_file = scratch / "stdout.txt";
    launch.stderr_file = scratch / "stderr.txt";
    launch.stdout_echo = options_.stdout_fd;
    launch.stderr_echo = options_.stderr_fd;
    launch.echo_prefix = run.output_prefix;
    launch.kill_grace = options_.kill_grace;
    Report(fmt::format("{}=== Running command '{}' in run with ID '{}' ===", run.output_prefix,
                       run.entry.command, info.run_id));
    std::fflush(stdout);  // what this process printed comes before the command's output
    CommandOutcome outcome = RunCommandProcess(launch);

    auto repo = tracking::OpenArtifactRepository(info.artifact_uri, options_.tracking_uri);
    repo->LogFile(scratch / "stdout.txt", "");
    repo->LogFile(scratch / "stderr.txt", "");
    result.exit_code = outcome.exit_code;
    result.status = outcome.stop_signal != 0 ? RunStatus::kKilled
                    : outcome.exit_code == 0 ? RunStatus::kFinished
                                             : RunStatus::kFailed;
    store_->SetTag(info.run_id, {"mlt.exitCode", std::to_string(outcome.exit_code)});
    End(info.run_id, result.status);
    if (result.status == RunStatus::kFinished) {
      Report(fmt::format("{}=== Run (ID '{}') succeeded ===", run.output_prefix, info.run_id));
    } else if (result.status == RunStatus::kFailed) {
      Report(fmt::format("{}=== Run (ID '{}') failed (exit code {}) ===", run.output_prefix,
                         info.run_id, outcome.exit_code));
    } else {
      Report(fmt::format("{}=== Run (ID '{}') killed (SIG{} forwarded to its processes) ===",
                         run.output_prefix, info.run_id, sigabbrev_np(outcome.stop_signal)));
    }
  } catch (...) {
    try {
      End(info.run_id, RunStatus::kFailed);
    } catch (const std::exception&) {
      // The first failure is the one to report.
    }
    throw;
  }
  return result;
}

RunResult Runner::Execute(const PreparedRun& run) { return RunCommand(run, Begin(run)); }

void Runner::End(const std::string& run_id, RunStatus status) {
  RunUpdate update;
  update.status = status;
  update.end_time = NowMillis();
  store_->UpdateRun(run_id, update);
}

// --- rerun ---------------------------------------------------------------------------------------

RerunPlan PlanRerun(tracking::TrackingStore& store, const std::string& run_id, bool force) {
  Run old = store.GetRun(run_id);
  const std::vector<Tag>& tags = old.data.tags;
  if (FindTag(tags, "mlt.sweep.strategy")) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Run {} is the parent of a sweep: rerun one of its trials, or run the "
                            "sweep again",
                            run_id));
  }
  const std::string* uri = FindTag(tags, "mlt.project.uri");
  const std::string* entry = FindTag(tags, "mlflow.project.entryPoint");
  const std::string* param_names = FindTag(tags, "mlt.project.params");
  nlohmann::json names;
  if (param_names) names = nlohmann::json::parse(*param_names, nullptr, false);
  if (!uri || !entry || !names.is_array()) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Run {} was not made by `mlt run`: it has no recorded project (tags "
                            "mlt.project.uri, mlt.project.params and mlflow.project.entryPoint)",
                            run_id));
  }
  RerunPlan plan;
  RunRequest& request = plan.request;
  request.uri = *uri;
  if (const std::string* version = FindTag(tags, "mlt.project.version")) request.version = *version;
  request.entry_point = *entry;
  request.experiment_id = old.info.experiment_id;
  request.tags = {{"mlt.rerunOf", run_id}};

  // The params `mlt run` gave, in its order: the extra ones are appended to the command in it.
  // Params the command logged itself are not the project's.
  std::map<std::string, std::string> values;
  for (const auto& p : old.data.params) values[p.key] = p.value;
  for (const auto& name : names) {
    auto it = name.is_string() ? values.find(name.get<std::string>()) : values.end();
    if (it == values.end()) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Run {} has lost the param {} that `mlt run` recorded", run_id,
                              name.dump()));
    }
    request.params.emplace_back(it->first, it->second);
  }

  std::vector<std::string> changes;
  constexpr std::string_view kPrefix = "mlt.input.", kSuffix = ".sha256";
  for (const auto& tag : tags) {
    std::string_view key = tag.key;
    if (key.size() <= kPrefix.size() + kSuffix.size() || !key.starts_with(kPrefix) ||
        !key.ends_with(kSuffix)) {
      continue;
    }
    std::string name(key.substr(kPrefix.size(), key.size() - kPrefix.size() - kSuffix.size()));
    const std::string* recorded_path = FindTag(tags, fmt::format("mlt.input.{}.path", name));
    auto it = values.find(name);
    if (!recorded_path && it == values.end()) continue;
    fs::path path =
        recorded_path ? fs::path(*recorded_path) : fs::path(LocalPathFromUri(it->second));
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(path, ec))) {
      changes.push_back(fmt::format("input '{}' of run {} no longer exists: '{}' (recorded sha256 "
                                    "{})",
                                    name, run_id, path.string(), tag.value));
      continue;
    }
    std::string now = FingerprintPath(path);
    if (now != tag.value) {
      changes.push_back(fmt::format("input '{}' of run {} has changed: '{}' has sha256 {}, the "
                                    "run recorded {}",
                                    name, run_id, path.string(), now, tag.value));
    }
  }

  // A project run in place from a git work tree: the same commit and uncommitted changes.
  const std::string* commit = FindTag(tags, "mlflow.source.git.commit");
  if (!request.version && commit) {
    if (std::optional<GitInfo> git = LocalGitInfo(request.uri)) {
      if (git->commit != *commit) {
        changes.push_back(fmt::format("the project '{}' is at commit {}, run {} ran commit {}",
                                      request.uri, git->commit, run_id, *commit));
      } else {
        const std::string* recorded = FindTag(tags, "mlt.source.git.diffSha256");
        std::string then = recorded ? *recorded : "";
        std::string now = git->dirty ? Sha256Hex(git->diff) : "";
        if (now != then) {
          changes.push_back(fmt::format(
              "the uncommitted changes of '{}' differ from run {}'s: {}", request.uri, run_id,
              then.empty()  ? fmt::format("the run had none, the work tree's diff has sha256 {}",
                                          now)
              : now.empty() ? fmt::format("the work tree has none, the run's diff had sha256 {}",
                                          then)
                            : fmt::format("the diff has sha256 {}, the run's had {}", now, then)));
        }
      }
    }
  }
  if (!changes.empty()) {
    if (!force) {
      std::string message;
      for (const auto& change : changes) message += (message.empty() ? "" : "; ") + change;
      message[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(message[0])));
      throw Error(ErrorCode::kInvalidState, message + ". Pass --force to rerun anyway");
    }
    plan.warnings = std::move(changes);
  }
  return plan;
}

}  // namespace mltrack::projects
