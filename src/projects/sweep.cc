#include "projects/sweep.h"

#include <cmath>
#include <random>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/parallel.h"
#include "mltrack/error.h"

namespace mltrack::projects {
namespace {

std::vector<std::string> SplitList(const std::string& name, const std::string& value) {
  std::vector<std::string> items;
  size_t begin = 0;
  for (;;) {
    size_t comma = value.find(',', begin);
    std::string item = value.substr(begin, comma == std::string::npos ? std::string::npos
                                                                      : comma - begin);
    if (item.empty()) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Parameter '{}' of the sweep has an empty value in '{}'", name,
                              value));
    }
    items.push_back(std::move(item));
    if (comma == std::string::npos) return items;
    begin = comma + 1;
  }
}

const char* StrategyName(SweepStrategy strategy) {
  return strategy == SweepStrategy::kGrid ? "grid" : "random";
}

// Drops a trial's own tags from what the parent records.
bool IsTrialTag(std::string_view key) {
  return key == "mlt.project.command" || key == "mlt.project.params" ||
         key.starts_with("mlt.input.");
}

}  // namespace

std::vector<ParamList> SweepTrials(const ParamList& params, const SweepOptions& options) {
  std::vector<std::pair<std::string, std::vector<std::string>>> lists;
  std::set<std::string> names;
  for (const auto& [name, value] : params) {
    if (!names.insert(name).second) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Parameter '{}' is given twice", name));
    }
    lists.emplace_back(name, SplitList(name, value));
  }
  std::vector<ParamList> trials;
  if (options.strategy == SweepStrategy::kRandom) {
    if (options.trials < 1 || static_cast<size_t>(options.trials) > kMaxSweepTrials) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("A random sweep runs 1 to {} trials, not {}", kMaxSweepTrials,
                              options.trials));
    }
    // mt19937_64's sequence is fixed by the standard (unlike the distributions'), so a seed
    // gives the same trials with any standard library.
    std::mt19937_64 rng(options.seed);
    for (int t = 0; t < options.trials; ++t) {
      ParamList trial;
      for (const auto& [name, values] : lists) {
        trial.emplace_back(name, values[rng() % values.size()]);
      }
      trials.push_back(std::move(trial));
    }
    return trials;
  }
  size_t count = 1;
  for (const auto& [name, values] : lists) {
    count *= values.size();
    if (count > kMaxSweepTrials) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("The grid has more than {} trials; sweep fewer values, or use "
                              "--sweep random with --trials",
                              kMaxSweepTrials));
    }
  }
  for (size_t t = 0; t < count; ++t) {
    ParamList trial(lists.size());
    size_t rest = t;
    for (size_t p = lists.size(); p-- > 0;) {  // the last parameter varies fastest
      const auto& values = lists[p].second;
      trial[p] = {lists[p].first, values[rest % values.size()]};
      rest /= values.size();
    }
    trials.push_back(std::move(trial));
  }
  return trials;
}

