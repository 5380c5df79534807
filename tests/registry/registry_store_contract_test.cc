// The RegistryStore contract: one suite, run against every implementation. To add one, write a
// factory (a struct with `static std::shared_ptr<RegistryStore> Make(const TempDir&)`) and add
// it to StoreTypes.
#include <algorithm>
#include <memory>
#include <set>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

#include "registry/registry_store.h"
#include "registry/rest_registry_store.h"
#include "registry/sqlite_registry_store.h"
#include "server/tracking_server.h"
#include "support/test_support.h"

namespace mltrack::registry {
namespace {

using ::mltrack::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

struct SqliteFactory {
  static constexpr bool kOverRest = false;
  static std::shared_ptr<RegistryStore> Make(const TempDir& dir) {
    return std::make_shared<SqliteRegistryStore>((dir / "mlruns.db").string());
  }
};

// A RestRegistryStore for a tracking server on an ephemeral loopback port over a SQLite file in
// `dir`. The returned pointer shares ownership of the server, which therefore lives exactly as
// long as the store (and stops before `dir` is removed).
struct RestFactory {
  static constexpr bool kOverRest = true;
  struct Served {
    explicit Served(const TempDir& dir)
        : server({.backend_store_uri = "sqlite:///" + (dir / "mlruns.db").string(),
                  .artifacts_destination = (dir / "artifacts").string(),
                  .port = 0,
                  .workers = 4}),
          port(server.Start()),
          store(server.url()) {}
    server::TrackingServer server;
    int port;
    RestRegistryStore store;
  };
  static std::shared_ptr<RegistryStore> Make(const TempDir& dir) {
    auto served = std::make_shared<Served>(dir);
    return std::shared_ptr<RegistryStore>(served, &served->store);
  }
};

template <class Factory>
class RegistryStoreContract : public ::testing::Test {
 protected:
  RegistryStoreContract() : store_(Factory::Make(dir_)) {}
  RegistryStore& store() { return *store_; }
  ModelVersion NewVersion(const std::string& name, const std::string& run_id = "run1",
                          std::vector<Tag> tags = {}) {
    return store_->CreateModelVersion(
        {.name = name, .source = "runs:/" + run_id + "/model", .run_id = run_id,
         .tags = std::move(tags)});
  }
  static std::vector<std::string> Names(const Page<RegisteredModel>& page) {
    std::vector<std::string> names;
    for (const auto& m : page.items) names.push_back(m.name);
    return names;
  }
  static std::vector<std::string> Versions(const Page<ModelVersion>& page) {
    std::vector<std::string> out;
    for (const auto& v : page.items) out.push_back(v.name + "/" + v.version);
    return out;
  }
  static std::vector<std::string> Versions(const std::vector<ModelVersion>& versions) {
    std::vector<std::string> out;
    for (const auto& v : versions) out.push_back(v.version + ":" + v.current_stage);
    return out;
  }

  // The one way the stores' refusals differ: MLflow's REST layer refuses an empty required string
  // field as missing before the store sees it, with its own suffix.
  static std::string Missing(std::string_view field) {
    if (!Factory::kOverRest) {
      return fmt::format("Missing value for required parameter '{}'.", field);
    }
    return fmt::format("Missing value for required parameter '{}'. See the API docs for more "
                       "information about request parameters.",
                       field);
  }

