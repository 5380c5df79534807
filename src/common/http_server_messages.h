// Internal to the HTTP server: requests and responses between cpp-httplib's types and ours, and
// the error wrapper around handlers. Only http_server_messages.cc sees httplib's definitions.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "common/http_server.h"
#include "mltrack/error.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace mltrack::http::detail {

// MLflow's error body: {"error_code": "<code>", "message": "<text>"}; invalid UTF-8 is replaced.
std::string ErrorBody(std::string_view error_code, std::string_view message);

// The decoded query parameters of `raw`'s target, every repeat kept.
std::multimap<std::string, std::string> QueryParams(const httplib::Request& raw);

// Runs a handler behind the error wrapper: whatever it throws becomes MLflow's error body.
void RunHandler(const Handler& handler, const Request& request, Response& response);

// Moves `response` into httplib's `out` (its body, or its stream as a content provider), with
// "Connection: close" when `must_close`.
void ToHttplib(Response& response, bool must_close, httplib::Response& out);

// The error code and message of an error httplib answered itself (a request it could not
// parse, ...), by its HTTP status.
std::pair<ErrorCode, std::string> ProtocolError(int status);

}  // namespace mltrack::http::detail
