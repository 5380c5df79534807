// The ALS trainer by behaviour: what it learns on planted structure (a checkerboard, a low-rank
// matrix, biases, implicit blocks), its constraints, its determinism across seeds, threads and
// ranks, its evaluation, and its refusals with their exact messages.
#include "models/als/als_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/dist/communicator.h"
#include "mltrack/error.h"

namespace mltrack::als {
namespace {

using ::testing::HasSubstr;

struct Triple {
  int64_t user;
  int64_t item;
  float rating;
};

Ratings MakeRatings(const std::vector<Triple>& rows, std::string path = "ratings.csv") {
  Ratings r;
  r.path = std::move(path);
  for (size_t i = 0; i < rows.size(); ++i) {
    r.user.push_back(rows[i].user);
    r.item.push_back(rows[i].item);
    r.rating.push_back(rows[i].rating);
    r.timestamp.push_back(0);
    r.line.push_back(static_cast<int64_t>(i) + 1);
  }
  return r;
}

// Rows r, r + ranks, r + 2 ranks, ... : rank r's shard.
Ratings Slice(const Ratings& all, int rank, int ranks) {
  std::vector<size_t> positions;
  for (size_t i = rank; i < all.size(); i += ranks) positions.push_back(i);
  return TakeRatings(all, positions);
}

AlsResult TrainSingle(const Ratings& ratings, const AlsOptions& options) {
  auto comm = dist::MakeSingleCommunicator();
  return TrainAls(ratings, options, *comm);
}

// Bit-identical learnt parameters.
bool SameFactors(const AlsFactors& a, const AlsFactors& b) {
  return a.rank == b.rank && a.users.ids() == b.users.ids() && a.items.ids() == b.items.ids() &&
         a.user_factors == b.user_factors && a.item_factors == b.item_factors &&
         a.global_mean == b.global_mean;
}

std::map<std::string, double> Evaluate(const AlsModel& model, const Ratings& ratings) {
  auto comm = dist::MakeSingleCommunicator();
  return EvaluateRatings(model, ratings, *comm);
}

// The largest |a - b| over the largest |a|: both models' factors and biases.
double RelativeDifference(const AlsFactors& a, const AlsFactors& b) {
  EXPECT_EQ(a.user_factors.size(), b.user_factors.size());
  EXPECT_EQ(a.item_factors.size(), b.item_factors.size());
  double diff = 0, scale = 0;
  auto compare = [&](const std::vector<double>& x, const std::vector<double>& y) {
    for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
      diff = std::max(diff, std::abs(x[i] - y[i]));
      scale = std::max(scale, std::abs(x[i]));
    }
  };
  compare(a.user_factors, b.user_factors);
  compare(a.item_factors, b.item_factors);
  diff = std::max(diff, std::abs(a.global_mean - b.global_mean));
  return scale > 0 ? diff / scale : diff;
}

// Users 0..7 and items 100..107 in two groups of four: a user likes its own group's items (5)
// and not the other group's (1, explicit; unobserved, implicit). User 0's rating of item 101 is
// withheld.
Ratings Checkerboard(bool implicit) {
  std::vector<Triple> rows;
  for (int64_t u = 0; u < 8; ++u) {
    for (int64_t i = 0; i < 8; ++i) {
      if (u == 0 && i == 1) continue;
      bool same = (u < 4) == (i < 4);
      if (same) rows.push_back({u, 100 + i, 5});
      else if (!implicit) rows.push_back({u, 100 + i, 1});
    }
  }
  return MakeRatings(rows);
}

// A planted model: ratings[u, i] = mean + bu + bi + <x_u, y_i> + noise over a random half of
// the pairs; the first rows (every tenth pair) are held out as `test`.
struct Planted {
  Ratings train, test;
};

Planted PlantedRatings(int users, int items, int rank, double noise, double bias_scale,
                       double mean, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::vector<double> x(users * rank), y(items * rank), bu(users), bi(items);
  for (double& v : x) v = normal(rng) / std::sqrt(rank);
  for (double& v : y) v = normal(rng);
  for (double& v : bu) v = bias_scale * normal(rng);
  for (double& v : bi) v = bias_scale * normal(rng);
  std::vector<Triple> train, test;
  size_t pairs = 0;
  for (int u = 0; u < users; ++u) {
    for (int i = 0; i < items; ++i) {
      if (uniform(rng) >= 0.5) continue;
      double r = mean + bu[u] + bi[i] + noise * normal(rng);
      for (int q = 0; q < rank; ++q) r += x[u * rank + q] * y[i * rank + q];
      Triple t{1000 + u, 5000 + 3 * i, static_cast<float>(r)};
      (pairs++ % 10 == 0 ? test : train).push_back(t);
    }
  }
  return {MakeRatings(train), MakeRatings(test)};
}

// Three blocks of 20 users x 20 items: each user has 12 items of its block (counts 1..5); one
// of them per user is held out as `test`.
Planted ImplicitBlocks() {
  std::mt19937_64 rng(7);
  std::vector<Triple> train, test;
  for (int u = 0; u < 60; ++u) {
    const int block = u / 20;
    std::vector<int> items(20);
    for (int j = 0; j < 20; ++j) items[j] = block * 20 + j;
    std::shuffle(items.begin(), items.end(), rng);
    for (int j = 0; j < 12; ++j) {
      Triple t{u, items[j], static_cast<float>(1 + rng() % 5)};
      (j == 0 ? test : train).push_back(t);
    }
  }
  return {MakeRatings(train), MakeRatings(test)};
}

TEST(AlsTrainer, ExplicitCheckerboardRecommendsTheWithheldCellFirst) {
  AlsOptions options;
  options.rank = 2;
  options.reg = 0.01;
  options.max_iter = 15;
  AlsResult result = TrainSingle(Checkerboard(false), options);
  const AlsModel& model = *result.model;
  double withheld = model.PredictPair(0, 101);
  EXPECT_NEAR(withheld, 5, 0.5);
  for (int64_t i = 104; i < 108; ++i) EXPECT_GT(withheld, model.PredictPair(0, i) + 2) << i;
  // Leaving out the items user 0 rated (every item but the withheld one), it comes first.
  std::vector<int64_t> seen = {100, 102, 103, 104, 105, 106, 107};
  auto top = model.Recommend(0, 1, seen);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].first, 101);
  EXPECT_EQ(result.ratings, 63u);
  EXPECT_EQ(result.loss.size(), 15u);
}