SweepResult RunSweep(Runner& runner, const RunRequest& request, const SweepOptions& options) {
  if (!request.run_id.empty()) {
    throw Error(ErrorCode::kInvalidParameterValue,
                "A sweep creates its runs: --run-id cannot be combined with --sweep");
  }
  if (options.max_parallel < 1) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("--max-parallel must be at least 1, not {}", options.max_parallel));
  }
  std::vector<ParamList> trial_params = SweepTrials(request.params, options);

  // Every check before anything is created.
  std::shared_ptr<const LoadedProject> project = runner.Load(request);
  std::vector<PreparedRun> prepared;
  for (size_t i = 0; i < trial_params.size(); ++i) {
    RunRequest trial = request;
    trial.params = trial_params[i];
    trial.output_prefix = fmt::format("[trial {}] ", i + 1);
    prepared.push_back(runner.Prepare(project, trial));
  }

  PreparedRun parent = prepared.front();
  parent.entry.params = request.params;
  parent.output_prefix.clear();
  std::erase_if(parent.tags, [](const Tag& t) { return IsTrialTag(t.key); });
  parent.tags.push_back({"mlt.sweep.strategy", StrategyName(options.strategy)});
  parent.tags.push_back({"mlt.sweep.trials", std::to_string(trial_params.size())});
  parent.tags.push_back({"mlt.sweep.maxParallel", std::to_string(options.max_parallel)});
  if (options.strategy == SweepStrategy::kRandom) {
    parent.tags.push_back({"mlt.sweep.seed", std::to_string(options.seed)});
  }
  if (!options.metric.empty()) {
    parent.tags.push_back({"mlt.sweep.metric", options.metric});
    parent.tags.push_back({"mlt.sweep.mode", options.maximize ? "max" : "min"});
  }
  RunInfo parent_info = runner.Begin(parent);
  runner.Report(fmt::format("=== Sweep of {} trials ({}, up to {} at once) in parent run with ID "
                            "'{}' ===",
                            prepared.size(), StrategyName(options.strategy), options.max_parallel,
                            parent_info.run_id));

  SweepResult result;
  result.parent_run_id = parent_info.run_id;
  result.trials.resize(prepared.size());
  try {
    for (size_t i = 0; i < prepared.size(); ++i) {
      PreparedRun& trial = prepared[i];
      trial.experiment_id = parent_info.experiment_id;
      trial.experiment_name.clear();
      trial.run_name = fmt::format("{}-{}", parent_info.run_name, i + 1);
      trial.tags.push_back({"mlflow.parentRunId", parent_info.run_id});
      trial.tags.push_back({"mlt.sweep.trial", std::to_string(i + 1)});
      result.trials[i].params = trial_params[i];
    }
    ParallelFor(prepared.size(), options.max_parallel, [&](size_t i) {
      TrialResult& trial = result.trials[i];
      if (StopSignals::Received() != 0) return;  // stopped: start no more
      try {
        RunResult run = runner.Execute(prepared[i]);
        trial.run_id = run.run_id;
        trial.status = run.status;
        trial.exit_code = run.exit_code;
      } catch (const std::exception& e) {
        trial.status = RunStatus::kFailed;
        trial.exit_code = 1;
        trial.error = e.what();
      }
    });

    int stop = StopSignals::Received();
    for (size_t i = 0; i < result.trials.size(); ++i) {
      TrialResult& trial = result.trials[i];
      if (!options.metric.empty() && trial.status == RunStatus::kFinished) {
        for (const Metric& m : runner.store().GetRun(trial.run_id).data.metrics) {
          if (m.key == options.metric) trial.metric = m.value;
        }
        bool candidate = trial.metric && !std::isnan(*trial.metric);
        if (candidate) {
          double best = result.best ? *result.trials[*result.best].metric : 0;
          if (!result.best || (options.maximize ? *trial.metric > best : *trial.metric < best)) {
            result.best = i;
          }
        }
      }
      if (trial.status != RunStatus::kFinished && result.exit_code == 0 && stop == 0) {
        result.exit_code = trial.exit_code != 0 ? trial.exit_code : 1;
      }
    }
    if (stop != 0) {
      result.status = RunStatus::kKilled;
      result.exit_code = 128 + stop;
    } else {
      result.status = result.exit_code == 0 ? RunStatus::kFinished : RunStatus::kFailed;
    }
    if (result.best) {
      const TrialResult& best = result.trials[*result.best];
      runner.store().LogBatch(parent_info.run_id, {{options.metric, *best.metric, NowMillis(), 0}},
                              {}, {{"mlt.sweep.bestRunId", best.run_id}});
    }
    runner.End(parent_info.run_id, result.status);
  } catch (...) {
    try {
      runner.End(parent_info.run_id, RunStatus::kFailed);
    } catch (const std::exception&) {
      // The first failure is the one to report.
    }
    throw;
  }
  return result;
}

}  // namespace mltrack::projects
