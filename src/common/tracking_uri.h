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

// Throws Error(kInvalidParameterValue) naming the URI and the accepted forms:
// "Invalid tracking URI 'file:///x': the scheme 'file' is not supported; use sqlite:///..."
// An http(s) URI must name a host; a port, when given, must be a number from 1 to 65535.
TrackingUri ParseTrackingUri(std::string_view uri);

// The base URL of an http(s) tracking URI as the HTTP client takes it: the scheme lowercased
// ("HTTP://Host" is a valid URI) and without trailing '/' (every API path starts with one).
std::string HttpBaseUrl(const TrackingUri& uri);

// MLT_TRACKING_URI, else MLFLOW_TRACKING_URI, else kDefaultTrackingUri. A variable that is set
// but empty counts as unset.
std::string TrackingUriFromEnvironment();

// The lowercased scheme of a URI ("file", "s3", "mlflow-artifacts"), or "" for a plain path.
// A scheme is a letter followed by letters, digits, '+', '-' or '.', then ':'; a single letter
// (a Windows drive) is not a scheme.
std::string UriScheme(std::string_view uri);

// "file:///abs/path" (also "file:/abs/path" and "file://localhost/abs/path") -> "/abs/path",
// percent-escapes decoded; a plain path is returned as it is. Throws Error(kInvalidParameterValue)
// for other schemes, for a file URI naming another host, and for an escape that decodes to NUL.
std::string LocalPathFromUri(std::string_view uri);
// "/abs/path" -> "file:///abs/path", with bytes other than letters, digits, "/_.-~"
// percent-encoded (as Python's pathlib.Path.as_uri, which MLflow uses). A relative path is made
// absolute against the working directory first.
std::string FileUriFromPath(std::string_view absolute_path);

}  // namespace mltrack
