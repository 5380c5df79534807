#include "tracking/artifact_repository.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/safe_path.h"
#include "common/tracking_uri.h"
#include "mltrack/error.h"
#include "tracking/artifact_util.h"
#include "tracking/http_artifact_repository.h"

namespace mltrack::tracking {
namespace {

namespace fs = std::filesystem;

std::string Join(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  return fmt::format("{}/{}", dir, name);
}

[[noreturn]] void ThrowNoSuchFile(const fs::path& path) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("No such file or directory: '{}'", path.string()));
}

// Copies `source` to `dest` through a temporary file in dest's folder, then renames it into
// place: `dest` is either its old self or the complete copy, and on failure no temporary file is
// left behind. `display` names the destination in messages. Keeps the permission bits.
void AtomicCopyFile(const fs::path& source, const fs::path& dest, std::string_view display) {
  Fd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) {
    if (errno == ENOENT) ThrowNoSuchFile(source);
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot read '{}': {}", source.string(), std::strerror(errno)));
  }
  struct stat source_stat;
  if (::fstat(in.get(), &source_stat) != 0) {
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot read '{}': {}", source.string(), std::strerror(errno)));
  }

  AtomicFileWriter out(dest, fmt::format("Cannot write artifact '{}'", display),
                       source_stat.st_mode & 07777);
  std::vector<char> buffer(1 << 18);
  for (;;) {
    ssize_t got = ::read(in.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      throw Error(ErrorCode::kIoError, fmt::format("Cannot read '{}': {}", source.string(),
                                                   std::strerror(errno)));
    }
    if (got == 0) break;
    out.Write(buffer.data(), static_cast<size_t>(got));
  }
  out.Commit();
}

void MakeFolders(const fs::path& path, std::string_view display) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) {
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot create artifact folder '{}': {}", display, ec.message()));
  }
}

struct TreeEntry {
  fs::path source;
  std::string relative;  // '/'-separated, relative to the folder walked
  bool is_dir = false;
};

// Describes a refused entry: (its path relative to the folder walked, the problem) -> message.
using Describe = std::function<std::string(std::string_view relative, std::string_view problem)>;

struct TreeWalk {
  fs::path boundary;          // canonical; no symbolic link may lead outside it
  std::string boundary_name;  // for messages
  bool skip_temp_files = false;
  Describe describe;
  std::vector<TreeEntry> entries;
  std::vector<fs::path> walking;  // canonical folders on the current recursion path

  [[noreturn]] void Refuse(std::string_view relative, std::string_view problem) const {
    throw Error(ErrorCode::kInvalidParameterValue, describe(relative, problem));
  }

  // Collects everything under `dir` (whose canonical path is `dir_real`) in sorted order,
  // checking every entry before anything is written. Symbolic links are followed when they
  // stay inside `boundary`, and refused when they lead out, dangle or loop back into a folder
  // being walked (which would never end).
  void Collect(const fs::path& dir, const fs::path& dir_real, const std::string& relative) {
    walking.push_back(dir_real);
    std::vector<fs::path> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
      fs::path name = entry.path().filename();
      if (skip_temp_files && IsTempFileName(name.native())) continue;
      names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      fs::path path = dir / name;
      std::string child = Join(relative, name.string());
      fs::path child_real = dir_real / name;
      std::error_code ec;
      fs::file_status status = fs::symlink_status(path, ec);
      bool is_link = fs::is_symlink(status);
      if (is_link) {
        child_real = fs::canonical(path, ec);
        if (ec) Refuse(child, "it is a dangling symbolic link");
        auto [end, it] = std::mismatch(boundary.begin(), boundary.end(), child_real.begin(),
                                       child_real.end());
        if (end != boundary.end()) {
          Refuse(child, fmt::format("it is a symbolic link that leads outside {}", boundary_name));
        }
        status = fs::status(child_real, ec);
      }
      if (fs::is_directory(status)) {
        if (std::find(walking.begin(), walking.end(), child_real) != walking.end()) {
          Refuse(child, "it is a symbolic link back into a folder that contains it");
        }
        entries.push_back({path, child, true});
        Collect(path, child_real, child);
      } else if (fs::is_regular_file(status)) {
        entries.push_back({path, child, false});
      } else {
        Refuse(child, "it is not a regular file or folder");
      }
    }
    walking.pop_back();
  }
};

// What a write is about to produce, checked against what is already there.
void CheckFolderTarget(const fs::path& path, std::string_view display) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (fs::exists(status) && !fs::is_directory(status)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Cannot create artifact folder '{}': a file of that name exists",
                            display));
  }
}

void CheckFileTarget(const fs::path& path, std::string_view display) {
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(path, ec))) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Cannot write artifact '{}': a folder of that name exists", display));
  }
}

}  // namespace

LocalArtifactRepository::LocalArtifactRepository(std::filesystem::path root)
    : root_(fs::absolute(root).lexically_normal()) {}

void LocalArtifactRepository::LogFile(const fs::path& local_file, std::string_view artifact_dir) {
  Guarded([&] {
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
    std::string dir = NormalizeRelativePath(artifact_dir);
    std::string relative = Join(dir, local_file.filename().string());
    fs::path dest = ResolveUnder(root_, relative);
    CheckFolderTarget(dest.parent_path(), dir);
    CheckFileTarget(dest, relative);
    MakeFolders(dest.parent_path(), dir);
    AtomicCopyFile(local_file, dest, relative);
  });
}

