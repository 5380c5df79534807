// One call of MLflow's REST API for the REST stores (tracking and registry): sends, turns an
// error response into the Error it stands for (ErrorFromResponse), and parses the answer. Not part
// of the public interface.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "mltrack/error.h"
#include "tracking/entity_json.h"
#include "tracking/rest_tracking_store.h"

namespace mltrack::tracking::rest {

using nlohmann::json;

inline constexpr std::string_view kApi = "/api/2.0/mlflow";
inline constexpr size_t kSnippetBytes = 200;

// Whether a request may be sent again when the connection fails before its answer arrives, and
// so possibly after the server applied it. http::Client retries only these.
//
// - kRead: GETs, and the POSTed searches, change nothing.
// - kIdempotent: a second copy leaves the store as the first did: renaming to the same name,
//   deleting or restoring again, setting a tag to the same value, updating a run with the same
//   fields, and log-batch. Log-batch is safe because its parts are: a param of the same value is
//   accepted again (params are immutable, so a retry cannot change one), tags are overwritten
//   with the same value, and the store keeps metrics keyed by (run, key, step, timestamp, value),
//   so an exact duplicate metric is stored once (the contract test
//   StoresAnExactDuplicateMetricOnce holds every store to it) and a retried batch adds nothing.
//   What a retry may change is the answer: when the first copy was applied, a delete-tag or a
//   restore retried finds nothing left to do and reports that (RESOURCE_DOES_NOT_EXIST,
//   INVALID_STATE), as MLflow's own client would after its retries.
// - kOnce: create-experiment and create-run make a new entity each time; a retry could make two
//   runs, or report "already exists" for the experiment this very call created. They fail at once
//   with TEMPORARILY_UNAVAILABLE and the caller decides.
enum class Retry { kRead, kIdempotent, kOnce };

inline std::string Snippet(std::string_view body) {
  size_t begin = body.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "(empty body)";
  body.remove_prefix(begin);
  body = body.substr(0, body.find_last_not_of(" \t\r\n") + 1);
  if (body.size() <= kSnippetBytes) return std::string(body);
  return fmt::format("{}...", body.substr(0, kSnippetBytes));
}

// One MLflow REST call: sends, turns an error response into the Error it stands for, and parses
// the answer. `Read` turns an unexpected answer (a proxy's page, a field of the wrong type) into
// INTERNAL_ERROR naming the request rather than an error about the caller's input.
class Call {
 public:
  Call(http::Client& client, std::string method, std::string_view endpoint)
      : client_(client), method_(std::move(method)), path_(fmt::format("{}{}", kApi, endpoint)) {}

  json Get(const std::multimap<std::string, std::string>& query) {
    return Finish(client_.Get(path_ + http::QueryString(query)));
  }
  // Sends `body` with the call's method (POST, PATCH, DELETE).
  json Send(const json& body, Retry retry) {
    return Finish(
        client_.Send(method_, path_, body.dump(), "application/json", retry != Retry::kOnce));
  }
  json Post(const json& body, Retry retry) {
    return Finish(
        client_.Send("POST", path_, body.dump(), "application/json", retry != Retry::kOnce));
  }

  template <class Body>
  auto Read(Body&& body) -> decltype(body()) {
    try {
      return body();
    } catch (const Error& e) {
      throw Error(ErrorCode::kInternalError,
                  fmt::format("Unexpected response from {}: {}", Name(), e.what()));
    }
  }

 private:
  std::string Name() const { return fmt::format("{} {}{}", method_, client_.base_url(), path_); }

  json Finish(const http::Result& result) {
    if (result.status != 200) throw ErrorFromResponse(result, Name());
    json body = json::parse(result.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) {
      throw Error(ErrorCode::kInternalError,
                  fmt::format("Unexpected response from {}: it is not JSON: {}", Name(),
                              Snippet(result.body)));
    }
    if (!body.is_object()) {
      throw Error(ErrorCode::kInternalError,
                  fmt::format("Unexpected response from {}: expected a JSON object", Name()));
    }
    return body;
  }

  http::Client& client_;
  std::string method_;
  std::string path_;
};

inline const json& Field(const json& body, const char* name) {
  static const json kNull;
  auto it = body.find(name);
  return it == body.end() ? kNull : *it;
}

inline std::string NextPageToken(const json& body) {
  const json& token = Field(body, "next_page_token");
  if (token.is_null()) return "";
  if (!token.is_string()) ThrowInvalidJsonField("next_page_token", "expected a string");
  return token.get<std::string>();
}

}  // namespace mltrack::tracking::rest
