#include "cli/run_command.h"

#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "projects/run_environment.h"
#include "projects/runner.h"
#include "projects/sweep.h"

namespace mltrack::cli {
namespace {

using projects::RunRequest;
using projects::Runner;

// The command's exit code is `mlt run`'s: main returns it once the callback has unwound.
void ExitWith(int code) {
  if (code != 0) throw ExitStatus{code};
}

constexpr const char* kRunExitCodes =
    "Exit codes:\n"
    "  the command's exit code once it ran (128 + N when signal N ended it, or was forwarded to\n"
    "  it: 130 for Ctrl-C); a sweep's is 0 when every trial finished, else the first failed\n"
    "  trial's. Before the command runs: 1, 2 or 3, as every mlt command (mlt --help)";

std::unique_ptr<Runner> MakeRunner(const GlobalOptions& global) {
  projects::RunnerOptions options;
  options.tracking_uri = global.tracking_uri;  // empty: the Runner takes the environment's
  options.report = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  return std::make_unique<Runner>(OpenStore(global), std::move(options));
}

std::string MetricCell(const Run& run, const std::string& key) {
  for (const auto& m : run.data.metrics) {
    if (m.key == key) return FormatMetricValue(m.value);
  }
  return "";
}

// --- run ----------------------------------------------------------------------------------------

struct RunCommandOptions {
  std::string uri;
  std::string entry_point = "main";
  std::vector<std::string> params;
  std::string experiment_name;
  std::string experiment_id;
  std::string run_name;
  std::string run_id;
  std::string version;
  std::string env_manager = "local";
  std::string sweep;
  int trials = 10;
  int max_parallel = 1;
  std::string metric;
  std::string mode = "min";
  uint64_t seed = 0;
  bool seed_given = false;
};

void PrintSweep(const projects::SweepResult& result, const projects::SweepOptions& options) {
  std::vector<Table::Column> columns = {{"TRIAL", Align::kRight}, {"RUN ID"}, {"STATUS"}};
  if (!result.trials.empty()) {
    for (const auto& [name, value] : result.trials.front().params) columns.push_back({name});
  }
  if (!options.metric.empty()) columns.push_back({options.metric, Align::kRight});
  Table table(std::move(columns));
  for (size_t i = 0; i < result.trials.size(); ++i) {
    const auto& trial = result.trials[i];
    std::vector<std::string> row = {
        std::to_string(i + 1), trial.run_id,
        trial.run_id.empty() && trial.error.empty() ? "NOT STARTED"
                                                    : std::string(RunStatusName(trial.status))};
    for (const auto& [name, value] : trial.params) row.push_back(value);
    if (!options.metric.empty()) {
      row.push_back(trial.metric ? FormatMetricValue(*trial.metric) : "");
    }
    table.AddRow(std::move(row));
    if (!trial.error.empty()) fmt::print(stderr, "mlt: error: trial {}: {}\n", i + 1, trial.error);
  }
  std::string out = fmt::format("Sweep run {} ({}):\n", result.parent_run_id,
                                RunStatusName(result.status));
  out += table.Render();
  if (result.best) {
    const auto& best = result.trials[*result.best];
    out += fmt::format("Best trial: {} (run {}), {} = {}\n", *result.best + 1, best.run_id,
                       options.metric, FormatMetricValue(*best.metric));
  } else if (!options.metric.empty()) {
    out += fmt::format("No finished trial logged the metric '{}'\n", options.metric);
  }
  Print(out);
}

int RunProject(const RunCommandOptions& o, const GlobalOptions& global) {
  RunRequest request;
  request.uri = o.uri;
  if (!o.version.empty()) request.version = o.version;
  request.entry_point = o.entry_point;
  for (const auto& text : o.params) {
    Tag kv = ParseKeyValue(text);
    request.params.emplace_back(kv.key, kv.value);
  }
  request.experiment_name = o.experiment_name;
  request.experiment_id = o.experiment_id;
  request.run_name = o.run_name;
  request.run_id = o.run_id;
  request.env_manager = o.env_manager;

  std::unique_ptr<Runner> runner = MakeRunner(global);
  projects::StopSignals stop_signals;
  if (o.sweep.empty()) {
    projects::PreparedRun prepared = runner->Prepare(request);
    if (int signo = projects::StopSignals::Received()) return 128 + signo;  // before any run
    return runner->Execute(prepared).exit_code;
  }

  projects::SweepOptions options;
  options.strategy = o.sweep == "grid" ? projects::SweepStrategy::kGrid
                                       : projects::SweepStrategy::kRandom;
  options.trials = o.trials;
  options.max_parallel = o.max_parallel;
  options.metric = o.metric;
  options.maximize = o.mode == "max";
  options.seed = o.seed_given ? o.seed : std::random_device{}();
  projects::SweepResult result = projects::RunSweep(*runner, request, options);
  PrintSweep(result, options);
  return result.exit_code;
}

}  // namespace

void SetupRunCommand(CLI::App& command, GlobalOptions& global) {
  auto o = std::make_shared<RunCommandOptions>();
  command.add_option("URI", o->uri,
                     "The project: a folder, a git repository (path or URL), with #subdirectory")
      ->required();
  command.add_option("-e,--entry-point", o->entry_point, "Entry point to run (default: main)")
      ->type_name("NAME");
  command
      .add_option("-P,--param", o->params,
                  "A parameter value; may be repeated. With --sweep, a comma-separated list of "
                  "values to try")
      ->check(KeyValueValidator())
      ->allow_extra_args(false)
      ->type_name("KEY=VALUE");
  auto* name = command.add_option(
      "--experiment-name", o->experiment_name,
      "Experiment to run in, created when missing (default: $MLT_EXPERIMENT_NAME, else "
      "$MLT_EXPERIMENT_ID, else Default)");
  name->type_name("NAME");
  command.add_option("--experiment-id", o->experiment_id, "Experiment to run in, by id")
      ->type_name("ID")
      ->excludes(name);
  command.add_option("--run-name", o->run_name, "Name of the run")->type_name("NAME");
  auto* run_id = command.add_option("--run-id", o->run_id,
                                    "Resume this run instead of creating one");
  run_id->type_name("RUN_ID");
  command
      .add_option("--version", o->version, "Commit, branch or tag of a git project to run")
      ->type_name("VERSION");
  command
      .add_option("--env-manager", o->env_manager,
                  "Where the command runs: local, the current environment (conda, virtualenv and "
                  "docker are refused)")
      ->check(CLI::IsMember({"local", "conda", "virtualenv", "docker"}))
      ->type_name("MANAGER");
  auto* sweep = command.add_option("--sweep", o->sweep,
                                   "Run a child run per combination of the -P lists (grid) or per "
                                   "random draw (random), under a parent run");
  sweep->check(CLI::IsMember({"grid", "random"}))->type_name("grid|random")->excludes(run_id);
  auto* trials = command.add_option("--trials", o->trials,
                                    "Random sweep: the number of trials (default: 10)");
  trials->check(PositiveIntValidator())->type_name("N")->needs(sweep);
  command
      .add_option("--max-parallel", o->max_parallel, "Sweep: trials run at once (default: 1)")
      ->check(PositiveIntValidator())
      ->type_name("N")
      ->needs(sweep);
  auto* metric = command.add_option("--metric", o->metric,
                                    "Sweep: the metric that picks the best trial");
  metric->type_name("KEY")->needs(sweep);
  command
      .add_option("--mode", o->mode,
                  "Sweep: whether the best trial has the lowest (min, default) or highest (max) "
                  "metric")
      ->check(CLI::IsMember({"min", "max"}))
      ->type_name("min|max")
      ->needs(metric);
  auto* seed = command.add_option("--seed", o->seed,
                                  "Random sweep: the seed of the draws (default: a random one, "
                                  "recorded in the tag mlt.sweep.seed)");
  seed->type_name("N")->needs(sweep);
  command.footer(kRunExitCodes);
  command.callback([o, &global, trials, seed] {
    if (trials->count() > 0 && o->sweep != "random") {
      throw CLI::ValidationError("--trials", "applies to --sweep random only");
    }
    if (seed->count() > 0 && o->sweep != "random") {
      throw CLI::ValidationError("--seed", "applies to --sweep random only");
    }
    o->seed_given = seed->count() > 0;
    ExitWith(RunProject(*o, global));
  });
}

// --- rerun --------------------------------------------------------------------------------------

namespace {

int Rerun(const std::string& run_id, bool force, const GlobalOptions& global) {
  std::unique_ptr<Runner> runner = MakeRunner(global);
  projects::RerunPlan plan = projects::PlanRerun(runner->store(), run_id, force);
  for (const auto& warning : plan.warnings) fmt::print(stderr, "mlt: warning: {}\n", warning);
  projects::StopSignals stop_signals;
  projects::RunResult result = runner->Execute(runner->Prepare(plan.request));

  Run before = runner->store().GetRun(run_id);
  Run after = runner->store().GetRun(result.run_id);
  std::set<std::string> keys;
  for (const auto& m : before.data.metrics) keys.insert(m.key);
  for (const auto& m : after.data.metrics) keys.insert(m.key);
  Table table({{"METRIC"}, {run_id, Align::kRight}, {result.run_id, Align::kRight}});
  for (const auto& key : keys) {
    table.AddRow({key, MetricCell(before, key), MetricCell(after, key)});
  }
  Print(fmt::format("Rerun of run {}: run {} ({})\n", run_id, result.run_id,
                    RunStatusName(result.status)));
  Print(table.Render());
  return result.exit_code;
}

}  // namespace

void SetupRerunCommand(CLI::App& command, GlobalOptions& global) {
  struct Options {
    std::string run_id;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  command.add_option("RUN_ID", o->run_id, "The run to run again")->required();
  command.add_flag("--force", o->force,
                   "Rerun even when an input or the project changed since (a warning says what)");
  command.footer(kRunExitCodes);
  command.callback([o, &global] { ExitWith(Rerun(o->run_id, o->force, global)); });
}

}  // namespace mltrack::cli
