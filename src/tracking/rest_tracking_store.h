// The TrackingStore over MLflow's REST API 2.0 (an `mlt server` or MLflow's own server), picked
// by OpenTrackingStore for http:// and https:// tracking URIs. An error body from the server is
// turned back into the same mltrack::Error (code and message), so callers see the same failure
// whether they talk to a file or a server.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/http_client.h"
#include "mltrack/error.h"
#include "tracking/tracking_store.h"

namespace mltrack::tracking {

class RestTrackingStore final : public TrackingStore {
 public:
  explicit RestTrackingStore(std::string base_url, http::ClientOptions options = {});
  ~RestTrackingStore() override;

  std::string CreateExperiment(const std::string& name, const std::string& artifact_location,
                               const std::vector<Tag>& tags) override;
  Experiment GetExperiment(const std::string& experiment_id) override;
  Experiment GetExperimentByName(const std::string& name) override;
  Page<Experiment> SearchExperiments(const ExperimentSearch& search) override;
  void RenameExperiment(const std::string& experiment_id, const std::string& new_name) override;
  void DeleteExperiment(const std::string& experiment_id) override;
  void RestoreExperiment(const std::string& experiment_id) override;
  void SetExperimentTag(const std::string& experiment_id, const Tag& tag) override;
  void DeleteExperimentTag(const std::string& experiment_id, const std::string& key) override;

  Run CreateRun(const RunCreate& create) override;
  RunInfo UpdateRun(const std::string& run_id, const RunUpdate& update) override;
  Run GetRun(const std::string& run_id) override;
  void DeleteRun(const std::string& run_id) override;
  void RestoreRun(const std::string& run_id) override;
  Page<Run> SearchRuns(const RunSearch& search) override;

  void LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                const std::vector<Param>& params, const std::vector<Tag>& tags) override;
  void DeleteTag(const std::string& run_id, const std::string& key) override;
  void LogModel(const std::string& run_id, const std::string& model_json) override;
  Page<Metric> GetMetricHistory(const std::string& run_id, const std::string& key,
                                int max_results, const std::string& page_token) override;

  const std::string& base_url() const;

 private:
  std::unique_ptr<http::Client> client_;
};

// The Error a response other than 200 stands for. `request` names it in messages
// ("GET http://host:5000/api/2.0/mlflow/runs/get"). An MLflow error body
// `{"error_code": ..., "message": ...}` gives back the same code (ErrorCodeFromName) and exactly
// its message; any other body becomes an error with a code for the HTTP status that quotes the
// status and the start of the body. Shared with the HTTP artifact repository.
Error ErrorFromResponse(const http::Result& result, std::string_view request);

}  // namespace mltrack::tracking
