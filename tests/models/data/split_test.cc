// Train/test splits and k folds: a row's side depends only on (seed, row id).
#include "models/data/split.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace mltrack::data {
namespace {

using ::testing::ElementsAre;
using ::testing::Eq;

std::vector<int64_t> Ids(int64_t first, int64_t count) {
  std::vector<int64_t> ids(count);
  std::iota(ids.begin(), ids.end(), first);
  return ids;
}

// The ids on the test side, from positions.
std::vector<int64_t> TestIds(const std::vector<int64_t>& ids, const Split& split) {
  return TakeRows<int64_t>(ids, split.test);
}

TEST(TrainTestSplit, IsDeterministicAndPartitionsTheRowsInOrder) {
  auto ids = Ids(1, 10'000);
  Split a = TrainTestSplit(ids, 0.25, 7);
  Split b = TrainTestSplit(ids, 0.25, 7);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.test, b.test);
  EXPECT_TRUE(std::is_sorted(a.train.begin(), a.train.end()));
  EXPECT_TRUE(std::is_sorted(a.test.begin(), a.test.end()));
  std::vector<size_t> all = a.train;
  all.insert(all.end(), a.test.begin(), a.test.end());
  std::sort(all.begin(), all.end());
  std::vector<size_t> expected(ids.size());
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
}

TEST(TrainTestSplit, DifferentSeedsSplitDifferently) {
  auto ids = Ids(0, 1000);
  EXPECT_NE(TrainTestSplit(ids, 0.5, 1).test, TrainTestSplit(ids, 0.5, 2).test);
}

TEST(TrainTestSplit, FractionIsApproximatelyRightOn100kIds) {
  auto ids = Ids(0, 100'000);
  for (double fraction : {0.01, 0.2, 0.5, 0.9}) {
    SCOPED_TRACE(fraction);
    Split split = TrainTestSplit(ids, fraction, 42);
    double got = static_cast<double>(split.test.size()) / ids.size();
    // A binomial's sd at n = 100k is at most 0.0016; 0.006 is almost four of them.
    EXPECT_NEAR(got, fraction, 0.006);
  }
}

TEST(TrainTestSplit, ASubsetSplitsAsTheWholeDoes) {
  // Shards in any order, with gaps: each row lands on the side it has in the whole set.
  auto ids = Ids(0, 20'000);
  std::vector<int64_t> whole_test = TestIds(ids, TrainTestSplit(ids, 0.3, 9));
  std::vector<int64_t> shard;
  for (int64_t id = 19'999; id >= 0; id -= 3) shard.push_back(id);
  std::vector<int64_t> shard_test = TestIds(shard, TrainTestSplit(shard, 0.3, 9));
  std::vector<int64_t> expected;
  for (int64_t id : whole_test) {
    if (id % 3 == 19'999 % 3) expected.push_back(id);
  }
  std::sort(shard_test.begin(), shard_test.end());
  EXPECT_EQ(shard_test, expected);
  EXPECT_FALSE(expected.empty());
}

TEST(TrainTestSplit, LargerFractionsOnlyAddTestRows) {
  auto ids = Ids(0, 5000);
  auto small = TestIds(ids, TrainTestSplit(ids, 0.1, 3));
  auto large = TestIds(ids, TrainTestSplit(ids, 0.4, 3));
  EXPECT_TRUE(std::includes(large.begin(), large.end(), small.begin(), small.end()));
}

TEST(TrainTestSplit, RejectsAFractionOutsideZeroOne) {
  auto ids = Ids(0, 10);
  for (double fraction : {0.0, 1.0, -0.5, 1.5}) {
    EXPECT_ERROR(TrainTestSplit(ids, fraction, 0), ErrorCode::kInvalidParameterValue,
                 Eq(fmt::format("Invalid test fraction {}: expected a value in (0, 1)", fraction)));
  }
  EXPECT_ERROR(TrainTestSplit(ids, 1.5, 0), ErrorCode::kInvalidParameterValue,
               Eq("Invalid test fraction 1.5: expected a value in (0, 1)"));
  EXPECT_ERROR(TrainTestSplit(ids, std::nan(""), 0), ErrorCode::kInvalidParameterValue,
               Eq("Invalid test fraction nan: expected a value in (0, 1)"));
}

TEST(KFold, EveryRowIsTestedExactlyOnceAndTrainedOnOtherwise) {
  auto ids = Ids(100, 30'000);
  const int k = 5;
  std::vector<Split> folds = KFold(ids, k, 11);
  ASSERT_EQ(folds.size(), static_cast<size_t>(k));
  std::vector<int> tested(ids.size(), 0);
  for (const Split& fold : folds) {
    EXPECT_EQ(fold.train.size() + fold.test.size(), ids.size());
    // About 1/k each (sd ~ 70 rows).
    EXPECT_NEAR(static_cast<double>(fold.test.size()), 6000.0, 400.0);
    std::vector<bool> in_test(ids.size(), false);
    for (size_t p : fold.test) {
      ++tested[p];
      in_test[p] = true;
    }
    for (size_t p : fold.train) EXPECT_FALSE(in_test[p]);
    EXPECT_TRUE(std::is_sorted(fold.train.begin(), fold.train.end()));
  }
  EXPECT_TRUE(std::all_of(tested.begin(), tested.end(), [](int n) { return n == 1; }));
}

TEST(KFold, ASubsetFoldsAsTheWholeDoes) {
  auto ids = Ids(0, 9000);
  auto whole = KFold(ids, 3, 5);
  std::vector<int64_t> shard(ids.begin() + 4000, ids.end());
  std::reverse(shard.begin(), shard.end());
  auto part = KFold(shard, 3, 5);
  for (int f = 0; f < 3; ++f) {
    std::vector<int64_t> expected;
    for (int64_t id : TestIds(ids, whole[f])) {
      if (id >= 4000) expected.push_back(id);
    }
    std::vector<int64_t> got = TestIds(shard, part[f]);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, expected) << "fold " << f;
  }
}

TEST(KFold, RejectsFewerThanTwoFolds) {
  auto ids = Ids(0, 10);
  EXPECT_ERROR(KFold(ids, 1, 0), ErrorCode::kInvalidParameterValue,
               Eq("Invalid number of folds 1: expected at least 2"));
  EXPECT_ERROR(KFold(ids, -3, 0), ErrorCode::kInvalidParameterValue,
               Eq("Invalid number of folds -3: expected at least 2"));
}

TEST(TakeRows, TakesEveryColumnInTheGivenOrder) {
  models::Table table;
  table.AddColumn("x", std::vector<double>{0.5, 1.5, 2.5});
  table.AddColumn("n", std::vector<int64_t>{10, 20, 30});
  table.AddColumn("s", std::vector<std::string>{"a", "b", "c"});
  table.AddColumn("b", std::vector<bool>{true, false, true});
  std::vector<size_t> positions = {2, 0, 2};
  models::Table taken = TakeRows(table, positions);
  ASSERT_EQ(taken.num_rows(), 3u);
  ASSERT_EQ(taken.columns().size(), 4u);
  EXPECT_EQ(taken.columns()[0].name, "x");
  EXPECT_THAT(std::get<std::vector<double>>(taken.columns()[0].values), ElementsAre(2.5, 0.5, 2.5));
  EXPECT_THAT(std::get<std::vector<int64_t>>(taken.columns()[1].values), ElementsAre(30, 10, 30));
  EXPECT_THAT(std::get<std::vector<std::string>>(taken.columns()[2].values),
              ElementsAre("c", "a", "c"));
  EXPECT_THAT(std::get<std::vector<bool>>(taken.columns()[3].values),
              ElementsAre(true, true, true));
  EXPECT_EQ(TakeRows(table, std::vector<size_t>{}).num_rows(), 0u);
  EXPECT_EQ(TakeRows(table, std::vector<size_t>{}).columns().size(), 4u);
}

TEST(TakeRows, RejectsAPositionOutOfRange) {
  models::Table table;
  table.AddColumn("x", std::vector<double>{0.5, 1.5});
  std::vector<size_t> positions = {1, 2};
  EXPECT_ERROR(TakeRows(table, positions), ErrorCode::kInvalidParameterValue,
               Eq("Row position 2 is out of range for a table of 2 rows"));
}

}  // namespace
}  // namespace mltrack::data
