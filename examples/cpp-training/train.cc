// cpp-training: a binary classifier trained in plain C++ and tracked with the installed mltrack
// client. Logistic regression with L2 regularization, fitted by mini-batch stochastic gradient
// descent on a generated data set, logs its params and tags, one loss and accuracy point per
// epoch, the final test AUC, and the learned weights as the artifact model/weights.json.
//
//   cpp-training [--tracking-uri URI] [--experiment NAME] [--run-name NAME] [--epochs N]
//                [--batch-size N] [--learning-rate X] [--l2 X] [--rows N] [--seed N]
//
// Exit codes follow mlt's: 0 success, 1 the store refused a request (a bad tracking URI among
// them), 2 a usage error, 3 a failure of the environment (I/O, store unavailable).
#include <mltrack/client.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

constexpr const char* kUsage =
    "usage: cpp-training [--tracking-uri URI] [--experiment NAME] [--run-name NAME]\n"
    "                    [--epochs N] [--batch-size N] [--learning-rate X] [--l2 X]\n"
    "                    [--rows N] [--seed N]\n"
    "\n"
    "  --tracking-uri URI   sqlite:///path.db or http://host:port (default: MLT_TRACKING_URI,\n"
    "                       else MLFLOW_TRACKING_URI, else sqlite:///mlruns.db)\n"
    "  --experiment NAME    created when missing (default: cpp-training)\n"
    "  --run-name NAME      (default: logistic-sgd)\n"
    "  --epochs N           passes over the training set, N >= 1 (default: 20)\n"
    "  --batch-size N       rows per gradient step, N >= 1 (default: 32)\n"
    "  --learning-rate X    step size, X > 0 (default: 0.1)\n"
    "  --l2 X               L2 penalty on the weights, X >= 0 (default: 0.0001)\n"
    "  --rows N             rows generated, 80% train and 20% test, N >= 10 (default: 2000)\n"
    "  --seed N             seed of the data and of the shuffling (default: 7)\n";

// A command-line mistake: printed with a pointer to --help, exit code 2.
struct UsageError {
  std::string message;
};

struct Options {
  std::string tracking_uri;  // empty: the client's default
  std::string experiment = "cpp-training";
  std::string run_name = "logistic-sgd";
  int epochs = 20;
  int batch_size = 32;
  double learning_rate = 0.1;
  double l2 = 1e-4;
  int rows = 2000;
  uint64_t seed = 7;
  bool help = false;  // --help: print the usage and do nothing else
};

// The whole text must be the number: "5x", "" and "1e3" (for an integer) are refused.
template <class T>
T ParseNumber(std::string_view flag, std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    throw UsageError{std::string(flag) +
                     (std::is_integral_v<T> ? " expects an integer" : " expects a number") +
                     ", got '" + std::string(text) + "'"};
  }
  return value;
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      o.help = true;
      return o;
    }
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) throw UsageError{std::string(flag) + " needs a value"};
      return argv[++i];
    };
    if (flag == "--tracking-uri") {
      o.tracking_uri = value();
    } else if (flag == "--experiment") {
      o.experiment = value();
    } else if (flag == "--run-name") {
      o.run_name = value();
    } else if (flag == "--epochs") {
      o.epochs = ParseNumber<int>(flag, value());
    } else if (flag == "--batch-size") {
      o.batch_size = ParseNumber<int>(flag, value());
    } else if (flag == "--learning-rate") {
      o.learning_rate = ParseNumber<double>(flag, value());
    } else if (flag == "--l2") {
      o.l2 = ParseNumber<double>(flag, value());
    } else if (flag == "--rows") {
      o.rows = ParseNumber<int>(flag, value());
    } else if (flag == "--seed") {
      o.seed = ParseNumber<uint64_t>(flag, value());
    } else {
      throw UsageError{"unknown option '" + std::string(flag) + "'"};
    }
  }
  if (o.epochs < 1) {
    throw UsageError{"--epochs must be at least 1, got " + std::to_string(o.epochs)};
  }
  if (o.batch_size < 1) {
    throw UsageError{"--batch-size must be at least 1, got " + std::to_string(o.batch_size)};
  }
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)) {
    throw UsageError{"--learning-rate must be a positive number"};
  }
  if (!(o.l2 >= 0) || !std::isfinite(o.l2)) throw UsageError{"--l2 must be a number >= 0"};
  if (o.rows < 10) throw UsageError{"--rows must be at least 10, got " + std::to_string(o.rows)};
  if (o.experiment.empty()) throw UsageError{"--experiment must not be empty"};
  return o;
}

constexpr int kFeatures = 5;
using Row = std::array<double, kFeatures>;

struct Dataset {
  std::vector<Row> x;
  std::vector<int> y;  // 0 or 1
};

