// What the translation units of the web app's routes (ui_handlers.h) share: the stores they
// read, and registering a route under both of mltrack's API prefixes.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>

#include "common/http_server.h"
#include "registry/registry_store.h"
#include "server/ui_handlers.h"
#include "tracking/sqlite_tracking_store.h"

namespace mltrack::server::ui {

struct Context {
  std::shared_ptr<tracking::SqliteTrackingStore> store;
  std::shared_ptr<registry::RegistryStore> registry;
  UiHandlerOptions options;
};

using Endpoint = void (*)(const Context&, const http::Request&, http::Response&);

// Registers `endpoint` for `method` at /api/2.0/mltrack/<path> and /ajax-api/2.0/mltrack/<path>.
void RouteMltrack(http::Server& server, const std::shared_ptr<const Context>& context,
                  const std::string& method, const std::string& path, Endpoint endpoint);

// Registers `endpoint` for GET at each of `paths`.
void RouteGet(http::Server& server, const std::shared_ptr<const Context>& context,
              std::initializer_list<const char*> paths, Endpoint endpoint);

// The routes of ui_artifact_handlers.cc: /get-artifact, /model-versions/get-artifact and the
// two mlmodel routes.
void RegisterArtifactRoutes(http::Server& server, const std::shared_ptr<const Context>& context);

// runs/export-csv (ui_export_csv.cc).
void ExportCsv(const Context& context, const http::Request& request, http::Response& response);

}  // namespace mltrack::server::ui
