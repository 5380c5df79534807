// The REST store and the HTTP artifact repository beyond the shared contract suite: the exact
// requests they send, errors, an unreachable or restarting server, artifacts through the proxy,
// and the C++ client and `mlt` against a tracking server.
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/http_server.h"
#include "mltrack/client.h"
#include "server/tracking_server.h"
#include "support/test_support.h"
#include "tracking/artifact_repository.h"
#include "tracking/entity_json.h"
#include "tracking/http_artifact_repository.h"
#include "tracking/rest_tracking_store.h"
#include "tracking/sqlite_tracking_store.h"
#include "tracking/store_factory.h"

namespace mltrack::tracking {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ProcessResult;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::RunMlt;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;
using json = nlohmann::json;
using namespace std::chrono_literals;

server::TrackingServerOptions ServerOptions(const TempDir& dir, int port = 0) {
  return {.backend_store_uri = "sqlite:///" + (dir / "mlruns.db").string(),
          .artifacts_destination = (dir / "artifacts").string(),
          .port = port,
          .workers = 4};
}

// A tracking server on an ephemeral loopback port, over a SQLite store and an artifact folder in
// its own temporary folder.
class Served {
 public:
  Served() : server_(ServerOptions(dir_)) { server_.Start(); }
  std::string url() const { return server_.url(); }
  const TempDir& dir() const { return dir_; }
  std::string sqlite_uri() const { return "sqlite:///" + (dir_ / "mlruns.db").string(); }
  fs::path artifacts() const { return dir_ / "artifacts"; }

 private:
  TempDir dir_;
  server::TrackingServer server_;
};

// --- the requests, as MLflow's Python client sends them ----------------------------------------

// Records every request and answers MLflow's tracking routes with canned bodies.
class RecordingServer {
 public:
  struct Seen {
    std::string method;
    std::string path;
    std::multimap<std::string, std::string> query;
    json body;
  };

  RecordingServer() : server_({.port = 0, .threads = 2}) {}

  void Answer(const std::string& method, const std::string& route, json response) {
    server_.Route(method, "/api/2.0/mlflow" + route,
                  [this, response](const http::Request& request, http::Response& reply) {
                    std::lock_guard lock(mu_);
                    seen_.push_back({request.method, request.path, request.query,
                                     request.body.empty() ? json() : json::parse(request.body)});
                    reply.body = response.dump();
                  });
  }
  std::string Start() { return fmt::format("http://127.0.0.1:{}", server_.Start()); }
  Seen Last() {
    std::lock_guard lock(mu_);
    if (seen_.empty()) return {};
    return seen_.back();
  }

