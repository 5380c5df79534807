// The tracking server's REST API against MLflow's wire format: a TrackingServer in-process on an
// ephemeral loopback port over a fresh SQLite database, driven with the requests MLflow's Python
// client sends (paths, methods, bodies; GET fields in the query string), comparing the exact JSON
// that comes back, for successes and for errors. Also the artifact proxy, `mlt server` itself,
// and the metric downsampling behind get-history-bulk-interval.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "server/artifact_handlers.h"
#include "server/tracking_server.h"
#include "support/test_support.h"
#include "tracking/metric_downsampling.h"

extern char** environ;

namespace mltrack {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

constexpr int64_t kT0 = 1700000000000;
constexpr const char* kSeeDocs = "See the API docs for more information about request parameters.";

json ErrorBody(const std::string& code, const std::string& message) {
  return {{"error_code", code}, {"message", message}};
}

json InvalidParameter(const std::string& message) {
  return ErrorBody("INVALID_PARAMETER_VALUE", message);
}

std::string Missing(const std::string& field) {
  return fmt::format("Missing value for required parameter '{}'. {}", field, kSeeDocs);
}

// MLflow's wording for a value of the wrong JSON type (its double space included).
std::string WrongType(const std::string& value, const std::string& field, const std::string& type) {
  return fmt::format("Invalid value {} for parameter '{}' supplied:  Hint: Value was of type "
                     "'{}'. {}",
                     value, field, type, kSeeDocs);
}

struct Reply {
  int status = 0;
  json body;  // null when the body is not JSON
  std::string raw;
  std::string content_type;
};

Reply ToReply(const http::Result& result) {
  Reply reply{result.status, nullptr, result.body, result.content_type};
  try {
    reply.body = json::parse(result.body);
  } catch (const json::parse_error&) {
  }
  return reply;
}

// Removes `key` from `object` after checking that it is an integer within [low, high].
void TakeTime(json& object, const std::string& key, int64_t low, int64_t high) {
  ASSERT_TRUE(object.contains(key)) << key << " missing from " << object;
  ASSERT_TRUE(object[key].is_number_integer()) << object[key];
  EXPECT_GE(object[key].get<int64_t>(), low) << key;
  EXPECT_LE(object[key].get<int64_t>(), high) << key;
  object.erase(key);
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One HTTP exchange on a raw socket, for what http::Client cannot do: read response headers,
// send a body shorter than its Content-Length. Returns everything received until `close`.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("connect failed");
    }
  }
  ~RawConnection() { Close(); }
  void Send(const std::string& bytes) {
    for (size_t done = 0; done < bytes.size();) {
      ssize_t put = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (put <= 0) throw std::runtime_error("send failed");
      done += static_cast<size_t>(put);
    }
  }
  std::string ReadAll() {
    std::string received;
    char buffer[65536];
    for (;;) {
      ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
      if (got <= 0) return received;
      received.append(buffer, static_cast<size_t>(got));
    }
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// A request sent byte for byte (its target is not re-encoded by a client library), with
// `Connection: close`; the response is read whole.
Reply RawRequest(int port, const std::string& method, const std::string& target,
                 const std::string& body = "") {
  RawConnection raw(port);
  raw.Send(fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                       "Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n{}",
                       method, target, body.size(), body));
  std::string response = raw.ReadAll();
  Reply reply;
  size_t head_end = response.find("\r\n\r\n");
  if (response.size() < 12 || head_end == std::string::npos) return reply;
  reply.status = std::stoi(response.substr(9, 3));
  std::string head = response.substr(0, head_end);
  reply.raw = response.substr(head_end + 4);
  std::smatch type;
  if (std::regex_search(head, type, std::regex("\r\n[Cc]ontent-[Tt]ype: ([^\r]*)"))) {
    reply.content_type = type[1];
  }
  try {
    reply.body = json::parse(reply.raw);
  } catch (const json::parse_error&) {
  }
  return reply;
}

// --- the server under test ----------------------------------------------------------------------

class RestApi : public ::testing::Test {
 protected:
  static constexpr uint64_t kMaxArtifactBytes = 1 << 20;

  RestApi() : server_(Options()) {
    server_.Start();
    client_ = std::make_unique<http::Client>(server_.url(), http::ClientOptions{.max_attempts = 1});
  }

  server::TrackingServerOptions Options() const {
    server::TrackingServerOptions options;
    options.backend_store_uri = "sqlite:///" + (dir_ / "mlruns.db").string();
    options.artifacts_destination = (dir_ / "mlartifacts").string();
    options.port = 0;
    options.workers = 4;
    options.max_artifact_bytes = kMaxArtifactBytes;
    return options;
  }

  fs::path destination() const { return dir_ / "mlartifacts"; }

  Reply Post(const std::string& path, const json& body) {
    return ToReply(client_->Send("POST", path, body.dump(), "application/json", false));
  }
  Reply PostRaw(const std::string& path, const std::string& body,
                const std::string& content_type = "application/json") {
    return ToReply(client_->Send("POST", path, body, content_type, false));
  }
  Reply Get(const std::string& path, const std::multimap<std::string, std::string>& query = {}) {
    return ToReply(client_->Get(path + http::QueryString(query)));
  }

  // POST that must succeed; returns the JSON body.
  json Ok(const std::string& path, const json& body) {
    Reply reply = Post(path, body);
    EXPECT_EQ(reply.status, 200) << path << " " << reply.raw;
    return reply.body;
  }
  json GetOk(const std::string& path, const std::multimap<std::string, std::string>& query) {
    Reply reply = Get(path, query);
    EXPECT_EQ(reply.status, 200) << path << " " << reply.raw;
    return reply.body;
  }

  void ExpectError(const Reply& reply, int status, const json& body) {
    EXPECT_EQ(reply.status, status) << reply.raw;
    EXPECT_EQ(reply.content_type, "application/json");
    EXPECT_EQ(reply.body, body);
  }

  // The server still answers after whatever the test did to it.
  void ExpectServing() {
    Reply health = Get("/health");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.raw, "OK");
  }

  // A run in a new experiment, as MLflow's client creates one; returns its id.
  std::string NewRun(const std::string& api, const std::string& experiment_name = "runs") {
    json created = Ok(api + "experiments/create", {{"name", experiment_name}});
    json run = Ok(api + "runs/create", {{"experiment_id", created["experiment_id"]},
                                        {"start_time", kT0},
                                        {"run_name", "r1"},
                                        {"tags", json::array()}});
    return run["run"]["info"]["run_id"].get<std::string>();
  }

  TempDir dir_;
  server::TrackingServer server_;
  std::unique_ptr<http::Client> client_;
};

// Every endpoint answers under both prefixes.
class RestApiEndpoints : public RestApi, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string Api(const std::string& path) const { return GetParam() + path; }
};

INSTANTIATE_TEST_SUITE_P(BothPrefixes, RestApiEndpoints,
                         ::testing::Values("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"),
                         [](const auto& info) {
                           return info.param.starts_with("/api") ? std::string("Api")
                                                                 : std::string("AjaxApi");
                         });

