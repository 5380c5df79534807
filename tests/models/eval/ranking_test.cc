// Ranking metrics against hand-computed figures and the data of Spark's RankingMetricsSuite.
#include "models/eval/ranking.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "support/test_support.h"

namespace mltrack::eval {
namespace {

using ::testing::Eq;
using Lists = std::vector<std::vector<int64_t>>;

constexpr ErrorCode kInvalid = ErrorCode::kInvalidParameterValue;
const double kLog2Of3 = std::log2(3.0);

// User 0: top 3 of [1 2 3 4 5] is [1 2 3], relevant {1 3 6}: hits at positions 1 and 3.
// User 1: [7 8] (shorter than k), relevant {8}: a hit at position 2.
// User 2: no relevant items: left out of every mean.
TEST(ScoreRanking, AveragesSparksDefinitionsOverUsersWithRelevantItems) {
  RankingScores s = ScoreRanking({{1, 2, 3, 4, 5}, {7, 8}, {1, 2}}, {{6, 3, 1}, {8}, {}}, 3);
  EXPECT_EQ(s.users, 2u);
  // precision: 2/3 and 1/3 (divided by k even when fewer are recommended).
  EXPECT_DOUBLE_EQ(s.precision, (2.0 / 3 + 1.0 / 3) / 2);
  // recall: 2/3 and 1/1.
  EXPECT_DOUBLE_EQ(s.recall, (2.0 / 3 + 1.0) / 2);
  // MAP: (1/1 + 2/3) / min(3, 3) and (1/2) / min(1, 3).
  EXPECT_DOUBLE_EQ(s.map, ((1.0 + 2.0 / 3) / 3 + 0.5) / 2);
  // NDCG: (1 + 1/log2 4) / (1 + 1/log2 3 + 1/log2 4) and (1/log2 3) / 1.
  EXPECT_DOUBLE_EQ(s.ndcg, (1.5 / (1.5 + 1 / kLog2Of3) + 1 / kLog2Of3) / 2);
}

TEST(ScoreRanking, HandlesKLargerThanTheList) {
  // [1] with relevant {1 2} at k = 5.
  RankingScores s = ScoreRanking({{1}}, {{2, 1}}, 5);
  EXPECT_EQ(s.users, 1u);
  EXPECT_DOUBLE_EQ(s.precision, 1.0 / 5);
  EXPECT_DOUBLE_EQ(s.recall, 1.0 / 2);
  EXPECT_DOUBLE_EQ(s.map, 1.0 / 2);                       // 1/1 over min(2, 5)
  EXPECT_DOUBLE_EQ(s.ndcg, 1.0 / (1.0 + 1 / kLog2Of3));  // ideal: both relevant items on top
}

TEST(ScoreRanking, CountsDuplicateRelevantItemsOnceAndEmptyRecommendationsAsMisses) {
  RankingScores s = ScoreRanking({{5, 9}, {}}, {{5, 5}, {3}}, 2);
  EXPECT_EQ(s.users, 2u);
  EXPECT_DOUBLE_EQ(s.precision, (0.5 + 0.0) / 2);
  EXPECT_DOUBLE_EQ(s.recall, (1.0 + 0.0) / 2);
  EXPECT_DOUBLE_EQ(s.map, (1.0 + 0.0) / 2);
  EXPECT_DOUBLE_EQ(s.ndcg, (1.0 + 0.0) / 2);
}

TEST(ScoreRanking, PerfectRankingScoresOne) {
  RankingScores s = ScoreRanking({{4, 2, 7, 1}}, {{2, 4}}, 2);
  EXPECT_DOUBLE_EQ(s.precision, 1.0);
  EXPECT_DOUBLE_EQ(s.recall, 1.0);
  EXPECT_DOUBLE_EQ(s.map, 1.0);
  EXPECT_DOUBLE_EQ(s.ndcg, 1.0);
}

TEST(ScoreRanking, IsZeroWithoutUsersWithRelevantItems) {
  RankingScores s = ScoreRanking({{1, 2}, {3}}, {{}, {}}, 2);
  EXPECT_EQ(s.users, 0u);
  EXPECT_EQ(s.precision, 0.0);
  EXPECT_EQ(s.recall, 0.0);
  EXPECT_EQ(s.map, 0.0);
  EXPECT_EQ(s.ndcg, 0.0);
  EXPECT_EQ(ScoreRanking({}, {}, 1).users, 0u);
}

// Spark's RankingMetricsSuite data. Spark's means include the third user (no relevant items) as
// a zero, so its figures are 2/3 of these: precisionAt(4) = 0.75/3, precisionAt(15) = 8/45,
// meanAveragePrecisionAt(3) = 0.24074, ndcgAt(5) = 0.328788, ndcgAt(10) = 0.487913,
// recallAt(1) = 1/15.
TEST(ScoreRanking, MatchesSparksRankingMetricsSuite) {
  const Lists recommended = {{1, 6, 2, 7, 8, 3, 9, 10, 4, 5}, {4, 1, 5, 6, 2, 7, 3, 8, 9, 10},
                             {1, 2, 3, 4, 5}};
  const Lists relevant = {{1, 2, 3, 4, 5}, {1, 2, 3}, {}};
  auto spark = [](double ours) { return ours * 2.0 / 3.0; };
  EXPECT_NEAR(spark(ScoreRanking(recommended, relevant, 4).precision), 0.75 / 3, 1e-12);
  EXPECT_NEAR(spark(ScoreRanking(recommended, relevant, 15).precision), 8.0 / 45, 1e-12);
  EXPECT_NEAR(spark(ScoreRanking(recommended, relevant, 3).map), 0.24074, 1e-5);
  EXPECT_NEAR(spark(ScoreRanking(recommended, relevant, 5).ndcg), 0.328788, 1e-6);
  EXPECT_NEAR(spark(ScoreRanking(recommended, relevant, 10).ndcg), 0.487913, 1e-6);
  EXPECT_DOUBLE_EQ(ScoreRanking(recommended, relevant, 15).ndcg,
                   ScoreRanking(recommended, relevant, 10).ndcg);
  EXPECT_NEAR(spark(ScoreRanking(recommended, relevant, 1).recall), 1.0 / 15, 1e-12);
}

TEST(ScoreRanking, RejectsBadInput) {
  EXPECT_ERROR(ScoreRanking({{1}}, {{1}}, 0), kInvalid, Eq("ScoreRanking: k must be >= 1, got 0"));
  EXPECT_ERROR(ScoreRanking({{1}}, {{1}}, -2), kInvalid,
               Eq("ScoreRanking: k must be >= 1, got -2"));
  EXPECT_ERROR(ScoreRanking({{1}, {2}}, {{1}}, 1), kInvalid,
               Eq("ScoreRanking: recommendations for 2 users but relevant items for 1"));
}

}  // namespace
}  // namespace mltrack::eval
