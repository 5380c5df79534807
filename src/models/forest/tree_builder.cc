#include "models/forest/tree_builder.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/parallel.h"
#include "models/data/mix64.h"

namespace mltrack::forest {
namespace {

// Histogram doubles one level may hold at once; larger levels are processed in chunks of nodes.
constexpr size_t kLevelBudget = size_t{1} << 22;  // 32 MiB
// With every feature at every node, the parents' histograms are kept for sibling subtraction
// while a level's histograms fit in this many doubles.
constexpr size_t kSubtractionBudget = size_t{1} << 25;  // 256 MiB

double Unit(uint64_t hash) { return static_cast<double>(hash >> 11) * 0x1.0p-53; }

uint64_t TreeSeed(uint64_t forest_seed, int tree) {
  return data::Mix64(data::Mix64(forest_seed) ^ data::Mix64(static_cast<uint64_t>(tree) + 1));
}

// The tree's weight of a row: Poisson(rate) by inversion (bootstrap), or 1 with probability
// rate, from the hash of (tree seed, row id) alone.
uint8_t RowWeight(uint64_t tree_seed, int64_t row_id, double rate, bool bootstrap) {
  double u = Unit(data::Mix64(tree_seed ^ data::Mix64(static_cast<uint64_t>(row_id))));
  if (!bootstrap) return u < rate ? 1 : 0;
  double p = std::exp(-rate);
  double cumulative = p;
  int k = 0;
  while (u >= cumulative && k < kMaxRowWeight) {
    ++k;
    p *= rate / k;
    cumulative += p;
  }
  return static_cast<uint8_t>(k);
}

// `k` of `d` features for a node, increasing, from the hash of (tree seed, node index).
std::vector<int32_t> DrawFeatures(uint64_t tree_seed, int32_t node, int d, int k) {
  std::vector<int32_t> all(d);
  std::iota(all.begin(), all.end(), 0);
  if (k >= d) return all;
  uint64_t key = data::Mix64(tree_seed ^ (0x6e6f6465ULL + static_cast<uint64_t>(node)));
  for (int i = 0; i < k; ++i) {  // partial Fisher-Yates
    uint64_t r = data::Mix64(key + static_cast<uint64_t>(i));
    int j = i + static_cast<int>(r % static_cast<uint64_t>(d - i));
    std::swap(all[i], all[j]);
  }
  all.resize(k);
  std::sort(all.begin(), all.end());
  return all;
}

struct TreeState {
  uint64_t seed = 0;
  std::vector<uint8_t> weight;  // per local row
  std::vector<uint32_t> rows;   // local rows with weight > 0, grouped by node
  GrownTree grown;
};

struct OpenNode {
  int tree = 0;                  // in the batch
  int32_t node = 0;              // in the tree's arrays
  uint32_t begin = 0, end = 0;   // this rank's rows: state.rows[begin, end)
  int depth = 0;
  std::vector<double> totals;    // stats over all ranks
  std::vector<int32_t> features;
  size_t offset = 0;             // of its histograms in the level buffer
  int32_t sibling = -1;          // index in the level of the sibling, when derived from it
  const double* parent_hist = nullptr;  // the parent's histograms, when derived
};

struct Split {
  double gain = 0;
  int32_t feature = -1;
  int bin = -1;                      // numeric: left holds bins <= bin
  std::vector<uint64_t> categories;  // categorical: the left set
  std::vector<double> left;          // stats of the left child
};

class Builder {
 public:
  Builder(const TrainingSet& data, const ForestOptions& options, int words_per_set,
          dist::Communicator& comm)
      : data_(data),
        options_(options),
        words_(words_per_set),
        comm_(comm),
        threads_(ResolveThreads(options.threads)),
        d_(static_cast<int>(data.bins->size())),
        stats_(data.classes > 0 ? data.classes : 2),
        value_width_(data.classes > 0 ? data.classes : 1),
        k_(options.FeaturesPerNode(d_)) {
    feature_offset_.resize(d_ + 1, 0);
    for (int f = 0; f < d_; ++f) {
      feature_offset_[f + 1] = feature_offset_[f] + (*data.bins)[f].num_bins * stats_;
    }
  }