TEST_F(RestApi, HealthAndVersion) {
  Reply health = Get("/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.raw, "OK");
  EXPECT_THAT(health.content_type, StartsWith("text/plain"));
  Reply version = Get("/version");
  EXPECT_EQ(version.status, 200);
  EXPECT_TRUE(std::regex_match(version.raw, std::regex(R"(\d+\.\d+\.\d+)"))) << version.raw;
  EXPECT_THAT(version.content_type, StartsWith("text/plain"));
}

TEST_P(RestApiEndpoints, ExperimentLifecycle) {
  int64_t before = NowMillis();
  EXPECT_EQ(Ok(Api("experiments/create"),
               {{"name", "exp-a"}, {"tags", {{{"key", "team"}, {"value", "recs"}}}}}),
            json({{"experiment_id", "1"}}));
  int64_t after = NowMillis();

  json got = GetOk(Api("experiments/get"), {{"experiment_id", "1"}});
  TakeTime(got["experiment"], "creation_time", before, after);
  TakeTime(got["experiment"], "last_update_time", before, after);
  EXPECT_EQ(got, json::parse(R"({"experiment": {
      "experiment_id": "1", "name": "exp-a", "artifact_location": "mlflow-artifacts:/1",
      "lifecycle_stage": "active", "tags": [{"key": "team", "value": "recs"}]}})"));

  json by_name = GetOk(Api("experiments/get-by-name"), {{"experiment_name", "exp-a"}});
  EXPECT_EQ(by_name["experiment"]["experiment_id"], "1");

  EXPECT_EQ(Ok(Api("experiments/update"), {{"experiment_id", "1"}, {"new_name", "exp-b"}}),
            json::object());
  EXPECT_EQ(Ok(Api("experiments/set-experiment-tag"),
               {{"experiment_id", "1"}, {"key", "stage"}, {"value", "dev"}}),
            json::object());
  EXPECT_EQ(Ok(Api("experiments/delete-experiment-tag"), {{"experiment_id", "1"}, {"key", "team"}}),
            json::object());
  got = GetOk(Api("experiments/get"), {{"experiment_id", "1"}});
  EXPECT_EQ(got["experiment"]["name"], "exp-b");
  EXPECT_EQ(got["experiment"]["tags"], json::parse(R"([{"key": "stage", "value": "dev"}])"));

  EXPECT_EQ(Ok(Api("experiments/delete"), {{"experiment_id", "1"}}), json::object());
  EXPECT_EQ(GetOk(Api("experiments/get"), {{"experiment_id", "1"}})["experiment"]["lifecycle_stage"],
            "deleted");
  EXPECT_EQ(Ok(Api("experiments/restore"), {{"experiment_id", "1"}}), json::object());
  EXPECT_EQ(GetOk(Api("experiments/get"), {{"experiment_id", "1"}})["experiment"]["lifecycle_stage"],
            "active");
}

TEST_P(RestApiEndpoints, SearchExperimentsByGetAndPost) {
  for (const char* name : {"alpha", "beta", "gamma"}) {
    Ok(Api("experiments/create"), {{"name", name}});
  }
  Ok(Api("experiments/delete"), {{"experiment_id", "2"}});  // beta

  // MLflow's Python client: POST with the enum by name and max_results as a number.
  json page = Ok(Api("experiments/search"), {{"max_results", 2},
                                             {"filter", "name LIKE '%a%'"},
                                             {"order_by", {"name ASC"}},
                                             {"view_type", "ACTIVE_ONLY"}});
  ASSERT_TRUE(page.contains("next_page_token")) << page;
  std::vector<std::string> names;
  for (const auto& e : page["experiments"]) names.push_back(e["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"Default", "alpha"}));
  json rest = Ok(Api("experiments/search"), {{"max_results", 2},
                                             {"filter", "name LIKE '%a%'"},
                                             {"order_by", {"name ASC"}},
                                             {"page_token", page["next_page_token"]}});
  EXPECT_FALSE(rest.contains("next_page_token")) << rest;
  ASSERT_EQ(rest["experiments"].size(), 1u);
  EXPECT_EQ(rest["experiments"][0]["name"], "gamma");

  // GET: fields in the query string, a list as repeated keys, the enum by name.
  json all = GetOk(Api("experiments/search"), {{"view_type", "ALL"},
                                               {"order_by", "name DESC"},
                                               {"order_by", "experiment_id"},
                                               {"max_results", "10"}});
  names.clear();
  for (const auto& e : all["experiments"]) names.push_back(e["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"gamma", "beta", "alpha", "Default"}));
  EXPECT_FALSE(all.contains("next_page_token"));

  json deleted = GetOk(Api("experiments/search"), {{"view_type", "DELETED_ONLY"}});
  ASSERT_EQ(deleted["experiments"].size(), 1u);
  EXPECT_EQ(deleted["experiments"][0]["name"], "beta");

  // Nothing found: the empty list is left out, as protobuf's JSON does.
  EXPECT_EQ(GetOk(Api("experiments/search"), {{"filter", "name = 'nope'"}}), json::object());
}

TEST_P(RestApiEndpoints, RunLifecycle) {
  Ok(Api("experiments/create"), {{"name", "exp"}});
  // As MLflow's client's create_run sends it.
  json created = Ok(Api("runs/create"), {{"experiment_id", "1"},
                                         {"user_id", "alice"},
                                         {"start_time", kT0},
                                         {"tags", {{{"key", "mlflow.user"}, {"value", "alice"}}}},
                                         {"run_name", "r1"}});
  std::string run_id = created["run"]["info"]["run_id"];
  ASSERT_THAT(run_id, ::testing::MatchesRegex("[0-9a-f]{32}"));
  json info = {{"run_id", run_id},
               {"run_uuid", run_id},
               {"run_name", "r1"},
               {"experiment_id", "1"},
               {"user_id", "alice"},
               {"status", "RUNNING"},
               {"start_time", kT0},
               {"artifact_uri", fmt::format("mlflow-artifacts:/1/{}/artifacts", run_id)},
               {"lifecycle_stage", "active"}};
  json tags = json::parse(R"([{"key": "mlflow.runName", "value": "r1"},
                              {"key": "mlflow.user", "value": "alice"}])");
  EXPECT_EQ(created, json({{"run", {{"info", info}, {"data", {{"tags", tags}}}, {"inputs", json::object()}}}}));

  // run_id and the deprecated run_uuid both name the run.
  EXPECT_EQ(GetOk(Api("runs/get"), {{"run_id", run_id}}), created);
  EXPECT_EQ(GetOk(Api("runs/get"), {{"run_uuid", run_id}}), created);

  json updated = Ok(Api("runs/update"), {{"run_id", run_id},
                                         {"run_uuid", run_id},
                                         {"status", "FINISHED"},
                                         {"end_time", kT0 + 5000}});
  info["status"] = "FINISHED";
  info["end_time"] = kT0 + 5000;
  EXPECT_EQ(updated, json({{"run_info", info}}));

  EXPECT_EQ(Ok(Api("runs/delete"), {{"run_id", run_id}}), json::object());
  EXPECT_EQ(GetOk(Api("runs/get"), {{"run_id", run_id}})["run"]["info"]["lifecycle_stage"],
            "deleted");
  EXPECT_EQ(Ok(Api("runs/restore"), {{"run_id", run_id}}), json::object());
  EXPECT_EQ(GetOk(Api("runs/get"), {{"run_id", run_id}})["run"]["info"]["lifecycle_stage"],
            "active");
}

TEST_P(RestApiEndpoints, LoggingEndpoints) {
  std::string run_id = NewRun(GetParam());
  // As MLflow's client sends them: run_id and run_uuid both, NaN as a string.
  EXPECT_EQ(Ok(Api("runs/log-metric"), {{"run_id", run_id},
                                        {"run_uuid", run_id},
                                        {"key", "rmse"},
                                        {"value", 0.5},
                                        {"timestamp", kT0},
                                        {"step", 1}}),
            json::object());
  Ok(Api("runs/log-metric"),
     {{"run_id", run_id}, {"key", "loss"}, {"value", "NaN"}, {"timestamp", kT0}});
  EXPECT_EQ(Ok(Api("runs/log-parameter"),
               {{"run_id", run_id}, {"run_uuid", run_id}, {"key", "rank"}, {"value", "20"}}),
            json::object());
  EXPECT_EQ(Ok(Api("runs/set-tag"),
               {{"run_id", run_id}, {"run_uuid", run_id}, {"key", "note"}, {"value", "hi"}}),
            json::object());
  Ok(Api("runs/set-tag"), {{"run_id", run_id}, {"key", "gone"}, {"value", "x"}});
  EXPECT_EQ(Ok(Api("runs/delete-tag"), {{"run_id", run_id}, {"key", "gone"}}), json::object());
  EXPECT_EQ(Ok(Api("runs/log-batch"),
               json::parse(fmt::format(R"({{"run_id": "{}",
                   "metrics": [{{"key": "rmse", "value": 0.25, "timestamp": {}, "step": 2}},
                               {{"key": "acc", "value": "Infinity", "timestamp": {}}}],
                   "params": [{{"key": "alpha", "value": "0.1"}}],
                   "tags": [{{"key": "source", "value": "test"}}]}})",
                                       run_id, kT0 + 1, kT0 + 1))),
            json::object());

  json data = GetOk(Api("runs/get"), {{"run_id", run_id}})["run"]["data"];
  EXPECT_EQ(data, json::parse(fmt::format(R"({{
      "metrics": [{{"key": "acc", "value": "Infinity", "timestamp": {1}, "step": 0}},
                  {{"key": "loss", "value": "NaN", "timestamp": {0}, "step": 0}},
                  {{"key": "rmse", "value": 0.25, "timestamp": {1}, "step": 2}}],
      "params": [{{"key": "alpha", "value": "0.1"}}, {{"key": "rank", "value": "20"}}],
      "tags": [{{"key": "mlflow.runName", "value": "r1"}}, {{"key": "note", "value": "hi"}},
               {{"key": "source", "value": "test"}}]}})",
                                          kT0, kT0 + 1)));

  // Metric history, a page at a time.
  json first = GetOk(Api("metrics/get-history"),
                     {{"run_id", run_id}, {"metric_key", "rmse"}, {"max_results", "1"}});
  EXPECT_EQ(first["metrics"], json::parse(fmt::format(
                                  R"([{{"key": "rmse", "value": 0.5, "timestamp": {}, "step": 1}}])",
                                  kT0)));
  ASSERT_TRUE(first.contains("next_page_token"));
  json second = GetOk(Api("metrics/get-history"), {{"run_uuid", run_id},
                                                   {"metric_key", "rmse"},
                                                   {"max_results", "1"},
                                                   {"page_token", first["next_page_token"]}});
  EXPECT_EQ(second, json::parse(fmt::format(
                        R"({{"metrics": [{{"key": "rmse", "value": 0.25, "timestamp": {}, "step": 2}}]}})",
                        kT0 + 1)));
  EXPECT_EQ(GetOk(Api("metrics/get-history"), {{"run_id", run_id}, {"metric_key", "none"}}),
            json::object());
}

