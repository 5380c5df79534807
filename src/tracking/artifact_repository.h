// Artifact repositories: where a run's files live. The local one stores them in a folder
// (artifact URIs `file:///...` or plain paths); the HTTP one (mlflow-artifacts:) comes with the
// tracking server.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mltrack/entities.h"

namespace mltrack::tracking {

class ArtifactRepository {
 public:
  virtual ~ArtifactRepository() = default;

  // Copies one file to <root>/<artifact_dir>/<file name>. Written to a temporary file and renamed
  // into place: a reader never sees a half-written artifact.
  virtual void LogFile(const std::filesystem::path& local_file, std::string_view artifact_dir) = 0;
  // Copies the contents of a folder, recursively, under <root>/<artifact_dir>.
  virtual void LogDir(const std::filesystem::path& local_dir, std::string_view artifact_dir) = 0;
  // The direct children of `path` (empty: the root), sorted by path; empty when it does not exist.
  virtual std::vector<FileInfo> List(std::string_view path) = 0;
  // Copies the file or folder at `artifact_path` (empty: everything) into `dest_dir` and returns
  // the local path of the copy. kResourceDoesNotExist when there is nothing at that path.
  virtual std::filesystem::path Download(std::string_view artifact_path,
                                         const std::filesystem::path& dest_dir) = 0;
};

class LocalArtifactRepository final : public ArtifactRepository {
 public:
  // `root` is created on first write.
  explicit LocalArtifactRepository(std::filesystem::path root);

  void LogFile(const std::filesystem::path& local_file, std::string_view artifact_dir) override;
  void LogDir(const std::filesystem::path& local_dir, std::string_view artifact_dir) override;
  std::vector<FileInfo> List(std::string_view path) override;
  std::filesystem::path Download(std::string_view artifact_path,
                                 const std::filesystem::path& dest_dir) override;

 private:
  std::filesystem::path root_;
};

// The repository for a run's artifact_uri. Throws kInvalidParameterValue for a scheme this build
// cannot reach; `mlflow-artifacts:` is reached only through the overload below.
std::unique_ptr<ArtifactRepository> OpenArtifactRepository(std::string_view artifact_uri);
// The same, with `mlflow-artifacts:` URIs reached through the artifact proxy of the tracking
// server that `tracking_uri` (http or https) names. Other schemes do not depend on it.
std::unique_ptr<ArtifactRepository> OpenArtifactRepository(std::string_view artifact_uri,
                                                           std::string_view tracking_uri);

}  // namespace mltrack::tracking
