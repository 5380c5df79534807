#include "server/artifact_handlers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/safe_path.h"
#include "common/text.h"
#include "mltrack/error.h"
#include "tracking/artifact_repository.h"
#include "tracking/entity_json.h"

namespace mltrack::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::array<std::string_view, 2> kApiRoots = {"/api/2.0/mlflow-artifacts/artifacts",
                                                       "/ajax-api/2.0/mlflow-artifacts/artifacts"};
constexpr size_t kChunkBytes = 1 << 20;

void SetJson(http::Response& response, const json& body) {
  response.status = 200;
  response.content_type = "application/json";
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The artifact path a request names after `root` + "/", normalized; refused when it escapes.
std::string ArtifactPath(const http::Request& request, std::string_view root) {
  std::string_view path = request.path;
  path.remove_prefix(std::min(path.size(), root.size() + 1));
  std::string relative = NormalizeRelativePath(path);
  if (relative.empty()) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Missing artifact path after '{}/'", root));
  }
  return relative;
}

// Uploads in flight are AtomicFileWriter's temporary files, which LocalArtifactRepository's
// listings skip too: they are not artifacts (yet).
bool IsTempName(std::string_view relative) {
  return IsTempFileName(relative.substr(relative.rfind('/') + 1));
}

[[noreturn]] void ThrowNoArtifact(std::string_view relative) {
  throw Error(ErrorCode::kResourceDoesNotExist,
              fmt::format("Artifact '{}' does not exist", relative));
}

// --- download -----------------------------------------------------------------------------------

void Download(const ArtifactProxyOptions& options, std::string_view root,
              const http::Request& request, http::Response& response) {
  std::string relative = ArtifactPath(request, root);
  OpenArtifact artifact = OpenArtifactFile(ResolveUnder(options.destination, relative), relative);
  if (artifact.is_dir) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Artifact '{}' is a folder: list it with GET {}?path={}", relative,
                            root, relative));
  }
  std::string name = fs::path(relative).filename().string();
  response.status = 200;
  response.content_type = GuessMimeType(name);
  response.headers.emplace_back("Content-Disposition", AttachmentDisposition(name));
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  StreamArtifact(artifact, response);
}

// --- upload -------------------------------------------------------------------------------------

// Undoes a failed upload: removes the folders it created (innermost first; a folder that
// meanwhile got other content stays). Its temporary file is the AtomicFileWriter's to remove,
// which must therefore be destroyed first.
class UploadCleanup {
 public:
  ~UploadCleanup() {
    if (committed_) return;
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) ::rmdir(it->c_str());
  }
  void AddFolder(fs::path folder) { created_.push_back(std::move(folder)); }
  void Commit() { committed_ = true; }

 private:
  std::vector<fs::path> created_;
  bool committed_ = false;
};

// Creates the folders from `destination` down to `relative_dir`, recording the ones it made.
void MakeFolders(const fs::path& destination, std::string_view relative_dir,
                 UploadCleanup& cleanup) {
  fs::path folder = destination;
  std::string walked;
  for (const auto& part : fs::path(relative_dir)) {
    folder /= part;
    walked += (walked.empty() ? "" : "/") + part.string();
    if (::mkdir(folder.c_str(), 0777) == 0) {
      cleanup.AddFolder(folder);
      continue;
    }
    if (errno != EEXIST) {
      throw Error(ErrorCode::kIoError, fmt::format("Cannot create artifact folder '{}': {}",
                                                   walked, std::strerror(errno)));
    }
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Cannot create artifact folder '{}': a file of that name exists",
                              walked));
    }
  }
}