TEST_P(RestApiEndpoints, SearchRuns) {
  std::string a = NewRun(GetParam(), "exp");
  json b_run = Ok(Api("runs/create"), {{"experiment_id", "1"}, {"start_time", kT0 + 1},
                                       {"run_name", "r2"}});
  std::string b = b_run["run"]["info"]["run_id"];
  Ok(Api("runs/log-metric"), {{"run_id", a}, {"key", "rmse"}, {"value", 0.9}, {"timestamp", kT0}});
  Ok(Api("runs/log-metric"), {{"run_id", b}, {"key", "rmse"}, {"value", 0.7}, {"timestamp", kT0}});

  json found = Ok(Api("runs/search"), {{"experiment_ids", {"1"}},
                                       {"filter", "metrics.rmse < 1"},
                                       {"run_view_type", "ACTIVE_ONLY"},
                                       {"max_results", 1},
                                       {"order_by", {"metrics.rmse ASC"}}});
  ASSERT_EQ(found["runs"].size(), 1u);
  EXPECT_EQ(found["runs"][0]["info"]["run_id"], b);
  EXPECT_EQ(found["runs"][0], GetOk(Api("runs/get"), {{"run_id", b}})["run"]);
  ASSERT_TRUE(found.contains("next_page_token"));
  json next = Ok(Api("runs/search"), {{"experiment_ids", {"1"}},
                                      {"filter", "metrics.rmse < 1"},
                                      {"max_results", 1},
                                      {"order_by", {"metrics.rmse ASC"}},
                                      {"page_token", found["next_page_token"]}});
  ASSERT_EQ(next["runs"].size(), 1u);
  EXPECT_EQ(next["runs"][0]["info"]["run_id"], a);
  EXPECT_FALSE(next.contains("next_page_token"));

  Ok(Api("runs/delete"), {{"run_id", a}});
  json deleted = Ok(Api("runs/search"), {{"experiment_ids", {"1"}}, {"run_view_type", "DELETED_ONLY"}});
  ASSERT_EQ(deleted["runs"].size(), 1u);
  EXPECT_EQ(deleted["runs"][0]["info"]["run_id"], a);
  EXPECT_EQ(Ok(Api("runs/search"), {{"experiment_ids", {"1"}}, {"filter", "params.x = 'y'"}}),
            json::object());
}

TEST_P(RestApiEndpoints, LogModelAppendsToTheHistoryTag) {
  std::string run_id = NewRun(GetParam());
  auto model = [&](const std::string& path) {
    return json{{"artifact_path", path},
                {"run_id", run_id},
                {"utc_time_created", "2024-01-01 00:00:00.000000"},
                {"model_uuid", "u-" + path},
                {"mlflow_version", "2.17.0"},
                {"flavors",
                 {{"python_function", {{"loader_module", "m"}, {"config", {{"x", 1}}}}}}}};
  };
  EXPECT_EQ(Ok(Api("runs/log-model"), {{"run_id", run_id}, {"model_json", model("m1").dump()}}),
            json::object());
  Ok(Api("runs/log-model"), {{"run_id", run_id}, {"model_json", model("m2").dump()}});
  json tags = GetOk(Api("runs/get"), {{"run_id", run_id}})["run"]["data"]["tags"];
  std::string history;
  for (const auto& tag : tags) {
    if (tag["key"] == "mlflow.log-model.history") history = tag["value"];
  }
  auto entry = [&](const std::string& path) {
    return json{{"run_id", run_id},
                {"artifact_path", path},
                {"utc_time_created", "2024-01-01 00:00:00.000000"},
                {"model_uuid", "u-" + path},
                {"flavors", {{"python_function", {{"loader_module", "m"}}}}}};
  };
  EXPECT_EQ(json::parse(history), json::array({entry("m1"), entry("m2")}));

  ExpectError(Post(Api("runs/log-model"), {{"run_id", run_id}, {"model_json", "{not json"}}), 400,
              InvalidParameter("Malformed model info. \n {not json \n is not a valid JSON."));
  ExpectError(Post(Api("runs/log-model"),
                   {{"run_id", run_id}, {"model_json", R"({"run_id": "x", "artifact_path": "m"})"}}),
              400,
              InvalidParameter(
                  "Model json is missing mandatory fields: {'flavors', 'utc_time_created'}"));
}

