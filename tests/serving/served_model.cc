#include "serving/served_model.h"

#include <cmath>
#include <string>
#include <vector>

#include "models/als/als_trainer.h"
#include "models/bundle/mlmodel.h"
#include "models/forest/forest_trainer.h"
#include "models/logistic/logistic_trainer.h"

namespace mltrack::serving::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Rows of two features; the label says whether x1 + x2 > 0, with a wide empty margin, so every
// classifier here is certain of points far from the boundary.
models::Table Separable(size_t rows, const std::string& negative, const std::string& positive) {
  std::vector<double> x1, x2;
  std::vector<std::string> y;
  for (size_t i = 0; i < rows; ++i) {
    double a = static_cast<double>((i * 37) % 101) / 25.0 - 2.0;
    double b = static_cast<double>((i * 53) % 89) / 22.0 - 2.0;
    if (std::abs(a + b) < 0.5) continue;
    x1.push_back(a);
    x2.push_back(b);
    y.push_back(a + b > 0 ? positive : negative);
  }
  models::Table table;
  table.AddColumn("x1", std::move(x1));
  table.AddColumn("x2", std::move(x2));
  table.AddColumn("y", std::move(y));
  return table;
}

models::Table Features(const models::Table& table) {
  models::Table out;
  for (const auto& column : table.columns()) {
    if (column.name != "y") out.AddColumn(column.name, column.values);
  }
  return out;
}


void SaveForest(const fs::path& dir, forest::Task task) {
  models::Table table = Separable(400, "no", "yes");
  if (task == forest::Task::kRegression) {
    // y = 10 on the positive side, -10 on the other: pure leaves, exact answers.
    const auto& labels = std::get<std::vector<std::string>>(table.columns()[2].values);
    std::vector<double> y;
    for (const auto& label : labels) y.push_back(label == "yes" ? 10.0 : -10.0);
    models::Table regression = Features(table);
    regression.AddColumn("y", std::move(y));
    table = std::move(regression);
  }
  std::vector<int64_t> ids(table.num_rows());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i) + 2;
  auto comm = dist::MakeSingleCommunicator();
  forest::ForestOptions options{.task = task,
                                .impurity = forest::DefaultImpurity(task),
                                .num_trees = 10,
                                .feature_subset = "all"};
  forest::ForestInput input;
  input.table = &table;
  input.row_ids = ids;
  input.label = "y";
  auto result = forest::TrainForest(input, options, *comm);
  result.model->Save(dir, models::NewModelMeta(), Features(table));
}

// Users 1..4 and items 10..13: users 1 and 2 like the even items, 3 and 4 the odd ones.
void SaveAls(const fs::path& dir) {
  als::Ratings ratings;
  for (int64_t user = 1; user <= 4; ++user) {
    for (int64_t item = 10; item <= 13; ++item) {
      ratings.user.push_back(user);
      ratings.item.push_back(item);
      ratings.rating.push_back(((user <= 2) == (item % 2 == 0)) ? 5.0f : 1.0f);
      ratings.timestamp.push_back(0);
      ratings.line.push_back(static_cast<int64_t>(ratings.line.size()) + 1);
    }
  }
  auto comm = dist::MakeSingleCommunicator();
  auto result = als::TrainAls(
      ratings, {.rank = 2, .max_iter = 10, .cold_start = als::ColdStart::kDrop}, *comm);
  result.model->Save(dir, models::NewModelMeta());
}

}  // namespace

void SaveLogistic(const fs::path& dir, const std::string& negative, const std::string& positive) {
  models::Table table = Separable(400, negative, positive);
  auto comm = dist::MakeSingleCommunicator();
  logistic::TrainInput input;
  input.train.table = &table;
  input.label = "y";
  auto result = logistic::TrainLogistic(input, {.reg = 0.01}, *comm);
  result.model->Save(dir, models::NewModelMeta(), Features(table));
}

Bundles::Bundles() {
  logistic::RegisterLogisticFlavor();
  forest::RegisterForestFlavor();
  als::RegisterAlsFlavor();
  SaveLogistic(logistic, "no", "yes");
  SaveForest(forest, forest::Task::kClassification);
  SaveForest(regression, forest::Task::kRegression);
  SaveAls(als);
}

const Bundles& TheBundles() {
  static Bundles* bundles = new Bundles();  // leaked: tests may run until exit
  return *bundles;
}

http::ClientOptions TestClientOptions() {
  http::ClientOptions options;
  options.connect_timeout = 2000ms;
  options.read_timeout = 30000ms;
  options.max_attempts = 1;
  return options;
}

Served::Served(const fs::path& bundle, ScoringServerOptions options)
    : Served([&] {
        options.model_uri = bundle.string();
        return options;
      }()) {}

Served::Served(ScoringServerOptions options) {
  options.port = 0;
  if (options.tracking_uri.empty()) {
    options.tracking_uri = "sqlite:///" + (tracking_dir_ / "mlruns.db").string();
  }
  server_ = std::make_unique<ScoringServer>(options);
  server_->Start();
  client_ = std::make_unique<http::Client>(server_->url(), TestClientOptions());
}

http::Result Served::Post(const std::string& path, const std::string& body,
                          const std::string& content_type) {
  return client_->Send("POST", path, body, content_type, false);
}

http::Result Served::Invoke(const std::string& body, const std::string& content_type) {
  return Post("/invocations", body, content_type);
}

double Served::Metric(const std::string& series) {
  std::string text = client_->Get("/metrics").body;
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

}  // namespace mltrack::serving::test
