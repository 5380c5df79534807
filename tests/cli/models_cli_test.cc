// `mlt models ...` end to end: the built binary against a SQLite tracking URI and against an
// in-process `mlt server`, with exact stdout, stderr and exit codes.
#include <algorithm>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mltrack/client.h"
#include "models/bundle/archive.h"
#include "models/bundle/flavor_registry.h"
#include "models/bundle/mlmodel.h"
#include "registry/registry_factory.h"
#include "server/tracking_server.h"
#include "support/scale_bundle.h"
#include "cli/cli_expect.h"
#include "support/test_support.h"

namespace mltrack {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ExpectOutput;
using ::mltrack::testing::ExpectError;
using ::mltrack::testing::ExpectUsageError;
using ::mltrack::testing::PredictScale;
using ::mltrack::testing::ProcessResult;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::RunMlt;
using ::mltrack::testing::ScaleLoader;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::mltrack::testing::WriteScaleBundle;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Utc(int64_t millis) {
  std::time_t t = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

// A tracking URI per test: a SQLite file (GetParam() false) or an in-process server on an
// ephemeral port that keeps its runs in a SQLite file and proxies artifacts (true).
class ModelsCli : public ::testing::TestWithParam<bool> {
 protected:
  ModelsCli() {
    uri_ = "sqlite:///" + (dir_ / "mlruns.db").string();
    if (GetParam()) {
      server_.emplace(server::TrackingServerOptions{
          .backend_store_uri = uri_,
          .artifacts_destination = (dir_ / "served").string(),
          .port = 0,
          .workers = 4});
      server_->Start();
      uri_ = server_->url();
    }
    client_.emplace(ClientOptions{.tracking_uri = uri_});
  }

  ProcessResult Mlt(std::vector<std::string> args) {
    args.push_back("--tracking-uri");
    args.push_back(uri_);
    ::mltrack::testing::ProcessOptions options;
    options.cwd = dir_.path();
    return RunMlt(args, options);
  }

  // A finished run holding a scale bundle at "model"; returns its run id.
  std::string LogScaleModel(double scale) {
    fs::path bundle = dir_ / fmt::format("bundle-{}", scale);
    WriteScaleBundle(bundle, scale);
    auto run = client_->StartRun({.experiment = "models"});
    run.LogModel(bundle, "model");
    std::string id = run.run_id();
    run.End();
    return id;
  }

  registry::RegistryStore& Registry() {
    if (!registry_) registry_ = registry::OpenRegistryStore(uri_);
    return *registry_;
  }

  TempDir dir_;
  std::string uri_;
  std::optional<server::TrackingServer> server_;
  std::optional<Client> client_;
  std::shared_ptr<registry::RegistryStore> registry_;
};

TEST_P(ModelsCli, RegistersListsAliasesAndTransitions) {
  std::string run1 = LogScaleModel(2);
  std::string run2 = LogScaleModel(3);
  ExpectOutput(Mlt({"models", "register", "runs:/" + run1 + "/model", "--name", "recs"}),
               fmt::format("Registered 'runs:/{}/model' as version 1 of model 'recs' "
                           "(models:/recs/1)\n", run1));
  ExpectOutput(Mlt({"models", "register", "runs:/" + run2 + "/model", "-n", "recs",
                    "--description", "rank 20", "--tag", "team=ml"}),
               fmt::format("Registered 'runs:/{}/model' as version 2 of model 'recs' "
                           "(models:/recs/2)\n", run2));
  registry::ModelVersion v2 = Registry().GetModelVersion("recs", "2");
  EXPECT_EQ(v2.description, "rank 20");
  EXPECT_EQ(v2.run_id, run2);
  ASSERT_EQ(v2.tags.size(), 1u);
  EXPECT_EQ(v2.tags[0].value, "ml");

  ExpectOutput(Mlt({"models", "alias", "recs", "prod", "1"}), "models:/recs@prod is version 1\n");
  ExpectOutput(Mlt({"models", "alias", "recs", "canary", "2"}),
               "models:/recs@canary is version 2\n");
  ExpectOutput(Mlt({"models", "transition", "recs", "2", "production"}),
               "Version 2 of model 'recs' is in stage Production\n");
  ExpectOutput(Mlt({"models", "transition", "recs", "1", "Production", "--archive-existing"}),
               "Version 1 of model 'recs' is in stage Production\n");
  EXPECT_EQ(Registry().GetModelVersion("recs", "2").current_stage, "Archived");

  registry::RegisteredModel model = Registry().GetRegisteredModel("recs");
  ExpectOutput(Mlt({"models", "list"}),
               fmt::format("NAME  LATEST  ALIASES          UPDATED              DESCRIPTION\n"
                           "recs       2  canary=2,prod=1  {}\n",
                           Utc(model.last_updated_timestamp)));
  ProcessResult listed = Mlt({"models", "list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  nlohmann::json models = nlohmann::json::parse(listed.out)["registered_models"];
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0]["name"], "recs");
  EXPECT_EQ(models[0]["aliases"].size(), 2u);
  ExpectOutput(Mlt({"models", "list", "--filter", "name LIKE 'x%'"}),
               "NAME  LATEST  ALIASES  UPDATED  DESCRIPTION\n");

  registry::ModelVersion v1 = Registry().GetModelVersion("recs", "1");
  v2 = Registry().GetModelVersion("recs", "2");
  ExpectOutput(
      Mlt({"models", "versions", "recs"}),
      fmt::format("VERSION  STAGE       ALIASES  STATUS  CREATED              RUN_ID{}  SOURCE\n"
                  "      2  Archived    canary   READY   {}  {}  {}\n"
                  "      1  Production  prod     READY   {}  {}  {}\n",
                  std::string(26, ' '), Utc(v2.creation_timestamp), run2, v2.source,
                  Utc(v1.creation_timestamp), run1, v1.source));
  ProcessResult versions = Mlt({"models", "versions", "recs", "--json"});
  ASSERT_EQ(versions.exit_code, 0) << versions.err;
  nlohmann::json listed_versions = nlohmann::json::parse(versions.out)["model_versions"];
  ASSERT_EQ(listed_versions.size(), 2u);
  EXPECT_EQ(listed_versions[0]["version"], "2");
  EXPECT_EQ(listed_versions[1]["current_stage"], "Production");

  ExpectOutput(Mlt({"models", "alias", "recs", "canary", "--delete"}),
               "Deleted alias 'canary' of model 'recs'\n");
  EXPECT_TRUE(Registry().GetModelVersion("recs", "2").aliases.empty());
}

TEST_P(ModelsCli, DescribesDownloadsAndExportsEveryUriForm) {
  std::string run = LogScaleModel(4);
  ASSERT_EQ(Mlt({"models", "register", "runs:/" + run + "/model", "--name", "recs"}).exit_code, 0);
  ASSERT_EQ(Mlt({"models", "alias", "recs", "prod", "1"}).exit_code, 0);
  ASSERT_EQ(Mlt({"models", "transition", "recs", "1", "Staging"}).exit_code, 0);
  models::FlavorRegistry flavors;
  flavors.Register(::mltrack::testing::kScaleFlavor, ScaleLoader());

  // Every remote form leads to the same bundle.
  int n = 0;
  for (const std::string& uri : {"runs:/" + run + "/model", std::string("models:/recs/1"),
                                std::string("models:/recs/staging"),
                                std::string("models:/recs/latest"),
                                std::string("models:/recs@prod")}) {
    SCOPED_TRACE(uri);
    fs::path dest = dir_ / fmt::format("dl-{}", n++);
    ExpectOutput(Mlt({"models", "download", uri, "-o", dest.string()}), dest.string() + "\n");
    auto model = models::LoadModel(dest, flavors);
    EXPECT_THAT(PredictScale(*model, {1.0, 2.5}), ElementsAre(4.0, 10.0));
    EXPECT_EQ(models::ReadMlmodel(dest / "MLmodel").run_id, run);
  }

  // describe: the MLmodel's origin, flavors and signature.
  models::ModelMeta meta = models::ReadMlmodel(dir_ / "dl-0" / "MLmodel");
  ProcessResult described = Mlt({"models", "describe", "models:/recs@prod"});
  EXPECT_EQ(described.exit_code, 0) << described.err;
  EXPECT_EQ(described.err, "");
  EXPECT_THAT(described.out, StartsWith("Model URI:      models:/recs@prod\nLocation:       "));
  EXPECT_THAT(described.out, HasSubstr("\nRegistered:     recs version 1\nRun:            " + run +
                                       "\nArtifact path:  model\nModel UUID:     " +
                                       meta.model_uuid + "\nCreated:        " +
                                       meta.utc_time_created + " UTC\n"));
  EXPECT_THAT(described.out, HasSubstr("Flavors:\n  FLAVOR           CONFIGURATION\n"));
  EXPECT_THAT(described.out, HasSubstr("\n  test.scale       data=scale.bin format_version=1\n"));
  EXPECT_THAT(described.out, HasSubstr("Signature inputs:\n  NAME  TYPE    REQUIRED\n"
                                       "  x     double  yes\n"
                                       "Signature outputs:\n  NAME  TYPE    REQUIRED\n"
                                       "  y     double  yes\n"));
  ProcessResult json = Mlt({"models", "describe", "models:/recs/1", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json parsed = nlohmann::json::parse(json.out);
  EXPECT_EQ(parsed["registered_model"]["version"], "1");
  EXPECT_EQ(parsed["run_id"], run);
  EXPECT_EQ(parsed["mlmodel"]["model_uuid"], meta.model_uuid);
  EXPECT_TRUE(parsed["mlmodel"]["flavors"].contains("test.scale"));

  // export: one archive that imports to the same files, and that is itself a model URI.
  fs::path archive = dir_ / "recs.tar.gz";
  ExpectOutput(Mlt({"models", "export", "models:/recs@prod", "-o", archive.string()}),
               archive.string() + "\n");
  models::ImportBundle(archive, dir_ / "imported");
  EXPECT_EQ(ReadFile(dir_ / "imported" / "MLmodel"), ReadFile(dir_ / "dl-0" / "MLmodel"));
  EXPECT_EQ(ReadFile(dir_ / "imported" / "scale.bin"), ReadFile(dir_ / "dl-0" / "scale.bin"));
  ProcessResult local = Mlt({"models", "describe", archive.string()});
  EXPECT_EQ(local.exit_code, 0) << local.err;
  EXPECT_THAT(local.out, HasSubstr("\nRun:            " + run + "\n"));
  EXPECT_THAT(local.out, ::testing::Not(HasSubstr("Registered:")));
  // A local folder exports without a registry.
  fs::path again = dir_ / "again.tar.gz";
  ExpectOutput(Mlt({"models", "export", (dir_ / "imported").string(), "-o", again.string()}),
               again.string() + "\n");
  EXPECT_EQ(ReadFile(again), ReadFile(archive)) << "export is deterministic";
}

TEST_P(ModelsCli, RefusesBadRequestsAndLeavesNothingBehind) {
  std::string run = LogScaleModel(2);
  ExpectError(Mlt({"models", "register", "runs:/0123456789abcdef0123456789abcdef/model", "--name",
                   "recs"}),
              1, "Run with id=0123456789abcdef0123456789abcdef not found");
  ExpectError(Mlt({"models", "register", "runs:/" + run + "/nothing", "--name", "recs"}), 1,
              fmt::format("No model bundle at 'runs:/{}/nothing': run {} has no "
                          "'nothing/MLmodel' artifact",
                          run, run));
  // Nothing was registered by the refusals.
  ExpectOutput(Mlt({"models", "list"}), "NAME  LATEST  ALIASES  UPDATED  DESCRIPTION\n");

  ASSERT_EQ(Mlt({"models", "register", "runs:/" + run + "/model", "--name", "recs"}).exit_code, 0);
  ExpectError(Mlt({"models", "alias", "recs", "latest", "1"}), 1,
              "'latest' alias name (case insensitive) is reserved.");
  ExpectError(Mlt({"models", "alias", "recs", "v2", "1"}), 1,
              "Version alias name 'v2' is reserved.");
  ExpectError(Mlt({"models", "alias", "recs", "prod", "7"}), 1,
              "Model Version (name=recs, version=7) not found");
  ExpectError(Mlt({"models", "transition", "recs", "1", "Live"}), 1,
              "Invalid Model Version stage: Live. Value must be one of None, Staging, "
              "Production, Archived.");
  ExpectError(Mlt({"models", "versions", "nope"}), 1, "Registered Model with name=nope not found");
  ExpectError(Mlt({"models", "describe", "models:/recs/prod"}), 1,
              "Invalid model URI 'models:/recs/prod': 'prod' is not a version number, a stage "
              "(None, Staging, Production, Archived) or 'latest'; for an alias write "
              "models:/recs@prod");
  ExpectError(Mlt({"models", "download", "models:/recs/Production", "-o",
                   (dir_ / "out").string()}),
              1, "No versions of model 'recs' are in stage 'Production'");
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  fs::create_directories(dir_ / "taken");
  ExpectError(Mlt({"models", "download", "models:/recs/1", "-o", (dir_ / "taken").string()}), 1,
              fmt::format("Cannot download 'models:/recs/1' to '{}': it already exists",
                          (dir_ / "taken").string()));
  ProcessResult bad_filter = Mlt({"models", "list", "--filter", "name = "});
  EXPECT_EQ(bad_filter.exit_code, 1);
  EXPECT_EQ(bad_filter.out, "");
  EXPECT_THAT(bad_filter.err, Eq("mlt: error: Invalid filter 'name = ': expected a quoted string for attribute 'name' "
                                 "after '=', found end of input at position 8\n"));
}

TEST_P(ModelsCli, DescribeNamesTheFileOfAMalformedMlmodel) {
  WriteScaleBundle(dir_ / "broken", 1);
  WriteFile(dir_ / "broken" / "MLmodel", "flavors: [unclosed\n");
  ProcessResult r = Mlt({"models", "describe", (dir_ / "broken").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("mlt: error: Invalid MLmodel file '" +
                                (dir_ / "broken" / "MLmodel").string() + "': line "));
}

TEST_P(ModelsCli, UsageErrorsExitWithTwoBeforeTouchingAStore) {
  // A database of its own, so that its absence afterwards shows nothing opened it.
  uri_ = "sqlite:///" + (dir_ / "untouched.db").string();
  ExpectUsageError(Mlt({"models", "register", "runs:/x/model"}), "--name is required");
  ExpectUsageError(Mlt({"models", "alias", "recs", "prod"}), "VERSION (or --delete) is required");
  ExpectUsageError(Mlt({"models", "alias", "recs", "prod", "1", "--delete"}),
                   "VERSION: not allowed with --delete");
  ExpectUsageError(Mlt({"models", "transition", "recs", "1"}), "STAGE is required");
  ExpectUsageError(Mlt({"models", "download", "models:/recs/1"}), "--output is required");
  ExpectUsageError(Mlt({"models", "register", "runs:/x/model", "-n", "r", "--tag", "novalue"}),
                   "--tag: expected KEY=VALUE, got 'novalue'");
  EXPECT_FALSE(fs::exists(dir_ / "untouched.db"));
}

TEST_P(ModelsCli, EverySubcommandHasHelp) {
  for (const char* sub : {"register", "list", "versions", "alias", "transition", "describe",
                          "download", "export"}) {
    SCOPED_TRACE(sub);
    ProcessResult r = Mlt({"models", sub, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.err, "");
    EXPECT_THAT(r.out, HasSubstr(fmt::format("Usage: mlt models {} [OPTIONS]", sub)));
    EXPECT_THAT(r.out, HasSubstr("--tracking-uri URI"));
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, ModelsCli, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Rest" : "Sqlite"; });

}  // namespace
}  // namespace mltrack
