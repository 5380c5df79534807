// What the tracking handlers' translation units share, and the tracking server's other routes
// (src/server/ui_handlers*) with them: reading a request's fields as MLflow's server does,
// writing JSON responses, registering a route under both API prefixes, and finding the folder
// that holds a run's artifacts. Not part of the public interface (see tracking_handlers.h for the
// wire contract).
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http_server.h"
#include "mltrack/entities.h"
#include "tracking/tracking_handlers.h"
#include "tracking/tracking_store.h"

namespace mltrack::tracking::handlers {

// "Missing value for required parameter '<field>'. See the API docs for more information about
// request parameters." (MLflow's text).
[[noreturn]] void ThrowMissing(std::string_view field);
// "Invalid value <value as JSON> for parameter '<field>' supplied: <problem> See the API docs for
// more information about request parameters." `problem` ends with a period.
[[noreturn]] void ThrowInvalid(const nlohmann::json& value, std::string_view field,
                               std::string_view problem);
// MLflow's type hint for a value of the wrong JSON type: " Hint: Value was of type 'str'."
// (Python's type names: str, int, float, bool, list, dict, NoneType; the leading space is
// MLflow's.)
std::string TypeHint(const nlohmann::json& value);

// The fields of one request as a JSON object: the body of a POST, PUT, PATCH or DELETE, or the
// query parameters of a GET (strings; the names in `list_fields` become arrays of every value
// given, any other name takes its first value).
//
// Body rules, as MLflow's: an empty body is `{}`; a JSON string is decoded once more (old clients
// double-encode); `null` is `{}`; anything but an object is refused. POST and PUT must carry
// `Content-Type: application/json`. Malformed JSON is refused with the parser's position.
// Typed getters treat `null` as absent, as protobuf's JSON parser does.
class RequestFields {
 public:
  RequestFields(const http::Request& request, std::initializer_list<std::string_view> list_fields);

  // The value, or nullptr when absent or null.
  const nlohmann::json* Find(std::string_view name) const;
  std::optional<std::string> String(std::string_view name) const;
  // Absent, null and "" are all missing (MLflow's _assert_required).
  std::string RequiredString(std::string_view name) const;
  // An integer, or a decimal string (protobuf's JSON mapping); checked against [min, max].
  std::optional<int64_t> Int64(std::string_view name) const;
  std::optional<int32_t> Int32(std::string_view name) const;
  // A number, or "NaN", "Infinity", "-Infinity", or a numeric string.
  std::optional<double> Double(std::string_view name) const;
  // A list of strings; absent is empty.
  std::vector<std::string> StringList(std::string_view name) const;
  std::optional<ViewType> View(std::string_view name) const;
  std::optional<RunStatus> Status(std::string_view name) const;
  // run_id, else the deprecated run_uuid; required (named 'run_id' when both are missing).
  std::string RunId() const;
  // Lists of entities, each element named `<name>[i]` in errors. Keys are required (and, for
  // metrics, value and timestamp); a missing param or tag value is "" (proto semantics).
  std::vector<Tag> TagList(std::string_view name) const;
  std::vector<Param> ParamList(std::string_view name) const;
  std::vector<Metric> MetricList(std::string_view name) const;

 private:
  nlohmann::json fields_;
};

// Sets a 200 JSON response (invalid UTF-8 in stored strings is replaced, never an error).
void SetJson(http::Response& response, const nlohmann::json& body);

// Registers `handler` for `method` at /api/2.0/mlflow/<path> and /ajax-api/2.0/mlflow/<path>.
void RouteBoth(http::Server& server, const std::string& method, const std::string& path,
               const http::Handler& handler, http::RouteOptions options = {});

// The folder on this machine that holds the artifacts under `artifact_uri`, as the tracking
// server reaches them: `mlflow-artifacts:/<path>` (or an http(s) URL to
// /api/2.0/mlflow-artifacts/artifacts/<path>) is <artifacts_destination>/<path>, refused with 400
// when <path> escapes it; a file: URI or a plain path is that folder (made absolute). Throws
// Error(kInvalidParameterValue) "<context>: its artifact URI '<uri>' is served by an artifact
// proxy, and this server has none" when `artifacts_destination` is empty, and
// OpenArtifactRepository's message for any other scheme. The folder need not exist (nothing
// logged yet).
std::filesystem::path LocalArtifactRoot(std::string_view artifact_uri,
                                        const std::filesystem::path& artifacts_destination,
                                        std::string_view context);

// The logging half of the API (tracking_handlers_logging.cc): log-*, set-tag, delete-tag,
// metrics/*, artifacts/list.
void RegisterLoggingHandlers(http::Server& server, const std::shared_ptr<TrackingStore>& store,
                             const TrackingHandlerOptions& options);

}  // namespace mltrack::tracking::handlers
