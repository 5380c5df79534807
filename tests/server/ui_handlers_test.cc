// The web app's server routes (server/ui_handlers.h): a TrackingServer in-process on an ephemeral
// loopback port over a fresh SQLite database and artifact folder, filled through MLflow's REST
// API (and, for artifacts, by writing files where the runs' artifact URIs point), then asked the
// way the app asks. Answers are compared exactly: bytes, headers, JSON, and error codes with
// their messages.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/http_server.h"
#include "registry/sqlite_registry_store.h"
#include "server/tracking_server.h"
#include "server/ui_handlers.h"
#include "support/test_support.h"
#include "tracking/sqlite_tracking_store.h"

namespace mltrack {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

constexpr int64_t kT0 = 1700000000000;  // 2023-11-14T22:13:20.000Z
constexpr const char* kSeeDocs = "See the API docs for more information about request parameters.";
constexpr const char* kApi = "/api/2.0/mlflow/";
constexpr const char* kUi = "/ajax-api/2.0/mltrack/";

std::string Missing(const std::string& field) {
  return fmt::format("Missing value for required parameter '{}'. {}", field, kSeeDocs);
}

json ErrorBody(const std::string& code, const std::string& message) {
  return {{"error_code", code}, {"message", message}};
}
json Invalid(const std::string& message) { return ErrorBody("INVALID_PARAMETER_VALUE", message); }
json NotFound(const std::string& message) { return ErrorBody("RESOURCE_DOES_NOT_EXIST", message); }

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked
  json json_body;                              // null when the body is not JSON

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// The body of a chunked response, reassembled.
std::string Dechunk(const std::string& raw) {
  std::string body;
  size_t at = 0;
  for (;;) {
    size_t line_end = raw.find("\r\n", at);
    if (line_end == std::string::npos) return body;
    size_t size = std::stoul(raw.substr(at, line_end - at), nullptr, 16);
    if (size == 0) return body;
    body += raw.substr(line_end + 2, size);
    at = line_end + 2 + size + 2;
  }
}

// One GET on a fresh connection (`target` sent as it is), with the headers of the answer.
Reply RawGet(int port, const std::string& target) {
  int fd = testing::ConnectLoopback(port);
  if (fd < 0) throw std::runtime_error("connect failed");
  std::string request = fmt::format(
      "GET {} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", target);
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    throw std::runtime_error("send failed");
  }
  std::string response = testing::ReadUntilClosed(fd, std::chrono::seconds(60));
  ::close(fd);
  Reply reply;
  size_t head_end = response.find("\r\n\r\n");
  if (response.size() < 12 || head_end == std::string::npos) return reply;
  reply.status = std::stoi(response.substr(9, 3));
  size_t line = response.find("\r\n") + 2;
  while (line < head_end) {
    size_t end = response.find("\r\n", line);
    std::string header = response.substr(line, end - line);
    size_t colon = header.find(':');
    std::string name = header.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t value = header.find_first_not_of(' ', colon + 1);
    reply.headers[name] = value == std::string::npos ? "" : header.substr(value);
    line = end + 2;
  }
  reply.body = response.substr(head_end + 4);
  if (reply.Header("transfer-encoding") == "chunked") reply.body = Dechunk(reply.body);
  reply.json_body = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (reply.json_body.is_discarded()) reply.json_body = nullptr;
  return reply;
}

class UiHandlers : public ::testing::Test {
 protected:
  UiHandlers() : server_(Options()) {
    server_.Start();
    client_ = std::make_unique<http::Client>(server_.url(), http::ClientOptions{.max_attempts = 1});
  }

  server::TrackingServerOptions Options() const {
    server::TrackingServerOptions options;
    options.backend_store_uri = "sqlite:///" + (dir_ / "mlruns.db").string();
    options.artifacts_destination = destination().string();
    options.port = 0;
    options.workers = 4;
    return options;
  }

  fs::path destination() const { return dir_ / "mlartifacts"; }

  Reply Get(const std::string& path, const std::multimap<std::string, std::string>& query = {}) {
    return RawGet(server_.port(), path + http::QueryString(query));
  }
  Reply Post(const std::string& path, const std::string& body,
             const std::string& content_type = "application/json") {
    http::Result result = client_->Send("POST", path, body, content_type, false);
    Reply reply{result.status, {{"content-type", result.content_type}}, result.body, nullptr};
    reply.json_body = json::parse(result.body, nullptr, false);
    if (reply.json_body.is_discarded()) reply.json_body = nullptr;
    return reply;
  }
  // An MLflow API call that must succeed.
  json Ok(const std::string& path, const json& body) {
    Reply reply = Post(kApi + path, body.dump());
    EXPECT_EQ(reply.status, 200) << path << " " << reply.body;
    return reply.json_body;
  }

  void ExpectError(const Reply& reply, int status, const json& body) {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(reply.Header("content-type"), "application/json");
    EXPECT_EQ(reply.json_body, body);
  }

  std::string NewExperiment(const std::string& name, const std::string& artifact_location = "") {
    json body = {{"name", name}};
    if (!artifact_location.empty()) body["artifact_location"] = artifact_location;
    return Ok("experiments/create", body)["experiment_id"].get<std::string>();
  }

  struct RunSpec {
    std::string name;
    int64_t start = kT0;
    std::optional<int64_t> end;  // set: the run is FINISHED at that time
    std::string user;
    std::vector<std::pair<std::string, std::string>> params;
    std::vector<std::pair<std::string, json>> metrics;  // a number, or "NaN", "-Infinity"
    std::vector<std::pair<std::string, std::string>> tags;
  };

