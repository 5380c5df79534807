// Feature bins: every feature value becomes a small bin index, the representation the tree
// builder's histograms work on (as Spark MLlib and histogram GBDTs do).
//
// Numeric features: up to max_bins bins at quantiles of a sample of the training rows. The
// sample is chosen by a hash of (seed, row id), so it is the same set of rows however the data
// is sharded, and it is gathered to every rank: all ranks, and one process, get the same bins.
// Thresholds are midpoints between consecutive distinct sample values; a value v goes to the
// first bin b with v <= thresholds[b] (the last bin when above all).
// Categorical features: one bin per vocabulary entry, plus one for the unknown slot when the
// encoder has one (no training row falls in it).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/data/encoding.h"
#include "models/dist/communicator.h"

namespace mltrack::forest {

inline constexpr size_t kBinSampleRows = 200'000;  // rows sampled for the quantiles, all ranks

struct FeatureBins {
  bool categorical = false;
  int num_bins = 1;
  std::vector<double> thresholds;  // numeric: num_bins - 1 increasing upper bounds
};

// Column-major bin indices: columns[j][i] is row i's bin of feature j.
struct BinnedMatrix {
  size_t rows = 0;
  std::vector<std::vector<uint8_t>> columns;
};

// `columns` are this rank's rows in EncodeColumns' layout, `row_ids` their global ids (CSV line
// numbers). Collective. Throws kInvalidParameterValue when a categorical feature has more
// categories than max_bins allows, naming it and the option to raise.
std::vector<FeatureBins> ComputeBins(const std::vector<std::vector<double>>& columns,
                                     const data::FeatureEncoder& encoder,
                                     std::span<const int64_t> row_ids, int max_bins,
                                     uint64_t seed, dist::Communicator& comm);

BinnedMatrix ApplyBins(const std::vector<FeatureBins>& bins,
                       const std::vector<std::vector<double>>& columns, int threads = 0);

}  // namespace mltrack::forest
