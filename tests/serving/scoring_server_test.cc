// The scoring server over real HTTP on ephemeral loopback ports, serving real models trained here
// and saved to temporary folders (served_model.h): every kind of bad input, /metrics, the Open
// Inference Protocol v2 routes, the body limit, the timeout, stopping with a request in flight and
// --watch. Golden answers are scoring_server_golden_test.cc; the load tests run
// `mlt models serve` (models_serve_cli_test.cc).
#include "serving/scoring_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "models/als/als_trainer.h"
#include "models/bundle/mlmodel.h"
#include "models/forest/forest_trainer.h"
#include "models/logistic/logistic_trainer.h"
#include "registry/model_uri.h"
#include "serving/served_model.h"
#include "support/test_support.h"

namespace mltrack::serving {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::mltrack::testing::ConnectLoopback;
using ::mltrack::testing::ReadUntilClosed;
using ::mltrack::testing::TempDir;
using test::Served;
using test::TheBundles;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

std::string Repeat(const std::string& text, size_t times) {
  std::string out;
  out.reserve(text.size() * times);
  for (size_t i = 0; i < times; ++i) out += text;
  return out;
}

// --- the other routes ----------------------------------------------------------------------------

TEST(ScoringServer, AnswersPingHealthVersionAndMetadata) {
  Served served(TheBundles().logistic);
  for (const char* path : {"/ping", "/health"}) {
    http::Result result = served.client().Get(path);
    EXPECT_EQ(result.status, 200) << path;
    EXPECT_EQ(result.body, "\n") << path;
  }
  http::Result version = served.client().Get("/version");
  EXPECT_EQ(version.status, 200);
  EXPECT_TRUE(std::regex_match(version.body, std::regex(R"(\d+\.\d+\.\d+)"))) << version.body;
  EXPECT_EQ(version.content_type, "text/plain");
  EXPECT_EQ(json::parse(served.client().Get("/v2").body)["version"], version.body);

  json metadata = json::parse(served.client().Get("/metadata").body);
  auto meta = models::ReadMlmodel(TheBundles().logistic / "MLmodel");
  EXPECT_EQ(metadata["model_uri"], TheBundles().logistic.string());
  EXPECT_EQ(metadata["flavor"], "mltrack.logistic_regression");
  EXPECT_EQ(metadata["model_name"], nullptr);
  EXPECT_EQ(metadata["model_version"], nullptr);
  EXPECT_EQ(metadata["signature"]["inputs"],
            json::parse(R"([{"name": "x1", "required": true, "type": "double"},
                            {"name": "x2", "required": true, "type": "double"}])"));
  EXPECT_EQ(metadata["signature"]["outputs"],
            json::parse(models::SchemaToJson(*meta.signature->outputs)));
  EXPECT_EQ(metadata["input_example"],
            json::parse(testing::ReadFile(TheBundles().logistic / "input_example.json")));
  EXPECT_EQ(metadata["input_example"]["columns"], json({"x1", "x2"}));

  http::Result unknown = served.client().Get("/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body,
            R"({"error_code":"ENDPOINT_NOT_FOUND","message":"No endpoint for GET /nope"})");
  EXPECT_EQ(served.client().Get("/invocations").status, 405);
  EXPECT_EQ(served.Metric(R"(mlt_serving_requests_total{route="other",status="404"})"), 1);
}

TEST(ScoringServer, AnswersTheOpenInferenceProtocol) {
  Served served(TheBundles().logistic);
  EXPECT_EQ(served.client().Get("/v2/health/live").status, 200);
  EXPECT_EQ(served.client().Get("/v2/health/ready").status, 200);
  EXPECT_EQ(served.client().Get("/v2/models/model/ready").status, 200);
  EXPECT_EQ(json::parse(served.client().Get("/v2").body)["name"], "mltrack");
  http::Result metadata = served.client().Get("/v2/models/model");
  EXPECT_EQ(json::parse(metadata.body), json::parse(R"({"name": "model", "versions": [],
      "platform": "mltrack",
      "inputs": [{"name": "x1", "datatype": "FP64", "shape": [-1]},
                 {"name": "x2", "datatype": "FP64", "shape": [-1]}],
      "outputs": [{"name": "prediction", "datatype": "BYTES", "shape": [-1]},
                  {"name": "probability_no", "datatype": "FP64", "shape": [-1]},
                  {"name": "probability_yes", "datatype": "FP64", "shape": [-1]}]})"));

  const std::string tensors = R"("inputs": [
      {"name": "x1", "shape": [2], "datatype": "FP64", "data": [2.0, -2.0]},
      {"name": "x2", "shape": [2, 1], "datatype": "FP32", "data": [[1], [-1.5]]}])";
  http::Result infer = served.Post("/v2/models/model/infer", "{\"id\": \"r-1\", " + tensors + "}");
  ASSERT_EQ(infer.status, 200) << infer.body;
  EXPECT_EQ(json::parse(infer.body), json::parse(R"({"model_name": "model", "id": "r-1",
      "outputs": [{"name": "prediction", "shape": [2], "datatype": "BYTES",
                   "data": ["yes", "no"]}]})"));
  http::Result proba = served.Post(
      "/v2/models/model/infer",
      "{" + tensors +
          R"(, "parameters": {"predict_proba": true}, "outputs": [{"name": "probability_yes"}]})");
  ASSERT_EQ(proba.status, 200) << proba.body;
  json outputs = json::parse(proba.body)["outputs"];
  ASSERT_EQ(outputs.size(), 1u) << proba.body;
  EXPECT_EQ(outputs[0]["name"], "probability_yes");
  EXPECT_GT(outputs[0]["data"][0].get<double>(), 0.99);

  struct Bad {
    std::string path, body;
    int status;
    std::string error;
  };
  for (
      const Bad& bad : std::vector<Bad>{
          {"/v2/models/other/infer", "{" + tensors + "}", 404,
           "Model 'other' is not served here; this server serves 'model'"},
          {"/v2/models/model/infer",
           R"({"inputs": [{"name": "x1", "shape": [1], "datatype": "FP64", "data": [1, 2]}]})", 400,
           "Invalid input. Input tensor 'x1' has 2 values, expected 1 (its shape)"},
          {"/v2/models/model/infer",
           R"({"inputs": [{"name": "x1", "shape": [1], "datatype": "FP64", "data": ["a"]}]})", 400,
           "Invalid input. Input tensor 'x1' of datatype FP64 has \"a\" at position 0, expected a "
           "number"},
          {"/v2/models/model/infer",
           R"({"inputs": [{"name": "x1", "shape": [1], "datatype": "FP64", "data": [1]}]})", 400,
           "Missing required column 'x2'"},
          {"/v2/models/model/infer", "[1]", 400,
           R"(Invalid input. The body must be a JSON object {"inputs": [...]})"},
          {"/v2/models/model/infer", R"({"inputs": )", 400,
           "Invalid input. Ensure that input is a valid JSON formatted string."},
          {"/v2/models/model/infer",
           R"({"inputs": [{"name": "x1", "shape": [1], "datatype": "FP64", "data": [[[1]]]}]})",
           400, "Invalid input. Input tensor 'x1' has data nested deeper than its shape"},
          {"/v2/models/model/infer",
           R"({"inputs": [{"name": "x1", "shape": [1], "datatype": "FP64", "data": [{"a": 1}]}]})",
           400,
           "Invalid input. Input tensor 'x1' of datatype FP64 has object at position 0, "
           "expected a number"},
          {"/v2/models/model/infer",
           R"({"inputs": [{"name": "x1", "shape": [1], "datatype": 7, "data": [1]}]})", 400,
           "Invalid input. Input tensor 'x1' has datatype '7'; expected one of BOOL, INT8..INT64, "
           "UINT8..UINT64, FP16, FP32, FP64, BYTES"},
          {"/v2/models/model/infer", "{" + tensors + R"(, "outputs": [{"name": 3}]})", 400,
           "Invalid input. The model has no output '3'"},
          // Hostile nesting is refused while parsing, without recursing into it.
          {"/v2/models/model/infer",
           R"({"id": )" + std::string(100'000, '[') + std::string(100'000, ']') + "}", 400,
           "Invalid input. The body nests deeper than 64 levels"},
          {"/v2/models/model/infer",
           R"({"parameters": )" + Repeat(R"({"a": )", 100'000) + "1" + std::string(100'000, '}') +
               "}",
           400, "Invalid input. The body nests deeper than 64 levels"},
      }) {
    http::Result result = served.Post(bad.path, bad.body);
    EXPECT_EQ(result.status, bad.status) << bad.error;
    EXPECT_EQ(result.body, json({{"error", bad.error}}).dump()) << bad.error;
  }
  EXPECT_EQ(
      served.Metric(R"(mlt_serving_requests_total{route="/v2/models/{name}/infer",status="400"})"),
      11);
}