 private:
  http::Server server_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

TEST(RestTrackingStore, SendsMlflowRequests) {
  const json experiment = {{"experiment_id", "7"},
                           {"name", "e"},
                           {"artifact_location", "mlflow-artifacts:/7"},
                           {"lifecycle_stage", "active"}};
  const json info = {{"run_id", "r1"},  {"run_uuid", "r1"},           {"experiment_id", "7"},
                     {"run_name", "n"}, {"status", "FINISHED"},       {"start_time", 5},
                     {"end_time", 9},   {"lifecycle_stage", "active"}};
  const json run = {{"info", info}, {"data", json::object()}};
  RecordingServer fake;
  fake.Answer("POST", "/experiments/create", {{"experiment_id", "7"}});
  fake.Answer("GET", "/experiments/get", {{"experiment", experiment}});
  fake.Answer("GET", "/experiments/get-by-name", {{"experiment", experiment}});
  fake.Answer("POST", "/experiments/search",
              {{"experiments", {experiment}}, {"next_page_token", "next"}});
  for (const char* route :
       {"/experiments/update", "/experiments/delete", "/experiments/restore",
        "/experiments/set-experiment-tag", "/experiments/delete-experiment-tag", "/runs/delete",
        "/runs/restore", "/runs/log-batch", "/runs/delete-tag"}) {
    fake.Answer("POST", route, json::object());
  }
  fake.Answer("POST", "/runs/create", {{"run", run}});
  fake.Answer("POST", "/runs/update", {{"run_info", info}});
  fake.Answer("GET", "/runs/get", {{"run", run}});
  fake.Answer("POST", "/runs/search", {{"runs", {run}}, {"next_page_token", "more"}});
  fake.Answer("GET", "/metrics/get-history",
              {{"metrics", {{{"key", "m"}, {"value", "NaN"}, {"timestamp", 5}, {"step", 1}}}}});
  RestTrackingStore store(fake.Start());

  auto expect_post = [&](const std::string& path, const json& body) {
    RecordingServer::Seen seen = fake.Last();
    EXPECT_EQ(seen.method, "POST");
    EXPECT_EQ(seen.path, "/api/2.0/mlflow" + path);
    EXPECT_EQ(seen.body, body) << path;
  };
  auto expect_get = [&](const std::string& path,
                        const std::multimap<std::string, std::string>& query) {
    RecordingServer::Seen seen = fake.Last();
    EXPECT_EQ(seen.method, "GET");
    EXPECT_EQ(seen.path, "/api/2.0/mlflow" + path);
    EXPECT_EQ(seen.query, query) << path;
    EXPECT_TRUE(seen.body.is_null()) << path;
  };

  EXPECT_EQ(store.CreateExperiment("e", "", {}), "7");
  expect_post("/experiments/create", {{"name", "e"}});
  store.CreateExperiment("e", "s3://b/e", {{"team", "ml"}});
  expect_post("/experiments/create", {{"name", "e"},
                                      {"artifact_location", "s3://b/e"},
                                      {"tags", {{{"key", "team"}, {"value", "ml"}}}}});
  EXPECT_EQ(store.GetExperiment("7").artifact_location, "mlflow-artifacts:/7");
  expect_get("/experiments/get", {{"experiment_id", "7"}});
  EXPECT_EQ(store.GetExperimentByName("e x").experiment_id, "7");
  expect_get("/experiments/get-by-name", {{"experiment_name", "e x"}});

  ExperimentSearch experiments;
  Page<Experiment> found = store.SearchExperiments(experiments);
  EXPECT_THAT(found.items, SizeIs(1));
  EXPECT_EQ(found.next_page_token, "next");
  expect_post("/experiments/search", {{"max_results", 1000}, {"view_type", "ACTIVE_ONLY"}});
  experiments = {.filter = "name LIKE 'e%'",
                 .view = ViewType::kAll,
                 .max_results = 2,
                 .order_by = {"name", "creation_time DESC"},
                 .page_token = "tok"};
  store.SearchExperiments(experiments);
  expect_post("/experiments/search", {{"max_results", 2},
                                      {"view_type", "ALL"},
                                      {"filter", "name LIKE 'e%'"},
                                      {"order_by", {"name", "creation_time DESC"}},
                                      {"page_token", "tok"}});

  store.RenameExperiment("7", "f");
  expect_post("/experiments/update", {{"experiment_id", "7"}, {"new_name", "f"}});
  store.DeleteExperiment("7");
  expect_post("/experiments/delete", {{"experiment_id", "7"}});
  store.RestoreExperiment("7");
  expect_post("/experiments/restore", {{"experiment_id", "7"}});
  store.SetExperimentTag("7", {"k", "v"});
  expect_post("/experiments/set-experiment-tag",
              {{"experiment_id", "7"}, {"key", "k"}, {"value", "v"}});
  store.DeleteExperimentTag("7", "k");
  expect_post("/experiments/delete-experiment-tag", {{"experiment_id", "7"}, {"key", "k"}});

  EXPECT_EQ(store.CreateRun({.experiment_id = "7"}).info.run_id, "r1");
  expect_post("/runs/create", {{"experiment_id", "7"}});
  store.CreateRun({.experiment_id = "7",
                   .run_name = "n",
                   .user_id = "ada",
                   .start_time = 5,
                   .tags = {{"a", "b"}}});
  expect_post("/runs/create", {{"experiment_id", "7"},
                               {"user_id", "ada"},
                               {"run_name", "n"},
                               {"start_time", 5},
                               {"tags", {{{"key", "a"}, {"value", "b"}}}}});
  RunInfo updated = store.UpdateRun("r1", {.status = RunStatus::kFinished, .end_time = 9});
  EXPECT_EQ(updated.end_time, 9);
  expect_post("/runs/update",
              {{"run_id", "r1"}, {"run_uuid", "r1"}, {"status", "FINISHED"}, {"end_time", 9}});
  store.UpdateRun("r1", {.run_name = "m"});
  expect_post("/runs/update", {{"run_id", "r1"}, {"run_uuid", "r1"}, {"run_name", "m"}});
  EXPECT_EQ(store.GetRun("r1").info.status, RunStatus::kFinished);
  expect_get("/runs/get", {{"run_id", "r1"}, {"run_uuid", "r1"}});
  store.DeleteRun("r1");
  expect_post("/runs/delete", {{"run_id", "r1"}});
  store.RestoreRun("r1");
  expect_post("/runs/restore", {{"run_id", "r1"}});

  RunSearch runs;
  runs.experiment_ids = {"7", "8"};
  Page<mltrack::Run> page = store.SearchRuns(runs);
  EXPECT_EQ(page.next_page_token, "more");
  expect_post(
      "/runs/search",
      {{"experiment_ids", {"7", "8"}}, {"run_view_type", "ACTIVE_ONLY"}, {"max_results", 1000}});
  runs.filter = "metrics.rmse < 1";
  runs.view = ViewType::kDeletedOnly;
  runs.max_results = 3;
  runs.order_by = {"metrics.rmse DESC"};
  runs.page_token = "p";
  store.SearchRuns(runs);
  expect_post("/runs/search", {{"experiment_ids", {"7", "8"}},
                               {"run_view_type", "DELETED_ONLY"},
                               {"max_results", 3},
                               {"filter", "metrics.rmse < 1"},
                               {"order_by", {"metrics.rmse DESC"}},
                               {"page_token", "p"}});

  store.LogBatch("r1", {{"m", std::nan(""), 5, 1}, {"n", 2.5, 6, 0}}, {{"p", "1"}}, {{"t", "v"}});
  expect_post("/runs/log-batch", {{"run_id", "r1"},
                                  {"metrics",
                                   {{{"key", "m"}, {"value", "NaN"}, {"timestamp", 5}, {"step", 1}},
                                    {{"key", "n"}, {"value", 2.5}, {"timestamp", 6}, {"step", 0}}}},
                                  {"params", {{{"key", "p"}, {"value", "1"}}}},
                                  {"tags", {{{"key", "t"}, {"value", "v"}}}}});
  store.LogMetric("r1", {"m", 1, 2, 3});  // log_metric is log_batch of one
  expect_post("/runs/log-batch",
              {{"run_id", "r1"},
               {"metrics", {{{"key", "m"}, {"value", 1.0}, {"timestamp", 2}, {"step", 3}}}}});
  store.DeleteTag("r1", "t");
  expect_post("/runs/delete-tag", {{"run_id", "r1"}, {"key", "t"}});

  Page<Metric> history = store.GetMetricHistory("r1", "m", 0, "");
  ASSERT_THAT(history.items, SizeIs(1));
  EXPECT_TRUE(std::isnan(history.items[0].value));
  EXPECT_EQ(history.next_page_token, "");
  expect_get("/metrics/get-history", {{"run_id", "r1"}, {"run_uuid", "r1"}, {"metric_key", "m"}});
  store.GetMetricHistory("r1", "m", 10, "tok&=");
  expect_get("/metrics/get-history", {{"run_id", "r1"},
                                      {"run_uuid", "r1"},
                                      {"metric_key", "m"},
                                      {"max_results", "10"},
                                      {"page_token", "tok&="}});
}

// --- errors ------------------------------------------------------------------------------------

struct Failure {
  std::string code;
  std::string message;
};

Failure FailureOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return {std::string(ErrorCodeName(e.code())), e.what()};
  }
  return {"(none)", "(no error)"};
}

