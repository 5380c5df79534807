#include "tracking/store_factory.h"

#include <cstdlib>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

#include "common/tracking_uri.h"
#include "mltrack/error.h"
#include "tracking/rest_tracking_store.h"

namespace mltrack::tracking {
namespace {

namespace fs = std::filesystem;

// The database's absolute path; its folder must exist (SQLite would say only "unable to open").
// `artifact_root_uri` empty: MLT_ARTIFACT_ROOT, or `mlartifacts` beside the database.
std::shared_ptr<SqliteTrackingStore> OpenSqlite(const TrackingUri& uri,
                                                std::string artifact_root_uri) {
  fs::path db_path = fs::absolute(uri.sqlite_path).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(db_path.parent_path(), ec)) {
    throw Error(ErrorCode::kIoError,
                fmt::format("cannot open database '{}': folder '{}' does not exist",
                            db_path.string(), db_path.parent_path().string()));
  }
  if (artifact_root_uri.empty()) {
    if (const char* env = std::getenv("MLT_ARTIFACT_ROOT"); env && *env) {
      artifact_root_uri = env;
      if (artifact_root_uri.find(':') == std::string::npos) {
        artifact_root_uri =
            FileUriFromPath(fs::absolute(artifact_root_uri).lexically_normal().string());
      }
    } else {
      artifact_root_uri = FileUriFromPath((db_path.parent_path() / "mlartifacts").string());
    }
  }
  return std::make_shared<SqliteTrackingStore>(db_path.string(), artifact_root_uri);
}

}  // namespace

std::shared_ptr<SqliteTrackingStore> OpenSqliteTrackingStore(std::string_view tracking_uri,
                                                             std::string artifact_root_uri) {
  TrackingUri uri = ParseTrackingUri(tracking_uri);
  if (uri.scheme != TrackingUri::Scheme::kSqlite) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid backend store URI '{}': the tracking server stores runs in "
                            "SQLite; use sqlite:///<path>",
                            tracking_uri));
  }
  return OpenSqlite(uri, std::move(artifact_root_uri));
}

std::shared_ptr<TrackingStore> OpenTrackingStore(std::string_view tracking_uri) {
  TrackingUri uri = ParseTrackingUri(tracking_uri);
  switch (uri.scheme) {
    case TrackingUri::Scheme::kSqlite:
      return OpenSqlite(uri, "");
    case TrackingUri::Scheme::kHttp:
      return std::make_shared<RestTrackingStore>(HttpBaseUrl(uri));
  }
  throw Error(ErrorCode::kInternalError,
              fmt::format("tracking URI '{}': unhandled scheme", tracking_uri));
}

}  // namespace mltrack::tracking
