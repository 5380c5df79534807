#include "cli/train_common.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "common/scratch_dir.h"
#include "mltrack/error.h"
#include "models/bundle/file_util.h"
#include "models/data/encoding.h"
#include "models/data/split.h"

namespace mltrack::cli {
namespace {

char ParseDelimiter(const std::string& text) {
  if (text == "\\t" || text == "tab" || text == "\t") return '\t';
  if (text.size() != 1) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("Invalid --delimiter '{}': give one character (or 'tab')", text));
  }
  return text[0];
}

std::map<std::string, models::DataType> ParseTypes(const std::vector<std::string>& specs) {
  std::map<std::string, models::DataType> types;
  for (const auto& spec : specs) {
    size_t colon = spec.rfind(':');
    auto type = colon == std::string::npos ? std::nullopt
                                           : models::DataTypeFromName(spec.substr(colon + 1));
    if (colon == 0 || !type) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Invalid --type '{}': expected NAME:TYPE with TYPE one of long, "
                              "double, boolean, string",
                              spec));
    }
    types[spec.substr(0, colon)] = *type;
  }
  return types;
}

data::CsvData Subset(const data::CsvData& all, const std::vector<size_t>& positions) {
  data::CsvData out;
  out.path = all.path;
  out.table = data::TakeRows(all.table, positions);
  out.lines = data::TakeRows<int64_t>(all.lines, positions);
  return out;
}

}  // namespace

void AddDataOptions(CLI::App& command, DataOptions& options) {
  command.add_option("--data", options.data, "Training data (CSV)")->required()->type_name("FILE");
  command.add_option("--test", options.test, "Test data (CSV), scored after training")
      ->type_name("FILE");
  command
      .add_option("--test-fraction", options.test_fraction,
                  "Hold out this fraction of --data as the test set (by --seed and line number)")
      ->check(CLI::Range(0.0, 0.99))
      ->type_name("F");
  command.add_option("--seed", options.seed, "Seed of the train/test split (default: 42)")
      ->type_name("N");
  command.add_option("--delimiter", options.delimiter, "Field delimiter (default: ,; 'tab')")
      ->type_name("C");
  command.add_flag("--no-header", options.no_header,
                   "The first line is data; columns are named c0, c1, ...");
  command
      .add_option("--missing", options.missing,
                  "Tokens that mean a missing value (default: empty, ?, NA)")
      ->delimiter(',')
      ->type_name("TOKEN,...");
  command
      .add_option("--type", options.types,
                  "Override a column's inferred type, e.g. zip:string; may be repeated")
      ->type_name("NAME:TYPE");
}

LoadedData LoadData(const DataOptions& options, dist::Communicator& comm) {
  data::CsvOptions csv;
  csv.delimiter = ParseDelimiter(options.delimiter);
  csv.has_header = !options.no_header;
  csv.missing_tokens = options.missing;
  csv.types = ParseTypes(options.types);
  csv.shard = comm.rank();
  csv.num_shards = comm.size();
  LoadedData loaded;
  CheckEveryRank(comm, [&] {
    if (!options.test.empty() && options.test_fraction > 0) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  "Give either --test or --test-fraction, not both");
    }
    data::CsvData all = data::ReadCsv(options.data, csv);
    if (options.test_fraction > 0) {
      data::Split split = data::TrainTestSplit(all.lines, options.test_fraction, options.seed);
      loaded.test = Subset(all, split.test);
      loaded.train = Subset(all, split.train);
    } else {
      loaded.train = std::move(all);
    }
    if (!options.test.empty()) loaded.test = data::ReadCsv(options.test, csv);
  });
  return loaded;
}

std::map<std::string, std::string> DataParams(const DataOptions& data, const std::string& label,
                                              const std::string& unknown_category,
                                              const dist::Communicator& comm) {
  std::map<std::string, std::string> params = {{"label", label},
                                               {"data", data.data},
                                               {"ranks", std::to_string(comm.size())},
                                               {"unknown_category", unknown_category}};
  if (!data.test.empty()) params["test_data"] = data.test;
  if (data.test_fraction > 0) {
    params["test_fraction"] = FormatParamValue(data.test_fraction);
    params["split_seed"] = std::to_string(data.seed);
  }
  return params;
}

models::Table InputExample(const models::Table& train, const std::string& label) {
  constexpr size_t kRows = 5;
  std::vector<size_t> rows;
  for (size_t i = 0; i < std::min(kRows, train.num_rows()); ++i) rows.push_back(i);
  return data::DropColumn(data::TakeRows(train, rows), label);
}

std::string RunLine(const std::string& run_id, const LoggedModel& logged) {
  std::string line = fmt::format("Run {}; model {}", run_id, logged.model_uri);
  if (!logged.registered_version.empty()) {
    line += fmt::format(" (registered as {} version {})", logged.registered_model_name,
                        logged.registered_version);
  }
  return line + "\n";
}

void AddUnknownCategoryOption(CLI::App& command, std::string* unknown,
                              std::string_view slot_meaning) {
  command
      .add_option("--unknown-category", *unknown,
                  fmt::format("An unseen category at prediction time: error, or slot ({}) "
                              "(default: error)",
                              slot_meaning))
      ->check(CLI::IsMember({"error", "slot"}));
}

