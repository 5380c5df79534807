#include "cli/train_forest.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/train_common.h"
#include "models/bundle/mlmodel.h"
#include "models/data/split.h"
#include "models/dist/communicator.h"
#include "models/forest/forest_model.h"
#include "models/forest/forest_options.h"
#include "models/forest/forest_trainer.h"
#include "mltrack/error.h"

namespace mltrack::cli {
namespace {

using forest::ForestOptions;
using forest::RandomForestModel;
using forest::Task;
using Metrics = std::map<std::string, double>;

struct ForestCommand {
  DataOptions data;
  RunOutputOptions output;
  ForestOptions options;
  std::string label;
  std::vector<std::string> features;
  std::string task = "classification";
  std::string impurity;  // empty: the task's default
  std::string unknown = "error";
  bool no_bootstrap = false;
};

// A metric key for a column name: characters a tracking store refuses in a key become '_'
// (slashes too, so that a column cannot name a path).
std::string MetricKeyPart(const std::string& name) {
  std::string key = name;
  for (char& c : key) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '_' || c == '-' || c == '.' || c == ' ' || u >= 0x80)) c = '_';
  }
  return key;
}

void LogEvaluation(TrainerRun& run, const std::string& prefix, const Metrics& metrics) {
  for (const auto& [name, value] : metrics) {
    if (name != "rows") run.LogMetric(prefix + "_" + name, value);
  }
}

double Get(const Metrics& metrics, const std::string& key) {
  auto it = metrics.find(key);
  return it == metrics.end() ? NAN : it->second;
}

std::string Describe(const std::string& name, Task task, const Metrics& m) {
  auto rows = static_cast<int64_t>(Get(m, "rows"));
  if (task == Task::kClassification) {
    return fmt::format("  {:<5}  rows {:>9}  accuracy {:.4f}  log_loss {:.5f}  roc_auc {:.4f}  "
                       "f1 {:.4f}\n",
                       name, rows, Get(m, "accuracy"), Get(m, "log_loss"), Get(m, "roc_auc"),
                       Get(m, "f1"));
  }
  return fmt::format("  {:<5}  rows {:>9}  rmse {:.6g}  mae {:.6g}  r2 {:.4f}\n", name, rows,
                     Get(m, "rmse"), Get(m, "mae"), Get(m, "r2"));
}

// {"column": importance, ...}, the most important first (ties in column order).
std::string ImportancesJson(const RandomForestModel& model) {
  const auto& columns = model.features().columns();
  const auto& importances = model.feature_importances();
  std::vector<size_t> order(columns.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return importances[a] > importances[b]; });
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (size_t j : order) json[columns[j].name] = importances[j];
  return json.dump(2) + "\n";
}

void RunForest(const GlobalOptions& global, ForestCommand& cmd) {
  dist::Communicator& comm = dist::ProcessCommunicator();
  CheckEveryRank(comm, [&] {  // before any file is read or run created
    cmd.options.task = forest::ParseTask(cmd.task);
    cmd.options.impurity = cmd.impurity.empty() ? forest::DefaultImpurity(cmd.options.task)
                                                : forest::ParseImpurity(cmd.impurity);
    cmd.options.bootstrap = !cmd.no_bootstrap;
    cmd.options.Validate();
  });

  const bool classification = cmd.options.task == Task::kClassification;
  LoadedData loaded = LoadData(cmd.data, comm);
  TrainerRun run(global, cmd.output, comm, "random_forest");
  auto params = cmd.options.AsParams();
  params.merge(DataParams(cmd.data, cmd.label, cmd.unknown, comm));
  run.LogParams(params);

  Progress progress(comm);
  auto started = std::chrono::steady_clock::now();
  forest::ForestResult result;
  forest::ForestInput input{
      .table = &loaded.train.table,
      .origin = {.source = loaded.train.path, .lines = &loaded.train.lines},
      .row_ids = loaded.train.lines,
      .label = cmd.label,
      .features = cmd.features,
      .unknown = UnknownCategoryOf(cmd.unknown)};
  // Collective: the trainer agrees on its own errors (dist::CheckEveryRank).
  result = forest::TrainForest(input, cmd.options, comm, [&](int trees_done) {
    progress.Update(fmt::format("random forest: tree {}/{}", trees_done, cmd.options.num_trees));
  });
  double fit_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  progress.Done();
  const RandomForestModel& model = *result.model;

  Metrics train_metrics, test_metrics;
  train_metrics = forest::EvaluateForest(model, loaded.train.table, input.origin, comm);
  if (loaded.test) {
    test_metrics = forest::EvaluateForest(
        model, loaded.test->table, {.source = loaded.test->path, .lines = &loaded.test->lines},
        comm);
  }
  const auto& columns = model.features().columns();
  std::map<std::string, std::string> resolved = {{"features", std::to_string(columns.size())}};
  if (classification) resolved["classes"] = std::to_string(model.labels().classes().size());
  run.LogParams(resolved);
  run.LogMetric("trees", static_cast<double>(model.trees().size()));
  run.LogMetric("fit_seconds", fit_seconds);
  run.LogMetric("train_rows", static_cast<double>(result.train_rows));
  LogEvaluation(run, "train", train_metrics);
  if (loaded.test) LogEvaluation(run, "test", test_metrics);
  for (size_t j = 0; j < columns.size(); ++j) {
    run.LogMetric("feature_importance." + MetricKeyPart(columns[j].name),
                  model.feature_importances()[j]);
  }

  // The bundle, with a few training rows as the input example, and the importances.
  LoggedModel logged = run.SaveModel(comm, [&](const auto& bundle, models::ModelMeta meta) {
    model.Save(bundle, std::move(meta), InputExample(loaded.train.table, cmd.label));
  });
  CheckEveryRank(comm, [&] {
    run.LogTextArtifact("feature_importances.json", ImportancesJson(model));
    run.Finish();
  });

  if (comm.rank() != 0) return;
  std::string classes =
      classification ? fmt::format("{} classes, ", model.labels().classes().size()) : "";
  std::string out = fmt::format(
      "Trained a random forest {} ({} tree{}, max depth {}, {}{} feature{}) on {} rows with {} "
      "rank{} in {:.2f} s\n",
      classification ? "classifier" : "regressor", model.trees().size(),
      model.trees().size() == 1 ? "" : "s", cmd.options.max_depth, classes, columns.size(),
      columns.size() == 1 ? "" : "s", result.train_rows, comm.size(), comm.size() == 1 ? "" : "s", fit_seconds);
  out += Describe("train", cmd.options.task, train_metrics);
  if (loaded.test) out += Describe("test", cmd.options.task, test_metrics);
  out += RunLine(run.run_id(), logged);
  Print(out);
}

}  // namespace

