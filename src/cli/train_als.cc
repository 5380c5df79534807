#include "cli/train_als.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/train_common.h"
#include "models/als/als_model.h"
#include "models/als/als_options.h"
#include "models/als/als_trainer.h"
#include "models/als/ratings.h"
#include "models/bundle/mlmodel.h"
#include "models/dist/communicator.h"
#include "models/eval/ranking.h"
#include "mltrack/client.h"
#include "mltrack/error.h"

namespace mltrack::cli {
namespace {

using als::AlsOptions;
using als::Ratings;

struct AlsCommand {
  std::string ratings;
  std::string test;
  double test_fraction = 0;
  int leave_k_out = 0;
  uint64_t split_seed = 42;
  std::string format = "auto";
  als::RatingsColumns columns;
  AlsOptions options;
  std::string cold_start = "nan";
  int top_k = 10;
  std::string recommendations;  // also write top-k for every user here
  RunOutputOptions output;
};

// The user and item ids of every rank's ratings (their ratings are not needed), on every rank.
Ratings GatherPairs(const Ratings& mine, dist::Communicator& comm) {
  Ratings all;
  all.user = comm.AllgatherValues<int64_t>(mine.user);
  all.item = comm.AllgatherValues<int64_t>(mine.item);
  return all;
}

// The top k of every user, the items the user rated in training left out. Collective: the
// training pairs are spread over the ranks' shards.
als::TopK TopKOfEveryUser(const als::AlsModel& model, const Ratings& train, int k,
                          dist::Communicator& comm) {
  const als::AlsFactors& f = model.factors();
  als::SeenItems seen = als::SeenItems::FromRatings(GatherPairs(train, comm), f.users, f.items);
  return model.RecommendAll(k, &seen);
}

// The ranking figures of implicit feedback on held-out ratings: every user with a positive test
// rating, its top k (`top`) against those items.
std::map<std::string, double> RankingFigures(const als::AlsModel& model, const als::TopK& top,
                                             const Ratings& test, dist::Communicator& comm) {
  Ratings all_test = GatherPairs(test, comm);
  std::vector<float> ratings = comm.AllgatherValues<float>(test.rating);
  const als::AlsFactors& f = model.factors();
  std::vector<std::vector<int64_t>> relevant(f.users.size()), recommended(f.users.size());
  for (size_t i = 0; i < all_test.user.size(); ++i) {
    int64_t u = f.users.Index(all_test.user[i]);
    int64_t item = f.items.Index(all_test.item[i]);
    if (u < 0 || item < 0 || !(ratings[i] > 0)) continue;
    relevant[u].push_back(item);
  }
  for (size_t u = 0; u < f.users.size(); ++u) {
    for (int32_t j = 0; j < top.count[u]; ++j) recommended[u].push_back(top.items[u * top.k + j]);
  }
  const int k = top.k;
  eval::RankingScores s = eval::ScoreRanking(recommended, relevant, k);
  return {{fmt::format("precision_at_{}", k), s.precision},
          {fmt::format("recall_at_{}", k), s.recall},
          {fmt::format("map_at_{}", k), s.map},
          {fmt::format("ndcg_at_{}", k), s.ndcg},
          {"ranking_users", static_cast<double>(s.users)}};
}

std::string FormatFigures(const std::map<std::string, double>& figures) {
  std::string out;
  for (const auto& [key, value] : figures) {
    if (key == "rows" || key == "ranking_users") continue;
    out += fmt::format("  {} {:.4f}", key, value);
  }
  return out;
}

void RunAls(const GlobalOptions& global, AlsCommand& cmd) {
  dist::Communicator& comm = dist::ProcessCommunicator();
  als::RatingsFormat format = als::RatingsFormat::kAuto;
  CheckEveryRank(comm, [&] {  // before any file is read or run created
    cmd.options.cold_start = als::ParseColdStart(cmd.cold_start);
    format = als::ParseRatingsFormat(cmd.format);
    cmd.options.Validate();
    int test_choices = !cmd.test.empty() + (cmd.test_fraction > 0) + (cmd.leave_k_out > 0);
    if (test_choices > 1) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  "Give one of --test, --test-fraction and --leave-k-out");
    }
    if (cmd.leave_k_out > 0 && comm.size() > 1) {
      // Each rank reads a byte range of the file: a user's ratings are spread over the ranks.
      throw Error(ErrorCode::kInvalidParameterValue,
                  "--leave-k-out needs every rating of a user in one process; under mpirun, "
                  "split the file beforehand and give --test");
    }
    if (cmd.top_k < 1) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  fmt::format("Invalid --top-k {}: must be at least 1", cmd.top_k));
    }
  });

  Ratings train, test;
  bool has_test = false;
  CheckEveryRank(comm, [&] {
    Ratings all = als::ReadRatings(cmd.ratings, format, cmd.columns, comm.rank(), comm.size());
    if (cmd.test_fraction > 0 || cmd.leave_k_out > 0) {
      data::Split split = cmd.leave_k_out > 0
                              ? als::LeaveKOut(all, cmd.leave_k_out, cmd.split_seed)
                              : als::RandomSplit(all, cmd.test_fraction, cmd.split_seed);
      train = als::TakeRatings(all, split.train);
      test = als::TakeRatings(all, split.test);
      has_test = true;
    } else {
      train = std::move(all);
    }
    if (!cmd.test.empty()) {
      test = als::ReadRatings(cmd.test, format, cmd.columns, comm.rank(), comm.size());
      has_test = true;
    }
  });

  TrainerRun run(global, cmd.output, comm, "als");
  auto params = cmd.options.AsParams();
  params["ratings"] = cmd.ratings;
  params["ranks"] = std::to_string(comm.size());
  if (!cmd.test.empty()) params["test_data"] = cmd.test;
  if (cmd.test_fraction > 0) params["test_fraction"] = FormatParamValue(cmd.test_fraction);
  if (cmd.leave_k_out > 0) params["leave_k_out"] = std::to_string(cmd.leave_k_out);
  if (cmd.test_fraction > 0 || cmd.leave_k_out > 0) {
    params["split_seed"] = std::to_string(cmd.split_seed);
  }
  run.LogParams(params);

  Progress progress(comm);
  auto started = std::chrono::steady_clock::now();
  // The end of the previous iteration's work; the first iteration's time includes the setup.
  auto last = started;
  std::vector<double> iteration_seconds;
  // Collective: the trainer and the evaluations agree on their own errors.
  als::AlsResult result = als::TrainAls(
      train, cmd.options, comm, [&](int iteration, double loss, const als::AlsModel& model) {
        auto now = std::chrono::steady_clock::now();
        iteration_seconds.push_back(std::chrono::duration<double>(now - last).count());
        run.LogMetric("iteration_seconds", iteration_seconds.back(), iteration);
        run.LogMetric("loss", loss, iteration);
        std::string line = fmt::format("als: iteration {}/{}  loss {:.6g}", iteration,
                                       cmd.options.max_iter, loss);
        if (has_test && !cmd.options.implicit) {
          double rmse = als::EvaluateRatings(model, test, comm)["rmse"];
          run.LogMetric("test_rmse", rmse, iteration);
          line += fmt::format("  test rmse {:.4f}", rmse);
        }
        progress.Update(line);
        last = std::chrono::steady_clock::now();  // the evaluation above is not the next's
      });
  double fit_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  progress.Done();
  const als::AlsModel& model = *result.model;

  // The top k of every user serves both the ranking figures and the recommendations file.
  std::optional<als::TopK> top;
  if ((cmd.options.implicit && has_test) || !cmd.recommendations.empty()) {
    top = TopKOfEveryUser(model, train, cmd.top_k, comm);
  }
  std::map<std::string, double> train_figures, test_figures;
  if (!cmd.options.implicit) {
    train_figures = als::EvaluateRatings(model, train, comm);
    if (has_test) test_figures = als::EvaluateRatings(model, test, comm);
  } else if (has_test) {
    test_figures = RankingFigures(model, *top, test, comm);
  }
  run.LogParams({{"users", std::to_string(model.factors().users.size())},
                 {"items", std::to_string(model.factors().items.size())}});
  run.LogMetric("fit_seconds", fit_seconds);
  // The steady state: the median iteration after the first (which includes the setup).
  if (!iteration_seconds.empty()) {
    std::vector<double> later(iteration_seconds.begin() + (iteration_seconds.size() > 1),
                              iteration_seconds.end());
    std::nth_element(later.begin(), later.begin() + later.size() / 2, later.end());
    run.LogMetric("median_iteration_seconds", later[later.size() / 2]);
  }
  run.LogMetric("train_ratings", static_cast<double>(result.ratings));
  run.LogMetric("bytes_sent_per_user_half_iteration",
                static_cast<double>(result.bytes_sent_users));
  run.LogMetric("bytes_sent_per_item_half_iteration",
                static_cast<double>(result.bytes_sent_items));
  for (const auto& [key, value] : train_figures) run.LogMetric("train_" + key, value);
  for (const auto& [key, value] : test_figures) {
    // test_rmse was logged at every iteration, the last of which is this model's.
    if (has_test && !cmd.options.implicit && key == "rmse") continue;
    run.LogMetric("test_" + key, value);
  }

  // The bundle, with a few training pairs as the input example (and the recommendations).
  LoggedModel logged = run.SaveModel(comm, [&](const auto& bundle, models::ModelMeta meta) {
    size_t rows = std::min<size_t>(5, train.size());
    models::Table example;
    example.AddColumn("user", std::vector<int64_t>(train.user.begin(), train.user.begin() + rows));
    example.AddColumn("item", std::vector<int64_t>(train.item.begin(), train.item.begin() + rows));
    model.Save(bundle, std::move(meta), example);
  });
  if (!cmd.recommendations.empty()) {
    CheckEveryRank(comm, [&] {
      if (comm.rank() == 0) model.WriteRecommendations(cmd.recommendations, *top);
    });
  }
  CheckEveryRank(comm, [&] { run.Finish(); });

  if (comm.rank() != 0) return;
  std::string out = fmt::format(
      "Trained {} ALS (rank {}, {} users, {} items) on {} ratings with {} rank{} in {:.2f} s: "
      "{} iterations, loss {:.6g}\n",
      cmd.options.implicit ? "implicit" : "explicit", cmd.options.rank,
      model.factors().users.size(), model.factors().items.size(), result.ratings, comm.size(),
      comm.size() == 1 ? "" : "s", fit_seconds, result.loss.size(),
      result.loss.empty() ? NAN : result.loss.back());
  if (!train_figures.empty()) out += "  train" + FormatFigures(train_figures) + "\n";
  if (!test_figures.empty()) out += "  test " + FormatFigures(test_figures) + "\n";
  if (!cmd.recommendations.empty()) {
    out += fmt::format("Top {} items of every user written to {}\n", cmd.top_k,
                       cmd.recommendations);
  }
  out += RunLine(run.run_id(), logged);
  Print(out);
}

}  // namespace