data::UnknownCategory UnknownCategoryOf(const std::string& unknown) {
  return unknown == "slot" ? data::UnknownCategory::kUnknownSlot : data::UnknownCategory::kError;
}

void AddRunOutputOptions(CLI::App& command, RunOutputOptions& options) {
  command.add_option("--experiment", options.experiment,
                     "Experiment name of a new run (default: MLT_EXPERIMENT_NAME, else Default)")
      ->type_name("NAME");
  command.add_option("--run-name", options.run_name, "Name of a new run")->type_name("NAME");
  command.add_option("--model-path", options.model_path,
                     "Artifact path of the model in the run (default: model)")
      ->type_name("PATH");
  command.add_option("--register", options.register_name,
                     "Also register the model under this name (a new version)")
      ->type_name("NAME");
  command.add_option("-o,--output", options.output_dir, "Also save the model bundle in this folder")
      ->type_name("DIR");
}

TrainerRun::TrainerRun(const GlobalOptions& global, const RunOutputOptions& options,
                       dist::Communicator& comm, const std::string& trainer)
    : options_(options) {
  CheckEveryRank(comm, [&] {
    if (comm.rank() != 0) return;
    client_ = std::make_unique<Client>(ClientOptions{.tracking_uri = global.tracking_uri});
    RunOptions run_options{.experiment = options.experiment, .run_name = options.run_name};
    run_options.tags.push_back({"mltrack.trainer", trainer});
    run_ = std::make_unique<ActiveRun>(client_->StartRun(run_options));
  });
}

TrainerRun::~TrainerRun() = default;  // ~ActiveRun ends the run (FAILED when unwinding)

std::string TrainerRun::run_id() const { return run_ ? run_->run_id() : ""; }

namespace {

// True when `a` and `b` both read whole as finite numbers and are the same number ("0.10" and
// "0.1", "1e-04" and "0.0001").
bool SameNumber(const std::string& a, const std::string& b) {
  auto parse = [](const std::string& text) -> std::optional<double> {
    if (text.empty()) return std::nullopt;
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
  };
  auto x = parse(a);
  auto y = parse(b);
  return x && y && *x == *y;
}

}  // namespace

void TrainerRun::LogParams(const std::map<std::string, std::string>& params) {
  if (!run_) return;
  // Under `mlt run` the run already holds the project's parameters as the user spelled them
  // (-P reg=0.10); a trainer option of the same name and value, printed in the trainer's own
  // spelling ("0.1"), is the same parameter, not a change the store must refuse.
  std::map<std::string, std::string> logged;
  for (const auto& param : client_->GetRun(run_->run_id()).data.params) {
    logged.emplace(param.key, param.value);
  }
  std::map<std::string, std::string> fresh;
  for (const auto& [key, value] : params) {
    auto it = logged.find(key);
    if (it != logged.end() && (it->second == value || SameNumber(it->second, value))) continue;
    fresh.emplace(key, value);
  }
  if (!fresh.empty()) run_->LogParams(fresh);
}

void TrainerRun::LogMetric(const std::string& key, double value, int64_t step) {
  if (run_) run_->LogMetric(key, value, step);
}

LoggedModel TrainerRun::SaveModel(
    dist::Communicator& comm,
    const std::function<void(const std::filesystem::path&, models::ModelMeta)>& save) {
  LoggedModel logged;
  CheckEveryRank(comm, [&] {
    if (comm.rank() != 0) return;
    ScratchDir scratch("mlt-model");
    std::filesystem::path bundle =
        options_.output_dir.empty() ? scratch.path() / "model" : std::filesystem::path(options_.output_dir);
    models::ModelMeta meta = models::NewModelMeta();
    if (run_) meta.run_id = run_->run_id();
    save(bundle, std::move(meta));
    if (run_) {
      logged = run_->LogModel(bundle, options_.model_path,
                              {.registered_model_name = options_.register_name});
    }
  });
  return logged;
}

void TrainerRun::LogTextArtifact(const std::string& name, std::string_view text) {
  if (!run_) return;
  ScratchDir scratch("mlt-model");
  models::WriteFileAtomically(scratch.path() / name, text);
  run_->LogArtifact(scratch.path() / name);
}

void TrainerRun::Finish() {
  if (run_) run_->End(RunStatus::kFinished);
}

Progress::Progress(dist::Communicator& comm)
    : enabled_(comm.rank() == 0 && ::isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() { Done(); }

void Progress::Update(const std::string& text) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100)) return;  // at most 10 redraws a second
  last_ = now;
  std::string padded = text;
  if (padded.size() < last_width_) padded.append(last_width_ - padded.size(), ' ');
  last_width_ = text.size();
  std::fprintf(stderr, "\r%s", padded.c_str());
  std::fflush(stderr);
}

void Progress::Done() {
  if (!enabled_ || last_width_ == 0) return;
  std::fprintf(stderr, "\r%s\r", std::string(last_width_, ' ').c_str());
  std::fflush(stderr);
  last_width_ = 0;
}

}  // namespace mltrack::cli