// --- bad input -----------------------------------------------------------------------------------

struct BadInput {
  std::string what;
  std::string content_type;
  std::string body;
  int status;
  std::string message;  // exact for 415 (text/plain), a prefix of the JSON message otherwise
};

TEST(ScoringServer, RefusesBadInputWithMlflowStatusesAndKeepsServing) {
  const std::string kFormats =
      "Invalid input. The input must be a JSON dictionary with exactly one of the input fields "
      "{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}";
  const std::vector<BadInput> cases = {
      {"invalid JSON", "application/json", R"({"dataframe_split": )", 400,
       "Invalid input. Ensure that input is a valid JSON formatted string."},
      {"two format keys", "application/json", R"({"instances": [], "inputs": {}})", 400,
       kFormats + ". Received dictionary with input fields: ['instances', 'inputs']"},
      {"no format key", "application/json", R"({"x1": [1], "x2": [2]})", 400,
       kFormats + ". Received dictionary with input fields: ['x1', 'x2']"},
      {"a scalar body", "application/json", "42", 400,
       kFormats + ". Received unexpected input type 'number'."},
      {"a list body", "application/json", "[1, 2]", 400, kFormats + ". Received a list."},
      {"a string where a double goes", "application/json",
       R"({"dataframe_records": [{"x1": "a", "x2": 1.0}]})", 400,
       "Column 'x1' has type string, expected double"},
      {"null (NaN) in a feature", "application/json",
       R"({"dataframe_split": {"columns": ["x1", "x2"], "data": [[1.0, 2.0], [null, 1.0]]}})", 400,
       "Column 'x1' has NaN at row 1"},
      {"NaN in CSV", "text/csv", "x1,x2\n1,2\nNaN,3\n", 400, "Column 'x1' has NaN at row 1"},
      {"CSV with a missing column", "text/csv", "x1\n1.5\n", 400, "Missing required column 'x2'"},
      {"CSV with a ragged line", "text/csv", "x1,x2\n1,2\n3\n", 400,
       "Invalid input. Failed to parse input as CSV: line 3 has 1 fields, expected 2"},
      {"params not an object", "application/json", R"({"inputs": {"x1": 1, "x2": 2}, "params": 3})",
       400, "Invalid input."},
      {"text/plain", "text/plain", "x1,x2\n1,2\n", 415,
       "This predictor only supports the following content types: Types: ['text/csv', "
       "'application/json']. Got 'text/plain'."},
      {"latin-1", "application/json; charset=latin-1", R"({"inputs": {"x1": 1, "x2": 2}})", 415,
       "The scoring server only supports UTF-8"},
  };
  Served served(TheBundles().logistic);
  for (const BadInput& bad : cases) {
    http::Result result = served.Invoke(bad.body, bad.content_type);
    EXPECT_EQ(result.status, bad.status) << bad.what << ": " << result.body;
    if (bad.status == 415) {
      EXPECT_EQ(result.content_type, "text/plain") << bad.what;
      EXPECT_EQ(result.body, bad.message) << bad.what;
    } else {
      json body = json::parse(result.body, nullptr, false);
      EXPECT_EQ(body.value("error_code", ""), "BAD_REQUEST") << bad.what << ": " << result.body;
      EXPECT_THAT(body.value("message", ""), StartsWith(bad.message)) << bad.what;
    }
    http::Result good = served.Invoke(R"({"inputs": {"x1": 1, "x2": 2}})");
    EXPECT_EQ(good.body, R"({"predictions":["yes"]})") << "after " << bad.what;
  }
  EXPECT_EQ(served.Metric(R"(mlt_serving_requests_total{route="/invocations",status="400"})"), 11);
  EXPECT_EQ(served.Metric(R"(mlt_serving_request_errors_total{route="/invocations",status="415"})"),
            2);
  EXPECT_EQ(served.Metric(R"(mlt_serving_requests_total{route="/invocations",status="200"})"), 13);
  EXPECT_EQ(served.Metric(R"(mlt_serving_request_duration_seconds_count{route="/invocations"})"),
            26);
  EXPECT_EQ(served.Metric("mlt_serving_rows_scored_total"), 13);
  EXPECT_EQ(served.Metric("mlt_serving_requests_in_flight"), 0);
}

