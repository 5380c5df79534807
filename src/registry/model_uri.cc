#include "registry/model_uri.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "common/safe_path.h"
#include "common/scratch_dir.h"
#include "common/text.h"
#include "common/tracking_uri.h"
#include "mltrack/error.h"
#include "models/bundle/archive.h"
#include "models/bundle/file_util.h"
#include "models/bundle/mlmodel.h"
#include "registry/registry_factory.h"
#include "tracking/artifact_repository.h"
#include "tracking/store_factory.h"
#include "tracking/validation.h"

namespace mltrack::registry {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void ThrowBadUri(std::string_view uri, std::string_view problem) {
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Invalid model URI '{}': {}", uri, problem));
}

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// MLflow's stage spelling for a case-insensitive stage name; nullopt when it is not one.
std::optional<std::string> CanonicalStage(std::string_view text) {
  for (const char* stage : kStages) {
    if (AsciiLower(stage) == AsciiLower(text)) return std::string(stage);
  }
  return std::nullopt;
}

// The part after "<scheme>:/", refusing "<scheme>://authority/..." (MLflow reads the authority
// as a Databricks profile, which has no meaning here) and a missing slash.
std::string_view AfterSchemeSlash(std::string_view uri, std::string_view scheme,
                                  std::string_view form) {
  std::string_view rest = uri.substr(scheme.size() + 1);
  if (!rest.starts_with('/')) ThrowBadUri(uri, fmt::format("expected {}", form));
  if (rest.starts_with("//")) {
    ThrowBadUri(uri, fmt::format("a {}:// URI with an authority is not supported; expected {}",
                                 scheme, form));
  }
  return rest.substr(1);
}

ModelUri ParseRunsUri(std::string_view uri) {
  constexpr std::string_view kForm = "runs:/<run_id>/<path>";
  std::string_view rest = AfterSchemeSlash(uri, "runs", kForm);
  ModelUri parsed;
  parsed.kind = ModelUri::Kind::kRun;
  parsed.uri = std::string(uri);
  size_t slash = rest.find('/');
  parsed.run_id = std::string(rest.substr(0, slash));
  if (parsed.run_id.empty()) ThrowBadUri(uri, fmt::format("the run id is missing; expected {}", kForm));
  try {
    tracking::ValidateRunId(parsed.run_id);
    if (slash != std::string_view::npos) {
      parsed.artifact_path = NormalizeRelativePath(rest.substr(slash + 1));
    }
  } catch (const Error& e) {
    ThrowBadUri(uri, e.what());
  }
  return parsed;
}

ModelUri ParseModelsUri(std::string_view uri) {
  constexpr std::string_view kForms =
      "models:/<name>/<version>, models:/<name>/<stage>, models:/<name>/latest or "
      "models:/<name>@<alias>";
  std::string_view rest = AfterSchemeSlash(uri, "models", kForms);
  ModelUri parsed;
  parsed.uri = std::string(uri);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    size_t at = rest.rfind('@');
    if (at == std::string_view::npos) {
      ThrowBadUri(uri, fmt::format("no version, stage or alias after the model name; expected {}",
                                   kForms));
    }
    parsed.kind = ModelUri::Kind::kAlias;
    parsed.name = std::string(rest.substr(0, at));
    parsed.alias = std::string(rest.substr(at + 1));
    if (parsed.name.empty()) ThrowBadUri(uri, "the model name is empty");
    if (parsed.alias.empty()) ThrowBadUri(uri, "the alias after '@' is empty");
    return parsed;
  }
  parsed.name = std::string(rest.substr(0, slash));
  std::string_view suffix = rest.substr(slash + 1);
  if (parsed.name.empty()) ThrowBadUri(uri, "the model name is empty");
  if (suffix.empty() || suffix.find('/') != std::string_view::npos) {
    ThrowBadUri(uri, fmt::format("expected {}", kForms));
  }
  if (AllDigits(suffix)) {
    int64_t number = 0;
    for (char c : suffix) {
      number = number * 10 + (c - '0');
      if (number > INT32_MAX) ThrowBadUri(uri, fmt::format("version {} is too large", suffix));
    }
    if (number == 0) ThrowBadUri(uri, "versions are numbered from 1");
    parsed.kind = ModelUri::Kind::kVersion;
    parsed.version = std::to_string(number);
  } else if (AsciiLower(suffix) == "latest") {
    parsed.kind = ModelUri::Kind::kLatest;
  } else if (auto stage = CanonicalStage(suffix)) {
    parsed.kind = ModelUri::Kind::kStage;
    parsed.stage = *stage;
  } else {
    ThrowBadUri(uri, fmt::format("'{}' is not a version number, a stage (None, Staging, "
                                 "Production, Archived) or 'latest'; for an alias write "
                                 "models:/{}@{}",
                                 suffix, parsed.name, suffix));
  }
  return parsed;
}