  TempDir dir_;
  std::shared_ptr<RegistryStore> store_;
};

using StoreTypes = ::testing::Types<SqliteFactory, RestFactory>;
struct FactoryNames {
  template <class Factory>
  static std::string GetName(int) {
    return std::is_same_v<Factory, SqliteFactory> ? "Sqlite" : "Rest";
  }
};
TYPED_TEST_SUITE(RegistryStoreContract, StoreTypes, FactoryNames);

// --- registered models -----------------------------------------------------------------------

TYPED_TEST(RegistryStoreContract, CreatesAndGetsARegisteredModel) {
  auto created = this->store().CreateRegisteredModel("recs", {{"team", "ml"}, {"k", "v"}}, "ALS");
  EXPECT_EQ(created.name, "recs");
  EXPECT_EQ(created.description, "ALS");
  EXPECT_GT(created.creation_timestamp, 0);
  EXPECT_EQ(created.last_updated_timestamp, created.creation_timestamp);
  EXPECT_THAT(created.latest_versions, IsEmpty());
  auto got = this->store().GetRegisteredModel("recs");
  EXPECT_EQ(got.name, "recs");
  EXPECT_EQ(got.description, "ALS");
  ASSERT_THAT(got.tags, SizeIs(2));
  EXPECT_EQ(got.tags[0].key, "k");
  EXPECT_EQ(got.tags[1].key, "team");
  EXPECT_EQ(got.tags[1].value, "ml");
}

TYPED_TEST(RegistryStoreContract, RefusesATakenOrEmptyName) {
  this->store().CreateRegisteredModel("recs", {}, "");
  EXPECT_ERROR(this->store().CreateRegisteredModel("recs", {}, ""),
               ErrorCode::kResourceAlreadyExists, Eq("Registered Model (name=recs) already exists."));
  EXPECT_ERROR(this->store().CreateRegisteredModel("", {}, ""), ErrorCode::kInvalidParameterValue,
               Eq(this->Missing("name")));
}

TYPED_TEST(RegistryStoreContract, RefusesBadTags) {
  EXPECT_ERROR(this->store().CreateRegisteredModel("m", {{std::string(251, 'k'), "v"}}, ""),
               ErrorCode::kInvalidParameterValue,
               Eq("'key' exceeds the maximum length of 250 characters"));
  EXPECT_ERROR(this->store().CreateRegisteredModel("m", {{"k", std::string(5001, 'v')}}, ""),
               ErrorCode::kInvalidParameterValue,
               Eq("'value' exceeds the maximum length of 5000 characters"));
  EXPECT_ERROR(this->store().GetRegisteredModel("m"), ErrorCode::kResourceDoesNotExist,
               Eq("Registered Model with name=m not found"));
}

TYPED_TEST(RegistryStoreContract, UnknownModelsAreNotFound) {
  const std::string msg = "Registered Model with name=nope not found";
  auto code = ErrorCode::kResourceDoesNotExist;
  EXPECT_ERROR(this->store().GetRegisteredModel("nope"), code, Eq(msg));
  EXPECT_ERROR(this->store().UpdateRegisteredModel("nope", "d"), code, Eq(msg));
  EXPECT_ERROR(this->store().RenameRegisteredModel("nope", "x"), code, Eq(msg));
  EXPECT_ERROR(this->store().DeleteRegisteredModel("nope"), code, Eq(msg));
  EXPECT_ERROR(this->store().GetLatestVersions("nope", {}), code, Eq(msg));
  EXPECT_ERROR(this->store().SetRegisteredModelTag("nope", {"k", "v"}), code, Eq(msg));
  EXPECT_ERROR(this->store().DeleteRegisteredModelTag("nope", "k"), code, Eq(msg));
  EXPECT_ERROR(this->NewVersion("nope"), code, Eq(msg));
  EXPECT_ERROR(this->store().DeleteRegisteredModelAlias("nope", "prod"), code, Eq(msg));
}

TYPED_TEST(RegistryStoreContract, UpdatesTheDescription) {
  auto created = this->store().CreateRegisteredModel("m", {}, "old");
  auto updated = this->store().UpdateRegisteredModel("m", "new");
  EXPECT_EQ(updated.description, "new");
  EXPECT_GE(updated.last_updated_timestamp, created.last_updated_timestamp);
  EXPECT_EQ(this->store().GetRegisteredModel("m").description, "new");
}

TYPED_TEST(RegistryStoreContract, RenameCascadesToVersionsTagsAndAliases) {
  this->store().CreateRegisteredModel("old", {{"t", "1"}}, "");
  this->NewVersion("old", "r1", {{"vt", "x"}});
  this->NewVersion("old", "r2");
  this->store().SetRegisteredModelAlias("old", "champion", "2");
  auto renamed = this->store().RenameRegisteredModel("old", "new");
  EXPECT_EQ(renamed.name, "new");
  ASSERT_THAT(renamed.aliases, SizeIs(1));
  EXPECT_EQ(renamed.aliases[0].alias, "champion");
  EXPECT_EQ(renamed.aliases[0].version, "2");
  ASSERT_THAT(renamed.tags, SizeIs(1));
  EXPECT_ERROR(this->store().GetRegisteredModel("old"), ErrorCode::kResourceDoesNotExist,
               Eq("Registered Model with name=old not found"));
  auto v1 = this->store().GetModelVersion("new", "1");
  EXPECT_EQ(v1.name, "new");
  ASSERT_THAT(v1.tags, SizeIs(1));
  EXPECT_EQ(v1.tags[0].value, "x");
  EXPECT_EQ(this->store().GetModelVersionByAlias("new", "champion").version, "2");
  EXPECT_ERROR(this->store().GetModelVersion("old", "1"), ErrorCode::kResourceDoesNotExist,
               Eq("Model Version (name=old, version=1) not found"));
  // The next version continues the renamed model's numbering.
  EXPECT_EQ(this->NewVersion("new").version, "3");
}

TYPED_TEST(RegistryStoreContract, RenameRefusesATakenOrEmptyName) {
  this->store().CreateRegisteredModel("a", {}, "");
  this->store().CreateRegisteredModel("b", {}, "");
  EXPECT_ERROR(this->store().RenameRegisteredModel("a", "b"), ErrorCode::kResourceAlreadyExists,
               Eq("Registered Model (name=b) already exists."));
  EXPECT_ERROR(this->store().RenameRegisteredModel("a", ""), ErrorCode::kInvalidParameterValue,
               Eq(this->Missing("new_name")));
  EXPECT_EQ(this->store().GetRegisteredModel("a").name, "a");
}

TYPED_TEST(RegistryStoreContract, DeleteRemovesTheModelAndEverythingInIt) {
  this->store().CreateRegisteredModel("m", {{"t", "1"}}, "");
  this->NewVersion("m", "r1", {{"vt", "x"}});
  this->store().SetRegisteredModelAlias("m", "prod", "1");
  this->store().DeleteRegisteredModel("m");
  EXPECT_ERROR(this->store().GetRegisteredModel("m"), ErrorCode::kResourceDoesNotExist,
               Eq("Registered Model with name=m not found"));
  EXPECT_THAT(this->store().SearchModelVersions({.filter = "name = 'm'"}).items, IsEmpty());
  // A model of the same name starts again from version 1 with no tags or aliases.
  auto again = this->store().CreateRegisteredModel("m", {}, "");
  EXPECT_THAT(again.tags, IsEmpty());
  EXPECT_THAT(again.aliases, IsEmpty());
  auto v = this->NewVersion("m");
  EXPECT_EQ(v.version, "1");
  EXPECT_THAT(v.tags, IsEmpty());
}

TYPED_TEST(RegistryStoreContract, SetsAndDeletesModelTags) {
  this->store().CreateRegisteredModel("m", {}, "");
  this->store().SetRegisteredModelTag("m", {"k", "1"});
  this->store().SetRegisteredModelTag("m", {"k", "2"});
  auto tags = this->store().GetRegisteredModel("m").tags;
  ASSERT_THAT(tags, SizeIs(1));
  EXPECT_EQ(tags[0].value, "2");
  this->store().DeleteRegisteredModelTag("m", "k");
  this->store().DeleteRegisteredModelTag("m", "absent");  // not an error, as MLflow
  EXPECT_THAT(this->store().GetRegisteredModel("m").tags, IsEmpty());
  EXPECT_ERROR(this->store().SetRegisteredModelTag("m", {"k", std::string(5001, 'x')}),
               ErrorCode::kInvalidParameterValue,
               Eq("'value' exceeds the maximum length of 5000 characters"));
}

// --- model versions --------------------------------------------------------------------------

TYPED_TEST(RegistryStoreContract, CreatesDenseVersions) {
  auto before = this->store().CreateRegisteredModel("m", {}, "");
  auto v1 = this->store().CreateModelVersion({.name = "m",
                                              .source = "runs:/abc/model",
                                              .run_id = "abc",
                                              .tags = {{"k", "v"}},
                                              .run_link = "http://x/run",
                                              .description = "first"});
  EXPECT_EQ(v1.name, "m");
  EXPECT_EQ(v1.version, "1");
  EXPECT_EQ(v1.current_stage, "None");
  EXPECT_EQ(v1.status, "READY");
  EXPECT_EQ(v1.source, "runs:/abc/model");
  EXPECT_EQ(v1.run_id, "abc");
  EXPECT_EQ(v1.run_link, "http://x/run");
  EXPECT_EQ(v1.description, "first");
  ASSERT_THAT(v1.tags, SizeIs(1));
  EXPECT_GT(v1.creation_timestamp, 0);
  EXPECT_EQ(this->NewVersion("m").version, "2");
  EXPECT_EQ(this->NewVersion("m").version, "3");
  EXPECT_GE(this->store().GetRegisteredModel("m").last_updated_timestamp,
            before.last_updated_timestamp);
  auto got = this->store().GetModelVersion("m", "1");
  EXPECT_EQ(got.description, "first");
  EXPECT_EQ(got.tags[0].key, "k");
}

TYPED_TEST(RegistryStoreContract, UnknownOrBadVersionsAreRefused) {
  this->store().CreateRegisteredModel("m", {}, "");
  this->NewVersion("m");
  auto missing = ErrorCode::kResourceDoesNotExist;
  const std::string msg = "Model Version (name=m, version=7) not found";
  EXPECT_ERROR(this->store().GetModelVersion("m", "7"), missing, Eq(msg));
  EXPECT_ERROR(this->store().UpdateModelVersion("m", "7", "d"), missing, Eq(msg));
  EXPECT_ERROR(this->store().TransitionModelVersionStage("m", "7", "Staging", false), missing,
               Eq(msg));
  EXPECT_ERROR(this->store().DeleteModelVersion("m", "7"), missing, Eq(msg));
  EXPECT_ERROR(this->store().GetModelVersionDownloadUri("m", "7"), missing, Eq(msg));
  EXPECT_ERROR(this->store().SetModelVersionTag("m", "7", {"k", "v"}), missing, Eq(msg));
  EXPECT_ERROR(this->store().DeleteModelVersionTag("m", "7", "k"), missing, Eq(msg));
  EXPECT_ERROR(this->store().SetRegisteredModelAlias("m", "prod", "7"), missing, Eq(msg));
  EXPECT_ERROR(this->store().GetModelVersion("other", "1"), missing,
               Eq("Model Version (name=other, version=1) not found"));
  EXPECT_ERROR(this->store().GetModelVersion("m", "one"), ErrorCode::kInvalidParameterValue,
               Eq("Parameter 'version' must be an integer, got 'one'."));
  EXPECT_ERROR(this->store().SetRegisteredModelAlias("m", "prod", "1.5"),
               ErrorCode::kInvalidParameterValue,
               Eq("Parameter 'version' must be an integer, got '1.5'."));
}

TYPED_TEST(RegistryStoreContract, UpdatesAVersionDescription) {
  this->store().CreateRegisteredModel("m", {}, "");
  auto v = this->NewVersion("m");
  auto updated = this->store().UpdateModelVersion("m", "1", "better");
  EXPECT_EQ(updated.description, "better");
  EXPECT_GE(updated.last_updated_timestamp, v.last_updated_timestamp);
  EXPECT_EQ(this->store().GetModelVersion("m", "1").description, "better");
}

TYPED_TEST(RegistryStoreContract, TransitionsStagesCaseInsensitively) {
  this->store().CreateRegisteredModel("m", {}, "");
  this->NewVersion("m");
  EXPECT_EQ(this->store().TransitionModelVersionStage("m", "1", "staging", false).current_stage,
            "Staging");
  EXPECT_EQ(this->store().TransitionModelVersionStage("m", "1", "PRODUCTION", false).current_stage,
            "Production");
  EXPECT_EQ(this->store().GetModelVersion("m", "1").current_stage, "Production");
  EXPECT_ERROR(this->store().TransitionModelVersionStage("m", "1", "Prod", false),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid Model Version stage: Prod. Value must be one of None, Staging, "
                  "Production, Archived."));
}

TYPED_TEST(RegistryStoreContract, ArchivesExistingVersionsOfTheTargetStage) {
  this->store().CreateRegisteredModel("m", {}, "");
  for (int i = 0; i < 4; ++i) this->NewVersion("m");
  this->store().TransitionModelVersionStage("m", "1", "Production", false);
  this->store().TransitionModelVersionStage("m", "2", "Production", false);
  this->store().TransitionModelVersionStage("m", "3", "Staging", false);
  this->store().TransitionModelVersionStage("m", "4", "Production", true);
  EXPECT_EQ(this->store().GetModelVersion("m", "1").current_stage, "Archived");
  EXPECT_EQ(this->store().GetModelVersion("m", "2").current_stage, "Archived");
  EXPECT_EQ(this->store().GetModelVersion("m", "3").current_stage, "Staging");
  EXPECT_EQ(this->store().GetModelVersion("m", "4").current_stage, "Production");
  // Without the flag, versions already in the stage stay there.
  this->store().TransitionModelVersionStage("m", "1", "Staging", false);
  EXPECT_EQ(this->store().GetModelVersion("m", "3").current_stage, "Staging");
  EXPECT_ERROR(this->store().TransitionModelVersionStage("m", "1", "archived", true),
               ErrorCode::kInvalidParameterValue,
               Eq("Model version transition cannot archive existing model versions because "
                  "'archived' is not an Active stage. Valid stages are ['Staging', "
                  "'Production']"));
  EXPECT_ERROR(this->store().TransitionModelVersionStage("m", "1", "None", true),
               ErrorCode::kInvalidParameterValue, HasSubstr("because 'None' is not an Active"));
}

TYPED_TEST(RegistryStoreContract, LatestVersionsArePerStage) {
  this->store().CreateRegisteredModel("m", {}, "");
  for (int i = 0; i < 5; ++i) this->NewVersion("m");
  this->store().TransitionModelVersionStage("m", "1", "Production", false);
  this->store().TransitionModelVersionStage("m", "2", "Production", false);
  this->store().TransitionModelVersionStage("m", "3", "Staging", false);
  this->store().TransitionModelVersionStage("m", "4", "Archived", false);
  // Version 5 stays None.
  EXPECT_THAT(this->Versions(this->store().GetLatestVersions("m", {})),
              ElementsAre("5:None", "3:Staging", "2:Production", "4:Archived"));
  EXPECT_THAT(this->Versions(this->store().GetLatestVersions("m", {"production", "None"})),
              ElementsAre("5:None", "2:Production"));
  EXPECT_THAT(this->Versions(this->store().GetRegisteredModel("m").latest_versions),
              ElementsAre("5:None", "3:Staging", "2:Production", "4:Archived"));
  EXPECT_ERROR(this->store().GetLatestVersions("m", {"Live"}), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid Model Version stage: Live."));
}

TYPED_TEST(RegistryStoreContract, DeleteVersionRemovesItAndItsAliasesButNotItsNumber) {
  this->store().CreateRegisteredModel("m", {}, "");
  this->NewVersion("m");
  this->NewVersion("m");
  this->store().SetRegisteredModelAlias("m", "prod", "2");
  this->store().SetRegisteredModelAlias("m", "old", "1");
  this->store().DeleteModelVersion("m", "2");
  EXPECT_ERROR(this->store().GetModelVersion("m", "2"), ErrorCode::kResourceDoesNotExist,
               Eq("Model Version (name=m, version=2) not found"));
  EXPECT_ERROR(this->store().DeleteModelVersion("m", "2"), ErrorCode::kResourceDoesNotExist,
               Eq("Model Version (name=m, version=2) not found"));
  EXPECT_ERROR(this->store().GetModelVersionByAlias("m", "prod"),
               ErrorCode::kInvalidParameterValue, Eq("Registered model alias prod not found."));
  auto model = this->store().GetRegisteredModel("m");
  ASSERT_THAT(model.aliases, SizeIs(1));
  EXPECT_EQ(model.aliases[0].alias, "old");
  EXPECT_THAT(this->Versions(model.latest_versions), ElementsAre("1:None"));
  EXPECT_THAT(this->Versions(this->store().SearchModelVersions({.filter = "name='m'"})),
              ElementsAre("m/1"));
  // As MLflow: the number of a deleted version is not reused.
  EXPECT_EQ(this->NewVersion("m").version, "3");
}

TYPED_TEST(RegistryStoreContract, DownloadUriIsTheSource) {
  this->store().CreateRegisteredModel("m", {}, "");
  this->store().CreateModelVersion({.name = "m", .source = "s3://bucket/model"});
  EXPECT_EQ(this->store().GetModelVersionDownloadUri("m", "1"), "s3://bucket/model");
}

TYPED_TEST(RegistryStoreContract, SetsAndDeletesVersionTags) {
  this->store().CreateRegisteredModel("m", {}, "");
  this->NewVersion("m");
  this->store().SetModelVersionTag("m", "1", {"k", "a"});
  this->store().SetModelVersionTag("m", "1", {"k", "b"});
  this->store().SetModelVersionTag("m", "1", {"j", "c"});
  auto tags = this->store().GetModelVersion("m", "1").tags;
  ASSERT_THAT(tags, SizeIs(2));
  EXPECT_EQ(tags[1].key, "k");
  EXPECT_EQ(tags[1].value, "b");
  this->store().DeleteModelVersionTag("m", "1", "k");
  this->store().DeleteModelVersionTag("m", "1", "absent");
  ASSERT_THAT(this->store().GetModelVersion("m", "1").tags, SizeIs(1));
  EXPECT_ERROR(this->store().SetModelVersionTag("m", "1", {std::string(251, 'k'), "v"}),
               ErrorCode::kInvalidParameterValue,
               Eq("'key' exceeds the maximum length of 250 characters"));
}

// --- aliases ---------------------------------------------------------------------------------

TYPED_TEST(RegistryStoreContract, AliasesPointAtVersionsAndMove) {
  this->store().CreateRegisteredModel("m", {}, "");
  this->NewVersion("m");
  this->NewVersion("m");
  this->store().SetRegisteredModelAlias("m", "champion", "1");
  auto v1 = this->store().GetModelVersionByAlias("m", "champion");
  EXPECT_EQ(v1.version, "1");
  EXPECT_THAT(v1.aliases, ElementsAre("champion"));
  this->store().SetRegisteredModelAlias("m", "champion", "2");  // moves
  EXPECT_EQ(this->store().GetModelVersionByAlias("m", "champion").version, "2");
  EXPECT_THAT(this->store().GetModelVersion("m", "1").aliases, IsEmpty());
  EXPECT_THAT(this->store().GetModelVersion("m", "2").aliases, ElementsAre("champion"));
  this->store().SetRegisteredModelAlias("m", "Champion-2_b", "2");
  auto model = this->store().GetRegisteredModel("m");
  ASSERT_THAT(model.aliases, SizeIs(2));
  this->store().DeleteRegisteredModelAlias("m", "champion");
  this->store().DeleteRegisteredModelAlias("m", "absent");
  EXPECT_ERROR(this->store().GetModelVersionByAlias("m", "champion"),
               ErrorCode::kInvalidParameterValue, Eq("Registered model alias champion not found."));
  EXPECT_THAT(this->store().GetModelVersion("m", "2").aliases, ElementsAre("Champion-2_b"));
}

TYPED_TEST(RegistryStoreContract, RefusesReservedAndInvalidAliases) {
  this->store().CreateRegisteredModel("m", {}, "");
  this->NewVersion("m");
  auto bad = ErrorCode::kInvalidParameterValue;
  EXPECT_ERROR(this->store().SetRegisteredModelAlias("m", "latest", "1"), bad,
               Eq("'latest' alias name (case insensitive) is reserved."));
  EXPECT_ERROR(this->store().SetRegisteredModelAlias("m", "LaTeSt", "1"), bad,
               Eq("'latest' alias name (case insensitive) is reserved."));
  EXPECT_ERROR(this->store().SetRegisteredModelAlias("m", "v1", "1"), bad,
               Eq("Version alias name 'v1' is reserved."));
  EXPECT_ERROR(this->store().SetRegisteredModelAlias("m", "V42", "1"), bad,
               Eq("Version alias name 'V42' is reserved."));
  EXPECT_ERROR(this->store().SetRegisteredModelAlias("m", "my alias", "1"), bad,
               Eq("Invalid alias name: 'my alias'. Names may only contain alphanumerics, "
                  "underscores (_), and dashes (-)."));
  // Over REST the server refuses the empty field before the store sees it.
  EXPECT_ERROR(this->store().SetRegisteredModelAlias("m", "", "1"), bad,
               Eq(TypeParam::kOverRest ? this->Missing("alias")
                                       : "Registered model alias name cannot be empty."));
  EXPECT_ERROR(this->store().SetRegisteredModelAlias("m", std::string(256, 'a'), "1"), bad,
               Eq("'Registered model alias name' exceeds the maximum length of 255 characters"));
  EXPECT_ERROR(this->store().GetModelVersionByAlias("m", "latest"), bad,
               Eq("'latest' alias name (case insensitive) is reserved."));
  EXPECT_ERROR(this->store().DeleteRegisteredModelAlias("m", "v2"), bad,
               Eq("Version alias name 'v2' is reserved."));
  // Not reserved: v alone, v with letters.
  this->store().SetRegisteredModelAlias("m", "v", "1");
  this->store().SetRegisteredModelAlias("m", "v1a", "1");
  EXPECT_THAT(this->store().GetModelVersion("m", "1").aliases, ElementsAre("v", "v1a"));
}

// --- search ----------------------------------------------------------------------------------

TYPED_TEST(RegistryStoreContract, SearchesRegisteredModelsByNameAndTag) {
  this->store().CreateRegisteredModel("recs-als", {{"team", "ml"}}, "");
  this->store().CreateRegisteredModel("recs-knn", {{"team", "search"}}, "");
  this->store().CreateRegisteredModel("Forest", {{"team", "ml"}, {"tier", "gold"}}, "");
  auto search = [&](const std::string& filter) {
    return this->Names(this->store().SearchRegisteredModels({.filter = filter}));
  };
  EXPECT_THAT(search(""), ElementsAre("Forest", "recs-als", "recs-knn"));
  EXPECT_THAT(search("name = 'recs-als'"), ElementsAre("recs-als"));
  EXPECT_THAT(search("name != 'recs-als'"), ElementsAre("Forest", "recs-knn"));
  EXPECT_THAT(search("name LIKE 'recs%'"), ElementsAre("recs-als", "recs-knn"));
  EXPECT_THAT(search("name LIKE 'forest'"), IsEmpty());  // LIKE is case-sensitive
  EXPECT_THAT(search("name ILIKE 'forest'"), ElementsAre("Forest"));
  EXPECT_THAT(search("name ILIKE '%S-%'"), ElementsAre("recs-als", "recs-knn"));
  EXPECT_THAT(search("tags.team = 'ml'"), ElementsAre("Forest", "recs-als"));
  EXPECT_THAT(search("tags.team = 'ml' AND tags.tier = 'gold'"), ElementsAre("Forest"));
  EXPECT_THAT(search("tags.team != 'ml'"), ElementsAre("recs-knn"));
  EXPECT_THAT(search("tags.`tier` LIKE 'go%'"), ElementsAre("Forest"));
  EXPECT_THAT(search("name = 'x'' OR 1=1 --'"), IsEmpty());  // values are bound
}

TYPED_TEST(RegistryStoreContract, RefusesBadRegisteredModelSearches) {
  auto bad = ErrorCode::kInvalidParameterValue;
  EXPECT_ERROR(this->store().SearchRegisteredModels({.filter = "description = 'x'"}), bad,
               HasSubstr("unknown attribute key 'description'"));
  EXPECT_ERROR(this->store().SearchRegisteredModels({.filter = "metrics.rmse < 1"}), bad,
               HasSubstr("unknown entity type 'metrics'"));
  EXPECT_ERROR(this->store().SearchRegisteredModels({.filter = "name = "}), bad,
               HasSubstr("Invalid filter 'name = '"));
  EXPECT_ERROR(this->store().SearchRegisteredModels({.filter = "name < 'a'"}), bad,
               HasSubstr("comparator '<' is not valid"));
  EXPECT_ERROR(this->store().SearchRegisteredModels({.order_by = {"description"}}), bad,
               HasSubstr("Invalid order_by clause 'description'"));
  EXPECT_ERROR(this->store().SearchRegisteredModels({.order_by = {"tags.team"}}), bad,
               Eq("Invalid order by key 'tag.team' specified. Valid keys are ['name', "
                  "'last_updated_timestamp', 'timestamp', 'creation_timestamp']"));
  EXPECT_ERROR(this->store().SearchRegisteredModels({.order_by = {"name", "name DESC"}}), bad,
               Eq("`order_by` contains duplicate fields: ['name', 'name DESC']"));
  EXPECT_ERROR(this->store().SearchRegisteredModels({.max_results = 1001}), bad,
               Eq("Invalid value for request parameter max_results. It must be at most 1000, "
                  "but got value 1001"));
  EXPECT_ERROR(this->store().SearchRegisteredModels({.max_results = 0}), bad,
               Eq("Invalid value for max_results. It must be a positive integer, but got 0"));
  EXPECT_ERROR(this->store().SearchRegisteredModels({.page_token = "garbage!"}), bad,
               HasSubstr("Invalid page token"));
}

TYPED_TEST(RegistryStoreContract, OrdersAndPagesRegisteredModels) {
  for (const char* name : {"c", "a", "d", "b", "e"}) {
    this->store().CreateRegisteredModel(name, {}, "");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  this->store().UpdateRegisteredModel("a", "touched");  // now the most recently updated
  EXPECT_THAT(this->Names(this->store().SearchRegisteredModels({.order_by = {"name DESC"}})),
              ElementsAre("e", "d", "c", "b", "a"));
  EXPECT_THAT(this->Names(this->store().SearchRegisteredModels(
                  {.order_by = {"last_updated_timestamp DESC"}})),
              ElementsAre("a", "e", "b", "d", "c"));
  EXPECT_THAT(this->Names(this->store().SearchRegisteredModels(
                  {.order_by = {"creation_timestamp ASC"}})),
              ElementsAre("c", "a", "d", "b", "e"));
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = this->store().SearchRegisteredModels({.max_results = 2, .page_token = token});
    for (auto& m : page.items) seen.push_back(m.name);
    token = page.next_page_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(seen, ElementsAre("a", "b", "c", "d", "e"));
  // Exactly max_results left: no further page.
  auto last = this->store().SearchRegisteredModels({.max_results = 5});
  EXPECT_THAT(last.items, SizeIs(5));
  EXPECT_EQ(last.next_page_token, "");
}

TYPED_TEST(RegistryStoreContract, SearchedModelsCarryLatestVersionsAndAliases) {
  this->store().CreateRegisteredModel("m", {}, "");
  this->NewVersion("m");
  this->store().SetRegisteredModelAlias("m", "prod", "1");
  auto page = this->store().SearchRegisteredModels({});
  ASSERT_THAT(page.items, SizeIs(1));
  EXPECT_THAT(this->Versions(page.items[0].latest_versions), ElementsAre("1:None"));
  ASSERT_THAT(page.items[0].aliases, SizeIs(1));
  EXPECT_EQ(page.items[0].aliases[0].alias, "prod");
}

TYPED_TEST(RegistryStoreContract, SearchesModelVersions) {
  this->store().CreateRegisteredModel("a", {}, "");
  this->store().CreateRegisteredModel("b", {}, "");
  this->NewVersion("a", "r1", {{"env", "prod"}});    // a/1
  this->NewVersion("a", "r2");                       // a/2
  this->NewVersion("a", "r3", {{"env", "dev"}});     // a/3
  this->NewVersion("b", "r1", {{"env", "prod"}});    // b/1
  auto search = [&](const std::string& filter) {
    return this->Versions(
        this->store().SearchModelVersions({.filter = filter, .order_by = {"name", "version_number"}}));
  };
  EXPECT_THAT(search("name = 'a'"), ElementsAre("a/1", "a/2", "a/3"));
  EXPECT_THAT(search("run_id = 'r1'"), ElementsAre("a/1", "b/1"));
  EXPECT_THAT(search("run_id IN ('r2', 'r3')"), ElementsAre("a/2", "a/3"));
  EXPECT_THAT(search("source_path = 'runs:/r3/model'"), ElementsAre("a/3"));
  EXPECT_THAT(search("name = 'a' AND version_number > 1"), ElementsAre("a/2", "a/3"));
  EXPECT_THAT(search("version_number <= 1"), ElementsAre("a/1", "b/1"));
  EXPECT_THAT(search("version_number = 2"), ElementsAre("a/2"));
  EXPECT_THAT(search("tags.env = 'prod'"), ElementsAre("a/1", "b/1"));
  EXPECT_THAT(search("name = 'a' AND tags.env != 'prod'"), ElementsAre("a/3"));
  EXPECT_THAT(search("name LIKE 'a%' AND tags.env ILIKE 'DEV'"), ElementsAre("a/3"));
  EXPECT_THAT(search("run_id = 'r1' OR run_id = 'r2'"), ElementsAre("a/1", "a/2", "b/1"));
}

TYPED_TEST(RegistryStoreContract, OrdersAndPagesModelVersions) {
  this->store().CreateRegisteredModel("a", {}, "");
  this->store().CreateRegisteredModel("b", {}, "");
  for (const char* name : {"a", "b", "a", "b", "a"}) {
    this->NewVersion(name);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // MLflow's default: last_updated_timestamp DESC, then name ASC, version DESC.
  EXPECT_THAT(this->Versions(this->store().SearchModelVersions({})),
              ElementsAre("a/3", "b/2", "a/2", "b/1", "a/1"));
  EXPECT_THAT(this->Versions(this->store().SearchModelVersions({.order_by = {"name DESC"}})),
              ElementsAre("b/2", "b/1", "a/3", "a/2", "a/1"));
  EXPECT_THAT(this->Versions(this->store().SearchModelVersions(
                  {.order_by = {"version_number ASC", "name DESC"}})),
              ElementsAre("b/1", "a/1", "b/2", "a/2", "a/3"));
  EXPECT_THAT(this->Versions(this->store().SearchModelVersions(
                  {.order_by = {"creation_timestamp ASC"}})),
              ElementsAre("a/1", "b/1", "a/2", "b/2", "a/3"));
  auto first = this->store().SearchModelVersions({.max_results = 3});
  EXPECT_THAT(this->Versions(first), ElementsAre("a/3", "b/2", "a/2"));
  ASSERT_NE(first.next_page_token, "");
  auto second = this->store().SearchModelVersions({.max_results = 3, .page_token = first.next_page_token});
  EXPECT_THAT(this->Versions(second), ElementsAre("b/1", "a/1"));
  EXPECT_EQ(second.next_page_token, "");
}

TYPED_TEST(RegistryStoreContract, RefusesBadModelVersionSearches) {
  auto bad = ErrorCode::kInvalidParameterValue;
  EXPECT_ERROR(this->store().SearchModelVersions({.filter = "stage = 'x'"}), bad,
               HasSubstr("unknown attribute key 'stage'"));
  EXPECT_ERROR(this->store().SearchModelVersions({.filter = "version_number = 'one'"}), bad,
               HasSubstr("Invalid filter"));
  EXPECT_ERROR(this->store().SearchModelVersions({.filter = "version_number LIKE '1'"}), bad,
               HasSubstr("comparator 'LIKE' is not valid"));
  EXPECT_ERROR(this->store().SearchModelVersions({.filter = "run_id = 'a' AND"}), bad,
               HasSubstr("Invalid filter"));
  EXPECT_ERROR(this->store().SearchModelVersions({.order_by = {"run_id"}}), bad,
               Eq("Invalid order by key 'run_id' specified. Valid keys are ['name', "
                  "'version_number', 'creation_timestamp', 'last_updated_timestamp']"));
  EXPECT_ERROR(this->store().SearchModelVersions({.order_by = {"stage"}}), bad,
               HasSubstr("Invalid order_by clause 'stage'"));
  EXPECT_ERROR(this->store().SearchModelVersions({.order_by = {"name SIDEWAYS"}}), bad,
               HasSubstr("Invalid order_by clause 'name SIDEWAYS'"));
  EXPECT_ERROR(this->store().SearchModelVersions({.order_by = {"version_number", "version_number"}}),
               bad,
               Eq("`order_by` contains duplicate fields: ['version_number', 'version_number']"));
  EXPECT_ERROR(this->store().SearchModelVersions({.max_results = 200001}), bad,
               Eq("Invalid value for request parameter max_results. It must be at most 200000, "
                  "but got value 200001"));
  EXPECT_ERROR(this->store().SearchModelVersions({.max_results = -1}), bad,
               Eq("Invalid value for max_results. It must be a positive integer, but got -1"));
}

TYPED_TEST(RegistryStoreContract, ConcurrentCreatesGetDistinctDenseVersions) {
  this->store().CreateRegisteredModel("m", {}, "");
  constexpr int kThreads = 4, kEach = 5;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> got(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) got[t].push_back(this->NewVersion("m").version);
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<int> versions;
  for (auto& list : got) for (auto& v : list) versions.insert(std::stoi(v));
  ASSERT_EQ(versions.size(), size_t{kThreads * kEach});
  EXPECT_EQ(*versions.begin(), 1);
  EXPECT_EQ(*versions.rbegin(), kThreads * kEach);
}

}  // namespace
}  // namespace mltrack::registry