// Labels drawn from a known logistic model over five features of different scales, two of which
// carry no signal: the fitted weights can be read against the true ones, and the best reachable
// accuracy is well below 1, as in real data.
constexpr Row kTrueWeights{1.5, -2.0, 0.75, 0.0, 0.0};
constexpr Row kFeatureScale{1.0, 3.0, 10.0, 1.0, 0.5};
constexpr double kTrueBias = -0.25;

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

std::pair<Dataset, Dataset> GenerateSplit(int rows, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> uniform(0, 1);
  Dataset all;
  for (int i = 0; i < rows; ++i) {
    Row z, x;
    double logit = kTrueBias;
    for (int j = 0; j < kFeatures; ++j) {
      z[j] = normal(gen);
      x[j] = 5.0 * j + kFeatureScale[j] * z[j];  // offsets and scales for standardization to undo
      logit += kTrueWeights[j] * z[j];
    }
    all.x.push_back(x);
    all.y.push_back(uniform(gen) < Sigmoid(logit) ? 1 : 0);
  }
  Dataset train, test;
  int n_train = rows * 4 / 5;
  for (int i = 0; i < rows; ++i) {
    Dataset& part = i < n_train ? train : test;
    part.x.push_back(all.x[i]);
    part.y.push_back(all.y[i]);
  }
  return {std::move(train), std::move(test)};
}

// Per-feature mean and standard deviation of the training set; applied to both sets, and saved
// with the weights because predicting needs them.
struct Standardizer {
  Row mean{}, stddev{};

  static Standardizer Fit(const Dataset& d) {
    Standardizer s;
    double n = static_cast<double>(d.x.size());
    for (const Row& x : d.x) {
      for (int j = 0; j < kFeatures; ++j) s.mean[j] += x[j] / n;
    }
    for (const Row& x : d.x) {
      for (int j = 0; j < kFeatures; ++j)
        s.stddev[j] += (x[j] - s.mean[j]) * (x[j] - s.mean[j]) / n;
    }
    for (double& v : s.stddev) v = v > 0 ? std::sqrt(v) : 1.0;
    return s;
  }

  void Apply(Dataset& d) const {
    for (Row& x : d.x) {
      for (int j = 0; j < kFeatures; ++j) x[j] = (x[j] - mean[j]) / stddev[j];
    }
  }
};

struct Model {
  Row w{};
  double bias = 0;

  double Probability(const Row& x) const {
    double z = bias;
    for (int j = 0; j < kFeatures; ++j) z += w[j] * x[j];
    return Sigmoid(z);
  }
};

struct Evaluation {
  double log_loss = 0;
  double accuracy = 0;
};

Evaluation Evaluate(const Model& m, const Dataset& d) {
  constexpr double kEps = 1e-12;
  Evaluation e;
  for (size_t i = 0; i < d.y.size(); ++i) {
    double p = std::clamp(m.Probability(d.x[i]), kEps, 1 - kEps);
    e.log_loss -= d.y[i] ? std::log(p) : std::log(1 - p);
    e.accuracy += (p >= 0.5) == (d.y[i] == 1) ? 1 : 0;
  }
  double n = static_cast<double>(d.y.size());
  e.log_loss /= n;
  e.accuracy /= n;
  return e;
}