TEST(RestTrackingStore, GivesBackTheSqliteStoresErrorCodesAndMessages) {
  Served served;
  RestTrackingStore rest(served.url());
  TempDir local_dir;
  SqliteTrackingStore sqlite((local_dir / "mlruns.db").string(),
                             "file://" + (local_dir / "artifacts").string());

  using Scenario = std::function<void(TrackingStore&, const std::string& run_id)>;
  const std::vector<std::pair<std::string, Scenario>> scenarios = {
      {"missing experiment", [](TrackingStore& s, auto&) { s.GetExperiment("999"); }},
      {"missing name", [](TrackingStore& s, auto&) { s.GetExperimentByName("nope"); }},
      {"duplicate name", [](TrackingStore& s, auto&) { s.CreateExperiment("Default", "", {}); }},
      {"default experiment", [](TrackingStore& s, auto&) { s.DeleteExperiment("0"); }},
      {"restore active", [](TrackingStore& s, auto&) { s.RestoreExperiment("0"); }},
      {"missing run",
       [](TrackingStore& s, auto&) { s.GetRun("0123456789abcdef0123456789abcdef"); }},
      {"changed param",
       [](TrackingStore& s, auto& id) {
         s.LogParam(id, {"lr", "0.2"});
       }},
      {"missing tag", [](TrackingStore& s, auto& id) { s.DeleteTag(id, "missing"); }},
      {"bad metric name",
       [](TrackingStore& s, auto& id) {
         s.LogMetric(id, {"bad*name", 1, 1, 0});
       }},
      {"too many metrics",
       [](TrackingStore& s, auto& id) {
         s.LogBatch(id, std::vector<Metric>(1001, Metric{"m", 1, 1, 0}), {}, {});
       }},
      {"bad filter",
       [](TrackingStore& s, auto&) { s.SearchRuns({.experiment_ids = {"0"}, .filter = "a <"}); }},
      {"bad token", [](TrackingStore& s, auto& id) { s.GetMetricHistory(id, "m", 0, "garbage!"); }},
  };
  std::map<TrackingStore*, std::string> runs;
  for (TrackingStore* store :
       {static_cast<TrackingStore*>(&sqlite), static_cast<TrackingStore*>(&rest)}) {
    runs[store] = store->CreateRun({.experiment_id = "0"}).info.run_id;
    store->LogParam(runs[store], {"lr", "0.1"});
  }
  for (const auto& [name, scenario] : scenarios) {
    SCOPED_TRACE(name);
    auto run = [&](TrackingStore& store) {
      Failure failure = FailureOf([&] { scenario(store, runs[&store]); });
      // The run ids differ; everything else must not.
      for (size_t at; (at = failure.message.find(runs[&store])) != std::string::npos;) {
        failure.message.replace(at, runs[&store].size(), "<run>");
      }
      return failure;
    };
    Failure expected = run(sqlite);
    Failure got = run(rest);
    EXPECT_NE(expected.code, "(none)");
    EXPECT_EQ(got.code, expected.code);
    EXPECT_EQ(got.message, expected.message);
  }
}

