// Prediction latency of a random forest the size of the trainer's defaults: 100 full trees of
// depth 10 (2,047 nodes each) over 28 numeric features, two classes, built directly as Tree
// structs with random thresholds (fixed seed), so no training is needed.
//
//   BM_ForestPredictRow            one encoded row through PredictRow (target <= 20 us)  latency
//   BM_ForestPredictTable          one row as a Table through Predict: encoder, trees and
//                                  the output table, as a scoring request takes it          latency
//   BM_ForestPredictColumns/10000  10,000 encoded rows through PredictColumns on 1 thread
//                                  and on every core (threads:0)                       rows/s
//
// The machine (CPU model, cores, memory) is printed in the benchmark context.
#include <benchmark/benchmark.h>

#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "models/forest/forest_model.h"

namespace mltrack::forest {
namespace {

constexpr int kTrees = 100;
constexpr int kDepth = 10;
constexpr int kFeatures = 28;
constexpr size_t kRowPool = 4096;  // rows cycled through, so branches are not learned

// A full tree of depth kDepth numbered breadth first (children of i are 2i+1 and 2i+2, after
// their parent as the builder numbers them); thresholds near the features' N(0, 1) values.
Tree RandomFullTree(std::mt19937_64& rng) {
  const int nodes = (1 << (kDepth + 1)) - 1, internal = (1 << kDepth) - 1;
  std::normal_distribution<double> normal(0, 0.7);
  std::uniform_int_distribution<int32_t> feature(0, kFeatures - 1);
  std::uniform_real_distribution<double> unit(0, 1);
  Tree t;
  t.feature.assign(nodes, -1);
  t.left.assign(nodes, -1);
  t.right.assign(nodes, -1);
  t.threshold.assign(nodes, 0);
  t.category_set.assign(nodes, -1);
  t.value.resize(2 * nodes);
  t.weight.assign(nodes, 1);
  for (int i = 0; i < nodes; ++i) {
    if (i < internal) {
      t.feature[i] = feature(rng);
      t.left[i] = 2 * i + 1;
      t.right[i] = 2 * i + 2;
      t.threshold[i] = normal(rng);
    }
    double p = unit(rng);
    t.value[2 * i] = p;
    t.value[2 * i + 1] = 1 - p;
  }
  return t;
}

std::vector<std::string> FeatureNames() {
  std::vector<std::string> names;
  for (int f = 0; f < kFeatures; ++f) names.push_back(fmt::format("f{}", f));
  return names;
}

// Column-major N(0, 1) features.
std::vector<std::vector<double>> RandomColumns(size_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<std::vector<double>> columns(kFeatures, std::vector<double>(rows));
  for (size_t i = 0; i < rows; ++i) {
    for (auto& column : columns) column[i] = normal(rng);
  }
  return columns;
}

RandomForestModel MakeForest() {
  auto comm = dist::MakeSingleCommunicator();
  models::Table table;
  std::vector<std::vector<double>> columns = RandomColumns(2, 1);
  std::vector<std::string> names = FeatureNames();
  for (int f = 0; f < kFeatures; ++f) table.AddColumn(names[f], columns[f]);
  table.AddColumn("y", std::vector<int64_t>{0, 1});
  auto features =
      data::FeatureEncoder::Fit(table, names, {}, data::UnknownCategory::kError, *comm);
  auto labels = data::LabelEncoder::Fit(table, "y", *comm);
  std::mt19937_64 rng(42);
  std::vector<Tree> trees;
  for (int t = 0; t < kTrees; ++t) trees.push_back(RandomFullTree(rng));
  return RandomForestModel(Task::kClassification, std::move(features), std::move(labels), "y", 0,
                           std::move(trees), std::vector<double>(kFeatures, 1.0 / kFeatures));
}

const RandomForestModel& Forest() {
  static const RandomForestModel forest = MakeForest();
  return forest;
}

// Row-major rows for PredictRow.
std::vector<double> RandomRows(size_t rows) {
  std::vector<std::vector<double>> columns = RandomColumns(rows, 7);
  std::vector<double> x(rows * kFeatures);
  for (size_t i = 0; i < rows; ++i) {
    for (int f = 0; f < kFeatures; ++f) x[i * kFeatures + f] = columns[f][i];
  }
  return x;
}

void BM_ForestPredictRow(benchmark::State& state) {
  const RandomForestModel& forest = Forest();
  std::vector<double> rows = RandomRows(kRowPool);
  double out[2];
  size_t i = 0;
  for (auto _ : state) {
    forest.PredictRow(rows.data() + i * kFeatures, out);
    benchmark::DoNotOptimize(out);
    i = (i + 1) % kRowPool;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ForestPredictRow)->Unit(benchmark::kMicrosecond)->UseRealTime()->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_ForestPredictTable(benchmark::State& state) {
  const RandomForestModel& forest = Forest();
  std::vector<std::vector<double>> columns = RandomColumns(kRowPool, 7);
  std::vector<std::string> names = FeatureNames();
  std::vector<models::Table> tables(kRowPool);
  for (size_t i = 0; i < kRowPool; ++i) {
    for (int f = 0; f < kFeatures; ++f) {
      tables[i].AddColumn(names[f], std::vector<double>{columns[f][i]});
    }
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(forest.Predict(tables[i]));
    i = (i + 1) % kRowPool;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ForestPredictTable)->Unit(benchmark::kMicrosecond)->UseRealTime()->Repetitions(5)
    ->ReportAggregatesOnly(true);

void BM_ForestPredictColumns(benchmark::State& state) {
  const RandomForestModel& forest = Forest();
  const size_t rows = static_cast<size_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  std::vector<std::vector<double>> columns = RandomColumns(rows, 11);
  for (auto _ : state) benchmark::DoNotOptimize(forest.PredictColumns(columns, threads));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(rows));
}
BENCHMARK(BM_ForestPredictColumns)->ArgNames({"rows", "threads"})->Args({10000, 1})
    ->Args({10000, 0})->Unit(benchmark::kMillisecond)->UseRealTime()->Repetitions(5)
    ->ReportAggregatesOnly(true);

// "AMD EPYC 7B13" from /proc/cpuinfo; empty when there is none.
std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "";
}

std::string Memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  long kib = 0;
  in >> key >> kib;  // MemTotal: N kB
  return fmt::format("{:.1f} GiB", kib / 1048576.0);
}

}  // namespace
}  // namespace mltrack::forest

int main(int argc, char** argv) {
  using namespace mltrack::forest;
  benchmark::AddCustomContext("cpu", fmt::format("{} x {}", CpuModel(),
                                                 std::thread::hardware_concurrency()));
  benchmark::AddCustomContext("memory", Memory());
  benchmark::AddCustomContext(
      "forest", fmt::format("{} trees, depth {}, {} nodes, {} numeric features, 2 classes",
                            kTrees, Forest().max_depth(), Forest().total_nodes(), kFeatures));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