TEST(AlsTrainer, ImplicitCheckerboardRecommendsTheWithheldCellFirst) {
  for (std::string solver : {"cholesky", "cg"}) {
    AlsOptions options;
    options.rank = 2;
    options.reg = 0.01;
    options.implicit = true;
    options.alpha = 10;
    options.solver = solver;
    AlsResult result = TrainSingle(Checkerboard(true), options);
    const AlsModel& model = *result.model;
    double withheld = model.PredictPair(0, 101);
    EXPECT_GT(withheld, 0.5) << solver;
    for (int64_t i = 104; i < 108; ++i) {
      EXPECT_GT(withheld, model.PredictPair(0, i) + 0.3) << solver << " item " << i;
    }
    // Leaving out what user 0 has seen, the withheld cell is the first recommendation.
    std::vector<int64_t> seen = {100, 102, 103};
    auto top = model.Recommend(0, 3, seen);
    ASSERT_EQ(top.size(), 3u) << solver;
    EXPECT_EQ(top[0].first, 101) << solver;
  }
}

TEST(AlsTrainer, RecoversAPlantedRankFiveMatrix) {
  Planted data = PlantedRatings(200, 150, 5, 0.05, 0, 0, 1);
  AlsOptions options;
  options.rank = 5;
  options.reg = 0.001;
  options.max_iter = 20;
  AlsResult result = TrainSingle(data.train, options);
  auto train = Evaluate(*result.model, data.train);
  auto test = Evaluate(*result.model, data.test);
  EXPECT_LT(train["rmse"], 0.06);
  EXPECT_LT(test["rmse"], 0.1);
  EXPECT_EQ(test["rows"], static_cast<double>(data.test.size()));
  // The reported loss is the training sum of squared errors.
  EXPECT_NEAR(result.loss.back(), train["rmse"] * train["rmse"] * data.train.size(),
              1e-6 * result.loss.back());
  EXPECT_LT(result.loss.back(), result.loss.front());
}

