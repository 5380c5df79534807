// Benchmarks of the SQLite tracking store, straight into the store (no server), with the database
// on disk (a folder under $MLT_BENCH_DIR, default /var/tmp) in WAL mode with synchronous=NORMAL.
//
//   BM_LogBatch/1000          log_batch of 1000 metrics into one run       (target >= 500,000/s)
//   BM_CreateRuns             create + log_batch(5 params, 5 metrics, 1 tag) (target >= 5,000/s)
//   BM_SearchRuns/10000       10,000 runs, `metrics.m0 < 1 and params.p0 = "tree"` ordered by
//                             metrics.m1 DESC, 100 results               (target median <= 10 ms)
//   BM_MetricHistory/100000   the whole history of a 100,000-step metric  (target <= 50 ms)
//   BM_LeaderboardFirstPage/100000, BM_LeaderboardSortByMetric/100000
//                             the leaderboard's queries in an experiment of 100,000 runs: its
//                             first page (newest first) and the page sorted by metrics.m1, 100
//                             runs each (the web UI's targets, whole round trip: <= 1 s and
//                             <= 300 ms)
//   BM_LeaderboardColumns/100000     the column chooser's keys of those runs (5 params, 5 metrics
//                             and 5 tags each): SearchRunKeys              (target <= 100 ms)
//   BM_LeaderboardChildCounts/100000 the child counts of a page of 100 of those runs
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tracking/sqlite_tracking_store.h"

namespace mltrack::tracking {
namespace {

namespace fs = std::filesystem;

// A fresh store in its own folder, removed afterwards.
class BenchStore {
 public:
  BenchStore() {
    const char* base = std::getenv("MLT_BENCH_DIR");
    dir_ = fs::path(base ? base : "/var/tmp") /
           ("mlt-bench-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
    store_ = std::make_unique<SqliteTrackingStore>((dir_ / "mlruns.db").string(),
                                                   "file://" + (dir_ / "artifacts").string());
  }
  ~BenchStore() {
    store_.reset();
    fs::remove_all(dir_);
  }
  SqliteTrackingStore& operator*() { return *store_; }
  SqliteTrackingStore* operator->() { return store_.get(); }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
  std::unique_ptr<SqliteTrackingStore> store_;
};

void BM_LogBatch(benchmark::State& state) {
  BenchStore store;
  std::string run_id = store->CreateRun({}).info.run_id;
  const int n = static_cast<int>(state.range(0));
  int64_t step = 0;
  std::vector<Metric> batch(n);
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) {
      // 10 keys, 100 steps each per batch: a training loop logging a handful of metrics.
      batch[i] = Metric{"metric_" + std::to_string(i % 10), 0.001 * i, 1700000000000 + step,
                        step + i / 10};
    }
    step += n / 10;
    store->LogBatch(run_id, batch, {}, {});
  }
  state.SetItemsProcessed(state.iterations() * n);  // items: metrics
}
BENCHMARK(BM_LogBatch)->Arg(1000)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_CreateRuns(benchmark::State& state) {
  BenchStore store;
  std::string exp = store->CreateExperiment("bench", "", {});
  const int runs = static_cast<int>(state.range(0));
  for (auto _ : state) {
    for (int r = 0; r < runs; ++r) {
      Run run = store->CreateRun({.experiment_id = exp});
      std::vector<Param> params;
      std::vector<Metric> metrics;
      for (int i = 0; i < 5; ++i) {
        params.push_back({"p" + std::to_string(i), std::to_string(r % 7)});
        metrics.push_back({"m" + std::to_string(i), 0.1 * r, 1700000000000, 0});
      }
      store->LogBatch(run.info.run_id, metrics, params, {{"stage", "bench"}});
    }
  }
  state.SetItemsProcessed(state.iterations() * runs);  // items: runs
}
BENCHMARK(BM_CreateRuns)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(1);

// 10,000 runs with params p0..p4 (p0 in {tree, linear, knn}) and metrics m0..m4 in [0, 2), and
// `tags` besides the mlflow.runName every run has.
void Populate(SqliteTrackingStore& store, const std::string& exp, int runs,
              const std::vector<Tag>& tags = {}) {
  std::mt19937_64 gen(11);
  std::uniform_real_distribution<double> value(0, 2);
  const char* models[] = {"tree", "linear", "knn"};
  for (int r = 0; r < runs; ++r) {
    Run run = store.CreateRun({.experiment_id = exp, .start_time = 1700000000000 + r});
    std::vector<Param> params{{"p0", models[gen() % 3]}};
    std::vector<Metric> metrics;
    for (int i = 1; i < 5; ++i) {
      params.push_back({"p" + std::to_string(i), std::to_string(gen() % 10)});
    }
    for (int i = 0; i < 5; ++i) metrics.push_back({"m" + std::to_string(i), value(gen), 1, 0});
    store.LogBatch(run.info.run_id, metrics, params, tags);
  }
}

void BM_SearchRuns(benchmark::State& state) {
  BenchStore store;
  std::string exp = store->CreateExperiment("search", "", {});
  Populate(*store, exp, static_cast<int>(state.range(0)));
  RunSearch search;
  search.experiment_ids = {exp};
  search.filter = "metrics.m0 < 1 and params.p0 = \"tree\"";
  search.order_by = {"metrics.m1 DESC"};
  search.max_results = 100;
  size_t found = 0;
  for (auto _ : state) {
    auto page = store->SearchRuns(search);
    found = page.items.size();
    benchmark::DoNotOptimize(page);
  }
  if (found != 100) state.SkipWithError("the search did not return 100 runs");
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(found));  // items: runs found
}
BENCHMARK(BM_SearchRuns)->Arg(10000)->Unit(benchmark::kMillisecond)->Repetitions(5)
    ->ReportAggregatesOnly(true);

