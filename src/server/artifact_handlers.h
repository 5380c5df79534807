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
#include <memory>
#include <string>
#include <string_view>

#include "common/atomic_file.h"
#include "common/http_server.h"

namespace mltrack::server {

struct ArtifactProxyOptions {
  std::filesystem::path destination;      // an existing folder
  uint64_t max_upload_bytes = 5ULL << 30;  // a larger upload is refused with 413
};

void RegisterArtifactHandlers(http::Server& server, ArtifactProxyOptions options);

// One artifact file opened for sending: what is sent is what the descriptor reads, so a file
// replaced meanwhile (uploads rename into place) is sent whole as it was when opened.
struct OpenArtifact {
  std::shared_ptr<Fd> fd;  // -1 for a folder
  bool is_dir = false;
  uint64_t size = 0;       // of a regular file
};

// Opens `file` (which ResolveUnder checked), named `relative` in messages. Throws
// Error(kResourceDoesNotExist) "Artifact '<relative>' does not exist" when there is nothing
// there, or it is an upload still in flight (a kTempFilePrefix name);
// Error(kInvalidParameterValue) "Artifact '<relative>' is not a regular file" for a device, pipe
// or socket (opened without blocking, never read); Error(kIoError) when it cannot be read.
OpenArtifact OpenArtifactFile(const std::filesystem::path& file, std::string_view relative);

// Makes `artifact` (a regular file) the response's body, streamed with Content-Length.
void StreamArtifact(const OpenArtifact& artifact, http::Response& response);

// `attachment; filename=<name>` as MLflow writes it, or RFC 6266's filename*= form for a name
// that is not a plain token (so that no name can break the header).
std::string AttachmentDisposition(std::string_view file_name);

// The Content-Type MLflow sends for an artifact: text/plain for its text extensions (and
// MLmodel, MLproject), the usual type for a known extension, else application/octet-stream.
std::string GuessMimeType(std::string_view file_name);

}  // namespace mltrack::server