  // Creates and logs a run as MLflow's client does; returns its id.
  std::string NewRun(const std::string& experiment_id, const RunSpec& spec) {
    json run = Ok("runs/create", {{"experiment_id", experiment_id},
                                  {"run_name", spec.name},
                                  {"start_time", spec.start},
                                  {"user_id", spec.user}});
    std::string id = run["run"]["info"]["run_id"];
    json params = json::array();
    json metrics = json::array();
    json tags = json::array();
    for (const auto& [key, value] : spec.params) params.push_back({{"key", key}, {"value", value}});
    for (const auto& [key, value] : spec.metrics) {
      metrics.push_back({{"key", key}, {"value", value}, {"timestamp", spec.start}, {"step", 0}});
    }
    for (const auto& [key, value] : spec.tags) tags.push_back({{"key", key}, {"value", value}});
    Ok("runs/log-batch", {{"run_id", id}, {"params", params}, {"metrics", metrics},
                          {"tags", tags}});
    if (spec.end) {
      Ok("runs/update", {{"run_id", id}, {"status", "FINISHED"}, {"end_time", *spec.end}});
    }
    return id;
  }

  // The local folder of a run's artifacts, wherever its artifact URI points.
  fs::path ArtifactFolder(const std::string& run_id) {
    Reply reply = Get(std::string(kApi) + "runs/get", {{"run_id", run_id}});
    std::string uri = reply.json_body["run"]["info"]["artifact_uri"];
    if (uri.starts_with("mlflow-artifacts:/")) {
      return destination() / uri.substr(std::string("mlflow-artifacts:/").size());
    }
    if (uri.starts_with("file://")) return uri.substr(std::string("file://").size());
    return uri;
  }

  TempDir dir_;
  server::TrackingServer server_;
  std::unique_ptr<http::Client> client_;
};

// --- get-artifact -------------------------------------------------------------------------------

TEST_F(UiHandlers, GetArtifactServesAProxiedRunsFilesTypedForTheBrowser) {
  std::string exp = NewExperiment("art");
  std::string run = NewRun(exp, {.name = "r"});
  fs::path root = ArtifactFolder(run);
  EXPECT_THAT(root.string(), StartsWith(destination().string()));
  WriteFile(root / "notes.txt", "hello\nworld\n");
  WriteFile(root / "page.html", "<script>alert(1)</script>");
  std::string png("\x89PNG\r\n\x1a\n\0\0", 10);
  WriteFile(root / "plots" / "loss.png", png);
  std::string weights("\0\1\2\3binary", 10);
  WriteFile(root / "model" / "weights.bin", weights);

  for (const char* route : {"/get-artifact", "/ajax-api/2.0/mlflow/get-artifact"}) {
    SCOPED_TRACE(route);
    Reply text = Get(route, {{"run_uuid", run}, {"path", "notes.txt"}});
    EXPECT_EQ(text.status, 200);
    EXPECT_EQ(text.body, "hello\nworld\n");
    EXPECT_EQ(text.Header("content-type"), "text/plain; charset=utf-8");
    EXPECT_EQ(text.Header("content-length"), "12");
    EXPECT_EQ(text.Header("x-content-type-options"), "nosniff");
    EXPECT_EQ(text.Header("content-security-policy"), "sandbox");
    EXPECT_EQ(text.Header("content-disposition"), "");

    // HTML is shown as its source, never rendered in the server's origin.
    Reply html = Get(route, {{"run_uuid", run}, {"path", "page.html"}});
    EXPECT_EQ(html.body, "<script>alert(1)</script>");
    EXPECT_EQ(html.Header("content-type"), "text/plain; charset=utf-8");

    Reply image = Get(route, {{"run_uuid", run}, {"path", "plots/loss.png"}});
    EXPECT_EQ(image.status, 200);
    EXPECT_EQ(image.body, png);
    EXPECT_EQ(image.Header("content-type"), "image/png");
    EXPECT_EQ(image.Header("content-disposition"), "");

    Reply binary = Get(route, {{"run_uuid", run}, {"path", "./model//weights.bin"}});
    EXPECT_EQ(binary.status, 200);
    EXPECT_EQ(binary.body, weights);
    EXPECT_EQ(binary.Header("content-type"), "application/octet-stream");
    EXPECT_EQ(binary.Header("content-disposition"), "attachment; filename=weights.bin");
    EXPECT_EQ(binary.Header("x-content-type-options"), "nosniff");
  }
  // run_id is accepted for run_uuid.
  EXPECT_EQ(Get("/get-artifact", {{"run_id", run}, {"path", "notes.txt"}}).body,
            "hello\nworld\n");
}

TEST_F(UiHandlers, GetArtifactReadsLocalArtifactUris) {
  // Runs logged straight into SQLite by `mlt` have local artifact URIs: file:// or a path.
  std::string file_exp = NewExperiment("file-uri", "file://" + (dir_ / "local").string());
  std::string path_exp = NewExperiment("plain-path", (dir_ / "plain").string());
  std::string file_run = NewRun(file_exp, {.name = "f"});
  std::string path_run = NewRun(path_exp, {.name = "p"});
  fs::path file_root = ArtifactFolder(file_run);
  fs::path path_root = ArtifactFolder(path_run);
  EXPECT_EQ(file_root, dir_ / "local" / file_run / "artifacts");
  EXPECT_EQ(path_root, dir_ / "plain" / path_run / "artifacts");
  WriteFile(file_root / "a.json", R"({"a": 1})");
  WriteFile(path_root / "b" / "c.csv", "x,y\n1,2\n");

  Reply json_file = Get("/get-artifact", {{"run_uuid", file_run}, {"path", "a.json"}});
  EXPECT_EQ(json_file.status, 200);
  EXPECT_EQ(json_file.body, R"({"a": 1})");
  EXPECT_EQ(json_file.Header("content-type"), "text/plain; charset=utf-8");
  Reply csv = Get("/get-artifact", {{"run_uuid", path_run}, {"path", "b/c.csv"}});
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body, "x,y\n1,2\n");
}

