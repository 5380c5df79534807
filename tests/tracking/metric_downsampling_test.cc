// DownsampleMetricHistory, MetricDownsampler and SqliteTrackingStore::SampleMetricHistory held
// to a direct statement of the definition in metric_downsampling.h, on random histories with
// repeated values, NaN, infinities, repeated steps and sparse steps.
#include "tracking/metric_downsampling.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/test_support.h"
#include "tracking/sqlite_tracking_store.h"

namespace mltrack::tracking {
namespace {

// The definition, written out with a mask over the points.
std::vector<Metric> Reference(const std::vector<Metric>& points, int max_points) {
  if (max_points < 1) return {};
  const size_t n = points.size();
  if (n <= static_cast<size_t>(max_points)) return points;
  if (max_points == 1) return {points.back()};
  std::vector<bool> keep(n, false);
  keep.front() = keep.back() = true;
  const size_t buckets = static_cast<size_t>(max_points - 2) / 2;
  const long double first = static_cast<long double>(points.front().step);
  const long double width = static_cast<long double>(points.back().step) - first + 1;
  for (size_t b = 0; b < buckets; ++b) {
    size_t min = n, max = n, nan = n;
    for (size_t i = 1; i + 1 < n; ++i) {
      auto bucket = static_cast<size_t>((points[i].step - first) * buckets / width);
      if (bucket != b) continue;
      if (std::isnan(points[i].value)) {
        if (nan == n) nan = i;
      } else {
        if (min == n || points[i].value < points[min].value) min = i;
        if (max == n || points[i].value > points[max].value) max = i;
      }
    }
    if (min != n) keep[min] = keep[max] = true;
    else if (nan != n) keep[nan] = true;
  }
  std::vector<Metric> kept;
  for (size_t i = 0; i < n; ++i) {
    if (keep[i]) kept.push_back(points[i]);
  }
  return kept;
}

std::vector<Metric> RandomHistory(std::mt19937_64& gen, int n) {
  std::vector<Metric> points;
  int64_t step = static_cast<int64_t>(gen() % 5);
  for (int i = 0; i < n; ++i) {
    double value = static_cast<double>(gen() % 7);  // many equal values
    switch (gen() % 23) {
      case 0: value = std::nan(""); break;
      case 1: value = std::numeric_limits<double>::infinity(); break;
      case 2: value = -std::numeric_limits<double>::infinity(); break;
      default: break;
    }
    points.push_back({"loss", value, 1000 + i, step});
    step += static_cast<int64_t>(gen() % 3 == 0 ? 0 : gen() % 40);  // repeats and gaps
  }
  return points;
}

// Same steps, timestamps and values (NaN equal to NaN).
void ExpectSamePoints(const std::vector<Metric>& actual, const std::vector<Metric>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].step, expected[i].step) << "point " << i;
    EXPECT_EQ(actual[i].timestamp, expected[i].timestamp) << "point " << i;
    if (std::isnan(expected[i].value)) {
      EXPECT_TRUE(std::isnan(actual[i].value)) << "point " << i;
    } else {
      EXPECT_EQ(actual[i].value, expected[i].value) << "point " << i;
    }
  }
}

TEST(MetricDownsamplingTest, MatchesTheDefinitionOnRandomHistories) {
  std::mt19937_64 gen(5);
  for (int trial = 0; trial < 300; ++trial) {
    auto points = RandomHistory(gen, 1 + static_cast<int>(gen() % 400));
    for (int max_points : {0, 1, 2, 3, 4, 5, 10, 51, 400}) {
      SCOPED_TRACE(::testing::Message() << "trial " << trial << ", max_points " << max_points);
      ExpectSamePoints(DownsampleMetricHistory(points, max_points),
                       Reference(points, max_points));
    }
  }
}

TEST(MetricDownsamplingTest, KeepsEverySpikeOfALongHistory) {
  std::vector<Metric> points;
  for (int64_t step = 0; step < 100000; ++step) {
    points.push_back({"loss", step == 123 || step == 77777 ? 50.0 : 1.0, step, step});
  }
  auto sampled = DownsampleMetricHistory(points, 1000);
  EXPECT_LE(sampled.size(), 1000u);
  std::vector<int64_t> spikes;
  for (const auto& point : sampled) {
    if (point.value == 50.0) spikes.push_back(point.step);
  }
  EXPECT_EQ(spikes, (std::vector<int64_t>{123, 77777}));
}

TEST(MetricDownsamplingTest, SqliteStoreSamplesAsTheDefinitionSays) {
  testing::TempDir dir;
  SqliteTrackingStore store((dir.path() / "mlruns.db").string(), "file:///unused");
  std::string experiment = store.CreateExperiment("sampling", "", {});
  std::mt19937_64 gen(9);
  for (int trial = 0; trial < 20; ++trial) {
    mltrack::Run run = store.CreateRun({.experiment_id = experiment});
    auto points = RandomHistory(gen, 1 + static_cast<int>(gen() % 3000));
    // The store orders equal (step, timestamp) pairs by value; timestamps here are distinct.
    for (size_t i = 0; i < points.size(); i += 1000) {
      std::vector<Metric> batch(points.begin() + i,
                                points.begin() + std::min(points.size(), i + 1000));
      store.LogBatch(run.info.run_id, batch, {}, {});
    }
    const int64_t low = points[points.size() / 4].step;
    const int64_t high = points[points.size() * 3 / 4].step;
    std::vector<Metric> in_range;
    for (const auto& point : points) {
      if (point.step >= low && point.step <= high) in_range.push_back(point);
    }
    for (int max_points : {1, 2, 7, 100, 2500}) {
      SCOPED_TRACE(::testing::Message() << "trial " << trial << ", max_points " << max_points);
      ExpectSamePoints(store.SampleMetricHistory(run.info.run_id, "loss", std::nullopt, max_points),
                       Reference(points, max_points));
      ExpectSamePoints(store.SampleMetricHistory(run.info.run_id, "loss",
                                                 std::make_pair(low, high), max_points),
                       Reference(in_range, max_points));
    }
    EXPECT_TRUE(store.SampleMetricHistory(run.info.run_id, "other", std::nullopt, 10).empty());
  }
  EXPECT_THROW(store.SampleMetricHistory("no-such-run", "loss", std::nullopt, 10), Error);
}

}  // namespace
}  // namespace mltrack::tracking
