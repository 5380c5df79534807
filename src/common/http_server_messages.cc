#include "common/http_server_messages.h"

#include <cctype>
#include <cstdint>
#include <exception>
#include <memory>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/text.h"

namespace mltrack::http {
namespace detail {
namespace {

// Calls a response stream; false when it fails or throws (the response is then cut short).
bool CallStream(const std::function<bool(const ChunkSink&)>& stream, const ChunkSink& sink) {
  try {
    return stream(sink);
  } catch (...) {
    return false;
  }
}

}  // namespace

// The decoded query parameters, every repeat kept: httplib's own parser drops a name=value pair
// identical to an earlier one, but MLflow (Flask) keeps them, e.g. `order_by=x&order_by=x` is
// refused as a duplicate ordering.
std::multimap<std::string, std::string> QueryParams(const httplib::Request& raw) {
  std::multimap<std::string, std::string> params;
  size_t question = raw.target.find('?');
  if (question == std::string::npos) return params;
  std::string_view query(raw.target);
  query.remove_prefix(question + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name(pair.substr(0, eq));
    std::string value(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    params.emplace(httplib::detail::decode_url(name, true),
                   httplib::detail::decode_url(value, true));
  }
  return params;
}

std::string ErrorBody(std::string_view error_code, std::string_view message) {
  nlohmann::json body = {{"error_code", error_code}, {"message", message}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void RunHandler(const Handler& handler, const Request& request, Response& response) {
  try {
    handler(request, response);
  } catch (const Error& e) {
    response = Response{};
    SetErrorResponse(response, HttpStatusFor(e.code()), ErrorCodeName(e.code()), e.what());
  } catch (const std::exception& e) {
    response = Response{};
    SetErrorResponse(response, 500, ErrorCodeName(ErrorCode::kInternalError), e.what());
  } catch (...) {
    response = Response{};
    SetErrorResponse(response, 500, ErrorCodeName(ErrorCode::kInternalError),
                     "Internal error: the handler threw an unknown exception");
  }
}

void ToHttplib(Response& response, bool must_close, httplib::Response& out) {
  out.status = response.status;
  for (const auto& [name, value] : response.headers) out.set_header(name, value);
  if (must_close) out.set_header("Connection", "close");
  std::string content_type = response.content_type.empty() && response.stream
                                 ? "application/octet-stream"
                                 : response.content_type;
  if (!response.stream || (response.stream_length && *response.stream_length == 0)) {
    if (!response.body.empty() || !content_type.empty()) {
      // What set_content does, without copying a body that may be megabytes.
      out.body = std::move(response.body);
      out.set_header("Content-Type", content_type);
    }
    return;
  }
  auto stream = std::make_shared<std::function<bool(const ChunkSink&)>>(std::move(response.stream));
  if (response.stream_length) {
    uint64_t length = *response.stream_length;
    // httplib calls the provider again while less than `length` was written; a stream writes
    // everything in one call, so a second call means it fell short.
    out.set_content_provider(
        static_cast<size_t>(length), content_type,
        [stream, length, called = false](size_t, size_t, httplib::DataSink& sink) mutable {
          if (called) return false;
          called = true;
          uint64_t written = 0;
          bool ok = CallStream(*stream, [&](const char* data, size_t size) {
            if (written + size > length) return false;
            written += size;
            return sink.write(data, size);
          });
          return ok && written == length;
        });
  } else {
    out.set_chunked_content_provider(content_type, [stream](size_t, httplib::DataSink& sink) {
      bool ok = CallStream(*stream,
                           [&](const char* data, size_t size) { return sink.write(data, size); });
      if (ok) sink.done();
      return ok;
    });
  }
}

std::pair<ErrorCode, std::string> ProtocolError(int status) {
  switch (status) {
    case 400:
      return {ErrorCode::kBadRequest, "Malformed HTTP request"};
    case 413:
      return {ErrorCode::kResourceLimitExceeded, "Request body is too large"};
    case 414:
      return {ErrorCode::kBadRequest, fmt::format("Request line is longer than {} bytes",
                                                  CPPHTTPLIB_REQUEST_URI_MAX_LENGTH)};
    case 415:
      return {ErrorCode::kBadRequest, "Unsupported Content-Encoding"};
    case 416:
      return {ErrorCode::kBadRequest, "Invalid Range header"};
    default:
      return {status >= 500 ? ErrorCode::kInternalError : ErrorCode::kBadRequest,
              fmt::format("HTTP status {}", status)};
  }
}

}  // namespace detail

std::optional<std::string> Request::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Request::QueryAll(std::string_view name) const {
  std::vector<std::string> values;
  auto [begin, end] = query.equal_range(std::string(name));
  for (auto it = begin; it != end; ++it) values.push_back(it->second);
  return values;
}

std::string Request::Header(std::string_view name) const {
  auto it = headers.find(AsciiLower(name));
  return it == headers.end() ? std::string() : it->second;
}

void SetErrorResponse(Response& response, int http_status, std::string_view error_code,
                      std::string_view message) {
  response.status = http_status;
  response.content_type = "application/json";
  response.body = detail::ErrorBody(error_code, message);
  response.stream = nullptr;
  response.stream_length.reset();
}

}  // namespace mltrack::http