TEST_F(UiHandlers, GetArtifactStreamsAFileLargerThanOneChunk) {
  std::string run = NewRun(NewExperiment("big"), {.name = "r"});
  std::string bytes;
  bytes.reserve(3 << 20);
  for (int i = 0; bytes.size() < (3u << 20) + 17; ++i) bytes += fmt::format("{:08x}", i * 7919);
  WriteFile(ArtifactFolder(run) / "big.log", bytes);
  Reply reply = Get("/get-artifact", {{"run_uuid", run}, {"path", "big.log"}});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("content-length"), std::to_string(bytes.size()));
  EXPECT_TRUE(reply.body == bytes) << "got " << reply.body.size() << " bytes";
}

TEST_F(UiHandlers, GetArtifactRefusesMissingFieldsEscapesFoldersAndUnknownRuns) {
  std::string run = NewRun(NewExperiment("refusals"), {.name = "r"});
  fs::path root = ArtifactFolder(run);
  WriteFile(root / "plots" / "a.png", "png");
  WriteFile(dir_ / "secret.txt", "secret");
  fs::create_symlink(dir_ / "secret.txt", root / "leak.txt");
  fs::create_symlink(dir_.path(), root / "out");
  fs::create_symlink("plots/a.png", root / "inside.png");  // a link that stays inside is fine
  ASSERT_EQ(::mkfifo((root / "pipe").c_str(), 0600), 0);
  WriteFile(root / ".mlt-tmp-abc123", "an upload in flight");

  const std::string route = "/get-artifact";
  ExpectError(Get(route, {{"path", "plots/a.png"}}), 400, Invalid(Missing("run_uuid")));
  ExpectError(Get(route, {{"run_uuid", run}}), 400, Invalid(Missing("path")));
  ExpectError(Get(route, {{"run_uuid", run}, {"path", ""}}), 400, Invalid(Missing("path")));
  ExpectError(Get(route, {{"run_uuid", run}, {"path", "../secret.txt"}}), 400,
              Invalid("Invalid artifact path '../secret.txt': it escapes its root folder"));
  ExpectError(Get(route, {{"run_uuid", run}, {"path", "plots/../../x"}}), 400,
              Invalid("Invalid artifact path 'plots/../../x': it escapes its root folder"));
  ExpectError(Get(route, {{"run_uuid", run}, {"path", "/etc/passwd"}}), 400,
              Invalid("Invalid artifact path '/etc/passwd': it must be a relative path"));
  ExpectError(Get(route, {{"run_uuid", run}, {"path", "leak.txt"}}), 400,
              Invalid("Invalid artifact path 'leak.txt': it escapes its root folder through "
                      "the symbolic link 'leak.txt'"));
  ExpectError(Get(route, {{"run_uuid", run}, {"path", "out/secret.txt"}}), 400,
              Invalid("Invalid artifact path 'out/secret.txt': it escapes its root folder "
                      "through the symbolic link 'out'"));
  ExpectError(Get(route, {{"run_uuid", run}, {"path", "pipe"}}), 400,
              Invalid("Artifact 'pipe' is not a regular file"));
  ExpectError(Get(route, {{"run_uuid", run}, {"path", "plots"}}), 404,
              NotFound("Artifact 'plots' is a folder, not a file"));
  ExpectError(Get(route, {{"run_uuid", run}, {"path", "./"}}), 400, Invalid(Missing("path")));
  ExpectError(Get(route, {{"run_uuid", run}, {"path", "plots/b.png"}}), 404,
              NotFound("Artifact 'plots/b.png' does not exist"));
  ExpectError(Get(route, {{"run_uuid", run}, {"path", "plots/a.png/x"}}), 404,
              NotFound("Artifact 'plots/a.png/x' does not exist"));
  ExpectError(Get(route, {{"run_uuid", run}, {"path", ".mlt-tmp-abc123"}}), 404,
              NotFound("Artifact '.mlt-tmp-abc123' does not exist"));
  std::string unknown(32, 'f');
  ExpectError(Get(route, {{"run_uuid", unknown}, {"path", "a"}}), 404,
              NotFound(fmt::format("Run with id={} not found", unknown)));
  Reply inside = Get(route, {{"run_uuid", run}, {"path", "inside.png"}});
  EXPECT_EQ(inside.status, 200);
  EXPECT_EQ(inside.body, "png");
}

// --- runs/columns -------------------------------------------------------------------------------

TEST_F(UiHandlers, ColumnsAreTheSortedKeysOfTheActiveRunsOfTheExperiments) {
  std::string a = NewExperiment("a");
  std::string b = NewExperiment("b");
  std::string c = NewExperiment("c");
  NewRun(a, {.name = "r1",
             .params = {{"lr", "0.1"}, {"Batch", "32"}},
             .metrics = {{"rmse", 0.5}, {"acc", 0.9}},
             .tags = {{"team", "recs"}}});
  NewRun(a, {.name = "r2", .params = {{"lr", "0.2"}, {"depth", "3"}}, .metrics = {{"loss", 1}}});
  std::string gone = NewRun(a, {.name = "r3",
                                .params = {{"deleted_only", "x"}},
                                .metrics = {{"deleted_metric", 1}},
                                .tags = {{"deleted_tag", "x"}}});
  Ok("runs/delete", {{"run_id", gone}});
  NewRun(b, {.name = "r4", .params = {{"b_param", "1"}}, .metrics = {{"b_metric", 2}}});
  NewRun(c, {.name = "r5", .params = {{"c_param", "1"}}});

  for (const char* prefix : {"/ajax-api/2.0/mltrack/", "/api/2.0/mltrack/"}) {
    SCOPED_TRACE(prefix);
    Reply one = Get(std::string(prefix) + "runs/columns", {{"experiment_ids", a}});
    EXPECT_EQ(one.status, 200) << one.body;
    EXPECT_EQ(one.Header("content-type"), "application/json");
    // Byte order: upper case first. Every run has the tag mlflow.runName.
    EXPECT_EQ(one.json_body, json::parse(R"({
        "params": ["Batch", "depth", "lr"],
        "metrics": ["acc", "loss", "rmse"],
        "tags": ["mlflow.runName", "team"]})"));
  }
  Reply two =
      Get(std::string(kUi) + "runs/columns", {{"experiment_ids", a}, {"experiment_ids", b}});
  EXPECT_EQ(two.json_body, json::parse(R"({
      "params": ["Batch", "b_param", "depth", "lr"],
      "metrics": ["acc", "b_metric", "loss", "rmse"],
      "tags": ["mlflow.runName", "team"]})"));
  std::string empty = NewExperiment("empty");
  EXPECT_EQ(Get(std::string(kUi) + "runs/columns", {{"experiment_ids", empty}}).json_body,
            json::parse(R"({"params": [], "metrics": [], "tags": []})"));
}

