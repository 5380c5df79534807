// Spark MLlib's RankingMetrics (precisionAt, recallAt, meanAveragePrecisionAt, ndcgAt) with
// binary relevance, averaged over the users that have relevant items.
#include "models/eval/ranking.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "mltrack/error.h"

namespace mltrack::eval {

RankingScores ScoreRanking(const std::vector<std::vector<int64_t>>& recommended,
                           const std::vector<std::vector<int64_t>>& relevant, int k) {
  if (k < 1) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("ScoreRanking: k must be >= 1, got {}", k));
  }
  if (recommended.size() != relevant.size()) {
    throw Error(ErrorCode::kInvalidParameterValue,
                fmt::format("ScoreRanking: recommendations for {} users but relevant items for {}",
                            recommended.size(), relevant.size()));
  }
  const size_t kk = static_cast<size_t>(k);
  // 1 / log2(i + 2) for the 0-based positions i < k that can occur, and their prefix sums (the
  // ideal DCG of min(|relevant|, k) relevant items).
  std::vector<double> gain;
  std::vector<double> ideal = {0.0};
  RankingScores scores;
  std::vector<int64_t> wanted;
  for (size_t u = 0; u < recommended.size(); ++u) {
    // Spark takes the relevant items as a set: duplicates count once.
    wanted.assign(relevant[u].begin(), relevant[u].end());
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    if (wanted.empty()) continue;
    const auto& top = recommended[u];
    size_t n = std::min(kk, top.size());
    size_t depth = std::max(n, std::min(kk, wanted.size()));
    while (gain.size() < depth) {
      gain.push_back(1.0 / std::log2(static_cast<double>(gain.size()) + 2.0));
      ideal.push_back(ideal.back() + gain.back());
    }
    // As Spark does, a recommended item repeated in the top k is a hit each time.
    size_t hits = 0;
    double precision_sum = 0, dcg = 0;
    for (size_t i = 0; i < n; ++i) {
      if (std::binary_search(wanted.begin(), wanted.end(), top[i])) {
        ++hits;
        precision_sum += static_cast<double>(hits) / static_cast<double>(i + 1);
        dcg += gain[i];
      }
    }
    ++scores.users;
    scores.precision += static_cast<double>(hits) / static_cast<double>(kk);
    scores.recall += static_cast<double>(hits) / static_cast<double>(wanted.size());
    scores.map += precision_sum / static_cast<double>(std::min(wanted.size(), kk));
    scores.ndcg += dcg / ideal[std::min(wanted.size(), kk)];
  }
  if (scores.users > 0) {
    double users = static_cast<double>(scores.users);
    scores.precision /= users;
    scores.recall /= users;
    scores.map /= users;
    scores.ndcg /= users;
  }
  return scores;
}

}  // namespace mltrack::eval
