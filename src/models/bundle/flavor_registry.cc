#include "models/bundle/flavor_registry.h"

#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/scratch_dir.h"
#include "models/bundle/archive.h"
#include "models/bundle/file_util.h"
#include "mltrack/error.h"

namespace mltrack::models {
namespace {

namespace fs = std::filesystem;

std::string JoinNames(const std::vector<std::string>& names) {
  return names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

FlavorRegistry& FlavorRegistry::Global() {
  static FlavorRegistry* registry = new FlavorRegistry();  // never destroyed: used at exit
  return *registry;
}

void FlavorRegistry::Register(const std::string& flavor, FlavorLoader loader) {
  std::lock_guard lock(mu_);
  if (!loaders_.emplace(flavor, std::move(loader)).second) {
    throw Error(ErrorCode::kResourceAlreadyExists,
                fmt::format("Flavor '{}' already has a loader", flavor));
  }
}

FlavorLoader FlavorRegistry::Find(std::string_view flavor) const {
  std::lock_guard lock(mu_);
  auto it = loaders_.find(flavor);
  return it == loaders_.end() ? FlavorLoader() : it->second;
}

std::vector<std::string> FlavorRegistry::Flavors() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, loader] : loaders_) names.push_back(name);
  return names;
}

std::unique_ptr<Model> LoadModel(const fs::path& path, const FlavorRegistry& registry) {
  std::optional<ScratchDir> scratch;
  fs::path bundle_dir = path;
  if (IsBundleArchive(path)) {
    scratch.emplace("mlt-model");
    bundle_dir = scratch->path() / "bundle";
    ImportBundle(path, bundle_dir);
  } else if (std::error_code ec; !fs::is_directory(path, ec)) {
    throw Error(ErrorCode::kResourceDoesNotExist,
                fmt::format("No model bundle at '{}'", path.string()));
  }
  ModelMeta meta = ReadMlmodel(bundle_dir / kMlmodelFileName);
  for (const auto& [flavor, config] : meta.flavors) {
    FlavorLoader loader = registry.Find(flavor);
    if (!loader) continue;
    std::unique_ptr<Model> model = loader(bundle_dir, meta);
    if (model == nullptr) {
      throw Error(ErrorCode::kInternalError,
                  fmt::format("The loader of flavor '{}' returned no model", flavor));
    }
    model->meta_ = std::move(meta);
    return model;
  }
  std::vector<std::string> found;
  for (const auto& [flavor, config] : meta.flavors) found.push_back(flavor);
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Cannot load the model at '{}': none of its flavors ({}) has a loader "
                          "here; known flavors: {}",
                          path.string(), JoinNames(found), JoinNames(registry.Flavors())));
}

}  // namespace mltrack::models
