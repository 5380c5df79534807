#include "tracking/http_artifact_repository.h"

#include <algorithm>
#include <cctype>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/safe_path.h"
#include "common/tracking_uri.h"
#include "mltrack/error.h"
#include "tracking/artifact_util.h"
#include "tracking/entity_json.h"
#include "tracking/rest_tracking_store.h"

namespace mltrack::tracking {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kRoute = "/api/2.0/mlflow-artifacts/artifacts";
constexpr std::string_view kListingPath = "artifact path in the server's listing";

std::string Join(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  return fmt::format("{}/{}", dir, name);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "%XX" -> the byte; anything else as it is. The result is checked by NormalizeRelativePath,
// which refuses a decoded NUL or backslash.
std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// "scheme://authority/path?query#fragment" -> authority and path (either may be empty).
struct UriParts {
  std::string authority;
  std::string path;
};

UriParts SplitAfterScheme(std::string_view uri, std::string_view scheme) {
  std::string_view rest = uri.substr(scheme.size() + 1);
  rest = rest.substr(0, rest.find_first_of("?#"));
  UriParts parts;
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    parts.authority = std::string(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  parts.path = std::string(rest);
  return parts;
}

std::string StripSlashes(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

[[noreturn]] void ThrowNoSuchFile(const fs::path& path) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("No such file or directory: '{}'", path.string()));
}

// A local file to upload, and its path relative to the folder being logged.
struct LocalFile {
  fs::path source;
  std::string relative;
};

// Collects the regular files under `dir` (canonical path `dir_real`) in sorted order, refusing
// what LocalArtifactRepository::LogDir refuses: symbolic links that dangle, lead outside
// `boundary` or loop back into a folder being walked, and entries that are neither files nor
// folders. Nothing is uploaded until the whole tree passed.
class LocalTree {
 public:
  explicit LocalTree(const fs::path& root) : root_(root), boundary_(fs::canonical(root)) {}

  std::vector<LocalFile> Collect() {
    Walk(root_, boundary_, "");
    return std::move(files_);
  }

 private:
  [[noreturn]] void Refuse(std::string_view relative, std::string_view problem) const {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Cannot log '{}': {}", (root_ / relative).string(), problem));
  }

  void Walk(const fs::path& dir, const fs::path& dir_real, const std::string& relative) {
    walking_.push_back(dir_real);
    std::vector<fs::path> names;
    for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      fs::path path = dir / name;
      std::string child = Join(relative, name.string());
      fs::path child_real = dir_real / name;
      std::error_code ec;
      fs::file_status status = fs::symlink_status(path, ec);
      if (fs::is_symlink(status)) {
        child_real = fs::canonical(path, ec);
        if (ec) Refuse(child, "it is a dangling symbolic link");
        auto [end, it] =
            std::mismatch(boundary_.begin(), boundary_.end(), child_real.begin(), child_real.end());
        if (end != boundary_.end()) {
          Refuse(child,
                 fmt::format("it is a symbolic link that leads outside '{}'", root_.string()));
        }
        status = fs::status(child_real, ec);
      }
      if (fs::is_directory(status)) {
        if (std::find(walking_.begin(), walking_.end(), child_real) != walking_.end()) {
          Refuse(child, "it is a symbolic link back into a folder that contains it");
        }
        Walk(path, child_real, child);
      } else if (fs::is_regular_file(status)) {
        files_.push_back({path, child});
      } else {
        Refuse(child, "it is not a regular file or folder");
      }
    }
    walking_.pop_back();
  }

  fs::path root_;
  fs::path boundary_;
  std::vector<fs::path> walking_;
  std::vector<LocalFile> files_;
};

void MakeFolders(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) {
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot create artifact folder '{}': {}", path.string(), ec.message()));
  }
}

void CheckFolderTarget(const fs::path& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (fs::exists(status) && !fs::is_directory(status)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Cannot create artifact folder '{}': a file of that name exists",
                            path.string()));
  }
}

