// Server-side downsampling of metric histories for charts (the get-history-bulk-interval
// endpoint): a history of any length becomes at most `max_points` points that still show every
// spike, because each bucket of steps keeps its smallest and its largest value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mltrack/entities.h"

namespace mltrack::tracking {

// Returns a subsequence of `points` (which must be sorted by (step, timestamp)) with at most
// `max_points` points, in the same order:
// - all of them when there are no more than `max_points`;
// - otherwise the first and the last point, and for each of (max_points - 2) / 2 buckets that
//   split the steps from the first point's to the last point's into equal widths, the points
//   with the smallest and the largest value in the bucket (one point when they are the same).
//   NaN values are passed over for the minimum and maximum unless a bucket holds nothing else;
//   +-Infinity are ordinary extremes, so they always survive.
// max_points 1 keeps only the last point (the latest value); max_points < 1 keeps none.
std::vector<Metric> DownsampleMetricHistory(const std::vector<Metric>& points, int max_points);

// The same downsampling over a stream, holding only the points it keeps: for a history too long
// to read into memory at once (a store reads its rows straight into it). The caller knows the
// number of points and the first and last step beforehand, then Adds every point in
// (step, timestamp) order, then calls Finish once. The result equals DownsampleMetricHistory's.
class MetricDownsampler {
 public:
  MetricDownsampler(size_t count, int64_t first_step, int64_t last_step, int max_points);
  // The i-th point (i counted from 0); exactly `count` calls.
  void Add(const Metric& point);
  std::vector<Metric> Finish();

 private:
  struct Kept {
    size_t index = static_cast<size_t>(-1);  // none yet
    Metric point;
  };
  struct Bucket {
    Kept min;
    Kept max;
    Kept nan;  // the first NaN, kept only when the bucket has no number
  };

  size_t count_;
  int64_t first_step_;
  unsigned __int128 width_ = 1;
  int max_points_;
  bool keep_all_;
  size_t seen_ = 0;
  std::vector<Metric> all_;  // when every point is kept
  Kept first_;
  Kept last_;
  std::vector<Bucket> buckets_;
};

}  // namespace mltrack::tracking