// One experiment of 100,000 runs shared by the leaderboard benchmarks (populated once, about
// 15 s), removed at exit. Each run has 5 tags, as MLflow's clients set them.
struct Leaderboard {
  BenchStore store;
  std::string experiment;
  explicit Leaderboard(int runs) {
    experiment = store->CreateExperiment("leaderboard", "", {});
    Populate(*store, experiment, runs,
             {{"mlflow.user", "ada"},
              {"mlflow.source.name", "train.py"},
              {"mlflow.source.type", "LOCAL"},
              {"team", "recs"}});
  }
};

Leaderboard& SharedLeaderboard(int runs) {
  static Leaderboard leaderboard(runs);
  return leaderboard;
}

void LeaderboardPage(benchmark::State& state, std::vector<std::string> order_by) {
  Leaderboard& board = SharedLeaderboard(static_cast<int>(state.range(0)));
  RunSearch search;
  search.experiment_ids = {board.experiment};
  search.order_by = std::move(order_by);
  search.max_results = 100;
  size_t found = 0;
  for (auto _ : state) {
    auto page = board.store->SearchRuns(search);
    found = page.items.size();
    benchmark::DoNotOptimize(page);
  }
  if (found != 100) state.SkipWithError("the page did not hold 100 runs");
}

void BM_LeaderboardFirstPage(benchmark::State& state) { LeaderboardPage(state, {}); }
BENCHMARK(BM_LeaderboardFirstPage)->Arg(100000)->Unit(benchmark::kMillisecond)->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_LeaderboardSortByMetric(benchmark::State& state) {
  LeaderboardPage(state, {"metrics.m1 DESC"});
}
BENCHMARK(BM_LeaderboardSortByMetric)->Arg(100000)->Unit(benchmark::kMillisecond)->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_LeaderboardColumns(benchmark::State& state) {
  Leaderboard& board = SharedLeaderboard(static_cast<int>(state.range(0)));
  size_t keys = 0;
  for (auto _ : state) {
    RunKeys found = board.store->SearchRunKeys({board.experiment}, "", ViewType::kActiveOnly);
    keys = found.params.size() + found.metrics.size() + found.tags.size();
    benchmark::DoNotOptimize(found);
  }
  if (keys != 15) state.SkipWithError("the runs did not have 15 keys");
}
BENCHMARK(BM_LeaderboardColumns)->Arg(100000)->Unit(benchmark::kMillisecond)->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_LeaderboardChildCounts(benchmark::State& state) {
  Leaderboard& board = SharedLeaderboard(static_cast<int>(state.range(0)));
  RunSearch search;
  search.experiment_ids = {board.experiment};
  search.max_results = 100;
  std::vector<std::string> page;
  for (const Run& run : board.store->SearchRuns(search).items) page.push_back(run.info.run_id);
  for (auto _ : state) benchmark::DoNotOptimize(board.store->CountChildRuns(page));
  if (page.size() != 100) state.SkipWithError("the page did not hold 100 runs");
}
BENCHMARK(BM_LeaderboardChildCounts)->Arg(100000)->Unit(benchmark::kMillisecond)
    ->Repetitions(5)->ReportAggregatesOnly(true);

void BM_MetricHistory(benchmark::State& state) {
  BenchStore store;
  std::string run_id = store->CreateRun({}).info.run_id;
  const int steps = static_cast<int>(state.range(0));
  std::vector<Metric> batch;
  for (int s = 0; s < steps; ++s) {
    batch.push_back({"loss", 1.0 / (1 + s), 1700000000000 + s, s});
    if (batch.size() == 1000) {
      store->LogBatch(run_id, batch, {}, {});
      batch.clear();
    }
  }
  size_t got = 0;
  for (auto _ : state) {
    got = 0;
    std::string token;
    do {
      auto page = store->GetMetricHistory(run_id, "loss", kMaxHistoryPerPage, token);
      got += page.items.size();
      token = std::move(page.next_page_token);
    } while (!token.empty());
  }
  if (got != static_cast<size_t>(steps)) state.SkipWithError("the history is incomplete");
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(got));  // items: points
}
BENCHMARK(BM_MetricHistory)->Arg(100000)->Unit(benchmark::kMillisecond)->Repetitions(5)
    ->ReportAggregatesOnly(true);

}  // namespace
}  // namespace mltrack::tracking

BENCHMARK_MAIN();
