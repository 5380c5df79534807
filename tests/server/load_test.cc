// The tracking server under load, and across a crash. Both bounded in time and count, on loopback.
//   ServerLoad.SixtyFourClientsLoseNothing   64 clients log for MLT_LOAD_SECONDS (default 60) s:
//                                            zero errors, every acknowledged metric stored.
//   ServerCrash.KillNineLosesNoAcknowledgedWrite  kill -9 `mlt server` mid-load, restart it on the
//                                            same database: every acknowledged write is there
//                                            and PRAGMA integrity_check passes.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/sqlite.h"
#include "server/tracking_server.h"
#include "support/test_support.h"
#include "tracking/sqlite_tracking_store.h"
#include "tracking/store_factory.h"

extern char** environ;

namespace mltrack::server {
namespace {

using ::mltrack::testing::TempDir;
using json = nlohmann::json;

std::string CreateRun(http::Client& client) {
  auto result = client.Send("POST", "/api/2.0/mlflow/runs/create",
                            json{{"experiment_id", "0"}, {"start_time", 1}}.dump(),
                            "application/json", false);
  if (result.status != 200) throw std::runtime_error("runs/create: " + result.body);
  return json::parse(result.body)["run"]["info"]["run_id"].get<std::string>();
}

// One client's loop: alternately log-batch of 100 metrics and single log-metric calls, until the
// deadline or `stop`. Returns how many metrics the server acknowledged; counts other outcomes in
// `errors` (transport failures while `expect_failures` are not errors).
int64_t LogUntil(const std::string& url, const std::string& run_id, const std::string& key,
                 std::chrono::steady_clock::time_point deadline, std::atomic<bool>& stop,
                 std::atomic<int64_t>& errors, bool expect_failures) {
  http::Client client(url, {.connect_timeout = std::chrono::milliseconds(2000),
                            .read_timeout = std::chrono::milliseconds(30000),
                            .max_attempts = 1});
  int64_t acknowledged = 0;
  int64_t step = 0;
  while (!stop && std::chrono::steady_clock::now() < deadline) {
    try {
      http::Result result;
      int64_t n;
      if (step % 2 == 0) {
        json metrics = json::array();
        for (int i = 0; i < 100; ++i) {
          metrics.push_back({{"key", key}, {"value", 0.5 * (step + i)},
                             {"timestamp", 1700000000000 + step + i}, {"step", step + i}});
        }
        result = client.Send("POST", "/api/2.0/mlflow/runs/log-batch",
                             json{{"run_id", run_id}, {"metrics", metrics}}.dump(),
                             "application/json", false);
        n = 100;
      } else {
        result = client.Send("POST", "/api/2.0/mlflow/runs/log-metric",
                             json{{"run_id", run_id}, {"key", key}, {"value", 1.0 * step},
                                  {"timestamp", 1700000000000 + step}, {"step", step}}
                                 .dump(),
                             "application/json", false);
        n = 1;
      }
      if (result.status == 200) {
        acknowledged += n;
      } else if (!expect_failures) {
        ++errors;
      }
      step += n;
    } catch (const Error&) {
      if (!expect_failures) ++errors;
      if (expect_failures) break;  // the server is gone
    }
  }
  return acknowledged;
}

int64_t StoredCount(tracking::TrackingStore& store, const std::string& run_id,
                    const std::string& key) {
  int64_t n = 0;
  std::string token;
  do {
    auto page = store.GetMetricHistory(run_id, key, 25000, token);
    n += static_cast<int64_t>(page.items.size());
    token = page.next_page_token;
  } while (!token.empty());
  return n;
}

int LoadSeconds() {
  const char* env = std::getenv("MLT_LOAD_SECONDS");
  return env ? std::max(1, std::atoi(env)) : 60;
}

TEST(ServerLoad, SixtyFourClientsLoseNothing) {
  TempDir dir;
  TrackingServer server({.backend_store_uri = "sqlite:///" + (dir / "mlruns.db").string(),
                         .artifacts_destination = (dir / "artifacts").string(),
                         .port = 0,
                         .workers = 64});
  server.Start();
  http::Client setup(server.url());
  std::string run_id = CreateRun(setup);
  const int kClients = 64;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(LoadSeconds());
  std::atomic<bool> stop{false};
  std::atomic<int64_t> errors{0};
  std::vector<int64_t> acknowledged(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      acknowledged[c] = LogUntil(server.url(), run_id, "c" + std::to_string(c), deadline, stop,
                                 errors, false);
    });
  }
  for (auto& t : clients) t.join();
  server.Stop();
  EXPECT_EQ(errors.load(), 0);
  tracking::SqliteTrackingStore store((dir / "mlruns.db").string(), "file:///unused");
  int64_t total = 0;
  for (int c = 0; c < kClients; ++c) {
    EXPECT_GT(acknowledged[c], 0) << "client " << c << " got nothing through";
    EXPECT_EQ(StoredCount(store, run_id, "c" + std::to_string(c)), acknowledged[c]) << c;
    total += acknowledged[c];
  }
  std::printf("64 clients, %d s: %lld metrics acknowledged and stored\n", LoadSeconds(),
              static_cast<long long>(total));
}

