// Model URIs: parsing, and resolution, download, loading and registration of every form, against
// a local SQLite tracking URI and through an in-process `mlt server` (REST stores and the
// artifact proxy).
#include "registry/model_uri.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "common/tracking_uri.h"
#include "mltrack/client.h"
#include "models/bundle/archive.h"
#include "models/bundle/mlmodel.h"
#include "registry/registry_factory.h"
#include "server/tracking_server.h"
#include "support/scale_bundle.h"
#include "support/test_support.h"

namespace mltrack::registry {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::PredictScale;
using ::mltrack::testing::ScaleLoader;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteScaleBundle;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;

// --- parsing -------------------------------------------------------------------------------------

TEST(ParseModelUri, ReadsEveryForm) {
  ModelUri run = ParseModelUri("runs:/0123456789abcdef0123456789abcdef/models/recs");
  EXPECT_EQ(run.kind, ModelUri::Kind::kRun);
  EXPECT_EQ(run.run_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(run.artifact_path, "models/recs");
  EXPECT_EQ(ParseModelUri("runs:/abc").artifact_path, "");

  ModelUri version = ParseModelUri("models:/recs/007");
  EXPECT_EQ(version.kind, ModelUri::Kind::kVersion);
  EXPECT_EQ(version.name, "recs");
  EXPECT_EQ(version.version, "7");

  ModelUri stage = ParseModelUri("models:/recs/production");
  EXPECT_EQ(stage.kind, ModelUri::Kind::kStage);
  EXPECT_EQ(stage.stage, "Production");
  EXPECT_EQ(ParseModelUri("models:/recs/None").stage, "None");

  EXPECT_EQ(ParseModelUri("models:/recs/Latest").kind, ModelUri::Kind::kLatest);

  ModelUri alias = ParseModelUri("models:/my@model@prod");
  EXPECT_EQ(alias.kind, ModelUri::Kind::kAlias);
  EXPECT_EQ(alias.name, "my@model");
  EXPECT_EQ(alias.alias, "prod");

  ModelUri local = ParseModelUri("file:///tmp/a%20b");
  EXPECT_EQ(local.kind, ModelUri::Kind::kLocal);
  EXPECT_EQ(local.local_path, fs::path("/tmp/a b"));
  EXPECT_EQ(ParseModelUri("./bundle.tar.gz").local_path, fs::path("./bundle.tar.gz"));
}

TEST(ParseModelUri, NamesWhatIsWrong) {
  auto refused = [](std::string_view uri, std::string_view problem) {
    SCOPED_TRACE(uri);
    EXPECT_ERROR(ParseModelUri(uri), ErrorCode::kInvalidParameterValue,
                 Eq(fmt::format("Invalid model URI '{}': {}", uri, problem)));
  };
  refused("models:/recs/prod",
          "'prod' is not a version number, a stage (None, Staging, Production, Archived) or "
          "'latest'; for an alias write models:/recs@prod");
  refused("models:/recs",
          "no version, stage or alias after the model name; expected models:/<name>/<version>, "
          "models:/<name>/<stage>, models:/<name>/latest or models:/<name>@<alias>");
  refused("models:/recs/1/extra",
          "expected models:/<name>/<version>, models:/<name>/<stage>, models:/<name>/latest or "
          "models:/<name>@<alias>");
  refused("models:/recs/0", "versions are numbered from 1");
  refused("models:/recs/99999999999", "version 99999999999 is too large");
  refused("models:/@prod", "the model name is empty");
  refused("models:/recs@", "the alias after '@' is empty");
  refused("models:recs/1",
          "expected models:/<name>/<version>, models:/<name>/<stage>, models:/<name>/latest or "
          "models:/<name>@<alias>");
  refused("models://profile/recs/1",
          "a models:// URI with an authority is not supported; expected models:/<name>/<version>, "
          "models:/<name>/<stage>, models:/<name>/latest or models:/<name>@<alias>");
  refused("runs:/", "the run id is missing; expected runs:/<run_id>/<path>");
  refused("s3://bucket/model",
          "the scheme 's3' is not supported; use runs:/, models:/, a folder or a .tar.gz archive");
  refused("", "it is empty");
  EXPECT_ERROR(ParseModelUri("runs:/abc/../../etc"), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid model URI 'runs:/abc/../../etc': "));
}

// --- resolution, against both kinds of tracking URI ---------------------------------------------

struct LocalEnv {
  static constexpr const char* kName = "Sqlite";
  explicit LocalEnv(const TempDir& dir)
      : tracking_uri("sqlite:///" + (dir / "mlruns.db").string()) {}
  std::string tracking_uri;
};

struct ServedEnv {
  static constexpr const char* kName = "Rest";
  explicit ServedEnv(const TempDir& dir)
      : server({.backend_store_uri = "sqlite:///" + (dir / "server.db").string(),
                .artifacts_destination = (dir / "served-artifacts").string(),
                .port = 0,
                .workers = 4}) {
    server.Start();
    tracking_uri = server.url();
  }
  server::TrackingServer server;
  std::string tracking_uri;
};

template <class Env>
class ModelUriResolution : public ::testing::Test {
 protected:
  ModelUriResolution() : env_(dir_), client_({.tracking_uri = env_.tracking_uri}) {
    flavors_.Register(testing::kScaleFlavor, ScaleLoader());
  }

  // Logs a scale bundle to a new run and returns its runs:/ URI.
  std::string LogScaleModel(double scale, std::string_view path = "model") {
    fs::path bundle = dir_ / fmt::format("bundle-{}", counter_++);
    WriteScaleBundle(bundle, scale);
    auto run = client_.StartRun({.experiment = "uris"});
    return run.LogModel(bundle, path).model_uri;
  }
  ModelResolver Resolver() { return ModelResolver(env_.tracking_uri); }
  double ScaleOf(std::string_view uri) {
    auto model = Resolver().Load(uri, flavors_);
    return PredictScale(*model, {1.0}).at(0);
  }

  TempDir dir_;
  Env env_;
  Client client_;
  models::FlavorRegistry flavors_;
  int counter_ = 0;
};

using Envs = ::testing::Types<LocalEnv, ServedEnv>;
struct EnvNames {
  template <class Env>
  static std::string GetName(int) {
    return Env::kName;
  }
};
TYPED_TEST_SUITE(ModelUriResolution, Envs, EnvNames);

TYPED_TEST(ModelUriResolution, LoadsARunsUri) {
  std::string uri = this->LogScaleModel(3, "nested/model");
  EXPECT_EQ(this->ScaleOf(uri), 3);
  ResolvedModel resolved = this->Resolver().Resolve(uri);
  EXPECT_THAT(resolved.location, ::testing::EndsWith("/artifacts/nested/model"));
  EXPECT_FALSE(resolved.run_id.empty());
}

TYPED_TEST(ModelUriResolution, ReadsALocalStoresBundleInPlaceAndFetchesOthers) {
  std::string uri = this->LogScaleModel(2);
  ResolvedModel resolved = this->Resolver().Resolve(uri);
  fs::path seen;
  this->Resolver().WithBundleFolder(uri, [&](const fs::path& folder) {
    seen = folder;
    EXPECT_TRUE(fs::exists(folder / "MLmodel")) << folder;
  });
  const std::string scheme = UriScheme(resolved.location);
  const bool local = scheme.empty() || scheme == "file";
  EXPECT_EQ(local, std::string(TypeParam::kName) == "Sqlite") << resolved.location;
  if (local) {
    EXPECT_EQ(seen, fs::path(LocalPathFromUri(resolved.location)));  // read where it is
    EXPECT_TRUE(fs::exists(seen));
  } else {
    EXPECT_FALSE(fs::exists(seen)) << "the fetched copy is removed afterwards";
  }
}

TYPED_TEST(ModelUriResolution, ResolvesEveryRegistryForm) {
  ModelResolver resolver = this->Resolver();
  std::string first = this->LogScaleModel(1);
  std::string second = this->LogScaleModel(2);
  std::string third = this->LogScaleModel(3);
  EXPECT_EQ(resolver.Register(first, "recs").version, "1");
  EXPECT_EQ(resolver.Register(second, "recs").version, "2");
  EXPECT_EQ(resolver.Register(third, "recs").version, "3");
  RegistryStore& registry = resolver.registry();
  registry.TransitionModelVersionStage("recs", "2", "Production", false);
  registry.TransitionModelVersionStage("recs", "1", "Staging", false);
  registry.SetRegisteredModelAlias("recs", "champion", "1");

  EXPECT_EQ(this->ScaleOf("models:/recs/2"), 2);
  EXPECT_EQ(this->ScaleOf("models:/recs/production"), 2);
  EXPECT_EQ(this->ScaleOf("models:/recs/Staging"), 1);
  EXPECT_EQ(this->ScaleOf("models:/recs/latest"), 3);
  EXPECT_EQ(this->ScaleOf("models:/recs@champion"), 1);

  ResolvedModel resolved = resolver.Resolve("models:/recs@champion");
  EXPECT_EQ(resolved.name, "recs");
  EXPECT_EQ(resolved.version, "1");
  EXPECT_EQ(resolved.run_id, ParseModelUri(first).run_id);

  // Moving the alias moves what the URI means.
  registry.SetRegisteredModelAlias("recs", "champion", "3");
  EXPECT_EQ(this->ScaleOf("models:/recs@champion"), 3);
}

TYPED_TEST(ModelUriResolution, RegistersFromAModelsUriWithTheSameSource) {
  ModelResolver resolver = this->Resolver();
  std::string uri = this->LogScaleModel(5);
  ModelVersion v1 = resolver.Register(uri, "recs");
  ModelVersion copy = resolver.Register("models:/recs/1", "recs-copy");
  EXPECT_EQ(copy.source, v1.source);
  EXPECT_EQ(copy.run_id, v1.run_id);
  EXPECT_EQ(this->ScaleOf("models:/recs-copy/1"), 5);
}

TYPED_TEST(ModelUriResolution, DownloadsABundleWithItsMlmodel) {
  std::string uri = this->LogScaleModel(4);
  ModelResolver resolver = this->Resolver();
  resolver.Register(uri, "recs");
  fs::path dest = this->dir_ / "out" / "bundle";
  EXPECT_EQ(resolver.Download("models:/recs/1", dest), dest);
  models::ModelMeta meta = models::ReadMlmodel(dest / "MLmodel");
  EXPECT_EQ(meta.run_id, ParseModelUri(uri).run_id);
  EXPECT_EQ(meta.artifact_path, "model");
  EXPECT_TRUE(fs::is_regular_file(dest / "scale.bin"));
  // Nothing but the bundle: no staging folder left beside it.
  std::vector<std::string> beside;
  for (const auto& entry : fs::directory_iterator(dest.parent_path())) {
    beside.push_back(entry.path().filename().string());
  }
  EXPECT_THAT(beside, ElementsAre("bundle"));
}

TYPED_TEST(ModelUriResolution, ReportsWhatIsMissing) {
  ModelResolver resolver = this->Resolver();
  std::string uri = this->LogScaleModel(1);
  std::string run_id = ParseModelUri(uri).run_id;
  EXPECT_ERROR(resolver.Resolve("runs:/0123456789abcdef0123456789abcdef/model"),
               ErrorCode::kResourceDoesNotExist, HasSubstr("0123456789abcdef0123456789abcdef"));
  EXPECT_ERROR(resolver.Resolve("models:/nope/1"), ErrorCode::kResourceDoesNotExist,
               HasSubstr("nope"));
  resolver.Register(uri, "recs");
  EXPECT_ERROR(resolver.Resolve("models:/recs/9"), ErrorCode::kResourceDoesNotExist,
               Eq("Model Version (name=recs, version=9) not found"));
  EXPECT_ERROR(resolver.Resolve("models:/recs/Production"), ErrorCode::kResourceDoesNotExist,
               Eq("No versions of model 'recs' are in stage 'Production'"));
  EXPECT_ERROR(resolver.Resolve("models:/recs@prod"), ErrorCode::kInvalidParameterValue,
               HasSubstr("prod"));

  // A path in the run that holds no bundle: the download fails and leaves nothing behind.
  fs::path dest = this->dir_ / "dest";
  EXPECT_ERROR(resolver.Download(fmt::format("runs:/{}/elsewhere", run_id), dest),
               ErrorCode::kResourceDoesNotExist,
               HasSubstr(fmt::format("No model bundle at 'runs:/{}/elsewhere'", run_id)));
  EXPECT_FALSE(fs::exists(dest));
  for (const auto& entry : fs::directory_iterator(this->dir_.path())) {
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr(".mlt-")));
  }
  // An existing destination is refused before anything is fetched.
  fs::create_directories(dest);
  EXPECT_ERROR(resolver.Download(uri, dest), ErrorCode::kResourceAlreadyExists,
               HasSubstr("already exists"));
}

TYPED_TEST(ModelUriResolution, RefusesRegistrationsThatPointAtNothing) {
  ModelResolver resolver = this->Resolver();
  std::string uri = this->LogScaleModel(1);
  std::string run_id = ParseModelUri(uri).run_id;
  EXPECT_ERROR(resolver.Register("runs:/0123456789abcdef0123456789abcdef/model", "recs"),
               ErrorCode::kResourceDoesNotExist, HasSubstr("0123456789abcdef0123456789abcdef"));
  EXPECT_ERROR(resolver.Register(fmt::format("runs:/{}/missing", run_id), "recs"),
               ErrorCode::kResourceDoesNotExist,
               Eq(fmt::format("No model bundle at 'runs:/{0}/missing': run {0} has no "
                              "'missing/MLmodel' artifact",
                              run_id)));
  EXPECT_ERROR(resolver.Register("models:/recs@prod", "other"), ErrorCode::kInvalidParameterValue,
               Eq("Registered model alias prod not found."));
  // Nothing was created by the refused registrations.
  EXPECT_TRUE(resolver.registry().SearchRegisteredModels({}).items.empty());
}

TYPED_TEST(ModelUriResolution, ConcurrentRegistrationsGetDenseUniqueVersions) {
  std::string uri = this->LogScaleModel(1);
  constexpr int kThreads = 6;
  std::vector<std::string> versions(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ModelResolver resolver(this->env_.tracking_uri);
      versions[i] = resolver.Register(uri, "recs").version;
    });
  }
  for (auto& t : threads) t.join();
  std::sort(versions.begin(), versions.end(),
            [](const auto& a, const auto& b) { return std::stoi(a) < std::stoi(b); });
  EXPECT_THAT(versions, ElementsAre("1", "2", "3", "4", "5", "6"));
}

