// Tracking entities as MLflow defines them: experiments, runs, params, metrics, tags.
//
// Times are milliseconds since the Unix epoch, as in MLflow's REST API. Ids are strings on the
// wire (experiment ids are decimal integers, run ids 32 lowercase hex digits).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mltrack {

enum class RunStatus { kRunning, kScheduled, kFinished, kFailed, kKilled };
// "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED".
std::string_view RunStatusName(RunStatus status);
// Throws Error(kInvalidParameterValue) naming the accepted values for an unknown name.
RunStatus ParseRunStatus(std::string_view name);
// FINISHED, FAILED and KILLED are terminal.
bool IsTerminal(RunStatus status);

enum class LifecycleStage { kActive, kDeleted };
std::string_view LifecycleStageName(LifecycleStage stage);  // "active", "deleted"

// Which lifecycle stages a search returns (MLflow's ViewType).
enum class ViewType { kActiveOnly, kDeletedOnly, kAll };
std::string_view ViewTypeName(ViewType view);  // "ACTIVE_ONLY", "DELETED_ONLY", "ALL"
ViewType ParseViewType(std::string_view name);

struct Metric {
  std::string key;
  double value = 0;        // NaN and +-Inf are valid values and are stored as such
  int64_t timestamp = 0;   // ms since epoch
  int64_t step = 0;
};

struct Param {
  std::string key;
  std::string value;
};

struct Tag {
  std::string key;
  std::string value;
};

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  std::vector<Tag> tags;
};

struct RunInfo {
  std::string run_id;
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
};

struct RunData {
  std::vector<Metric> metrics;  // the latest value of each key
  std::vector<Param> params;
  std::vector<Tag> tags;
};

struct Run {
  RunInfo info;
  RunData data;
};

// One page of a listing. An empty next_page_token means this was the last page.
template <class T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

// Arguments of SearchRuns, as MLflow's runs/search takes them.
struct RunSearch {
  std::vector<std::string> experiment_ids;
  std::string filter;                  // MLflow filter grammar plus OR, parentheses, IS NULL
  ViewType view = ViewType::kActiveOnly;
  int max_results = 1000;              // 1..50000
  std::vector<std::string> order_by;   // e.g. {"metrics.rmse DESC", "attributes.start_time"}
  std::string page_token;
};

struct ExperimentSearch {
  std::string filter;                  // name, tags.<key>, creation_time, last_update_time
  ViewType view = ViewType::kActiveOnly;
  int max_results = 1000;
  std::vector<std::string> order_by;
  std::string page_token;
};

// Arguments of CreateRun. Empty fields take MLflow's defaults: the current time, a generated
// run name (or the value of an `mlflow.runName` tag), an empty user.
struct RunCreate {
  std::string experiment_id = "0";
  std::string run_name;
  std::string user_id;
  std::optional<int64_t> start_time;
  std::vector<Tag> tags;
};

// Arguments of UpdateRun; absent fields stay as they are.
struct RunUpdate {
  std::optional<RunStatus> status;
  std::optional<int64_t> end_time;
  std::optional<std::string> run_name;
};

// One entry of an artifact listing. Paths are relative to the run's artifact root and use '/'.
struct FileInfo {
  std::string path;
  bool is_dir = false;
  int64_t file_size = 0;  // 0 for folders
};

}  // namespace mltrack
