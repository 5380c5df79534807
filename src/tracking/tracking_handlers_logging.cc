// MLflow's REST API 2.0 tracking endpoints, second half: logging to runs, metric histories and
// artifact listings (the experiments and runs endpoints are in tracking_handlers.cc).
#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/safe_path.h"
#include "common/tracking_uri.h"
#include "mltrack/error.h"
#include "tracking/artifact_repository.h"
#include "tracking/entity_json.h"
#include "tracking/tracking_handlers_internal.h"

namespace mltrack::tracking::handlers {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using Store = std::shared_ptr<TrackingStore>;

// MLflow's handler limits for get-history-bulk-interval.
constexpr size_t kMaxRunsPerBulkInterval = 100;  // MAX_RUNS_GET_METRIC_HISTORY_BULK
constexpr int kMaxPointsPerRun = 2500;           // MAX_RESULTS_PER_RUN

// --- run logging --------------------------------------------------------------------------------

void LogMetric(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  std::string run_id = fields.RunId();
  Metric metric;
  metric.key = fields.RequiredString("key");
  auto value = fields.Double("value");
  if (!value) ThrowMissing("value");
  metric.value = *value;
  auto timestamp = fields.Int64("timestamp");
  if (!timestamp) ThrowMissing("timestamp");
  metric.timestamp = *timestamp;
  metric.step = fields.Int64("step").value_or(0);
  store->LogMetric(run_id, metric);
  SetJson(response, json::object());
}

void LogParam(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  std::string run_id = fields.RunId();
  Param param{fields.RequiredString("key"), fields.String("value").value_or("")};
  store->LogParam(run_id, param);
  SetJson(response, json::object());
}

void SetTag(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  std::string run_id = fields.RunId();
  Tag tag{fields.RequiredString("key"), fields.String("value").value_or("")};
  store->SetTag(run_id, tag);
  SetJson(response, json::object());
}

void DeleteTag(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  std::string run_id = fields.RequiredString("run_id");
  std::string key = fields.RequiredString("key");
  store->DeleteTag(run_id, key);
  SetJson(response, json::object());
}

void LogBatch(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  std::string run_id = fields.RequiredString("run_id");
  std::vector<Metric> metrics = fields.MetricList("metrics");
  std::vector<Param> params = fields.ParamList("params");
  std::vector<Tag> tags = fields.TagList("tags");
  store->LogBatch(run_id, metrics, params, tags);  // checks MLflow's limits, all or nothing
  SetJson(response, json::object());
}

void LogModel(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  std::string run_id = fields.RequiredString("run_id");
  std::string model_json = fields.RequiredString("model_json");
  store->LogModel(run_id, model_json);  // checks model_json, appends to the history tag
  SetJson(response, json::object());
}

// Checks the shape of MLflow's LogInputs request: DatasetInput {tags: [InputTag], dataset:
// Dataset} with Dataset's name, digest, source_type and source required, and ModelInput
// {model_id}.
void ValidateInputs(const RequestFields& fields) {
  auto object_list = [](const json* list, std::string_view name) {
    std::vector<std::pair<const json*, std::string>> elements;
    if (!list) return elements;
    if (!list->is_array()) ThrowInvalid(*list, name, TypeHint(*list));
    for (size_t i = 0; i < list->size(); ++i) {
      std::string path = IndexedJsonField(name, i);
      if (!(*list)[i].is_object()) ThrowInvalid((*list)[i], path, TypeHint((*list)[i]));
      elements.emplace_back(&(*list)[i], std::move(path));
    }
    return elements;
  };
  auto member = [](const json& object, std::string_view name) -> const json* {
    auto it = object.find(name);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  };
  auto string_field = [&](const json& object, const std::string& path, std::string_view name,
                          bool required) {
    std::string field = fmt::format("{}.{}", path, name);
    const json* value = member(object, name);
    if (!value) {
      if (required) ThrowMissing(field);
      return;
    }
    if (!value->is_string()) ThrowInvalid(*value, field, TypeHint(*value));
    if (required && value->get_ref<const std::string&>().empty()) ThrowMissing(field);
  };

  for (const auto& [input, path] : object_list(fields.Find("datasets"), "datasets")) {
    for (const auto& [tag, tag_path] : object_list(member(*input, "tags"), path + ".tags")) {
      string_field(*tag, tag_path, "key", true);
      string_field(*tag, tag_path, "value", true);
    }
    const json* dataset = member(*input, "dataset");
    std::string dataset_path = path + ".dataset";
    if (!dataset) ThrowMissing(dataset_path);
    if (!dataset->is_object()) ThrowInvalid(*dataset, dataset_path, TypeHint(*dataset));
    for (const char* name : {"name", "digest", "source_type", "source"}) {
      string_field(*dataset, dataset_path, name, true);
    }
    for (const char* name : {"schema", "profile"}) {
      string_field(*dataset, dataset_path, name, false);
    }
  }
  for (const auto& [model, path] : object_list(fields.Find("models"), "models")) {
    string_field(*model, path, "model_id", true);
  }
}

// Datasets are validated and accepted, but not stored yet: mltrack has no dataset tables, and
// a run's `inputs` stays `{}` (a later schema migration can add them).
void LogInputs(const Store& store, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  std::string run_id = fields.RequiredString("run_id");
  ValidateInputs(fields);
  store->LogBatch(run_id, {}, {}, {});  // the run must exist and be active, as for any logging
  SetJson(response, json::object());
}

// --- metric histories ---------------------------------------------------------------------------

void GetMetricHistory(const Store& store, const http::Request& request,
                      http::Response& response) {
  RequestFields fields(request, {});
  std::string run_id = fields.RunId();
  std::string key = fields.RequiredString("metric_key");
  std::string page_token = fields.String("page_token").value_or("");
  // Absent: the store's page size (25,000, as MLflow's clients ask for).
  auto max_results = fields.Int32("max_results");
  if (max_results && (*max_results < 1 || *max_results > kMaxHistoryPerPage)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid value {} for parameter 'max_results' supplied. It must be "
                            "between 1 and {}",
                            *max_results, kMaxHistoryPerPage));
  }
  Page<Metric> page = store->GetMetricHistory(run_id, key, max_results.value_or(0), page_token);
  // Written directly (AppendMetricsJson), with the fields in the order json objects dump them.
  std::string body = "{";
  if (!page.items.empty()) {
    body += "\"metrics\":";
    body.reserve(page.items.size() * 96 + 64);  // a point is about 80 bytes
    AppendMetricsJson(body, page.items);
  }
  if (!page.next_page_token.empty()) {
    if (!page.items.empty()) body += ',';
    body += "\"next_page_token\":" + json(page.next_page_token).dump();
  }
  body += '}';
  response.status = 200;
  response.content_type = "application/json";
  response.body = std::move(body);
}

