// Tracking URIs: `sqlite:///relative.db`, `sqlite:////abs/path.db`, `http(s)://host:port`.
#pragma once

#include <string>
#include <string_view>

namespace mltrack {

inline constexpr std::string_view kDefaultTrackingUri = "sqlite:///mlruns.db";

struct TrackingUri {
  enum class Scheme { kSqlite, kHttp };
  Scheme scheme = Scheme::kSqlite;
  std::string uri;          // as given
  std::string sqlite_path;  // kSqlite: the database file path (relative to the working directory)
};

// Throws Error(kInvalidParameterValue) naming the URI and the accepted forms.
TrackingUri ParseTrackingUri(std::string_view uri);

// MLT_TRACKING_URI, else MLFLOW_TRACKING_URI, else kDefaultTrackingUri.
std::string TrackingUriFromEnvironment();

// "file:///abs/path" -> "/abs/path"; a plain path is returned as it is. Throws for other schemes.
std::string LocalPathFromUri(std::string_view uri);
// "/abs/path" -> "file:///abs/path".
std::string FileUriFromPath(std::string_view absolute_path);

}  // namespace mltrack
