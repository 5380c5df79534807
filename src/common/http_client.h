// A small HTTP client facade over cpp-httplib (http_client.cc is the only file of the client side
// that includes <httplib.h>): keep-alive connections, timeouts, and retries with back-off on
// connection errors for requests the caller marks idempotent.
//
// Threading: one Client may be used from several threads; it keeps a pool of connections.
// Errors: a transport failure (refused, reset, timed out) throws Error(kTemporarilyUnavailable)
// naming the URL (without the query) and the reason, after the last attempt:
//   "cannot reach http://127.0.0.1:5000/api/2.0/mlflow/runs/get: Connection refused"
// Other reasons: "connection timed out after 5000 ms", "the connection closed or timed out
// before a complete response", "the connection closed while sending the request", "TLS
// handshake failed", "cannot resolve host 'x': ...". An HTTP error status is returned, not thrown.
// A request target may hold characters not allowed raw (spaces, non-ASCII): they are
// percent-encoded; existing %XX escapes pass unchanged.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace mltrack::http {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{120000};
  // Attempts for idempotent requests that fail to connect or lose the connection; the waits
  // between them double from first_backoff.
  int max_attempts = 4;
  std::chrono::milliseconds first_backoff{100};
  std::map<std::string, std::string> headers;  // sent with every request (e.g. Authorization)
};

struct Result {
  int status = 0;
  std::string body;
  std::string content_type;
};

class Client {
 public:
  // base_url: "http://host:port" or "https://host:port", optionally with a path prefix.
  explicit Client(std::string base_url, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& base_url() const;

  // `path_and_query` starts with '/'; use QueryString to build the query.
  Result Get(const std::string& path_and_query);
  // GET, HEAD and OPTIONS are retried whatever `idempotent` says.
  Result Send(const std::string& method, const std::string& path, const std::string& body,
              const std::string& content_type, bool idempotent);
  // Streams a local file as the body of a PUT (the file is never read into memory whole),
  // retried from the start of the file as any idempotent request. Error(kIoError) when the file
  // cannot be read.
  Result PutFile(const std::string& path, const std::filesystem::path& file,
                 const std::string& content_type = "application/octet-stream");
  // Streams a GET's body into `dest` when the status is 200 (written to a temporary file beside
  // it and renamed into place, creating missing parent folders); otherwise returns the status
  // and the error body (its first 1 MiB), writing nothing. Error(kIoError) when the file cannot
  // be written.
  Result GetToFile(const std::string& path_and_query, const std::filesystem::path& dest);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "?a=1&b=x%20y" from name/value pairs (repeated names allowed); "" when empty.
std::string QueryString(const std::multimap<std::string, std::string>& params);
// Percent-encodes a path segment (keeps '/' when keep_slash).
std::string UrlEncode(std::string_view text, bool keep_slash = false);

}  // namespace mltrack::http