void Upload(const ArtifactProxyOptions& options, std::string_view root,
            const http::Request& request, http::Response& response) {
  std::string relative = ArtifactPath(request, root);
  if (IsTempName(relative)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid artifact path '{}': names starting with '{}' are reserved",
                            relative, kTempFilePrefix));
  }
  fs::path target = ResolveUnder(options.destination, relative);
  auto too_large = [&](http::Response& out) {
    http::SetErrorResponse(out, 413, "RESOURCE_LIMIT_EXCEEDED",
                           fmt::format("Artifact '{}' is larger than the upload limit of {} bytes",
                                       relative, options.max_upload_bytes));
  };
  if (std::string length = request.Header("content-length"); !length.empty()) {
    errno = 0;
    char* end = nullptr;
    unsigned long long declared = std::strtoull(length.c_str(), &end, 10);
    if (errno == 0 && end && *end == '\0' && declared > options.max_upload_bytes) {
      too_large(response);
      return;
    }
  }
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(target, ec))) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Cannot write artifact '{}': a folder of that name exists", relative));
  }

  UploadCleanup cleanup;
  size_t slash = relative.rfind('/');
  std::string_view folder =
      slash == std::string::npos ? std::string_view() : std::string_view(relative).substr(0, slash);
  MakeFolders(options.destination, folder, cleanup);
  // Declared after `cleanup`: a failed upload's temporary file goes before its folders.
  AtomicFileWriter out(target, fmt::format("Cannot write artifact '{}'", relative), 0644);

  uint64_t received = 0;
  bool over_limit = false;
  int write_errno = 0;
  bool complete = request.read_body([&](const char* data, size_t size) {
    received += size;
    if (received > options.max_upload_bytes) {
      over_limit = true;
      return false;
    }
    write_errno = out.TryWrite(data, size);
    return write_errno == 0;
  });
  if (over_limit) {
    too_large(response);
    return;
  }
  if (write_errno != 0) {
    throw Error(ErrorCode::kIoError, fmt::format("Cannot write artifact '{}': {}", relative,
                                                 std::strerror(write_errno)));
  }
  if (!complete) {
    // The client went away mid-body (or the server refused the body): nobody may be listening,
    // but nothing of the upload is kept.
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("The upload of artifact '{}' ended after {} bytes, before the end "
                            "of its body",
                            relative, received));
  }
  out.Commit();
  cleanup.Commit();
  // The rename is durable once the folder that holds the new name is synced.
  SyncFolder(target.parent_path());
  SetJson(response, json::object());
}

// --- delete and list ----------------------------------------------------------------------------

void Delete(const ArtifactProxyOptions& options, std::string_view root,
            const http::Request& request, http::Response& response) {
  std::string relative = ArtifactPath(request, root);
  fs::path target = ResolveUnder(options.destination, relative);
  std::error_code status_error;  // a path that does not exist is not an error here
  auto status = fs::symlink_status(target, status_error);
  std::error_code ec;
  if (fs::is_directory(status)) {
    fs::remove_all(target, ec);  // links inside are removed, never followed
  } else if (fs::exists(status) || fs::is_symlink(status)) {
    fs::remove(target, ec);
  }
  if (ec) {
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot delete artifact '{}': {}", relative, ec.message()));
  }
  SetJson(response, json::object());
}

void List(const ArtifactProxyOptions& options, const http::Request& request,
          http::Response& response) {
  std::string path = NormalizeRelativePath(request.Query("path").value_or(""));
  tracking::LocalArtifactRepository repository(options.destination);
  json files = json::array();
  for (FileInfo file : repository.List(path)) {
    // MLflow answers with the names of the children, not their paths.
    file.path = file.path.substr(file.path.rfind('/') + 1);
    files.push_back(tracking::ToJson(file));
  }
  json body = json::object();
  if (!files.empty()) body["files"] = std::move(files);
  SetJson(response, body);
}

}  // namespace

OpenArtifact OpenArtifactFile(const fs::path& file, std::string_view relative) {
  if (IsTempName(relative)) ThrowNoArtifact(relative);  // an upload still in flight
  // O_NONBLOCK: opening a FIFO planted among the artifacts must not wait for a writer.
  auto fd = std::make_shared<Fd>(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd->get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) ThrowNoArtifact(relative);
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot read artifact '{}': {}", relative, std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) {
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot read artifact '{}': {}", relative, std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) return OpenArtifact{.fd = nullptr, .is_dir = true};
  if (!S_ISREG(st.st_mode)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Artifact '{}' is not a regular file", relative));
  }
  return OpenArtifact{.fd = std::move(fd), .size = static_cast<uint64_t>(st.st_size)};
}

