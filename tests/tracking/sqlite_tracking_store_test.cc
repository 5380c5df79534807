// What the SQLite store promises beyond the contract: its schema, WAL, shared files, and many
// processes writing to one database without "database is locked".
#include <atomic>
#include <random>
#include <thread>

#include "common/sqlite.h"
#include "support/test_support.h"
#include "tracking/sqlite_schema.h"
#include "tracking/sqlite_tracking_store.h"

namespace mltrack::tracking {
namespace {

using ::mltrack::testing::ProcessResult;
using ::mltrack::testing::RunProcess;
using ::mltrack::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::SizeIs;

SqliteTrackingStore MakeStore(const TempDir& dir) {
  return SqliteTrackingStore((dir / "mlruns.db").string(), "file://" + dir.path().string());
}

std::string QueryText(const std::string& db_path, const std::string& sql) {
  sqlite::Database db(db_path);
  std::string out;
  db.ReadTransaction([&] {
    auto& stmt = db.Prepare(sql);
    if (stmt.Step()) out = stmt.Text(0);
  });
  return out;
}

TEST(SqliteTrackingStore, UsesWalAndRecordsTheSchemaVersion) {
  TempDir dir;
  auto store = MakeStore(dir);
  std::string db = (dir / "mlruns.db").string();
  EXPECT_EQ(QueryText(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryText(db, "SELECT MAX(version) FROM schema_version"),
            std::to_string(kSchemaVersion));
  // Opening again does not migrate twice or duplicate the Default experiment.
  auto again = MakeStore(dir);
  EXPECT_EQ(QueryText(db, "SELECT COUNT(*) FROM schema_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(QueryText(db, "SELECT COUNT(*) FROM experiments"), "1");
}

TEST(SqliteTrackingStore, RefusesADatabaseFromANewerVersion) {
  TempDir dir;
  { auto store = MakeStore(dir); }
  {
    sqlite::Database db((dir / "mlruns.db").string());
    db.Exec("INSERT INTO schema_version(version) VALUES (99)");
  }
  EXPECT_ERROR(MakeStore(dir), ErrorCode::kInvalidState,
               HasSubstr("has schema version 99, newer than the " +
                         std::to_string(kSchemaVersion) + " this mlt understands"));
}

TEST(SqliteTrackingStore, InternsMetricKeys) {
  TempDir dir;
  auto store = MakeStore(dir);
  RunCreate create;
  for (int r = 0; r < 3; ++r) {
    mltrack::Run run = store.CreateRun(create);
    store.LogBatch(run.info.run_id, {{"loss", 1, 1, 0}, {"loss", 2, 1, 1}, {"acc", 1, 1, 0}}, {},
                   {});
  }
  EXPECT_EQ(QueryText((dir / "mlruns.db").string(), "SELECT COUNT(*) FROM metric_keys"), "2");
  EXPECT_EQ(QueryText((dir / "mlruns.db").string(), "SELECT COUNT(*) FROM metrics"), "9");
}

// The column chooser's keys are exactly the selected runs' keys: experiments, filter and
// lifecycle stage included, in an experiment large enough to matter.
TEST(SqliteTrackingStore, RunKeysAreTheSelectedRunsKeys) {
  TempDir dir;
  SqliteTrackingStore store = MakeStore(dir);
  std::string big = store.CreateExperiment("big", "", {});
  std::string small = store.CreateExperiment("small", "", {});
  for (int i = 0; i < 4100; ++i) {
    mltrack::Run run = store.CreateRun({.experiment_id = big});
    std::vector<Param> params = {{"lr", i % 2 ? "0.1" : "0.01"}, {"rank", "8"}};
    if (i == 4099) params.push_back({"only_last", "1"});
    store.LogBatch(run.info.run_id, {{"rmse", 0.5, 1, 0}}, params, {{"team", "recs"}});
  }
  mltrack::Run gone = store.CreateRun({.experiment_id = big});
  store.LogBatch(gone.info.run_id, {{"deleted_metric", 1, 1, 0}}, {{"deleted_param", "x"}},
                 {{"deleted_tag", "x"}});
  store.DeleteRun(gone.info.run_id);
  mltrack::Run other = store.CreateRun({.experiment_id = small});
  store.LogBatch(other.info.run_id, {{"mae", 0.4, 1, 0}}, {{"depth", "3"}}, {{"owner", "ada"}});

  RunKeys many = store.SearchRunKeys({big}, "", ViewType::kActiveOnly);
  EXPECT_EQ(many.params, (std::vector<std::string>{"lr", "only_last", "rank"}));
  EXPECT_EQ(many.metrics, (std::vector<std::string>{"rmse"}));
  EXPECT_THAT(many.tags, ::testing::Contains("team"));
  EXPECT_THAT(many.tags, ::testing::Not(::testing::Contains("owner")));
  EXPECT_THAT(many.tags, ::testing::Not(::testing::Contains("deleted_tag")));

  // A filter that leaves every run, one that leaves half, one that leaves none.
  RunKeys ranked = store.SearchRunKeys({big}, "params.rank = '8'", ViewType::kActiveOnly);
  EXPECT_EQ(ranked.params, (std::vector<std::string>{"lr", "only_last", "rank"}));
  RunKeys half = store.SearchRunKeys({big}, "params.lr = '0.01'", ViewType::kActiveOnly);
  EXPECT_EQ(half.params, (std::vector<std::string>{"lr", "rank"}));
  RunKeys none = store.SearchRunKeys({big}, "params.lr = '0.5'", ViewType::kActiveOnly);
  EXPECT_TRUE(none.params.empty() && none.metrics.empty() && none.tags.empty());

  RunKeys few = store.SearchRunKeys({small}, "", ViewType::kActiveOnly);
  EXPECT_EQ(few.params, (std::vector<std::string>{"depth"}));
  EXPECT_EQ(few.metrics, (std::vector<std::string>{"mae"}));
  EXPECT_THAT(few.tags, ::testing::Contains("owner"));

  RunKeys all = store.SearchRunKeys({big, small}, "", ViewType::kAll);
  EXPECT_EQ(all.params,
            (std::vector<std::string>{"deleted_param", "depth", "lr", "only_last", "rank"}));
  EXPECT_EQ(all.metrics, (std::vector<std::string>{"deleted_metric", "mae", "rmse"}));
}

TEST(SqliteTrackingStore, KeepsLatestMetricsConsistentWithTheHistory) {
  TempDir dir;
  auto store = MakeStore(dir);
  mltrack::Run run = store.CreateRun({});
  std::mt19937 gen(7);
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<Metric> metrics;
    for (int i = 0; i < 50; ++i) {
      metrics.push_back({"k" + std::to_string(gen() % 3), static_cast<double>(gen() % 5),
                         static_cast<int64_t>(gen() % 4), static_cast<int64_t>(gen() % 4)});
    }
    store.LogBatch(run.info.run_id, metrics, {}, {});
  }
  // Invariant: each latest row is the (step, timestamp, value)-greatest row of the history.
  std::string mismatches = QueryText(
      (dir / "mlruns.db").string(),
      "SELECT COUNT(*) FROM latest_metrics l WHERE NOT EXISTS ("
      "  SELECT 1 FROM metrics m WHERE m.run_id = l.run_id AND m.key_id = l.key_id"
      "  AND m.step = l.step AND m.timestamp = l.timestamp AND m.value IS l.value)"
      " OR EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = l.run_id AND m.key_id = l.key_id"
      "  AND (m.step, m.timestamp, m.value) > (l.step, l.timestamp, l.value))");
  EXPECT_EQ(mismatches, "0");
  EXPECT_THAT(store.GetRun(run.info.run_id).data.metrics, SizeIs(3));
}

TEST(SqliteTrackingStore, TwoStoresOnOneFileSeeEachOthersWrites) {
  TempDir dir;
  auto a = MakeStore(dir);
  auto b = MakeStore(dir);
  std::string exp = a.CreateExperiment("shared", "", {});
  mltrack::Run run = b.CreateRun({.experiment_id = exp});
  a.LogParam(run.info.run_id, {"x", "1"});
  EXPECT_THAT(b.GetRun(run.info.run_id).data.params, SizeIs(1));
}

TEST(SqliteTrackingStore, ManyThreadsLogWithoutErrors) {
  TempDir dir;
  auto store = MakeStore(dir);
  mltrack::Run run = store.CreateRun({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        store.LogMetric(run.info.run_id, {"t" + std::to_string(t), 1.0 * i, 1, i});
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) {
    EXPECT_THAT(store.GetMetricHistory(run.info.run_id, "t" + std::to_string(t), 0, "").items,
                SizeIs(200));
  }
}

// Group commit: concurrent writes share transactions, and a failing write rolls back alone.
TEST(SqliteTrackingStore, AFailingWriteInAGroupRollsBackAlone) {
  TempDir dir;
  auto store = MakeStore(dir);
  mltrack::Run run = store.CreateRun({});
  store.LogParam(run.info.run_id, {"fixed", "1"});
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        if (t % 2 == 0) {
          store.LogMetric(run.info.run_id, {"m" + std::to_string(t), 1.0 * i, 1, i});
        } else {
          try {
            // A valid metric and a conflicting param in one batch: all or nothing.
            store.LogBatch(run.info.run_id, {{"bad" + std::to_string(t), 1.0 * i, 1, i}},
                           {{"fixed", "2"}}, {});
          } catch (const Error& e) {
            if (e.code() == ErrorCode::kInvalidParameterValue) ++refused;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(refused.load(), 800);
  for (int t = 0; t < 16; ++t) {
    auto history = store.GetMetricHistory(run.info.run_id,
                                          (t % 2 ? "bad" : "m") + std::to_string(t), 0, "");
    EXPECT_THAT(history.items, SizeIs(t % 2 ? 0 : 100)) << t;
  }
}

// Eight processes log to one file for a bounded time: every acknowledged metric is there and
// none was refused ("database is locked" would make a logger exit non-zero).
TEST(SqliteTrackingStore, EightProcessesShareOneFile) {
  TempDir dir;
  std::string db = (dir / "mlruns.db").string();
  std::string run_id;
  {
    auto store = MakeStore(dir);
    run_id = store.CreateRun({}).info.run_id;
  }
  std::vector<std::thread> workers;
  std::vector<ProcessResult> results(8);
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      results[w] = RunProcess({STORE_LOGGER_BINARY, db, run_id, "w" + std::to_string(w), "3000"});
    });
  }
  for (auto& th : workers) th.join();
  auto store = MakeStore(dir);
  for (int w = 0; w < 8; ++w) {
    ASSERT_EQ(results[w].exit_code, 0) << results[w].err;
    int64_t acknowledged = std::stoll(results[w].out);
    EXPECT_GT(acknowledged, 0);
    int64_t stored = 0;
    std::string token;
    do {
      auto page = store.GetMetricHistory(run_id, "w" + std::to_string(w), 25000, token);
      stored += static_cast<int64_t>(page.items.size());
      token = page.next_page_token;
    } while (!token.empty());
    EXPECT_EQ(stored, acknowledged) << "worker " << w;
  }
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
}

// Eight processes open a database that does not exist yet, at the same moment: one of them
// creates and migrates it, the others wait for it; none fails.
TEST(SqliteTrackingStore, EightProcessesCreateOneNewDatabase) {
  TempDir dir;
  std::string db = (dir / "fresh.db").string();
  std::vector<std::thread> workers;
  std::vector<ProcessResult> results(8);
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      results[w] = RunProcess({STORE_LOGGER_BINARY, db, "new", "w" + std::to_string(w), "300"});
    });
  }
  for (auto& th : workers) th.join();
  for (int w = 0; w < 8; ++w) ASSERT_EQ(results[w].exit_code, 0) << results[w].err;
  EXPECT_EQ(QueryText(db, "SELECT COUNT(*) FROM schema_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(QueryText(db, "SELECT COUNT(*) FROM experiments"), "1");
  EXPECT_EQ(QueryText(db, "SELECT COUNT(*) FROM runs"), "8");
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace mltrack::tracking
