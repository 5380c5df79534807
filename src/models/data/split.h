// Deterministic train/test splits and k folds. A row's side depends only on the seed and the
// row's id (its line number for a CSV file, its index for generated data), never on how the
// file was sharded or read: 1 rank and N ranks split the same rows the same way.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/bundle/signature.h"

namespace mltrack::data {

struct Split {
  std::vector<size_t> train;  // positions in the table, increasing
  std::vector<size_t> test;
};

// Row i goes to test when a hash of (seed, row_ids[i]) maps below test_fraction (0 < f < 1).
// Throws kInvalidParameterValue for a fraction outside (0, 1).
Split TrainTestSplit(std::span<const int64_t> row_ids, double test_fraction, uint64_t seed);

// k folds (k >= 2): fold f's test rows are those whose hash falls in [f/k, (f+1)/k).
std::vector<Split> KFold(std::span<const int64_t> row_ids, int k, uint64_t seed);

// The rows at `positions`, in that order.
models::Table TakeRows(const models::Table& table, std::span<const size_t> positions);
template <class T>
std::vector<T> TakeRows(std::span<const T> values, std::span<const size_t> positions) {
  std::vector<T> out;
  out.reserve(positions.size());
  for (size_t p : positions) out.push_back(values[p]);
  return out;
}

}  // namespace mltrack::data