TEST(ScoringServer, RefusesAnUnknownAlsUserWith400) {
  Served served(TheBundles().als);
  http::Result top_k = served.Invoke(R"({"inputs": {"user": 99}})");
  EXPECT_EQ(top_k.status, 400);
  EXPECT_EQ(top_k.body, R"({"error_code":"BAD_REQUEST","message":"Unknown user 99"})");
  // The bundle's cold-start strategy is "drop": an unknown pair cannot be answered either.
  http::Result pair = served.Invoke("user,item\n1,10\n99,10\n", "text/csv");
  EXPECT_EQ(pair.status, 400);
  EXPECT_EQ(pair.body, R"({"error_code":"BAD_REQUEST","message":"Unknown user 99"})");
  EXPECT_EQ(served.Invoke("user,item\n1,10\n", "text/csv").status, 200);
}

// --- raw connections -----------------------------------------------------------------------------


bool SendAll(int fd, const std::string& bytes) {
  for (size_t sent = 0; sent < bytes.size();) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}


// What a client that sends no Content-Type gets (httplib's client always sends one).
TEST(ScoringServer, TakesABodyWithoutContentTypeAsJson) {
  Served served(TheBundles().logistic);
  int fd = ConnectLoopback(served.server().port());
  ASSERT_GE(fd, 0);
  std::string body =
      R"({"dataframe_split": {"columns": ["x1", "x2"], "data": [[2, 1], [-2, -1]]}})";
  ASSERT_TRUE(SendAll(fd, fmt::format("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                      "{}\r\nConnection: close\r\n\r\n{}",
                                      body.size(), body)));
  std::string reply = ReadUntilClosed(fd, 10s);
  ::close(fd);
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(reply, HasSubstr("\r\n\r\n{\"predictions\":[\"yes\",\"no\"]}"));
}

