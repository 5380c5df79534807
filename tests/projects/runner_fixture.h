// What the runner tests (runner_test.cc) and the sweep tests (sweep_test.cc) share: a Runner over
// a fresh SQLite store in a temporary folder, the scoring project its runs execute, and readers of
// what a run recorded. Linking runner_fixture.cc also puts the built `mlt` first in PATH, which
// the projects' commands call to log into their run.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "projects/runner.h"
#include "support/test_support.h"
#include "tracking/tracking_store.h"

namespace mltrack::projects {

// score = (rank - 20)^2 / 100 + reg: lowest at rank 20, highest at the largest rank and reg.
inline constexpr const char* kScoringProject = R"mlt(name: scoring
entry_points:
  main:
    parameters:
      rank: {type: int, default: 10}
      reg: {type: float, default: 0.1}
    command: "bash train.sh {rank} {reg}"
  fit:
    parameters:
      data: path
    command: "wc -l < {data} > lines.txt && mlt runs log-metric lines $(cat lines.txt)"
)mlt";
inline constexpr const char* kTrainScript = R"mlt(score=$(awk -v r="$1" -v g="$2" \
  'BEGIN { printf "%.6f", (r-20)*(r-20)/100 + g }')
echo "score $score"
echo "to stderr" >&2
mlt runs log-metric rmse "$score"
)mlt";

// A Runner whose runs go to <dir_>/mlruns.db, with no MLT_/MLFLOW_ run, experiment or store
// variables inherited, the command's output not echoed, and its reports kept in reports_.
class RunnerTest : public ::testing::Test {
 protected:
  RunnerTest();

  // <dir_>/<name> holding kScoringProject and its train.sh.
  std::filesystem::path ScoringProject(const std::string& name = "scoring");
  RunRequest Request(const std::filesystem::path& project,
                     std::vector<std::pair<std::string, std::string>> params = {});

  std::map<std::string, std::string> Tags(const std::string& run_id);
  std::map<std::string, std::string> Params(const std::string& run_id);
  std::map<std::string, double> Metrics(const std::string& run_id);
  // The text of the run's artifact at `path`.
  std::string Artifact(const std::string& run_id, const std::string& path);
  // Every run of every experiment, deleted ones included.
  std::vector<::mltrack::Run> AllRuns();

  ::mltrack::testing::TempDir dir_;
  std::string uri_;
  std::shared_ptr<tracking::TrackingStore> store_;
  std::unique_ptr<Runner> runner_;
  std::vector<std::string> reports_;
};

}  // namespace mltrack::projects
