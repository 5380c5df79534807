// The model registry's REST API against MLflow's wire format (model_registry.proto): an
// in-process TrackingServer on an ephemeral loopback port over a fresh SQLite database, driven
// with the requests MLflow's client sends, comparing the exact JSON that comes back. Timestamps
// are checked to be set and then removed before comparing.
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "server/tracking_server.h"
#include "support/test_support.h"

namespace mltrack::registry {
namespace {

using ::mltrack::testing::TempDir;
using json = nlohmann::json;

constexpr const char* kSeeDocs = "See the API docs for more information about request parameters.";

json InvalidParameter(const std::string& message) {
  return {{"error_code", "INVALID_PARAMETER_VALUE"}, {"message", message}};
}

// Removes creation_timestamp and last_updated_timestamp everywhere, expecting each positive.
void StripTimestamps(json& value) {
  if (value.is_object()) {
    for (const char* key : {"creation_timestamp", "last_updated_timestamp"}) {
      if (value.contains(key)) {
        EXPECT_TRUE(value[key].is_number_integer() && value[key].get<int64_t>() > 0) << value;
        value.erase(key);
      }
    }
    for (auto& [key, item] : value.items()) StripTimestamps(item);
  } else if (value.is_array()) {
    for (auto& item : value) StripTimestamps(item);
  }
}

struct Reply {
  int status = 0;
  json body;
};

class RegistryRest : public ::testing::Test {
 protected:
  RegistryRest()
      : server_({.backend_store_uri = "sqlite:///" + (dir_ / "mlruns.db").string(),
                 .artifacts_destination = (dir_ / "artifacts").string(),
                 .port = 0,
                 .workers = 2}),
        port_(server_.Start()),
        client_(server_.url()) {}

  Reply Send(const std::string& method, const std::string& path, const std::string& body) {
    http::Result result = client_.Send(method, "/api/2.0/mlflow/" + path, body,
                                       "application/json", false);
    Reply reply{result.status, json::parse(result.body, nullptr, false)};
    StripTimestamps(reply.body);
    return reply;
  }
  Reply Send(const std::string& method, const std::string& path, const json& body) {
    return Send(method, path, body.dump());
  }
  Reply Get(const std::string& path, const std::multimap<std::string, std::string>& query) {
    http::Result result = client_.Get("/api/2.0/mlflow/" + path + http::QueryString(query));
    Reply reply{result.status, json::parse(result.body, nullptr, false)};
    StripTimestamps(reply.body);
    return reply;
  }
  void Expect(const Reply& reply, int status, const json& body) {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(reply.body, body);
  }

