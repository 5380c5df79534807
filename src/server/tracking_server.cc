#include "server/tracking_server.h"

#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "mltrack/error.h"
#include "registry/registry_handlers.h"
#include "registry/sqlite_registry_store.h"
#include "server/artifact_handlers.h"
#include "server/ui_assets.h"
#include "server/ui_handlers.h"
#include "tracking/sqlite_tracking_store.h"
#include "tracking/store_factory.h"
#include "tracking/tracking_handlers.h"

namespace mltrack::server {
namespace {

namespace fs = std::filesystem;

// New experiments get `mlflow-artifacts:/<id>` and runs `mlflow-artifacts:/<exp>/<run>/artifacts`
// (MLflow's DEFAULT_ARTIFACTS_URI): clients reach them through this server's artifact proxy.
constexpr const char* kProxiedArtifactRoot = "mlflow-artifacts:/";

std::string HostForUrl(const std::string& host) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]", host) : host;
}

}  // namespace

struct TrackingServer::Impl {
  TrackingServerOptions options;
  fs::path artifacts_destination;
  std::shared_ptr<tracking::TrackingStore> store;
  std::shared_ptr<registry::RegistryStore> registry;
  std::unique_ptr<http::Server> http;
};

TrackingServer::TrackingServer(TrackingServerOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.port < 0 || options.port > 65535) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid port {}: it must be from 0 to 65535", options.port));
  }
  if (options.workers < 1) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid number of workers {}: it must be at least 1",
                            options.workers));
  }
  if (options.max_request_bytes < 1 || options.max_artifact_bytes < 1) {
    throw Error(ErrorCode::kInvalidParameterValue, "Request size limits must be at least 1 byte");
  }
  Impl& impl = *impl_;
  impl.options = std::move(options);
  // The store first: a wrong URI is reported before anything is created on disk.
  // A SQLite database (the only backend a server can own), opened with the proxied artifact root
  // rather than OpenTrackingStore's local folder.
  auto sqlite_store =
      tracking::OpenSqliteTrackingStore(impl.options.backend_store_uri, kProxiedArtifactRoot);
  impl.store = sqlite_store;
  // The model registry lives in the same database file (schema migration 2).
  impl.registry = std::make_shared<registry::SqliteRegistryStore>(sqlite_store->db_path(),
                                                                  kProxiedArtifactRoot);
  impl.artifacts_destination =
      fs::absolute(impl.options.artifacts_destination).lexically_normal();
  std::error_code ec;
  fs::create_directories(impl.artifacts_destination, ec);
  if (ec || !fs::is_directory(impl.artifacts_destination, ec)) {
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot use artifacts destination '{}': {}",
                            impl.artifacts_destination.string(),
                            ec ? ec.message() : "it is not a folder"));
  }

  http::ServerOptions http_options;
  http_options.host = impl.options.host;
  http_options.port = impl.options.port;
  http_options.threads = impl.options.workers;
  http_options.max_body_bytes = impl.options.max_request_bytes;
  impl.http = std::make_unique<http::Server>(http_options);

  tracking::RegisterTrackingHandlers(
      *impl.http, impl.store,
      {.artifacts_destination = impl.artifacts_destination,
       .max_log_batch_bytes = impl.options.max_request_bytes});
  registry::RegisterRegistryHandlers(*impl.http, impl.registry);
  RegisterArtifactHandlers(*impl.http, {.destination = impl.artifacts_destination,
                                        .max_upload_bytes = impl.options.max_artifact_bytes});
  // As MLflow's server: plain-text liveness and version probes.
  impl.http->Route("GET", "/health", [](const http::Request&, http::Response& response) {
    response.content_type = "text/plain";
    response.body = "OK";
  });
  impl.http->Route("GET", "/version", [](const http::Request&, http::Response& response) {
    response.content_type = "text/plain";
    response.body = MLT_VERSION;
  });
  // The web app, as MLflow's server serves its UI beside the API, and the routes it reads.
  RegisterUiRoutes(*impl.http);
  RegisterUiHandlers(*impl.http, sqlite_store, impl.registry,
                     {.artifacts_destination = impl.artifacts_destination,
                      .tracking_uri = impl.options.backend_store_uri});
}

TrackingServer::~TrackingServer() {
  if (impl_ && impl_->http) impl_->http->Stop();
}

int TrackingServer::Start() { return impl_->http->Start(); }

void TrackingServer::Stop() { impl_->http->Stop(); }

void TrackingServer::Wait() { impl_->http->Wait(); }

int TrackingServer::port() const { return impl_->http->port(); }

std::string TrackingServer::url() const {
  return fmt::format("http://{}:{}", HostForUrl(impl_->options.host), port());
}

}  // namespace mltrack::server