  std::vector<GrownTree> Grow(int first, int count);

 private:
  double Weight(const std::vector<double>& s) const {
    if (data_.classes == 0) return s[0];
    double w = 0;
    for (double c : s) w += c;
    return w;
  }
  // The impurity decrease per unit weight of splitting `total` into `left` and the rest.
  double Gain(const double* total, const double* left, double w, double wl) const;
  double Impurity(const double* s, double w) const;
  size_t NodeHistSize(const OpenNode& n) const {
    size_t size = 0;
    for (int32_t f : n.features) size += feature_offset_[f + 1] - feature_offset_[f];
    return size;
  }
  void Fill(const OpenNode& n, size_t feature_index, double* out) const;
  Split BestSplit(const OpenNode& n, const double* hist) const;
  void AddNode(GrownTree& g, const std::vector<double>& totals) const;
  void Partition(TreeState& s, const OpenNode& n, const Split& split, uint32_t* mid) const;

  const TrainingSet& data_;
  const ForestOptions& options_;
  const int words_;
  dist::Communicator& comm_;
  const int threads_;
  const int d_;
  const int stats_;        // classification: class counts; regression: weight, weighted label
  const int value_width_;
  const int k_;            // features per node
  std::vector<size_t> feature_offset_;  // a node's full histogram: feature f at this offset
  std::vector<TreeState> states_;
};

double Builder::Impurity(const double* s, double w) const {
  if (w <= 0) return 0;
  double impurity = 0;
  if (options_.impurity == Impurity::kGini) {
    impurity = 1;
    for (int c = 0; c < stats_; ++c) impurity -= (s[c] / w) * (s[c] / w);
  } else {
    for (int c = 0; c < stats_; ++c) {
      if (s[c] > 0) impurity -= (s[c] / w) * std::log2(s[c] / w);
    }
  }
  return impurity;
}

double Builder::Gain(const double* total, const double* left, double w, double wl) const {
  const double wr = w - wl;
  if (data_.classes == 0) {
    // Variance reduction: (SL^2/wL + SR^2/wR - S^2/w) / w, in label units squared.
    const double sl = left[1], s = total[1], sr = s - sl;
    double q = data_.quantum;
    return (sl * sl / wl + sr * sr / wr - s * s / w) / w * q * q;
  }
  thread_local std::vector<double> right;
  right.resize(stats_);
  for (int c = 0; c < stats_; ++c) right[c] = total[c] - left[c];
  return Impurity(total, w) - (wl / w) * Impurity(left, wl) -
         (wr / w) * Impurity(right.data(), wr);
}

void Builder::Fill(const OpenNode& n, size_t feature_index, double* out) const {
  const TreeState& s = states_[n.tree];
  const uint8_t* column = data_.x->columns[n.features[feature_index]].data();
  const uint32_t* rows = s.rows.data();
  const uint8_t* weight = s.weight.data();
  if (data_.classes > 0) {
    const int32_t* y = data_.classes_of.data();
    const int k = stats_;
    for (uint32_t i = n.begin; i < n.end; ++i) {
      uint32_t r = rows[i];
      out[column[r] * k + y[r]] += weight[r];
    }
  } else {
    const double* y = data_.quantized.data();
    for (uint32_t i = n.begin; i < n.end; ++i) {
      uint32_t r = rows[i];
      double w = weight[r];
      out[column[r] * 2] += w;
      out[column[r] * 2 + 1] += w * y[r];
    }
  }
}

Split Builder::BestSplit(const OpenNode& n, const double* hist) const {
  Split best;
  const double w = Weight(n.totals);
  const double min_weight = options_.min_instances_per_node;
  std::vector<double> left(stats_);
  for (size_t fi = 0; fi < n.features.size(); ++fi) {
    const int32_t f = n.features[fi];
    const FeatureBins& bins = (*data_.bins)[f];
    const double* h = hist;
    hist += static_cast<size_t>(bins.num_bins) * stats_;
    auto consider = [&](int bin, const std::vector<uint64_t>* set) {
      double wl = Weight(left);
      if (wl < min_weight || w - wl < min_weight) return;
      double gain = Gain(n.totals.data(), left.data(), w, wl);
      // Strictly better only: the first feature, then the first bin, wins a tie.
      if (gain > best.gain) {
        best.gain = gain;
        best.feature = f;
        best.bin = bin;
        best.categories = set ? *set : std::vector<uint64_t>{};
        best.left = left;
      }
    };
    std::fill(left.begin(), left.end(), 0.0);
    if (!bins.categorical) {
      for (int b = 0; b + 1 < bins.num_bins; ++b) {
        for (int c = 0; c < stats_; ++c) left[c] += h[b * stats_ + c];
        consider(b, nullptr);
      }
      continue;
    }
    // Categories ordered by their mean label (regression), their share of the node's majority
    // class (classification), then by index; the split is the best prefix of that order.
    int majority = 0;
    if (data_.classes > 0) {
      majority = static_cast<int>(std::max_element(n.totals.begin(), n.totals.end()) -
                                  n.totals.begin());
    }
    std::vector<std::pair<double, int>> order;
    for (int b = 0; b < bins.num_bins; ++b) {
      const double* s = h + b * stats_;
      double wb = data_.classes == 0 ? s[0] : std::accumulate(s, s + stats_, 0.0);
      if (wb <= 0) continue;
      order.emplace_back((data_.classes == 0 ? s[1] : s[majority]) / wb, b);
    }
    std::sort(order.begin(), order.end());
    std::vector<uint64_t> set(words_, 0);
    for (size_t i = 0; i + 1 < order.size(); ++i) {
      int b = order[i].second;
      for (int c = 0; c < stats_; ++c) left[c] += h[b * stats_ + c];
      set[b >> 6] |= uint64_t{1} << (b & 63);
      consider(-1, &set);
    }
  }
  if (best.feature >= 0 && best.gain < options_.min_info_gain) best = Split{};
  return best;
}

void Builder::AddNode(GrownTree& g, const std::vector<double>& totals) const {
  Tree& t = g.tree;
  t.feature.push_back(-1);
  t.left.push_back(-1);
  t.right.push_back(-1);
  t.threshold.push_back(0);
  t.category_set.push_back(-1);
  double w = Weight(totals);
  t.weight.push_back(w);
  if (data_.classes > 0) {
    for (int c = 0; c < stats_; ++c) t.value.push_back(w > 0 ? totals[c] / w : 0.0);
  } else {
    t.value.push_back(w > 0 ? totals[1] * data_.quantum / w : 0.0);
  }
}

void Builder::Partition(TreeState& s, const OpenNode& n, const Split& split, uint32_t* mid) const {
  const uint8_t* column = data_.x->columns[split.feature].data();
  uint32_t* rows = s.rows.data();
  auto goes_left = [&](uint32_t r) {
    uint8_t b = column[r];
    if (split.categories.empty()) return static_cast<int>(b) <= split.bin;
    return ((split.categories[b >> 6] >> (b & 63)) & 1) != 0;
  };
  // Stable: both sides keep their rows in increasing order.
  std::vector<uint32_t> right;
  uint32_t out = n.begin;
  for (uint32_t i = n.begin; i < n.end; ++i) {
    if (goes_left(rows[i])) {
      rows[out++] = rows[i];
    } else {
      right.push_back(rows[i]);
    }
  }
  std::copy(right.begin(), right.end(), rows + out);
  *mid = out;
}

std::vector<GrownTree> Builder::Grow(int first, int count) {
  const size_t n = data_.x->rows;
  states_.assign(count, {});
  std::vector<double> root_totals(static_cast<size_t>(count) * stats_, 0.0);
  ParallelFor(count, threads_, [&](size_t t) {
    TreeState& s = states_[t];
    s.seed = TreeSeed(options_.seed, first + static_cast<int>(t));
    s.weight.resize(n);
    double* totals = root_totals.data() + t * stats_;
    for (size_t i = 0; i < n; ++i) {
      uint8_t w = RowWeight(s.seed, data_.row_ids[i], options_.subsampling_rate,
                            options_.bootstrap);
      s.weight[i] = w;
      if (w == 0) continue;
      s.rows.push_back(static_cast<uint32_t>(i));
      if (data_.classes > 0) {
        totals[data_.classes_of[i]] += w;
      } else {
        totals[0] += w;
        totals[1] += w * data_.quantized[i];
      }
    }
    s.grown.importance.assign(d_, 0.0);
  });
  comm_.AllreduceSum(root_totals);

  std::vector<OpenNode> open;
  for (int t = 0; t < count; ++t) {
    OpenNode root;
    root.tree = t;
    root.end = static_cast<uint32_t>(states_[t].rows.size());
    root.totals.assign(root_totals.begin() + t * stats_, root_totals.begin() + (t + 1) * stats_);
    AddNode(states_[t].grown, root.totals);
    open.push_back(std::move(root));
  }

  std::vector<double> kept;  // the previous level's histograms, for sibling subtraction
  while (!open.empty()) {
    // Nodes that may split: below max_depth, heavy enough for two children, not pure.
    std::vector<OpenNode> level;
    for (auto& node : open) {
      if (node.depth >= options_.max_depth) continue;
      if (Weight(node.totals) < 2.0 * options_.min_instances_per_node) continue;
      if (data_.classes > 0 &&
          std::count_if(node.totals.begin(), node.totals.end(), [](double c) { return c > 0; }) <
              2) {
        continue;
      }
      node.features = DrawFeatures(states_[node.tree].seed, node.node, d_, k_);
      level.push_back(std::move(node));
    }
    open.clear();
    if (level.empty()) break;

    // With every feature at every node, a node's histograms are its parent's minus its
    // sibling's: only the lighter sibling of a pair is built (and summed over ranks).
    size_t level_size = 0;
    for (const auto& node : level) level_size += NodeHistSize(node);
    const bool subtract = k_ == d_ && level_size <= kSubtractionBudget;
    if (!subtract) kept.clear();
    std::vector<bool> derived(level.size(), false);
    if (subtract && !kept.empty()) {
      for (size_t i = 0; i + 1 < level.size(); ++i) {
        OpenNode& a = level[i];
        OpenNode& b = level[i + 1];
        if (a.parent_hist == nullptr || a.parent_hist != b.parent_hist) continue;
        // Siblings: the heavier one (the right on a tie) is derived.
        size_t heavy = Weight(a.totals) > Weight(b.totals) ? i : i + 1;
        derived[heavy] = true;
        level[heavy].sibling = static_cast<int32_t>(heavy == i ? i + 1 : i);
        ++i;
      }
    }

    // Chunks of nodes whose histograms fit the budget (the whole level when subtracting).
    std::vector<Split> splits(level.size());
    std::vector<double> buffer;
    size_t start = 0;
    while (start < level.size()) {
      size_t stop = start, size = 0;
      while (stop < level.size() &&
             (subtract || stop == start || size + NodeHistSize(level[stop]) <= kLevelBudget)) {
        level[stop].offset = size;
        size += NodeHistSize(level[stop]);
        ++stop;
      }
      buffer.assign(size, 0.0);
      // Tasks: (node, feature) pairs of the nodes built directly.
      std::vector<std::pair<size_t, size_t>> tasks;
      for (size_t i = start; i < stop; ++i) {
        if (derived[i]) continue;
        for (size_t fi = 0; fi < level[i].features.size(); ++fi) tasks.emplace_back(i, fi);
      }
      ParallelFor(tasks.size(), threads_, [&](size_t task) {
        const auto [i, fi] = tasks[task];
        const OpenNode& node = level[i];
        size_t offset = node.offset;
        for (size_t j = 0; j < fi; ++j) {
          int32_t f = node.features[j];
          offset += feature_offset_[f + 1] - feature_offset_[f];
        }
        Fill(node, fi, buffer.data() + offset);
      });
      if (comm_.size() > 1) {
        if (subtract) {
          // Only the directly built histograms are summed; the derived ones are zeros here.
          std::vector<double> direct;
          for (size_t i = start; i < stop; ++i) {
            if (derived[i]) continue;
            direct.insert(direct.end(), buffer.begin() + level[i].offset,
                          buffer.begin() + level[i].offset + NodeHistSize(level[i]));
          }
          comm_.AllreduceSum(direct);
          size_t at = 0;
          for (size_t i = start; i < stop; ++i) {
            if (derived[i]) continue;
            std::copy(direct.begin() + at, direct.begin() + at + NodeHistSize(level[i]),
                      buffer.begin() + level[i].offset);
            at += NodeHistSize(level[i]);
          }
        } else {
          comm_.AllreduceSum(buffer);
        }
      }
      ParallelFor(stop - start, threads_, [&](size_t task) {
        size_t i = start + task;
        double* hist = buffer.data() + level[i].offset;
        if (derived[i]) {
          const double* sibling = buffer.data() + level[level[i].sibling].offset;
          const double* parent = level[i].parent_hist;
          for (size_t j = 0, size = NodeHistSize(level[i]); j < size; ++j) {
            hist[j] = parent[j] - sibling[j];
          }
        }
        splits[i] = BestSplit(level[i], hist);
      });
      start = stop;
    }

    // Apply the splits: children are appended after every node that exists, in level order.
    std::vector<uint32_t> mids(level.size(), 0);
    ParallelFor(level.size(), threads_, [&](size_t i) {
      if (splits[i].feature >= 0) Partition(states_[level[i].tree], level[i], splits[i], &mids[i]);
    });
    std::vector<double> next_kept;
    for (size_t i = 0; i < level.size(); ++i) {
      const Split& split = splits[i];
      if (split.feature < 0) continue;
      OpenNode& node = level[i];
      GrownTree& g = states_[node.tree].grown;
      Tree& t = g.tree;
      const FeatureBins& bins = (*data_.bins)[split.feature];
      t.feature[node.node] = split.feature;
      if (bins.categorical) {
        t.category_set[node.node] = static_cast<int32_t>(t.category_words.size());
        t.category_words.insert(t.category_words.end(), split.categories.begin(),
                                split.categories.end());
      } else {
        t.threshold[node.node] = bins.thresholds[split.bin];
      }
      g.importance[split.feature] += Weight(node.totals) * split.gain;
      OpenNode left, right;
      left.tree = right.tree = node.tree;
      left.depth = right.depth = node.depth + 1;
      left.begin = node.begin;
      left.end = right.begin = mids[i];
      right.end = node.end;
      left.totals = split.left;
      right.totals.resize(stats_);
      for (int c = 0; c < stats_; ++c) right.totals[c] = node.totals[c] - split.left[c];
      left.node = static_cast<int32_t>(t.num_nodes());
      AddNode(g, left.totals);
      right.node = static_cast<int32_t>(t.num_nodes());
      AddNode(g, right.totals);
      t.left[node.node] = left.node;
      t.right[node.node] = right.node;
      if (subtract) {
        // The children find this node's histograms in next_kept (pointers fixed up below).
        left.offset = right.offset = next_kept.size();
        next_kept.insert(next_kept.end(), buffer.begin() + node.offset,
                         buffer.begin() + node.offset + NodeHistSize(node));
      }
      open.push_back(std::move(left));
      open.push_back(std::move(right));
    }
    kept = std::move(next_kept);
    for (auto& child : open) {
      child.parent_hist = subtract ? kept.data() + child.offset : nullptr;
      child.offset = 0;
    }
  }

  std::vector<GrownTree> grown;
  grown.reserve(count);
  for (auto& s : states_) grown.push_back(std::move(s.grown));
  states_.clear();
  return grown;
}

}  // namespace

std::vector<GrownTree> GrowTrees(const TrainingSet& data, const ForestOptions& options,
                                 int words_per_set, int first, int count,
                                 dist::Communicator& comm) {
  Builder builder(data, options, words_per_set, comm);
  return builder.Grow(first, count);
}

double LabelQuantum(double max_abs_label, int64_t total_rows) {
  if (!(max_abs_label > 0)) return 1.0;
  // Room per row: 2^53 / (rows * max weight), as a power of two at most.
  double budget = std::ldexp(1.0, 53) /
                  (static_cast<double>(std::max<int64_t>(total_rows, 1)) * kMaxRowWeight);
  int exponent = static_cast<int>(std::ceil(std::log2(max_abs_label / budget)));
  return std::ldexp(1.0, exponent);
}

}  // namespace mltrack::forest