// MLflow's bulk-interval endpoint, with mltrack's sampling: instead of MLflow's evenly spaced
// steps, each run's points in the step range are downsampled to at most max_results keeping
// every bucket's minimum and maximum (DownsampleMetricHistory), so spikes survive.
void GetMetricHistoryBulkInterval(const Store& store, const http::Request& request,
                                  http::Response& response) {
  RequestFields fields(request, {"run_ids"});
  std::vector<std::string> run_ids = fields.StringList("run_ids");
  if (run_ids.empty()) ThrowMissing("run_ids");
  if (run_ids.size() > kMaxRunsPerBulkInterval) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("GetMetricHistoryBulkInterval request must specify at most {} "
                            "run_ids. Received {} run_ids. See the API docs for more "
                            "information about request parameters.",
                            kMaxRunsPerBulkInterval, run_ids.size()));
  }
  std::string key = fields.RequiredString("metric_key");
  auto start_step = fields.Int32("start_step");
  auto end_step = fields.Int32("end_step");
  auto max_results = fields.Int32("max_results");
  if (max_results && (*max_results < 1 || *max_results > kMaxPointsPerRun)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("max_results must be between 1 and {}. See the API docs for more "
                            "information about request parameters.",
                            kMaxPointsPerRun));
  }
  std::optional<std::pair<int64_t, int64_t>> range;
  if (start_step && end_step) {
    if (*start_step > *end_step) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("end_step must be greater than start_step. Found start_step={} "
                              "and end_step={}.",
                              *start_step, *end_step));
    }
    range.emplace(*start_step, *end_step);
  } else if (start_step || end_step) {
    throw Error(ErrorCode::kInvalidParameterValue,
                "If either start step or end step are specified, both must be specified.");
  }

  json metrics = json::array();
  std::set<std::string> seen;
  for (const auto& run_id : run_ids) {
    if (!seen.insert(run_id).second) continue;  // a run named twice is answered once
    std::vector<Metric> points =
        store->SampleMetricHistory(run_id, key, range, max_results.value_or(kMaxPointsPerRun));
    for (const auto& point : points) {
      json entry = ToJson(point);  // key, value, timestamp, step
      entry["run_id"] = run_id;
      metrics.push_back(std::move(entry));
    }
  }
  json body = json::object();
  if (!metrics.empty()) body["metrics"] = std::move(metrics);
  SetJson(response, body);
}