void CheckFileTarget(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(path, ec))) {
    throw Error(
        ErrorCode::kInvalidParameterValue,
        fmt::format("Cannot write artifact '{}': a folder of that name exists", path.string()));
  }
}

}  // namespace

MlflowArtifactsLocation ResolveMlflowArtifactsUri(std::string_view artifact_uri,
                                                  std::string_view tracking_uri) {
  std::string tracking_scheme = UriScheme(tracking_uri);
  if (tracking_scheme != "http" && tracking_scheme != "https") {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("artifact URI '{}' needs an http tracking URI: set --tracking-uri "
                            "http://host:port",
                            artifact_uri));
  }
  std::string scheme = UriScheme(artifact_uri);
  if (scheme != "mlflow-artifacts") {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("artifact URI '{}' is not an mlflow-artifacts: URI", artifact_uri));
  }
  UriParts tracking = SplitAfterScheme(tracking_uri, tracking_scheme);
  UriParts artifacts = SplitAfterScheme(artifact_uri, scheme);
  MlflowArtifactsLocation location;
  // The artifact URI's own host wins (mlflow-artifacts://host:port/...), reached with the
  // tracking URI's scheme; the tracking URI's path prefix is kept, as MLflow does.
  location.base_url =
      fmt::format("{}://{}", tracking_scheme,
                  artifacts.authority.empty() ? tracking.authority : artifacts.authority);
  if (std::string prefix = StripSlashes(tracking.path); !prefix.empty()) {
    location.base_url += "/" + prefix;
  }
  location.root =
      NormalizeRelativePath(PercentDecode(StripSlashes(artifacts.path)), "artifact URI path");
  return location;
}

HttpArtifactRepository::HttpArtifactRepository(MlflowArtifactsLocation location,
                                               http::ClientOptions options)
    : location_(std::move(location)),
      client_(std::make_unique<http::Client>(location_.base_url, std::move(options))) {}

HttpArtifactRepository::~HttpArtifactRepository() = default;

std::string HttpArtifactRepository::FilePath(std::string_view relative) const {
  return fmt::format("{}/{}", kRoute,
                     http::UrlEncode(Join(location_.root, relative), /*keep_slash=*/true));
}

void HttpArtifactRepository::Upload(const fs::path& local_file, const std::string& relative) {
  std::string path = FilePath(relative);
  http::Result result = client_->PutFile(path, local_file);
  if (result.status != 200) {
    throw ErrorFromResponse(result, fmt::format("PUT {}{}", client_->base_url(), path));
  }
}

void HttpArtifactRepository::LogFile(const fs::path& local_file, std::string_view artifact_dir) {
  Guarded([&] {
    std::string dir = NormalizeRelativePath(artifact_dir);
    std::error_code ec;
    auto status = fs::status(local_file, ec);
    if (!fs::exists(status)) ThrowNoSuchFile(local_file);
    if (fs::is_directory(status)) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Cannot log '{}' as a file: it is a folder", local_file.string()));
    }
    if (!fs::is_regular_file(status)) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Cannot log '{}': it is not a regular file", local_file.string()));
    }
    Upload(local_file, Join(dir, local_file.filename().string()));
  });
}

void HttpArtifactRepository::LogDir(const fs::path& local_dir, std::string_view artifact_dir) {
  Guarded([&] {
    std::string base = NormalizeRelativePath(artifact_dir);
    std::error_code ec;
    auto status = fs::status(local_dir, ec);
    if (!fs::exists(status)) ThrowNoSuchFile(local_dir);
    if (!fs::is_directory(status)) {
      throw Error(
          ErrorCode::kInvalidParameterValue,
          fmt::format("Cannot log '{}' as a folder: it is not a folder", local_dir.string()));
    }
    for (const auto& file : LocalTree(local_dir).Collect()) {
      Upload(file.source, Join(base, file.relative));
    }
  });
}

