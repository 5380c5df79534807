// The web app's routes (ui_handlers.h): registration, runs/columns and runs/child-counts. The
// artifact routes are in ui_artifact_handlers.cc, runs/export-csv in ui_export_csv.cc.
#include "server/ui_handlers.h"

#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mltrack/error.h"
#include "server/ui_handlers_internal.h"
#include "tracking/tracking_handlers_internal.h"

namespace mltrack::server {
namespace ui {
namespace {

using nlohmann::json;
using tracking::handlers::RequestFields;
using tracking::handlers::SetJson;
using tracking::handlers::ThrowMissing;

// A leaderboard page asks for its runs' children at once; this bounds the SQL IN list.
constexpr size_t kMaxChildCountRuns = 1000;

void RunColumns(const Context& context, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {"experiment_ids"});
  std::vector<std::string> experiment_ids = fields.StringList("experiment_ids");
  if (experiment_ids.empty()) ThrowMissing("experiment_ids");
  // An unknown experiment is named (404), rather than answered with no columns.
  for (const auto& id : experiment_ids) context.store->GetExperiment(id);
  tracking::RunKeys keys =
      context.store->SearchRunKeys(experiment_ids, "", ViewType::kActiveOnly);
  SetJson(response, {{"params", keys.params}, {"metrics", keys.metrics}, {"tags", keys.tags}});
}

void ChildCounts(const Context& context, const http::Request& request, http::Response& response) {
  RequestFields fields(request, {});
  if (!fields.Find("run_ids")) ThrowMissing("run_ids");
  std::vector<std::string> run_ids = fields.StringList("run_ids");
  if (run_ids.size() > kMaxChildCountRuns) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("At most {} run_ids may be given, got {}", kMaxChildCountRuns,
                            run_ids.size()));
  }
  json counts = json::object();
  for (const auto& [run_id, count] : context.store->CountChildRuns(run_ids)) {
    counts[run_id] = count;
  }
  SetJson(response, {{"counts", std::move(counts)}});
}

}  // namespace

void RouteMltrack(http::Server& server, const std::shared_ptr<const Context>& context,
                  const std::string& method, const std::string& path, Endpoint endpoint) {
  http::Handler handler = [context, endpoint](const http::Request& request,
                                              http::Response& response) {
    endpoint(*context, request, response);
  };
  server.Route(method, "/api/2.0/mltrack/" + path, handler);
  server.Route(method, "/ajax-api/2.0/mltrack/" + path, handler);
}

void RouteGet(http::Server& server, const std::shared_ptr<const Context>& context,
              std::initializer_list<const char*> paths, Endpoint endpoint) {
  for (const char* path : paths) {
    server.Route("GET", path, [context, endpoint](const http::Request& request,
                                                  http::Response& response) {
      endpoint(*context, request, response);
    });
  }
}

}  // namespace ui

void RegisterUiHandlers(http::Server& server,
                        std::shared_ptr<tracking::SqliteTrackingStore> store,
                        std::shared_ptr<registry::RegistryStore> registry,
                        UiHandlerOptions options) {
  auto context = std::make_shared<const ui::Context>(
      ui::Context{std::move(store), std::move(registry), std::move(options)});
  ui::RouteMltrack(server, context, "GET", "runs/columns", ui::RunColumns);
  ui::RouteMltrack(server, context, "POST", "runs/child-counts", ui::ChildCounts);
  ui::RouteMltrack(server, context, "GET", "runs/export-csv", ui::ExportCsv);
  ui::RegisterArtifactRoutes(server, context);
}

}  // namespace mltrack::server
