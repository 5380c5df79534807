#include "tracking/store_factory.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "common/tracking_uri.h"
#include "mltrack/error.h"
#include "tracking/sqlite_tracking_store.h"

namespace mltrack::tracking {

std::shared_ptr<TrackingStore> OpenTrackingStore(std::string_view tracking_uri) {
  TrackingUri uri = ParseTrackingUri(tracking_uri);
  switch (uri.scheme) {
    case TrackingUri::Scheme::kSqlite: {
      namespace fs = std::filesystem;
      fs::path db_path = fs::absolute(uri.sqlite_path).lexically_normal();
      std::error_code ec;
      if (!fs::is_directory(db_path.parent_path(), ec)) {
        throw Error(ErrorCode::kIoError,
                    fmt::format("cannot open database '{}': folder '{}' does not exist",
                                db_path.string(), db_path.parent_path().string()));
      }
      std::string artifact_root;
      if (const char* env = std::getenv("MLT_ARTIFACT_ROOT"); env && *env) {
        artifact_root = env;
        if (artifact_root.find(':') == std::string::npos) {
          artifact_root = FileUriFromPath(fs::absolute(artifact_root).lexically_normal().string());
        }
      } else {
        artifact_root = FileUriFromPath((db_path.parent_path() / "mlartifacts").string());
      }
      return std::make_shared<SqliteTrackingStore>(db_path.string(), artifact_root);
    }
    case TrackingUri::Scheme::kHttp:
      break;
  }
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("tracking URI '{}': this build of mlt has no REST tracking store; "
                          "use a sqlite:/// URI",
                          tracking_uri));
}

}  // namespace mltrack::tracking
