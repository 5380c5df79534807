// Sweeps: the trials a grid or a random sweep runs, and sweeps run by the project runner under a
// parent run. Real projects in temporary folders and a real SQLite store (runner_fixture.h); the
// commands log metrics with the built `mlt`.
#include "projects/sweep.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "projects/runner_fixture.h"
#include "support/test_support.h"

namespace mltrack::projects {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(SweepTrials, AGridVariesTheLastParameterFastest) {
  auto trials = SweepTrials({{"rank", "10,20"}, {"fixed", "x"}, {"reg", "0.1,0.2,0.3"}}, {});
  std::vector<std::string> flat;
  for (const auto& t : trials) flat.push_back(t[0].second + "/" + t[1].second + "/" + t[2].second);
  EXPECT_THAT(flat, ElementsAre("10/x/0.1", "10/x/0.2", "10/x/0.3", "20/x/0.1", "20/x/0.2",
                                "20/x/0.3"));
}

TEST(SweepTrials, RandomDrawsDependOnlyOnTheSeed) {
  SweepOptions options{.strategy = SweepStrategy::kRandom, .trials = 20, .seed = 7};
  auto a = SweepTrials({{"rank", "1,2,3,4"}, {"reg", "a,b"}}, options);
  auto b = SweepTrials({{"rank", "1,2,3,4"}, {"reg", "a,b"}}, options);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 20u);
  std::set<std::string> ranks;
  for (const auto& t : a) ranks.insert(t[0].second);
  EXPECT_EQ(ranks.size(), 4u);  // 20 draws from 4 values: all four, with near certainty
  options.seed = 8;
  EXPECT_NE(SweepTrials({{"rank", "1,2,3,4"}, {"reg", "a,b"}}, options), a);
}

TEST(SweepTrials, RefusesEmptyValuesRepeatsAndHugeGrids) {
  EXPECT_ERROR(SweepTrials({{"rank", "10,,20"}}, {}), ErrorCode::kInvalidParameterValue,
               "Parameter 'rank' of the sweep has an empty value in '10,,20'");
  EXPECT_ERROR(SweepTrials({{"rank", "1"}, {"rank", "2"}}, {}), ErrorCode::kInvalidParameterValue,
               "Parameter 'rank' is given twice");
  std::string ten = "0,1,2,3,4,5,6,7,8,9";
  EXPECT_ERROR(SweepTrials({{"a", ten}, {"b", ten}, {"c", ten}, {"d", ten}, {"e", "1,2"}}, {}),
               ErrorCode::kInvalidParameterValue, HasSubstr("The grid has more than 10000"));
  EXPECT_ERROR(SweepTrials({{"a", "1"}}, {.strategy = SweepStrategy::kRandom, .trials = 0}),
               ErrorCode::kInvalidParameterValue, "A random sweep runs 1 to 10000 trials, not 0");
}

