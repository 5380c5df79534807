// The scoring server over real HTTP on ephemeral loopback ports, serving real models trained here
// and saved to temporary folders: golden answers for every format and flavor, every kind of bad
// input, /metrics, the Open Inference Protocol v2 routes, the body limit, the timeout and stopping
// with a request in flight. The load tests run `mlt models serve` (models_serve_cli_test.cc).
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
#include "support/test_support.h"

namespace mltrack::serving {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::mltrack::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

// --- models --------------------------------------------------------------------------------------

// Rows of two features; the label says whether x1 + x2 > 0, with a wide empty margin, so every
// classifier here is certain of points far from the boundary.
models::Table Separable(size_t rows, const std::string& negative, const std::string& positive) {
  std::vector<double> x1, x2;
  std::vector<std::string> y;
  for (size_t i = 0; i < rows; ++i) {
    double a = static_cast<double>((i * 37) % 101) / 25.0 - 2.0;
    double b = static_cast<double>((i * 53) % 89) / 22.0 - 2.0;
    if (std::abs(a + b) < 0.5) continue;
    x1.push_back(a);
    x2.push_back(b);
    y.push_back(a + b > 0 ? positive : negative);
  }
  models::Table table;
  table.AddColumn("x1", std::move(x1));
  table.AddColumn("x2", std::move(x2));
  table.AddColumn("y", std::move(y));
  return table;
}

models::Table Features(const models::Table& table) {
  models::Table out;
  for (const auto& column : table.columns()) {
    if (column.name != "y") out.AddColumn(column.name, column.values);
  }
  return out;
}

void SaveLogistic(const fs::path& dir, const std::string& negative, const std::string& positive) {
  models::Table table = Separable(400, negative, positive);
  auto comm = dist::MakeSingleCommunicator();
  logistic::TrainInput input;
  input.train.table = &table;
  input.label = "y";
  auto result = logistic::TrainLogistic(input, {.reg = 0.01}, *comm);
  result.model->Save(dir, models::NewModelMeta(), Features(table));
}

void SaveForest(const fs::path& dir, forest::Task task) {
  models::Table table = Separable(400, "no", "yes");
  if (task == forest::Task::kRegression) {
    // y = 10 on the positive side, -10 on the other: pure leaves, exact answers.
    const auto& labels = std::get<std::vector<std::string>>(table.columns()[2].values);
    std::vector<double> y;
    for (const auto& label : labels) y.push_back(label == "yes" ? 10.0 : -10.0);
    models::Table regression = Features(table);
    regression.AddColumn("y", std::move(y));
    table = std::move(regression);
  }
  std::vector<int64_t> ids(table.num_rows());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i) + 2;
  auto comm = dist::MakeSingleCommunicator();
  forest::ForestOptions options{.task = task,
                                .impurity = forest::DefaultImpurity(task),
                                .num_trees = 10,
                                .feature_subset = "all"};
  forest::ForestInput input;
  input.table = &table;
  input.row_ids = ids;
  input.label = "y";
  auto result = forest::TrainForest(input, options, *comm);
  result.model->Save(dir, models::NewModelMeta(), Features(table));
}

// Users 1..4 and items 10..13: users 1 and 2 like the even items, 3 and 4 the odd ones.
void SaveAls(const fs::path& dir) {
  als::Ratings ratings;
  for (int64_t user = 1; user <= 4; ++user) {
    for (int64_t item = 10; item <= 13; ++item) {
      ratings.user.push_back(user);
      ratings.item.push_back(item);
      ratings.rating.push_back(((user <= 2) == (item % 2 == 0)) ? 5.0f : 1.0f);
      ratings.timestamp.push_back(0);
      ratings.line.push_back(static_cast<int64_t>(ratings.line.size()) + 1);
    }
  }
  auto comm = dist::MakeSingleCommunicator();
  auto result = als::TrainAls(
      ratings, {.rank = 2, .max_iter = 10, .cold_start = als::ColdStart::kDrop}, *comm);
  result.model->Save(dir, models::NewModelMeta());
}

