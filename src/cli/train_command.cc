#include "cli/train_command.h"

#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "cli/train_common.h"
#include "cli/train_als.h"
#include "cli/train_forest.h"
#include "models/bundle/mlmodel.h"
#include "models/data/split.h"
#include "models/dist/communicator.h"
#include "models/logistic/logistic_trainer.h"
#include "mltrack/error.h"

namespace mltrack::cli {
namespace {

using logistic::ClassificationMetrics;
using logistic::LogisticOptions;

struct LogisticCommand {
  DataOptions data;
  RunOutputOptions output;
  LogisticOptions options;
  std::string label;
  std::vector<std::string> features;
  std::string family = "auto";
  std::string class_weight = "none";
  std::string unknown = "error";
  bool no_intercept = false;
  bool no_standardize = false;
};

void ParseClassWeight(const std::string& text, LogisticOptions& options) {
  if (text == "none") return;
  if (text == "balanced") {
    options.class_weighting = logistic::ClassWeighting::kBalanced;
    return;
  }
  options.class_weighting = logistic::ClassWeighting::kGiven;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start);
    size_t colon = item.rfind(':');
    double weight = 0;
    bool ok = colon != std::string::npos && colon > 0;
    if (ok) {
      try {
        size_t used = 0;
        weight = std::stod(item.substr(colon + 1), &used);
        ok = used == item.size() - colon - 1;
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (!ok) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Invalid --class-weight '{}': expected none, balanced or "
                              "LABEL:WEIGHT,... (e.g. 0:1,1:5)",
                              text));
    }
    options.class_weights[item.substr(0, colon)] = weight;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

void LogEvaluation(TrainerRun& run, const std::string& prefix, const ClassificationMetrics& m) {
  run.LogMetric(prefix + "_accuracy", m.accuracy);
  run.LogMetric(prefix + "_log_loss", m.log_loss);
  run.LogMetric(prefix + "_roc_auc", m.roc_auc);
  run.LogMetric(prefix + "_precision", m.precision);
  run.LogMetric(prefix + "_recall", m.recall);
  run.LogMetric(prefix + "_f1", m.f1);
}

std::string Describe(const std::string& name, const ClassificationMetrics& m) {
  return fmt::format("  {:<5}  rows {:>9}  accuracy {:.4f}  log_loss {:.5f}  roc_auc {:.4f}  f1 "
                     "{:.4f}\n",
                     name, m.rows, m.accuracy, m.log_loss, m.roc_auc, m.f1);
}

void RunLogistic(const GlobalOptions& global, LogisticCommand& cmd) {
  if (cmd.family == "binomial") cmd.options.family = logistic::Family::kBinomial;
  if (cmd.family == "multinomial") cmd.options.family = logistic::Family::kMultinomial;
  cmd.options.fit_intercept = !cmd.no_intercept;
  cmd.options.standardize = !cmd.no_standardize;
  dist::Communicator& comm = dist::ProcessCommunicator();
  CheckEveryRank(comm, [&] {  // before any file is read or run created
    ParseClassWeight(cmd.class_weight, cmd.options);
    cmd.options.Validate();
  });
  LoadedData loaded = LoadData(cmd.data, comm);
  TrainerRun run(global, cmd.output, comm, "logistic_regression");
  auto params = cmd.options.AsParams();
  params.erase("family");  // logged once resolved (auto: binomial or multinomial), below
  params.merge(DataParams(cmd.data, cmd.label, cmd.unknown, comm));
  run.LogParams(params);

  Progress progress(comm);
  auto started = std::chrono::steady_clock::now();
  logistic::TrainResult result;
  logistic::TrainInput input{
      .train = {.table = &loaded.train.table,
                .origin = {.source = loaded.train.path, .lines = &loaded.train.lines}},
      .label = cmd.label,
      .features = cmd.features,
      .unknown = UnknownCategoryOf(cmd.unknown)};
  // Collective: the trainer agrees on its own errors (dist::CheckEveryRank).
  result = logistic::TrainLogistic(input, cmd.options, comm, [&](int iteration, double loss) {
    run.LogMetric("loss", loss, iteration);
    progress.Update(fmt::format("logistic regression: iteration {}  loss {:.6f}", iteration, loss));
  });
  double fit_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  progress.Done();

  ClassificationMetrics train_metrics, test_metrics;
  train_metrics = logistic::EvaluateLogistic(*result.model, input.train, comm);
  if (loaded.test) {
    test_metrics = logistic::EvaluateLogistic(
        *result.model,
        {.table = &loaded.test->table,
         .origin = {.source = loaded.test->path, .lines = &loaded.test->lines}},
        comm);
  }
  run.LogParams({{"family", logistic::FamilyName(result.family)},
                 {"classes", std::to_string(result.model->classes())},
                 {"features", std::to_string(result.model->features().width())}});
  run.LogMetric("iterations", result.optimizer.iterations);
  run.LogMetric("fit_seconds", fit_seconds);
  run.LogMetric("train_rows", static_cast<double>(result.train_rows));
  LogEvaluation(run, "train", train_metrics);
  if (loaded.test) LogEvaluation(run, "test", test_metrics);

  // The bundle, with a few training rows as the input example.
  LoggedModel logged = run.SaveModel(comm, [&](const auto& bundle, models::ModelMeta meta) {
    result.model->Save(bundle, std::move(meta), InputExample(loaded.train.table, cmd.label));
  });
  CheckEveryRank(comm, [&] { run.Finish(); });

  if (comm.rank() != 0) return;
  std::string out = fmt::format(
      "Trained a {} logistic regression ({} classes, {} features) on {} rows with {} rank{} in "
      "{:.2f} s: {} iterations, {}\n",
      logistic::FamilyName(result.family), result.model->classes(),
      result.model->features().width(), result.train_rows, comm.size(),
      comm.size() == 1 ? "" : "s", fit_seconds, result.optimizer.iterations,
      result.optimizer.stop_reason);
  out += Describe("train", train_metrics);
  if (loaded.test) out += Describe("test", test_metrics);
  out += RunLine(run.run_id(), logged);
  Print(out);
}

void SetupLogistic(CLI::App& command, GlobalOptions& global) {
  auto cmd = std::make_shared<LogisticCommand>();
  AddDataOptions(command, cmd->data);
  command.add_option("--label", cmd->label, "The label column")->required()->type_name("COLUMN");
  command
      .add_option("--features", cmd->features,
                  "Feature columns (default: every column but the label)")
      ->delimiter(',')
      ->type_name("COLUMN,...");
  command.add_option("--reg", cmd->options.reg,
                     "Regularisation strength (default: 0): mean loss + reg * penalty")
      ->type_name("X");
  command.add_option("--l1-ratio", cmd->options.l1_ratio,
                     "Elastic-net mix: 0 is L2 (L-BFGS), 1 is L1, between both (OWL-QN)")
      ->type_name("X");
  command.add_option("--max-iter", cmd->options.max_iter, "Iteration limit (default: 100)")
      ->type_name("N");
  command.add_option("--tol", cmd->options.tol,
                     "Stop when the objective falls by less than this fraction (default: 1e-6)")
      ->type_name("X");
  command.add_option("--family", cmd->family, "auto, binomial or multinomial (default: auto)")
      ->check(CLI::IsMember({"auto", "binomial", "multinomial"}));
  command.add_option("--class-weight", cmd->class_weight,
                     "none, balanced or LABEL:WEIGHT,... (default: none)")
      ->type_name("W");
  command.add_flag("--no-intercept", cmd->no_intercept, "Fit without an intercept");
  command.add_flag("--no-standardize", cmd->no_standardize,
                   "Penalise the raw features' coefficients rather than the standardised ones");
  AddUnknownCategoryOption(command, &cmd->unknown, "an extra one-hot column learnt as 'unknown'");
  command.add_option("--threads", cmd->options.threads, "Threads per rank (default: every core)")
      ->type_name("N");
  AddRunOutputOptions(command, cmd->output);
  command.callback([cmd, &global] { RunLogistic(global, *cmd); });
}

}  // namespace

void SetupTrainCommand(CLI::App& command, GlobalOptions& global) {
  AddCommands(command, global,
              {
                  {"logistic",
                   "Logistic regression (binomial or multinomial; L2, L1 or elastic net)",
                   SetupLogistic},
                  {"forest",
                   "Random forest (classification or regression; histogram trees, also under "
                   "mpirun)",
                   SetupTrainForest},
                  {"als",
                   "ALS recommender (explicit or implicit feedback; blocked, also under mpirun)",
                   SetupTrainAls},
              });
}

}  // namespace mltrack::cli