TEST_P(RestApiEndpoints, LogInputsAcceptsMlflowDatasets) {
  std::string run_id = NewRun(GetParam());
  json dataset = {{"name", "train"},
                  {"digest", "abc123"},
                  {"source_type", "local"},
                  {"source", R"({"uri": "/data/train.csv"})"},
                  {"schema", "{}"},
                  {"profile", R"({"num_rows": 10})"}};
  EXPECT_EQ(Ok(Api("runs/log-inputs"),
               {{"run_id", run_id},
                {"datasets",
                 {{{"tags", {{{"key", "mlflow.data.context"}, {"value", "training"}}}},
                   {"dataset", dataset}}}}}),
            json::object());
  dataset.erase("digest");
  ExpectError(Post(Api("runs/log-inputs"),
                   {{"run_id", run_id}, {"datasets", {{{"dataset", dataset}}}}}),
              400, InvalidParameter(Missing("datasets[0].dataset.digest")));
  ExpectError(Post(Api("runs/log-inputs"), {{"run_id", run_id}, {"datasets", {{{"tags", json::array()}}}}}),
              400, InvalidParameter(Missing("datasets[0].dataset")));
  ExpectError(Post(Api("runs/log-inputs"), {{"run_id", "0123456789abcdef0123456789abcdef"}}), 404,
              ErrorBody("RESOURCE_DOES_NOT_EXIST",
                        "Run with id=0123456789abcdef0123456789abcdef not found"));
}

TEST_P(RestApiEndpoints, MetricHistoryBulkInterval) {
  std::string a = NewRun(GetParam(), "e1");
  json b_run = Ok(Api("runs/create"), {{"experiment_id", "1"}, {"start_time", kT0}});
  std::string b = b_run["run"]["info"]["run_id"];
  // Run a: steps 0..99, all 1.0 except a spike of 100 at step 37 and a dip of -100 at step 71.
  json metrics = json::array();
  for (int step = 0; step < 100; ++step) {
    double value = step == 37 ? 100.0 : step == 71 ? -100.0 : 1.0;
    metrics.push_back({{"key", "loss"}, {"value", value}, {"timestamp", kT0 + step}, {"step", step}});
  }
  Ok(Api("runs/log-batch"), {{"run_id", a}, {"metrics", metrics}});
  json b_metrics = json::array();
  b_metrics.push_back({{"key", "loss"}, {"value", 3.0}, {"timestamp", kT0}, {"step", 5}});
  b_metrics.push_back({{"key", "loss"}, {"value", 4.0}, {"timestamp", kT0}, {"step", 50}});
  Ok(Api("runs/log-batch"), {{"run_id", b}, {"metrics", b_metrics}});

  // The MLflow UI's request: run_ids repeated, steps and max_results in the query.
  json sampled = GetOk(Api("metrics/get-history-bulk-interval"), {{"run_ids", a},
                                                                   {"run_ids", b},
                                                                   {"metric_key", "loss"},
                                                                   {"start_step", "0"},
                                                                   {"end_step", "99"},
                                                                   {"max_results", "6"}});
  std::vector<std::pair<std::string, int64_t>> points;
  for (const auto& m : sampled["metrics"]) points.emplace_back(m["run_id"], m["step"]);
  // Two buckets of steps for a: each keeps its min and max; first and last always.
  EXPECT_EQ(points, (std::vector<std::pair<std::string, int64_t>>{
                        {a, 0}, {a, 1}, {a, 37}, {a, 50}, {a, 71}, {a, 99}, {b, 5}, {b, 50}}));
  EXPECT_EQ(sampled["metrics"][2], json({{"key", "loss"}, {"value", 100.0}, {"timestamp", kT0 + 37},
                                         {"step", 37}, {"run_id", a}}));

  // A step range narrows what is read.
  json range = GetOk(Api("metrics/get-history-bulk-interval"),
                     {{"run_ids", b}, {"metric_key", "loss"}, {"start_step", "10"}, {"end_step", "60"}});
  EXPECT_EQ(range, json::parse(fmt::format(
                       R"({{"metrics": [{{"key": "loss", "value": 4.0, "timestamp": {}, "step": 50,
                                          "run_id": "{}"}}]}})",
                       kT0, b)));

  // MLflow's limits and messages.
  // Distinct ids: identical key=value pairs in a query string count once.
  std::multimap<std::string, std::string> too_many{{"metric_key", "loss"}};
  for (int i = 0; i < 101; ++i) too_many.emplace("run_ids", fmt::format("{:032x}", i));
  ExpectError(Get(Api("metrics/get-history-bulk-interval"), too_many), 400,
              InvalidParameter(fmt::format("GetMetricHistoryBulkInterval request must specify at "
                                           "most 100 run_ids. Received 101 run_ids. {}",
                                           kSeeDocs)));
  ExpectError(Get(Api("metrics/get-history-bulk-interval"), {{"metric_key", "loss"}}), 400,
              InvalidParameter(Missing("run_ids")));
  ExpectError(Get(Api("metrics/get-history-bulk-interval"),
                  {{"run_ids", a}, {"metric_key", "loss"}, {"max_results", "2501"}}),
              400, InvalidParameter(fmt::format("max_results must be between 1 and 2500. {}", kSeeDocs)));
  ExpectError(Get(Api("metrics/get-history-bulk-interval"),
                  {{"run_ids", a}, {"metric_key", "loss"}, {"start_step", "3"}}),
              400,
              InvalidParameter("If either start step or end step are specified, both must be "
                               "specified."));
  ExpectError(Get(Api("metrics/get-history-bulk-interval"),
                  {{"run_ids", a}, {"metric_key", "loss"}, {"start_step", "9"}, {"end_step", "3"}}),
              400,
              InvalidParameter(
                  "end_step must be greater than start_step. Found start_step=9 and end_step=3."));
}

// --- artifacts ----------------------------------------------------------------------------------

TEST_P(RestApiEndpoints, ListArtifactsOfAProxiedRun) {
  std::string run_id = NewRun(GetParam());
  std::string root = fmt::format("1/{}/artifacts", run_id);
  // As MLflow's client uploads them: PUT to the proxy under the run's mlflow-artifacts path.
  for (const auto& [path, text] : std::vector<std::pair<std::string, std::string>>{
           {"model/MLmodel", "flavors: {}\n"}, {"notes.txt", "hello"}}) {
    auto result = client_->Send("PUT", "/api/2.0/mlflow-artifacts/artifacts/" + root + "/" + path,
                                text, "application/octet-stream", false);
    ASSERT_EQ(result.status, 200) << result.body;
  }
  std::string root_uri = "mlflow-artifacts:/" + root;
  EXPECT_EQ(GetOk(Api("artifacts/list"), {{"run_id", run_id}}),
            json({{"root_uri", root_uri},
                  {"files",
                   {{{"path", "model"}, {"is_dir", true}},
                    {{"path", "notes.txt"}, {"is_dir", false}, {"file_size", 5}}}}}));
  EXPECT_EQ(GetOk(Api("artifacts/list"), {{"run_uuid", run_id}, {"path", "model"}}),
            json({{"root_uri", root_uri},
                  {"files", {{{"path", "model/MLmodel"}, {"is_dir", false}, {"file_size", 12}}}}}));
  EXPECT_EQ(GetOk(Api("artifacts/list"), {{"run_id", run_id}, {"path", "nothing/here"}}),
            json({{"root_uri", root_uri}}));
  ExpectError(Get(Api("artifacts/list"), {{"run_id", run_id}, {"path", "../../etc"}}), 400,
              InvalidParameter("Invalid artifact path '../../etc': it escapes its root folder"));
  ExpectError(Get(Api("artifacts/list"), {{"run_id", run_id}, {"path", "/etc"}}), 400,
              InvalidParameter("Invalid artifact path '/etc': it must be a relative path"));
}

