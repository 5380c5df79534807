// A child process for the multi-process tests: logs to one run of a SQLite store until a
// deadline and prints how many metrics it logged, so the parent can check none were lost.
//   store_logger <db path> <run id | new> <worker name> <milliseconds>
// With "new", the logger creates its own run (in the Default experiment) first.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mltrack/error.h"
#include "tracking/sqlite_tracking_store.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: store_logger <db> <run id> <worker> <milliseconds>\n");
    return 2;
  }
  std::string run_id = argv[2];
  const std::string worker = argv[3];
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::atoll(argv[4]));
  try {
    mltrack::tracking::SqliteTrackingStore store(argv[1], "file:///tmp/unused");
    if (run_id == "new") run_id = store.CreateRun({.run_name = worker}).info.run_id;
    int64_t logged = 0;
    int64_t step = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      // Alternate single metrics and batches of 50, each a separate transaction.
      if (step % 2 == 0) {
        store.LogMetric(run_id, {worker, static_cast<double>(step), 1, step});
        ++logged;
        ++step;
      } else {
        std::vector<mltrack::Metric> batch;
        for (int i = 0; i < 50; ++i, ++step) {
          batch.push_back({worker, static_cast<double>(step), 1, step});
        }
        store.LogBatch(run_id, batch, {}, {});
        logged += 50;
      }
    }
    store.SetTag(run_id, {"done." + worker, std::to_string(logged)});
    std::printf("%lld\n", static_cast<long long>(logged));
    return 0;
  } catch (const mltrack::Error& e) {
    std::fprintf(stderr, "store_logger: %s\n", e.what());
    return 1;
  }
}
