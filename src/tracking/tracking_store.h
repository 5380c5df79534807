// The abstract tracking store. The SQLite store (sqlite:///...) and, later, the REST store
// (http://...) implement it with the same semantics, checked by one contract suite.
//
// Every method throws mltrack::Error on failure with MLflow's code: kResourceDoesNotExist for an
// unknown id, kInvalidParameterValue for bad input, kResourceAlreadyExists for a duplicate name,
// kInvalidState for an operation the entity's lifecycle stage forbids. Implementations are safe to
// call from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mltrack/entities.h"

namespace mltrack::tracking {

// MLflow's limits.
inline constexpr int kMaxMetricsPerBatch = 1000;
inline constexpr int kMaxParamsTagsPerBatch = 100;
inline constexpr int kMaxEntitiesPerBatch = 1000;
inline constexpr size_t kMaxEntityKeyLength = 250;
inline constexpr size_t kMaxParamValueLength = 6000;
inline constexpr size_t kMaxTagValueLength = 8000;
inline constexpr size_t kMaxExperimentNameLength = 500;
inline constexpr int kMaxResultsPerSearch = 50000;
inline constexpr int kMaxHistoryPerPage = 25000;
inline constexpr int kDefaultHistoryPerPage = 25000;

class TrackingStore {
 public:
  virtual ~TrackingStore() = default;

  // --- experiments ---------------------------------------------------------------------------
  // Returns the new experiment's id. An empty artifact_location takes the store's default
  // (<artifact root>/<id>). The name must be unique among active experiments.
  virtual std::string CreateExperiment(const std::string& name,
                                       const std::string& artifact_location,
                                       const std::vector<Tag>& tags) = 0;
  // Returns the experiment even when it is deleted.
  virtual Experiment GetExperiment(const std::string& experiment_id) = 0;
  // Returns the active experiment of that name, else a deleted one; kResourceDoesNotExist if none.
  virtual Experiment GetExperimentByName(const std::string& name) = 0;
  virtual Page<Experiment> SearchExperiments(const ExperimentSearch& search) = 0;
  virtual void RenameExperiment(const std::string& experiment_id, const std::string& new_name) = 0;
  // Soft delete: the experiment and its runs move to the deleted stage. "0" can't be deleted.
  virtual void DeleteExperiment(const std::string& experiment_id) = 0;
  virtual void RestoreExperiment(const std::string& experiment_id) = 0;
  virtual void SetExperimentTag(const std::string& experiment_id, const Tag& tag) = 0;
  virtual void DeleteExperimentTag(const std::string& experiment_id, const std::string& key) = 0;

  // --- runs ----------------------------------------------------------------------------------
  // The experiment must be active. The run starts RUNNING with artifact_uri
  // <experiment artifact_location>/<run_id>/artifacts and the tag mlflow.runName.
  virtual Run CreateRun(const RunCreate& create) = 0;
  // Changing the name also sets the mlflow.runName tag. Returns the updated info.
  virtual RunInfo UpdateRun(const std::string& run_id, const RunUpdate& update) = 0;
  // Returns the run even when it is deleted.
  virtual Run GetRun(const std::string& run_id) = 0;
  virtual void DeleteRun(const std::string& run_id) = 0;
  virtual void RestoreRun(const std::string& run_id) = 0;
  virtual Page<Run> SearchRuns(const RunSearch& search) = 0;

  // --- logging -------------------------------------------------------------------------------
  // All or nothing. Limits: 1000 metrics, 100 params, 100 tags, 1000 entities in all. Params are
  // immutable: the same value again is accepted, another is refused. The run must be active.
  virtual void LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                        const std::vector<Param>& params, const std::vector<Tag>& tags) = 0;
  virtual void DeleteTag(const std::string& run_id, const std::string& key) = 0;
  // Records a model logged to the run (MLflow's runs/log-model): `model_json` is the bundle's
  // MLmodel as a JSON object (see logged_model.h); its entry is appended to the run's
  // `mlflow.log-model.history` tag atomically, so concurrent calls all end up in the list.
  virtual void LogModel(const std::string& run_id, const std::string& model_json) = 0;
  // The whole history of one metric ordered by (step, timestamp), a page at a time.
  // max_results 0 means the default page size.
  virtual Page<Metric> GetMetricHistory(const std::string& run_id, const std::string& key,
                                        int max_results, const std::string& page_token) = 0;
  // The points of one metric's history with steps in `steps` (inclusive; all when absent),
  // downsampled to at most `max_points` as DownsampleMetricHistory (metric_downsampling.h)
  // defines it: what charts draw. The default reads the history page by page; the SQLite store
  // streams its rows and keeps only the sampled points.
  virtual std::vector<Metric> SampleMetricHistory(
      const std::string& run_id, const std::string& key,
      std::optional<std::pair<int64_t, int64_t>> steps, int max_points);

  // LogBatch of one, as MLflow defines them.
  void LogMetric(const std::string& run_id, const Metric& metric) {
    LogBatch(run_id, {metric}, {}, {});
  }
  void LogParam(const std::string& run_id, const Param& param) {
    LogBatch(run_id, {}, {param}, {});
  }
  void SetTag(const std::string& run_id, const Tag& tag) { LogBatch(run_id, {}, {}, {tag}); }
};

}  // namespace mltrack::tracking