TEST_F(RestApi, ListArtifactsOfALocalRun) {
  fs::path local = dir_ / "local-artifacts";
  WriteFile(local / "0" / "a.txt", "abc");
  Ok("/api/2.0/mlflow/experiments/create",
     {{"name", "local"}, {"artifact_location", "file://" + local.string()}});
  json run = Ok("/api/2.0/mlflow/runs/create", {{"experiment_id", "1"}, {"start_time", kT0}});
  std::string run_id = run["run"]["info"]["run_id"];
  std::string root_uri = run["run"]["info"]["artifact_uri"];
  EXPECT_EQ(root_uri, fmt::format("file://{}/{}/artifacts", local.string(), run_id));
  WriteFile(local / run_id / "artifacts" / "x.bin", "12345678");
  EXPECT_EQ(GetOk("/api/2.0/mlflow/artifacts/list", {{"run_id", run_id}}),
            json({{"root_uri", root_uri},
                  {"files", {{{"path", "x.bin"}, {"is_dir", false}, {"file_size", 8}}}}}));
  ExpectError(Post("/api/2.0/mlflow/experiments/create",
                   {{"name", "bad"}, {"artifact_location", "runs:/abc/model"}}),
              400, InvalidParameter("Artifact location cannot be a runs:/ URI."));
}

TEST_F(RestApi, ArtifactProxyUploadListDownloadDelete) {
  std::string bytes;
  for (int i = 0; i < 300000; ++i) bytes.push_back(static_cast<char>(i * 7 + i / 13));
  fs::path source = dir_ / "source.bin";
  WriteFile(source, bytes);
  auto put = client_->PutFile("/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/data/blob.bin",
                              source);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(json::parse(put.body), json::object());
  EXPECT_EQ(ReadFile(destination() / "1/run/artifacts/data/blob.bin"), bytes);
  auto text = client_->Send("PUT", "/ajax-api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/MLmodel",
                            "flavors: {}\n", "text/plain", false);
  ASSERT_EQ(text.status, 200) << text.body;

  EXPECT_EQ(GetOk("/api/2.0/mlflow-artifacts/artifacts", {{"path", "1/run/artifacts"}}),
            json({{"files",
                   {{{"path", "MLmodel"}, {"is_dir", false}, {"file_size", 12}},
                    {{"path", "data"}, {"is_dir", true}}}}}));
  EXPECT_EQ(GetOk("/ajax-api/2.0/mlflow-artifacts/artifacts", {{"path", "1/run/artifacts/data"}}),
            json({{"files", {{{"path", "blob.bin"}, {"is_dir", false}, {"file_size", 300000}}}}}));
  EXPECT_EQ(GetOk("/api/2.0/mlflow-artifacts/artifacts", {{"path", "missing"}}), json::object());

  fs::path downloaded = dir_ / "downloaded.bin";
  auto got = client_->GetToFile("/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/data/blob.bin",
                                downloaded);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(ReadFile(downloaded), bytes);
  EXPECT_EQ(got.content_type, "application/octet-stream");
  Reply mlmodel = Get("/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/MLmodel");
  EXPECT_EQ(mlmodel.status, 200);
  EXPECT_EQ(mlmodel.raw, "flavors: {}\n");
  EXPECT_THAT(mlmodel.content_type, StartsWith("text/plain"));

  // An empty file goes both ways too.
  ASSERT_EQ(client_->Send("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/empty.txt",
                          "", "text/plain", false)
                .status,
            200);
  Reply empty = Get("/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/empty.txt");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.raw, "");

  // The headers MLflow sends with a download.
  RawConnection raw(server_.port());
  raw.Send("GET /api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/data/blob.bin HTTP/1.1\r\n"
           "Host: localhost\r\nConnection: close\r\n\r\n");
  std::string response = raw.ReadAll();
  std::string head = response.substr(0, response.find("\r\n\r\n"));
  EXPECT_THAT(head, HasSubstr("Content-Length: 300000"));
  EXPECT_THAT(head, HasSubstr("Content-Disposition: attachment; filename=blob.bin"));
  EXPECT_THAT(head, HasSubstr("X-Content-Type-Options: nosniff"));
  EXPECT_EQ(response.substr(response.find("\r\n\r\n") + 4), bytes);

  auto removed = client_->Send("DELETE", "/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/data",
                               "", "", true);
  EXPECT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(json::parse(removed.body), json::object());
  EXPECT_FALSE(fs::exists(destination() / "1/run/artifacts/data"));
  ExpectError(Get("/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/data/blob.bin"), 404,
              ErrorBody("RESOURCE_DOES_NOT_EXIST",
                        "Artifact '1/run/artifacts/data/blob.bin' does not exist"));
  // Deleting what is not there is not an error (MLflow's local repository does the same).
  EXPECT_EQ(client_->Send("DELETE", "/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/data",
                          "", "", true)
                .status,
            200);
  ExpectError(Get("/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts"), 400,
              InvalidParameter("Artifact '1/run/artifacts' is a folder: list it with GET "
                               "/api/2.0/mlflow-artifacts/artifacts?path=1/run/artifacts"));
}

TEST_F(RestApi, ArtifactProxyRefusesPathsThatEscape) {
  fs::path outside = dir_ / "outside";
  WriteFile(outside / "secret.txt", "secret");
  fs::create_directories(destination());
  fs::create_directory_symlink(outside, destination() / "link");

  // %2E%2E is "..", which the server decodes; sent raw, since client libraries may normalise.
  int port = server_.port();
  ExpectError(RawRequest(port, "PUT", "/api/2.0/mlflow-artifacts/artifacts/a/%2E%2E/%2E%2E/x",
                         "data"),
              400, InvalidParameter("Invalid artifact path 'a/../../x': it escapes its root folder"));
  ExpectError(RawRequest(port, "GET", "/api/2.0/mlflow-artifacts/artifacts/../outside/secret.txt"),
              400,
              InvalidParameter("Invalid artifact path '../outside/secret.txt': it escapes its "
                               "root folder"));
  ExpectError(RawRequest(port, "DELETE", "/ajax-api/2.0/mlflow-artifacts/artifacts/%2e%2e/outside"),
              400, InvalidParameter("Invalid artifact path '../outside': it escapes its root folder"));
  ExpectError(RawRequest(port, "GET", "/api/2.0/mlflow-artifacts/artifacts//etc/passwd"), 400,
              InvalidParameter("Invalid artifact path '/etc/passwd': it must be a relative path"));
  ExpectError(Get("/api/2.0/mlflow-artifacts/artifacts/link/secret.txt"), 400,
              InvalidParameter("Invalid artifact path 'link/secret.txt': it escapes its root "
                               "folder through the symbolic link 'link'"));
  ExpectError(ToReply(client_->Send("PUT", "/api/2.0/mlflow-artifacts/artifacts/link/new.txt",
                                    "data", "application/octet-stream", false)),
              400,
              InvalidParameter("Invalid artifact path 'link/new.txt': it escapes its root folder "
                               "through the symbolic link 'link'"));
  ExpectError(ToReply(client_->Send("DELETE", "/api/2.0/mlflow-artifacts/artifacts/link/secret.txt",
                                    "", "", true)),
              400,
              InvalidParameter("Invalid artifact path 'link/secret.txt': it escapes its root "
                               "folder through the symbolic link 'link'"));
  ExpectError(Get("/api/2.0/mlflow-artifacts/artifacts", {{"path", "../outside"}}), 400,
              InvalidParameter("Invalid artifact path '../outside': it escapes its root folder"));
  EXPECT_FALSE(fs::exists(outside / "new.txt"));
  EXPECT_FALSE(fs::exists(dir_ / "x"));
  EXPECT_EQ(ReadFile(outside / "secret.txt"), "secret");
  ExpectServing();
}

