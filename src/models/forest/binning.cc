#include "models/forest/binning.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/parallel.h"
#include "models/data/mix64.h"
#include "mltrack/error.h"

namespace mltrack::forest {
namespace {

// Distinct thresholds at the quantiles of `sample` (sorted in place): at most max_bins - 1
// midpoints between consecutive distinct values, so that at most max_bins bins result.
std::vector<double> QuantileThresholds(std::vector<double>& sample, int max_bins) {
  std::sort(sample.begin(), sample.end());
  std::vector<double> thresholds;
  const size_t m = sample.size();
  if (m == 0) return thresholds;
  auto add_after = [&](double v) {
    // The midpoint between v and the next larger sample value, if any.
    auto next = std::upper_bound(sample.begin(), sample.end(), v);
    if (next == sample.end()) return;
    double t = v + (*next - v) / 2;
    if (thresholds.empty() || t > thresholds.back()) thresholds.push_back(t);
  };
  size_t distinct = 1;
  for (size_t i = 1; i < m && distinct <= static_cast<size_t>(max_bins); ++i) {
    distinct += sample[i] != sample[i - 1];
  }
  if (distinct <= static_cast<size_t>(max_bins)) {
    // Few values: a bin for each.
    for (size_t i = 0; i < m; ++i) {
      if (i + 1 < m && sample[i + 1] != sample[i]) add_after(sample[i]);
    }
    return thresholds;
  }
  for (int b = 1; b < max_bins; ++b) {
    size_t rank = static_cast<size_t>(static_cast<double>(b) * m / max_bins);
    add_after(sample[std::min(rank, m) - (rank > 0 ? 1 : 0)]);
  }
  return thresholds;
}

}  // namespace

std::vector<FeatureBins> ComputeBins(const std::vector<std::vector<double>>& columns,
                                     const data::FeatureEncoder& encoder,
                                     std::span<const int64_t> row_ids, int max_bins,
                                     uint64_t seed, dist::Communicator& comm) {
  const auto& features = encoder.columns();
  std::vector<FeatureBins> bins(features.size());
  const bool unknown_slot = encoder.unknown() == data::UnknownCategory::kUnknownSlot;
  std::vector<size_t> numeric;
  for (size_t j = 0; j < features.size(); ++j) {
    if (!features[j].categorical) {
      numeric.push_back(j);
      continue;
    }
    bins[j].categorical = true;
    bins[j].num_bins = static_cast<int>(features[j].vocabulary.size()) + (unknown_slot ? 1 : 0);
    if (bins[j].num_bins > max_bins) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("The categorical feature '{}' has {} categories{}, more than "
                              "max_bins ({}); raise --max-bins (up to 256) or leave the column "
                              "out",
                              features[j].name, bins[j].num_bins,
                              unknown_slot ? " with the unknown slot" : "", max_bins));
    }
    bins[j].num_bins = std::max(bins[j].num_bins, 1);
  }
  if (numeric.empty()) return bins;

  // The sample: rows whose hash of (seed, row id) falls below the rate that keeps about
  // kBinSampleRows rows over all ranks. It depends on the row ids only, never on the sharding.
  std::vector<int64_t> total{static_cast<int64_t>(row_ids.size())};
  comm.AllreduceSum(total);
  const double rate = total[0] == 0 ? 1.0
                                    : std::min(1.0, static_cast<double>(kBinSampleRows) /
                                                        static_cast<double>(total[0]));
  const uint64_t bin_seed = data::Mix64(seed ^ 0x62696e73ULL);  // "bins"
  std::vector<size_t> sampled;
  for (size_t i = 0; i < row_ids.size(); ++i) {
    uint64_t h = data::Mix64(bin_seed ^ data::Mix64(static_cast<uint64_t>(row_ids[i])));
    if (static_cast<double>(h >> 11) * 0x1.0p-53 < rate) sampled.push_back(i);
  }
  // Feature-major values of the sampled rows, gathered from every rank.
  std::vector<double> mine;
  mine.reserve(sampled.size() * numeric.size());
  for (size_t j : numeric) {
    for (size_t i : sampled) mine.push_back(columns[j][i]);
  }
  std::vector<size_t> counts;
  std::vector<double> all = comm.AllgatherValues<double>(mine, &counts);
  std::vector<std::vector<double>> samples(numeric.size());
  size_t offset = 0;
  for (size_t count : counts) {
    const size_t rows = count / numeric.size();
    for (size_t f = 0; f < numeric.size(); ++f) {
      samples[f].insert(samples[f].end(), all.begin() + offset + f * rows,
                        all.begin() + offset + (f + 1) * rows);
    }
    offset += count;
  }
  for (size_t f = 0; f < numeric.size(); ++f) {
    FeatureBins& b = bins[numeric[f]];
    b.thresholds = QuantileThresholds(samples[f], max_bins);
    b.num_bins = static_cast<int>(b.thresholds.size()) + 1;
  }
  return bins;
}

BinnedMatrix ApplyBins(const std::vector<FeatureBins>& bins,
                       const std::vector<std::vector<double>>& columns, int threads) {
  BinnedMatrix binned;
  binned.rows = columns.empty() ? 0 : columns[0].size();
  binned.columns.resize(columns.size());
  ParallelFor(columns.size(), ResolveThreads(threads), [&](size_t j) {
    const std::vector<double>& values = columns[j];
    std::vector<uint8_t>& out = binned.columns[j];
    out.resize(values.size());
    if (bins[j].categorical) {
      for (size_t i = 0; i < values.size(); ++i) out[i] = static_cast<uint8_t>(values[i]);
      return;
    }
    const std::vector<double>& t = bins[j].thresholds;
    for (size_t i = 0; i < values.size(); ++i) {
      // The first bin whose upper bound is >= the value; above all bounds, the last bin.
      out[i] = static_cast<uint8_t>(std::lower_bound(t.begin(), t.end(), values[i]) - t.begin());
    }
  });
  return binned;
}

}  // namespace mltrack::forest
