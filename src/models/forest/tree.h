// A trained decision tree as flat node arrays: what the builder produces, the bundle stores and
// prediction walks. Node 0 is the root.
#pragma once

#include <cstdint>
#include <vector>

namespace mltrack::forest {

struct Tree {
  // Node i is a leaf when feature[i] < 0. Otherwise a row goes to left[i] when
  //   numeric feature:     x[feature[i]] <= threshold[i]
  //   categorical feature: the bit of category x[feature[i]] is set in the node's category set
  // and to right[i] otherwise. x holds one value per raw feature column: the number for a
  // numeric column, the vocabulary index for a categorical one (data::FeatureEncoder::
  // EncodeColumns), so an index past the vocabulary (the unknown slot) has no bit and goes right.
  std::vector<int32_t> feature;
  std::vector<int32_t> left;
  std::vector<int32_t> right;
  std::vector<double> threshold;      // numeric splits; 0 elsewhere
  std::vector<int32_t> category_set;  // categorical splits: first word in category_words; else -1
  std::vector<uint64_t> category_words;  // bitsets of `words_per_set` words each (the forest's)
  // nodes x value_width: a leaf's prediction (every node has one): class probabilities
  // (classification) or the mean label (regression).
  std::vector<double> value;
  std::vector<double> weight;         // the node's training weight (bootstrap-weighted rows)

  size_t num_nodes() const { return feature.size(); }
  int depth() const;                  // 0 for a single leaf

  // The leaf's value row for the feature row `x`.
  const double* Leaf(const double* x, int words_per_set, int value_width) const {
    int32_t node = 0;
    while (feature[node] >= 0) {
      double v = x[feature[node]];
      bool go_left;
      if (category_set[node] < 0) {
        go_left = v <= threshold[node];
      } else {
        uint64_t c = static_cast<uint64_t>(v);
        go_left = c < static_cast<uint64_t>(words_per_set) * 64 &&
                  ((category_words[category_set[node] + (c >> 6)] >> (c & 63)) & 1) != 0;
      }
      node = go_left ? left[node] : right[node];
    }
    return value.data() + static_cast<size_t>(node) * value_width;
  }

  bool operator==(const Tree&) const = default;
};

}  // namespace mltrack::forest