// The bundles every test serves, trained once.
struct Bundles {
  TempDir dir;
  fs::path logistic = dir / "logistic", forest = dir / "forest";
  fs::path regression = dir / "regression", als = dir / "als";
  Bundles() {
    logistic::RegisterLogisticFlavor();
    forest::RegisterForestFlavor();
    als::RegisterAlsFlavor();
    SaveLogistic(logistic, "no", "yes");
    SaveForest(forest, forest::Task::kClassification);
    SaveForest(regression, forest::Task::kRegression);
    SaveAls(als);
  }
};

const Bundles& TheBundles() {
  static Bundles* bundles = new Bundles();  // leaked: tests may run until exit
  return *bundles;
}

// --- a served model and a client -----------------------------------------------------------------

http::ClientOptions TestClientOptions() {
  http::ClientOptions options;
  options.connect_timeout = 2000ms;
  options.read_timeout = 30000ms;
  options.max_attempts = 1;
  return options;
}

class Served {
 public:
  explicit Served(const fs::path& bundle, ScoringServerOptions options = {})
      : Served([&] {
          options.model_uri = bundle.string();
          return options;
        }()) {}
  explicit Served(ScoringServerOptions options) {
    options.port = 0;
    if (options.tracking_uri.empty()) {
      options.tracking_uri = "sqlite:///" + (tracking_dir_ / "mlruns.db").string();
    }
    server_ = std::make_unique<ScoringServer>(options);
    server_->Start();
    client_ = std::make_unique<http::Client>(server_->url(), TestClientOptions());
  }
  ScoringServer& server() { return *server_; }
  http::Client& client() { return *client_; }
  http::Result Post(const std::string& path, const std::string& body,
                    const std::string& content_type = "application/json") {
    return client_->Send("POST", path, body, content_type, false);
  }
  http::Result Invoke(const std::string& body,
                      const std::string& content_type = "application/json") {
    return Post("/invocations", body, content_type);
  }
  // The value of one series of /metrics ("name{labels}"); -1 when absent.
  double Metric(const std::string& series) {
    std::string text = client_->Get("/metrics").body;
    size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
  }

 private:
  TempDir tracking_dir_;
  std::unique_ptr<ScoringServer> server_;
  std::unique_ptr<http::Client> client_;
};

// --- request encodings ---------------------------------------------------------------------------

struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<json>> data;
};

struct Encoded {
  std::string format;
  std::string content_type;
  std::string body;
};

// The same rows in each of MLflow's request formats (positional rows when `by_position`: the
// columns are the signature's, in its order).
std::vector<Encoded> EveryFormat(const Rows& rows, bool by_position = true) {
  json split = {{"columns", rows.columns}, {"data", rows.data}};
  json records = json::array(), positional = json::array(), columns = json::object();
  for (const auto& row : rows.data) {
    json record = json::object();
    for (size_t c = 0; c < rows.columns.size(); ++c) {
      record[rows.columns[c]] = row[c];
      columns[rows.columns[c]].push_back(row[c]);
    }
    records.push_back(record);
    positional.push_back(row);
  }
  std::string csv = fmt::format("{}\n", fmt::join(rows.columns, ","));
  for (const auto& row : rows.data) {
    std::vector<std::string> cells;
    for (const auto& cell : row)
      cells.push_back(cell.is_string() ? cell.get<std::string>() : cell.dump());
    csv += fmt::format("{}\n", fmt::join(cells, ","));
  }
  std::vector<Encoded> out = {
      {"dataframe_split", "application/json", json({{"dataframe_split", split}}).dump()},
      {"dataframe_records", "application/json", json({{"dataframe_records", records}}).dump()},
      {"instances (records)", "application/json", json({{"instances", records}}).dump()},
      {"inputs (columns)", "application/json", json({{"inputs", columns}}).dump()},
      {"csv", "text/csv", csv},
      {"json; charset=utf-8", "application/json; charset=UTF-8",
       json({{"dataframe_records", records}}).dump()},
  };
  if (by_position) {
    out.push_back(
        {"instances (rows)", "application/json", json({{"instances", positional}}).dump()});
  }
  if (rows.data.size() == 1) {
    out.push_back({"inputs (one row)", "application/json", json({{"inputs", records[0]}}).dump()});
  }
  return out;
}