// `base` (an artifact URI) joined with a normalized relative path.
std::string JoinArtifactUri(std::string base, std::string_view relative) {
  if (relative.empty()) return base;
  while (base.ends_with('/')) base.pop_back();
  return fmt::format("{}/{}", base, relative);
}

// Removes a folder on destruction unless released.
class RemoveOnFailure {
 public:
  explicit RemoveOnFailure(fs::path path) : path_(std::move(path)) {}
  ~RemoveOnFailure() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void Release() { path_.clear(); }

 private:
  fs::path path_;
};

// A fresh staging folder beside `dest` (same file system, so that it can be renamed into place).
fs::path StagingBeside(const fs::path& dest) {
  fs::path parent = dest.parent_path().empty() ? fs::path(".") : dest.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  std::string pattern = (parent / fmt::format(".{}.mlt-XXXXXX", dest.filename().string())).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw Error(ErrorCode::kIoError,
                fmt::format("Cannot create a folder beside '{}'", dest.string()));
  }
  return pattern;
}

}  // namespace

ModelUri ParseModelUri(std::string_view uri) {
  if (uri.empty()) ThrowBadUri(uri, "it is empty");
  std::string scheme = UriScheme(uri);
  if (scheme == "runs") return ParseRunsUri(uri);
  if (scheme == "models") return ParseModelsUri(uri);
  ModelUri parsed;
  parsed.kind = ModelUri::Kind::kLocal;
  parsed.uri = std::string(uri);
  if (scheme.empty() || scheme == "file") {
    try {
      parsed.local_path = LocalPathFromUri(uri);
    } catch (const Error& e) {
      ThrowBadUri(uri, e.what());
    }
    return parsed;
  }
  ThrowBadUri(uri, fmt::format("the scheme '{}' is not supported; use runs:/, models:/, a "
                               "folder or a .tar.gz archive",
                               scheme));
}

std::string RunModelUri(std::string_view run_id, std::string_view artifact_path) {
  return fmt::format("runs:/{}/{}", run_id, artifact_path);
}

ModelResolver::ModelResolver(std::string tracking_uri)
    : tracking_uri_(tracking_uri.empty() ? TrackingUriFromEnvironment() : std::move(tracking_uri)) {
  ParseTrackingUri(tracking_uri_);  // a bad URI is reported now, not at first use
}

ModelResolver::ModelResolver(std::shared_ptr<tracking::TrackingStore> tracking,
                             std::shared_ptr<RegistryStore> registry, std::string tracking_uri)
    : tracking_uri_(std::move(tracking_uri)),
      tracking_(std::move(tracking)),
      registry_(std::move(registry)) {}

tracking::TrackingStore& ModelResolver::tracking() {
  if (!tracking_) tracking_ = tracking::OpenTrackingStore(tracking_uri_);
  return *tracking_;
}

RegistryStore& ModelResolver::registry() {
  // A resolver given only a tracking store opens the registry beside it on first use.
  if (!registry_) registry_ = OpenRegistryStore(tracking_uri_);
  return *registry_;
}

ResolvedModel ModelResolver::FollowRun(std::string_view uri, const std::string& run_id,
                                       const std::string& artifact_path) {
  Run run = tracking().GetRun(run_id);
  ResolvedModel resolved;
  resolved.uri = std::string(uri);
  resolved.location = JoinArtifactUri(run.info.artifact_uri, artifact_path);
  resolved.run_id = run_id;
  return resolved;
}

ResolvedModel ModelResolver::FromVersion(std::string_view uri, const ModelVersion& version) {
  ResolvedModel resolved;
  std::string scheme = UriScheme(version.source);
  if (scheme == "runs") {
    ModelUri source = ParseModelUri(version.source);
    resolved = FollowRun(uri, source.run_id, source.artifact_path);
  } else if (scheme == "models") {
    throw Error(ErrorCode::kInvalidState,
                fmt::format("Model version {} of '{}' has the source '{}', another registry URI; "
                            "a version's source must be a run or an artifact location",
                            version.version, version.name, version.source));
  } else {
    resolved.uri = std::string(uri);
    resolved.location = version.source;
    resolved.run_id = version.run_id;
  }
  resolved.name = version.name;
  resolved.version = version.version;
  return resolved;
}