TEST(ScoringServer, RefusesABodyOverTheLimitWith413) {
  Served small(TheBundles().logistic, {.max_body_bytes = 1 << 20});
  std::string big = R"({"instances": [)" + std::string(2'000'000, ' ') + "]}";
  http::Result over = small.Invoke(big);
  EXPECT_EQ(over.status, 413);
  EXPECT_EQ(over.body, fmt::format(R"({{"error_code":"RESOURCE_LIMIT_EXCEEDED","message":"Request )"
                                   R"(body of {} bytes exceeds the limit of 1048576 bytes"}})",
                                   big.size()));
  EXPECT_EQ(small.Invoke(R"({"inputs": {"x1": 1, "x2": 2}})").status, 200);

  // 100 MB at the default limit (64 MiB): refused as soon as the headers arrive.
  Served served(TheBundles().logistic);
  int fd = ConnectLoopback(served.server().port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd,
                      "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/json\r\nContent-Length: 100000000\r\n\r\n" +
                          std::string(1000, ' ')));
  std::string reply = ReadUntilClosed(fd, 10s);
  ::close(fd);
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 413 "));
  EXPECT_THAT(reply, HasSubstr(R"({"error_code":"RESOURCE_LIMIT_EXCEEDED","message":"Request )"
                               R"(body of 100000000 bytes exceeds the limit of 67108864 bytes"})"));
  // A chunked body has no length to refuse up front: reading stops at the limit.
  fd = ConnectLoopback(small.server().port());
  std::string chunk(512 << 10, ' ');
  std::string chunked =
      "POST /invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += fmt::format("{:x}\r\n{}\r\n", chunk.size(), chunk);
  ASSERT_TRUE(SendAll(fd, chunked + "0\r\n\r\n"));
  reply = ReadUntilClosed(fd, 10s);
  ::close(fd);
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 413 "));
  EXPECT_THAT(reply, HasSubstr(R"({"error_code":"RESOURCE_LIMIT_EXCEEDED","message":"Request )"
                               R"(body of 1572864 bytes exceeds the limit of 1048576 bytes"})"));
  EXPECT_EQ(served.Invoke(R"({"inputs": {"x1": 1, "x2": 2}})").status, 200);
  EXPECT_EQ(served.Metric(R"(mlt_serving_requests_total{route="/invocations",status="413"})"), 1);
  EXPECT_EQ(small.Metric(R"(mlt_serving_requests_total{route="/invocations",status="413"})"), 2);
}

std::string ManyRowsCsv(size_t rows) {
  std::string csv = "x1,x2\n";
  for (size_t i = 0; i < rows; ++i) csv += fmt::format("{},{}\n", i % 7 - 3.5, i % 5 - 2.0);
  return csv;
}

