#include "projects/runner_fixture.h"

#include <cstdlib>

#include "common/tracking_uri.h"
#include "tracking/store_factory.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::WriteFile;

// The commands of the test projects call `mlt`: the built one comes first in PATH.
const bool kMltInPath = [] {
  std::string path = fs::path(MLT_BINARY).parent_path().string();
  if (const char* old = std::getenv("PATH")) path += std::string(":") + old;
  setenv("PATH", path.c_str(), 1);
  return true;
}();

}  // namespace

RunnerTest::RunnerTest() : uri_("sqlite:///" + (dir_ / "mlruns.db").string()) {
  for (const char* name : {"MLT_RUN_ID", "MLFLOW_RUN_ID", "MLT_EXPERIMENT_NAME",
                           "MLFLOW_EXPERIMENT_NAME", "MLT_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID",
                           "MLT_TRACKING_URI", "MLFLOW_TRACKING_URI", "MLT_ARTIFACT_ROOT"}) {
    unsetenv(name);
  }
  store_ = tracking::OpenTrackingStore(uri_);
  RunnerOptions options;
  options.tracking_uri = uri_;
  options.project_cache = dir_ / "cache";
  options.stdout_fd = -1;
  options.stderr_fd = -1;
  options.report = [this](const std::string& line) { reports_.push_back(line); };
  runner_ = std::make_unique<Runner>(store_, options);
}

fs::path RunnerTest::ScoringProject(const std::string& name) {
  fs::path project = dir_ / name;
  WriteFile(project / "MLproject", kScoringProject);
  WriteFile(project / "train.sh", kTrainScript);
  return project;
}

RunRequest RunnerTest::Request(const fs::path& project,
                               std::vector<std::pair<std::string, std::string>> params) {
  RunRequest request;
  request.uri = project.string();
  request.params = std::move(params);
  return request;
}

std::map<std::string, std::string> RunnerTest::Tags(const std::string& run_id) {
  std::map<std::string, std::string> tags;
  for (const auto& t : store_->GetRun(run_id).data.tags) tags[t.key] = t.value;
  return tags;
}

std::map<std::string, std::string> RunnerTest::Params(const std::string& run_id) {
  std::map<std::string, std::string> params;
  for (const auto& p : store_->GetRun(run_id).data.params) params[p.key] = p.value;
  return params;
}

std::map<std::string, double> RunnerTest::Metrics(const std::string& run_id) {
  std::map<std::string, double> metrics;
  for (const auto& m : store_->GetRun(run_id).data.metrics) metrics[m.key] = m.value;
  return metrics;
}

std::string RunnerTest::Artifact(const std::string& run_id, const std::string& path) {
  return ReadFile(fs::path(LocalPathFromUri(store_->GetRun(run_id).info.artifact_uri)) / path);
}

std::vector<::mltrack::Run> RunnerTest::AllRuns() {
  ExperimentSearch es;
  es.view = ViewType::kAll;
  RunSearch search;
  for (const auto& e : store_->SearchExperiments(es).items) {
    search.experiment_ids.push_back(e.experiment_id);
  }
  search.view = ViewType::kAll;
  return store_->SearchRuns(search).items;
}

}  // namespace mltrack::projects
