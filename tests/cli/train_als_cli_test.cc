// `mlt train als` end to end: the built binary on ratings files the tests write, alone and under
// `mpirun -np 2`, with what it leaves in the tracking store, and its refusals.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/trainer_cli_support.h"
#include "models/als/als_model.h"
#include "models/bundle/flavor_registry.h"
#include "cli/cli_expect.h"
#include "support/test_support.h"

namespace mltrack {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ExpectError;
using ::mltrack::testing::Lcg;
using ::mltrack::testing::MetricValue;
using ::mltrack::testing::Param;
using ::mltrack::testing::ProcessResult;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Ratings of 40 users and 30 items from planted rank-2 factors, half-star steps from 0.5 to 5,
// in the given separator and line layout. Users 1..40, items 101..130; timestamps increase.
std::string PlantedRatings(const std::string& header, const std::string& sep, uint64_t seed) {
  Lcg rng(seed);
  std::vector<std::vector<double>> u(40, std::vector<double>(2)), v(30, std::vector<double>(2));
  for (auto& f : u) for (double& x : f) x = 0.5 + rng.Uniform();
  for (auto& f : v) for (double& x : f) x = 0.5 + rng.Uniform();
  std::string text = header;
  int64_t ts = 1000000000;
  for (int i = 0; i < 40; ++i) {
    for (int j = 0; j < 30; ++j) {
      if (rng.Uniform() < 0.4) continue;
      double r = u[i][0] * v[j][0] + u[i][1] * v[j][1];
      r = std::clamp(std::round(r * 2) / 2, 0.5, 5.0);
      text += fmt::format("{}{}{}{}{}{}{}\n", i + 1, sep, j + 101, sep, r, sep, ts++);
    }
  }
  return text;
}

class TrainAlsCli : public ::mltrack::testing::TrainerCliTest {
 protected:
  TrainAlsCli() {
    WriteFile(dir_ / "ratings.csv", PlantedRatings("userId,movieId,rating,timestamp\n", ",", 1));
  }
  std::unique_ptr<models::Model> LoadFolder(const fs::path& bundle) {
    models::FlavorRegistry flavors;
    als::RegisterAlsFlavor(flavors);
    return models::LoadModel(bundle, flavors);
  }
};

TEST_F(TrainAlsCli, TrainsExplicitAlsLogsEveryIterationAndRecommends) {
  ProcessResult r = Mlt({"train", "als", "--ratings", "ratings.csv", "--test-fraction", "0.2",
                         "--rank", "4", "--reg", "0.05", "--max-iter", "8", "--experiment", "recs",
                         "--register", "recs", "--recommendations", "top.csv", "--top-k", "5",
                         "-o", (dir_ / "bundle").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, StartsWith("Trained explicit ALS (rank 4, 40 users, 30 items) on "));
  EXPECT_THAT(r.out, HasSubstr("\n  train  mae "));
  EXPECT_THAT(r.out, HasSubstr("\n  test   mae "));
  EXPECT_THAT(r.out, HasSubstr("Top 5 items of every user written to top.csv\n"));
  EXPECT_THAT(r.out, HasSubstr("(registered as recs version 1)\n"));
  auto runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  const auto& run = runs[0];
  EXPECT_EQ(Param(run, "rank"), "4");
  EXPECT_EQ(Param(run, "implicit"), "false");
  EXPECT_EQ(Param(run, "ranks"), "1");
  EXPECT_LT(MetricValue(run, "train_rmse"), 0.5);
  EXPECT_LT(MetricValue(run, "test_rmse"), 0.8);
  auto loss = Store().GetMetricHistory(run.info.run_id, "loss", 1000, "").items;
  auto test_rmse = Store().GetMetricHistory(run.info.run_id, "test_rmse", 1000, "").items;
  ASSERT_EQ(loss.size(), 8u);
  ASSERT_EQ(test_rmse.size(), 8u);
  for (size_t i = 0; i < loss.size(); ++i) EXPECT_EQ(loss[i].step, static_cast<int64_t>(i + 1));

  // The recommendations: a header, then k rows per user, ranked 1..k.
  std::string top = ReadFile(dir_ / "top.csv");
  EXPECT_THAT(top, StartsWith("user,item,rank,score\n1,"));
  EXPECT_EQ(std::count(top.begin(), top.end(), '\n'), 1 + 40 * 5);

  // The bundle predicts known pairs close to their ratings, and NaN for an unknown user.
  auto model = LoadFolder(dir_ / "bundle");
  models::Table input;
  input.AddColumn("user", std::vector<int64_t>{1, 999});
  input.AddColumn("item", std::vector<int64_t>{101, 101});
  models::Table out = model->Predict(input);
  const auto& prediction = std::get<std::vector<double>>(out.columns()[0].values);
  EXPECT_GT(prediction[0], 0.0);
  EXPECT_TRUE(std::isnan(prediction[1]));
}

TEST_F(TrainAlsCli, ReadsMovieLensFilesAsTheyCome) {
  WriteFile(dir_ / "u.data", PlantedRatings("", "\t", 2));
  WriteFile(dir_ / "ratings.dat", PlantedRatings("", "::", 3));
  for (const char* file : {"u.data", "ratings.dat"}) {
    SCOPED_TRACE(file);
    ProcessResult r = Mlt({"train", "als", "--ratings", file, "--rank", "3", "--max-iter", "3"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, StartsWith("Trained explicit ALS (rank 3, 40 users, 30 items) on "));
  }
}

TEST_F(TrainAlsCli, TwoMpiRanksAgreeWithOneProcess) {
  for (bool implicit : {false, true}) {
    SCOPED_TRACE(implicit ? "implicit" : "explicit");
    std::vector<std::string> args = {"train", "als", "--ratings", "ratings.csv", "--rank", "3",
                                     "--max-iter", "4"};
    if (implicit) args.insert(args.end(), {"--implicit", "--alpha", "5"});
    std::string one = (dir_ / (implicit ? "one-i" : "one-e")).string();
    std::string two = (dir_ / (implicit ? "two-i" : "two-e")).string();
    std::vector<std::string> a = args, b = args;
    a.insert(a.end(), {"-o", one});
    b.insert(b.end(), {"-o", two});
    ProcessResult single = Mlt(a);
    ASSERT_EQ(single.exit_code, 0) << single.err;
    ProcessResult pair = MpiMlt(2, b);
    ASSERT_EQ(pair.exit_code, 0) << pair.err;
    EXPECT_THAT(pair.out, HasSubstr(" with 2 ranks in "));
    auto m1 = LoadFolder(one);
    auto m2 = LoadFolder(two);
    const auto& f1 = dynamic_cast<const als::AlsModel&>(*m1).factors();
    const auto& f2 = dynamic_cast<const als::AlsModel&>(*m2).factors();
    ASSERT_EQ(f1.user_factors.size(), f2.user_factors.size());
    ASSERT_EQ(f1.item_factors.size(), f2.item_factors.size());
    for (size_t i = 0; i < f1.user_factors.size(); ++i) {
      EXPECT_NEAR(f2.user_factors[i], f1.user_factors[i],
                  1e-8 * std::max(1.0, std::abs(f1.user_factors[i])));
    }
    for (size_t i = 0; i < f1.item_factors.size(); ++i) {
      EXPECT_NEAR(f2.item_factors[i], f1.item_factors[i],
                  1e-8 * std::max(1.0, std::abs(f1.item_factors[i])));
    }
  }
}

TEST_F(TrainAlsCli, LeaveKOutHoldsOutEachUsersLatestRatings) {
  ProcessResult r = Mlt({"train", "als", "--ratings", "ratings.csv", "--leave-k-out", "2",
                         "--rank", "3", "--max-iter", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(Param(runs[0], "leave_k_out"), "2");
  // Every one of the 40 users has more than 2 ratings: 80 held out.
  EXPECT_EQ(MetricValue(runs[0], "test_rows"), 80);
  ProcessResult both = Mlt({"train", "als", "--ratings", "ratings.csv", "--leave-k-out", "2",
                            "--test-fraction", "0.2"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_EQ(both.err, "mlt: error: Give one of --test, --test-fraction and --leave-k-out\n");
  ProcessResult mpi = MpiMlt(2, {"train", "als", "--ratings", "ratings.csv", "--leave-k-out", "1"});
  EXPECT_NE(mpi.exit_code, 0);
  EXPECT_THAT(mpi.err, HasSubstr("--leave-k-out needs every rating of a user in one process"));
}

TEST_F(TrainAlsCli, ImplicitFeedbackReportsRankingMetrics) {
  ProcessResult r = Mlt({"train", "als", "--ratings", "ratings.csv", "--implicit", "--alpha",
                         "10", "--rank", "4", "--test-fraction", "0.2", "--top-k", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("Trained implicit ALS (rank 4, 40 users, 30 items) on "));
  auto runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  for (const char* key : {"test_precision_at_5", "test_recall_at_5", "test_map_at_5",
                          "test_ndcg_at_5"}) {
    double v = MetricValue(runs[0], key);
    EXPECT_GE(v, 0.0) << key;
    EXPECT_LE(v, 1.0) << key;
  }
}

TEST_F(TrainAlsCli, RefusesBadOptionsAndBadFiles) {
  ExpectError(Mlt({"train", "als", "--ratings", "ratings.csv", "--rank", "0"}), 1,
                "Invalid option rank=0: must be between 1 and 1000");
  WriteFile(dir_ / "bad.dat", "1::101::4::100\n2::102\n");
  ProcessResult malformed = Mlt({"train", "als", "--ratings", "bad.dat"});
  EXPECT_EQ(malformed.exit_code, 1);
  EXPECT_THAT(malformed.err, StartsWith("mlt: error: bad.dat: line 2: "));
  WriteFile(dir_ / "word.csv", "userId,movieId,rating\n1,101,4\n2,102,good\n");
  ProcessResult word = Mlt({"train", "als", "--ratings", "word.csv"});
  EXPECT_EQ(word.exit_code, 1);
  EXPECT_THAT(word.err, StartsWith("mlt: error: word.csv: line 3"));
  EXPECT_THAT(word.err, HasSubstr("rating"));
  WriteFile(dir_ / "empty.csv", "");
  ProcessResult empty = Mlt({"train", "als", "--ratings", "empty.csv"});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_THAT(empty.err, HasSubstr("empty.csv"));
  EXPECT_TRUE(Runs().empty()) << "a refused training left a run behind";
}

}  // namespace
}  // namespace mltrack
