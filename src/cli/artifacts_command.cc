#include "cli/artifacts_command.h"

#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "common/safe_path.h"
#include "common/tracking_uri.h"
#include "tracking/artifact_repository.h"
#include "tracking/entity_json.h"

namespace mltrack::cli {
namespace {

namespace fs = std::filesystem;

void AddRunIdOption(CLI::App& command, std::string* run_id) {
  command.add_option("-r,--run-id", *run_id, "Id of the run")->required()->type_name("RUN_ID");
}

// The run's repository, from its artifact_uri.
std::unique_ptr<tracking::ArtifactRepository> OpenRunArtifacts(const GlobalOptions& global,
                                                               const std::string& run_id,
                                                               std::string* artifact_uri) {
  Run run = OpenStore(global)->GetRun(run_id);
  if (artifact_uri) *artifact_uri = run.info.artifact_uri;
  // mlflow-artifacts: URIs are reached through the tracking server's artifact proxy.
  return tracking::OpenArtifactRepository(
      run.info.artifact_uri,
      global.tracking_uri.empty() ? TrackingUriFromEnvironment() : global.tracking_uri);
}

std::string JoinArtifactPath(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// --- log ----------------------------------------------------------------------------------------

void SetupLog(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string local_path;
    std::string run_id;
    std::string artifact_path;
  };
  auto options = std::make_shared<Options>();
  command.add_option("LOCAL_PATH", options->local_path, "The file or folder to log")->required();
  AddRunIdOption(command, &options->run_id);
  command
      .add_option("-a,--artifact-path", options->artifact_path,
                  "The folder under the run's artifact root to log into (default: the root)")
      ->type_name("DIR");
  command.callback([options, &global] {
    // Checked before the store is touched: a path that escapes the root is refused outright.
    std::string artifact_dir = NormalizeRelativePath(options->artifact_path);
    auto repository = OpenRunArtifacts(global, options->run_id, nullptr);
    fs::path local(options->local_path);
    std::error_code ec;
    std::string logged_as;
    if (fs::is_directory(local, ec)) {
      repository->LogDir(local, artifact_dir);
      logged_as = artifact_dir;
    } else {
      repository->LogFile(local, artifact_dir);
      logged_as = JoinArtifactPath(artifact_dir, local.filename().string());
    }
    Print(fmt::format("Logged '{}' to runs:/{}/{}\n", options->local_path, options->run_id,
                      logged_as));
  });
}

// --- list ---------------------------------------------------------------------------------------

void SetupList(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string run_id;
    std::string artifact_path;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  AddRunIdOption(command, &options->run_id);
  command
      .add_option("-a,--artifact-path", options->artifact_path,
                  "The folder to list (default: the root)")
      ->type_name("PATH");
  command.add_flag("--json", options->json,
                   "Print {\"root_uri\": ..., \"files\": [...]} as MLflow's REST API writes it");
  command.callback([options, &global] {
    std::string path = NormalizeRelativePath(options->artifact_path);
    std::string root_uri;
    auto repository = OpenRunArtifacts(global, options->run_id, &root_uri);
    std::vector<FileInfo> files = repository->List(path);
    if (options->json) {
      nlohmann::json out = {{"root_uri", root_uri}, {"files", nlohmann::json::array()}};
      for (const auto& file : files) out["files"].push_back(tracking::ToJson(file));
      PrintJson(out);
      return;
    }
    Table table({{"PATH"}, {"SIZE", Align::kRight}});
    for (const auto& file : files) {
      if (file.is_dir) {
        table.AddRow({file.path + "/", ""});
      } else {
        table.AddRow({file.path, std::to_string(file.file_size)});
      }
    }
    Print(table.Render());
  });
}

// --- download -----------------------------------------------------------------------------------

void SetupDownload(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string run_id;
    std::string artifact_path;
    std::string dst_path;
  };
  auto options = std::make_shared<Options>();
  AddRunIdOption(command, &options->run_id);
  command
      .add_option("-a,--artifact-path", options->artifact_path,
                  "The file or folder to download (default: all the run's artifacts)")
      ->type_name("PATH");
  command
      .add_option("-d,--dst-path", options->dst_path,
                  "The local folder to download into; created when missing")
      ->required()
      ->type_name("DIR");
  command.callback([options, &global] {
    std::string path = NormalizeRelativePath(options->artifact_path);
    auto repository = OpenRunArtifacts(global, options->run_id, nullptr);
    fs::path local = repository->Download(path, fs::path(options->dst_path));
    Print(local.string() + "\n");
  });
}

}  // namespace

void SetupArtifactsCommand(CLI::App& command, GlobalOptions& global) {
  AddCommands(command, global,
              {
                  {"log", "Log a local file or folder as artifacts of a run", SetupLog},
                  {"list", "List the artifacts of a run", SetupList},
                  {"download", "Download artifacts of a run to a local folder", SetupDownload},
              });
}

}  // namespace mltrack::cli
