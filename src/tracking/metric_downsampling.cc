#include "tracking/metric_downsampling.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "tracking/tracking_store.h"

namespace mltrack::tracking {

namespace {
constexpr size_t kNone = static_cast<size_t>(-1);
}  // namespace

MetricDownsampler::MetricDownsampler(size_t count, int64_t first_step, int64_t last_step,
                                     int max_points)
    : count_(count),
      first_step_(first_step),
      max_points_(max_points),
      keep_all_(max_points >= 1 && count <= static_cast<size_t>(max_points)) {
  if (keep_all_) {
    all_.reserve(count);
    return;
  }
  if (max_points_ < 2) return;  // none, or only the last point
  // Steps are int64 and may span the whole range: bucket arithmetic is done in 128 bits on the
  // distance from the first step, which (points being sorted) is never negative.
  width_ = static_cast<unsigned __int128>(static_cast<uint64_t>(last_step) -
                                          static_cast<uint64_t>(first_step)) +
           1;
  buckets_.resize(static_cast<size_t>(max_points_ - 2) / 2);
}

void MetricDownsampler::Add(const Metric& point) {
  const size_t i = seen_++;
  if (keep_all_) {
    all_.push_back(point);
    return;
  }
  if (max_points_ < 1) return;
  if (i + 1 == count_) {
    last_ = {i, point};
    return;
  }
  if (max_points_ == 1) return;
  if (i == 0) {
    first_ = {i, point};
    return;
  }
  if (buckets_.empty()) return;
  const uint64_t distance = static_cast<uint64_t>(point.step) - static_cast<uint64_t>(first_step_);
  const auto b = static_cast<size_t>(static_cast<unsigned __int128>(distance) * buckets_.size() /
                                     width_);
  Bucket& bucket = buckets_[std::min(b, buckets_.size() - 1)];
  if (std::isnan(point.value)) {
    if (bucket.nan.index == kNone) bucket.nan = {i, point};
    return;
  }
  // Strict comparisons: among equal values the earliest point represents the bucket.
  if (bucket.min.index == kNone || point.value < bucket.min.point.value) bucket.min = {i, point};
  if (bucket.max.index == kNone || point.value > bucket.max.point.value) bucket.max = {i, point};
}

std::vector<Metric> MetricDownsampler::Finish() {
  if (keep_all_) return std::move(all_);
  std::vector<Metric> sampled;
  if (max_points_ < 1 || last_.index == kNone) return sampled;
  if (max_points_ == 1) return {std::move(last_.point)};
  sampled.reserve(static_cast<size_t>(max_points_));
  if (first_.index != kNone) sampled.push_back(std::move(first_.point));
  // Buckets cover increasing steps, so emitting each bucket's points in index order keeps the
  // whole result in the input's order.
  for (Bucket& bucket : buckets_) {
    if (bucket.min.index != kNone) {
      Kept& earlier = bucket.min.index <= bucket.max.index ? bucket.min : bucket.max;
      Kept& later = bucket.min.index <= bucket.max.index ? bucket.max : bucket.min;
      sampled.push_back(std::move(earlier.point));
      if (later.index != earlier.index) sampled.push_back(std::move(later.point));
    } else if (bucket.nan.index != kNone) {
      sampled.push_back(std::move(bucket.nan.point));
    }
  }
  sampled.push_back(std::move(last_.point));
  return sampled;
}

std::vector<Metric> DownsampleMetricHistory(const std::vector<Metric>& points, int max_points) {
  if (points.empty() || max_points < 1) return {};
  MetricDownsampler sampler(points.size(), points.front().step, points.back().step, max_points);
  for (const Metric& point : points) sampler.Add(point);
  return sampler.Finish();
}

std::vector<Metric> TrackingStore::SampleMetricHistory(
    const std::string& run_id, const std::string& key,
    std::optional<std::pair<int64_t, int64_t>> steps, int max_points) {
  std::vector<Metric> points;
  std::string token;
  do {
    Page<Metric> page = GetMetricHistory(run_id, key, kMaxHistoryPerPage, token);
    for (auto& metric : page.items) {
      if (steps && metric.step > steps->second) return DownsampleMetricHistory(points, max_points);
      if (steps && metric.step < steps->first) continue;
      points.push_back(std::move(metric));
    }
    token = std::move(page.next_page_token);
  } while (!token.empty());
  return DownsampleMetricHistory(points, max_points);
}

}  // namespace mltrack::tracking
