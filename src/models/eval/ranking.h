// Ranking metrics of recommendations, as Spark MLlib's RankingMetrics defines them (binary
// relevance): per user the recommended items, best first, and the relevant (held-out) items.
// Users without relevant items are left out of the means.
//   precision@k  |top k ∩ relevant| / k
//   recall@k     |top k ∩ relevant| / |relevant|
//   MAP@k        sum over hits at position i (1-based) of (hits so far / i), / min(|relevant|, k)
//   NDCG@k       sum over hits at i of 1 / log2(i + 1), / the same for an ideal ranking
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mltrack::eval {

struct RankingScores {
  size_t users = 0;  // users with at least one relevant item
  double precision = 0;
  double recall = 0;
  double map = 0;
  double ndcg = 0;
};

// `recommended[u]` and `relevant[u]` for each user u (same length; relevant lists in any order).
// Throws Error(kInvalidParameterValue) for k < 1 or lists of different lengths.
RankingScores ScoreRanking(const std::vector<std::vector<int64_t>>& recommended,
                           const std::vector<std::vector<int64_t>>& relevant, int k);

}  // namespace mltrack::eval