TEST(RestTrackingStore, TurnsOtherErrorBodiesIntoErrorsWithTheStatus) {
  http::Server fake({.port = 0, .threads = 2});
  fake.Route("GET", "/api/2.0/mlflow/runs/get", [](const http::Request&, http::Response& reply) {
    reply.status = 502;
    reply.content_type = "text/html";
    reply.body = "<html><body>Bad Gateway</body></html>\n";
  });
  fake.Route("GET", "/api/2.0/mlflow/experiments/get",
             [](const http::Request&, http::Response& reply) {
               reply.status = 500;
               reply.content_type = "text/plain";
               reply.body = std::string(300, 'x');
             });
  fake.Route("GET", "/api/2.0/mlflow/experiments/get-by-name",
             [](const http::Request&, http::Response& reply) {
               reply.status = 429;
               reply.body = R"({"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"})";
             });
  fake.Route("POST", "/api/2.0/mlflow/runs/search",
             [](const http::Request&, http::Response& reply) { reply.body = "<html>ok</html>"; });
  fake.Route("POST", "/api/2.0/mlflow/experiments/search",
             [](const http::Request&, http::Response& reply) {
               reply.body = R"({"experiments": [{"name": "no id"}]})";
             });
  std::string url = fmt::format("http://127.0.0.1:{}", fake.Start());
  RestTrackingStore store(url);

  EXPECT_ERROR(store.GetRun("r"), ErrorCode::kTemporarilyUnavailable,
               Eq("GET " + url +
                  "/api/2.0/mlflow/runs/get failed with HTTP status 502: "
                  "<html><body>Bad Gateway</body></html>"));
  EXPECT_ERROR(store.GetExperiment("1"), ErrorCode::kInternalError,
               Eq("GET " + url + "/api/2.0/mlflow/experiments/get failed with HTTP status 500: " +
                  std::string(200, 'x') + "..."));
  // An error code mltrack does not know keeps its message; the status picks the code.
  EXPECT_ERROR(store.GetExperimentByName("e"), ErrorCode::kResourceLimitExceeded, Eq("slow down"));
  EXPECT_ERROR(store.SearchRuns({.experiment_ids = {"0"}}), ErrorCode::kInternalError,
               Eq("Unexpected response from POST " + url +
                  "/api/2.0/mlflow/runs/search: it is not JSON: <html>ok</html>"));
  EXPECT_ERROR(store.SearchExperiments({}), ErrorCode::kInternalError,
               Eq("Unexpected response from POST " + url +
                  "/api/2.0/mlflow/experiments/search: Missing value for required field "
                  "'experiments[0].experiment_id'"));
}