// run_cli_test.cc checks the parent-child tags, the best and what is printed.
TEST_F(RunnerTest, AGridSweepRunsEveryTrialUnderAParentAndPicksTheBest) {
  fs::path project = ScoringProject();
  RunRequest request = Request(project, {{"rank", "10,20,40"}, {"reg", "0.01,0.1"}});
  request.experiment_name = "sweeps";
  request.run_name = "grid";
  SweepOptions options{.max_parallel = 2, .metric = "rmse"};
  SweepResult result = RunSweep(*runner_, request, options);
  EXPECT_EQ(result.status, RunStatus::kFinished);
  EXPECT_EQ(result.exit_code, 0);
  ASSERT_EQ(result.trials.size(), 6u);
  ASSERT_TRUE(result.best.has_value());
  EXPECT_EQ(*result.best, 2u);  // rank 20, reg 0.01
  const TrialResult& best = result.trials[*result.best];
  EXPECT_THAT(best.params, ElementsAre(Pair("rank", "20"), Pair("reg", "0.01")));
  EXPECT_DOUBLE_EQ(*best.metric, 0.01);

  auto parent = Tags(result.parent_run_id);
  EXPECT_EQ(parent["mlt.sweep.strategy"], "grid");
  EXPECT_EQ(parent["mlt.sweep.trials"], "6");
  EXPECT_EQ(parent["mlt.sweep.maxParallel"], "2");
  EXPECT_EQ(parent["mlt.sweep.metric"], "rmse");
  EXPECT_EQ(parent["mlt.sweep.mode"], "min");
  EXPECT_FALSE(parent.count("mlt.project.command"));
  EXPECT_EQ(parent["mlflow.source.type"], "PROJECT");
  EXPECT_THAT(Params(result.parent_run_id),
              ElementsAre(Pair("rank", "10,20,40"), Pair("reg", "0.01,0.1")));

  std::string experiment = store_->GetExperimentByName("sweeps").experiment_id;
  std::set<std::string> names;
  for (size_t i = 0; i < result.trials.size(); ++i) {
    ::mltrack::Run run = store_->GetRun(result.trials[i].run_id);
    EXPECT_EQ(Tags(run.info.run_id)["mlt.sweep.trial"], std::to_string(i + 1));
    EXPECT_EQ(Params(run.info.run_id), (std::map<std::string, std::string>(
                                           result.trials[i].params.begin(),
                                           result.trials[i].params.end())));
    EXPECT_EQ(run.info.experiment_id, experiment);
    names.insert(run.info.run_name);
  }
  EXPECT_EQ(names, (std::set<std::string>{"grid-1", "grid-2", "grid-3", "grid-4", "grid-5",
                                          "grid-6"}));
}

TEST_F(RunnerTest, AFailedTrialDoesNotStopTheOthers) {
  fs::path project = dir_ / "flaky";
  WriteFile(project / "MLproject",
            "entry_points:\n  main:\n    parameters: {n: int}\n"
            "    command: \"test {n} -ne 2 || exit 9; mlt runs log-metric m {n}\"\n");
  SweepOptions options{.max_parallel = 1, .metric = "m", .maximize = true};
  SweepResult result = RunSweep(*runner_, Request(project, {{"n", "1,2,3"}}), options);
  ASSERT_EQ(result.trials.size(), 3u);
  EXPECT_EQ(result.trials[0].status, RunStatus::kFinished);
  EXPECT_EQ(result.trials[1].status, RunStatus::kFailed);
  EXPECT_EQ(result.trials[1].exit_code, 9);
  EXPECT_EQ(result.trials[2].status, RunStatus::kFinished);
  EXPECT_EQ(result.best, 2u);
  EXPECT_EQ(result.exit_code, 9);
  EXPECT_EQ(result.status, RunStatus::kFailed);
  EXPECT_EQ(store_->GetRun(result.parent_run_id).info.status, RunStatus::kFailed);
}

TEST_F(RunnerTest, ASweepChecksEveryTrialBeforeCreatingAnything) {
  fs::path project = ScoringProject();
  EXPECT_ERROR(RunSweep(*runner_, Request(project, {{"rank", "10,x,20"}}), {}),
               ErrorCode::kInvalidParameterValue,
               "Parameter 'rank' of entry point 'main' must be an int, got 'x'");
  RunRequest resume = Request(project, {{"rank", "10"}});
  resume.run_id = "abc";
  EXPECT_ERROR(RunSweep(*runner_, resume, {}), ErrorCode::kInvalidParameterValue,
               "A sweep creates its runs: --run-id cannot be combined with --sweep");
  EXPECT_TRUE(AllRuns().empty());
}

TEST_F(RunnerTest, ASweepParentIsNotRerun) {
  fs::path project = ScoringProject();
  SweepResult result = RunSweep(*runner_, Request(project, {{"rank", "10,20"}}), {});
  EXPECT_ERROR(PlanRerun(*store_, result.parent_run_id, false), ErrorCode::kInvalidParameterValue,
               "Run " + result.parent_run_id +
                   " is the parent of a sweep: rerun one of its trials, or run the sweep again");
  RerunPlan plan = PlanRerun(*store_, result.trials[1].run_id, false);
  EXPECT_THAT(plan.request.params, ElementsAre(Pair("rank", "20"), Pair("reg", "0.1")));
}

}  // namespace
}  // namespace mltrack::projects