TEST_F(RestApi, OversizeUploadIsRefusedAndLeavesNothing) {
  std::string bytes(kMaxArtifactBytes + 1, 'x');
  Reply reply = ToReply(client_->Send("PUT", "/api/2.0/mlflow-artifacts/artifacts/big/file.bin",
                                      bytes, "application/octet-stream", false));
  ExpectError(reply, 413,
              ErrorBody("RESOURCE_LIMIT_EXCEEDED",
                        "Request body of 1048577 bytes exceeds the limit of 1048576 bytes"));
  EXPECT_FALSE(fs::exists(destination() / "big"));
  ExpectServing();
}

// Without a Content-Length the limit is found while streaming: the same 413, nothing kept.
TEST_F(RestApi, OversizeChunkedUploadIsRefusedAndLeavesNothing) {
  RawConnection raw(server_.port());
  std::string request =
      "PUT /api/2.0/mlflow-artifacts/artifacts/chunked/big.bin HTTP/1.1\r\nHost: localhost\r\n"
      "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string chunk(64 * 1024, 'z');
  for (int i = 0; i < 17; ++i) request += fmt::format("{:x}\r\n{}\r\n", chunk.size(), chunk);
  request += "0\r\n\r\n";
  raw.Send(request);
  std::string response = raw.ReadAll();
  EXPECT_THAT(response, StartsWith("HTTP/1.1 413 "));
  EXPECT_THAT(response, HasSubstr(R"({"error_code":"RESOURCE_LIMIT_EXCEEDED","message":"Request )"
                                  R"(body of 1114112 bytes exceeds the limit of 1048576 bytes"})"));
  EXPECT_FALSE(fs::exists(destination() / "chunked"));
  ExpectServing();
}

