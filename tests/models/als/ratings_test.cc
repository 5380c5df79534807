#include "models/als/ratings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <set>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "models/dist/communicator.h"
#include "support/test_support.h"

namespace mltrack::als {
namespace {

using ::testing::ElementsAre;
using ::testing::Eq;
using testing::TempDir;
using testing::WriteFile;

constexpr ErrorCode kInvalid = ErrorCode::kInvalidParameterValue;

// The same ratings in the three MovieLens layouts (a blank line after the second rating).
const char kUData[] = "196\t242\t3\t881250949\n186\t302\t3\t891717742\n\n22\t377\t1\t878887116\n";
const char kDat[] = "1::1193::5::978300760\r\n1::661::3::978302109\r\n\r\n2::914::4::978301968\r\n";
const char kMl20m[] =
    "userId,movieId,rating,timestamp\n1,2,3.5,1112486027\n1,29,3.5,1112484676\n\n"
    "2,32,4.0,1112484819\n";

std::string Message(const std::filesystem::path& path, const std::string& rest) {
  return path.string() + rest;
}

TEST(RatingsRead, ReadsMovieLens100kUData) {
  TempDir dir;
  WriteFile(dir / "u.data", kUData);
  Ratings r = ReadRatings(dir / "u.data");
  EXPECT_EQ(r.path, (dir / "u.data").string());
  EXPECT_THAT(r.user, ElementsAre(196, 186, 22));
  EXPECT_THAT(r.item, ElementsAre(242, 302, 377));
  EXPECT_THAT(r.rating, ElementsAre(3.0f, 3.0f, 1.0f));
  EXPECT_THAT(r.timestamp, ElementsAre(881250949, 891717742, 878887116));
  EXPECT_THAT(r.line, ElementsAre(1, 2, 4));
  EXPECT_TRUE(r.has_timestamp);
  EXPECT_EQ(r.size(), 3u);
}

TEST(RatingsRead, ReadsMovieLens1mDatWithCrlf) {
  TempDir dir;
  WriteFile(dir / "ratings.dat", kDat);
  Ratings r = ReadRatings(dir / "ratings.dat", RatingsFormat::kMovieLens);
  EXPECT_THAT(r.user, ElementsAre(1, 1, 2));
  EXPECT_THAT(r.item, ElementsAre(1193, 661, 914));
  EXPECT_THAT(r.rating, ElementsAre(5.0f, 3.0f, 4.0f));
  EXPECT_THAT(r.timestamp, ElementsAre(978300760, 978302109, 978301968));
  EXPECT_THAT(r.line, ElementsAre(1, 2, 4));
  EXPECT_TRUE(r.has_timestamp);
}

TEST(RatingsRead, ReadsMovieLens20mCsv) {
  TempDir dir;
  WriteFile(dir / "ratings.csv", kMl20m);
  Ratings r = ReadRatings(dir / "ratings.csv");
  EXPECT_THAT(r.user, ElementsAre(1, 1, 2));
  EXPECT_THAT(r.item, ElementsAre(2, 29, 32));
  EXPECT_THAT(r.rating, ElementsAre(3.5f, 3.5f, 4.0f));
  EXPECT_THAT(r.timestamp, ElementsAre(1112486027, 1112484676, 1112484819));
  EXPECT_THAT(r.line, ElementsAre(2, 3, 5));
  EXPECT_TRUE(r.has_timestamp);
}

TEST(RatingsRead, AutoDetectionFollowsTheFirstLine) {
  TempDir dir;
  WriteFile(dir / "a", kDat);
  WriteFile(dir / "b", kUData);
  WriteFile(dir / "c", kMl20m);
  for (const char* name : {"a", "b", "c"}) {
    Ratings automatic = ReadRatings(dir / name, RatingsFormat::kAuto);
    Ratings movielens = ReadRatings(dir / name, RatingsFormat::kMovieLens);
    EXPECT_EQ(automatic.user, movielens.user) << name;
    EXPECT_EQ(automatic.line, movielens.line) << name;
    EXPECT_EQ(automatic.size(), 3u) << name;
  }
  // Forced CSV, a ratings.dat is a CSV whose header is its first line.
  EXPECT_ERROR(ReadRatings(dir / "a", RatingsFormat::kCsv), kInvalid,
               Eq(Message(dir / "a", ": line 1: no user column: expected one of 'userId', "
                                     "'user_id', 'user' (the columns are "
                                     "'1::1193::5::978300760')")));
}

TEST(RatingsRead, ReadsFilesWithoutTimestamps) {
  TempDir dir;
  WriteFile(dir / "u3", "1\t10\t4.5\n2\t20\t1\n");
  WriteFile(dir / "d3", "1::10::4.5\n2::20::1\n");
  for (const char* name : {"u3", "d3"}) {
    Ratings r = ReadRatings(dir / name);
    EXPECT_FALSE(r.has_timestamp) << name;
    EXPECT_THAT(r.user, ElementsAre(1, 2));
    EXPECT_THAT(r.rating, ElementsAre(4.5f, 1.0f));
    EXPECT_THAT(r.timestamp, ElementsAre(0, 0));
  }
}

TEST(RatingsRead, CsvColumnsByNameWithExtraColumnsAndNoTimestamp) {
  TempDir dir;
  WriteFile(dir / "r.csv", "uid,title,score,iid\n7,\"Heat, 1995\",2.5,70\n8,,5,80\n");
  Ratings r = ReadRatings(dir / "r.csv", RatingsFormat::kCsv, {"uid", "iid", "score", ""});
  EXPECT_THAT(r.user, ElementsAre(7, 8));
  EXPECT_THAT(r.item, ElementsAre(70, 80));
  EXPECT_THAT(r.rating, ElementsAre(2.5f, 5.0f));
  EXPECT_FALSE(r.has_timestamp);
  EXPECT_THAT(r.timestamp, ElementsAre(0, 0));
  EXPECT_THAT(r.line, ElementsAre(2, 3));
}

TEST(RatingsRead, CsvDefaultsTakeTheFirstKnownNames) {
  TempDir dir;
  // user_id is preferred to user, item_id to item; "when" is not a timestamp unless named.
  WriteFile(dir / "r.csv", "user,user_id,item,item_id,rating,when\n1,2,3,4,5,6\n");
  Ratings r = ReadRatings(dir / "r.csv");
  EXPECT_THAT(r.user, ElementsAre(2));
  EXPECT_THAT(r.item, ElementsAre(4));
  EXPECT_FALSE(r.has_timestamp);
  Ratings t = ReadRatings(dir / "r.csv", RatingsFormat::kAuto, {"user", "item", "", "when"});
  EXPECT_THAT(t.user, ElementsAre(1));
  EXPECT_THAT(t.item, ElementsAre(3));
  EXPECT_TRUE(t.has_timestamp);
  EXPECT_THAT(t.timestamp, ElementsAre(6));
}

// 40 ratings with blank lines and ratings of different widths, in each layout.
std::string ManyRatings(const std::string& separator, bool header) {
  std::string text = header ? "userId,movieId,rating,timestamp\n" : "";
  for (int i = 0; i < 40; ++i) {
    text += fmt::format("{}{}{}{}{}{}{}\n", i % 7 * 1001, separator, i * 37 % 101, separator,
                        (i % 9) * 0.5 + 0.5, separator, 1000000 + i * i);
    if (i % 11 == 3) text += "\n";
  }
  return text;
}

TEST(RatingsRead, ShardsPartitionTheRatings) {
  TempDir dir;
  WriteFile(dir / "u.data", ManyRatings("\t", false));
  WriteFile(dir / "ratings.dat", ManyRatings("::", false));
  WriteFile(dir / "ratings.csv", ManyRatings(",", true));
  for (const char* name : {"u.data", "ratings.dat", "ratings.csv"}) {
    Ratings whole = ReadRatings(dir / name);
    ASSERT_EQ(whole.size(), 40u) << name;
    EXPECT_EQ(whole.line.back(), name == std::string("ratings.csv") ? 45 : 44) << name;
    for (int n = 1; n <= 5; ++n) {
      Ratings joined;
      for (int s = 0; s < n; ++s) {
        Ratings part = ReadRatings(dir / name, RatingsFormat::kAuto, {}, s, n);
        joined.user.insert(joined.user.end(), part.user.begin(), part.user.end());
        joined.item.insert(joined.item.end(), part.item.begin(), part.item.end());
        joined.rating.insert(joined.rating.end(), part.rating.begin(), part.rating.end());
        joined.timestamp.insert(joined.timestamp.end(), part.timestamp.begin(),
                                part.timestamp.end());
        joined.line.insert(joined.line.end(), part.line.begin(), part.line.end());
      }
      EXPECT_EQ(joined.user, whole.user) << name << " in " << n;
      EXPECT_EQ(joined.item, whole.item) << name << " in " << n;
      EXPECT_EQ(joined.rating, whole.rating) << name << " in " << n;
      EXPECT_EQ(joined.timestamp, whole.timestamp) << name << " in " << n;
      EXPECT_EQ(joined.line, whole.line) << name << " in " << n;
    }
  }
}

TEST(RatingsRead, MoreShardsThanLinesLeaveSomeEmpty) {
  TempDir dir;
  WriteFile(dir / "ratings.dat", "1::2::3::4\n");
  size_t total = 0;
  for (int s = 0; s < 30; ++s) total += ReadRatings(dir / "ratings.dat", {}, {}, s, 30).size();
  EXPECT_EQ(total, 1u);
  EXPECT_ERROR(ReadRatings(dir / "ratings.dat", {}, {}, 3, 3), kInvalid,
               Eq(Message(dir / "ratings.dat", ": shard 3 of 3 does not exist")));
}

TEST(RatingsRead, RejectsMalformedLines) {
  TempDir dir;
  WriteFile(dir / "ratings.dat", "1::2::3::4\n1::2::3::4\n\n1::2::3\n");
  EXPECT_ERROR(ReadRatings(dir / "ratings.dat"), kInvalid,
               Eq(Message(dir / "ratings.dat",
                          ": line 4: expected 4 fields separated by '::', found 3")));
  WriteFile(dir / "first.dat", "1::2\n");
  EXPECT_ERROR(ReadRatings(dir / "first.dat"), kInvalid,
               Eq(Message(dir / "first.dat",
                          ": line 1: expected 4 fields separated by '::', found 2")));
  WriteFile(dir / "u.data", "1\t2\t3\t4\n1\t2\t3\n");
  EXPECT_ERROR(ReadRatings(dir / "u.data"), kInvalid,
               Eq(Message(dir / "u.data", ": line 2: expected 4 fields, found 3")));
  WriteFile(dir / "r.csv", "userId,movieId,rating\n1,2,3\n1,2\n");
  EXPECT_ERROR(ReadRatings(dir / "r.csv"), kInvalid,
               Eq(Message(dir / "r.csv", ": line 3: expected 3 fields, found 2")));
}

TEST(RatingsRead, RejectsBadValuesNamingLineAndColumn) {
  TempDir dir;
  WriteFile(dir / "ratings.csv", "userId,movieId,rating\n1,2,3\n1,2,4\n1,2,3\n1,2,x\n");
  EXPECT_ERROR(ReadRatings(dir / "ratings.csv"), kInvalid,
               Eq(Message(dir / "ratings.csv", ": line 5, column 'rating': 'x' is not a number")));
  WriteFile(dir / "user.csv", "userId,movieId,rating\n1,2,3\n1.5,2,3\n");
  EXPECT_ERROR(ReadRatings(dir / "user.csv"), kInvalid,
               Eq(Message(dir / "user.csv",
                          ": line 3, column 'userId': '1.5' is not an integer")));
  WriteFile(dir / "empty.csv", "userId,movieId,rating\n1,,3\n");
  EXPECT_ERROR(ReadRatings(dir / "empty.csv"), kInvalid,
               Eq(Message(dir / "empty.csv", ": line 2, column 'movieId': '' is not a number")));
  WriteFile(dir / "nan.csv", "userId,movieId,rating\n1,2,nan\n");
  EXPECT_ERROR(ReadRatings(dir / "nan.csv"), kInvalid,
               Eq(Message(dir / "nan.csv", ": line 2, column 'rating': 'nan' is not a finite "
                                           "rating")));
  WriteFile(dir / "ratings.dat", "1::2::3::4\n1::2::x::4\n");
  EXPECT_ERROR(ReadRatings(dir / "ratings.dat"), kInvalid,
               Eq(Message(dir / "ratings.dat", ": line 2, column 'rating': 'x' is not a number")));
  WriteFile(dir / "user.dat", "1.5::2::3::4\n");
  EXPECT_ERROR(ReadRatings(dir / "user.dat"), kInvalid,
               Eq(Message(dir / "user.dat", ": line 1, column 'user': '1.5' is not an integer")));
  WriteFile(dir / "big.dat", "1::99999999999999999999::3::4\n");
  EXPECT_ERROR(ReadRatings(dir / "big.dat"), kInvalid,
               Eq(Message(dir / "big.dat", ": line 1, column 'item': '99999999999999999999' is "
                                           "not a 64-bit integer")));
  WriteFile(dir / "u.data", "1\t2\t3\t4\n1\tb\t3\t4\n");
  EXPECT_ERROR(ReadRatings(dir / "u.data"), kInvalid,
               Eq(Message(dir / "u.data", ": line 2, column 'item': 'b' is not a number")));
}

TEST(RatingsRead, RejectsMissingColumns) {
  TempDir dir;
  WriteFile(dir / "r.csv", "userId,movieId,score\n1,2,3\n");
  EXPECT_ERROR(ReadRatings(dir / "r.csv"), kInvalid,
               Eq(Message(dir / "r.csv", ": line 1: no rating column: expected one of 'rating' "
                                         "(the columns are 'userId', 'movieId', 'score')")));
  EXPECT_ERROR(ReadRatings(dir / "r.csv", RatingsFormat::kCsv, {"", "", "score", "ts"}),
               kInvalid,
               Eq(Message(dir / "r.csv", ": line 1: no timestamp column 'ts' (the columns are "
                                         "'userId', 'movieId', 'score')")));
  EXPECT_ERROR(ReadRatings(dir / "r.csv", RatingsFormat::kCsv, {"", "userId", "score", ""}),
               kInvalid,
               Eq(Message(dir / "r.csv",
                          ": column 'userId' cannot be both the user and the item column")));
  WriteFile(dir / "ratings.dat", kDat);
  EXPECT_ERROR(ReadRatings(dir / "ratings.dat", RatingsFormat::kAuto, {"u", "", "", ""}),
               kInvalid,
               Eq(Message(dir / "ratings.dat",
                          ": column names apply to CSV files with a header; this file is "
                          "MovieLens' headerless '::'-separated format")));
}

TEST(RatingsRead, RejectsFilesWithoutRatings) {
  TempDir dir;
  WriteFile(dir / "empty.csv", "");
  WriteFile(dir / "blank.dat", "\n  \r\n");
  WriteFile(dir / "header.csv", "userId,movieId,rating,timestamp\n\n");
  for (const char* name : {"empty.csv", "blank.dat", "header.csv"}) {
    EXPECT_ERROR(ReadRatings(dir / name), kInvalid,
                 Eq(Message(dir / name, ": the file holds no ratings")));
  }
  EXPECT_ERROR(ReadRatings(dir / "missing.csv"), ErrorCode::kResourceDoesNotExist,
               Eq(Message(dir / "missing.csv", ": no such file")));
}

TEST(RatingsRead, ParsesFormatNames) {
  EXPECT_EQ(ParseRatingsFormat("auto"), RatingsFormat::kAuto);
  EXPECT_EQ(ParseRatingsFormat("movielens"), RatingsFormat::kMovieLens);
  EXPECT_EQ(ParseRatingsFormat("csv"), RatingsFormat::kCsv);
  EXPECT_ERROR(ParseRatingsFormat("tsv"), kInvalid,
               Eq("Invalid ratings format 'tsv': expected auto, movielens or csv"));
}

// --- IdMap ------------------------------------------------------------------------------------

TEST(IdMap, MapsIdsToSortedIndicesAndBack) {
  IdMap map({-5, 3, 40, 1000000000000});
  EXPECT_EQ(map.size(), 4u);
  EXPECT_EQ(map.Index(-5), 0);
  EXPECT_EQ(map.Index(40), 2);
  EXPECT_EQ(map.Index(1000000000000), 3);
  EXPECT_EQ(map.Index(4), -1);
  EXPECT_EQ(map.Index(-6), -1);
  EXPECT_EQ(map.Index(2000000000000), -1);
  EXPECT_EQ(map.Id(1), 3);
  EXPECT_EQ(IdMap().Index(0), -1);
}

TEST(IdMap, DenseAndSparseIdsFindEveryIdAndRefuseOthers) {
  // Dense ids (a table over their range) and sparse ones (a hash table), with colliding
  // neighbours, negatives and the extremes.
  std::vector<std::vector<int64_t>> sets = {{}, {}};
  for (int64_t v = 1; v <= 5000; v += (v % 7 == 0 ? 3 : 1)) sets[0].push_back(v);
  for (int64_t v = 0; v < 5000; ++v) sets[1].push_back(v * 1000003 - 2500000000LL);
  sets[1].push_back(std::numeric_limits<int64_t>::min());
  sets[1].push_back(std::numeric_limits<int64_t>::max());
  std::sort(sets[1].begin(), sets[1].end());
  for (const auto& ids : sets) {
    IdMap map(ids);
    for (size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(map.Index(ids[i]), static_cast<int64_t>(i));
    for (int64_t id : ids) {
      if (id == std::numeric_limits<int64_t>::max()) continue;
      if (!std::binary_search(ids.begin(), ids.end(), id + 1)) {
        ASSERT_EQ(map.Index(id + 1), -1);
      }
    }
  }
}

// Small ranges of ids are built through a bitmap, wide ones through a sort: both are checked.
class IdMapBuild : public ::testing::TestWithParam<int64_t> {};

TEST_P(IdMapBuild, ThreeRanksBuildTheSingleRankMap) {
  const int64_t scale = GetParam();
  std::vector<std::vector<int64_t>> parts = {{9, 3, 3, 7}, {}, {7, 1, 12, 9, 1}};
  for (auto& part : parts) {
    for (auto& id : part) id *= scale;
  }
  std::vector<int64_t> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  auto single = dist::MakeSingleCommunicator();
  IdMap expected = IdMap::Build(all, *single);
  EXPECT_THAT(expected.ids(),
              ElementsAre(1 * scale, 3 * scale, 7 * scale, 9 * scale, 12 * scale));
  std::mutex mutex;
  std::vector<std::vector<int64_t>> built(3);
  dist::RunThreaded(3, [&](dist::Communicator& comm) {
    IdMap map = IdMap::Build(parts[comm.rank()], comm);
    std::lock_guard lock(mutex);
    built[comm.rank()] = map.ids();
  });
  for (const auto& ids : built) EXPECT_EQ(ids, expected.ids());
}

INSTANTIATE_TEST_SUITE_P(IdMapIds, IdMapBuild,
                         ::testing::Values(int64_t{1}, int64_t{1000000000000}));

// --- TakeRatings and splits -------------------------------------------------------------------

Ratings Make(std::vector<int64_t> user, std::vector<int64_t> timestamp, bool has_timestamp) {
  Ratings r;
  r.path = "made";
  r.user = std::move(user);
  for (size_t i = 0; i < r.user.size(); ++i) {
    r.item.push_back(static_cast<int64_t>(100 + i));
    r.rating.push_back(static_cast<float>(i));
    r.line.push_back(static_cast<int64_t>(i + 2));
  }
  r.timestamp = has_timestamp ? std::move(timestamp) : std::vector<int64_t>(r.user.size(), 0);
  r.has_timestamp = has_timestamp;
  return r;
}

TEST(RatingsTake, TakesThePositionsInOrder) {
  Ratings r = Make({1, 2, 3}, {10, 20, 30}, true);
  std::vector<size_t> positions = {2, 0};
  Ratings t = TakeRatings(r, positions);
  EXPECT_THAT(t.user, ElementsAre(3, 1));
  EXPECT_THAT(t.item, ElementsAre(102, 100));
  EXPECT_THAT(t.rating, ElementsAre(2.0f, 0.0f));
  EXPECT_THAT(t.timestamp, ElementsAre(30, 10));
  EXPECT_THAT(t.line, ElementsAre(4, 2));
  EXPECT_TRUE(t.has_timestamp);
  std::vector<size_t> bad = {3};
  EXPECT_ERROR(TakeRatings(r, bad), kInvalid,
               Eq("Rating position 3 is out of range for 3 ratings"));
}

TEST(RandomSplit, IsDeterministicAndIndependentOfSharding) {
  TempDir dir;
  WriteFile(dir / "ratings.csv", ManyRatings(",", true));
  Ratings whole = ReadRatings(dir / "ratings.csv");
  data::Split a = RandomSplit(whole, 0.3, 42);
  data::Split b = RandomSplit(whole, 0.3, 42);
  EXPECT_EQ(a.test, b.test);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.train.size() + a.test.size(), whole.size());
  EXPECT_FALSE(a.test.empty());
  EXPECT_FALSE(a.train.empty());
  EXPECT_NE(RandomSplit(whole, 0.3, 43).test, a.test);
  std::set<int64_t> test_lines;
  for (size_t p : a.test) test_lines.insert(whole.line[p]);
  std::set<int64_t> sharded_test_lines;
  for (int s = 0; s < 3; ++s) {
    Ratings part = ReadRatings(dir / "ratings.csv", RatingsFormat::kAuto, {}, s, 3);
    for (size_t p : RandomSplit(part, 0.3, 42).test) sharded_test_lines.insert(part.line[p]);
  }
  EXPECT_EQ(sharded_test_lines, test_lines);
  EXPECT_ERROR(RandomSplit(whole, 1.0, 42), kInvalid,
               Eq("Invalid test fraction 1: expected a value in (0, 1)"));
}

TEST(LeaveKOut, HoldsOutTheLatestKPerUserWithTiesByLine) {
  // User 5: timestamps 10 30 20 30 (positions 0 2 4 5); user 6: two ratings; user 7: three.
  Ratings r = Make({5, 6, 5, 6, 5, 5, 7, 7, 7}, {10, 1, 30, 2, 20, 30, 5, 5, 4}, true);
  data::Split two = LeaveKOut(r, 2, 0);
  // User 5: both 30s; user 6 has only 2 ratings: all train; user 7: the two 5s.
  EXPECT_THAT(two.test, ElementsAre(2, 5, 6, 7));
  EXPECT_THAT(two.train, ElementsAre(0, 1, 3, 4, 8));
  data::Split one = LeaveKOut(r, 1, 0);
  // The tie between positions 2 and 5 (both 30) goes to the later line, 5; likewise 7 over 6.
  EXPECT_THAT(one.test, ElementsAre(3, 5, 7));
  EXPECT_THAT(one.train, ElementsAre(0, 1, 2, 4, 6, 8));
  EXPECT_ERROR(LeaveKOut(r, 0, 0), kInvalid, Eq("Invalid k 0 for leave-k-out: expected at least 1"));
  // Users spread too wide for grouping by a table are grouped by sorting: the same split.
  for (auto& u : r.user) u = u * 3000000000000 - 7;
  EXPECT_EQ(LeaveKOut(r, 2, 0).test, two.test);
  EXPECT_EQ(LeaveKOut(r, 1, 0).test, one.test);
  EXPECT_EQ(LeaveKOut(r, 1, 0).train, one.train);
}

TEST(LeaveKOut, WithoutTimestampsPicksKPerUserBySeed) {
  std::vector<int64_t> users;
  for (int u = 0; u < 20; ++u) {
    for (int j = 0; j < 6; ++j) users.push_back(u);
  }
  users.push_back(99);  // one rating: stays in train
  Ratings r = Make(users, {}, false);
  data::Split a = LeaveKOut(r, 2, 7);
  EXPECT_EQ(a.test.size(), 40u);
  EXPECT_EQ(a.train.size(), r.size() - 40);
  EXPECT_EQ(a.train.back(), r.size() - 1);
  for (int u = 0; u < 20; ++u) {
    EXPECT_EQ(std::count_if(a.test.begin(), a.test.end(), [&](size_t p) { return r.user[p] == u; }),
              2);
  }
  EXPECT_EQ(LeaveKOut(r, 2, 7).test, a.test);
  EXPECT_NE(LeaveKOut(r, 2, 8).test, a.test);
  EXPECT_TRUE(std::is_sorted(a.test.begin(), a.test.end()));
  EXPECT_TRUE(std::is_sorted(a.train.begin(), a.train.end()));
}

}  // namespace
}  // namespace mltrack::als