// --- an unreachable server, retries ------------------------------------------------------------

TEST(RestTrackingStore, AServerThatIsDownIsTemporarilyUnavailableNamingTheUrl) {
  std::string url;
  {
    Served served;
    url = served.url();
  }  // stopped: its port now refuses connections
  RestTrackingStore store(url, {.max_attempts = 2, .first_backoff = 10ms});
  EXPECT_ERROR(store.GetExperiment("0"), ErrorCode::kTemporarilyUnavailable, HasSubstr(url));
  EXPECT_ERROR(store.CreateRun({}), ErrorCode::kTemporarilyUnavailable, HasSubstr(url));
  // The store the factory opens for an http URI, with the default retries.
  EXPECT_ERROR(OpenTrackingStore(url + "/")->GetRun("r"), ErrorCode::kTemporarilyUnavailable,
               HasSubstr(url));
}

TEST(RestTrackingStore, RetriesIdempotentCallsUntilTheServerIsBack) {
  TempDir dir;
  auto server = std::make_unique<server::TrackingServer>(ServerOptions(dir));
  const int port = server->Start();
  const std::string url = server->url();
  // Up to 50 ms * (2^7 - 1) = 6.35 s of patience: far more than the restart below takes.
  RestTrackingStore store(url, {.max_attempts = 8, .first_backoff = 50ms});
  const std::string run_id = store.CreateRun({.experiment_id = "0"}).info.run_id;

  // Stops the server, then runs `call` while a new server on the same port and database starts
  // a little later.
  auto across_a_restart = [&](const std::function<void()>& call) {
    server.reset();
    std::thread restart([&] {
      std::this_thread::sleep_for(300ms);
      server = std::make_unique<server::TrackingServer>(ServerOptions(dir, port));
      server->Start();
    });
    EXPECT_NO_THROW(call());
    restart.join();
  };

  server.reset();
  // Not idempotent: refused at once rather than sent again (it could create a second run).
  EXPECT_ERROR(store.CreateRun({.experiment_id = "0"}), ErrorCode::kTemporarilyUnavailable,
               HasSubstr(url));
  across_a_restart([&] {
    store.LogBatch(run_id, {{"m", 1.5, 10, 0}}, {{"p", "1"}}, {{"t", "v"}});
  });
  mltrack::Run run;
  across_a_restart([&] { run = store.GetRun(run_id); });
  EXPECT_THAT(run.data.metrics, SizeIs(1));
  EXPECT_THAT(run.data.params, SizeIs(1));
  across_a_restart([&] { store.SetTag(run_id, {"t", "w"}); });
  across_a_restart([&] { store.UpdateRun(run_id, {.status = RunStatus::kFinished}); });
  // Nothing was written twice, and the refused create left no run behind.
  EXPECT_THAT(store.GetMetricHistory(run_id, "m", 0, "").items, SizeIs(1));
  auto runs = store.SearchRuns({.experiment_ids = {"0"}, .view = ViewType::kAll});
  ASSERT_THAT(runs.items, SizeIs(1));
  EXPECT_EQ(runs.items[0].info.status, RunStatus::kFinished);
}