// A client that dies mid-upload: the server sees a Content-Length larger than what arrives.
TEST_F(RestApi, BrokenUploadLeavesNothingBehind) {
  fs::path folder = destination() / "broken" / "deep";
  {
    RawConnection raw(server_.port());
    raw.Send("PUT /api/2.0/mlflow-artifacts/artifacts/broken/deep/file.bin HTTP/1.1\r\n"
             "Host: localhost\r\nContent-Type: application/octet-stream\r\n"
             "Content-Length: 100000\r\n\r\n" +
             std::string(1000, 'y'));
    // Wait until the upload is under way (its temporary file exists), then hang up.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool streaming = false;
    while (!streaming && std::chrono::steady_clock::now() < deadline) {
      std::error_code ec;
      if (fs::is_directory(folder, ec)) {
        for (const auto& entry : fs::directory_iterator(folder, ec)) {
          streaming = streaming || entry.path().filename().string().starts_with(".mlt-tmp-");
        }
      }
      if (!streaming) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(streaming) << "the upload never started";
  }
  // The handler notices the closed connection, removes its temporary file and its folders.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (fs::exists(destination() / "broken") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(fs::exists(destination() / "broken"));
  ExpectServing();
}

// --- errors -------------------------------------------------------------------------------------

TEST_P(RestApiEndpoints, MalformedJsonNamesThePosition) {
  ExpectError(PostRaw(Api("experiments/create"), R"({"name": "x",})"), 400,
              InvalidParameter("Malformed JSON in request body: parse error at line 1, column 14: "
                               "syntax error while parsing object key - unexpected '}'; expected "
                               "string literal"));
  ExpectError(PostRaw(Api("runs/log-batch"), "[1, 2]"), 400,
              InvalidParameter("Malformed JSON in request body: expected an object, got array"));
  // An old client's double-encoded body is decoded once more, as MLflow does.
  Reply reply = PostRaw(Api("experiments/create"), json(json{{"name", "twice"}}.dump()).dump());
  EXPECT_EQ(reply.status, 200) << reply.raw;
  ExpectServing();
}

TEST_P(RestApiEndpoints, ContentTypeMustBeJson) {
  ExpectError(PostRaw(Api("experiments/create"), R"({"name": "x"})", "text/plain"), 400,
              InvalidParameter("Bad Request. Content-Type must be one of ['application/json']."));
  Reply ok = PostRaw(Api("experiments/create"), R"({"name": "x"})",
                     "application/json; charset=utf-8");
  EXPECT_EQ(ok.status, 200) << ok.raw;
}

TEST_P(RestApiEndpoints, MissingRequiredFields) {
  ExpectError(Post(Api("experiments/create"), json::object()), 400, InvalidParameter(Missing("name")));
  ExpectError(Post(Api("experiments/create"), {{"name", ""}}), 400, InvalidParameter(Missing("name")));
  ExpectError(Get(Api("experiments/get"), {{"unrelated", "1"}}), 400,
              InvalidParameter(Missing("experiment_id")));
  ExpectError(Get(Api("experiments/get-by-name")), 400,
              InvalidParameter(Missing("experiment_name")));
  ExpectError(Post(Api("experiments/update"), {{"experiment_id", "0"}}), 400,
              InvalidParameter(Missing("new_name")));
  ExpectError(Post(Api("runs/update"), {{"status", "FINISHED"}}), 400,
              InvalidParameter(Missing("run_id")));
  ExpectError(Post(Api("runs/log-metric"), {{"run_id", "r"}, {"key", "k"}, {"value", 1}}), 400,
              InvalidParameter(Missing("timestamp")));
  ExpectError(Post(Api("runs/log-metric"), {{"run_id", "r"}, {"key", "k"}, {"timestamp", 1}}), 400,
              InvalidParameter(Missing("value")));
  ExpectError(Post(Api("runs/log-batch"),
                   {{"run_id", "r"}, {"metrics", {{{"key", "k"}, {"value", 1.0}}}}}),
              400, InvalidParameter(Missing("metrics[0].timestamp")));
  ExpectError(Post(Api("runs/log-batch"), {{"run_id", "r"}, {"params", {{{"value", "v"}}}}}), 400,
              InvalidParameter(Missing("params[0].key")));
  ExpectError(Get(Api("metrics/get-history"), {{"run_id", "r"}}), 400,
              InvalidParameter(Missing("metric_key")));
  ExpectError(Get(Api("artifacts/list"), {{"path", "x"}}), 400, InvalidParameter(Missing("run_id")));
  ExpectError(Post(Api("runs/delete-tag"), {{"run_id", "r"}}), 400, InvalidParameter(Missing("key")));
  ExpectServing();
}

TEST_P(RestApiEndpoints, WrongJsonTypes) {
  ExpectError(Post(Api("experiments/create"), {{"name", 5}}), 400,
              InvalidParameter(WrongType("5", "name", "int")));
  ExpectError(Post(Api("experiments/create"), {{"name", "x"}, {"tags", "k=v"}}), 400,
              InvalidParameter(WrongType(R"("k=v")", "tags", "str")));
  ExpectError(Post(Api("runs/create"), {{"experiment_id", "0"}, {"start_time", "soon"}}), 400,
              InvalidParameter(WrongType(R"("soon")", "start_time", "str")));
  ExpectError(Post(Api("runs/log-metric"),
                   {{"run_id", "r"}, {"key", "k"}, {"value", {1, 2}}, {"timestamp", 1}}),
              400, InvalidParameter(WrongType("[1,2]", "value", "list")));
  ExpectError(Post(Api("runs/log-batch"),
                   {{"run_id", "r"},
                    {"metrics", {{{"key", "k"}, {"value", true}, {"timestamp", 1}}}}}),
              400, InvalidParameter(WrongType("true", "metrics[0].value", "bool")));
  ExpectError(Post(Api("runs/search"), {{"experiment_ids", "0"}}), 400,
              InvalidParameter(WrongType(R"("0")", "experiment_ids", "str")));
  ExpectError(Post(Api("runs/search"), {{"experiment_ids", {"0"}}, {"order_by", {1}}}), 400,
              InvalidParameter(fmt::format("Invalid value [1] for parameter 'order_by' supplied: "
                                           "Every item must be a string. {}",
                                           kSeeDocs)));
  ExpectError(Get(Api("experiments/search"), {{"max_results", "ten"}}), 400,
              InvalidParameter(WrongType(R"("ten")", "max_results", "str")));
  ExpectError(Post(Api("runs/update"), {{"run_id", "r"}, {"end_time", 1.5}}), 400,
              InvalidParameter(WrongType("1.5", "end_time", "float")));
  ExpectServing();
}

TEST_P(RestApiEndpoints, UnknownEnumNamesAndOutOfRangeNumbers) {
  ExpectError(Post(Api("runs/search"), {{"experiment_ids", {"0"}}, {"run_view_type", "SOMETIMES"}}),
              400,
              InvalidParameter(fmt::format("Invalid value \"SOMETIMES\" for parameter "
                                           "'run_view_type' supplied: It must be one of "
                                           "ACTIVE_ONLY, DELETED_ONLY, ALL. {}",
                                           kSeeDocs)));
  ExpectError(Get(Api("experiments/search"), {{"view_type", "EVERYTHING"}}), 400,
              InvalidParameter(fmt::format("Invalid value \"EVERYTHING\" for parameter "
                                           "'view_type' supplied: It must be one of ACTIVE_ONLY, "
                                           "DELETED_ONLY, ALL. {}",
                                           kSeeDocs)));
  std::string run_id = NewRun(GetParam());
  ExpectError(Post(Api("runs/update"), {{"run_id", run_id}, {"status", "DONE"}}), 400,
              InvalidParameter(fmt::format("Invalid value \"DONE\" for parameter 'status' "
                                           "supplied: It must be one of RUNNING, SCHEDULED, "
                                           "FINISHED, FAILED, KILLED. {}",
                                           kSeeDocs)));
  // Enum numbers, as protobuf's JSON parser takes them.
  EXPECT_EQ(Ok(Api("runs/update"), {{"run_id", run_id}, {"status", 5}})["run_info"]["status"],
            "KILLED");

  ExpectError(Post(Api("runs/search"), {{"experiment_ids", {"0"}}, {"max_results", 50001}}), 400,
              InvalidParameter("Invalid value 50001 for parameter 'max_results' supplied. It must "
                               "be between 1 and 50000"));
  ExpectError(Post(Api("experiments/search"), {{"max_results", 99999999999}}), 400,
              InvalidParameter("Invalid value 99999999999 for parameter 'max_results' supplied. "
                               "It must be between 1 and 50000"));
  ExpectError(Get(Api("metrics/get-history"),
                  {{"run_id", run_id}, {"metric_key", "k"}, {"max_results", "25001"}}),
              400,
              InvalidParameter("Invalid value 25001 for parameter 'max_results' supplied. It must "
                               "be between 1 and 25000"));
  ExpectError(Get(Api("metrics/get-history-bulk-interval"),
                  {{"run_ids", run_id}, {"metric_key", "k"}, {"start_step", "0"},
                   {"end_step", "9999999999"}}),
              400,
              InvalidParameter(fmt::format("Invalid value \"9999999999\" for parameter 'end_step' "
                                           "supplied: It is out of range for a 32-bit integer. {}",
                                           kSeeDocs)));
  ExpectError(Post(Api("runs/log-metric"), {{"run_id", run_id},
                                            {"key", "k"},
                                            {"value", 1},
                                            {"timestamp", 1},
                                            {"step", 1e300}}),
              400, InvalidParameter(WrongType("1e+300", "step", "float")));
  ExpectServing();
}

TEST_P(RestApiEndpoints, FilterThatDoesNotParse) {
  ExpectError(Post(Api("runs/search"), {{"experiment_ids", {"0"}}, {"filter", "metrics.rmse <"}}),
              400,
              InvalidParameter("Invalid filter 'metrics.rmse <': expected a number for metric "
                               "'rmse' after '<', found end of input at position 15"));
  ExpectError(Get(Api("experiments/search"), {{"filter", "name = = 'x'"}}), 400,
              InvalidParameter("Invalid filter 'name = = 'x'': expected a quoted string for "
                               "attribute 'name' after '=', found '=' at position 8"));
  ExpectError(Post(Api("runs/search"),
                   {{"experiment_ids", {"0"}}, {"order_by", {"metrics.rmse SIDEWAYS"}}}),
              400,
              InvalidParameter("Invalid order_by clause 'metrics.rmse SIDEWAYS': expected ASC, "
                               "DESC or end of clause after 'metrics.rmse', found 'SIDEWAYS' at "
                               "position 14"));
  ExpectServing();
}

TEST_P(RestApiEndpoints, StoreErrorsKeepTheirCodes) {
  ExpectError(Get(Api("runs/get"), {{"run_id", "0123456789abcdef0123456789abcdef"}}), 404,
              ErrorBody("RESOURCE_DOES_NOT_EXIST",
                        "Run with id=0123456789abcdef0123456789abcdef not found"));
  ExpectError(Get(Api("experiments/get-by-name"), {{"experiment_name", "nope"}}), 404,
              ErrorBody("RESOURCE_DOES_NOT_EXIST", "Could not find experiment with name 'nope'"));
  Ok(Api("experiments/create"), {{"name", "dup"}});
  ExpectError(Post(Api("experiments/create"), {{"name", "dup"}}), 400,
              ErrorBody("RESOURCE_ALREADY_EXISTS", "Experiment(name=dup) already exists."));
  std::string run_id = NewRun(GetParam());
  Ok(Api("runs/log-parameter"), {{"run_id", run_id}, {"key", "lr"}, {"value", "0.1"}});
  ExpectError(Post(Api("runs/log-parameter"), {{"run_id", run_id}, {"key", "lr"}, {"value", "0.2"}}),
              400,
              InvalidParameter(fmt::format(
                  "Changing param values is not allowed. Param with key='lr' was already logged "
                  "with value='0.1' for run ID='{}'. Attempted logging new value '0.2'.",
                  run_id)));
  ExpectServing();
}

TEST_F(RestApi, OversizeLogBatchIsRefused) {
  std::string run_id = NewRun("/api/2.0/mlflow/");
  json params = json::array();
  json tags = json::array();
  for (int i = 0; i < 100; ++i) {
    params.push_back({{"key", fmt::format("p{}", i)}, {"value", std::string(5990, 'v')}});
    tags.push_back({{"key", fmt::format("t{}", i)}, {"value", std::string(5000, 't')}});
  }
  json body = {{"run_id", run_id}, {"params", params}, {"tags", tags}};
  ASSERT_GT(body.dump().size(), size_t{1} << 20);
  ExpectError(Post("/api/2.0/mlflow/runs/log-batch", body), 400,
              InvalidParameter(fmt::format("Request body of {} bytes exceeds the limit of 1048576 "
                                           "bytes",
                                           body.dump().size())));
  EXPECT_FALSE(GetOk("/api/2.0/mlflow/runs/get", {{"run_id", run_id}})["run"]["data"].contains("params"));
  ExpectServing();
}

TEST_F(RestApi, UnknownEndpointIsNotFound) {
  Reply reply = Get("/api/2.0/mlflow/runs/frobnicate");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body.value("error_code", ""), "ENDPOINT_NOT_FOUND");
  // delete-experiment-tag is a POST in MLflow, not a DELETE: a known path with another method.
  Reply wrong_method = ToReply(client_->Send("DELETE",
                                             "/api/2.0/mlflow/experiments/delete-experiment-tag",
                                             R"({"experiment_id": "0", "key": "k"})",
                                             "application/json", false));
  EXPECT_EQ(wrong_method.status, 405) << wrong_method.raw;
}

