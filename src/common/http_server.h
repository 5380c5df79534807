// A small HTTP server facade over cpp-httplib (only http_server*.cc and the internal
// http_server_engine.h include <httplib.h>; no public header does). Routes are exact paths or
// path prefixes; handlers see a Request and fill a Response. Any mltrack::Error a handler throws
// becomes MLflow's error body `{"error_code": "<NAME>", "message": "<text>"}` with the status
// HttpStatusFor(code); any other exception becomes INTERNAL_ERROR (500). The server keeps serving
// either way.
//
// Answers the server gives itself (exact texts; bodies are `{"error_code":...,"message":...}`):
//   404 ENDPOINT_NOT_FOUND      "No endpoint for GET /x"                (unless SetNotFound)
//   405 BAD_REQUEST             "Method POST is not allowed for /x; allowed: GET, HEAD"
//                               (and an Allow header)
//   400 INVALID_PARAMETER_VALUE "Request body of 2000000 bytes exceeds the limit of 1048576 bytes"
//                               (buffered routes; "Request body exceeds the limit of N bytes"
//                               when a chunked body was too long to count to its end)
//   413 RESOURCE_LIMIT_EXCEEDED the same texts, for streaming routes
//   400 BAD_REQUEST             "Invalid Content-Length header 'abc'", "Malformed HTTP request"
//   500 INTERNAL_ERROR          what() of a std::exception, or
//                               "Internal error: the handler threw an unknown exception"
// A body a route did not read (or refused) is read and discarded, up to 64 MiB, so that the
// connection stays usable; beyond that the connection closes after the answer.
//
// httplib's own Range handling, response compression and multipart parsing are off: a handler
// sees the Range, Accept-Encoding and Content-Type headers and may answer them itself.
//
// Threading: handlers run on the server's worker threads, several at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mltrack::http {

// Called with successive chunks of a body; returns false to stop.
using ChunkSink = std::function<bool(const char* data, size_t size)>;

struct Request {
  std::string method;                               // "GET", "POST", ...
  std::string path;                                 // decoded, without the query string
  std::multimap<std::string, std::string> query;    // decoded query parameters, repeats kept
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string remote_addr;
  // The whole body, for buffered routes (the default). Empty for streaming routes.
  std::string body;
  // Streaming routes only: reads the body chunk by chunk into `sink`; false when the client
  // went away, `sink` returned false, or the body exceeded the route's limit (the server then
  // answers 413 whatever the handler does). Call at most once, inside the handler.
  std::function<bool(const ChunkSink& sink)> read_body;

  // The first value of a query parameter, if present.
  std::optional<std::string> Query(std::string_view name) const;
  std::vector<std::string> QueryAll(std::string_view name) const;
  // A header by name (any case); empty when absent.
  std::string Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is streamed from this provider instead of `body`: it writes chunks to the
  // sink and returns false on failure. `stream_length`, when known, becomes Content-Length
  // (otherwise the body is sent chunked). It is called once, after the handler returned (so what
  // it captures must outlive the handler), and must write exactly `stream_length` bytes; a
  // shortfall, a false return or an exception cuts the response short, which the client sees.
  std::function<bool(const ChunkSink& sink)> stream;
  std::optional<uint64_t> stream_length;
};

using Handler = std::function<void(const Request&, Response&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: an ephemeral port, see Server::port()
  // Worker threads; each serves one keep-alive connection at a time. When connections wait for a
  // worker, an idle kept-alive connection closes (after 50 ms idle) to make room.
  int threads = 16;
  size_t max_body_bytes = 1 << 20;  // default limit of buffered routes (MLflow's 1 MB)
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds write_timeout{30};
  std::chrono::seconds keep_alive_timeout{5};
};

struct RouteOptions {
  // A body larger than this is refused with 400 INVALID_PARAMETER_VALUE (or 413 for streaming
  // routes) naming the limit; 0 means ServerOptions::max_body_bytes.
  size_t max_body_bytes = 0;
  // Stream the request body through Request::read_body instead of buffering it.
  bool stream_body = false;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stops and joins
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Routes are added before Start(); the same method and path added again replaces the route.
  // HEAD requests are answered by GET routes (without the body) unless a HEAD route matches.

  // An exact path ("/api/2.0/mlflow/runs/get") for one method.
  void Route(const std::string& method, const std::string& path, Handler handler,
             RouteOptions options = {});
  // Every path that starts with `prefix` (e.g. "/api/2.0/mlflow-artifacts/artifacts/"); exact
  // routes win over prefixes, longer prefixes over shorter ones.
  void RoutePrefix(const std::string& method, const std::string& prefix, Handler handler,
                   RouteOptions options = {});
  // Answers requests no route matched (default: 404 ENDPOINT_NOT_FOUND as a JSON error body).
  void SetNotFound(Handler handler);

  // Binds and starts serving on background threads; returns the bound port. Throws
  // Error(kIoError) naming the address when it cannot bind.
  int Start();
  // Stops accepting, lets requests in flight finish, closes idle connections at once, and joins.
  // Idempotent. Not from a handler: it waits for the handlers to finish.
  void Stop();
  // Blocks until Stop() is called (from another thread or a signal handler's thread).
  void Wait();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes MLflow's error body for `code` and `message` into `response`.
void SetErrorResponse(Response& response, int http_status, std::string_view error_code,
                      std::string_view message);

}  // namespace mltrack::http