void StreamArtifact(const OpenArtifact& artifact, http::Response& response) {
  std::shared_ptr<Fd> fd = artifact.fd;
  const uint64_t size = artifact.size;
  response.stream_length = size;
  response.stream = [fd, size](const http::ChunkSink& sink) {
    std::vector<char> buffer(std::min<uint64_t>(kChunkBytes, std::max<uint64_t>(size, 1)));
    uint64_t sent = 0;
    while (sent < size) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - sent));
      ssize_t got = ::pread(fd->get(), buffer.data(), want, static_cast<off_t>(sent));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;  // read error, or the file shrank under us
      if (!sink(buffer.data(), static_cast<size_t>(got))) return false;
      sent += static_cast<uint64_t>(got);
    }
    return true;
  };
}

std::string AttachmentDisposition(std::string_view name) {
  bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || std::strchr("._-+~", c) != nullptr;
  });
  if (plain) return fmt::format("attachment; filename={}", name);
  std::string encoded;
  for (unsigned char c : name) {
    if (std::isalnum(c) || std::strchr("._-~", c) != nullptr) {
      encoded += static_cast<char>(c);
    } else {
      encoded += fmt::format("%{:02X}", c);
    }
  }
  return fmt::format("attachment; filename*=UTF-8''{}", encoded);
}

void RegisterArtifactHandlers(http::Server& server, ArtifactProxyOptions options) {
  auto shared = std::make_shared<const ArtifactProxyOptions>(std::move(options));
  for (std::string_view root : kApiRoots) {
    std::string prefix = std::string(root) + "/";
    server.Route("GET", std::string(root),
                 [shared](const http::Request& request, http::Response& response) {
                   List(*shared, request, response);
                 });
    server.RoutePrefix("GET", prefix,
                       [shared, root](const http::Request& request, http::Response& response) {
                         Download(*shared, root, request, response);
                       });
    server.RoutePrefix(
        "PUT", prefix,
        [shared, root](const http::Request& request, http::Response& response) {
          Upload(*shared, root, request, response);
        },
        {.max_body_bytes = shared->max_upload_bytes, .stream_body = true});
    server.RoutePrefix("DELETE", prefix,
                       [shared, root](const http::Request& request, http::Response& response) {
                         Delete(*shared, root, request, response);
                       });
  }
}

std::string GuessMimeType(std::string_view file_name) {
  // MLflow's mime_type_utils: its text extensions, or the whole name when there is none.
  static constexpr std::string_view kText[] = {
      "txt",  "log",  "err", "cfg", "conf", "cnf", "cf",  "ini",     "properties",
      "prop", "hocon", "toml", "yaml", "yml", "xml", "json", "js",   "py",
      "py3",  "csv",  "tsv", "md",  "rst",  "MLmodel", "mlproject"};
  // The common part of Python's mimetypes table.
  static constexpr std::pair<std::string_view, std::string_view> kKnown[] = {
      {"png", "image/png"},        {"jpg", "image/jpeg"},      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},        {"bmp", "image/bmp"},       {"svg", "image/svg+xml"},
      {"webp", "image/webp"},      {"ico", "image/vnd.microsoft.icon"},
      {"tif", "image/tiff"},       {"tiff", "image/tiff"},     {"html", "text/html"},
      {"htm", "text/html"},        {"css", "text/css"},        {"pdf", "application/pdf"},
      {"zip", "application/zip"},  {"tar", "application/x-tar"},
      {"mp4", "video/mp4"},        {"wav", "audio/x-wav"},     {"mp3", "audio/mpeg"},
  };
  size_t dot = file_name.rfind('.');
  // os.path.splitext: a leading dot does not start an extension.
  std::string_view extension =
      dot == std::string_view::npos || dot == 0 ? std::string_view() : file_name.substr(dot + 1);
  if (extension.empty()) extension = file_name;
  for (std::string_view text : kText) {
    if (extension == text) return "text/plain";
  }
  std::string lower = AsciiLower(extension);
  for (const auto& [known, type] : kKnown) {
    if (lower == known) return std::string(type);
  }
  return "application/octet-stream";
}

}  // namespace mltrack::server
