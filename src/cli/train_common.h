// What the `mlt train <trainer>` commands share: the data options and sharded loading, the run
// that rank 0 logs to, and the progress line.
//
// Under `mpirun -np N` every rank runs the same command: each reads only its shard of the CSV
// files; only rank 0 talks to the tracking store and prints. A failure on one rank must not leave
// the others waiting in a collective: the data loading and the trainers' local steps run under
// dist::CheckEveryRank, which turns any rank's error into the same error on every rank (and main
// ends the whole job at once for any other error of one rank).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/cli_util.h"
#include "mltrack/client.h"
#include "models/bundle/mlmodel.h"
#include "models/bundle/signature.h"
#include "models/data/csv.h"
#include "models/data/encoding.h"
#include "models/dist/communicator.h"

namespace mltrack::cli {

struct DataOptions {
  std::string data;            // training CSV
  std::string test;            // test CSV; empty: split off test_fraction, or none
  double test_fraction = 0;    // in [0, 1)
  uint64_t seed = 42;          // of the split
  std::string delimiter = ",";
  bool no_header = false;
  std::vector<std::string> missing = {"", "?", "NA"};
  std::vector<std::string> types;  // NAME:TYPE overrides (long, double, boolean, string)
};

void AddDataOptions(CLI::App& command, DataOptions& options);

// This rank's rows: a shard of --data (and of --test), or of the split.
struct LoadedData {
  data::CsvData train;
  std::optional<data::CsvData> test;
};

// Reads and splits; collective (errors surface on every rank through CheckEveryRank).
LoadedData LoadData(const DataOptions& options, dist::Communicator& comm);

using dist::CheckEveryRank;

// The run params every trainer logs about its data: label, data (and test data or fraction and
// split seed), ranks and the unknown-category handling.
std::map<std::string, std::string> DataParams(const DataOptions& data, const std::string& label,
                                              const std::string& unknown_category,
                                              const dist::Communicator& comm);

// The input example of a bundle: the first rows of the training table, without the label.
models::Table InputExample(const models::Table& train, const std::string& label);

// The report's last line: "Run <id>; model runs:/<id>/model[ (registered as N version V)]\n".
std::string RunLine(const std::string& run_id, const LoggedModel& logged);

struct RunOutputOptions {
  std::string experiment;  // empty: MLT_EXPERIMENT_NAME/ID, else Default
  std::string run_name;
  std::string model_path = "model";
  std::string register_name;  // also register the model under this name
  std::string output_dir;     // also save the bundle there
};

void AddRunOutputOptions(CLI::App& command, RunOutputOptions& options);

// --unknown-category error|slot into `*unknown`; `slot_meaning` says what a slot does for this
// trainer. UnknownCategoryOf turns the checked value into the encoders' setting.
void AddUnknownCategoryOption(CLI::App& command, std::string* unknown,
                              std::string_view slot_meaning);
data::UnknownCategory UnknownCategoryOf(const std::string& unknown);

// Rank 0's run: started (or joined via MLT_RUN_ID) on construction, ended FINISHED by Finish()
// or FAILED when destroyed without it. On other ranks every call does nothing.
class TrainerRun {
 public:
  TrainerRun(const GlobalOptions& global, const RunOutputOptions& options,
             dist::Communicator& comm, const std::string& trainer);
  ~TrainerRun();

  bool active() const { return run_ != nullptr; }
  std::string run_id() const;
  void LogParams(const std::map<std::string, std::string>& params);
  void LogMetric(const std::string& key, double value, int64_t step = 0);
  // The trainer's bundle: rank 0 writes it with `save(folder, meta)` (meta: NewModelMeta with
  // this run's id) into --output or a temporary folder, then logs it (and registers it with
  // --register). Collective: an error fails every rank alike; other ranks return {}.
  LoggedModel SaveModel(
      dist::Communicator& comm,
      const std::function<void(const std::filesystem::path&, models::ModelMeta)>& save);
  // A small text file `name` at the root of the run's artifacts.
  void LogTextArtifact(const std::string& name, std::string_view text);
  void Finish();

 private:
  RunOutputOptions options_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<ActiveRun> run_;
};

// A one-line progress display on stderr when it is a terminal (rank 0 only); silent otherwise.
class Progress {
 public:
  explicit Progress(dist::Communicator& comm);
  ~Progress();
  void Update(const std::string& text);
  void Done();

 private:
  bool enabled_;
  size_t last_width_ = 0;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace mltrack::cli