void LocalArtifactRepository::LogDir(const fs::path& local_dir, std::string_view artifact_dir) {
  Guarded([&] {
    std::error_code ec;
    auto status = fs::status(local_dir, ec);
    if (!fs::exists(status)) ThrowNoSuchFile(local_dir);
    if (!fs::is_directory(status)) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Cannot log '{}' as a folder: it is not a folder",
                              local_dir.string()));
    }
    std::string base = NormalizeRelativePath(artifact_dir);
    fs::path base_dest = ResolveUnder(root_, base);
    CheckFolderTarget(base_dest, base);

    // Everything is checked before anything is written: a refused call leaves no trace.
    TreeWalk walk;
    walk.boundary = fs::canonical(local_dir);
    walk.boundary_name = fmt::format("'{}'", local_dir.string());
    walk.describe = [&](std::string_view relative, std::string_view problem) {
      return fmt::format("Cannot log '{}': {}", (local_dir / relative).string(), problem);
    };
    walk.Collect(local_dir, walk.boundary, "");
    std::vector<fs::path> targets;
    targets.reserve(walk.entries.size());
    for (const auto& entry : walk.entries) {
      std::string relative = Join(base, entry.relative);
      targets.push_back(ResolveUnder(root_, relative));
      if (entry.is_dir) {
        CheckFolderTarget(targets.back(), relative);
      } else {
        CheckFileTarget(targets.back(), relative);
      }
    }

    MakeFolders(base_dest, base);
    for (size_t i = 0; i < walk.entries.size(); ++i) {
      std::string relative = Join(base, walk.entries[i].relative);
      if (walk.entries[i].is_dir) {
        MakeFolders(targets[i], relative);
      } else {
        AtomicCopyFile(walk.entries[i].source, targets[i], relative);
      }
    }
  });
}

std::vector<FileInfo> LocalArtifactRepository::List(std::string_view path) {
  return Guarded([&] {
    std::string base = NormalizeRelativePath(path);
    fs::path dir = ResolveUnder(root_, base);
    std::vector<FileInfo> children;
    std::error_code ec;
    if (!fs::is_directory(fs::status(dir, ec))) return children;
    for (const auto& entry : fs::directory_iterator(dir)) {
      fs::path name = entry.path().filename();
      if (IsTempFileName(name.native())) continue;
      std::string relative = Join(base, name.string());
      if (entry.is_symlink(ec)) {
        // A link that leads out of the root is not part of the repository: leave it out rather
        // than reveal what is behind it.
        try {
          ResolveUnder(root_, relative);
        } catch (const Error&) {
          continue;
        }
      }
      auto status = entry.status(ec);
      if (fs::is_directory(status)) {
        children.push_back({relative, true, 0});
      } else if (fs::is_regular_file(status)) {
        children.push_back(
            {relative, false, static_cast<int64_t>(fs::file_size(entry.path()))});
      }
    }
    std::sort(children.begin(), children.end(),
              [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
    return children;
  });
}

fs::path LocalArtifactRepository::Download(std::string_view artifact_path,
                                           const fs::path& dest_dir) {
  return Guarded([&] {
    std::string relative = NormalizeRelativePath(artifact_path);
    fs::path source = ResolveUnder(root_, relative);
    fs::path dest = relative.empty() ? dest_dir : dest_dir / relative;
    std::error_code ec;
    auto status = fs::status(source, ec);
    if (relative.empty() && !fs::exists(status)) {
      // Nothing logged yet: the root is created on first write, so "everything" is nothing.
      MakeFolders(dest, dest.string());
      return dest;
    }
    if (fs::is_regular_file(status)) {
      CheckFileTarget(dest, dest.string());
      MakeFolders(dest.parent_path(), dest.parent_path().string());
      AtomicCopyFile(source, dest, dest.string());
      return dest;
    }
    if (!fs::is_directory(status)) {
      throw Error(ErrorCode::kResourceDoesNotExist,
                  fmt::format("Artifact '{}' does not exist", relative));
    }
    TreeWalk walk;
    walk.boundary = fs::canonical(root_);
    walk.boundary_name = "the artifact root";
    walk.skip_temp_files = true;
    walk.describe = [&](std::string_view child, std::string_view problem) {
      return fmt::format("Cannot download artifact '{}': {}", Join(relative, child), problem);
    };
    walk.Collect(source, fs::canonical(source), "");
    CheckFolderTarget(dest, dest.string());
    for (const auto& entry : walk.entries) {
      fs::path target = dest / entry.relative;
      if (entry.is_dir) {
        CheckFolderTarget(target, target.string());
      } else {
        CheckFileTarget(target, target.string());
      }
    }
    MakeFolders(dest, dest.string());
    for (const auto& entry : walk.entries) {
      fs::path target = dest / entry.relative;
      if (entry.is_dir) {
        MakeFolders(target, target.string());
      } else {
        AtomicCopyFile(entry.source, target, target.string());
      }
    }
    return dest;
  });
}

std::unique_ptr<ArtifactRepository> OpenArtifactRepository(std::string_view artifact_uri) {
  if (artifact_uri.empty()) {
    throw Error(ErrorCode::kInvalidParameterValue, "The artifact URI is empty");
  }
  std::string scheme = UriScheme(artifact_uri);
  if (scheme.empty() || scheme == "file") {
    return std::make_unique<LocalArtifactRepository>(LocalPathFromUri(artifact_uri));
  }
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Cannot open artifact URI '{}': artifact URI scheme '{}' is not "
                          "supported by this build",
                          artifact_uri, scheme));
}

std::unique_ptr<ArtifactRepository> OpenArtifactRepository(std::string_view artifact_uri,
                                                           std::string_view tracking_uri) {
  if (UriScheme(artifact_uri) == "mlflow-artifacts") {
    return std::make_unique<HttpArtifactRepository>(
        ResolveMlflowArtifactsUri(artifact_uri, tracking_uri));
  }
  return OpenArtifactRepository(artifact_uri);
}

}  // namespace mltrack::tracking
