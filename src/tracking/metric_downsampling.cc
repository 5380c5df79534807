#include "tracking/metric_downsampling.h"

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace mltrack::tracking {

std::vector<Metric> DownsampleMetricHistory(const std::vector<Metric>& points, int max_points) {
  if (max_points < 1) return {};
  const size_t n = points.size();
  if (n <= static_cast<size_t>(max_points)) return points;
  if (max_points == 1) return {points.back()};

  std::vector<bool> keep(n, false);
  keep.front() = true;
  keep.back() = true;
  const uint64_t buckets = static_cast<uint64_t>(max_points - 2) / 2;
  if (buckets > 0) {
    // Steps are int64 and may span the whole range: bucket arithmetic is done in 128 bits on
    // the distance from the first step, which (points being sorted) is never negative.
    const int64_t first_step = points.front().step;
    const unsigned __int128 width =
        static_cast<unsigned __int128>(static_cast<uint64_t>(points.back().step) -
                                       static_cast<uint64_t>(first_step)) +
        1;
    constexpr size_t kNone = static_cast<size_t>(-1);
    struct Extremes {
      size_t min = kNone;
      size_t max = kNone;
      size_t nan = kNone;  // the first NaN, kept only when the bucket has no number
    };
    std::vector<Extremes> extremes(buckets);
    for (size_t i = 1; i + 1 < n; ++i) {
      const uint64_t distance =
          static_cast<uint64_t>(points[i].step) - static_cast<uint64_t>(first_step);
      const auto bucket =
          static_cast<size_t>(static_cast<unsigned __int128>(distance) * buckets / width);
      Extremes& e = extremes[bucket];
      const double value = points[i].value;
      if (std::isnan(value)) {
        if (e.nan == kNone) e.nan = i;
        continue;
      }
      // Strict comparisons: among equal values the earliest point represents the bucket.
      if (e.min == kNone || value < points[e.min].value) e.min = i;
      if (e.max == kNone || value > points[e.max].value) e.max = i;
    }
    for (const Extremes& e : extremes) {
      if (e.min != kNone) {
        keep[e.min] = true;
        keep[e.max] = true;
      } else if (e.nan != kNone) {
        keep[e.nan] = true;
      }
    }
  }

  std::vector<Metric> sampled;
  sampled.reserve(static_cast<size_t>(max_points));
  for (size_t i = 0; i < n; ++i) {
    if (keep[i]) sampled.push_back(points[i]);
  }
  return sampled;
}

}  // namespace mltrack::tracking
