// The artifact proxy (MLflow's `mlflow-artifacts` API, served by `mlflow server
// --artifacts-destination`): clients upload, download, list and delete artifacts through the
// tracking server, which keeps them in one local folder. A run whose artifact_uri is
// `mlflow-artifacts:/<exp>/<run>/artifacts` has its files at <destination>/<exp>/<run>/artifacts.
//
// Routes, under /api/2.0/mlflow-artifacts/ and /ajax-api/2.0/mlflow-artifacts/:
//   GET    artifacts/<path>       the file's bytes, streamed with Content-Length, as an attachment
//                                 with MLflow's guessed Content-Type; 404 RESOURCE_DOES_NOT_EXIST
//                                 when there is no file, 400 for a folder
//   PUT    artifacts/<path>       the body becomes the file: streamed into a temporary file beside
//                                 it, fsynced and renamed into place, so a reader sees the old
//                                 file or the whole new one, and an upload cut short leaves
//                                 nothing behind (nor the folders it created); `{}`
//   DELETE artifacts/<path>       removes the file or folder (nothing there is not an error); `{}`
//   GET    artifacts?path=<dir>   `{"files": [{"path": <name>, "is_dir": ..., "file_size": ...}]}`
//                                 with the names of <dir>'s children, as MLflow answers
// Every path is checked with ResolveUnder: `..`, absolute paths and symbolic links that lead out
// of the destination are refused with 400 INVALID_PARAMETER_VALUE.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/http_server.h"

namespace mltrack::server {

struct ArtifactProxyOptions {
  std::filesystem::path destination;      // an existing folder
  uint64_t max_upload_bytes = 5ULL << 30;  // a larger upload is refused with 413
};

void RegisterArtifactHandlers(http::Server& server, ArtifactProxyOptions options);

// The Content-Type MLflow sends for an artifact: text/plain for its text extensions (and
// MLmodel, MLproject), the usual type for a known extension, else application/octet-stream.
std::string GuessMimeType(std::string_view file_name);

}  // namespace mltrack::server