void ExpectEveryFormatAnswers(Served& served, const Rows& rows, const std::string& expected,
                              bool by_position = true) {
  for (const Encoded& request : EveryFormat(rows, by_position)) {
    http::Result result = served.Invoke(request.body, request.content_type);
    EXPECT_EQ(result.status, 200) << request.format << ": " << result.body;
    EXPECT_EQ(result.content_type, "application/json") << request.format;
    EXPECT_EQ(result.body, expected) << request.format << " request: " << request.body;
  }
}

std::string Repeat(const std::string& text, size_t times) {
  std::string out;
  out.reserve(text.size() * times);
  for (size_t i = 0; i < times; ++i) out += text;
  return out;
}

const Rows kTwoPoints = {{"x1", "x2"}, {{2.0, 1.0}, {-2.0, -1.5}}};

// --- golden answers ------------------------------------------------------------------------------

TEST(ScoringServerGolden, LogisticRegressionAnswersLabelsInEveryFormat) {
  Served served(TheBundles().logistic);
  ExpectEveryFormatAnswers(served, kTwoPoints, R"({"predictions":["yes","no"]})");
  // Integers where the signature has doubles are converted safely, as MLflow does.
  ExpectEveryFormatAnswers(served, {{"x1", "x2"}, {{3, 1}}}, R"({"predictions":["yes"]})");
}

TEST(ScoringServerGolden, PredictProbaAnswersRecordsWithEveryClassProbability) {
  Served served(TheBundles().logistic);
  http::Result result = served.Invoke(
      R"({"dataframe_split": {"columns": ["x1", "x2"], "data": [[2.0, 1.0], [-2.0, -1.5]]},)"
      R"( "params": {"predict_proba": true}})");
  ASSERT_EQ(result.status, 200) << result.body;
  json predictions = json::parse(result.body).at("predictions");
  ASSERT_EQ(predictions.size(), 2u);
  EXPECT_EQ(predictions[0]["prediction"], "yes");
  EXPECT_EQ(predictions[1]["prediction"], "no");
  for (const json& p : predictions) {
    EXPECT_EQ(p.size(), 3u) << p;
    EXPECT_NEAR(p["probability_no"].get<double>() + p["probability_yes"].get<double>(), 1, 1e-12);
  }
  EXPECT_GT(predictions[0]["probability_yes"].get<double>(), 0.99);
  EXPECT_GT(predictions[1]["probability_no"].get<double>(), 0.99);
}

TEST(ScoringServerGolden, RandomForestClassifierAnswersLabelsInEveryFormat) {
  Served served(TheBundles().forest);
  ExpectEveryFormatAnswers(served, kTwoPoints, R"({"predictions":["yes","no"]})");
}

TEST(ScoringServerGolden, RandomForestRegressorAnswersValuesInEveryFormat) {
  Served served(TheBundles().regression);
  ExpectEveryFormatAnswers(served, kTwoPoints, R"({"predictions":[10.0,-10.0]})");
}