TEST_F(UiHandlers, ColumnsRefuseMissingAndUnknownExperiments) {
  const std::string route = std::string(kUi) + "runs/columns";
  ExpectError(Get(route), 400, Invalid(Missing("experiment_ids")));
  ExpectError(Get(route, {{"experiment_ids", "0"}, {"experiment_ids", "99"}}), 404,
              NotFound("No Experiment with id=99 exists"));
  ExpectError(Get(route, {{"experiment_ids", "abc"}}), 404,
              NotFound("No Experiment with id=abc exists"));
}

// --- runs/child-counts --------------------------------------------------------------------------

TEST_F(UiHandlers, ChildCountsCountActiveRunsNamingEachParent) {
  std::string exp = NewExperiment("nested");
  std::string other = NewExperiment("elsewhere");
  std::string parent = NewRun(exp, {.name = "parent"});
  std::string lonely = NewRun(exp, {.name = "lonely"});
  std::string second = NewRun(exp, {.name = "second-parent"});
  for (int i = 0; i < 3; ++i) {
    NewRun(exp, {.name = fmt::format("child{}", i), .tags = {{"mlflow.parentRunId", parent}}});
  }
  // A child in another experiment counts; a deleted child does not.
  NewRun(other, {.name = "far-child", .tags = {{"mlflow.parentRunId", second}}});
  std::string deleted =
      NewRun(exp, {.name = "deleted-child", .tags = {{"mlflow.parentRunId", second}}});
  Ok("runs/delete", {{"run_id", deleted}});
  std::string grandchild_parent =
      NewRun(exp, {.name = "child-parent", .tags = {{"mlflow.parentRunId", second}}});
  NewRun(exp, {.name = "grandchild", .tags = {{"mlflow.parentRunId", grandchild_parent}}});

  json body = {{"run_ids", {parent, lonely, second, grandchild_parent, std::string(32, 'e')}}};
  for (const char* prefix : {"/ajax-api/2.0/mltrack/", "/api/2.0/mltrack/"}) {
    Reply reply = Post(std::string(prefix) + "runs/child-counts", body.dump());
    EXPECT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.json_body,
              json({{"counts", {{parent, 3}, {second, 2}, {grandchild_parent, 1}}}}));
  }
  Reply none = Post(std::string(kUi) + "runs/child-counts", R"({"run_ids": []})");
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.body, R"({"counts":{}})");
}

TEST_F(UiHandlers, ChildCountsRefuseMalformedRequests) {
  const std::string route = std::string(kUi) + "runs/child-counts";
  ExpectError(Post(route, R"({"run_ids": ["a", )"), 400,
              Invalid("Malformed JSON in request body: parse error at line 1, column 19: syntax "
                      "error while parsing value - unexpected end of input; expected '[', '{', "
                      "or a literal"));
  ExpectError(Post(route, "{}"), 400, Invalid(Missing("run_ids")));
  ExpectError(Post(route, R"({"run_ids": "abc"})"), 400,
              Invalid(fmt::format("Invalid value \"abc\" for parameter 'run_ids' supplied:  "
                                  "Hint: Value was of type 'str'. {}",
                                  kSeeDocs)));
  ExpectError(Post(route, R"({"run_ids": ["a", 1]})"), 400,
              Invalid(fmt::format("Invalid value [\"a\",1] for parameter 'run_ids' supplied: "
                                  "Every item must be a string. {}",
                                  kSeeDocs)));
  ExpectError(Post(route, R"(["a"])"), 400,
              Invalid("Malformed JSON in request body: expected an object, got array"));
  ExpectError(Post(route, R"({"run_ids": ["a"]})", "text/plain"), 400,
              Invalid("Bad Request. Content-Type must be one of ['application/json']."));
  json too_many = {{"run_ids", json::array()}};
  for (int i = 0; i < 1001; ++i) too_many["run_ids"].push_back(fmt::format("{:032x}", i));
  ExpectError(Post(route, too_many.dump()), 400,
              Invalid("At most 1000 run_ids may be given, got 1001"));
  too_many["run_ids"].erase(too_many["run_ids"].begin());
  EXPECT_EQ(Post(route, too_many.dump()).status, 200);
}

// --- attributes.duration and nested runs through runs/search ----------------------------------