TEST(AlsTrainer, BiasesImproveRmseOnPlantedBiases) {
  Planted data = PlantedRatings(200, 150, 2, 0.1, 1.0, 3.5, 2);
  AlsOptions options;
  options.rank = 2;
  options.reg = 0.01;
  options.max_iter = 15;
  double without = Evaluate(*TrainSingle(data.train, options).model, data.test)["rmse"];
  options.biases = true;
  AlsResult biased = TrainSingle(data.train, options);
  double with = Evaluate(*biased.model, data.test)["rmse"];
  EXPECT_LT(with, 0.25);
  EXPECT_LT(with, 0.5 * without);
  double mean = 0;
  for (float r : data.train.rating) mean += r;
  EXPECT_NEAR(biased.model->factors().global_mean, mean / data.train.size(), 1e-9);
}

TEST(AlsTrainer, ImplicitRanksHeldOutPositivesAboveOtherBlocks) {
  Planted data = ImplicitBlocks();
  for (std::string solver : {"cholesky", "cg"}) {
    AlsOptions options;
    options.rank = 3;
    options.reg = 0.01;
    options.implicit = true;
    options.alpha = 5;
    options.solver = solver;
    AlsResult result = TrainSingle(data.train, options);
    const AlsModel& model = *result.model;
    for (size_t j = 0; j < data.test.size(); ++j) {
      const int64_t user = data.test.user[j];
      const double held_out = model.PredictPair(user, data.test.item[j]);
      for (int64_t item = 0; item < 60; ++item) {
        if (item / 20 == user / 20) continue;
        ASSERT_GT(held_out, model.PredictPair(user, item))
            << solver << " user " << user << " item " << item;
      }
    }
  }
}

TEST(AlsTrainer, NonnegativeFactorsAreNeverNegative) {
  Planted data = PlantedRatings(100, 80, 3, 0.1, 0, 0, 3);
  for (auto& r : data.train.rating) r = std::abs(r);
  AlsOptions options;
  options.rank = 4;
  options.nonnegative = true;
  options.max_iter = 8;
  for (bool implicit : {false, true}) {
    options.implicit = implicit;
    AlsResult result = TrainSingle(data.train, options);
    const AlsFactors& f = result.model->factors();
    EXPECT_GE(*std::min_element(f.user_factors.begin(), f.user_factors.end()), 0.0);
    EXPECT_GE(*std::min_element(f.item_factors.begin(), f.item_factors.end()), 0.0);
    EXPECT_GT(*std::max_element(f.user_factors.begin(), f.user_factors.end()), 0.0);
    if (!implicit) {
      EXPECT_LT(result.loss.back(), result.loss.front());
    }
  }
}

TEST(AlsTrainer, SameSeedSameFactorsOnAnyThreadCount) {
  Planted data = PlantedRatings(120, 90, 3, 0.1, 0.5, 3, 4);
  AlsOptions options;
  options.rank = 4;
  options.biases = true;
  options.max_iter = 4;
  options.threads = 1;
  AlsResult one = TrainSingle(data.train, options);
  options.threads = 2;
  AlsResult two = TrainSingle(data.train, options);
  AlsResult again = TrainSingle(data.train, options);
  EXPECT_TRUE(SameFactors(one.model->factors(), two.model->factors()));
  EXPECT_TRUE(SameFactors(two.model->factors(), again.model->factors()));
  EXPECT_EQ(one.loss, two.loss);
  options.seed = 43;
  AlsResult other = TrainSingle(data.train, options);
  EXPECT_NE(other.model->factors().user_factors, two.model->factors().user_factors);
}

