#include "tracking/rest_tracking_store.h"

#include <map>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tracking/entity_json.h"
#include "tracking/rest_call.h"

namespace mltrack::tracking {
namespace {

using nlohmann::json;
using rest::Call;
using rest::Field;
using rest::NextPageToken;
using rest::Retry;
using rest::Snippet;

// The code a response without an MLflow error body stands for, by its status.
ErrorCode CodeForStatus(int status) {
  switch (status) {
    case 400:
      return ErrorCode::kBadRequest;
    case 401:
    case 403:
      return ErrorCode::kPermissionDenied;
    case 404:
      return ErrorCode::kEndpointNotFound;
    case 429:
      return ErrorCode::kResourceLimitExceeded;
    case 502:
    case 503:
    case 504:
      return ErrorCode::kTemporarilyUnavailable;
    default:
      return ErrorCode::kInternalError;
  }
}

json Strings(const std::vector<std::string>& items) { return json(items); }

template <class T>
json Array(const std::vector<T>& items) {
  json array = json::array();
  for (const auto& item : items) array.push_back(ToJson(item));
  return array;
}

}  // namespace

Error ErrorFromResponse(const http::Result& result, std::string_view request) {
  json body = json::parse(result.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object()) {
    auto code = body.find("error_code");
    auto message = body.find("message");
    if (code != body.end() && code->is_string()) {
      std::string text = message != body.end() && message->is_string()
                             ? message->get<std::string>()
                             : fmt::format("{} failed with HTTP status {}: {}", request,
                                           result.status, code->get<std::string>());
      return Error(
          ErrorCodeFromName(code->get<std::string>()).value_or(CodeForStatus(result.status)),
          std::move(text));
    }
  }
  return Error(CodeForStatus(result.status),
               fmt::format("{} failed with HTTP status {}: {}", request, result.status,
                           Snippet(result.body)));
}

RestTrackingStore::RestTrackingStore(std::string base_url, http::ClientOptions options)
    : client_(std::make_unique<http::Client>(std::move(base_url), std::move(options))) {}

RestTrackingStore::~RestTrackingStore() = default;

const std::string& RestTrackingStore::base_url() const { return client_->base_url(); }

// --- experiments -------------------------------------------------------------------------------

std::string RestTrackingStore::CreateExperiment(const std::string& name,
                                                const std::string& artifact_location,
                                                const std::vector<Tag>& tags) {
  json body = {{"name", name}};
  if (!artifact_location.empty()) body["artifact_location"] = artifact_location;
  if (!tags.empty()) body["tags"] = Array(tags);
  Call call(*client_, "POST", "/experiments/create");
  json answer = call.Post(body, Retry::kOnce);
  return call.Read([&] {
    const json& id = Field(answer, "experiment_id");
    if (!id.is_string()) ThrowInvalidJsonField("experiment_id", "expected a string");
    return id.get<std::string>();
  });
}

Experiment RestTrackingStore::GetExperiment(const std::string& experiment_id) {
  Call call(*client_, "GET", "/experiments/get");
  json answer = call.Get({{"experiment_id", experiment_id}});
  return call.Read([&] { return FromJson<Experiment>(Field(answer, "experiment"), "experiment"); });
}

Experiment RestTrackingStore::GetExperimentByName(const std::string& name) {
  Call call(*client_, "GET", "/experiments/get-by-name");
  json answer = call.Get({{"experiment_name", name}});
  return call.Read([&] { return FromJson<Experiment>(Field(answer, "experiment"), "experiment"); });
}

Page<Experiment> RestTrackingStore::SearchExperiments(const ExperimentSearch& search) {
  json body = {{"max_results", search.max_results}, {"view_type", ViewTypeName(search.view)}};
  if (!search.filter.empty()) body["filter"] = search.filter;
  if (!search.order_by.empty()) body["order_by"] = Strings(search.order_by);
  if (!search.page_token.empty()) body["page_token"] = search.page_token;
  Call call(*client_, "POST", "/experiments/search");
  json answer = call.Post(body, Retry::kRead);
  return call.Read([&] {
    return Page<Experiment>{FromJsonArray<Experiment>(Field(answer, "experiments"), "experiments"),
                            NextPageToken(answer)};
  });
}

void RestTrackingStore::RenameExperiment(const std::string& experiment_id,
                                         const std::string& new_name) {
  Call(*client_, "POST", "/experiments/update")
      .Post({{"experiment_id", experiment_id}, {"new_name", new_name}}, Retry::kIdempotent);
}

void RestTrackingStore::DeleteExperiment(const std::string& experiment_id) {
  Call(*client_, "POST", "/experiments/delete")
      .Post({{"experiment_id", experiment_id}}, Retry::kIdempotent);
}

void RestTrackingStore::RestoreExperiment(const std::string& experiment_id) {
  Call(*client_, "POST", "/experiments/restore")
      .Post({{"experiment_id", experiment_id}}, Retry::kIdempotent);
}

void RestTrackingStore::SetExperimentTag(const std::string& experiment_id, const Tag& tag) {
  Call(*client_, "POST", "/experiments/set-experiment-tag")
      .Post({{"experiment_id", experiment_id}, {"key", tag.key}, {"value", tag.value}},
            Retry::kIdempotent);
}

void RestTrackingStore::DeleteExperimentTag(const std::string& experiment_id,
                                            const std::string& key) {
  Call(*client_, "POST", "/experiments/delete-experiment-tag")
      .Post({{"experiment_id", experiment_id}, {"key", key}}, Retry::kIdempotent);
}

// --- runs --------------------------------------------------------------------------------------

Run RestTrackingStore::CreateRun(const RunCreate& create) {
  json body = {{"experiment_id", create.experiment_id}};
  if (!create.user_id.empty()) body["user_id"] = create.user_id;
  if (!create.run_name.empty()) body["run_name"] = create.run_name;
  if (create.start_time) body["start_time"] = *create.start_time;
  if (!create.tags.empty()) body["tags"] = Array(create.tags);
  Call call(*client_, "POST", "/runs/create");
  json answer = call.Post(body, Retry::kOnce);
  return call.Read([&] { return FromJson<Run>(Field(answer, "run"), "run"); });
}

RunInfo RestTrackingStore::UpdateRun(const std::string& run_id, const RunUpdate& update) {
  // run_uuid too, as MLflow's client sends it for servers that only know the old name.
  json body = {{"run_id", run_id}, {"run_uuid", run_id}};
  if (update.status) body["status"] = RunStatusName(*update.status);
  if (update.end_time) body["end_time"] = *update.end_time;
  if (update.run_name) body["run_name"] = *update.run_name;
  Call call(*client_, "POST", "/runs/update");
  json answer = call.Post(body, Retry::kIdempotent);
  return call.Read([&] { return FromJson<RunInfo>(Field(answer, "run_info"), "run_info"); });
}

Run RestTrackingStore::GetRun(const std::string& run_id) {
  Call call(*client_, "GET", "/runs/get");
  json answer = call.Get({{"run_id", run_id}, {"run_uuid", run_id}});
  return call.Read([&] { return FromJson<Run>(Field(answer, "run"), "run"); });
}

void RestTrackingStore::DeleteRun(const std::string& run_id) {
  Call(*client_, "POST", "/runs/delete").Post({{"run_id", run_id}}, Retry::kIdempotent);
}

void RestTrackingStore::RestoreRun(const std::string& run_id) {
  Call(*client_, "POST", "/runs/restore").Post({{"run_id", run_id}}, Retry::kIdempotent);
}

Page<Run> RestTrackingStore::SearchRuns(const RunSearch& search) {
  json body = {{"experiment_ids", Strings(search.experiment_ids)},
               {"run_view_type", ViewTypeName(search.view)},
               {"max_results", search.max_results}};
  if (!search.filter.empty()) body["filter"] = search.filter;
  if (!search.order_by.empty()) body["order_by"] = Strings(search.order_by);
  if (!search.page_token.empty()) body["page_token"] = search.page_token;
  Call call(*client_, "POST", "/runs/search");
  json answer = call.Post(body, Retry::kRead);
  return call.Read([&] {
    return Page<Run>{FromJsonArray<Run>(Field(answer, "runs"), "runs"), NextPageToken(answer)};
  });
}

// --- logging -----------------------------------------------------------------------------------

void RestTrackingStore::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                                 const std::vector<Param>& params, const std::vector<Tag>& tags) {
  json body = {{"run_id", run_id}};
  if (!metrics.empty()) body["metrics"] = Array(metrics);
  if (!params.empty()) body["params"] = Array(params);
  if (!tags.empty()) body["tags"] = Array(tags);
  Call(*client_, "POST", "/runs/log-batch").Post(body, Retry::kIdempotent);
}

void RestTrackingStore::LogModel(const std::string& run_id, const std::string& model_json) {
  Call(*client_, "POST", "/runs/log-model")
      .Post({{"run_id", run_id}, {"model_json", model_json}}, Retry::kOnce);
}

void RestTrackingStore::DeleteTag(const std::string& run_id, const std::string& key) {
  Call(*client_, "POST", "/runs/delete-tag")
      .Post({{"run_id", run_id}, {"key", key}}, Retry::kIdempotent);
}

Page<Metric> RestTrackingStore::GetMetricHistory(const std::string& run_id, const std::string& key,
                                                 int max_results, const std::string& page_token) {
  std::multimap<std::string, std::string> query = {
      {"run_id", run_id}, {"run_uuid", run_id}, {"metric_key", key}};
  if (max_results != 0) query.emplace("max_results", std::to_string(max_results));
  if (!page_token.empty()) query.emplace("page_token", page_token);
  Call call(*client_, "GET", "/metrics/get-history");
  json answer = call.Get(query);
  return call.Read([&] {
    return Page<Metric>{FromJsonArray<Metric>(Field(answer, "metrics"), "metrics"),
                        NextPageToken(answer)};
  });
}

}  // namespace mltrack::tracking