TEST_F(UiHandlers, RunsSearchFiltersAndOrdersByDurationAndFindsTopLevelRuns) {
  std::string exp = NewExperiment("durations");
  NewRun(exp, {.name = "quick", .start = kT0, .end = kT0 + 500});
  std::string slow = NewRun(exp, {.name = "slow", .start = kT0 + 1, .end = kT0 + 90000});
  NewRun(exp, {.name = "running", .start = kT0 + 2});
  NewRun(exp, {.name = "child",
               .start = kT0 + 3,
               .end = kT0 + 3 + 1000,
               .tags = {{"mlflow.parentRunId", slow}}});
  auto search = [&](const std::string& filter, const std::vector<std::string>& order_by) {
    json reply = Ok("runs/search",
                    {{"experiment_ids", {exp}}, {"filter", filter}, {"order_by", order_by}});
    std::vector<std::string> names;
    for (const auto& run : reply["runs"]) names.push_back(run["info"]["run_name"]);
    return names;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(search("attributes.duration > 600", {"attributes.duration DESC"}),
            (Names{"slow", "child"}));
  EXPECT_EQ(search("", {"attributes.duration ASC"}), (Names{"quick", "child", "slow", "running"}));
  EXPECT_EQ(search("", {"attributes.duration DESC"}),
            (Names{"slow", "child", "quick", "running"}));
  EXPECT_EQ(search("attributes.duration IS NULL", {}), (Names{"running"}));
  EXPECT_EQ(search("tags.mlflow.parentRunId IS NULL", {"attributes.start_time"}),
            (Names{"quick", "slow", "running"}));
  EXPECT_EQ(search("tags.mlflow.parentRunId IS NOT NULL", {}), (Names{"child"}));
}

// --- runs/export-csv ----------------------------------------------------------------------------

class ExportCsv : public UiHandlers {
 protected:
  // Three runs whose cells need every kind of care.
  void SetUp() override {
    exp_ = NewExperiment("csv");
    plain_ = NewRun(exp_, {.name = "plain",
                           .start = kT0 + 123,
                           .end = kT0 + 123 + 12500,
                           .user = "alice",
                           .params = {{"lr", "0.1"}, {"formula", "=SUM(A1:A2)"}},
                           .metrics = {{"rmse", 0.25}},
                           .tags = {{"note", "a,b"}}});
    quoted_ = NewRun(exp_, {.name = "say \"hi\"",
                            .start = kT0 + 1000,
                            .end = kT0 + 4000,
                            .user = "-bob",
                            .params = {{"lr", "-1.5"}, {"formula", "+cmd"}, {"only2", "y"}},
                            .metrics = {{"rmse", "NaN"}},
                            .tags = {{"note", "line1\nline2"}}});
    running_ = NewRun(exp_, {.name = "@home",
                             .start = kT0 + 2000,
                             .user = "carol",
                             .params = {{"lr", "1e-3"}, {"formula", "-x"}},
                             .metrics = {{"rmse", "-Infinity"}},
                             .tags = {{"note", ""}}});
  }

  Reply Export(std::multimap<std::string, std::string> query) {
    return Get(std::string(kUi) + "runs/export-csv", query);
  }

  std::string exp_, plain_, quoted_, running_;
};

TEST_F(ExportCsv, ChosenColumnsInTheSearchOrderWithQuotingAndFormulaGuards) {
  std::multimap<std::string, std::string> query = {{"experiment_ids", exp_},
                                                   {"order_by", "metrics.rmse ASC"}};
  for (const char* column :
       {"attributes.run_id", "attributes.run_name", "attributes.status", "attributes.start_time",
        "attributes.end_time", "attributes.duration", "attributes.user_id",
        "attributes.experiment_id", "params.lr", "params.formula", "metrics.rmse", "tags.note",
        "params.missing"}) {
    query.emplace("columns", column);
  }
  Reply reply = Export(query);
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.Header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(reply.Header("content-disposition"), "attachment; filename=\"runs.csv\"");
  // metrics.rmse ASC: -inf, 0.25, then NaN (NaN sorts after every value).
  std::string expected =
      "attributes.run_id,attributes.run_name,attributes.status,attributes.start_time,"
      "attributes.end_time,attributes.duration,attributes.user_id,attributes.experiment_id,"
      "params.lr,params.formula,metrics.rmse,tags.note,params.missing\r\n" +
      fmt::format("{},'@home,RUNNING,2023-11-14T22:13:22.000Z,,,carol,{},1e-3,'-x,-Infinity,,"
                  "\r\n",
                  running_, exp_) +
      fmt::format("{},plain,FINISHED,2023-11-14T22:13:20.123Z,2023-11-14T22:13:32.623Z,12.5,"
                  "alice,{},0.1,'=SUM(A1:A2),0.25,\"a,b\",\r\n",
                  plain_, exp_) +
      fmt::format("{},\"say \"\"hi\"\"\",FINISHED,2023-11-14T22:13:21.000Z,"
                  "2023-11-14T22:13:24.000Z,3,'-bob,{},-1.5,'+cmd,NaN,\"line1\nline2\",\r\n",
                  quoted_, exp_);
  EXPECT_EQ(reply.body, expected);
}

TEST_F(ExportCsv, DefaultColumnsAreTheMainAttributesAndTheKeysOfTheExportedRuns) {
  Reply all = Export({{"experiment_ids", exp_}, {"order_by", "attributes.start_time"}});
  EXPECT_EQ(all.status, 200) << all.body;
  std::string header =
      "attributes.run_id,attributes.run_name,attributes.status,attributes.start_time,"
      "attributes.duration,attributes.user_id,";
  EXPECT_EQ(all.body,
            header + "params.formula,params.lr,params.only2,metrics.rmse\r\n" +
                fmt::format("{},plain,FINISHED,2023-11-14T22:13:20.123Z,12.5,alice,"
                            "'=SUM(A1:A2),0.1,,0.25\r\n",
                            plain_) +
                fmt::format("{},\"say \"\"hi\"\"\",FINISHED,2023-11-14T22:13:21.000Z,3,'-bob,"
                            "'+cmd,-1.5,y,NaN\r\n",
                            quoted_) +
                fmt::format("{},'@home,RUNNING,2023-11-14T22:13:22.000Z,,carol,'-x,1e-3,,"
                            "-Infinity\r\n",
                            running_));
}

TEST_F(ExportCsv, AFilterNarrowsTheRowsAndTheDefaultColumns) {
  Reply filtered = Export({{"experiment_ids", exp_}, {"filter", "params.lr = '0.1'"}});
  EXPECT_EQ(filtered.status, 200) << filtered.body;
  EXPECT_EQ(filtered.body,
            "attributes.run_id,attributes.run_name,attributes.status,attributes.start_time,"
            "attributes.duration,attributes.user_id,params.formula,params.lr,metrics.rmse\r\n" +
                fmt::format("{},plain,FINISHED,2023-11-14T22:13:20.123Z,12.5,alice,"
                            "'=SUM(A1:A2),0.1,0.25\r\n",
                            plain_));
  Reply none = Export({{"experiment_ids", exp_}, {"filter", "params.lr = 'none'"},
                       {"columns", "attributes.run_id"}});
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.body, "attributes.run_id\r\n");
}