// --- mlt server ---------------------------------------------------------------------------------

// Runs `mlt <command> --port 0 ...` in the background, reads the line it prints, checks that the
// server answers, stops it with SIGTERM and checks that it exits 0 having printed nothing else.
void ExpectServesUntilSigterm(const std::string& command) {
  TempDir dir;
  std::vector<std::string> args = {MLT_BINARY, command, "--port", "0", "--backend-store-uri",
                                   "sqlite:///" + (dir.path() / "mlruns.db").string(),
                                   "--artifacts-destination", (dir.path() / "art").string()};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, MLT_BINARY, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);

  std::string printed;
  char c;
  while (printed.find('\n') == std::string::npos && ::read(out[0], &c, 1) == 1) printed += c;
  std::smatch match;
  ASSERT_TRUE(std::regex_match(printed, match,
                               std::regex(fmt::format("mlt {} listening on http://127\\.0\\.0\\.1:"
                                                      "(\\d+)\n",
                                                      command))))
      << printed;
  int port = std::stoi(match[1]);
  EXPECT_GT(port, 0);
  http::Client client(fmt::format("http://127.0.0.1:{}", port));
  auto health = client.Get("/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "OK");
  auto created = client.Send("POST", "/api/2.0/mlflow/experiments/create", R"({"name": "e"})",
                             "application/json", false);
  EXPECT_EQ(created.body, R"({"experiment_id":"1"})");

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::string rest;
  char buffer[256];
  for (ssize_t got; (got = ::read(out[0], buffer, sizeof buffer)) > 0;) rest.append(buffer, got);
  ::close(out[0]);
  // `mlt ui` also says where to point a browser; nothing else is printed.
  EXPECT_EQ(rest, command == "ui"
                      ? fmt::format("Open http://127.0.0.1:{}/ in a browser\n", port)
                      : "");
}

TEST(MltServer, ServesUntilSigtermAndExitsZero) { ExpectServesUntilSigterm("server"); }

TEST(MltServer, UiServesTheSameApi) { ExpectServesUntilSigterm("ui"); }

TEST(MltServer, RefusesANonSqliteBackend) {
  TempDir dir;
  auto result = testing::RunMlt(
      {"server", "--port", "0", "--backend-store-uri", "http://localhost:5000"},
      {.cwd = dir.path()});
  EXPECT_TRUE(fs::is_empty(dir.path()));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, "mlt: error: Invalid backend store URI 'http://localhost:5000': the "
                        "tracking server stores runs in SQLite; use sqlite:///<path>\n");
}

// --- downsampling -------------------------------------------------------------------------------

std::vector<Metric> Series(const std::vector<double>& values) {
  std::vector<Metric> points;
  for (size_t i = 0; i < values.size(); ++i) {
    points.push_back({"m", values[i], kT0 + static_cast<int64_t>(i), static_cast<int64_t>(i)});
  }
  return points;
}

std::vector<int64_t> Steps(const std::vector<Metric>& points) {
  std::vector<int64_t> steps;
  for (const auto& p : points) steps.push_back(p.step);
  return steps;
}

TEST(DownsampleMetricHistory, KeepsEverythingThatFits) {
  auto points = Series({3, 1, 2});
  EXPECT_EQ(Steps(tracking::DownsampleMetricHistory(points, 3)), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(Steps(tracking::DownsampleMetricHistory(points, 100)), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_TRUE(tracking::DownsampleMetricHistory({}, 10).empty());
}

TEST(DownsampleMetricHistory, TinyBudgets) {
  auto points = Series({3, 1, 2, 5});
  EXPECT_EQ(Steps(tracking::DownsampleMetricHistory(points, 1)), (std::vector<int64_t>{3}));
  EXPECT_EQ(Steps(tracking::DownsampleMetricHistory(points, 2)), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(Steps(tracking::DownsampleMetricHistory(points, 3)), (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(tracking::DownsampleMetricHistory(points, 0).empty());
}

TEST(DownsampleMetricHistory, KeepsEachBucketsMinimumAndMaximum) {
  // 6 points: first, last, and two buckets (steps 1-4 and 5-8) of min and max each.
  auto points = Series({5, 1, 9, 2, 8, 3, 7, 4, 6, 0});
  EXPECT_EQ(Steps(tracking::DownsampleMetricHistory(points, 6)),
            (std::vector<int64_t>{0, 1, 2, 5, 6, 9}));
}

TEST(DownsampleMetricHistory, SpikesSurvive) {
  std::vector<double> values;
  for (int i = 0; i < 100000; ++i) values.push_back(std::sin(i / 100.0));
  values[43210] = 1e6;
  values[777] = -1e6;
  values[99998] = std::numeric_limits<double>::infinity();
  auto sampled = tracking::DownsampleMetricHistory(Series(values), 100);
  EXPECT_LE(sampled.size(), 100u);
  EXPECT_GE(sampled.size(), 90u);
  auto steps = Steps(sampled);
  EXPECT_TRUE(std::is_sorted(steps.begin(), steps.end()));
  EXPECT_EQ(steps.front(), 0);
  EXPECT_EQ(steps.back(), 99999);
  for (int64_t spike : {777, 43210, 99998}) {
    EXPECT_NE(std::find(steps.begin(), steps.end(), spike), steps.end()) << spike;
  }
}

TEST(DownsampleMetricHistory, NanIsKeptOnlyWhenABucketHasNothingElse) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Buckets of steps 1-4 (NaN beside numbers) and 5-8 (only NaN).
  auto points = Series({0, nan, 5, 1, nan, nan, nan, nan, nan, 0});
  EXPECT_EQ(Steps(tracking::DownsampleMetricHistory(points, 6)),
            (std::vector<int64_t>{0, 2, 3, 5, 9}));
}

TEST(DownsampleMetricHistory, ManyValuesAtOneStepAndHugeStepRanges) {
  std::vector<Metric> same_step;
  for (int i = 0; i < 50; ++i) same_step.push_back({"m", static_cast<double>(i % 7), kT0 + i, 4});
  EXPECT_LE(tracking::DownsampleMetricHistory(same_step, 10).size(), 10u);

  std::vector<Metric> wide = {{"m", 0, kT0, std::numeric_limits<int64_t>::min()},
                              {"m", 5, kT0, -1},
                              {"m", -5, kT0, 1},
                              {"m", 1, kT0, 2},
                              {"m", 0, kT0, std::numeric_limits<int64_t>::max()}};
  auto sampled = tracking::DownsampleMetricHistory(wide, 4);  // one bucket: min -5, max 5
  EXPECT_EQ(Steps(sampled), (std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -1, 1,
                                                  std::numeric_limits<int64_t>::max()}));
}

TEST(GuessMimeType, FollowsMlflow) {
  EXPECT_EQ(server::GuessMimeType("MLmodel"), "text/plain");
  EXPECT_EQ(server::GuessMimeType("conda.yaml"), "text/plain");
  EXPECT_EQ(server::GuessMimeType("metrics.json"), "text/plain");
  EXPECT_EQ(server::GuessMimeType("plot.png"), "image/png");
  EXPECT_EQ(server::GuessMimeType("model.pkl"), "application/octet-stream");
  EXPECT_EQ(server::GuessMimeType(".hidden"), "application/octet-stream");
}

}  // namespace
}  // namespace mltrack
