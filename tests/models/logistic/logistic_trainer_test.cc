// The logistic regression trainer by behaviour: its optimum against Newton's method on the same
// objective computed here, the gradient against finite differences, N ranks against 1, the
// bundle round trip, and the refusals.
#include "models/logistic/logistic_trainer.h"

#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/bundle/mlmodel.h"
#include "models/data/split.h"
#include "models/logistic/logistic_objective.h"
#include "support/test_support.h"

namespace mltrack::logistic {
namespace {

namespace fs = std::filesystem;
using ::mltrack::testing::ReadFile;
using ::mltrack::testing::TempDir;
using ::testing::HasSubstr;

// `n` rows of three features on different scales and a label drawn from a softmax (or sigmoid)
// of a fixed linear model: noisy, so the optimum is finite.
models::Table MakeData(size_t n, int classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> a(n), b(n), c(n);
  std::vector<int64_t> label(n);
  for (size_t i = 0; i < n; ++i) {
    a[i] = normal(rng);
    b[i] = 100 + 30 * normal(rng);
    c[i] = 0.01 * normal(rng);
    std::vector<double> m(classes);
    for (int k = 0; k < classes; ++k) {
      m[k] = (k + 1) * 0.8 * a[i] * (k % 2 ? -1 : 1) + 0.02 * (k - 1) * (b[i] - 100) +
             50 * k * c[i];
    }
    std::vector<double> p(classes);
    double top = *std::max_element(m.begin(), m.end()), total = 0;
    for (int k = 0; k < classes; ++k) total += (p[k] = std::exp(m[k] - top));
    double u = std::uniform_real_distribution<double>(0, total)(rng);
    int k = 0;
    while (k + 1 < classes && u > p[k]) u -= p[k++];
    label[i] = k;
  }
  models::Table table;
  table.AddColumn("a", std::move(a));
  table.AddColumn("b", std::move(b));
  table.AddColumn("c", std::move(c));
  table.AddColumn("y", std::move(label));
  return table;
}

TrainResult Train(const models::Table& table, const LogisticOptions& options,
                  dist::Communicator& comm) {
  TrainInput input{.train = {.table = &table}, .label = "y"};
  return TrainLogistic(input, options, comm);
}

TrainResult TrainSingle(const models::Table& table, const LogisticOptions& options) {
  auto comm = dist::MakeSingleCommunicator();
  return Train(table, options, *comm);
}

// Newton's method on the objective of logistic_options.h, in the raw parameters: blocks of
// [w_1 .. w_d, b]. The Hessian is singular along the softmax's shared intercept shift, so each
// step is the minimum-norm solution.
Eigen::VectorXd NewtonOptimum(const models::Table& table, int classes, double reg,
                              bool standardize) {
  const size_t n = table.num_rows();
  const int d = 3;
  Eigen::MatrixXd x(n, d + 1);
  const char* names[] = {"a", "b", "c"};
  for (int j = 0; j < d; ++j) {
    const auto& col = std::get<std::vector<double>>(table.Find(names[j])->values);
    for (size_t i = 0; i < n; ++i) x(i, j) = col[i];
  }
  x.col(d).setOnes();
  const auto& y = std::get<std::vector<int64_t>>(table.Find("y")->values);
  Eigen::VectorXd penalty = Eigen::VectorXd::Zero(d + 1);
  for (int j = 0; j < d; ++j) {
    double mean = x.col(j).mean();
    double var = (x.col(j).array() - mean).square().sum() / (n - 1);
    penalty(j) = reg * (standardize ? var : 1.0);
  }
  const int blocks = classes == 2 ? 1 : classes;
  const int p = blocks * (d + 1);
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(p);
  for (int iteration = 0; iteration < 50; ++iteration) {
    Eigen::VectorXd grad = Eigen::VectorXd::Zero(p);
    Eigen::MatrixXd hess = Eigen::MatrixXd::Zero(p, p);
    for (size_t i = 0; i < n; ++i) {
      Eigen::VectorXd xi = x.row(i).transpose();
      Eigen::VectorXd prob(blocks);
      if (blocks == 1) {
        prob(0) = 1 / (1 + std::exp(-theta.dot(xi)));
      } else {
        Eigen::VectorXd m(blocks);
        for (int k = 0; k < blocks; ++k) m(k) = theta.segment(k * (d + 1), d + 1).dot(xi);
        m.array() -= m.maxCoeff();
        prob = m.array().exp();
        prob /= prob.sum();
      }
      for (int k = 0; k < blocks; ++k) {
        double target = blocks == 1 ? (y[i] == 1) : (y[i] == k);
        grad.segment(k * (d + 1), d + 1) += (prob(k) - target) * xi / n;
        for (int l = 0; l < blocks; ++l) {
          double w = blocks == 1 ? prob(0) * (1 - prob(0)) : prob(k) * ((k == l) - prob(l));
          hess.block(k * (d + 1), l * (d + 1), d + 1, d + 1) += w * xi * xi.transpose() / n;
        }
      }
    }
    for (int k = 0; k < blocks; ++k) {
      grad.segment(k * (d + 1), d + 1) += penalty.cwiseProduct(theta.segment(k * (d + 1), d + 1));
      hess.block(k * (d + 1), k * (d + 1), d + 1, d + 1) += penalty.asDiagonal();
    }
    theta -= hess.completeOrthogonalDecomposition().solve(grad);
    if (grad.lpNorm<Eigen::Infinity>() < 1e-14) break;
  }
  return theta;
}

class LogisticOptimum : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(LogisticOptimum, MatchesNewtonsMethodOnTheSameObjective) {
  auto [classes, standardize] = GetParam();
  models::Table table = MakeData(600, classes, 7);
  const double reg = 0.01;
  TrainResult result = TrainSingle(
      table, {.reg = reg, .standardize = standardize, .max_iter = 1000, .tol = 1e-14});
  Eigen::VectorXd reference = NewtonOptimum(table, classes, reg, standardize);
  SCOPED_TRACE(fmt::format("{} iterations, stopped: {}", result.optimizer.iterations,
                           result.optimizer.stop_reason));
  const auto& w = result.model->coefficients();
  const auto& b = result.model->intercepts();
  const int blocks = classes == 2 ? 1 : classes;
  ASSERT_EQ(w.size(), static_cast<size_t>(blocks * 3));
  for (int k = 0; k < blocks; ++k) {
    for (int j = 0; j < 3; ++j) {
      double expected = reference(k * 4 + j);
      EXPECT_NEAR(w[k * 3 + j], expected, 1e-6 * std::max(1.0, std::abs(expected)))
          << "class block " << k << ", feature " << j;
    }
    // Intercepts are defined up to a shared shift under the softmax: compare differences.
    double expected = reference(k * 4 + 3) - (blocks == 1 ? 0 : reference(3));
    double actual = b[k] - (blocks == 1 ? 0 : b[0]);
    EXPECT_NEAR(actual, expected, 1e-6) << "intercept " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(FamiliesAndPenalties, LogisticOptimum,
                         ::testing::Combine(::testing::Values(2, 4), ::testing::Bool()),
                         [](const auto& info) {
                           return fmt::format("{}Classes{}", std::get<0>(info.param),
                                              std::get<1>(info.param) ? "Standardized" : "Raw");
                         });

TEST(LogisticObjective, GradientMatchesFiniteDifferences) {
  models::Table table = MakeData(200, 3, 11);
  auto comm = dist::MakeSingleCommunicator();
  data::FeatureEncoder features =
      data::FeatureEncoder::Fit(table, {}, {"y"}, data::UnknownCategory::kError, *comm);
  data::DenseMatrix x = features.Encode(table);
  data::LabelEncoder labels = data::LabelEncoder::Fit(table, "y", *comm);
  std::vector<int32_t> y = labels.Encode(table, "y");
  std::vector<double> weights(y.size());
  for (size_t i = 0; i < y.size(); ++i) weights[i] = 0.5 + (i % 3);
  for (bool multinomial : {false, true}) {
    // Binomial on a 3-class label treats class 1 as positive, the rest negative.
    LogisticOptions options{.reg = 0.3, .l1_ratio = 0.0, .standardize = false};
    LogisticObjective objective(x, y, weights, 3, multinomial, options, *comm);
    std::vector<double> beta(objective.num_params());
    for (size_t q = 0; q < beta.size(); ++q) beta[q] = 0.1 * std::sin(q + 1.0);
    std::vector<double> grad(beta.size()), scratch(beta.size());
    objective(beta, grad);
    for (size_t q = 0; q < beta.size(); ++q) {
      const double h = 1e-6;
      std::vector<double> up = beta, down = beta;
      up[q] += h;
      down[q] -= h;
      double numeric = (objective(up, scratch) - objective(down, scratch)) / (2 * h);
      EXPECT_NEAR(grad[q], numeric, 1e-6 * std::max(1.0, std::abs(numeric)))
          << (multinomial ? "multinomial" : "binomial") << " parameter " << q;
    }
  }
}

TEST(LogisticTrainer, ElasticNetSatisfiesTheOptimalityConditions) {
  models::Table table = MakeData(500, 2, 3);
  LogisticOptions options{.reg = 0.2, .l1_ratio = 0.9, .max_iter = 2000, .tol = 1e-13};
  TrainResult result = TrainSingle(table, options);
  // Recompute the smooth gradient at the optimum: for a zero coefficient |g| <= l1, for a
  // non-zero one g = -l1 sign(w).
  auto comm = dist::MakeSingleCommunicator();
  const auto& model = *result.model;
  data::DenseMatrix x = model.features().Encode(table);
  std::vector<int32_t> y = model.labels().Encode(table, "y");
  LogisticObjective objective(x, y, {}, 2, false, options, *comm);
  std::vector<double> beta = objective.FromRaw(model.coefficients(), model.intercepts());
  std::vector<double> grad(beta.size());
  objective(beta, grad);
  std::vector<double> l1 = objective.L1Weights();
  int zeros = 0;
  for (size_t q = 0; q < 3; ++q) {
    if (beta[q] == 0) {
      ++zeros;
      EXPECT_LE(std::abs(grad[q]), l1[q] + 1e-6) << q;
    } else {
      EXPECT_NEAR(grad[q], -l1[q] * std::copysign(1.0, beta[q]), 1e-5) << q;
    }
  }
  EXPECT_GE(zeros, 1) << "the L1 term is strong enough to zero the weakest feature";
  EXPECT_LE(zeros, 2) << "and too weak to zero them all";
  EXPECT_NEAR(grad[3], 0.0, 1e-6) << "the intercept is not penalised";
}

TEST(LogisticTrainer, FourThreadedRanksMatchOneRank) {
  models::Table table = MakeData(3000, 3, 5);
  LogisticOptions options{.reg = 0.001, .max_iter = 500, .tol = 1e-13, .threads = 1};
  TrainResult single = TrainSingle(table, options);
  std::vector<std::vector<double>> per_rank(4);
  dist::RunThreaded(4, [&](dist::Communicator& comm) {
    // Rank r takes every 4th row starting at r: uneven shards, different row order.
    std::vector<size_t> rows;
    for (size_t i = comm.rank(); i < table.num_rows(); i += 4) rows.push_back(i);
    models::Table shard = data::TakeRows(table, rows);
    TrainResult result = Train(shard, options, comm);
    per_rank[comm.rank()] = result.model->coefficients();
  });
  const auto& expected = single.model->coefficients();
  for (int r = 0; r < 4; ++r) {
    ASSERT_EQ(per_rank[r].size(), expected.size());
    EXPECT_EQ(per_rank[r], per_rank[0]) << "every rank holds the same bits";
    for (size_t q = 0; q < expected.size(); ++q) {
      EXPECT_NEAR(per_rank[r][q], expected[q], 1e-8 * std::max(1.0, std::abs(expected[q])));
    }
  }
}

TEST(LogisticTrainer, SameOptionsSameBitsWhateverTheThreadCount) {
  models::Table table = MakeData(20000, 2, 9);
  TrainResult one = TrainSingle(table, {.reg = 0.001, .threads = 1});
  TrainResult two = TrainSingle(table, {.reg = 0.001, .threads = 2});
  TrainResult again = TrainSingle(table, {.reg = 0.001, .threads = 2});
  EXPECT_EQ(one.model->coefficients(), two.model->coefficients());
  EXPECT_EQ(two.model->coefficients(), again.model->coefficients());
  EXPECT_EQ(one.optimizer.history, two.optimizer.history);
}

TEST(LogisticModel, SaveLoadSaveIsByteIdenticalAndPredictsTheSame) {
  TempDir dir;
  models::Table table = MakeData(300, 3, 2);
  TrainResult result = TrainSingle(table, {.reg = 0.01});
  models::Table example = data::TakeRows(table, std::vector<size_t>{0, 1, 2});
  result.model->Save(dir / "first", models::NewModelMeta(), data::DropColumn(example, "y"));
  models::FlavorRegistry flavors;
  RegisterLogisticFlavor(flavors);
  std::unique_ptr<models::Model> loaded = models::LoadModel(dir / "first", flavors);
  auto& typed = dynamic_cast<LogisticModel&>(*loaded);
  typed.Save(dir / "second", loaded->meta(), data::DropColumn(example, "y"));
  for (const char* file : {"MLmodel", "model.json", "coefficients.bin", "input_example.json"}) {
    EXPECT_EQ(ReadFile(dir / "first" / file), ReadFile(dir / "second" / file)) << file;
  }
  models::Table input = data::DropColumn(table, "y");
  EXPECT_EQ(result.model->Predict(input), loaded->Predict(input));
  models::Table out = loaded->Predict(input);
  EXPECT_EQ(out.columns().size(), 4u);  // prediction + one probability per class
  EXPECT_EQ(out.columns()[0].name, "prediction");
  EXPECT_EQ(out.columns()[1].name, "probability_0");
  // The MLmodel carries the flavor, the signature and the example.
  models::ModelMeta meta = models::ReadMlmodel(dir / "first" / "MLmodel");
  EXPECT_TRUE(meta.flavors.contains(kLogisticFlavor));
  ASSERT_TRUE(meta.signature.has_value());
  EXPECT_EQ(meta.signature->inputs.size(), 3u);
  EXPECT_TRUE(meta.saved_input_example_info.has_value());
}

TEST(LogisticModel, RefusesADamagedBundle) {
  TempDir dir;
  models::Table table = MakeData(100, 2, 2);
  TrainSingle(table, {.reg = 0.01}).model->Save(dir / "m", models::NewModelMeta());
  models::FlavorRegistry flavors;
  RegisterLogisticFlavor(flavors);
  std::string coefficients = ReadFile(dir / "m" / "coefficients.bin");
  coefficients[coefficients.size() - 3] ^= 0x40;
  testing::WriteFile(dir / "m" / "coefficients.bin", coefficients);
  EXPECT_ERROR(models::LoadModel(dir / "m", flavors), ErrorCode::kInvalidParameterValue,
               HasSubstr("checksum mismatch in 'coefficients.bin'"));
  testing::WriteFile(dir / "m" / "model.json", "{\"format_version\": 1");
  EXPECT_ERROR(models::LoadModel(dir / "m", flavors), ErrorCode::kInvalidParameterValue,
               HasSubstr("model.json is not valid JSON"));
}

TEST(LogisticTrainer, RefusesBadInput) {
  models::Table table = MakeData(50, 2, 1);
  TrainInput input{.train = {.table = &table, .origin = {.source = "train.csv"}}, .label = "z"};
  auto comm = dist::MakeSingleCommunicator();
  EXPECT_ERROR(TrainLogistic(input, {}, *comm), ErrorCode::kInvalidParameterValue,
               HasSubstr("train.csv has no label column 'z' (columns: a, b, c, y)"));

  models::Table one_class;
  one_class.AddColumn("a", std::vector<double>{1, 2, 3});
  one_class.AddColumn("y", std::vector<int64_t>{1, 1, 1});
  input = {.train = {.table = &one_class, .origin = {.source = "train.csv"}}, .label = "y"};
  EXPECT_ERROR(TrainLogistic(input, {}, *comm), ErrorCode::kInvalidParameterValue,
               HasSubstr("The label column 'y' of train.csv has one class ('1')"));

  input = {.train = {.table = &table}, .label = "y"};
  EXPECT_ERROR(TrainLogistic(input, {.l1_ratio = 1.5}, *comm), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid option l1_ratio=1.5: must be between 0 and 1"));
  EXPECT_ERROR(TrainLogistic(input, {.reg = -1}, *comm), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid option reg=-1"));
  EXPECT_ERROR(TrainLogistic(input, {.max_iter = 0}, *comm), ErrorCode::kInvalidParameterValue,
               HasSubstr("Invalid option max_iter=0"));

  models::Table three = MakeData(60, 3, 1);
  input = {.train = {.table = &three}, .label = "y"};
  EXPECT_ERROR(TrainLogistic(input, {.family = Family::kBinomial}, *comm),
               ErrorCode::kInvalidParameterValue, HasSubstr("family=binomial"));

  models::Table with_nan = MakeData(20, 2, 1);
  models::Table broken;
  std::vector<double> a = std::get<std::vector<double>>(with_nan.Find("a")->values);
  a[4] = NAN;
  broken.AddColumn("a", a);
  broken.AddColumn("y", std::get<std::vector<int64_t>>(with_nan.Find("y")->values));
  std::vector<int64_t> lines(20);
  for (int i = 0; i < 20; ++i) lines[i] = i + 2;
  input = {.train = {.table = &broken, .origin = {.source = "train.csv", .lines = &lines}},
           .label = "y"};
  EXPECT_ERROR(TrainLogistic(input, {}, *comm), ErrorCode::kInvalidParameterValue,
               HasSubstr("train.csv: line 6, column 'a'"));
}

TEST(LogisticTrainer, EvaluatesOverAllRanks) {
  models::Table table = MakeData(2000, 2, 4);
  TrainResult result = TrainSingle(table, {.reg = 0.001});
  auto comm = dist::MakeSingleCommunicator();
  ClassificationMetrics whole = EvaluateLogistic(*result.model, {.table = &table}, *comm);
  EXPECT_GT(whole.accuracy, 0.6);
  EXPECT_GT(whole.roc_auc, 0.65);
  EXPECT_EQ(whole.rows, 2000u);
  std::vector<ClassificationMetrics> parts(2);
  dist::RunThreaded(2, [&](dist::Communicator& c) {
    std::vector<size_t> rows;
    for (size_t i = c.rank() * 1000; i < (c.rank() + 1) * 1000u; ++i) rows.push_back(i);
    models::Table shard = data::TakeRows(table, rows);
    parts[c.rank()] = EvaluateLogistic(*result.model, {.table = &shard}, c);
  });
  EXPECT_EQ(parts[0].rows, 2000u);
  EXPECT_DOUBLE_EQ(parts[0].accuracy, whole.accuracy);
  EXPECT_DOUBLE_EQ(parts[1].roc_auc, whole.roc_auc);
  EXPECT_NEAR(parts[0].log_loss, whole.log_loss, 1e-12);
  EXPECT_EQ(parts[1].confusion, whole.confusion);
}

}  // namespace
}  // namespace mltrack::logistic