TEST_F(ExportCsv, RunViewTypeIncludesDeletedRuns) {
  Ok("runs/delete", {{"run_id", quoted_}});
  auto ids = [&](const std::string& view) {
    return Export({{"experiment_ids", exp_},
                   {"run_view_type", view},
                   {"order_by", "attributes.start_time"},
                   {"columns", "attributes.run_id"}})
        .body;
  };
  EXPECT_EQ(ids("ACTIVE_ONLY"), fmt::format("attributes.run_id\r\n{}\r\n{}\r\n", plain_, running_));
  EXPECT_EQ(ids("DELETED_ONLY"), fmt::format("attributes.run_id\r\n{}\r\n", quoted_));
  EXPECT_EQ(ids("ALL"),
            fmt::format("attributes.run_id\r\n{}\r\n{}\r\n{}\r\n", plain_, quoted_, running_));
}

TEST_F(ExportCsv, BadRequestsGetTheErrorsRunsSearchGives) {
  // The same filter and order_by errors as runs/search, word for word.
  for (const char* filter : {"metrics.rmse <", "params.lr = 'a' AND (", "bogus.x = 1"}) {
    Reply search = Post(std::string(kApi) + "runs/search",
                        json({{"experiment_ids", {exp_}}, {"filter", filter}}).dump());
    ASSERT_EQ(search.status, 400) << filter;
    ExpectError(Export({{"experiment_ids", exp_}, {"filter", filter}}), 400, search.json_body);
  }
  Reply search = Post(std::string(kApi) + "runs/search",
                      json({{"experiment_ids", {exp_}}, {"order_by", {"metrics.rmse UP"}}}).dump());
  ASSERT_EQ(search.status, 400);
  ExpectError(Export({{"experiment_ids", exp_}, {"order_by", "metrics.rmse UP"}}), 400,
              search.json_body);
  ExpectError(Export({{"experiment_ids", exp_}, {"filter", "metrics.rmse <"}}), 400,
              Invalid("Invalid filter 'metrics.rmse <': expected a number for metric 'rmse' "
                      "after '<', found end of input at position 15"));

  ExpectError(Export({{"experiment_ids", exp_}, {"columns", "foo.bar"}}), 400,
              Invalid("Invalid column 'foo.bar': expected attributes.<name>, params.<key>, "
                      "metrics.<key> or tags.<key>"));
  ExpectError(Export({{"experiment_ids", exp_}, {"columns", "params."}}), 400,
              Invalid("Invalid column 'params.': expected attributes.<name>, params.<key>, "
                      "metrics.<key> or tags.<key>"));
  ExpectError(Export({{"experiment_ids", exp_}, {"columns", "attributes.artifact_uri"}}), 400,
              Invalid("Invalid column 'attributes.artifact_uri': valid attributes are run_id, "
                      "run_name, status, start_time, end_time, duration, user_id, "
                      "experiment_id"));
  ExpectError(Export({{"filter", ""}}), 400, Invalid(Missing("experiment_ids")));
  ExpectError(Export({{"experiment_ids", "42"}}), 404,
              NotFound("No Experiment with id=42 exists"));
  ExpectError(Export({{"experiment_ids", exp_}, {"run_view_type", "SOME"}}), 400,
              Invalid(fmt::format("Invalid value \"SOME\" for parameter 'run_view_type' "
                                  "supplied: It must be one of ACTIVE_ONLY, DELETED_ONLY, ALL. {}",
                                  kSeeDocs)));
}

// Paging: a server of its own with a page of 2 runs, so that 7 runs take 4 store searches.
TEST(ExportCsvPaging, EveryPageIsExportedInOrder) {
  TempDir dir;
  std::string db = (dir / "mlruns.db").string();
  auto store = std::make_shared<tracking::SqliteTrackingStore>(db, (dir / "art").string());
  auto registry = std::make_shared<registry::SqliteRegistryStore>(db, (dir / "art").string());
  http::Server http({.threads = 2});
  server::RegisterUiHandlers(http, store, registry,
                             {.artifacts_destination = dir / "art",
                              .tracking_uri = "sqlite:///" + db,
                              .export_page_size = 2});
  int port = http.Start();
  std::string exp = store->CreateExperiment("paged", "", {});
  std::string expected = "attributes.run_name,metrics.m\r\n";
  for (int i = 0; i < 7; ++i) {
    mltrack::Run run = store->CreateRun(
        {.experiment_id = exp, .run_name = fmt::format("run{}", i), .start_time = kT0 + i});
    store->LogMetric(run.info.run_id, {"m", 0.5 * i, kT0, 0});
    expected += fmt::format("run{},{}\r\n", i, 0.5 * i);
  }
  Reply reply = RawGet(port, fmt::format("/ajax-api/2.0/mltrack/runs/export-csv?"
                                         "experiment_ids={}&order_by=metrics.m&"
                                         "columns=attributes.run_name&columns=metrics.m",
                                         exp));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, expected);
}

