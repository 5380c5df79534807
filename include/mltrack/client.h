// The C++ tracking client: what training code links (`find_package(mltrack)`, target
// `mltrack::client`) to log params, metrics, tags and artifacts while it trains.
//
//   mltrack::Client client;                      // tracking URI from the environment
//   auto run = client.StartRun({.experiment = "recs", .run_name = "rank-20"});
//   run.LogParam("rank", 20);
//   run.LogMetric("rmse", 0.81, /*step=*/3);     // queued; a background thread sends batches
//   run.LogArtifact("plots/loss.png");
//   // ~ActiveRun flushes and ends the run FINISHED, or FAILED when unwinding from an exception
//
// Threading: a Client and its ActiveRuns may be used from several threads at once.
// Errors: every call throws mltrack::Error. A metric that the background sender could not
// deliver is never dropped silently: the sender retries transient failures with back-off, and
// a permanent failure is rethrown by the next Flush() or End(); the destructor, which cannot
// throw, prints it to stderr.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mltrack/entities.h"
#include "mltrack/error.h"

namespace mltrack {

namespace tracking {
class TrackingStore;
}

struct ClientOptions {
  // Empty: MLT_TRACKING_URI, else MLFLOW_TRACKING_URI, else sqlite:///mlruns.db.
  std::string tracking_uri;
  // LogMetric blocks (briefly) when this many metrics wait to be sent: memory stays bounded.
  size_t max_queued_metrics = 100'000;
  // The sender sends what is queued at least this often, and at once when a full batch waits.
  std::chrono::milliseconds flush_interval{100};
  // How long the sender keeps retrying a batch that fails for a transient reason (server down,
  // database locked) before the failure is reported as permanent.
  std::chrono::milliseconds retry_for{std::chrono::minutes(5)};
};

struct RunOptions {
  // The experiment by name, created when it does not exist; empty means experiment_id.
  std::string experiment;
  // Used when `experiment` is empty. When both are empty: MLT_EXPERIMENT_NAME /
  // MLFLOW_EXPERIMENT_NAME, else MLT_EXPERIMENT_ID / MLFLOW_EXPERIMENT_ID, else "0".
  std::string experiment_id;
  std::string run_name;
  std::vector<Tag> tags;
  // Resume this run instead of creating one; empty means MLT_RUN_ID / MLFLOW_RUN_ID, if set.
  std::string run_id;
};

struct LogModelOptions {
  // Also registers the logged model under this name (created when it does not exist), as
  // MLflow's registered_model_name: a new version whose source is the logged bundle.
  std::string registered_model_name;
};

struct LoggedModel {
  std::string model_uri;          // runs:/<run_id>/<artifact_path>
  std::string model_uuid;         // the bundle's model_uuid
  std::string registered_model_name;
  std::string registered_version;  // empty unless registered
};

// The printed form of a param value: integers in decimal, floating point in the shortest form
// that reads back to the same double, booleans as "true"/"false".
std::string FormatParamValue(double value);

class ActiveRun {
 public:
  ActiveRun(ActiveRun&&) noexcept;
  ActiveRun& operator=(ActiveRun&&) = delete;
  ActiveRun(const ActiveRun&) = delete;
  // Flushes and ends the run: FAILED when the destructor runs because an exception unwinds the
  // stack through the scope that started the run, FINISHED otherwise. Never throws.
  ~ActiveRun();

  const std::string& run_id() const;
  const std::string& experiment_id() const;
  const std::string& artifact_uri() const;

  // Params are immutable: logging the same key with another value throws kInvalidParameterValue.
  void LogParam(std::string_view key, std::string_view value);
  void LogParam(std::string_view key, const char* value) { LogParam(key, std::string_view(value)); }
  template <class T>
    requires std::is_arithmetic_v<T>
  void LogParam(std::string_view key, T value) {
    if constexpr (std::is_same_v<T, bool>) {
      LogParam(key, std::string_view(value ? "true" : "false"));
    } else if constexpr (std::is_integral_v<T>) {
      LogParam(key, std::string_view(std::to_string(value)));
    } else {
      LogParam(key, std::string_view(FormatParamValue(static_cast<double>(value))));
    }
  }
  void LogParams(const std::map<std::string, std::string>& params);

  // Queued and sent in batches by a background thread; the key is validated here, at once.
  // timestamp_ms 0 means now.
  void LogMetric(std::string_view key, double value, int64_t step = 0, int64_t timestamp_ms = 0);
  void LogMetrics(const std::map<std::string, double>& metrics, int64_t step = 0);

  void SetTag(std::string_view key, std::string_view value);
  void SetTags(const std::map<std::string, std::string>& tags);

  // Copies a file into the run's artifacts, under `artifact_dir` (empty: the root).
  void LogArtifact(const std::filesystem::path& local_file, std::string_view artifact_dir = "");
  // Copies a folder's contents into the run's artifacts, under `artifact_dir`.
  void LogArtifacts(const std::filesystem::path& local_dir, std::string_view artifact_dir = "");

  // Logs a model bundle (a folder holding an MLmodel, or a .tar.gz bundle archive) at
  // `artifact_path` of the run's artifacts and records it in the run's
  // `mlflow.log-model.history` tag (MLflow's runs/log-model). The uploaded MLmodel names this run
  // and `artifact_path`; the local bundle is not modified. Checked before anything is uploaded:
  // the MLmodel is valid, every flavor's data file exists, and the run has no model at that path
  // yet (kResourceAlreadyExists).
  LoggedModel LogModel(const std::filesystem::path& bundle, std::string_view artifact_path = "model",
                       const LogModelOptions& options = {});

  // Blocks until every queued metric is stored; throws the sender's error, if any.
  void Flush();
  // Flushes and sets the final status and end time; FAILED instead when queued metrics could not
  // be stored (and the flush error is rethrown). Idempotent; later Log* calls throw.
  void End(RunStatus status = RunStatus::kFinished);

 private:
  friend class Client;
  struct State;
  explicit ActiveRun(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& tracking_uri() const;

  // Creates a run (or resumes the one named by RunOptions::run_id / MLT_RUN_ID) and returns
  // the handle that logs to it. Keep it in a scope: its destructor ends the run.
  ActiveRun StartRun(const RunOptions& options = {});

  std::string CreateExperiment(const std::string& name);
  Experiment GetExperimentByName(const std::string& name);
  // Returns the id of the active experiment of that name, creating it if needed.
  std::string GetOrCreateExperiment(const std::string& name);
  Run GetRun(const std::string& run_id);
  Page<Run> SearchRuns(const RunSearch& search);
  std::vector<Metric> GetMetricHistory(const std::string& run_id, const std::string& key);

  // Model URIs (runs:/<run>/<path>, models:/<name>/<version|stage|latest>, models:/<name>@<alias>,
  // a local bundle folder or archive), resolved through this client's tracking URI.
  // Copies the bundle into `dest_dir`, which must not exist; returns it.
  std::filesystem::path DownloadModel(std::string_view model_uri,
                                      const std::filesystem::path& dest_dir);
  // Registers the model at `model_uri` as a new version of `name` (created when needed) and
  // returns the version number.
  std::string RegisterModel(std::string_view model_uri, const std::string& name);

 private:
  std::string ResolveExperiment(const RunOptions& options);

  ClientOptions options_;
  std::shared_ptr<tracking::TrackingStore> store_;
};

}  // namespace mltrack
