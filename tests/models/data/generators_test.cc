// Synthetic data sets: deterministic, row-addressable (any slice equals the slice of the whole),
// and shaped like what they claim to be.
#include "models/data/generators.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/data/split.h"
#include "support/test_support.h"

namespace mltrack::data {
namespace {

using ::testing::Eq;

const std::vector<double>& Doubles(const models::Table& table, size_t column) {
  return std::get<std::vector<double>>(table.columns().at(column).values);
}
const std::vector<int64_t>& Longs(const models::Table& table, size_t column) {
  return std::get<std::vector<int64_t>>(table.columns().at(column).values);
}

std::vector<std::string> Names(const models::Table& table) {
  std::vector<std::string> names;
  for (const auto& column : table.columns()) names.push_back(column.name);
  return names;
}

std::vector<models::DataType> Types(const models::Table& table) {
  std::vector<models::DataType> types;
  for (const auto& column : table.columns()) types.push_back(models::ValueType(column.values));
  return types;
}

models::Table Slice(const models::Table& whole, uint64_t first, uint64_t count) {
  std::vector<size_t> positions;
  uint64_t end = first + std::min<uint64_t>(count, whole.num_rows() - first);
  for (uint64_t i = first; i < end; ++i) {
    positions.push_back(i);
  }
  return TakeRows(whole, positions);
}

// Generating [first, first + count) on its own gives the rows of the whole set, for slices at
// the start, the middle, the end, single rows, empty slices and "to the end".
template <typename Spec, typename Make>
void ExpectSlicesMatchTheWhole(const Spec& spec, uint64_t rows, Make make) {
  models::Table whole = make(spec, 0, UINT64_MAX);
  ASSERT_EQ(whole.num_rows(), rows);
  const std::vector<std::pair<uint64_t, uint64_t>> slices = {
      {0, 1},         {0, 17},        {1, 1},    {123, 456}, {rows - 1, 1}, {rows - 5, 100},
      {rows / 2, 0},  {rows, 0},      {rows, 9}, {77, UINT64_MAX},
  };
  for (auto [first, count] : slices) {
    SCOPED_TRACE(::testing::Message() << "first " << first << " count " << count);
    EXPECT_EQ(make(spec, first, count), Slice(whole, first, count));
  }
  // Four "ranks" of unequal shares together make the whole set.
  std::vector<uint64_t> bounds = {0, rows / 7, rows / 2, rows / 2 + 3, rows};
  for (size_t r = 0; r + 1 < bounds.size(); ++r) {
    models::Table part = make(spec, bounds[r], bounds[r + 1] - bounds[r]);
    EXPECT_EQ(part, Slice(whole, bounds[r], bounds[r + 1] - bounds[r])) << "rank " << r;
  }
}

// Solves the normal equations X'X b = X'y of `xs` (columns) by Gaussian elimination.
std::vector<double> LeastSquares(const std::vector<const std::vector<double>*>& xs,
                                 const std::vector<double>& y) {
  const size_t k = xs.size();
  std::vector<std::vector<double>> a(k, std::vector<double>(k + 1, 0.0));
  for (size_t i = 0; i < k; ++i) {
    for (size_t j = 0; j < k; ++j) {
      a[i][j] = std::inner_product(xs[i]->begin(), xs[i]->end(), xs[j]->begin(), 0.0);
    }
    a[i][k] = std::inner_product(xs[i]->begin(), xs[i]->end(), y.begin(), 0.0);
  }
  for (size_t c = 0; c < k; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < k; ++r) {
      if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
    }
    std::swap(a[c], a[pivot]);
    for (size_t r = 0; r < k; ++r) {
      if (r == c) continue;
      double f = a[r][c] / a[c][c];
      for (size_t j = c; j <= k; ++j) a[r][j] -= f * a[c][j];
    }
  }
  std::vector<double> b(k);
  for (size_t i = 0; i < k; ++i) b[i] = a[i][k] / a[i][i];
  return b;
}

// --- classification -----------------------------------------------------------------------------

TEST(MakeClassification, HasTheDocumentedColumnsAndTypes) {
  ClassificationSpec spec;
  models::Table table = MakeClassification(spec);
  EXPECT_EQ(table.num_rows(), 1000u);
  std::vector<std::string> names;
  for (int j = 0; j < 20; ++j) names.push_back("f" + std::to_string(j));
  names.push_back("label");
  EXPECT_EQ(Names(table), names);
  std::vector<models::DataType> types(20, models::DataType::kDouble);
  types.push_back(models::DataType::kLong);
  EXPECT_EQ(Types(table), types);
  // No rows: the same columns.
  EXPECT_EQ(Names(MakeClassification(spec, 0, 0)), names);
  EXPECT_EQ(MakeClassification(spec, 0, 0).num_rows(), 0u);
}

TEST(MakeClassification, IsDeterministicPerSeed) {
  ClassificationSpec spec;
  spec.rows = 500;
  spec.seed = 3;
  EXPECT_EQ(MakeClassification(spec), MakeClassification(spec));
  ClassificationSpec other = spec;
  other.seed = 4;
  models::Table a = MakeClassification(spec);
  models::Table b = MakeClassification(other);
  EXPECT_NE(a, b);
  EXPECT_NE(Doubles(a, 0), Doubles(b, 0));
}

TEST(MakeClassification, ASliceEqualsTheSliceOfTheWhole) {
  ClassificationSpec spec;
  spec.rows = 3000;
  spec.features = 12;
  spec.informative = 4;
  spec.redundant = 3;
  spec.classes = 3;
  spec.seed = 17;
  ExpectSlicesMatchTheWhole(spec, spec.rows, [](const auto& s, uint64_t first, uint64_t count) {
    return MakeClassification(s, first, count);
  });
}

TEST(MakeClassification, ClassesAreBalanced) {
  ClassificationSpec spec;
  spec.rows = 30'000;
  spec.informative = 5;
  spec.classes = 3;
  spec.seed = 5;
  models::Table table = MakeClassification(spec);
  std::map<int64_t, int> counts;
  for (int64_t label : Longs(table, 20)) ++counts[label];
  ASSERT_EQ(counts.size(), 3u);
  for (auto [label, n] : counts) {
    SCOPED_TRACE(label);
    EXPECT_NEAR(n / 30'000.0, 1.0 / 3.0, 0.02);
  }
}

TEST(MakeClassification, RedundantFeaturesAreCombinationsOfInformativeOnes) {
  ClassificationSpec spec;
  spec.rows = 2000;
  spec.features = 8;
  spec.informative = 3;
  spec.redundant = 2;
  models::Table table = MakeClassification(spec);
  std::vector<const std::vector<double>*> informative = {&Doubles(table, 0), &Doubles(table, 1),
                                                         &Doubles(table, 2)};
  for (size_t r : {3, 4}) {
    const auto& y = Doubles(table, r);
    std::vector<double> b = LeastSquares(informative, y);
    double worst = 0.0;
    for (size_t i = 0; i < y.size(); ++i) {
      double fit = 0.0;
      for (size_t j = 0; j < b.size(); ++j) fit += b[j] * (*informative[j])[i];
      worst = std::max(worst, std::abs(fit - y[i]));
    }
    EXPECT_LT(worst, 1e-8) << "f" << r;
  }
  // The rest is standard normal noise.
  for (size_t n : {5, 6, 7}) {
    const auto& v = Doubles(table, n);
    double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
    double var = 0.0;
    for (double x : v) var += (x - mean) * (x - mean);
    var /= v.size();
    EXPECT_NEAR(mean, 0.0, 0.1) << "f" << n;
    EXPECT_NEAR(var, 1.0, 0.1) << "f" << n;
  }
}

// Full-batch gradient descent on the logistic loss; the accuracy on held-out rows.
double LogisticAccuracy(const models::Table& train, const models::Table& test, int features) {
  std::vector<double> w(features + 1, 0.0);
  const auto& y = Longs(train, features);
  const size_t n = train.num_rows();
  for (int epoch = 0; epoch < 150; ++epoch) {
    std::vector<double> z(n, w[features]);
    for (int j = 0; j < features; ++j) {
      const auto& x = Doubles(train, j);
      for (size_t i = 0; i < n; ++i) z[i] += w[j] * x[i];
    }
    for (size_t i = 0; i < n; ++i) z[i] = 1.0 / (1.0 + std::exp(-z[i])) - static_cast<double>(y[i]);
    for (int j = 0; j < features; ++j) {
      w[j] -= 0.5 * std::inner_product(z.begin(), z.end(), Doubles(train, j).begin(), 0.0) / n;
    }
    w[features] -= 0.5 * std::accumulate(z.begin(), z.end(), 0.0) / n;
  }
  size_t correct = 0;
  for (size_t i = 0; i < test.num_rows(); ++i) {
    double z = w[features];
    for (int j = 0; j < features; ++j) z += w[j] * Doubles(test, j)[i];
    correct += (z > 0) == (Longs(test, features)[i] == 1);
  }
  return static_cast<double>(correct) / test.num_rows();
}

TEST(MakeClassification, ALinearModelLearnsTheDefaults) {
  // scikit-learn's rule for assigning clusters to classes makes some seeds an XOR; ours must not.
  for (uint64_t seed = 0; seed < 6; ++seed) {
    SCOPED_TRACE(seed);
    ClassificationSpec spec;
    spec.rows = 6000;
    spec.seed = seed;
    models::Table train = MakeClassification(spec, 0, 4000);
    models::Table test = MakeClassification(spec, 4000, 2000);
    EXPECT_GT(LogisticAccuracy(train, test, spec.features), 0.7);
  }
}

TEST(MakeClassification, FlipYRandomizesLabels) {
  ClassificationSpec spec;
  spec.rows = 4000;
  spec.class_sep = 3.0;
  spec.flip_y = 0.0;
  models::Table clean = MakeClassification(spec);
  spec.flip_y = 0.4;
  models::Table flipped = MakeClassification(spec);
  // Same features (the flip is drawn after them); about flip_y / 2 of the labels change.
  EXPECT_EQ(Doubles(clean, 0), Doubles(flipped, 0));
  size_t changed = 0;
  for (size_t i = 0; i < spec.rows; ++i) changed += Longs(clean, 20)[i] != Longs(flipped, 20)[i];
  EXPECT_NEAR(changed / 4000.0, 0.2, 0.03);
}

TEST(MakeClassification, NamesTheFieldOfABadSpec) {
  auto expect = [](ClassificationSpec spec, const std::string& message) {
    EXPECT_ERROR(MakeClassification(spec), ErrorCode::kInvalidParameterValue, Eq(message));
  };
  ClassificationSpec spec;
  spec.features = 28;
  spec.informative = 30;
  spec.redundant = 4;
  expect(spec,
         "Invalid classification spec: informative (30) + redundant (4) exceeds features (28)");
  spec = {};
  spec.informative = 2;
  spec.classes = 3;
  spec.clusters_per_class = 2;
  expect(spec, "Invalid classification spec: classes (3) * clusters_per_class (2) exceeds "
               "2^informative (4)");
  spec = {};
  spec.features = 0;
  expect(spec, "Invalid classification spec: features (0) must be at least 1");
  spec = {};
  spec.informative = 0;
  expect(spec, "Invalid classification spec: informative (0) must be at least 1");
  spec = {};
  spec.redundant = -1;
  expect(spec, "Invalid classification spec: redundant (-1) must not be negative");
  spec = {};
  spec.classes = 1;
  expect(spec, "Invalid classification spec: classes (1) must be at least 2");
  spec = {};
  spec.clusters_per_class = 0;
  expect(spec, "Invalid classification spec: clusters_per_class (0) must be at least 1");
  spec = {};
  spec.flip_y = 1.5;
  expect(spec, "Invalid classification spec: flip_y (1.5) must be in [0, 1]");
  spec = {};
  spec.class_sep = -1;
  expect(spec, "Invalid classification spec: class_sep (-1) must be a finite number >= 0");
  spec = {};
  EXPECT_ERROR(MakeClassification(spec, 1001, 1), ErrorCode::kInvalidParameterValue,
               Eq("Invalid classification spec: first row (1001) is beyond the 1000 rows"));
}

TEST(MakeClassification, ManyInformativeDimensionsWork) {
  ClassificationSpec spec;
  spec.rows = 50;
  spec.features = 100;
  spec.informative = 80;
  spec.classes = 5;
  models::Table table = MakeClassification(spec);
  EXPECT_EQ(table.num_rows(), 50u);
  EXPECT_EQ(table, MakeClassification(spec));
}

// --- regression ---------------------------------------------------------------------------------

TEST(MakeRegression, HasTheDocumentedColumnsAndIsDeterministic) {
  RegressionSpec spec;
  models::Table table = MakeRegression(spec);
  EXPECT_EQ(table.num_rows(), 1000u);
  ASSERT_EQ(table.columns().size(), 21u);
  EXPECT_EQ(table.columns()[19].name, "f19");
  EXPECT_EQ(table.columns()[20].name, "label");
  std::vector<models::DataType> types(21, models::DataType::kDouble);
  EXPECT_EQ(Types(table), types);
  EXPECT_EQ(table, MakeRegression(spec));
  spec.seed = 1;
  EXPECT_NE(table, MakeRegression(spec));
}

TEST(MakeRegression, ASliceEqualsTheSliceOfTheWhole) {
  RegressionSpec spec;
  spec.rows = 2500;
  spec.features = 7;
  spec.informative = 3;
  spec.seed = 99;
  ExpectSlicesMatchTheWhole(spec, spec.rows, [](const auto& s, uint64_t first, uint64_t count) {
    return MakeRegression(s, first, count);
  });
}

TEST(MakeRegression, TheLabelIsALinearFunctionOfInformativeFeaturesPlusNoise) {
  RegressionSpec spec;
  spec.rows = 4000;
  spec.features = 12;
  spec.informative = 5;
  spec.noise = 0.0;
  models::Table table = MakeRegression(spec);
  std::vector<const std::vector<double>*> xs;
  for (int j = 0; j < spec.features; ++j) xs.push_back(&Doubles(table, j));
  std::vector<double> w = LeastSquares(xs, Doubles(table, 12));
  int nonzero = 0;
  for (double wj : w) {
    if (std::abs(wj) > 1e-6) {
      ++nonzero;
      EXPECT_GE(wj, 0.0);
      EXPECT_LT(wj, 100.0);
    }
  }
  EXPECT_EQ(nonzero, 5);

  // With noise: the same X and the same w, the residual's sd is the noise.
  spec.noise = 2.0;
  models::Table noisy = MakeRegression(spec);
  EXPECT_EQ(Doubles(noisy, 0), Doubles(table, 0));
  double ss = 0.0;
  for (size_t i = 0; i < spec.rows; ++i) {
    double r = Doubles(noisy, 12)[i] - Doubles(table, 12)[i];
    ss += r * r;
  }
  EXPECT_NEAR(std::sqrt(ss / spec.rows), 2.0, 0.1);
}

TEST(MakeRegression, NamesTheFieldOfABadSpec) {
  RegressionSpec spec;
  spec.informative = 30;
  EXPECT_ERROR(MakeRegression(spec), ErrorCode::kInvalidParameterValue,
               Eq("Invalid regression spec: informative (30) exceeds features (20)"));
  spec = {};
  spec.noise = -0.5;
  EXPECT_ERROR(MakeRegression(spec), ErrorCode::kInvalidParameterValue,
               Eq("Invalid regression spec: noise (-0.5) must be a finite number >= 0"));
  spec = {};
  spec.features = 0;
  spec.informative = 0;
  EXPECT_ERROR(MakeRegression(spec), ErrorCode::kInvalidParameterValue,
               Eq("Invalid regression spec: features (0) must be at least 1"));
}

// --- ratings ------------------------------------------------------------------------------------

TEST(MakeRatings, HasTheDocumentedColumnsAndIsDeterministic) {
  RatingsSpec spec;
  models::Table table = MakeRatings(spec);
  EXPECT_EQ(table.num_rows(), 50'000u);
  EXPECT_EQ(Names(table), (std::vector<std::string>{"user", "item", "rating", "timestamp"}));
  EXPECT_EQ(Types(table),
            (std::vector<models::DataType>{models::DataType::kLong, models::DataType::kLong,
                                           models::DataType::kDouble, models::DataType::kLong}));
  EXPECT_EQ(table, MakeRatings(spec));
  spec.seed = 8;
  EXPECT_NE(table, MakeRatings(spec));
}

TEST(MakeRatings, ASliceEqualsTheSliceOfTheWhole) {
  RatingsSpec spec;
  spec.users = 300;
  spec.items = 120;
  spec.ratings = 5000;
  spec.seed = 21;
  ExpectSlicesMatchTheWhole(spec, spec.ratings, [](const auto& s, uint64_t first, uint64_t count) {
    return MakeRatings(s, first, count);
  });
}

TEST(MakeRatings, PairsAreUniqueAndValuesInRange) {
  RatingsSpec spec;
  models::Table table = MakeRatings(spec);
  const auto& users = Longs(table, 0);
  const auto& items = Longs(table, 1);
  const auto& ratings = Doubles(table, 2);
  const auto& times = Longs(table, 3);
  std::set<std::pair<int64_t, int64_t>> pairs;
  std::map<int64_t, int> per_item;
  std::set<double> values;
  for (size_t i = 0; i < table.num_rows(); ++i) {
    ASSERT_GE(users[i], 0);
    ASSERT_LT(users[i], spec.users);
    ASSERT_GE(items[i], 0);
    ASSERT_LT(items[i], spec.items);
    ASSERT_TRUE(pairs.insert({users[i], items[i]}).second)
        << "duplicate pair " << users[i] << "," << items[i];
    ASSERT_GE(ratings[i], 0.5);
    ASSERT_LE(ratings[i], 5.0);
    ASSERT_EQ(ratings[i] * 2, std::round(ratings[i] * 2)) << ratings[i];
    ASSERT_GE(times[i], 1'577'836'800);  // 2020-01-01
    ASSERT_LT(times[i], 1'577'836'800 + 2 * 365 * 86'400);
    ++per_item[items[i]];
    values.insert(ratings[i]);
  }
  EXPECT_EQ(values.size(), 10u);  // every half from 0.5 to 5 occurs
  // Zipf popularity: the head items are rated by (nearly) everyone, the median item rarely.
  std::vector<int> counts;
  for (auto [item, n] : per_item) counts.push_back(n);
  std::sort(counts.rbegin(), counts.rend());
  EXPECT_EQ(counts.front(), 1000);
  EXPECT_LT(counts[counts.size() / 2], 100);
}

TEST(MakeRatings, EveryPairOnceWhenRatingsFillTheMatrix) {
  RatingsSpec spec;
  spec.users = 37;
  spec.items = 11;
  spec.ratings = 37 * 11;
  models::Table table = MakeRatings(spec);
  std::set<std::pair<int64_t, int64_t>> pairs;
  for (size_t i = 0; i < table.num_rows(); ++i) {
    pairs.insert({Longs(table, 0)[i], Longs(table, 1)[i]});
  }
  EXPECT_EQ(pairs.size(), 37u * 11u);
}

TEST(MakeRatings, RatingsSpreadOverTheScaleWithoutNoise) {
  // The factors and biases alone spread the ratings (rather than clipping them to one end), with
  // the mean above the middle of the scale as in real rating data.
  RatingsSpec spec;
  spec.noise = 0.0;
  models::Table table = MakeRatings(spec);
  const auto& ratings = Doubles(table, 2);
  double mean = std::accumulate(ratings.begin(), ratings.end(), 0.0) / ratings.size();
  double var = 0.0;
  for (double r : ratings) var += (r - mean) * (r - mean);
  var /= ratings.size();
  EXPECT_GT(mean, 2.75);
  EXPECT_LT(mean, 4.0);
  EXPECT_GT(std::sqrt(var), 0.5);
}

TEST(MakeRatings, NamesTheFieldOfABadSpec) {
  RatingsSpec spec;
  spec.users = 10;
  spec.items = 10;
  spec.ratings = 101;
  EXPECT_ERROR(MakeRatings(spec), ErrorCode::kInvalidParameterValue,
               Eq("Invalid ratings spec: ratings (101) exceeds users (10) * items (10)"));
  spec = {};
  spec.rank = 0;
  EXPECT_ERROR(MakeRatings(spec), ErrorCode::kInvalidParameterValue,
               Eq("Invalid ratings spec: rank (0) must be at least 1"));
  spec = {};
  spec.users = 0;
  EXPECT_ERROR(MakeRatings(spec), ErrorCode::kInvalidParameterValue,
               Eq("Invalid ratings spec: users (0) must be at least 1"));
  spec = {};
  spec.min_rating = 0.3;
  EXPECT_ERROR(MakeRatings(spec), ErrorCode::kInvalidParameterValue,
               Eq("Invalid ratings spec: min_rating (0.3) must be a multiple of 0.5"));
  spec = {};
  spec.min_rating = 5.0;
  EXPECT_ERROR(MakeRatings(spec), ErrorCode::kInvalidParameterValue,
               Eq("Invalid ratings spec: min_rating (5) must be less than max_rating (5)"));
}

}  // namespace
}  // namespace mltrack::data