// --- MLmodel as JSON, and registered versions' artifacts ---------------------------------------

// An MLmodel as MLflow 2.17 writes it for a scikit-learn model.
constexpr const char* kMlmodel = R"(artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    python_version: 3.11.4
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.3.0
mlflow_version: 2.17.0
model_size_bytes: 1234
model_uuid: 0123456789abcdef0123456789abcdef
signature:
  inputs: '[{"type": "double", "name": "x", "required": true}, {"type": "string", "name": "city",
    "required": false}]'
  outputs: '[{"type": "long", "required": true}]'
  params: '[{"name": "k", "type": "long", "default": 10, "shape": null}]'
utc_time_created: '2026-11-22 05:21:19.123456'
)";

const json& MlmodelJson() {
  static const json expected = json::parse(R"({
      "artifact_path": "model",
      "flavors": {
        "python_function": {"loader_module": "mlflow.sklearn", "python_version": "3.11.4"},
        "sklearn": {"pickled_model": "model.pkl", "sklearn_version": "1.3.0"}},
      "mlflow_version": "2.17.0",
      "model_size_bytes": 1234,
      "model_uuid": "0123456789abcdef0123456789abcdef",
      "signature": {
        "inputs": [{"type": "double", "name": "x", "required": true},
                   {"type": "string", "name": "city", "required": false}],
        "outputs": [{"type": "long", "required": true}],
        "params": [{"name": "k", "type": "long", "default": 10, "shape": null}]},
      "utc_time_created": "2026-11-22 05:21:19.123456"})");
  return expected;
}

TEST_F(UiHandlers, RunMlmodelIsTheYamlAsJsonWithTheSignatureParsed) {
  std::string run = NewRun(NewExperiment("models"), {.name = "r"});
  fs::path root = ArtifactFolder(run);
  WriteFile(root / "model" / "MLmodel", kMlmodel);
  WriteFile(root / "MLmodel", "flavors:\n  mltrack.als: {data: f.bin}\n"
                              "utc_time_created: '2026-11-22 05:21:19.123456'\n");
  for (const char* prefix : {"/ajax-api/2.0/mltrack/", "/api/2.0/mltrack/"}) {
    Reply reply = Get(std::string(prefix) + "artifacts/mlmodel",
                      {{"run_id", run}, {"path", "model"}});
    EXPECT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.json_body, json({{"mlmodel", MlmodelJson()}}));
  }
  // At the root, without a signature.
  Reply root_model = Get(std::string(kUi) + "artifacts/mlmodel", {{"run_id", run}});
  EXPECT_EQ(root_model.json_body, json::parse(R"({"mlmodel": {
      "flavors": {"mltrack.als": {"data": "f.bin"}},
      "utc_time_created": "2026-11-22 05:21:19.123456"}})"));
}

// The app shows models it cannot load too: MLflow writes tensor-based signatures for numpy
// inputs and outputs, and flavors this build has no loader for.
TEST_F(UiHandlers, RunMlmodelShowsTensorSignaturesAndUnknownFlavors) {
  std::string run = NewRun(NewExperiment("tensor-models"), {.name = "r"});
  WriteFile(ArtifactFolder(run) / "clf" / "MLmodel",
            "flavors:\n  sklearn: {pickled_model: model.pkl, serialization_format: cloudpickle}\n"
            "signature:\n"
            "  inputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float64\", "
            "\"shape\": [-1, 4]}}]'\n"
            "  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"int64\", "
            "\"shape\": [-1]}}]'\n"
            "  params: null\n"
            "model_size_bytes: 512\nis_signature_from_type_hint: false\n"
            "saved_input_example_info: ~\n");
  Reply reply = Get(std::string(kUi) + "artifacts/mlmodel", {{"run_id", run}, {"path", "clf"}});
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json_body, json::parse(R"({"mlmodel": {
      "flavors": {"sklearn": {"pickled_model": "model.pkl", "serialization_format": "cloudpickle"}},
      "signature": {
        "inputs": [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}],
        "outputs": [{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}],
        "params": null},
      "model_size_bytes": 512, "is_signature_from_type_hint": false,
      "saved_input_example_info": null}})"));
}

TEST_F(UiHandlers, RunMlmodelRefusalsNameTheFileByItsArtifactPath) {
  std::string run = NewRun(NewExperiment("bad-models"), {.name = "r"});
  fs::path root = ArtifactFolder(run);
  WriteFile(root / "bad" / "MLmodel", "- flavors\n- utc_time_created\n");
  WriteFile(root / "badsig" / "MLmodel",
            "flavors:\n  sklearn: {}\nutc_time_created: '2026-11-22 05:21:19.123456'\n"
            "signature:\n  inputs: '[{\"type\": \"double\"'\n");
  WriteFile(root / "yaml" / "MLmodel", "flavors: {a: [}\n");
  fs::create_directories(root / "folder" / "MLmodel");
  WriteFile(dir_ / "outside" / "MLmodel", kMlmodel);
  fs::create_symlink(dir_ / "outside", root / "link");

  const std::string route = std::string(kUi) + "artifacts/mlmodel";
  ExpectError(Get(route, {{"run_id", run}, {"path", "bad"}}), 400,
              Invalid("Invalid MLmodel file 'bad/MLmodel': it must be a YAML mapping of fields"));
  Reply badsig = Get(route, {{"run_id", run}, {"path", "badsig"}});
  EXPECT_EQ(badsig.status, 400);
  EXPECT_THAT(badsig.json_body["message"].get<std::string>(),
              StartsWith("Invalid MLmodel file 'badsig/MLmodel': signature inputs is not valid "
                         "JSON ("));
  Reply yaml = Get(route, {{"run_id", run}, {"path", "yaml"}});
  EXPECT_EQ(yaml.status, 400);
  EXPECT_THAT(yaml.json_body["message"].get<std::string>(),
              StartsWith("Invalid MLmodel file 'yaml/MLmodel': line 1: YAML syntax error: "));
  EXPECT_THAT(yaml.body, ::testing::Not(HasSubstr(dir_.path().string())));
  ExpectError(Get(route, {{"run_id", run}, {"path", "nothing"}}), 404,
              NotFound("No MLmodel file at 'nothing/MLmodel'"));
  ExpectError(Get(route, {{"run_id", run}, {"path", "folder"}}), 404,
              NotFound("No MLmodel file at 'folder/MLmodel'"));
  ExpectError(Get(route, {{"run_id", run}, {"path", "../x"}}), 400,
              Invalid("Invalid artifact path '../x': it escapes its root folder"));
  ExpectError(Get(route, {{"run_id", run}, {"path", "link"}}), 400,
              Invalid("Invalid artifact path 'link/MLmodel': it escapes its root folder "
                      "through the symbolic link 'link'"));
  ExpectError(Get(route, {{"path", "model"}}), 400, Invalid(Missing("run_id")));
  std::string unknown(32, 'a');
  ExpectError(Get(route, {{"run_id", unknown}}), 404,
              NotFound(fmt::format("Run with id={} not found", unknown)));
}

