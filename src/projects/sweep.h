// Parameter sweeps: `mlt run <uri> -P rank=10,20,40 -P reg=0.01,0.1 --sweep grid --metric rmse`
// runs one child run per combination (grid) or per random draw (random) under a parent run, a
// few at once, and names the best.
//
// Recorded: the parent has the project's tags (as Runner::Prepare makes them, without the
// command and input tags of any one trial), the swept lists as params ("rank" = "10,20,40"), and
//   mlt.sweep.strategy  grid | random        mlt.sweep.trials      the number of trials
//   mlt.sweep.maxParallel                    mlt.sweep.seed        (random)
//   mlt.sweep.metric, mlt.sweep.mode         (with a metric)
//   mlt.sweep.bestRunId                      the best trial's run, whose value of the metric is
//                                            also logged on the parent under the same key;
// each trial is a run of its own named "<parent name>-<n>", with every tag Runner gives, plus
// mlflow.parentRunId and mlt.sweep.trial (n, from 1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "projects/runner.h"

namespace mltrack::projects {

enum class SweepStrategy { kGrid, kRandom };

struct SweepOptions {
  SweepStrategy strategy = SweepStrategy::kGrid;
  int trials = 10;        // random: the number of draws; grid: unused (every combination runs)
  int max_parallel = 1;   // trials running at once
  std::string metric;     // empty: no best trial is picked
  bool maximize = false;  // the best trial has the highest value of `metric` (else the lowest)
  uint64_t seed = 0;      // random: the draws; the same seed gives the same trials
};

using ParamList = std::vector<std::pair<std::string, std::string>>;

// A grid larger than this is refused: it is almost certainly a mistake, and each trial is a run.
inline constexpr size_t kMaxSweepTrials = 10'000;

// The trials of a sweep over `params`, each value a comma-separated list of the values to try
// ("10,20,40"; a value without a comma is the same in every trial). Grid: every combination in
// order, the last parameter varying fastest. Random: options.trials draws, each parameter's value
// picked uniformly from its list. Throws Error(kInvalidParameterValue) for an empty item in a
// list ("10,,20"), a parameter given twice, a trial count below 1, or more than kMaxSweepTrials.
std::vector<ParamList> SweepTrials(const ParamList& params, const SweepOptions& options);

struct TrialResult {
  ParamList params;
  std::string run_id;              // "" when the trial did not start (a stop signal came first)
  RunStatus status = RunStatus::kKilled;
  int exit_code = 0;
  std::optional<double> metric;    // the run's latest value of SweepOptions::metric
  std::string error;               // why the trial could not run (the store or bash failed)
};

struct SweepResult {
  std::string parent_run_id;
  std::vector<TrialResult> trials;  // in trial order
  std::optional<size_t> best;       // index of the best finished trial with a (non-NaN) metric
  RunStatus status = RunStatus::kFinished;
  // 0 when every trial finished; 128 + N after stop signal N; else the exit code of the first
  // trial (in trial order) that failed (1 when it failed before its command ran).
  int exit_code = 0;
};

// Checks every trial as Runner::Prepare does before anything is created (a bad value in any
// trial is refused then, no run exists), then creates the parent run and runs the trials, up to
// max_parallel at once; a failed trial does not stop the others, and after a stop signal
// (StopSignals) no further trial starts. The parent ends FINISHED when every trial finished,
// KILLED after a stop signal, FAILED otherwise. `request.run_id` must be empty.
SweepResult RunSweep(Runner& runner, const RunRequest& request, const SweepOptions& options);

}  // namespace mltrack::projects