void SetupTrainForest(CLI::App& command, GlobalOptions& global) {
  auto cmd = std::make_shared<ForestCommand>();
  ForestOptions& o = cmd->options;
  AddDataOptions(command, cmd->data);
  command.add_option("--label", cmd->label, "The label column")->required()->type_name("COLUMN");
  command
      .add_option("--features", cmd->features,
                  "Feature columns (default: every column but the label)")
      ->delimiter(',')
      ->type_name("COLUMN,...");
  command
      .add_option("--task", cmd->task,
                  "classification (a class per label value) or regression (a numeric label) "
                  "(default: classification)")
      ->check(CLI::IsMember({"classification", "regression"}));
  command.add_option("--num-trees", o.num_trees, "Trees in the forest (default: 100)")
      ->type_name("N");
  command.add_option("--max-depth", o.max_depth, "Depth limit of a tree; 0 is one leaf (default: 10)")
      ->type_name("N");
  command
      .add_option("--max-bins", o.max_bins,
                  "Bins per numeric feature, and the most categories a string feature may have "
                  "(2..256; default: 32)")
      ->type_name("N");
  command
      .add_option("--min-instances-per-node", o.min_instances_per_node,
                  "Make no split that leaves a child fewer rows than this (default: 1)")
      ->type_name("N");
  command
      .add_option("--min-info-gain", o.min_info_gain,
                  "Make no split that lowers the impurity by less than this (default: 0)")
      ->type_name("X");
  command
      .add_option("--impurity", cmd->impurity,
                  "gini or entropy (classification), variance (regression) (default: gini, "
                  "variance)")
      ->check(CLI::IsMember({"gini", "entropy", "variance"}));
  command
      .add_option("--feature-subset", o.feature_subset,
                  "Features each node draws: auto, all, sqrt, log2, onethird, a fraction (0.5) "
                  "or a count (7) (default: auto: all for one tree, else sqrt for "
                  "classification, onethird for regression)")
      ->type_name("S");
  command
      .add_option("--subsampling-rate", o.subsampling_rate,
                  "Expected fraction of the rows each tree sees (default: 1)")
      ->type_name("F");
  command.add_flag("--no-bootstrap", cmd->no_bootstrap,
                   "Sample rows without replacement (weight 1) instead of Poisson weights");
  command.add_option("--forest-seed", o.seed, "Seed of the trees' sampling (default: 42)")
      ->type_name("N");
  AddUnknownCategoryOption(command, &cmd->unknown, "it goes the way of no trained category");
  command.add_option("--threads", o.threads, "Threads per rank (default: every core)")
      ->type_name("N");
  AddRunOutputOptions(command, cmd->output);
  command.callback([cmd, &global] { RunForest(global, *cmd); });
}

}  // namespace mltrack::cli
