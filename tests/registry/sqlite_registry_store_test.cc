// What the SQLite registry store promises beyond the contract: it shares the tracking database
// file, migrates a version-1 database without losing its data, and hands out dense, unique
// version numbers to many threads and processes at once.
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "common/sqlite.h"
#include "registry/sqlite_registry_store.h"
#include "support/test_support.h"
#include "tracking/sqlite_schema.h"
#include "tracking/sqlite_tracking_store.h"

namespace mltrack::registry {
namespace {

using ::mltrack::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::SizeIs;

std::string QueryText(const std::string& db_path, const std::string& sql) {
  sqlite::Database db(db_path);
  std::string out;
  db.ReadTransaction([&] {
    auto& stmt = db.Prepare(sql);
    if (stmt.Step()) out = stmt.Text(0);
  });
  return out;
}

std::set<int64_t> AllVersions(const std::string& db_path, const std::string& name) {
  sqlite::Database db(db_path);
  std::set<int64_t> versions;
  db.ReadTransaction([&] {
    auto& stmt = db.Prepare("SELECT version FROM model_versions WHERE name = ?");
    stmt.Bind(1, std::string_view(name));
    while (stmt.Step()) versions.insert(stmt.Int(0));
  });
  return versions;
}

TEST(SqliteRegistryStore, SharesTheTrackingDatabaseFile) {
  TempDir dir;
  std::string db = (dir / "mlruns.db").string();
  tracking::SqliteTrackingStore tracking(db, "file://" + dir.path().string());
  SqliteRegistryStore registry(db);
  std::string exp = tracking.CreateExperiment("e", "", {});
  auto run = tracking.CreateRun({.experiment_id = exp});
  registry.CreateRegisteredModel("m", {}, "");
  registry.CreateModelVersion({.name = "m", .source = "runs:/" + run.info.run_id + "/model",
                               .run_id = run.info.run_id});
  EXPECT_EQ(QueryText(db, "SELECT MAX(version) FROM schema_version"),
            std::to_string(tracking::kSchemaVersion));
  EXPECT_EQ(QueryText(db, "SELECT run_id FROM model_versions"), run.info.run_id);
}

TEST(SqliteRegistryStore, MigratesAVersionOneDatabaseKeepingItsData) {
  TempDir dir;
  std::string db = (dir / "mlruns.db").string();
  std::string run_id;
  {
    tracking::SqliteTrackingStore tracking(db, "file://" + dir.path().string());
    std::string exp = tracking.CreateExperiment("kept", "", {{"k", "v"}});
    auto run = tracking.CreateRun({.experiment_id = exp});
    run_id = run.info.run_id;
    tracking.LogBatch(run_id, {{"rmse", 0.5, 1, 3}}, {{"rank", "20"}}, {});
  }
  {
    // Take the file back to what a version-1 mlt left: no registry tables, version 1.
    sqlite::Database raw(db);
    raw.Transaction([&] {
      for (const char* table : {"registered_model_aliases", "model_version_tags",
                                "registered_model_tags", "model_versions", "registered_models"}) {
        raw.Exec(std::string("DROP TABLE ") + table);
      }
      raw.Exec("DELETE FROM schema_version WHERE version > 1");
    });
  }
  ASSERT_EQ(QueryText(db, "SELECT MAX(version) FROM schema_version"), "1");
  ASSERT_EQ(QueryText(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'registered_models'"),
            "0");

  SqliteRegistryStore registry(db);
  EXPECT_EQ(QueryText(db, "SELECT MAX(version) FROM schema_version"), "2");
  registry.CreateRegisteredModel("m", {}, "");
  EXPECT_EQ(registry.CreateModelVersion({.name = "m", .source = "runs:/x/model"}).version, "1");

  tracking::SqliteTrackingStore tracking(db, "file://" + dir.path().string());
  auto experiment = tracking.GetExperimentByName("kept");
  ASSERT_THAT(experiment.tags, SizeIs(1));
  auto run = tracking.GetRun(run_id);
  ASSERT_THAT(run.data.params, SizeIs(1));
  EXPECT_EQ(run.data.params[0].value, "20");
  ASSERT_THAT(run.data.metrics, SizeIs(1));
  EXPECT_EQ(run.data.metrics[0].value, 0.5);
}

TEST(SqliteRegistryStore, EightThreadsCreateDenseUniqueVersions) {
  TempDir dir;
  SqliteRegistryStore store((dir / "mlruns.db").string());
  store.CreateRegisteredModel("m", {}, "");
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  std::vector<std::vector<int>> got(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        got[t].push_back(std::stoi(store.CreateModelVersion({.name = "m", .source = "s"}).version));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<int> versions;
  for (auto& list : got) versions.insert(list.begin(), list.end());
  EXPECT_EQ(versions.size(), size_t{kThreads * kEach});
  EXPECT_EQ(*versions.begin(), 1);
  EXPECT_EQ(*versions.rbegin(), kThreads * kEach);
}

TEST(SqliteRegistryStore, SeveralProcessesCreateDenseUniqueVersions) {
  TempDir dir;
  std::string db = (dir / "mlruns.db").string();
  { SqliteRegistryStore(db).CreateRegisteredModel("m", {}, ""); }
  constexpr int kProcesses = 4, kEach = 20;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child: its own store (connections) on the same file; no gtest assertions here.
      int code = 0;
      try {
        SqliteRegistryStore store(db);
        for (int i = 0; i < kEach; ++i) store.CreateModelVersion({.name = "m", .source = "s"});
      } catch (...) {
        code = 1;
      }
      _exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << pid;
  }
  std::set<int64_t> versions = AllVersions(db, "m");
  EXPECT_EQ(versions.size(), size_t{kProcesses * kEach});
  EXPECT_EQ(*versions.begin(), 1);
  EXPECT_EQ(*versions.rbegin(), kProcesses * kEach);
}

TEST(SqliteRegistryStore, RenameLeavesNoRowUnderTheOldName) {
  TempDir dir;
  std::string db = (dir / "mlruns.db").string();
  SqliteRegistryStore store(db);
  store.CreateRegisteredModel("old", {{"t", "1"}}, "");
  store.CreateModelVersion({.name = "old", .source = "s", .tags = {{"k", "v"}}});
  store.SetRegisteredModelAlias("old", "prod", "1");
  store.RenameRegisteredModel("old", "new");
  for (const char* table : {"model_versions", "registered_model_tags", "model_version_tags",
                            "registered_model_aliases"}) {
    EXPECT_EQ(QueryText(db, std::string("SELECT COUNT(*) FROM ") + table + " WHERE name = 'old'"),
              "0")
        << table;
    EXPECT_EQ(QueryText(db, std::string("SELECT COUNT(*) FROM ") + table + " WHERE name = 'new'"),
              "1")
        << table;
  }
}

}  // namespace
}  // namespace mltrack::registry
