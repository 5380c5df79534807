// Golden answers of the scoring server: every request format (dataframe_split,
// dataframe_records, instances, inputs, CSV) for every flavor, over real HTTP on an ephemeral
// loopback port, against real models trained here (served_model.h).
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/als/als_model.h"
#include "models/bundle/flavor_registry.h"
#include "serving/served_model.h"

namespace mltrack::serving {
namespace {

using json = nlohmann::json;
using test::Served;
using test::TheBundles;
using ::testing::StartsWith;

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
  // Records keep the columns' order, as pandas' to_json(orient="records") writes them.
  EXPECT_THAT(result.body, StartsWith(
                               R"({"predictions":[{"prediction":"yes","probability_no":)"));
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

}  // namespace
}  // namespace mltrack::serving