// --- artifacts ----------------------------------------------------------------------------------

// The path inside the artifact proxy's folder that a proxied artifact URI names: the path of
// `mlflow-artifacts:/<path>` (or `mlflow-artifacts://<host>/<path>`), or what follows
// /api/2.0/mlflow-artifacts/artifacts/ in an http(s) URL, as MLflow's
// _get_proxied_run_artifact_destination_path. nullopt for any other URI.
std::optional<std::string> ProxiedArtifactPath(std::string_view uri) {
  std::string scheme = UriScheme(uri);
  std::string_view rest = uri.substr(std::min(uri.size(), scheme.size() + 1));
  if (scheme == "mlflow-artifacts") {
    if (rest.starts_with("//")) {
      rest.remove_prefix(2);
      size_t slash = rest.find('/');
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    }
  } else if (scheme == "http" || scheme == "https") {
    constexpr std::string_view kAnchor = "/api/2.0/mlflow-artifacts/artifacts/";
    size_t anchor = rest.find(kAnchor);
    if (anchor == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(anchor + kAnchor.size());
  } else {
    return std::nullopt;
  }
  while (rest.starts_with('/')) rest.remove_prefix(1);
  return std::string(rest);
}

void ListArtifacts(const TrackingHandlerOptions& options, const Store& store,
                   const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  std::string run_id = fields.RunId();
  // page_token is accepted and ignored: a listing is one folder, answered whole (as MLflow's
  // local and proxied repositories do).
  fields.String("page_token");
  std::string path = NormalizeRelativePath(fields.String("path").value_or(""));
  Run run = store->GetRun(run_id);
  const std::string& root_uri = run.info.artifact_uri;
  LocalArtifactRepository repository(
      LocalArtifactRoot(root_uri, options.artifacts_destination,
                        fmt::format("Cannot list the artifacts of run {}", run_id)));
  std::vector<FileInfo> files = repository.List(path);
  json body = {{"root_uri", root_uri}};
  if (!files.empty()) {
    json& list = body["files"] = json::array();
    for (const auto& file : files) list.push_back(ToJson(file));
  }
  SetJson(response, body);
}

}  // namespace

fs::path LocalArtifactRoot(std::string_view artifact_uri, const fs::path& artifacts_destination,
                           std::string_view context) {
  if (auto proxied = ProxiedArtifactPath(artifact_uri)) {
    if (artifacts_destination.empty()) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("{}: its artifact URI '{}' is served by an artifact proxy, and this "
                              "server has none",
                              context, artifact_uri));
    }
    return ResolveUnder(artifacts_destination, *proxied, "artifact URI path");
  }
  if (artifact_uri.empty()) {
    throw Error(ErrorCode::kInvalidParameterValue, "The artifact URI is empty");
  }
  std::string scheme = UriScheme(artifact_uri);
  if (!scheme.empty() && scheme != "file") {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Cannot open artifact URI '{}': artifact URI scheme '{}' is not "
                            "supported by this build",
                            artifact_uri, scheme));
  }
  return fs::absolute(LocalPathFromUri(artifact_uri)).lexically_normal();
}

void RegisterLoggingHandlers(http::Server& server, const Store& store,
                             const TrackingHandlerOptions& options) {
  using Endpoint = void (*)(const Store&, const http::Request&, http::Response&);
  auto route = [&](const char* method, const char* path, Endpoint endpoint,
                   http::RouteOptions route_options = {}) {
    RouteBoth(
        server, method, path,
        [store, endpoint](const http::Request& request, http::Response& response) {
          endpoint(store, request, response);
        },
        route_options);
  };
  route("POST", "runs/log-metric", LogMetric);
  route("POST", "runs/log-parameter", LogParam);
  route("POST", "runs/set-tag", SetTag);
  route("POST", "runs/delete-tag", DeleteTag);
  route("POST", "runs/log-batch", LogBatch, {.max_body_bytes = options.max_log_batch_bytes});
  route("POST", "runs/log-inputs", LogInputs);
  route("GET", "metrics/get-history", GetMetricHistory);
  route("GET", "metrics/get-history-bulk-interval", GetMetricHistoryBulkInterval);

  RouteBoth(server, "POST", "runs/log-model",
            [store](const http::Request& request, http::Response& response) {
              LogModel(store, request, response);
            });
  RouteBoth(server, "GET", "artifacts/list",
            [store, options](const http::Request& request, http::Response& response) {
              ListArtifacts(options, store, request, response);
            });
}

}  // namespace mltrack::tracking::handlers
