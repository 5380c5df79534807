// The web app of `mlt ui` (ui/ in the source tree), embedded at build time by
// cmake/EmbedUi.cmake, and the routes that serve it:
//   GET /                 ui/index.html
//   GET /static/<path>    ui/src/<path>, and static/vendor/* from the npm packages it uses
// Assets carry an ETag; a request whose If-None-Match names it is answered 304. Setting the
// environment variable MLT_UI_DIR to a folder laid out like ui/ serves the files from there
// instead, read on every request (for working on the app without rebuilding `mlt`); vendor files
// stay embedded.
#pragma once

#include <span>
#include <string_view>

#include "common/http_server.h"

namespace mltrack::server {

struct UiAsset {
  std::string_view path;          // URL path without the leading '/': "index.html", "static/app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view data;
  std::string_view etag;          // quoted, as sent in the ETag header
};

std::span<const UiAsset> EmbeddedUiAssets();

// Adds the routes above to `server`.
void RegisterUiRoutes(http::Server& server);

}  // namespace mltrack::server