void SetupTrainAls(CLI::App& command, GlobalOptions& global) {
  auto cmd = std::make_shared<AlsCommand>();
  AlsOptions& o = cmd->options;
  command.add_option("--ratings", cmd->ratings,
                     "Ratings: MovieLens u.data, ratings.dat or ratings.csv, or a CSV with user, "
                     "item and rating columns")
      ->required()
      ->type_name("FILE");
  command.add_option("--format", cmd->format, "auto, movielens or csv (default: auto)")
      ->check(CLI::IsMember({"auto", "movielens", "csv"}));
  command.add_option("--user-col", cmd->columns.user, "The user column of a CSV")
      ->type_name("NAME");
  command.add_option("--item-col", cmd->columns.item, "The item column of a CSV")
      ->type_name("NAME");
  command.add_option("--rating-col", cmd->columns.rating, "The rating column of a CSV")
      ->type_name("NAME");
  command.add_option("--test", cmd->test, "Held-out ratings, scored after training")
      ->type_name("FILE");
  command
      .add_option("--test-fraction", cmd->test_fraction,
                  "Hold out this fraction of the ratings (by --seed and line number)")
      ->check(CLI::Range(0.0, 0.99))
      ->type_name("F");
  command
      .add_option("--leave-k-out", cmd->leave_k_out,
                  "Hold out each user's k most recent ratings (users with k or fewer stay whole)")
      ->check(CLI::PositiveNumber)
      ->type_name("K");
  command.add_option("--seed", cmd->split_seed, "Seed of the split (default: 42)")
      ->type_name("N");
  command.add_option("--rank", o.rank, "Factors per user and item (default: 10)")
      ->type_name("K");
  command.add_option("--reg", o.reg,
                     "Regularisation, scaled by each user's and item's rating count (default: 0.1)")
      ->type_name("X");
  command.add_option("--max-iter", o.max_iter, "Iterations (default: 10)")->type_name("N");
  command.add_flag("--implicit", o.implicit,
                   "Implicit feedback: ratings are confidences (Hu, Koren & Volinsky)");
  command.add_option("--alpha", o.alpha, "Implicit confidence 1 + alpha * r (default: 1)")
      ->type_name("X");
  command.add_flag("--nonnegative", o.nonnegative, "Constrain the factors to be >= 0");
  command.add_flag("--biases", o.biases, "Explicit: learn a global mean and user and item biases");
  command.add_option("--solver", o.solver, "Implicit solves: cholesky or cg (default: cholesky)")
      ->check(CLI::IsMember({"cholesky", "cg"}));
  command.add_option("--cold-start", cmd->cold_start,
                     "Unknown users or items in evaluation: nan or drop (default: nan)")
      ->check(CLI::IsMember({"nan", "drop"}));
  command.add_option("--als-seed", o.seed, "Seed of the initial factors (default: 42)")
      ->type_name("N");
  command.add_option("--threads", o.threads, "Threads per rank (default: every core)")
      ->type_name("N");
  command.add_option("--top-k", cmd->top_k, "k of the ranking metrics and recommendations (10)")
      ->type_name("K");
  command.add_option("--recommendations", cmd->recommendations,
                     "Also write the top-k items of every user (seen items left out) as CSV")
      ->type_name("FILE");
  AddRunOutputOptions(command, cmd->output);
  command.callback([cmd, &global] { RunAls(global, *cmd); });
}

}  // namespace mltrack::cli