  TempDir dir_;
  server::TrackingServer server_;
  int port_;
  http::Client client_;
};

TEST_F(RegistryRest, CreateGetSearchAliasTransition) {
  Expect(Send("POST", "registered-models/create",
              json{{"name", "recs"},
                   {"description", "ALS"},
                   {"tags", {{{"key", "team"}, {"value", "ml"}}}}}),
         200,
         {{"registered_model",
           {{"name", "recs"},
            {"description", "ALS"},
            {"tags", {{{"key", "team"}, {"value", "ml"}}}}}}});
  json v1 = {{"name", "recs"},          {"version", "1"},
             {"current_stage", "None"}, {"source", "runs:/r1/model"},
             {"run_id", "r1"},          {"status", "READY"}};
  Expect(Send("POST", "model-versions/create",
              json{{"name", "recs"}, {"source", "runs:/r1/model"}, {"run_id", "r1"}}),
         200, {{"model_version", v1}});
  Expect(Get("model-versions/get", {{"name", "recs"}, {"version", "1"}}), 200,
         {{"model_version", v1}});
  Expect(Get("model-versions/get-download-uri", {{"name", "recs"}, {"version", "1"}}), 200,
         {{"artifact_uri", "runs:/r1/model"}});

  Expect(Send("POST", "registered-models/alias",
              json{{"name", "recs"}, {"alias", "champion"}, {"version", "1"}}),
         200, json::object());
  json v1_aliased = v1;
  v1_aliased["aliases"] = {"champion"};
  Expect(Get("registered-models/alias", {{"name", "recs"}, {"alias", "champion"}}), 200,
         {{"model_version", v1_aliased}});

  json v1_production = v1_aliased;
  v1_production["current_stage"] = "Production";
  Expect(Send("POST", "model-versions/transition-stage",
              json{{"name", "recs"},
                   {"version", "1"},
                   {"stage", "production"},
                   {"archive_existing_versions", false}}),
         200, {{"model_version", v1_production}});

  json model = {{"name", "recs"},
                {"description", "ALS"},
                {"latest_versions", {v1_production}},
                {"tags", {{{"key", "team"}, {"value", "ml"}}}},
                {"aliases", {{{"alias", "champion"}, {"version", "1"}}}}};
  Reply got = Get("registered-models/get", {{"name", "recs"}});
  Expect(got, 200, {{"registered_model", model}});
  Expect(Get("registered-models/search", {{"filter", "name LIKE 're%'"}}), 200,
         {{"registered_models", {got.body["registered_model"]}}});
  Expect(Get("registered-models/search", {{"filter", "name = 'other'"}}), 200, json::object());

  Expect(Send("POST", "registered-models/get-latest-versions",
              json{{"name", "recs"}, {"stages", {"Production"}}}),
         200, {{"model_versions", {got.body["registered_model"]["latest_versions"][0]}}});
  Expect(Get("registered-models/get-latest-versions", {{"name", "recs"}, {"stages", "Staging"}}),
         200, json::object());
  Expect(Get("registered-models/get-latest-versions", {{"name", "recs"}}), 200,
         {{"model_versions", {got.body["registered_model"]["latest_versions"][0]}}});
  Reply searched = Get("model-versions/search", {{"filter", "name = 'recs'"}});
  ASSERT_EQ(searched.status, 200) << searched.body;
  ASSERT_EQ(searched.body["model_versions"].size(), 1u);
  EXPECT_EQ(searched.body["model_versions"][0]["current_stage"], "Production");

  Expect(Send("DELETE", "registered-models/alias",
              json{{"name", "recs"}, {"alias", "champion"}}),
         200, json::object());
  Expect(Send("DELETE", "model-versions/delete", json{{"name", "recs"}, {"version", "1"}}), 200,
         json::object());
  Expect(Send("DELETE", "registered-models/delete", json{{"name", "recs"}}), 200,
         json::object());
  Expect(Get("registered-models/get", {{"name", "recs"}}), 404,
         {{"error_code", "RESOURCE_DOES_NOT_EXIST"},
          {"message", "Registered Model with name=recs not found"}});
}

TEST_F(RegistryRest, PatchUpdatesAndTags) {
  Send("POST", "registered-models/create", json{{"name", "m"}});
  Send("POST", "model-versions/create", json{{"name", "m"}, {"source", "s3://b/m"}});
  Expect(Send("PATCH", "registered-models/update", json{{"name", "m"}, {"description", "d"}}),
         200,
         {{"registered_model",
           {{"name", "m"},
            {"description", "d"},
            {"latest_versions",
             {{{"name", "m"},
               {"version", "1"},
               {"current_stage", "None"},
               {"source", "s3://b/m"},
               {"status", "READY"}}}}}}});
  Expect(Send("POST", "model-versions/set-tag",
              json{{"name", "m"}, {"version", "1"}, {"key", "k"}, {"value", "v"}}),
         200, json::object());
  Expect(Send("PATCH", "model-versions/update",
              json{{"name", "m"}, {"version", "1"}, {"description", "vd"}}),
         200,
         {{"model_version",
           {{"name", "m"},
            {"version", "1"},
            {"current_stage", "None"},
            {"description", "vd"},
            {"source", "s3://b/m"},
            {"status", "READY"},
            {"tags", {{{"key", "k"}, {"value", "v"}}}}}}});
  Expect(Send("DELETE", "model-versions/delete-tag",
              json{{"name", "m"}, {"version", "1"}, {"key", "k"}}),
         200, json::object());
  Expect(Send("POST", "registered-models/set-tag",
              json{{"name", "m"}, {"key", "k"}, {"value", "v"}}),
         200, json::object());
  Expect(Send("DELETE", "registered-models/delete-tag", json{{"name", "m"}, {"key", "k"}}), 200,
         json::object());
  Expect(Send("POST", "registered-models/rename", json{{"name", "m"}, {"new_name", "n"}}), 200,
         {{"registered_model",
           {{"name", "n"},
            {"description", "d"},
            {"latest_versions",
             {{{"name", "n"},
               {"version", "1"},
               {"current_stage", "None"},
               {"description", "vd"},
               {"source", "s3://b/m"},
               {"status", "READY"}}}}}}});
}

TEST_F(RegistryRest, RefusesBadInputWithMlflowErrorBodies) {
  Reply malformed = Send("POST", "registered-models/create", std::string("{\"name\": "));
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.body["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_THAT(malformed.body["message"].get<std::string>(),
              ::testing::StartsWith("Malformed JSON in request body: parse error at line 1"));
  Expect(Send("POST", "registered-models/create", json::object()), 400,
         InvalidParameter(fmt::format("Missing value for required parameter 'name'. {}",
                                      kSeeDocs)));
  Expect(Get("model-versions/get", {{"name", "m"}}), 400,
         InvalidParameter(fmt::format("Missing value for required parameter 'version'. {}",
                                      kSeeDocs)));

  Send("POST", "registered-models/create", json{{"name", "m"}});
  Send("POST", "model-versions/create", json{{"name", "m"}, {"source", "s3://b/m"}});
  Expect(Send("POST", "registered-models/alias",
              json{{"name", "m"}, {"alias", "latest"}, {"version", "1"}}),
         400, InvalidParameter("'latest' alias name (case insensitive) is reserved."));
  Expect(Send("POST", "registered-models/alias",
              json{{"name", "m"}, {"alias", "v12"}, {"version", "1"}}),
         400, InvalidParameter("Version alias name 'v12' is reserved."));
  Expect(Send("POST", "model-versions/transition-stage",
              json{{"name", "m"},
                   {"version", "1"},
                   {"stage", "Live"},
                   {"archive_existing_versions", false}}),
         400,
         InvalidParameter("Invalid Model Version stage: Live. Value must be one of None, "
                          "Staging, Production, Archived."));
  Expect(Send("POST", "model-versions/transition-stage",
              json{{"name", "m"}, {"version", "1"}, {"stage", "Staging"}}),
         400,
         InvalidParameter(fmt::format(
             "Missing value for required parameter 'archive_existing_versions'. {}", kSeeDocs)));
  Expect(Send("POST", "registered-models/create", json{{"name", "m"}}), 400,
         {{"error_code", "RESOURCE_ALREADY_EXISTS"},
          {"message", "Registered Model (name=m) already exists."}});
  Expect(Get("registered-models/alias", {{"name", "m"}, {"alias", "nope"}}), 400,
         InvalidParameter("Registered model alias nope not found."));
  Expect(Get("model-versions/search", {{"max_results", "3000000000"}}), 400,
         InvalidParameter("Invalid value for request parameter max_results. It must be at most "
                          "200000, but got value 3000000000"));
  Expect(Get("registered-models/search", {{"max_results", "0"}}), 400,
         InvalidParameter("Invalid value for max_results. It must be a positive integer, but got "
                          "0"));
}

TEST_F(RegistryRest, ServesTheAjaxPrefixToo) {
  http::Result result = client_.Send("POST", "/ajax-api/2.0/mlflow/registered-models/create",
                                     R"({"name": "a"})", "application/json", false);
  EXPECT_EQ(result.status, 200) << result.body;
}

}  // namespace
}  // namespace mltrack::registry
