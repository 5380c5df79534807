// Alternating least squares over a Communicator, blocked as Spark MLlib blocks it.
//
// Users and items are split into blocks, one per rank (dense index modulo the rank count). Each
// rank holds its users' ratings (the user block) and its items' ratings (the item block), moved
// there once with alltoallv. A half-iteration solves the factors of the rank's own users (or
// items): each rank first sends every other rank exactly the item (user) factors that rank's
// ratings reference, each factor once per destination (the out-blocks, computed once), then
// solves its users in parallel on its threads.
//
// A user's normal equations sum its ratings in item-index order, so every solve is the same on
// any rank count; the implicit model's shared YtY is summed over ranks (in rank order), so 1
// and N ranks agree to rounding (well within 1e-8 relative). Initial factors derive from the seed
// and the external id alone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>
#include <memory>

#include "models/als/als_model.h"
#include "models/als/als_options.h"
#include "models/als/ratings.h"
#include "models/dist/communicator.h"

namespace mltrack::als {

struct AlsResult {
  std::unique_ptr<AlsModel> model;  // the full model, on every rank
  std::vector<double> loss;         // the objective after each iteration
  uint64_t ratings = 0;             // over all ranks
  // Factor values one rank sends in a user (item) half-iteration: the largest over ranks.
  uint64_t bytes_sent_users = 0;
  uint64_t bytes_sent_items = 0;
};

// `shard` is this rank's share of the training ratings (any split of the rows). Collective.
// `on_iteration(iteration, loss, model)` is called on every rank after each iteration with the
// model so far (for per-iteration evaluation). Throws Error(kInvalidParameterValue) for invalid
// options and for no ratings at all; NaN or infinite ratings name the file and line.
AlsResult TrainAls(const Ratings& shard, const AlsOptions& options, dist::Communicator& comm,
                   const std::function<void(int, double, const AlsModel&)>& on_iteration = {});

// Explicit feedback: RMSE and MAE over `ratings` (this rank's), all ranks summed. Pairs with an
// unknown user or item count as NaN under kNan (so the figures are NaN, as Spark's) and are left
// out under kDrop. Keys "rmse", "mae", "rows" (pairs scored).
std::map<std::string, double> EvaluateRatings(const AlsModel& model, const Ratings& ratings,
                                              dist::Communicator& comm);

}  // namespace mltrack::als
