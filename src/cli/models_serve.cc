#include "cli/models_serve.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/text.h"
#include "mltrack/error.h"
#include "models/bundle/file_util.h"
#include "registry/model_uri.h"
#include "serving/request_codec.h"
#include "serving/scorer.h"
#include "serving/scoring_server.h"

namespace mltrack::cli {
namespace {

namespace fs = std::filesystem;
using serving::BodyFormat;

std::chrono::milliseconds Milliseconds(double seconds) {
  return std::chrono::milliseconds(std::max<int64_t>(1, std::llround(seconds * 1000)));
}

void AddModelUriOption(CLI::App& command, std::string* uri) {
  command
      .add_option("-m,--model-uri", *uri,
                  "The model: models:/<name>@<alias>, models:/<name>/<stage|version|latest>, "
                  "runs:/<run_id>/<path>, a bundle folder or a .tar.gz archive")
      ->type_name("URI")
      ->required();
}

// --- serve
// ----------------------------------------------------------------------------------------

struct ServeOptions {
  std::string model_uri;
  std::string host = "127.0.0.1";
  int port = 5001;
  int workers = 16;
  bool watch = false;
  double watch_interval = 2;
  double timeout = 60;
  int max_body_mb = 64;
};

// Serves until SIGINT or SIGTERM, then stops: requests in flight finish, the port is released.
void Serve(const ServeOptions& cli, const GlobalOptions& global) {
  serving::ScoringServerOptions options;
  options.model_uri = cli.model_uri;
  options.tracking_uri = global.tracking_uri;
  options.host = cli.host;
  options.port = cli.port;
  options.workers = cli.workers;
  options.max_body_bytes = static_cast<size_t>(cli.max_body_mb) << 20;
  options.timeout = Milliseconds(cli.timeout);
  options.watch = cli.watch;
  options.watch_interval = Milliseconds(cli.watch_interval);

  std::optional<serving::ScoringServer> server;
  ServeUntilStopSignal(
      [&] {
        server.emplace(options);  // loads the model
        server->Start();
        return fmt::format("mlt models serve listening on {}\n", server->url());
      },
      [&] { server->Stop(); }, [&] { server->Wait(); });
}

void SetupServe(CLI::App& command, GlobalOptions& global) {
  auto options = std::make_shared<ServeOptions>();
  AddModelUriOption(command, &options->model_uri);
  AddListenOptions(command, &options->host, &options->port, &options->workers,
                   "Threads that serve requests, each one keep-alive connection at a time");
  command.add_flag("--watch", options->watch,
                   "Reload when the alias or stage of a models:/ URI moves to another version");
  command
      .add_option("--watch-interval", options->watch_interval,
                  "Seconds between two checks of the alias or stage (with --watch)")
      ->type_name("S")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option("--timeout", options->timeout,
                  "Seconds a request may take, body and scoring included; then 503")
      ->type_name("S")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option("--max-body-mb", options->max_body_mb,
                  "The largest request body, in MiB; larger ones get 413")
      ->type_name("N")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  command.callback([options, &global] { Serve(*options, global); });
}

// --- predict
// --------------------------------------------------------------------------------------

// The format of a file by its extension.
BodyFormat FormatOf(const fs::path& path, const char* what) {
  std::string extension = AsciiLower(path.extension().string());
  if (extension == ".json") return BodyFormat::kJson;
  if (extension == ".csv") return BodyFormat::kCsv;
  throw Error(ErrorCode::kInvalidParameterValue,
              fmt::format("Cannot tell the format of the {} file '{}' from its extension: use "
                          ".csv or .json",
                          what, path.string()));
}

std::string ReadInput(const fs::path& path) {
  std::error_code error;
  if (!fs::exists(path, error)) {
    throw Error(ErrorCode::kResourceDoesNotExist,
                fmt::format("Input file '{}' does not exist", path.string()));
  }
  if (fs::is_directory(path, error)) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Input '{}' is a folder, not a file", path.string()));
  }
  return models::ReadWholeFile(path);
}

struct PredictOptions {
  std::string model_uri;
  std::string input;
  std::string output;
};

void Predict(const PredictOptions& cli, const GlobalOptions& global) {
  // Everything about the files is checked before the model is fetched.
  BodyFormat input_format = FormatOf(cli.input, "input");
  std::optional<BodyFormat> output_format;
  if (!cli.output.empty()) output_format = FormatOf(cli.output, "output");
  std::string text = ReadInput(cli.input);

  std::shared_ptr<const models::Model> model =
      registry::ModelResolver(global.tracking_uri).Load(cli.model_uri);
  const auto& signature = model->meta().signature;
  const models::Schema* schema = signature ? &signature->inputs : nullptr;
  std::unique_ptr<serving::Scorer> scorer = serving::Scorer::ForModel(model);
  serving::ScoringRequest request = serving::DecodeRequest(input_format, text, schema);
  serving::ScoringResult result = scorer->Score(request);

  std::string out;
  if (output_format == BodyFormat::kCsv) {
    out = serving::TableToCsv(result.table);
  } else {
    out = serving::PredictionsBody(result) + "\n";
  }
  if (cli.output.empty()) {
    Print(out);
    return;
  }
  AtomicFileWriter writer(cli.output, fmt::format("Cannot write '{}'", cli.output), std::nullopt);
  writer.Write(out.data(), out.size());
  writer.Commit();
}

void SetupPredict(CLI::App& command, GlobalOptions& global) {
  auto options = std::make_shared<PredictOptions>();
  AddModelUriOption(command, &options->model_uri);
  command
      .add_option("-i,--input", options->input,
                  "Rows to score: a .csv file with a header, or a .json file in one of the "
                  "scoring server's formats (dataframe_split, dataframe_records, instances, "
                  "inputs)")
      ->type_name("FILE")
      ->required();
  command
      .add_option("-o,--output", options->output,
                  "Where to write the predictions: .json ({\"predictions\": ...}) or .csv; "
                  "default: JSON on stdout")
      ->type_name("FILE");
  command.callback([options, &global] { Predict(*options, global); });
}

}  // namespace

void SetupModelsServeCommand(CLI::App& command, GlobalOptions& global) {
  SetupServe(command, global);
}

void SetupModelsPredictCommand(CLI::App& command, GlobalOptions& global) {
  SetupPredict(command, global);
}

}  // namespace mltrack::cli