TEST_F(UiHandlers, ModelVersionArtifactsFollowTheVersionsSource) {
  std::string run = NewRun(NewExperiment("registry"), {.name = "r"});
  fs::path root = ArtifactFolder(run);
  WriteFile(root / "model" / "MLmodel", kMlmodel);
  WriteFile(root / "model" / "model.pkl", "pickle");
  WriteFile(dir_ / "bundle" / "MLmodel", kMlmodel);
  WriteFile(dir_ / "bundle" / "model.pkl", "local pickle");
  Ok("registered-models/create", {{"name", "recs"}});
  Reply got_run = Get(std::string(kApi) + "runs/get", {{"run_id", run}});
  std::string artifact_uri = got_run.json_body["run"]["info"]["artifact_uri"];
  const std::vector<std::pair<std::string, std::string>> sources = {
      {"runs:/" + run + "/model", "pickle"},                 // version 1
      {artifact_uri + "/model", "pickle"},                   // 2: mlflow-artifacts:/...
      {"models:/recs/1", "pickle"},                          // 3: another version
      {(dir_ / "bundle").string(), "local pickle"},          // 4: a local folder
      {"file://" + (dir_ / "bundle").string(), "local pickle"},  // 5
  };
  for (const auto& [source, content] : sources) {
    Ok("model-versions/create", {{"name", "recs"}, {"source", source}, {"run_id", run}});
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    std::string version = std::to_string(i + 1);
    SCOPED_TRACE(sources[i].first);
    for (const char* route :
         {"/model-versions/get-artifact", "/ajax-api/2.0/mlflow/model-versions/get-artifact"}) {
      Reply file = Get(route, {{"name", "recs"}, {"version", version}, {"path", "model.pkl"}});
      EXPECT_EQ(file.status, 200) << file.body;
      EXPECT_EQ(file.body, sources[i].second);
      EXPECT_EQ(file.Header("content-disposition"), "attachment; filename=model.pkl");
    }
    Reply mlmodel = Get(std::string(kUi) + "model-versions/mlmodel",
                        {{"name", "recs"}, {"version", version}});
    EXPECT_EQ(mlmodel.status, 200) << mlmodel.body;
    EXPECT_EQ(mlmodel.json_body, json({{"mlmodel", MlmodelJson()}}));
  }
  Reply text = Get("/model-versions/get-artifact",
                   {{"name", "recs"}, {"version", "1"}, {"path", "MLmodel"}});
  EXPECT_EQ(text.body, kMlmodel);
  EXPECT_EQ(text.Header("content-type"), "text/plain; charset=utf-8");
}

TEST_F(UiHandlers, ModelVersionArtifactsRefuseBadRequests) {
  std::string run = NewRun(NewExperiment("registry"), {.name = "r"});
  WriteFile(dir_ / "secret.txt", "secret");
  Ok("registered-models/create", {{"name", "recs"}});
  Ok("model-versions/create", {{"name", "recs"}, {"source", "runs:/" + run + "/model"}});
  const std::string route = "/model-versions/get-artifact";
  ExpectError(Get(route, {{"version", "1"}, {"path", "MLmodel"}}), 400, Invalid(Missing("name")));
  ExpectError(Get(route, {{"name", "recs"}, {"path", "MLmodel"}}), 400,
              Invalid(Missing("version")));
  ExpectError(Get(route, {{"name", "recs"}, {"version", "1"}}), 400, Invalid(Missing("path")));
  ExpectError(Get(route, {{"name", "recs"}, {"version", "1"}, {"path", "../../../secret.txt"}}),
              400,
              Invalid("Invalid artifact path '../../../secret.txt': it escapes its root folder"));
  ExpectError(Get(route, {{"name", "nope"}, {"version", "1"}, {"path", "MLmodel"}}), 404,
              NotFound("Model Version (name=nope, version=1) not found"));
  ExpectError(Get(route, {{"name", "recs"}, {"version", "7"}, {"path", "MLmodel"}}), 404,
              NotFound("Model Version (name=recs, version=7) not found"));
  ExpectError(Get(route, {{"name", "recs"}, {"version", "1"}, {"path", "MLmodel"}}), 404,
              NotFound("Artifact 'MLmodel' does not exist"));
  ExpectError(
      Get(std::string(kUi) + "model-versions/mlmodel", {{"name", "recs"}, {"version", "1"}}), 404,
      NotFound("No MLmodel file at 'MLmodel'"));
  ExpectError(Get(std::string(kUi) + "model-versions/mlmodel", {{"name", "recs"}}), 400,
              Invalid(Missing("version")));
}

}  // namespace
}  // namespace mltrack