ResolvedModel ModelResolver::Resolve(std::string_view model_uri) {
  ModelUri parsed = ParseModelUri(model_uri);
  switch (parsed.kind) {
    case ModelUri::Kind::kLocal: {
      std::error_code ec;
      if (!fs::exists(parsed.local_path, ec)) {
        throw Error(ErrorCode::kResourceDoesNotExist,
                    fmt::format("No model bundle at '{}'", parsed.local_path.string()));
      }
      ResolvedModel resolved;
      resolved.uri = parsed.uri;
      resolved.location = parsed.local_path.string();
      resolved.local = true;
      return resolved;
    }
    case ModelUri::Kind::kRun:
      return FollowRun(model_uri, parsed.run_id, parsed.artifact_path);
    case ModelUri::Kind::kVersion:
      return FromVersion(model_uri, registry().GetModelVersion(parsed.name, parsed.version));
    case ModelUri::Kind::kAlias:
      return FromVersion(model_uri, registry().GetModelVersionByAlias(parsed.name, parsed.alias));
    case ModelUri::Kind::kStage:
    case ModelUri::Kind::kLatest: {
      std::vector<std::string> stages;
      if (parsed.kind == ModelUri::Kind::kStage) stages.push_back(parsed.stage);
      std::vector<ModelVersion> versions = registry().GetLatestVersions(parsed.name, stages);
      if (versions.empty()) {
        throw Error(ErrorCode::kResourceDoesNotExist,
                    parsed.kind == ModelUri::Kind::kStage
                        ? fmt::format("No versions of model '{}' are in stage '{}'", parsed.name,
                                      parsed.stage)
                        : fmt::format("Registered model '{}' has no versions", parsed.name));
      }
      auto newest = std::max_element(
          versions.begin(), versions.end(), [](const ModelVersion& a, const ModelVersion& b) {
            return std::stoll(a.version) < std::stoll(b.version);
          });
      return FromVersion(model_uri, *newest);
    }
  }
  throw Error(ErrorCode::kInternalError, "unhandled model URI kind");
}

fs::path ModelResolver::Download(std::string_view model_uri, const fs::path& dest_dir) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dest_dir, ec))) {
    throw Error(ErrorCode::kResourceAlreadyExists,
                fmt::format("Cannot download '{}' to '{}': it already exists", model_uri,
                            dest_dir.string()));
  }
  ResolvedModel resolved = Resolve(model_uri);
  // A bundle archive on this machine: given as a path, or the file: source of a version that
  // `mlt models register <archive>` made.
  std::optional<std::string> archive;
  if (resolved.local) {
    archive = resolved.location;
  } else if (const std::string scheme = UriScheme(resolved.location);
             scheme.empty() || scheme == "file") {
    try {
      archive = LocalPathFromUri(resolved.location);
    } catch (const Error&) {
      // a file: URI naming another host: fetched like any other location
    }
  }
  if (archive && models::IsBundleArchive(*archive) &&
      (resolved.local || fs::is_regular_file(*archive, ec))) {
    resolved.location = *archive;
    models::ImportBundle(resolved.location, dest_dir);  // all or nothing on its own
    if (!fs::is_regular_file(dest_dir / models::kMlmodelFileName, ec)) {
      fs::remove_all(dest_dir, ec);
      throw Error(ErrorCode::kResourceDoesNotExist,
                  fmt::format("No model bundle in the archive '{}': it has no {} file at its root",
                              resolved.location, models::kMlmodelFileName));
    }
    return dest_dir;
  }
  fs::path staging = StagingBeside(dest_dir);
  RemoveOnFailure cleanup(staging);
  std::unique_ptr<tracking::ArtifactRepository> repo =
      resolved.local ? std::make_unique<tracking::LocalArtifactRepository>(resolved.location)
                     : tracking::OpenArtifactRepository(resolved.location, tracking_uri_);
  repo->Download("", staging);
  if (!fs::is_regular_file(staging / models::kMlmodelFileName, ec)) {
    throw Error(ErrorCode::kResourceDoesNotExist,
                fmt::format("No model bundle at '{}': '{}' has no {} file", model_uri,
                            resolved.location, models::kMlmodelFileName));
  }
  fs::rename(staging, dest_dir, ec);
  if (ec) {
    throw Error(ErrorCode::kIoError, fmt::format("Cannot move the model into '{}': {}",
                                                 dest_dir.string(), ec.message()));
  }
  cleanup.Release();
  return dest_dir;
}

