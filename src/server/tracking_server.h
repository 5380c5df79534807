// The tracking server process: MLflow's tracking and model-registry REST APIs over one SQLite
// database, the artifact proxy (mlflow-artifacts), /health and /version. `mlt server` and
// `mlt ui` run one; tests start one in-process on an ephemeral loopback port.
#pragma once

#include <memory>
#include <string>

#include "common/http_server.h"

namespace mltrack::server {

struct TrackingServerOptions {
  std::string backend_store_uri = "sqlite:///mlruns.db";
  std::string artifacts_destination = "./mlartifacts";  // a local folder
  std::string host = "127.0.0.1";
  int port = 5000;          // 0: ephemeral
  int workers = 16;         // HTTP worker threads
  size_t max_request_bytes = 1 << 20;          // JSON bodies (MLflow's log-batch limit is 1 MB)
  uint64_t max_artifact_bytes = 5ULL << 30;    // one artifact upload
};

class TrackingServer {
 public:
  explicit TrackingServer(TrackingServerOptions options);
  ~TrackingServer();
  // Binds and serves in the background; returns the port.
  int Start();
  void Stop();
  void Wait();
  int port() const;
  // "http://127.0.0.1:<port>"
  std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mltrack::server
