#include "server/ui_assets.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "common/safe_path.h"
#include "mltrack/error.h"

namespace mltrack::server {
namespace {

namespace fs = std::filesystem;

const UiAsset* FindAsset(std::string_view path) {
  for (const UiAsset& asset : EmbeddedUiAssets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

std::string_view TypeOf(std::string_view path) {
  auto ends_with = [&](std::string_view suffix) { return path.ends_with(suffix); };
  if (ends_with(".js") || ends_with(".mjs")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  if (ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

// `asset_path` under MLT_UI_DIR: "index.html" is ui/index.html, "static/x" is ui/src/x.
std::optional<std::string> ReadFromUiDir(const fs::path& dir, std::string_view asset_path) {
  constexpr std::string_view kStatic = "static/";
  std::string relative = asset_path == "index.html"
                             ? std::string("index.html")
                             : "src/" + std::string(asset_path.substr(kStatic.size()));
  fs::path file = ResolveUnder(dir, relative, "UI asset path");
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void Serve(std::string_view asset_path, const http::Request& request, http::Response& response) {
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  const char* ui_dir = std::getenv("MLT_UI_DIR");
  if (ui_dir != nullptr && *ui_dir != '\0' && !asset_path.starts_with("static/vendor/")) {
    if (auto text = ReadFromUiDir(ui_dir, asset_path)) {
      response.content_type = TypeOf(asset_path);
      response.body = std::move(*text);
      return;
    }
  } else if (const UiAsset* asset = FindAsset(asset_path)) {
    response.headers.emplace_back("ETag", std::string(asset->etag));
    if (request.Header("if-none-match") == asset->etag) {
      response.status = 304;
      response.content_type.clear();
      return;
    }
    response.content_type = asset->content_type;
    response.body = asset->data;
    return;
  }
  throw Error(ErrorCode::kResourceDoesNotExist,
              fmt::format("No UI asset '/{}'", asset_path));
}

}  // namespace

void RegisterUiRoutes(http::Server& server) {
  server.Route("GET", "/", [](const http::Request& request, http::Response& response) {
    Serve("index.html", request, response);
  });
  server.RoutePrefix("GET", "/static/", [](const http::Request& request, http::Response& response) {
    std::string path = NormalizeRelativePath(request.path.substr(1), "UI asset path");
    Serve(path, request, response);
  });
}

}  // namespace mltrack::server