// Area under the ROC curve: the probability that a random positive scores above a random
// negative, ties counting one half (the Mann-Whitney statistic over averaged ranks).
double Auc(const Model& m, const Dataset& d) {
  std::vector<std::pair<double, int>> scored;
  for (size_t i = 0; i < d.y.size(); ++i) scored.emplace_back(m.Probability(d.x[i]), d.y[i]);
  std::sort(scored.begin(), scored.end());
  double positives = 0, rank_sum = 0;
  for (size_t i = 0; i < scored.size();) {
    size_t j = i;
    while (j < scored.size() && scored[j].first == scored[i].first) ++j;
    double average_rank = (static_cast<double>(i + j) + 1) / 2;  // ranks i+1 .. j
    for (size_t k = i; k < j; ++k) {
      if (scored[k].second) {
        positives += 1;
        rank_sum += average_rank;
      }
    }
    i = j;
  }
  double negatives = static_cast<double>(scored.size()) - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

// One epoch of mini-batch gradient descent on the mean log loss plus l2/2 * |w|^2.
void TrainEpoch(Model& m, const Dataset& d, const Options& o, std::mt19937_64& gen,
                std::vector<size_t>& order) {
  std::shuffle(order.begin(), order.end(), gen);
  for (size_t start = 0; start < order.size(); start += o.batch_size) {
    size_t end = std::min(order.size(), start + static_cast<size_t>(o.batch_size));
    Row grad{};
    double grad_bias = 0;
    for (size_t k = start; k < end; ++k) {
      const Row& x = d.x[order[k]];
      double err = m.Probability(x) - d.y[order[k]];
      for (int j = 0; j < kFeatures; ++j) grad[j] += err * x[j];
      grad_bias += err;
    }
    double n = static_cast<double>(end - start);
    for (int j = 0; j < kFeatures; ++j) m.w[j] -= o.learning_rate * (grad[j] / n + o.l2 * m.w[j]);
    m.bias -= o.learning_rate * grad_bias / n;
  }
}

std::string JsonNumbers(const Row& values) {
  std::string out = "[";
  char buf[32];
  for (int j = 0; j < kFeatures; ++j) {
    std::snprintf(buf, sizeof buf, "%s%.17g", j ? ", " : "", values[j]);
    out += buf;
  }
  return out + "]";
}

// The learned model as JSON: standardize each feature with mean and std, then
// p(y=1) = sigmoid(bias + weights . x).
void WriteWeights(const std::filesystem::path& file, const Model& m, const Standardizer& s) {
  std::ofstream out(file);
  char bias[32];
  std::snprintf(bias, sizeof bias, "%.17g", m.bias);
  out << "{\n"
      << "  \"model\": \"logistic_regression\",\n"
      << "  \"features\": [\"x0\", \"x1\", \"x2\", \"x3\", \"x4\"],\n"
      << "  \"weights\": " << JsonNumbers(m.w) << ",\n"
      << "  \"bias\": " << bias << ",\n"
      << "  \"standardize\": {\"mean\": " << JsonNumbers(s.mean)
      << ", \"std\": " << JsonNumbers(s.stddev) << "}\n"
      << "}\n";
  out.close();
  if (!out) {
    throw mltrack::Error(mltrack::ErrorCode::kIoError, "could not write " + file.string());
  }
}

int Train(const Options& o) {
  mltrack::Client client({.tracking_uri = o.tracking_uri});
  auto [train, test] = GenerateSplit(o.rows, o.seed);
  Standardizer standardizer = Standardizer::Fit(train);
  standardizer.Apply(train);
  standardizer.Apply(test);

  auto run = client.StartRun(
      {.experiment = o.experiment,
       .run_name = o.run_name,
       .tags = {{"example", "cpp-training"}, {"model_type", "logistic_regression"}}});
  run.SetTag("dataset", "generated: 5 features, labels from a known logistic model");
  run.LogParams({{"optimizer", "minibatch_sgd"}, {"features", std::to_string(kFeatures)}});
  run.LogParam("epochs", o.epochs);
  run.LogParam("batch_size", o.batch_size);
  run.LogParam("learning_rate", o.learning_rate);
  run.LogParam("l2", o.l2);
  run.LogParam("rows", o.rows);
  run.LogParam("seed", o.seed);
  std::printf("run %s in experiment '%s' at %s\n", run.run_id().c_str(), o.experiment.c_str(),
              client.tracking_uri().c_str());

  auto started = std::chrono::steady_clock::now();
  Model model;
  std::mt19937_64 gen(o.seed + 1);
  std::vector<size_t> order(train.y.size());
  std::iota(order.begin(), order.end(), size_t{0});
  Evaluation on_test;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    TrainEpoch(model, train, o, gen, order);
    Evaluation on_train = Evaluate(model, train);
    on_test = Evaluate(model, test);
    run.LogMetrics({{"train_loss", on_train.log_loss},
                    {"test_loss", on_test.log_loss},
                    {"test_accuracy", on_test.accuracy}},
                   epoch);
    std::printf("epoch %3d/%d  train_loss %.4f  test_loss %.4f  test_accuracy %.4f\n", epoch,
                o.epochs, on_train.log_loss, on_test.log_loss, on_test.accuracy);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  double auc = Auc(model, test);
  run.LogMetric("test_auc", auc, o.epochs);
  run.LogMetric("train_seconds", seconds, o.epochs);

  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("cpp-training-" + run.run_id());
  std::filesystem::create_directories(dir);
  try {
    WriteWeights(dir / "weights.json", model, standardizer);
    run.LogArtifact(dir / "weights.json", "model");
  } catch (...) {
    std::filesystem::remove_all(dir);
    throw;
  }
  std::filesystem::remove_all(dir);

  run.End();  // rethrows a metric batch the store could not take, instead of only printing it
  std::printf("run %s finished: test_accuracy %.4f  test_auc %.4f  (artifact model/weights.json)\n",
              run.run_id().c_str(), on_test.accuracy, auc);
  return 0;
}

int ExitCodeFor(mltrack::ErrorCode code) {
  switch (code) {
    case mltrack::ErrorCode::kIoError:
    case mltrack::ErrorCode::kTemporarilyUnavailable:
    case mltrack::ErrorCode::kInternalError:
      return 3;
    default:
      return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options options = ParseOptions(argc, argv);
    if (options.help) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    return Train(options);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "cpp-training: error: %s (see cpp-training --help)\n", e.message.c_str());
    return 2;
  } catch (const mltrack::Error& e) {
    std::fprintf(stderr, "cpp-training: error: %s\n", e.what());
    return ExitCodeFor(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cpp-training: error: %s\n", e.what());
    return 3;
  }
}