void ModelResolver::WithBundleFolder(std::string_view model_uri,
                                     const std::function<void(const fs::path&)>& use) {
  ModelUri parsed = ParseModelUri(model_uri);
  std::error_code ec;
  if (parsed.kind == ModelUri::Kind::kLocal && fs::is_directory(parsed.local_path, ec)) {
    use(parsed.local_path);
    return;
  }
  if (parsed.kind != ModelUri::Kind::kLocal) {
    // A run's or a registered version's bundle that already sits in a local artifact store is
    // read where it is: copying it (and syncing every file) would cost more than the reading.
    ResolvedModel resolved = Resolve(model_uri);
    const std::string scheme = UriScheme(resolved.location);
    if (scheme.empty() || scheme == "file") {
      try {
        fs::path folder = LocalPathFromUri(resolved.location);
        if (fs::is_regular_file(folder / models::kMlmodelFileName, ec)) {
          use(folder);
          return;
        }
      } catch (const Error&) {
        // a file: URI naming another host: fetched like any other location
      }
    }
  }
  ScratchDir scratch("mlt-model");
  use(Download(model_uri, scratch.path() / "bundle"));
}

std::unique_ptr<models::Model> ModelResolver::Load(std::string_view model_uri,
                                                   const models::FlavorRegistry& flavors) {
  std::unique_ptr<models::Model> model;
  WithBundleFolder(model_uri, [&](const fs::path& bundle) {
    model = models::LoadModel(bundle, flavors);
  });
  return model;
}

ModelVersion ModelResolver::Register(std::string_view model_uri, const std::string& name,
                                     const std::vector<Tag>& tags,
                                     const std::string& description) {
  ModelUri parsed = ParseModelUri(model_uri);
  ModelVersionCreate create;
  create.name = name;
  create.tags = tags;
  create.description = description;
  switch (parsed.kind) {
    case ModelUri::Kind::kRun: {
      Run run = tracking().GetRun(parsed.run_id);  // kResourceDoesNotExist for none
      auto repo = tracking::OpenArtifactRepository(run.info.artifact_uri, tracking_uri_);
      std::string mlmodel = parsed.artifact_path.empty()
                                ? std::string(models::kMlmodelFileName)
                                : fmt::format("{}/{}", parsed.artifact_path,
                                              models::kMlmodelFileName);
      bool found = false;
      for (const auto& info : repo->List(parsed.artifact_path)) {
        if (!info.is_dir && info.path == mlmodel) found = true;
      }
      if (!found) {
        throw Error(ErrorCode::kResourceDoesNotExist,
                    fmt::format("No model bundle at '{}': run {} has no '{}' artifact", model_uri,
                                parsed.run_id, mlmodel));
      }
      create.source = JoinArtifactUri(run.info.artifact_uri, parsed.artifact_path);
      create.run_id = parsed.run_id;
      break;
    }
    case ModelUri::Kind::kLocal: {
      if (ParseTrackingUri(tracking_uri_).scheme != TrackingUri::Scheme::kSqlite) {
        throw Error(ErrorCode::kInvalidParameterValue,
                    fmt::format("Cannot register the local bundle '{}' in the registry at '{}': "
                                "its path means nothing to the server; log it to a run and "
                                "register runs:/<run_id>/<path>",
                                model_uri, tracking_uri_));
      }
      fs::path path = fs::absolute(parsed.local_path).lexically_normal();
      std::error_code ec;
      if (fs::is_directory(path, ec)) {
        models::ReadMlmodel(path / models::kMlmodelFileName);  // a bundle, and a valid one
      } else if (!models::IsBundleArchive(path)) {
        throw Error(ErrorCode::kResourceDoesNotExist,
                    fmt::format("No model bundle at '{}'", path.string()));
      }
      create.source = FileUriFromPath(path.string());
      break;
    }
    default: {
      ResolvedModel resolved = Resolve(model_uri);
      ModelVersion source = registry().GetModelVersion(resolved.name, resolved.version);
      create.source = source.source;
      create.run_id = source.run_id;
      break;
    }
  }
  try {
    registry().CreateRegisteredModel(name, {}, "");
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kResourceAlreadyExists) throw;
  }
  return registry().CreateModelVersion(create);
}

}  // namespace mltrack::registry
