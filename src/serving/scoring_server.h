// `mlt models serve`: one model behind MLflow's scoring protocol and the Open Inference
// Protocol v2, on the project's HTTP server (common/http_server.h).
//
// Routes:
//   POST /invocations                JSON or CSV (request_codec.h) -> {"predictions": ...};
//                                    400 {"error_code": "BAD_REQUEST", "message": ...} for bad
//                                    input, 415 text/plain for content types, 413 for a body
//                                    over max_body_bytes, 503 when receiving the body and
//                                    scoring it take longer than the timeout
//   GET  /ping, /health              200 "\n" once the model is loaded
//   GET  /version                    the mlt version, text/plain
//   GET  /metadata                   {"model_uri", "flavor", "run_id", "model_name",
//                                     "model_version", "signature": {"inputs": [...],
//                                     "outputs": [...]}, "input_example": ...}
//   GET  /metrics                    Prometheus text: requests and errors by route and status,
//                                    a latency histogram, the model's load seconds and version
//   GET  /v2/health/live, /v2/health/ready
//   GET  /v2/models/<name>           {"name", "versions", "platform": "mltrack", "inputs",
//                                     "outputs"} (name: the registered name, or "model")
//   POST /v2/models/<name>/infer     {"inputs": [{"name", "shape", "datatype", "data"}],
//                                     "parameters"} -> {"model_name", "model_version", "id",
//                                     "outputs": [...]} (v2_protocol.h; "model_version" for a
//                                     registered version only)
// With `watch` (for a URI naming an alias, a stage or "latest"), the URI is resolved again every
// watch_interval; when it points at another version, that version is loaded beside the serving
// one and swapped in: requests in flight finish on the model they started with, none fails.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace mltrack::serving {

struct ScoringServerOptions {
  std::string model_uri;     // any bundle URI (registry/model_uri.h)
  std::string tracking_uri;  // stores that resolve it; empty: the environment's default
  std::string host = "127.0.0.1";
  int port = 5001;           // 0: ephemeral
  int workers = 16;          // HTTP worker threads (one keep-alive connection each)
  size_t max_body_bytes = 64u << 20;
  std::chrono::milliseconds timeout{60000};  // per request, scoring included
  bool watch = false;
  std::chrono::milliseconds watch_interval{2000};
};

class ScoringServer {
 public:
  // Loads the model (Error from ModelResolver or LoadModel when it cannot: unknown URI, no
  // loader for the flavor, a damaged bundle).
  explicit ScoringServer(ScoringServerOptions options);
  ~ScoringServer();
  int Start();  // binds and serves in the background; returns the port
  void Stop();  // requests in flight finish; idempotent
  void Wait();
  int port() const;
  std::string url() const;  // "http://127.0.0.1:<port>"
  // The version being served ("" for a URI that is not a registered version), for tests.
  std::string served_version() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mltrack::serving
