// ActiveRun::LogModel: the uploaded bundle, the log-model history tag, registration, and the
// refusals that leave the run untouched; with a SQLite tracking URI and through `mlt server`.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mltrack/client.h"
#include "models/bundle/archive.h"
#include "models/bundle/mlmodel.h"
#include "registry/model_uri.h"
#include "server/tracking_server.h"
#include "support/scale_bundle.h"
#include "support/test_support.h"

namespace mltrack {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::TempDir;
using ::mltrack::testing::WriteFile;
using ::mltrack::testing::WriteScaleBundle;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string HistoryTag(Client& client, const std::string& run_id) {
  for (const auto& tag : client.GetRun(run_id).data.tags) {
    if (tag.key == "mlflow.log-model.history") return tag.value;
  }
  return "";
}

// Every file under `dir`, relative, sorted.
std::vector<std::string> Files(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), dir).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class LogModel : public ::testing::TestWithParam<bool> {
 protected:
  LogModel() {
    std::string uri = "sqlite:///" + (dir_ / "mlruns.db").string();
    if (GetParam()) {
      server_.emplace(server::TrackingServerOptions{.backend_store_uri = uri,
                                                    .artifacts_destination =
                                                        (dir_ / "served").string(),
                                                    .port = 0,
                                                    .workers = 4});
      server_->Start();
      uri = server_->url();
    }
    client_.emplace(ClientOptions{.tracking_uri = uri});
    WriteScaleBundle(dir_ / "bundle", 3);
  }
  Client& client() { return *client_; }

  TempDir dir_;
  std::optional<server::TrackingServer> server_;
  std::optional<Client> client_;
};

TEST_P(LogModel, UploadsTheBundleAndRecordsItInTheHistoryTag) {
  std::string before = ReadFile(dir_ / "bundle" / "MLmodel");
  auto run = client().StartRun({.experiment = "models"});
  LoggedModel logged = run.LogModel(dir_ / "bundle", "model");
  EXPECT_EQ(logged.model_uri, fmt::format("runs:/{}/model", run.run_id()));
  EXPECT_EQ(ReadFile(dir_ / "bundle" / "MLmodel"), before) << "the caller's bundle was modified";

  fs::path fetched = client().DownloadModel(logged.model_uri, dir_ / "fetched");
  EXPECT_THAT(Files(fetched), ElementsAre("MLmodel", "scale.bin"));
  models::ModelMeta meta = models::ReadMlmodel(fetched / "MLmodel");
  EXPECT_EQ(meta.run_id, run.run_id());
  EXPECT_EQ(meta.artifact_path, "model");
  EXPECT_EQ(meta.model_uuid, logged.model_uuid);
  EXPECT_EQ(meta.flavors, models::ReadMlmodel(dir_ / "bundle" / "MLmodel").flavors);

  run.LogModel(dir_ / "bundle", "second");
  auto history = nlohmann::json::parse(HistoryTag(client(), run.run_id()));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0]["artifact_path"], "model");
  EXPECT_EQ(history[0]["run_id"], run.run_id());
  EXPECT_EQ(history[0]["model_uuid"], logged.model_uuid);
  EXPECT_TRUE(history[0]["flavors"].contains("test.scale"));
  EXPECT_EQ(history[1]["artifact_path"], "second");
}

TEST_P(LogModel, AcceptsABundleArchive) {
  models::ExportBundle(dir_ / "bundle", dir_ / "bundle.tar.gz");
  auto run = client().StartRun({.experiment = "models"});
  LoggedModel logged = run.LogModel(dir_ / "bundle.tar.gz", "from-archive");
  fs::path fetched = client().DownloadModel(logged.model_uri, dir_ / "fetched");
  EXPECT_EQ(models::ReadMlmodel(fetched / "MLmodel").artifact_path, "from-archive");
}

TEST_P(LogModel, RegistersWhenAsked) {
  auto run = client().StartRun({.experiment = "models"});
  LoggedModel first = run.LogModel(dir_ / "bundle", "a", {.registered_model_name = "scale"});
  LoggedModel second = run.LogModel(dir_ / "bundle", "b", {.registered_model_name = "scale"});
  EXPECT_EQ(first.registered_version, "1");
  EXPECT_EQ(second.registered_version, "2");
  EXPECT_EQ(second.registered_model_name, "scale");
  fs::path fetched = client().DownloadModel("models:/scale/latest", dir_ / "latest");
  EXPECT_EQ(models::ReadMlmodel(fetched / "MLmodel").artifact_path, "b");
  EXPECT_EQ(client().RegisterModel(first.model_uri, "scale"), "3");
}

TEST_P(LogModel, RefusalsUploadAndRecordNothing) {
  auto run = client().StartRun({.experiment = "models"});
  const std::string id = run.run_id();
  // A flavor whose data file is missing.
  fs::remove(dir_ / "bundle" / "scale.bin");
  EXPECT_ERROR(run.LogModel(dir_ / "bundle", "model"), ErrorCode::kInvalidParameterValue,
               HasSubstr("flavor 'test.scale' names the data 'scale.bin', which the bundle does "
                         "not hold"));
  // A malformed MLmodel.
  WriteFile(dir_ / "bundle" / "MLmodel", "flavors: {unclosed\n");
  EXPECT_ERROR(run.LogModel(dir_ / "bundle", "model"), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid MLmodel file"));
  // No bundle at all; a path that escapes; the artifact root.
  EXPECT_ERROR(run.LogModel(dir_ / "absent", "model"), ErrorCode::kResourceDoesNotExist,
               HasSubstr("absent"));
  WriteScaleBundle(dir_ / "good", 1);
  EXPECT_ERROR(run.LogModel(dir_ / "good", "../escape"), ErrorCode::kInvalidParameterValue,
               HasSubstr("../escape"));
  EXPECT_ERROR(run.LogModel(dir_ / "good", ""), ErrorCode::kInvalidParameterValue,
               HasSubstr("artifact root"));
  EXPECT_EQ(HistoryTag(client(), id), "");
  EXPECT_ERROR(client().DownloadModel(fmt::format("runs:/{}/model", id), dir_ / "nothing"),
               ErrorCode::kResourceDoesNotExist, HasSubstr("No model bundle"));

  // A second model at a taken path is refused; the first stays as it was.
  run.LogModel(dir_ / "good", "model");
  WriteScaleBundle(dir_ / "other", 9);
  EXPECT_ERROR(run.LogModel(dir_ / "other", "model"), ErrorCode::kResourceAlreadyExists,
               HasSubstr(fmt::format("Run {} already has a model at 'model'", id)));
  EXPECT_EQ(nlohmann::json::parse(HistoryTag(client(), id)).size(), 1u);

  // An ended run takes no more models.
  run.End();
  EXPECT_ERROR(run.LogModel(dir_ / "other", "late"), ErrorCode::kInvalidState,
               HasSubstr("has ended"));
}

INSTANTIATE_TEST_SUITE_P(Stores, LogModel, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Rest" : "Sqlite"; });

}  // namespace
}  // namespace mltrack