pid_t StartServerProcess(const std::string& db, const std::string& artifacts, int port) {
  std::vector<std::string> args = {MLT_BINARY, "server", "--backend-store-uri", "sqlite:///" + db,
                                   "--artifacts-destination", artifacts, "--port",
                                   std::to_string(port)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start mlt server");
  return pid;
}

bool WaitHealthy(const std::string& url) {
  http::Client client(url, {.connect_timeout = std::chrono::milliseconds(200), .max_attempts = 1});
  for (int i = 0; i < 100; ++i) {
    try {
      if (client.Get("/health").status == 200) return true;
    } catch (const Error&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// An ephemeral loopback port that was free a moment ago (the kernel does not hand it out again
// at once), so that the server can be restarted on the same URL.
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(ServerCrash, KillNineLosesNoAcknowledgedWrite) {
  TempDir dir;
  std::string db = (dir / "mlruns.db").string();
  std::string artifacts = (dir / "artifacts").string();
  int port = FreePort();
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  pid_t pid = StartServerProcess(db, artifacts, port);
  ASSERT_TRUE(WaitHealthy(url));
  http::Client setup(url);
  std::string run_id = CreateRun(setup);

  const int kClients = 16;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> errors{0};
  std::vector<int64_t> acknowledged(kClients);
  std::vector<std::thread> clients;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      acknowledged[c] =
          LogUntil(url, run_id, "c" + std::to_string(c), deadline, stop, errors, true);
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  stop = true;
  for (auto& t : clients) t.join();

  // Restart on the same database: every acknowledged write is there.
  pid = StartServerProcess(db, artifacts, port);
  ASSERT_TRUE(WaitHealthy(url));
  auto rest = tracking::OpenTrackingStore(url);
  int64_t total = 0;
  for (int c = 0; c < kClients; ++c) {
    int64_t stored = StoredCount(*rest, run_id, "c" + std::to_string(c));
    // A write in flight at the kill may have committed without its answer arriving: stored may
    // exceed acknowledged by at most one request's worth, never fall below it.
    EXPECT_GE(stored, acknowledged[c]) << c;
    EXPECT_LE(stored, acknowledged[c] + 100) << c;
    total += acknowledged[c];
  }
  EXPECT_GT(total, 0);
  ::kill(pid, SIGTERM);
  waitpid(pid, &status, 0);
  sqlite::Database check(db);
  std::string integrity;
  check.ReadTransaction([&] {
    auto& stmt = check.Prepare("PRAGMA integrity_check");
    stmt.Step();
    integrity = stmt.Text(0);
  });
  EXPECT_EQ(integrity, "ok");
}

}  // namespace
}  // namespace mltrack::server
