// End-to-end benchmark of `mlt server`: a real server process on loopback with its database on
// disk, driven by keep-alive HTTP clients in this process (server and load share the 2 cores).
//
//   server_bench <path to mlt> [--seconds N]
//
// Prints the machine, each figure, its target (tracking server issue) and the ratio against
// MLflow 2.17's server measured on this kind of machine (recorded figures: MLflow cannot be
// installed here).
#include <signal.h>
#include <spawn.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "mltrack/error.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct ServerProcess {
  pid_t pid = -1;
  std::string url;
};

ServerProcess StartServer(const std::string& mlt, const fs::path& dir, int port) {
  std::vector<std::string> args = {mlt,
                                   "server",
                                   "--backend-store-uri",
                                   "sqlite:///" + (dir / "mlruns.db").string(),
                                   "--artifacts-destination",
                                   (dir / "artifacts").string(),
                                   "--port",
                                   std::to_string(port),
                                   "--workers",
                                   "16"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ServerProcess server;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  if (posix_spawn(&server.pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
    std::fprintf(stderr, "server_bench: cannot start %s\n", mlt.c_str());
    std::exit(1);
  }
  posix_spawn_file_actions_destroy(&actions);
  server.url = "http://127.0.0.1:" + std::to_string(port);
  mltrack::http::Client probe(server.url, {.max_attempts = 1});
  for (int i = 0; i < 200; ++i) {
    try {
      if (probe.Get("/health").status == 200) return server;
    } catch (const mltrack::Error&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::fprintf(stderr, "server_bench: the server did not come up\n");
  std::exit(1);
}

long RssKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

mltrack::http::Result Post(mltrack::http::Client& client, const std::string& path,
                           const json& body) {
  auto result = client.Send("POST", "/api/2.0/mlflow/" + path, body.dump(), "application/json",
                            false);
  if (result.status != 200) {
    std::fprintf(stderr, "server_bench: %s answered %d: %s\n", path.c_str(), result.status,
                 result.body.c_str());
    std::exit(1);
  }
  return result;
}

std::string NewRun(mltrack::http::Client& client, const std::string& experiment_id) {
  auto result = Post(client, "runs/create", {{"experiment_id", experiment_id}, {"start_time", 1}});
  return json::parse(result.body)["run"]["info"]["run_id"].get<std::string>();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// `threads` clients each call `one(client, thread, i)` until `seconds` pass; returns calls/s and
// the latencies in ms.
template <class Fn>
std::pair<double, std::vector<double>> Drive(const std::string& url, int threads, double seconds,
                                             Fn one) {
  std::vector<std::vector<double>> latencies(threads);
  std::vector<int64_t> counts(threads);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      mltrack::http::Client client(url);
      for (int64_t i = 0; Clock::now() < deadline; ++i) {
        auto t0 = Clock::now();
        one(client, t, i);
        latencies[t].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        ++counts[t];
      }
    });
  }
  for (auto& w : workers) w.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t total = 0;
  std::vector<double> all;
  for (int t = 0; t < threads; ++t) {
    total += counts[t];
    all.insert(all.end(), latencies[t].begin(), latencies[t].end());
  }
  return {static_cast<double>(total) / elapsed, all};
}

void PrintRow(const char* what, const std::string& ours, const char* target, const char* mlflow,
              double ratio) {
  std::printf("%-46s %16s %14s %14s %8.0fx\n", what, ours.c_str(), target, mlflow, ratio);
}

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: server_bench <path to mlt> [--seconds N]\n");
    return 2;
  }
  std::string mlt = argv[1];
  double seconds = 10;
  if (argc == 4 && std::string(argv[2]) == "--seconds") seconds = std::atof(argv[3]);

  const char* base = std::getenv("MLT_BENCH_DIR");
  fs::path dir = fs::path(base ? base : "/var/tmp") / ("mlt-server-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  utsname uts{};
  uname(&uts);
  std::printf("== machine: %u cores, %s %s; database on disk under %s (WAL, synchronous=NORMAL)\n",
              std::thread::hardware_concurrency(), uts.sysname, uts.release, dir.c_str());

  int port = 20000 + getpid() % 20000;
  ServerProcess server = StartServer(mlt, dir, port);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long idle_rss = RssKiB(server.pid);

  mltrack::http::Client setup(server.url);
  std::string exp = json::parse(Post(setup, "experiments/create", {{"name", "bench"}}).body)
                        ["experiment_id"].get<std::string>();

  std::printf("\n%-46s %16s %14s %14s %9s\n", "benchmark", "mlt server", "target", "MLflow 2.17",
              "ratio");

  // 1. log-metric, single calls, 4 keep-alive connections.
  {
    std::vector<std::string> runs;
    for (int t = 0; t < 4; ++t) runs.push_back(NewRun(setup, exp));
    auto [rate, lat] = Drive(server.url, 4, seconds, [&](auto& client, int t, int64_t i) {
      Post(client, "runs/log-metric",
           {{"run_id", runs[t]}, {"key", "loss"}, {"value", 0.5}, {"timestamp", 1700000000000 + i},
            {"step", i}});
    });
    PrintRow("log-metric, 4 connections (requests/s)", Fmt("%.0f", rate), ">= 5,000", "40",
             rate / 40);
    std::printf("%-46s %16s\n", "  latency p50 / p99 (ms)",
                (Fmt("%.2f", Percentile(lat, 0.5)) + " / " + Fmt("%.2f", Percentile(lat, 0.99)))
                    .c_str());
  }
  // 2. log-batch of 1000 metrics, 2 connections.
  {
    std::vector<std::string> runs = {NewRun(setup, exp), NewRun(setup, exp)};
    // The body is written with fmt, as a load generator should: the client shares the 2 cores.
    auto [rate, lat] = Drive(server.url, 2, seconds, [&](auto& client, int t, int64_t i) {
      std::string body = fmt::format("{{\"run_id\":\"{}\",\"metrics\":[", runs[t]);
      for (int k = 0; k < 1000; ++k) {
        fmt::format_to(std::back_inserter(body),
                       "{}{{\"key\":\"m{}\",\"value\":{},\"timestamp\":{},\"step\":{}}}",
                       k ? "," : "", k % 10, 0.001 * k, 1700000000000 + i, i * 100 + k / 10);
      }
      body += "]}";
      auto result = client.Send("POST", "/api/2.0/mlflow/runs/log-batch", body,
                                "application/json", false);
      if (result.status != 200) {
        std::fprintf(stderr, "server_bench: log-batch answered %d: %s\n", result.status,
                     result.body.c_str());
        std::exit(1);
      }
    });
    PrintRow("log-batch of 1000 metrics (metrics/s)", Fmt("%.0f", rate * 1000), ">= 300,000",
             "5,000-9,000", rate * 1000 / 9000);
  }
  // 3. create 10,000 runs, each create + log-batch of 5 params, 5 metrics, 1 tag; 4 connections.
  std::string search_exp =
      json::parse(Post(setup, "experiments/create", {{"name", "search"}}).body)["experiment_id"]
          .get<std::string>();
  {
    std::atomic<int> next{0};
    const char* models[] = {"tree", "linear", "knn"};
    auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([&] {
        mltrack::http::Client client(server.url);
        for (int r = next++; r < 10000; r = next++) {
          std::string run = NewRun(client, search_exp);
          json params = json::array(), metrics = json::array();
          params.push_back({{"key", "p0"}, {"value", models[r % 3]}});
          for (int k = 1; k < 5; ++k) params.push_back({{"key", "p" + std::to_string(k)}, {"value", std::to_string((r * 7 + k) % 10)}});
          for (int k = 0; k < 5; ++k) {
            metrics.push_back({{"key", "m" + std::to_string(k)},
                               {"value", ((r * 7919 + k * 104729) % 2000) / 1000.0},
                               {"timestamp", 1700000000000}, {"step", 0}});
          }
          Post(client, "runs/log-batch",
               {{"run_id", run}, {"params", params}, {"metrics", metrics},
                {"tags", json::array({{{"key", "stage"}, {"value", "bench"}}})}});
        }
      });
    }
    for (auto& w : workers) w.join();
    double rate = 10000 / std::chrono::duration<double>(Clock::now() - start).count();
    PrintRow("create 10,000 runs + log-batch (runs/s)", Fmt("%.0f", rate), ">= 2,000", "44",
             rate / 44);
  }
  // 4. runs/search over those 10,000 runs, one client.
  {
    json body = {{"experiment_ids", {search_exp}},
                 {"filter", "metrics.m0 < 1 and params.p0 = \"tree\""},
                 {"order_by", {"metrics.m1 DESC"}},
                 {"max_results", 100}};
    std::vector<double> lat;
    for (int i = 0; i < 30; ++i) {
      auto t0 = Clock::now();
      auto result = Post(setup, "runs/search", body);
      lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (json::parse(result.body)["runs"].size() != 100) {
        std::fprintf(stderr, "server_bench: search returned the wrong number of runs\n");
        return 1;
      }
    }
    double median = Percentile(lat, 0.5);
    PrintRow("runs/search 10,000 runs, 100 results (ms)", Fmt("%.1f", median), "<= 20", "1,000",
             1000 / median);
  }
  // 5. get-history of 100,000 steps, all pages.
  {
    std::string run = NewRun(setup, exp);
    for (int b = 0; b < 100; ++b) {
      json metrics = json::array();
      for (int k = 0; k < 1000; ++k) {
        int step = b * 1000 + k;
        metrics.push_back({{"key", "loss"}, {"value", 1.0 / (1 + step)},
                           {"timestamp", 1700000000000 + step}, {"step", step}});
      }
      Post(setup, "runs/log-batch", {{"run_id", run}, {"metrics", metrics}});
    }
    std::vector<double> lat;
    for (int i = 0; i < 9; ++i) {
      auto t0 = Clock::now();
      size_t points = 0;
      std::string token;
      do {
        std::string query = "/api/2.0/mlflow/metrics/get-history?run_id=" + run +
                            "&metric_key=loss&max_results=25000" +
                            (token.empty() ? "" : "&page_token=" + mltrack::http::UrlEncode(token));
        auto result = setup.Get(query);
        json page = json::parse(result.body);
        points += page["metrics"].size();
        token = page.value("next_page_token", "");
      } while (!token.empty());
      lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (points != 100000) {
        std::fprintf(stderr, "server_bench: history had %zu points\n", points);
        return 1;
      }
    }
    double median = Percentile(lat, 0.5);
    PrintRow("get-history of 100,000 steps (ms)", Fmt("%.1f", median), "<= 150", "5,100",
             5100 / median);
  }
  PrintRow("idle server resident memory (MiB)", Fmt("%.1f", idle_rss / 1024.0), "<= 30",
           "several 100", 300.0 / (idle_rss / 1024.0));
  std::printf("%-46s %16s\n", "  after the load (MiB)", Fmt("%.1f", RssKiB(server.pid) / 1024.0).c_str());

  kill(server.pid, SIGTERM);
  int status = 0;
  waitpid(server.pid, &status, 0);
  fs::remove_all(dir);
  return 0;
}
