// Flavors: how a bundle's MLmodel names the code that can load it, and the table of loaders.
//
// A trainer registers a loader for its flavor (e.g. "mltrack.als") once, at startup;
// LoadModel reads a bundle's MLmodel and hands the bundle to the first of its flavors, in name
// order, that has a loader.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "models/bundle/mlmodel.h"
#include "models/bundle/signature.h"

namespace mltrack::models {

class FlavorRegistry;

// A loaded model. Predict may be called from several threads at once.
class Model {
 public:
  virtual ~Model() = default;
  virtual Table Predict(const Table& input) const = 0;
  // The flavor it was loaded as, e.g. "mltrack.als".
  virtual std::string flavor() const = 0;
  // The bundle's MLmodel; set by LoadModel.
  const ModelMeta& meta() const { return meta_; }

 private:
  friend std::unique_ptr<Model> LoadModel(const std::filesystem::path&, const FlavorRegistry&);
  ModelMeta meta_;
};

// Builds a Model from an unpacked bundle. It must read everything it needs before returning:
// for an archive, the folder is removed afterwards.
using FlavorLoader = std::function<std::unique_ptr<Model>(
    const std::filesystem::path& bundle_dir, const ModelMeta& meta)>;

// Thread-safe.
class FlavorRegistry {
 public:
  // The process-wide table LoadModel uses by default.
  static FlavorRegistry& Global();

  // Throws Error(kResourceAlreadyExists) when `flavor` already has a loader.
  void Register(const std::string& flavor, FlavorLoader loader);
  // A copy of the loader; an empty function when there is none.
  FlavorLoader Find(std::string_view flavor) const;
  // The flavors with a loader, sorted.
  std::vector<std::string> Flavors() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, FlavorLoader, std::less<>> loaders_;
};

// Loads the bundle at `path`: a bundle folder, or a bundle archive (.tar.gz, extracted with
// ImportBundle's checks into a temporary folder that is removed before returning). Throws
// Error(kInvalidParameterValue) when none of the bundle's flavors has a loader:
//   "Cannot load the model at 'b': none of its flavors (python_function, sklearn) has a loader
//    here; known flavors: mltrack.als"
// and whatever ReadMlmodel, ImportBundle or the loader throws.
std::unique_ptr<Model> LoadModel(const std::filesystem::path& path,
                                 const FlavorRegistry& registry = FlavorRegistry::Global());

}  // namespace mltrack::models
