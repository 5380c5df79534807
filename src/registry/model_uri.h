// Model URIs, as MLflow spells them, and the resolver that turns one into a bundle on disk:
//
//   runs:/<run_id>/<path>        the bundle logged at <path> in a run's artifacts
//   models:/<name>/<version>     a registered version, by number
//   models:/<name>/<stage>       the newest version in a stage (None, Staging, Production,
//                                Archived; any case)
//   models:/<name>/latest        the newest version of the model
//   models:/<name>@<alias>       the version an alias points at
//   /a/bundle, ./b, file:///c    a bundle folder or a bundle archive (.tar.gz) on this machine
//
// Registered versions are followed to their source (an artifact URI, or a runs:/ URI), runs to
// their artifact repository: local folders for a sqlite:/// tracking URI, the server's artifact
// proxy (mlflow-artifacts:) for an http(s) one.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mltrack/entities.h"
#include "models/bundle/flavor_registry.h"
#include "registry/registry_store.h"
#include "tracking/tracking_store.h"

namespace mltrack::registry {

struct ModelUri {
  enum class Kind { kRun, kVersion, kStage, kLatest, kAlias, kLocal };
  Kind kind = Kind::kLocal;
  std::string uri;            // as given
  std::string run_id;         // kRun
  std::string artifact_path;  // kRun: normalized, relative; empty means the run's artifact root
  std::string name;           // kVersion, kStage, kLatest, kAlias
  std::string version;        // kVersion: decimal digits
  std::string stage;          // kStage: MLflow's spelling ("Production")
  std::string alias;          // kAlias
  std::filesystem::path local_path;  // kLocal
};

// Throws Error(kInvalidParameterValue) naming the URI and what is wrong with it, e.g.
//   "Invalid model URI 'models:/recs/prod': 'prod' is not a version number, a stage (None,
//    Staging, Production, Archived) or 'latest'; for an alias write models:/recs@prod"
// A URI with another scheme (s3:, gs:, ...) is refused the same way.
ModelUri ParseModelUri(std::string_view uri);

// Where a model URI leads.
struct ResolvedModel {
  std::string uri;           // as given
  // The bundle folder's location: an artifact URI (file:///..., mlflow-artifacts:/...) or, for
  // kLocal, the local path (a folder or an archive).
  std::string location;
  bool local = false;        // `location` is a path on this machine given directly
  std::string run_id;        // the run that logged it, when known
  std::string name;          // registered model and version, for models:/ URIs
  std::string version;
};

class ModelResolver {
 public:
  // `tracking_uri` empty: from the environment (MLT_TRACKING_URI, ...). The stores are opened on
  // first use, so a local path resolves without touching any database.
  explicit ModelResolver(std::string tracking_uri = "");
  ModelResolver(std::shared_ptr<tracking::TrackingStore> tracking,
                std::shared_ptr<RegistryStore> registry, std::string tracking_uri);

  const std::string& tracking_uri() const { return tracking_uri_; }
  tracking::TrackingStore& tracking();
  RegistryStore& registry();

  // Follows the URI to its bundle's location without fetching anything. Throws the stores'
  // errors (kResourceDoesNotExist for an unknown run, model, version or alias: "No versions of
  // model 'recs' are in stage 'Production'"; kInvalidParameterValue for an alias that does not
  // exist, as MLflow answers) and ParseModelUri's.
  ResolvedModel Resolve(std::string_view model_uri);

  // Copies the bundle into the folder `dest_dir` (which must not exist; it is created) and returns
  // it. An archive is extracted with ImportBundle's checks. The result holds an MLmodel: when
  // the location has none, kResourceDoesNotExist "No model bundle at 'runs:/<id>/model': ... has
  // no MLmodel file" and `dest_dir` is not left behind.
  std::filesystem::path Download(std::string_view model_uri, const std::filesystem::path& dest_dir);

  // Calls `use` with a folder holding the bundle of `model_uri`, to read (never to change): a
  // local bundle folder itself, a run's or registered version's bundle in a local artifact store
  // where it is, anything else (behind a server, an archive) downloaded into a temporary folder
  // that is removed when `use` returns or throws.
  void WithBundleFolder(std::string_view model_uri,
                        const std::function<void(const std::filesystem::path&)>& use);

  // Fetches (into a temporary folder, removed before returning, unless the URI is a local
  // folder) and loads the model with the flavor table.
  std::unique_ptr<models::Model> Load(
      std::string_view model_uri,
      const models::FlavorRegistry& flavors = models::FlavorRegistry::Global());

  // MLflow's register_model: creates the registered model `name` unless it exists, then a new
  // version whose source is the bundle's artifact location (for a runs:/ URI, the run's
  // artifact URI joined with the path, as MLflow records it) and whose run_id is the run's.
  // Checked first, so that nothing is created for a bad URI: the run exists and holds an MLmodel
  // at that path (kResourceDoesNotExist otherwise); a local bundle is refused when the registry
  // is a remote server (its path would mean nothing there).
  ModelVersion Register(std::string_view model_uri, const std::string& name,
                        const std::vector<Tag>& tags = {}, const std::string& description = "");

 private:
  // The bundle's location when `source` (a version's source) is itself a URI to follow.
  ResolvedModel FollowRun(std::string_view uri, const std::string& run_id,
                          const std::string& artifact_path);
  ResolvedModel FromVersion(std::string_view uri, const ModelVersion& version);

  std::string tracking_uri_;
  std::shared_ptr<tracking::TrackingStore> tracking_;
  std::shared_ptr<RegistryStore> registry_;
};

// The run URI of a model logged at `artifact_path` of `run_id`: "runs:/<run_id>/<artifact_path>".
std::string RunModelUri(std::string_view run_id, std::string_view artifact_path);

}  // namespace mltrack::registry