TEST(RestTrackingStore, IsSafeToCallFromSeveralThreads) {
  Served served;
  RestTrackingStore store(served.url());
  const std::string run_id = store.CreateRun({.experiment_id = "0"}).info.run_id;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int step = 0; step < 50; ++step) {
        store.LogBatch(run_id, {{"m", 1.0 * t, 1000 + t, step}},
                       {{"p" + std::to_string(t), std::to_string(t)}}, {});
        store.GetRun(run_id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_THAT(store.GetMetricHistory(run_id, "m", 0, "").items, SizeIs(200));
  EXPECT_THAT(store.GetRun(run_id).data.params, SizeIs(4));
}

// --- artifacts ---------------------------------------------------------------------------------

TEST(HttpArtifactRepository, ResolvesMlflowArtifactsUrisThroughTheTrackingServer) {
  auto resolved =
      ResolveMlflowArtifactsUri("mlflow-artifacts:/1/abc/artifacts", "http://127.0.0.1:5000/");
  EXPECT_EQ(resolved.base_url, "http://127.0.0.1:5000");
  EXPECT_EQ(resolved.root, "1/abc/artifacts");
  resolved = ResolveMlflowArtifactsUri("mlflow-artifacts://other:6000/1/a%20b",
                                       "https://tracking/prefix/");
  EXPECT_EQ(resolved.base_url, "https://other:6000/prefix");
  EXPECT_EQ(resolved.root, "1/a b");
  resolved = ResolveMlflowArtifactsUri("mlflow-artifacts:///", "http://h:1");
  EXPECT_EQ(resolved.base_url, "http://h:1");
  EXPECT_EQ(resolved.root, "");
  EXPECT_ERROR(ResolveMlflowArtifactsUri("mlflow-artifacts:/1/../../x", "http://h:1"),
               ErrorCode::kInvalidParameterValue,
               Eq("Invalid artifact URI path '1/../../x': it escapes its root folder"));
  const std::string needs_http =
      "artifact URI 'mlflow-artifacts:/1/x' needs an http tracking URI: set --tracking-uri "
      "http://host:port";
  EXPECT_ERROR(OpenArtifactRepository("mlflow-artifacts:/1/x", "sqlite:///mlruns.db"),
               ErrorCode::kInvalidParameterValue, Eq(needs_http));
}

TEST(HttpArtifactRepository, LogsListsAndDownloadsThroughTheArtifactProxy) {
  Served served;
  RestTrackingStore store(served.url());
  mltrack::Run run = store.CreateRun({.experiment_id = "0"});
  ASSERT_THAT(run.info.artifact_uri, StartsWith("mlflow-artifacts:/"));
  auto repository = OpenArtifactRepository(run.info.artifact_uri, served.url());

  TempDir local;
  WriteFile(local / "model.bin", "0123456789");
  WriteFile(local / "plots" / "loss.csv", "step,loss\n0,1.5\n");
  WriteFile(local / "plots" / "deep" / "x y.txt", "x");
  repository->LogFile(local / "model.bin", "");
  repository->LogDir(local / "plots", "charts");
  repository->LogFile(local / "model.bin", "models/v1");

  using Files = std::vector<FileInfo>;
  auto paths = [](const Files& files) {
    std::vector<std::string> out;
    for (const auto& f : files)
      out.push_back(f.path + (f.is_dir ? "/" : ":" + std::to_string(f.file_size)));
    return out;
  };
  EXPECT_THAT(paths(repository->List("")), ElementsAre("charts/", "model.bin:10", "models/"));
  EXPECT_THAT(paths(repository->List("charts")), ElementsAre("charts/deep/", "charts/loss.csv:16"));
  EXPECT_THAT(paths(repository->List("charts/deep")), ElementsAre("charts/deep/x y.txt:1"));
  EXPECT_THAT(repository->List("nothing"), IsEmpty());
  // The files are where MLflow's proxy puts them: <artifacts destination>/<URI path>, and a
  // local repository over that folder lists exactly the same entries.
  fs::path root =
      served.artifacts() / ResolveMlflowArtifactsUri(run.info.artifact_uri, served.url()).root;
  EXPECT_EQ(ReadFile(root / "charts" / "deep" / "x y.txt"), "x");
  LocalArtifactRepository direct(root);
  for (const char* dir : {"", "charts", "models", "models/v1"}) {
    EXPECT_THAT(paths(repository->List(dir)), Eq(paths(direct.List(dir)))) << dir;
  }

  TempDir out;
  EXPECT_EQ(repository->Download("charts/loss.csv", out / "one"),
            out / "one" / "charts" / "loss.csv");
  EXPECT_EQ(ReadFile(out / "one" / "charts" / "loss.csv"), "step,loss\n0,1.5\n");
  EXPECT_EQ(repository->Download("charts", out / "folder"), out / "folder" / "charts");
  EXPECT_EQ(ReadFile(out / "folder" / "charts" / "deep" / "x y.txt"), "x");
  EXPECT_EQ(repository->Download("", out / "all"), out / "all");
  EXPECT_EQ(ReadFile(out / "all" / "model.bin"), "0123456789");
  EXPECT_EQ(ReadFile(out / "all" / "charts" / "loss.csv"), "step,loss\n0,1.5\n");
  EXPECT_EQ(ReadFile(out / "all" / "charts" / "deep" / "x y.txt"), "x");
  EXPECT_EQ(ReadFile(out / "all" / "models" / "v1" / "model.bin"), "0123456789");
  EXPECT_ERROR(repository->Download("charts/nothing", out / "none"),
               ErrorCode::kResourceDoesNotExist, Eq("Artifact 'charts/nothing' does not exist"));
  EXPECT_FALSE(fs::exists(out / "none"));

  // Paths that leave the run's root are refused here, before any request.
  const std::string escapes = "Invalid artifact path '../x': it escapes its root folder";
  EXPECT_ERROR(repository->LogFile(local / "model.bin", "../x"), ErrorCode::kInvalidParameterValue,
               Eq(escapes));
  EXPECT_ERROR(repository->LogDir(local / "plots", "../x"), ErrorCode::kInvalidParameterValue,
               Eq(escapes));
  EXPECT_ERROR(repository->List("../x"), ErrorCode::kInvalidParameterValue, Eq(escapes));
  EXPECT_ERROR(repository->Download("../x", out / "up"), ErrorCode::kInvalidParameterValue,
               Eq(escapes));
  EXPECT_FALSE(fs::exists(root.parent_path() / "x"));
  EXPECT_FALSE(fs::exists(out / "x"));
  EXPECT_ERROR(repository->LogFile(local / "missing", ""), ErrorCode::kInvalidParameterValue,
               Eq(fmt::format("No such file or directory: '{}'", (local / "missing").string())));
}

TEST(HttpArtifactRepository, RefusesListingEntriesThatLeaveTheFolder) {
  http::Server fake({.port = 0, .threads = 2});
  fake.Route("GET", "/api/2.0/mlflow-artifacts/artifacts",
             [](const http::Request& request, http::Response& reply) {
               reply.body =
                   request.Query("path") == "1/r/artifacts"
                       ? R"({"files": [{"path": "../evil", "is_dir": false, "file_size": 1}]})"
                       : R"({"files": []})";
             });
  HttpArtifactRepository repository(
      {fmt::format("http://127.0.0.1:{}", fake.Start()), "1/r/artifacts"});
  const std::string message =
      "Invalid artifact path in the server's listing '../evil': it escapes its root folder";
  EXPECT_ERROR(repository.List(""), ErrorCode::kInvalidParameterValue, Eq(message));
  TempDir out;
  EXPECT_ERROR(repository.Download("", out / "all"), ErrorCode::kInvalidParameterValue,
               Eq(message));
  EXPECT_FALSE(fs::exists(out / "evil"));
  EXPECT_FALSE(fs::exists(out / "all"));
}

// --- the C++ client and the CLI against a server -----------------------------------------------

TEST(RestTrackingStore, TheClientLogsToATrackingServer) {
  Served served;
  TempDir local;
  WriteFile(local / "notes.txt", "hello");
  WriteFile(local / "plots" / "a.csv", "1,2\n");
  std::string run_id;
  {
    mltrack::Client client({.tracking_uri = served.url()});
    mltrack::ActiveRun run = client.StartRun({.experiment = "recs", .run_name = "rank-20"});
    run_id = run.run_id();
    run.LogParam("rank", 20);
    run.LogParams({{"reg", "0.1"}});
    for (int step = 0; step < 5; ++step) run.LogMetric("rmse", 1.0 - step * 0.1, step);
    run.SetTag("stage", "dev");
    run.LogArtifact(local / "notes.txt");
    run.LogArtifacts(local / "plots", "plots");
  }  // ends the run FINISHED

  // Read back from the server's own database, not through the code under test.
  auto direct = OpenTrackingStore(served.sqlite_uri());
  mltrack::Run run = direct->GetRun(run_id);
  EXPECT_EQ(run.info.status, RunStatus::kFinished);
  EXPECT_EQ(run.info.run_name, "rank-20");
  EXPECT_EQ(direct->GetExperiment(run.info.experiment_id).name, "recs");
  ASSERT_THAT(run.data.params, SizeIs(2));
  EXPECT_EQ(run.data.params[0].key, "rank");
  EXPECT_EQ(run.data.params[0].value, "20");
  EXPECT_THAT(direct->GetMetricHistory(run_id, "rmse", 0, "").items, SizeIs(5));
  fs::path root =
      served.artifacts() / ResolveMlflowArtifactsUri(run.info.artifact_uri, served.url()).root;
  EXPECT_EQ(ReadFile(root / "notes.txt"), "hello");
  EXPECT_EQ(ReadFile(root / "plots" / "a.csv"), "1,2\n");
}

TEST(RestTrackingStore, MltListsRunsAndArtifactsFromATrackingServer) {
  Served served;
  RestTrackingStore store(served.url());
  std::string exp = store.CreateExperiment("recs", "", {});
  std::string id = store
                       .CreateRun({.experiment_id = exp,
                                   .run_name = "r",
                                   .user_id = "ana",
                                   .start_time = 1700000000000})
                       .info.run_id;
  store.LogBatch(id, {{"rmse", 0.75, 1700000000500, 0}}, {{"rank", "20"}}, {});
  store.UpdateRun(id, {.status = RunStatus::kFinished, .end_time = 1700000000850});
  TempDir local;
  WriteFile(local / "model.bin", "0123456789");
  WriteFile(local / "plots" / "loss.csv", "step,loss\n0,1.5\n");

  auto mlt = [](std::vector<std::string> args, const std::string& uri) {
    args.push_back("--tracking-uri");
    args.push_back(uri);
    return RunMlt(args);
  };
  // The same output as from the database file itself.
  const std::vector<std::pair<std::vector<std::string>, std::string>> listings = {
      {{"runs", "list", "-e", "recs", "--columns", "rmse,params.rank"}, id},
      {{"runs", "get", id}, "mlflow-artifacts:/"},
      {{"experiments", "list"}, "recs"}};
  for (const auto& [args, shows] : listings) {
    SCOPED_TRACE(args[0] + " " + args[1]);
    ProcessResult from_server = mlt(args, served.url());
    ProcessResult from_file = mlt(args, served.sqlite_uri());
    EXPECT_EQ(from_server.exit_code, 0) << from_server.err;
    EXPECT_EQ(from_server.err, "");
    EXPECT_EQ(from_server.out, from_file.out);
    EXPECT_THAT(from_server.out, HasSubstr(shows));
  }

  auto expect_out = [](const ProcessResult& r, const std::string& out) {
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, out);
  };
  expect_out(
      mlt({"artifacts", "log", (local / "model.bin").string(), "-r", id}, served.url()),
      fmt::format("Logged '{}' to runs:/{}/model.bin\n", (local / "model.bin").string(), id));
  expect_out(
      mlt({"artifacts", "log", (local / "plots").string(), "-r", id, "-a", "charts"}, served.url()),
      fmt::format("Logged '{}' to runs:/{}/charts\n", (local / "plots").string(), id));
  expect_out(mlt({"artifacts", "list", "-r", id}, served.url()),
             "PATH       SIZE\n"
             "charts/\n"
             "model.bin    10\n");
  expect_out(mlt({"artifacts", "list", "-r", id, "-a", "charts"}, served.url()),
             "PATH             SIZE\n"
             "charts/loss.csv    16\n");
  TempDir out;
  expect_out(mlt({"artifacts", "download", "-r", id, "-d", (out / "all").string()}, served.url()),
             (out / "all").string() + "\n");
  EXPECT_EQ(ReadFile(out / "all" / "charts" / "loss.csv"), "step,loss\n0,1.5\n");

  // Errors read the same as from the file; mlflow-artifacts: needs the server.
  const std::string missing = "0123456789abcdef0123456789abcdef";
  ProcessResult from_server = mlt({"runs", "get", missing}, served.url());
  ProcessResult from_file = mlt({"runs", "get", missing}, served.sqlite_uri());
  EXPECT_EQ(from_server.exit_code, 1);
  EXPECT_EQ(from_server.err, from_file.err);
  EXPECT_EQ(from_server.err, "mlt: error: Run with id=" + missing + " not found\n");
  ProcessResult no_proxy = mlt({"artifacts", "list", "-r", id}, served.sqlite_uri());
  EXPECT_EQ(no_proxy.exit_code, 1);
  EXPECT_EQ(no_proxy.err, fmt::format("mlt: error: artifact URI '{}' needs an http tracking URI: "
                                      "set --tracking-uri http://host:port\n",
                                      store.GetRun(id).info.artifact_uri));
}

}  // namespace
}  // namespace mltrack::tracking
