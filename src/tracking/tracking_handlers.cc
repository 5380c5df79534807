// MLflow's REST API 2.0 tracking endpoints: experiments and runs (this file); logging, metric
// histories and artifact listings in tracking_handlers_logging.cc. Which fields each endpoint
// requires, and the response wrappers, follow mlflow/server/handlers.py and service.proto.
#include "tracking/tracking_handlers.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mltrack/error.h"
#include "tracking/entity_json.h"
#include "tracking/tracking_handlers_internal.h"

namespace mltrack::tracking {
namespace {

using handlers::RequestFields;
using handlers::RouteBoth;
using handlers::SetJson;
using nlohmann::json;

using Store = std::shared_ptr<TrackingStore>;

constexpr int kDefaultSearchResults = 1000;  // MLflow's SEARCH_MAX_RESULTS_DEFAULT

// max_results of a search: absent is MLflow's default; outside 1..50000 is refused with the
// store's (MLflow's) message, also for values that do not fit an int.
int SearchMaxResults(const RequestFields& fields) {
  auto max_results = fields.Int64("max_results");
  if (!max_results) return kDefaultSearchResults;
  if (*max_results < 1 || *max_results > kMaxResultsPerSearch) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid value {} for parameter 'max_results' supplied. It must be "
                            "between 1 and {}",
                            *max_results, kMaxResultsPerSearch));
  }
  return static_cast<int>(*max_results);
}

// MLflow's _validate_experiment_artifact_location and the fragment check of
// _validate_artifact_root_uri.
void ValidateArtifactLocation(const std::string& location) {
  if (location.starts_with("runs:")) {
    throw Error(ErrorCode::kInvalidParameterValue, "Artifact location cannot be a runs:/ URI.");
  }
  if (location.find('#') != std::string::npos) {
    throw Error(ErrorCode::kInvalidParameterValue,
                "'artifact_location' URL can't include fragments or params.");
  }
}

// --- experiments --------------------------------------------------------------------------------

void CreateExperiment(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  std::string name = fields.RequiredString("name");
  std::string artifact_location = fields.String("artifact_location").value_or("");
  std::vector<Tag> tags = fields.TagList("tags");
  if (!artifact_location.empty()) ValidateArtifactLocation(artifact_location);
  std::string id = store->CreateExperiment(name, artifact_location, tags);
  SetJson(response, {{"experiment_id", id}});
}

void GetExperiment(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  Experiment experiment = store->GetExperiment(fields.RequiredString("experiment_id"));
  SetJson(response, {{"experiment", ToJson(experiment)}});
}

void GetExperimentByName(const Store& store, const http::Request& request,
                         http::Response& response) {
  RequestFields fields(request, {});
  Experiment experiment = store->GetExperimentByName(fields.RequiredString("experiment_name"));
  SetJson(response, {{"experiment", ToJson(experiment)}});
}

void SearchExperiments(const Store& store, const http::Request& request,
                       http::Response& response) {
  RequestFields fields(request, {"order_by"});
  ExperimentSearch search;
  search.max_results = SearchMaxResults(fields);
  search.page_token = fields.String("page_token").value_or("");
  search.filter = fields.String("filter").value_or("");
  search.order_by = fields.StringList("order_by");
  search.view = fields.View("view_type").value_or(ViewType::kActiveOnly);
  Page<Experiment> page = store->SearchExperiments(search);
  json body = json::object();
  if (!page.items.empty()) {
    json& experiments = body["experiments"] = json::array();
    for (const auto& experiment : page.items) experiments.push_back(ToJson(experiment));
  }
  if (!page.next_page_token.empty()) body["next_page_token"] = page.next_page_token;
  SetJson(response, body);
}

void DeleteExperiment(const Store& store, const http::Request& request,
                      http::Response& response) {
  RequestFields fields(request, {});
  store->DeleteExperiment(fields.RequiredString("experiment_id"));
  SetJson(response, json::object());
}

void RestoreExperiment(const Store& store, const http::Request& request,
                       http::Response& response) {
  RequestFields fields(request, {});
  store->RestoreExperiment(fields.RequiredString("experiment_id"));
  SetJson(response, json::object());
}

void UpdateExperiment(const Store& store, const http::Request& request,
                      http::Response& response) {
  RequestFields fields(request, {});
  std::string experiment_id = fields.RequiredString("experiment_id");
  std::string new_name = fields.RequiredString("new_name");
  store->RenameExperiment(experiment_id, new_name);
  SetJson(response, json::object());
}