// The expected answers come from the same bundle loaded here: the server must give them exactly.
TEST(ScoringServerGolden, AlsAnswersPairsInEveryFormatAndTopK) {
  auto model = models::LoadModel(TheBundles().als);
  const auto& als_model = dynamic_cast<const als::AlsModel&>(*model);
  Served served(TheBundles().als);
  json pairs = {als_model.PredictPair(1, 10), als_model.PredictPair(3, 13)};
  EXPECT_GT(pairs[0].get<double>(), pairs[1].get<double>() - 10);  // both finite numbers
  ExpectEveryFormatAnswers(served, {{"user", "item"}, {{1, 10}, {3, 13}}},
                           json({{"predictions", pairs}}).dump());

  auto top_k = [&](int64_t user, int k) {
    json out = json::array();
    auto best = als_model.Recommend(user, k);
    for (size_t r = 0; r < best.size(); ++r) {
      out.push_back(
          {{"user", user}, {"rank", r + 1}, {"item", best[r].first}, {"score", best[r].second}});
    }
    return out;
  };
  json expected = top_k(1, 2);
  for (const json& row : top_k(3, 2)) expected.push_back(row);
  http::Result by_param =
      served.Invoke(R"({"dataframe_records": [{"user": 1}, {"user": 3}], "params": {"k": 2}})");
  ASSERT_EQ(by_param.status, 200) << by_param.body;
  EXPECT_EQ(json::parse(by_param.body), json({{"predictions", expected}}));
  EXPECT_EQ(json::parse(by_param.body)["predictions"][0]["item"].get<int64_t>() % 2, 0)
      << "user 1 likes the even items";
  http::Result by_column = served.Invoke("user,k\n1,2\n3,2\n", "text/csv");
  EXPECT_EQ(json::parse(by_column.body), json({{"predictions", expected}}));
  http::Result by_default = served.Invoke(R"({"inputs": {"user": 1}})");
  EXPECT_EQ(json::parse(by_default.body), json({{"predictions", top_k(1, 10)}}));
  EXPECT_EQ(json::parse(by_default.body)["predictions"].size(), 4u) << "k capped at the items";
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

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  for (size_t sent = 0; sent < bytes.size();) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads until the peer closes the connection or 10 s pass.
std::string ReadUntilClosed(int fd) {
  std::string reply;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, 100) <= 0) continue;
    char buffer[4096];
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  return reply;
}

// What a client that sends no Content-Type gets (httplib's client always sends one).
TEST(ScoringServer, TakesABodyWithoutContentTypeAsJson) {
  Served served(TheBundles().logistic);
  int fd = Connect(served.server().port());
  ASSERT_GE(fd, 0);
  std::string body =
      R"({"dataframe_split": {"columns": ["x1", "x2"], "data": [[2, 1], [-2, -1]]}})";
  ASSERT_TRUE(SendAll(fd, fmt::format("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                      "{}\r\nConnection: close\r\n\r\n{}",
                                      body.size(), body)));
  std::string reply = ReadUntilClosed(fd);
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
  int fd = Connect(served.server().port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd,
                      "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      "application/json\r\nContent-Length: 100000000\r\n\r\n" +
                          std::string(1000, ' ')));
  std::string reply = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 413 "));
  EXPECT_THAT(reply, HasSubstr(R"({"error_code":"RESOURCE_LIMIT_EXCEEDED","message":"Request )"
                               R"(body of 100000000 bytes exceeds the limit of 67108864 bytes"})"));
  // A chunked body has no length to refuse up front: reading stops at the limit.
  fd = Connect(small.server().port());
  std::string chunk(512 << 10, ' ');
  std::string chunked =
      "POST /invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += fmt::format("{:x}\r\n{}\r\n", chunk.size(), chunk);
  ASSERT_TRUE(SendAll(fd, chunked + "0\r\n\r\n"));
  reply = ReadUntilClosed(fd);
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
  int fd = Connect(served->server().port());
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
  std::string reply = ReadUntilClosed(fd);
  ::close(fd);
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(reply, HasSubstr(R"({"predictions":["yes"]})"));
  stopped.get();
  EXPECT_EQ(Connect(served->server().port()), -1) << "still accepting after Stop()";
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
  SaveLogistic(dir / "v1", "no", "yes");
  SaveLogistic(dir / "v2", "negative", "positive");
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
