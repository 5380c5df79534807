// Server-side downsampling of metric histories for charts (the get-history-bulk-interval
// endpoint): a history of any length becomes at most `max_points` points that still show every
// spike, because each bucket of steps keeps its smallest and its largest value.
#pragma once

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

}  // namespace mltrack::tracking
