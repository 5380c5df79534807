// The artifact repository of a tracking server's artifact proxy (MLflow's `mlflow-artifacts:`
// scheme, `mlt server` and `mlflow server --serve-artifacts`), over MLflow's routes:
//   PUT /api/2.0/mlflow-artifacts/artifacts/<path>      upload one file (streamed)
//   GET /api/2.0/mlflow-artifacts/artifacts/<path>      download one file (streamed)
//   GET /api/2.0/mlflow-artifacts/artifacts?path=<dir>  list one folder:
//       {"files": [{"path", "is_dir", "file_size"}]}, paths relative to <dir>
// Folders are uploaded file by file and downloaded by listing them recursively, as MLflow's
// HttpArtifactRepository does; an empty local folder is therefore not recorded on the server.
//
// Every artifact path, the caller's and the server's (a listing entry), is checked with
// safe_path.h before it names a request or a local file: `..`, absolute paths and backslashes are
// refused without a request, and nothing is written outside the destination folder.
//
// Threading: safe to call from several threads (http::Client is).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/http_client.h"
#include "tracking/artifact_repository.h"

namespace mltrack::tracking {

// Where an `mlflow-artifacts:` URI points: the server to ask and the path under the proxy route.
struct MlflowArtifactsLocation {
  std::string base_url;  // "http://host:port" (with the tracking URI's path prefix, if any)
  std::string root;      // "1/<run_id>/artifacts": '/'-separated, no leading or trailing '/'
};

// Resolves `mlflow-artifacts:/<path>` against the tracking server of `tracking_uri` (http or
// https), and `mlflow-artifacts://host:port/<path>` against that host with the tracking URI's
// scheme, as MLflow's MlflowArtifactsRepository.resolve_uri does. Throws
// Error(kInvalidParameterValue) when the tracking URI is not http(s):
//   artifact URI 'mlflow-artifacts:/1/x' needs an http tracking URI: set --tracking-uri
//   http://host:port
MlflowArtifactsLocation ResolveMlflowArtifactsUri(std::string_view artifact_uri,
                                                  std::string_view tracking_uri);

class HttpArtifactRepository final : public ArtifactRepository {
 public:
  HttpArtifactRepository(MlflowArtifactsLocation location, http::ClientOptions options = {});
  ~HttpArtifactRepository() override;

  void LogFile(const std::filesystem::path& local_file, std::string_view artifact_dir) override;
  // Checks the whole local tree (symbolic links must stay inside it) before the first upload.
  void LogDir(const std::filesystem::path& local_dir, std::string_view artifact_dir) override;
  std::vector<FileInfo> List(std::string_view path) override;
  // Lists everything first, checks every local target, then downloads file by file; each file is
  // written to a temporary file and renamed into place.
  std::filesystem::path Download(std::string_view artifact_path,
                                 const std::filesystem::path& dest_dir) override;

 private:
  // "/api/2.0/mlflow-artifacts/artifacts/<root>/<relative>", percent-encoded.
  std::string FilePath(std::string_view relative) const;
  void Upload(const std::filesystem::path& local_file, const std::string& relative);

  MlflowArtifactsLocation location_;
  std::unique_ptr<http::Client> client_;
};

}  // namespace mltrack::tracking
