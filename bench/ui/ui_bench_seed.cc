// Seeds the database that bench/run_ui_bench.sh measures the web app on:
//   experiment "leaderboard": <runs> runs shaped like a sweep-heavy project. Every run has a name,
//     user, source and git commit tag, 5 params and 3 metrics; one run in 20 is a sweep parent
//     whose next 9 runs are its children (mlflow.parentRunId).
//   experiment "history": one run with the metric "loss" logged at <steps> steps: a decaying
//     curve with spikes of 50 at steps 123,457 and (steps - 1000), where a chart that drops
//     points instead of keeping each bucket's extremes would lose them.
// Usage: ui_bench_seed <database path> [runs = 100000] [steps = 1000000]
// Prints the two experiment ids and the history run's id, one `name=value` per line.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tracking/sqlite_tracking_store.h"

namespace {

using namespace mltrack;
using tracking::SqliteTrackingStore;

void SeedLeaderboard(SqliteTrackingStore& store, const std::string& experiment, int runs) {
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> unit(0, 1);
  const char* users[] = {"ada", "grace", "alan", "edsger"};
  const char* optimizers[] = {"adam", "sgd", "lbfgs"};
  const int64_t t0 = 1767225600000;  // 2026-01-01
  std::string parent;
  for (int r = 0; r < runs; ++r) {
    const bool is_parent = r % 20 == 0;
    if (r % 20 == 10) parent.clear();  // the second half of each group of 20 is top-level
    std::vector<Tag> tags = {
        {"mlflow.user", users[r % 4]},
        {"mlflow.source.name", r % 3 == 0 ? "train_als.cc" : "examples/recommender"},
        {"mlflow.source.type", "PROJECT"},
        {"mlflow.source.git.commit", fmt::format("{:040x}", gen() & 0xffffffffffffULL)},
        {"team", r % 2 == 0 ? "recs" : "search"},
    };
    if (!parent.empty()) tags.push_back({"mlflow.parentRunId", parent});
    const int64_t start = t0 + int64_t{r} * 60000;
    Run run = store.CreateRun({.experiment_id = experiment,
                               .run_name = fmt::format("run-{:06d}", r),
                               .user_id = users[r % 4],
                               .start_time = start,
                               .tags = tags});
    const double lr = std::pow(10.0, -1 - 3 * unit(gen));
    const int rank = 8 << (gen() % 5);
    std::vector<Param> params = {
        {"lr", fmt::format("{:.6g}", lr)},
        {"rank", std::to_string(rank)},
        {"reg", fmt::format("{:.3g}", 0.01 * (1 + gen() % 10))},
        {"optimizer", optimizers[gen() % 3]},
        {"epochs", std::to_string(5 + gen() % 20)},
    };
    const double rmse = 0.75 + 0.3 * unit(gen);
    std::vector<Metric> metrics = {
        {"rmse", rmse, start + 50000, 0},
        {"mae", rmse * 0.78, start + 50000, 0},
        {"train_seconds", 20 + 100 * unit(gen), start + 50000, 0},
    };
    store.LogBatch(run.info.run_id, metrics, params, {});
    store.UpdateRun(run.info.run_id, {.status = RunStatus::kFinished,
                                      .end_time = start + 30000 + int64_t(gen() % 60000)});
    if (is_parent) parent = run.info.run_id;
  }
}

std::string SeedHistory(SqliteTrackingStore& store, const std::string& experiment, int steps) {
  const int64_t t0 = 1767225600000;
  Run run = store.CreateRun({.experiment_id = experiment, .run_name = "long-training",
                             .start_time = t0});
  std::vector<Metric> batch;
  batch.reserve(1000);
  for (int step = 0; step < steps; ++step) {
    double value = 2.0 * std::exp(-step / (steps / 5.0)) + 0.1 + 0.01 * std::sin(step * 0.01);
    if (step == 123457 || step == steps - 1000) value = 50;
    batch.push_back({"loss", value, t0 + int64_t{step} * 10, step});
    if (batch.size() == 1000) {
      store.LogBatch(run.info.run_id, batch, {}, {});
      batch.clear();
    }
  }
  if (!batch.empty()) store.LogBatch(run.info.run_id, batch, {}, {});
  store.UpdateRun(run.info.run_id, {.status = RunStatus::kFinished, .end_time = t0 + steps * 10LL});
  return run.info.run_id;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: ui_bench_seed <database path> [runs] [steps]\n");
    return 2;
  }
  const int runs = argc > 2 ? std::atoi(argv[2]) : 100000;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 1000000;
  try {
    SqliteTrackingStore store(argv[1], "mlflow-artifacts:/");
    auto begin = std::chrono::steady_clock::now();
    std::string leaderboard = store.CreateExperiment("leaderboard", "", {});
    SeedLeaderboard(store, leaderboard, runs);
    std::string history = store.CreateExperiment("history", "", {});
    std::string history_run = SeedHistory(store, history, steps);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    std::fprintf(stderr, "seeded %d runs and a %d-step metric in %.1f s\n", runs, steps, seconds);
    std::printf("leaderboard=%s\nhistory=%s\nhistory_run=%s\n", leaderboard.c_str(),
                history.c_str(), history_run.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ui_bench_seed: %s\n", e.what());
    return 1;
  }
  return 0;
}