void SetExperimentTag(const Store& store, const http::Request& request,
                      http::Response& response) {
  RequestFields fields(request, {});
  std::string experiment_id = fields.RequiredString("experiment_id");
  Tag tag{fields.RequiredString("key"), fields.String("value").value_or("")};
  store->SetExperimentTag(experiment_id, tag);
  SetJson(response, json::object());
}

void DeleteExperimentTag(const Store& store, const http::Request& request,
                         http::Response& response) {
  RequestFields fields(request, {});
  std::string experiment_id = fields.RequiredString("experiment_id");
  std::string key = fields.RequiredString("key");
  store->DeleteExperimentTag(experiment_id, key);
  SetJson(response, json::object());
}

// --- runs ---------------------------------------------------------------------------------------

void CreateRun(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  RunCreate create;
  // MLflow's clients always send experiment_id; without one the run goes to the default
  // experiment, as RunCreate's default says.
  auto experiment_id = fields.String("experiment_id");
  if (experiment_id && !experiment_id->empty()) create.experiment_id = *experiment_id;
  create.user_id = fields.String("user_id").value_or("");
  create.run_name = fields.String("run_name").value_or("");
  create.start_time = fields.Int64("start_time");
  create.tags = fields.TagList("tags");
  Run run = store->CreateRun(create);
  SetJson(response, {{"run", ToJson(run)}});
}

void UpdateRun(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  std::string run_id = fields.RunId();
  RunUpdate update;
  update.status = fields.Status("status");
  update.end_time = fields.Int64("end_time");
  update.run_name = fields.String("run_name");
  RunInfo info = store->UpdateRun(run_id, update);
  SetJson(response, {{"run_info", ToJson(info)}});
}

void DeleteRun(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  store->DeleteRun(fields.RequiredString("run_id"));
  SetJson(response, json::object());
}

void RestoreRun(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  store->RestoreRun(fields.RequiredString("run_id"));
  SetJson(response, json::object());
}

void GetRun(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  Run run = store->GetRun(fields.RunId());
  SetJson(response, {{"run", ToJson(run)}});
}

void SearchRuns(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {"experiment_ids", "order_by"});
  RunSearch search;
  search.experiment_ids = fields.StringList("experiment_ids");
  search.filter = fields.String("filter").value_or("");
  search.view = fields.View("run_view_type").value_or(ViewType::kActiveOnly);
  search.max_results = SearchMaxResults(fields);
  search.order_by = fields.StringList("order_by");
  search.page_token = fields.String("page_token").value_or("");
  Page<Run> page = store->SearchRuns(search);
  json body = json::object();
  if (!page.items.empty()) {
    json& runs = body["runs"] = json::array();
    for (const auto& run : page.items) runs.push_back(ToJson(run));
  }
  if (!page.next_page_token.empty()) body["next_page_token"] = page.next_page_token;
  SetJson(response, body);
}

using Endpoint = void (*)(const Store&, const http::Request&, http::Response&);

}  // namespace

void RegisterTrackingHandlers(http::Server& server, std::shared_ptr<TrackingStore> store,
                              TrackingHandlerOptions options) {
  // Methods and paths as service.proto declares them (delete-experiment-tag is a POST).
  struct Row {
    const char* method;
    const char* path;
    Endpoint endpoint;
  };
  const Row rows[] = {
      {"POST", "experiments/create", CreateExperiment},
      {"GET", "experiments/search", SearchExperiments},
      {"POST", "experiments/search", SearchExperiments},
      {"GET", "experiments/get", GetExperiment},
      {"GET", "experiments/get-by-name", GetExperimentByName},
      {"POST", "experiments/delete", DeleteExperiment},
      {"POST", "experiments/restore", RestoreExperiment},
      {"POST", "experiments/update", UpdateExperiment},
      {"POST", "experiments/set-experiment-tag", SetExperimentTag},
      {"POST", "experiments/delete-experiment-tag", DeleteExperimentTag},
      {"POST", "runs/create", CreateRun},
      {"POST", "runs/update", UpdateRun},
      {"POST", "runs/delete", DeleteRun},
      {"POST", "runs/restore", RestoreRun},
      {"GET", "runs/get", GetRun},
      {"POST", "runs/search", SearchRuns},
  };
  for (const Row& row : rows) {
    Endpoint endpoint = row.endpoint;
    RouteBoth(server, row.method, row.path,
              [store, endpoint](const http::Request& request, http::Response& response) {
                endpoint(store, request, response);
              });
  }
  handlers::RegisterLoggingHandlers(server, store, options);
}

}  // namespace mltrack::tracking
