#include "client/model_logging.h"

#include <fmt/format.h>

#include "common/safe_path.h"
#include "common/scratch_dir.h"
#include "mltrack/error.h"
#include "models/bundle/archive.h"
#include "models/bundle/file_util.h"
#include "models/bundle/mlmodel.h"
#include "registry/model_uri.h"
#include "registry/registry_factory.h"
#include "tracking/artifact_repository.h"

namespace mltrack::client_internal {
namespace {

namespace fs = std::filesystem;

// Every flavor's `data` entry (a path inside the bundle, as MLflow's flavors write it) must name
// something that is there: a bundle missing its weights is refused before it is uploaded.
void CheckFlavorData(const fs::path& bundle_dir, const models::ModelMeta& meta,
                     const fs::path& given) {
  for (const auto& [flavor, config] : meta.flavors) {
    if (!config.is_object()) continue;
    auto data = config.find("data");
    if (data == config.end() || !data->is_string()) continue;
    std::string relative = NormalizeRelativePath(data->get<std::string>(), "flavor data path");
    std::error_code ec;
    if (relative.empty() || !fs::exists(bundle_dir / relative, ec)) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Cannot log the model at '{}': flavor '{}' names the data '{}', "
                              "which the bundle does not hold",
                              given.string(), flavor, data->get<std::string>()));
    }
  }
}

}  // namespace

LoggedModel LogModelToRun(const std::shared_ptr<tracking::TrackingStore>& store, const std::string& tracking_uri,
                          const RunInfo& run, const fs::path& bundle,
                          std::string_view artifact_path_in, const LogModelOptions& options) {
  std::string artifact_path = NormalizeRelativePath(artifact_path_in);
  if (artifact_path.empty()) {
    throw Error(ErrorCode::kInvalidParameterValue,
                "Cannot log a model at the artifact root: give it a path, e.g. \"model\"");
  }
  // A private copy: the MLmodel uploaded names this run, and the caller's folder stays as it is.
  ScratchDir scratch("mlt-model");
  fs::path copy = scratch.path() / "bundle";
  std::error_code ec;
  if (models::IsBundleArchive(bundle)) {
    models::ImportBundle(bundle, copy);
  } else if (fs::is_directory(bundle, ec)) {
    tracking::LocalArtifactRepository(bundle).Download("", copy);
  } else {
    throw Error(ErrorCode::kResourceDoesNotExist,
                fmt::format("No model bundle at '{}'", bundle.string()));
  }
  models::ModelMeta meta = models::ReadMlmodel(copy / models::kMlmodelFileName);
  CheckFlavorData(copy, meta, bundle);
  meta.run_id = run.run_id;
  meta.artifact_path = artifact_path;
  models::WriteMlmodel(copy / models::kMlmodelFileName, meta);

  auto repo = tracking::OpenArtifactRepository(run.artifact_uri, tracking_uri);
  for (const auto& info : repo->List(artifact_path)) {
    if (!info.is_dir && info.path == fmt::format("{}/{}", artifact_path, models::kMlmodelFileName)) {
      throw Error(ErrorCode::kResourceAlreadyExists,
                  fmt::format("Run {} already has a model at '{}'", run.run_id, artifact_path));
    }
  }
  repo->LogDir(copy, artifact_path);
  store->LogModel(run.run_id, models::MlmodelToJson(meta).dump());

  LoggedModel logged;
  logged.model_uri = registry::RunModelUri(run.run_id, artifact_path);
  logged.model_uuid = meta.model_uuid;
  if (!options.registered_model_name.empty()) {
    registry::ModelResolver resolver(store, registry::OpenRegistryStore(tracking_uri),
                                     tracking_uri);
    auto version = resolver.Register(logged.model_uri, options.registered_model_name);
    logged.registered_model_name = version.name;
    logged.registered_version = version.version;
  }
  return logged;
}

}  // namespace mltrack::client_internal