TEST(ScoringServer, AnswersScoringOverTheTimeoutWith503) {
  Served served(TheBundles().forest, {.timeout = 1ms});
  http::Result result = served.Invoke(ManyRowsCsv(200'000), "text/csv");
  EXPECT_EQ(result.status, 503);
  json body = json::parse(result.body);
  EXPECT_EQ(body["error_code"], "TEMPORARILY_UNAVAILABLE");
  EXPECT_THAT(body["message"].get<std::string>(), HasSubstr("within the timeout of 1 ms"));
  EXPECT_EQ(served.client().Get("/ping").status, 200);

  Served patient(TheBundles().forest);
  http::Result scored = patient.Invoke(ManyRowsCsv(200'000), "text/csv");
  EXPECT_EQ(scored.status, 200);
  EXPECT_EQ(json::parse(scored.body)["predictions"].size(), 200'000u);
}

// Stop() lets a request in flight finish: here one whose body is still arriving.
TEST(ScoringServer, StopLetsARequestInFlightFinish) {
  auto served = std::make_unique<Served>(TheBundles().logistic);
  int fd = ConnectLoopback(served->server().port());
  ASSERT_GE(fd, 0);
  std::string body = R"({"inputs": {"x1": 1, "x2": 2}})";
  ASSERT_TRUE(SendAll(fd, fmt::format("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                      "application/json\r\nContent-Length: {}\r\n\r\n{}",
                                      body.size(), body.substr(0, 10))));
  for (int i = 0; i < 200 && served->Metric("mlt_serving_requests_in_flight") != 1; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(served->Metric("mlt_serving_requests_in_flight"), 1);
  auto stopped = std::async(std::launch::async, [&] { served->server().Stop(); });
  EXPECT_EQ(stopped.wait_for(200ms), std::future_status::timeout) << "Stop() did not wait";
  ASSERT_TRUE(SendAll(fd, body.substr(10)));
  std::string reply = ReadUntilClosed(fd, 10s);
  ::close(fd);
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(reply, HasSubstr(R"({"predictions":["yes"]})"));
  stopped.get();
  EXPECT_EQ(ConnectLoopback(served->server().port()), -1) << "still accepting after Stop()";
}

TEST(ScoringServer, RefusesWhatItCannotServe) {
  EXPECT_ERROR((void)Served(TheBundles().dir / "missing"), ErrorCode::kResourceDoesNotExist,
               HasSubstr("missing"));
  EXPECT_ERROR((void)Served(TheBundles().logistic, {.watch = true}),
               ErrorCode::kInvalidParameterValue,
               HasSubstr("only models:/<name>@<alias>, models:/<name>/<stage> and "
                         "models:/<name>/latest can move to another version"));
}

// --watch follows the alias to another version; a check that fails (the alias deleted) keeps the
// version being served. (Under load: models_serve_cli_test.cc.)
TEST(ScoringServer, WatchFollowsTheAliasAndKeepsServingWhenACheckFails) {
  TheBundles();  // registers the flavors
  TempDir dir;
  const std::string tracking_uri = "sqlite:///" + (dir / "mlruns.db").string();
  test::SaveLogistic(dir / "v1", "no", "yes");
  test::SaveLogistic(dir / "v2", "negative", "positive");
  registry::ModelResolver resolver(tracking_uri);
  ASSERT_EQ(resolver.Register((dir / "v1").string(), "clf").version, "1");
  ASSERT_EQ(resolver.Register((dir / "v2").string(), "clf").version, "2");
  resolver.registry().SetRegisteredModelAlias("clf", "prod", "1");
  Served served({.model_uri = "models:/clf@prod",
                 .tracking_uri = tracking_uri,
                 .watch = true,
                 .watch_interval = 20ms});
  EXPECT_EQ(served.server().served_version(), "1");
  const std::string kRow = R"({"inputs": {"x1": 2.0, "x2": 1.0}})";
  EXPECT_EQ(served.Invoke(kRow).body, R"({"predictions":["yes"]})");

  resolver.registry().SetRegisteredModelAlias("clf", "prod", "2");
  for (int i = 0; i < 1000 && served.server().served_version() != "2"; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(served.server().served_version(), "2");
  EXPECT_EQ(served.Invoke(kRow).body, R"({"predictions":["positive"]})");
  json metadata = json::parse(served.client().Get("/metadata").body);
  EXPECT_EQ(metadata["model_name"], "clf");
  EXPECT_EQ(metadata["model_version"], "2");
  EXPECT_EQ(json::parse(served.client().Get("/v2/models/clf").body)["versions"], json({"2"}));
  EXPECT_EQ(served.Metric("mlt_serving_model_reloads_total"), 1);

  resolver.registry().DeleteRegisteredModelAlias("clf", "prod");
  for (int i = 0; i < 1000 && served.Metric("mlt_serving_model_reload_failures_total") < 1; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GE(served.Metric("mlt_serving_model_reload_failures_total"), 1);
  EXPECT_EQ(served.server().served_version(), "2");
  EXPECT_EQ(served.Invoke(kRow).body, R"({"predictions":["positive"]})");
  EXPECT_EQ(served.client().Get("/ping").status, 200);
}

}  // namespace
}  // namespace mltrack::serving