std::vector<FileInfo> HttpArtifactRepository::List(std::string_view path) {
  std::string base = NormalizeRelativePath(path);
  std::string query = http::QueryString({{"path", Join(location_.root, base)}});
  std::string request = fmt::format("{}{}", kRoute, query);
  http::Result result = client_->Get(request);
  std::string name = fmt::format("GET {}{}", client_->base_url(), request);
  if (result.status != 200) throw ErrorFromResponse(result, name);
  json body = json::parse(result.body, nullptr, /*allow_exceptions=*/false);
  std::vector<FileInfo> files;
  try {
    if (!body.is_object()) ThrowInvalidJsonField("", "expected a JSON object");
    auto it = body.find("files");
    files = FromJsonArray<FileInfo>(it == body.end() ? json() : *it, "files");
  } catch (const Error& e) {
    throw Error(ErrorCode::kInternalError,
                fmt::format("Unexpected response from {}: {}", name, e.what()));
  }
  std::vector<FileInfo> children;
  for (auto& file : files) {
    // The server names entries relative to the listed folder. A name that would leave it is
    // refused here, before it can name a request or a local file.
    std::string relative = NormalizeRelativePath(file.path, kListingPath);
    if (relative.empty()) continue;  // the folder itself: listing it again would never end
    file.path = Join(base, relative);
    if (file.is_dir) file.file_size = 0;
    children.push_back(std::move(file));
  }
  std::sort(children.begin(), children.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return children;
}

fs::path HttpArtifactRepository::Download(std::string_view artifact_path,
                                          const fs::path& dest_dir) {
  return Guarded([&] {
    std::string relative = NormalizeRelativePath(artifact_path);
    fs::path dest = ResolveUnder(dest_dir, relative);

    // What is at `relative`: a file, a folder, or nothing (the root is always a folder).
    bool is_dir = relative.empty();
    if (!relative.empty()) {
      size_t slash = relative.rfind('/');
      std::string parent = slash == std::string::npos ? "" : relative.substr(0, slash);
      std::vector<FileInfo> siblings = List(parent);
      auto it = std::find_if(siblings.begin(), siblings.end(),
                             [&](const FileInfo& f) { return f.path == relative; });
      if (it == siblings.end()) {
        throw Error(ErrorCode::kResourceDoesNotExist,
                    fmt::format("Artifact '{}' does not exist", relative));
      }
      is_dir = it->is_dir;
    }

    // Every file and folder to create, relative to the repository's root: the whole tree is
    // listed and every local target checked before anything is written.
    std::vector<FileInfo> entries;
    if (is_dir) {
      std::vector<std::string> pending = {relative};
      while (!pending.empty()) {
        std::string dir = std::move(pending.back());
        pending.pop_back();
        for (auto& child : List(dir)) {
          if (child.is_dir) pending.push_back(child.path);
          entries.push_back(std::move(child));
        }
      }
      std::sort(entries.begin(), entries.end(),
                [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
    } else {
      entries.push_back({relative, false, 0});
    }

    std::vector<fs::path> targets;
    targets.reserve(entries.size());
    if (is_dir) CheckFolderTarget(dest);
    for (const auto& entry : entries) {
      targets.push_back(ResolveUnder(dest_dir, entry.path, kListingPath));
      if (entry.is_dir) {
        CheckFolderTarget(targets.back());
      } else {
        CheckFileTarget(targets.back());
      }
    }

    MakeFolders(is_dir ? dest : dest.parent_path());
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].is_dir) {
        MakeFolders(targets[i]);
        continue;
      }
      MakeFolders(targets[i].parent_path());
      std::string path = FilePath(entries[i].path);
      http::Result result = client_->GetToFile(path, targets[i]);
      if (result.status != 200) {
        throw ErrorFromResponse(result, fmt::format("GET {}{}", client_->base_url(), path));
      }
    }
    return dest;
  });
}

}  // namespace mltrack::tracking