TYPED_TEST(ModelUriResolution, LocalBundlesLoadWithoutAStore) {
  fs::path bundle = this->dir_ / "local";
  WriteScaleBundle(bundle, 7);
  models::ExportBundle(bundle, this->dir_ / "local.tar.gz");
  EXPECT_EQ(this->ScaleOf(bundle.string()), 7);
  EXPECT_EQ(this->ScaleOf("file://" + bundle.string()), 7);
  EXPECT_EQ(this->ScaleOf((this->dir_ / "local.tar.gz").string()), 7);
  fs::path dest = this->dir_ / "from-archive";
  this->Resolver().Download((this->dir_ / "local.tar.gz").string(), dest);
  EXPECT_EQ(models::ReadMlmodel(dest / "MLmodel"), models::ReadMlmodel(bundle / "MLmodel"));
  EXPECT_ERROR(this->Resolver().Load((this->dir_ / "absent").string(), this->flavors_),
               ErrorCode::kResourceDoesNotExist, HasSubstr("absent"));
}

TEST(ModelUriRegistration, ALocalBundleRegistersOnlyInALocalRegistry) {
  TempDir dir;
  WriteScaleBundle(dir / "bundle", 2);
  ModelResolver local("sqlite:///" + (dir / "mlruns.db").string());
  ModelVersion version = local.Register((dir / "bundle").string(), "local-model");
  EXPECT_EQ(version.source, "file://" + (dir / "bundle").string());
  models::FlavorRegistry flavors;
  flavors.Register(testing::kScaleFlavor, ScaleLoader());
  EXPECT_EQ(PredictScale(*local.Load("models:/local-model/1", flavors), {2}).at(0), 4);

  // A registered archive: its file: source is unpacked, not read as a folder.
  models::ExportBundle(dir / "bundle", dir / "bundle.tar.gz");
  ModelVersion archived = local.Register((dir / "bundle.tar.gz").string(), "archived-model");
  EXPECT_EQ(archived.source, "file://" + (dir / "bundle.tar.gz").string());
  EXPECT_EQ(PredictScale(*local.Load("models:/archived-model/1", flavors), {3}).at(0), 6);
  local.Download("models:/archived-model/1", dir / "unpacked");
  EXPECT_EQ(models::ReadMlmodel(dir / "unpacked" / "MLmodel"),
            models::ReadMlmodel(dir / "bundle" / "MLmodel"));

  server::TrackingServer server({.backend_store_uri = "sqlite:///" + (dir / "s.db").string(),
                                 .artifacts_destination = (dir / "s-artifacts").string(),
                                 .port = 0,
                                 .workers = 2});
  server.Start();
  ModelResolver remote(server.url());
  EXPECT_ERROR(remote.Register((dir / "bundle").string(), "local-model"),
               ErrorCode::kInvalidParameterValue, HasSubstr("its path means nothing to the server"));
  EXPECT_TRUE(remote.registry().SearchRegisteredModels({}).items.empty());
  // A folder whose MLmodel does not parse is refused before anything is registered.
  fs::create_directories(dir / "broken");
  testing::WriteFile(dir / "broken" / "MLmodel", "flavors: [unclosed\n");
  EXPECT_ERROR(local.Register((dir / "broken").string(), "broken"),
               ErrorCode::kInvalidParameterValue, HasSubstr("Invalid MLmodel file"));
  EXPECT_ERROR(local.registry().GetRegisteredModel("broken"), ErrorCode::kResourceDoesNotExist,
               HasSubstr("broken"));
}

}  // namespace
}  // namespace mltrack::registry