struct RankCase {
  const char* name;
  bool implicit, biases, nonnegative;
  const char* solver;
};

class AlsRanks : public ::testing::TestWithParam<RankCase> {};

TEST_P(AlsRanks, OneRankAndFourThreadedRanksAgree) {
  const RankCase& c = GetParam();
  Planted data = PlantedRatings(150, 100, 3, 0.1, c.biases ? 0.5 : 0, c.biases ? 3 : 0, 5);
  if (c.nonnegative) {
    for (auto& r : data.train.rating) r = std::abs(r);
  }
  AlsOptions options;
  options.rank = 4;
  options.max_iter = 5;
  options.threads = 2;
  options.implicit = c.implicit;
  options.biases = c.biases;
  options.nonnegative = c.nonnegative;
  options.solver = c.solver;
  AlsResult single = TrainSingle(data.train, options);
  EXPECT_EQ(single.bytes_sent_users, 0u);

  std::vector<AlsResult> results(4);
  std::vector<int> iterations(4, 0);
  dist::RunThreaded(4, [&](dist::Communicator& comm) {
    Ratings shard = Slice(data.train, comm.rank(), comm.size());
    results[comm.rank()] = TrainAls(shard, options, comm, [&](int, double, const AlsModel&) {
      ++iterations[comm.rank()];
    });
  });
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(iterations[r], 5);
    EXPECT_EQ(results[r].ratings, data.train.size());
    EXPECT_LT(RelativeDifference(single.model->factors(), results[r].model->factors()), 1e-8)
        << "rank " << r;
    EXPECT_TRUE(SameFactors(results[r].model->factors(), results[0].model->factors()));
    ASSERT_EQ(results[r].loss.size(), single.loss.size());
    for (size_t i = 0; i < single.loss.size(); ++i) {
      EXPECT_NEAR(results[r].loss[i], single.loss[i], 1e-8 * single.loss[i]);
    }
  }
  // Every rank sends factors of width k (+ 1 with biases) to the others.
  EXPECT_GT(results[0].bytes_sent_users, 0u);
  EXPECT_GT(results[0].bytes_sent_items, 0u);
  EXPECT_EQ(results[0].bytes_sent_users % ((options.rank + (c.biases ? 1 : 0)) * 8), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, AlsRanks,
    ::testing::Values(RankCase{"explicit", false, false, false, "cholesky"},
                      RankCase{"biases", false, true, false, "cholesky"},
                      RankCase{"nonnegative", false, false, true, "cholesky"},
                      RankCase{"implicit", true, false, false, "cholesky"},
                      RankCase{"implicit_cg", true, false, false, "cg"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(AlsTrainer, EvaluationColdStartNanOrDrop) {
  AlsOptions options;
  options.rank = 2;
  AlsResult result = TrainSingle(Checkerboard(false), options);
  Ratings test = MakeRatings({{0, 101, 5}, {99, 101, 5}, {1, 999, 1}});
  auto nan = Evaluate(*result.model, test);
  EXPECT_TRUE(std::isnan(nan["rmse"]));
  EXPECT_TRUE(std::isnan(nan["mae"]));
  EXPECT_EQ(nan["rows"], 3);

  options.cold_start = ColdStart::kDrop;
  AlsResult drop = TrainSingle(Checkerboard(false), options);
  auto dropped = Evaluate(*drop.model, test);
  EXPECT_EQ(dropped["rows"], 1);
  double e = 5 - drop.model->PredictPair(0, 101);
  EXPECT_DOUBLE_EQ(dropped["rmse"], std::abs(e));
  EXPECT_DOUBLE_EQ(dropped["mae"], std::abs(e));
}

void ExpectInvalid(const Ratings& ratings, const AlsOptions& options, const std::string& message) {
  try {
    TrainSingle(ratings, options);
    ADD_FAILURE() << "expected: " << message;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidParameterValue);
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(AlsTrainer, RefusesInvalidOptions) {
  Ratings ratings = Checkerboard(false);
  auto with = [](auto change) {
    AlsOptions o;
    change(o);
    return o;
  };
  ExpectInvalid(ratings, with([](AlsOptions& o) { o.rank = 0; }),
                "Invalid option rank=0: must be between 1 and 1000");
  ExpectInvalid(ratings, with([](AlsOptions& o) { o.reg = -1; }),
                "Invalid option reg=-1: must be a number >= 0");
  ExpectInvalid(ratings, with([](AlsOptions& o) { o.max_iter = 0; }),
                "Invalid option max_iter=0: must be at least 1");
  ExpectInvalid(ratings, with([](AlsOptions& o) { o.alpha = -0.5; }),
                "Invalid option alpha=-0.5: must be a number >= 0");
  ExpectInvalid(ratings, with([](AlsOptions& o) { o.implicit = o.biases = true; }),
                "Invalid option biases=true: biases apply to explicit feedback only");
  ExpectInvalid(ratings, with([](AlsOptions& o) { o.solver = "qr"; }),
                "Invalid option solver=qr: must be cholesky or cg");
  ExpectInvalid(ratings, with([](AlsOptions& o) { o.solver = "cg"; }),
                "Invalid option solver=cg: cg applies to implicit feedback only");
  ExpectInvalid(ratings, with([](AlsOptions& o) {
                  o.implicit = true;
                  o.cg_steps = 0;
                }),
                "Invalid option cg_steps=0: must be between 1 and 100");
  ExpectInvalid(ratings, with([](AlsOptions& o) { o.threads = -1; }),
                "Invalid option threads=-1: must be >= 0 (0: every core)");
  EXPECT_THROW(ParseColdStart("skip"), Error);
  EXPECT_EQ(ParseColdStart("drop"), ColdStart::kDrop);
  EXPECT_STREQ(ColdStartName(ColdStart::kNan), "nan");
  AlsOptions defaults;
  auto params = defaults.AsParams();
  EXPECT_EQ(params["rank"], "10");
  EXPECT_EQ(params["reg"], "0.1");
  EXPECT_EQ(params["cold_start"], "nan");
  EXPECT_EQ(params["implicit"], "false");
}

TEST(AlsTrainer, RefusesNonFiniteRatingsAndNoRatings) {
  Ratings ratings = Checkerboard(false);
  ratings.rating[2] = std::numeric_limits<float>::quiet_NaN();
  ExpectInvalid(ratings, AlsOptions{}, "ratings.csv: line 3: rating nan is not a finite number");
  ratings.rating[2] = std::numeric_limits<float>::infinity();
  ExpectInvalid(ratings, AlsOptions{}, "ratings.csv: line 3: rating inf is not a finite number");
  ExpectInvalid(MakeRatings({}), AlsOptions{}, "ratings.csv: no ratings to train on");
}

TEST(AlsTrainer, EveryRankRefusesOneRanksBadRating) {
  Ratings ratings = Checkerboard(false);
  ratings.rating[6] = std::numeric_limits<float>::quiet_NaN();  // row 6: rank 2 of 4
  std::vector<std::string> messages(4);
  EXPECT_THROW(dist::RunThreaded(4,
                                 [&](dist::Communicator& comm) {
                                   try {
                                     TrainAls(Slice(ratings, comm.rank(), 4), AlsOptions{}, comm);
                                   } catch (const Error& e) {
                                     messages[comm.rank()] = e.what();
                                     throw;
                                   }
                                 }),
               Error);
  EXPECT_EQ(messages[2], "ratings.csv: line 7: rating nan is not a finite number");
  EXPECT_EQ(messages[0], "rank 2: ratings.csv: line 7: rating nan is not a finite number");
}

}  // namespace
}  // namespace mltrack::als
