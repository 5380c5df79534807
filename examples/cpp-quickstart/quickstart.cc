// The quickstart: a linear model trained by mini-batch gradient descent, once per learning rate,
// each training run logged with the mltrack C++ client — params, a loss curve per epoch, the final
// metrics and the learned coefficients as an artifact.
//
//   quickstart [--experiment NAME] [--epochs N]
// The tracking URI comes from MLT_TRACKING_URI / MLFLOW_TRACKING_URI, else sqlite:///mlruns.db.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "mltrack/client.h"

namespace {

struct Dataset {
  std::vector<std::array<double, 3>> x;
  std::vector<double> y;
};

// y = 3 x0 - 2 x1 + 0.5 x2 + 1 + noise
Dataset Generate(size_t rows, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> feature(0, 1), noise(0, 0.3);
  Dataset d;
  for (size_t i = 0; i < rows; ++i) {
    std::array<double, 3> x{feature(gen), feature(gen), feature(gen)};
    d.x.push_back(x);
    d.y.push_back(3 * x[0] - 2 * x[1] + 0.5 * x[2] + 1 + noise(gen));
  }
  return d;
}

double Rmse(const Dataset& d, const std::array<double, 4>& w) {
  double sse = 0;
  for (size_t i = 0; i < d.y.size(); ++i) {
    double pred = w[3] + w[0] * d.x[i][0] + w[1] * d.x[i][1] + w[2] * d.x[i][2];
    sse += (pred - d.y[i]) * (pred - d.y[i]);
  }
  return std::sqrt(sse / static_cast<double>(d.y.size()));
}

void Train(mltrack::Client& client, const std::string& experiment, double lr, int epochs,
           const Dataset& train, const Dataset& test) {
  auto run = client.StartRun({.experiment = experiment, .run_name = "lr-" + mltrack::FormatParamValue(lr)});
  run.LogParam("model", "linear");
  run.LogParam("learning_rate", lr);
  run.LogParam("epochs", epochs);
  run.LogParam("batch_size", 32);
  std::array<double, 4> w{0, 0, 0, 0};
  std::mt19937_64 gen(42);
  std::vector<size_t> order(train.y.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), gen);
    for (size_t start = 0; start < order.size(); start += 32) {
      std::array<double, 4> grad{0, 0, 0, 0};
      size_t end = std::min(order.size(), start + 32);
      for (size_t k = start; k < end; ++k) {
        const auto& x = train.x[order[k]];
        double err = w[3] + w[0] * x[0] + w[1] * x[1] + w[2] * x[2] - train.y[order[k]];
        for (int j = 0; j < 3; ++j) grad[j] += err * x[j];
        grad[3] += err;
      }
      for (int j = 0; j < 4; ++j) w[j] -= lr * grad[j] / static_cast<double>(end - start);
    }
    run.LogMetric("train_rmse", Rmse(train, w), epoch);
    run.LogMetric("test_rmse", Rmse(test, w), epoch);
  }
  double rmse = Rmse(test, w);
  run.LogMetric("rmse", rmse, epochs);
  auto dir = std::filesystem::temp_directory_path() / ("mlt-quickstart-" + run.run_id());
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "coefficients.csv");
    out << "name,value\nx0," << w[0] << "\nx1," << w[1] << "\nx2," << w[2] << "\nintercept,"
        << w[3] << "\n";
  }
  run.LogArtifact(dir / "coefficients.csv", "model");
  std::filesystem::remove_all(dir);
  std::printf("run %s  lr=%-6g  test rmse %.4f\n", run.run_id().c_str(), lr, rmse);
}

}  // namespace

int main(int argc, char** argv) {
  std::string experiment = "quickstart";
  int epochs = 20;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--experiment" && i + 1 < argc) {
      experiment = argv[++i];
    } else if (arg == "--epochs" && i + 1 < argc) {
      epochs = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: quickstart [--experiment NAME] [--epochs N]\n");
      return 2;
    }
  }
  try {
    mltrack::Client client;
    Dataset train = Generate(4000, 1), test = Generate(1000, 2);
    for (double lr : {0.001, 0.01, 0.1}) Train(client, experiment, lr, epochs, train, test);
    return 0;
  } catch (const mltrack::Error& e) {
    std::fprintf(stderr, "quickstart: error: %s\n", e.what());
    return 1;
  }
}
